/* schema_models.c — the Models API's tables: one row per uploaded DTDL interface, per
 * instance, and the references between models (so DELETE can name dependents and
 * `dependenciesFor` can expand without re-parsing). */
#include "store/sqlite/sqlite_schema.h"

static const char *const steps[] = {
    /* instance: the data plane's instance name, lower-cased (ADT host names are
     * case-insensitive); id: the DTMI, case-sensitive as ADT's model ids are. seq orders the
     * list and is its continuation token. upload_time is text with 7 fractional digits. */
    "CREATE TABLE models ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, instance TEXT NOT NULL, id TEXT NOT NULL,"
    "  model TEXT NOT NULL, display_name TEXT, description TEXT,"
    "  upload_time TEXT NOT NULL, decommissioned INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (instance, id));"
    /* kind: extends | component | target | ref (any other DTMI naming a stored model). */
    "CREATE TABLE model_refs ("
    "  instance TEXT NOT NULL, model_id TEXT NOT NULL, ref_id TEXT NOT NULL,"
    "  kind TEXT NOT NULL, PRIMARY KEY (instance, model_id, ref_id, kind));"
    "CREATE INDEX model_refs_ref ON model_refs(instance, ref_id);"
    /* The resource manager's instance delete (store_dt_instance_delete) removes the
     * dt_instances row; its models go with it in the same transaction. The models are keyed
     * by the lower-cased name the data plane sees (store_models_delete_instance does the same
     * for callers that are not deleting the row). */
    "CREATE TRIGGER models_instance_deleted AFTER DELETE ON dt_instances BEGIN"
    "  DELETE FROM model_refs WHERE instance = lower(OLD.name);"
    "  DELETE FROM models WHERE instance = lower(OLD.name);"
    "END;",
};

const sqlite_schema_module_t sqlite_schema_models = SQLITE_SCHEMA_STEPS("models", steps);
