/* schema_directory.c — the identity plane's tables. */
#include "store/sqlite/sqlite_schema.h"

static const char *const steps[] = {
    "CREATE TABLE tenants ("
    "  id TEXT PRIMARY KEY, domain TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  display_name TEXT NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE users ("
    "  id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    "  upn TEXT NOT NULL COLLATE NOCASE, display_name TEXT NOT NULL,"
    "  password_hash TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1,"
    "  failed_signins INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL, UNIQUE (tenant_id, upn));",
};

const sqlite_schema_module_t sqlite_schema_directory = SQLITE_SCHEMA_STEPS("directory", steps);
