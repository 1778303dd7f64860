/* schema_core.c — the server's own settings. */
#include "store/sqlite/sqlite_schema.h"

static const char *const steps[] = {
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
};

const sqlite_schema_module_t sqlite_schema_core = SQLITE_SCHEMA_STEPS("core", steps);
