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

    /* Step 2: resource groups, Digital Twins instances, custom roles, long-running operations.
     * Data-plane tables reference dt_instances(id) ON DELETE CASCADE: deleting an instance row
     * removes its data in the same transaction (store_arm.h, store_dt_instance_delete).
     * The first bootstrap wrote Owner under a wrong GUID; the real one is Azure's. */
    "CREATE TABLE resource_groups ("
    "  subscription_id TEXT NOT NULL REFERENCES subscriptions(id),"
    "  name TEXT NOT NULL COLLATE NOCASE, location TEXT NOT NULL,"
    "  tags TEXT NOT NULL DEFAULT '{}', created INTEGER NOT NULL,"
    "  PRIMARY KEY (subscription_id, name));"
    "CREATE TABLE dt_instances ("
    "  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  subscription_id TEXT NOT NULL, resource_group TEXT NOT NULL COLLATE NOCASE,"
    "  location TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '{}',"
    "  public_network_access TEXT NOT NULL DEFAULT 'Enabled',"
    "  provisioning_state TEXT NOT NULL, created_by TEXT NOT NULL,"
    "  created INTEGER NOT NULL, updated INTEGER NOT NULL,"
    "  FOREIGN KEY (subscription_id, resource_group)"
    "    REFERENCES resource_groups(subscription_id, name));"
    "CREATE INDEX dt_instances_group ON dt_instances(subscription_id, resource_group);"
    "CREATE TABLE role_definitions ("
    "  id TEXT PRIMARY KEY COLLATE NOCASE, role_name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  description TEXT NOT NULL DEFAULT '', permissions TEXT NOT NULL,"
    "  assignable_scopes TEXT NOT NULL, created_by TEXT NOT NULL,"
    "  created INTEGER NOT NULL, updated INTEGER NOT NULL);"
    "CREATE TABLE arm_operations ("
    "  id TEXT PRIMARY KEY, subscription_id TEXT NOT NULL, resource_id TEXT NOT NULL,"
    "  status TEXT NOT NULL, error_code TEXT NOT NULL DEFAULT '',"
    "  error_message TEXT NOT NULL DEFAULT '', created INTEGER NOT NULL);"
    "ALTER TABLE role_assignments ADD COLUMN description TEXT NOT NULL DEFAULT '';"
    "UPDATE role_assignments SET role_definition_id = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635'"
    "  WHERE role_definition_id = '8e3af657-a8ff-443c-a33c-2c7c4a3e5d1b';",

    /* Step 3: event endpoints, ARM sub-resources of an instance (store_endpoints.h). The
     * properties GET shows and the secrets it never shows are kept apart, so that no reader
     * of `properties` can leak a key. */
    "CREATE TABLE dt_endpoints ("
    "  instance_id TEXT NOT NULL REFERENCES dt_instances(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL COLLATE NOCASE, type TEXT NOT NULL, state TEXT NOT NULL,"
    "  created INTEGER NOT NULL, properties TEXT NOT NULL DEFAULT '{}',"
    "  secrets TEXT NOT NULL DEFAULT '{}',"
    "  UNIQUE (instance_id, name));",

    /* Step 4: who created and last changed an endpoint, and when, for ARM's systemData. Rows
     * from step 3 read as created by nobody and last changed at their creation. */
    "ALTER TABLE dt_endpoints ADD COLUMN created_by TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE dt_endpoints ADD COLUMN updated INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE dt_endpoints ADD COLUMN updated_by TEXT NOT NULL DEFAULT '';"
    "UPDATE dt_endpoints SET updated = created;",
};

const sqlite_schema_module_t sqlite_schema_arm = SQLITE_SCHEMA_STEPS("arm", steps);
