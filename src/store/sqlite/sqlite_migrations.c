/* sqlite_migrations.c — schema steps, applied in order at start (see sqlite_migrations.h).
 *
 * A step is never edited once released: a change to the schema is a new step at the end.
 * The version lives in PRAGMA user_version, which SQLite keeps in the file header, so a
 * step's DDL and its version bump commit together. */
#include "store/sqlite/sqlite_migrations.h"

#include <stdio.h>

static const char *const steps[] = {
    /* 1: server settings, directory basics, subscriptions, role assignments. */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE tenants ("
    "  id TEXT PRIMARY KEY, domain TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  display_name TEXT NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE users ("
    "  id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    "  upn TEXT NOT NULL COLLATE NOCASE, display_name TEXT NOT NULL,"
    "  password_hash TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1,"
    "  failed_signins INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL, UNIQUE (tenant_id, upn));"
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

#define NSTEPS ((int)(sizeof steps / sizeof steps[0]))

int sqlite_schema_latest(void)
{
    return NSTEPS;
}

static int read_version(sqlite3 *db, int *out, castor_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        return CASTOR_OK;
    }
    castor_err_set(err, CASTOR_EIO, "reading the schema version: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return CASTOR_EIO;
}

int sqlite_migrate(sqlite3 *db, int *version_out, castor_err *err)
{
    int version = 0;
    int rc = read_version(db, &version, err);
    if (rc < 0) return rc;
    if (version > NSTEPS)
        return castor_err_set(err, CASTOR_EINVAL,
                              "the data folder was written by a newer castor (schema version %d; "
                              "this castor knows up to %d): run the newer castor, or point "
                              "--data at another folder",
                              version, NSTEPS);
    for (int v = version; v < NSTEPS; v++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version=%d;", v + 1);
        char *emsg = NULL;
        int src = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &emsg);
        if (src == SQLITE_OK) src = sqlite3_exec(db, steps[v], NULL, NULL, &emsg);
        if (src == SQLITE_OK) src = sqlite3_exec(db, bump, NULL, NULL, &emsg);
        if (src == SQLITE_OK) src = sqlite3_exec(db, "COMMIT", NULL, NULL, &emsg);
        if (src != SQLITE_OK) {
            castor_err_set(err, CASTOR_EIO, "applying schema step %d: %s", v + 1,
                           emsg ? emsg : sqlite3_errstr(src));
            sqlite3_free(emsg);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return CASTOR_EIO;
        }
    }
    *version_out = NSTEPS;
    return CASTOR_OK;
}
