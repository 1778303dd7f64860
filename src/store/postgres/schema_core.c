/* schema_core.c — the server's own settings (PostgreSQL; see pg_schema.h). */
#include "store/postgres/pg_schema.h"

static const char *const steps[] = {
    /* nocase: what SQLite's COLLATE NOCASE is to the accessors and the other modules. */
    "CREATE COLLATION IF NOT EXISTS nocase"
    "  (provider = icu, locale = 'und-u-ks-level2', deterministic = false);"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
};

const pg_schema_module_t pg_schema_core = PG_SCHEMA_STEPS("core", steps);
