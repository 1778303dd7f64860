/* schema_audit.c — the audit log's table. */
#include "store/sqlite/sqlite_schema.h"

static const char *const steps[] = {
    "CREATE TABLE audit_events ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, request_id TEXT NOT NULL,"
    "  kind TEXT NOT NULL, status INTEGER NOT NULL, cause TEXT NOT NULL,"
    "  principal_id TEXT NOT NULL, principal_name TEXT NOT NULL, app_id TEXT NOT NULL,"
    "  action TEXT NOT NULL, scope TEXT NOT NULL, detail TEXT);"
    "CREATE INDEX audit_events_request ON audit_events(request_id);"
    "CREATE INDEX audit_events_principal ON audit_events(principal_id);",
};

const sqlite_schema_module_t sqlite_schema_audit = SQLITE_SCHEMA_STEPS("audit", steps);
