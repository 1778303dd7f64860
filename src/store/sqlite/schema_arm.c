/* schema_arm.c — the resource manager's tables. */
#include "store/sqlite/sqlite_schema.h"

static const char *const steps[] = {
    "CREATE TABLE subscriptions ("
    "  id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    "  display_name TEXT NOT NULL, state TEXT NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE role_assignments ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  scope TEXT NOT NULL COLLATE NOCASE, principal_id TEXT NOT NULL COLLATE NOCASE,"
    "  principal_type TEXT NOT NULL, role_definition_id TEXT NOT NULL COLLATE NOCASE,"
    "  created_by TEXT NOT NULL, created INTEGER NOT NULL,"
    "  UNIQUE (scope, principal_id, role_definition_id));"
    "CREATE INDEX role_assignments_principal ON role_assignments(principal_id);",
};

const sqlite_schema_module_t sqlite_schema_arm = SQLITE_SCHEMA_STEPS("arm", steps);
