/* sqlite_migrations.c — applying the modules' schema steps at start (see sqlite_schema.h). */
#include "store/sqlite/sqlite_migrations.h"

#include "store/sqlite/sqlite_schema.h"

#include <stdio.h>
#include <string.h>

/* Declared here rather than in sqlite_schema.h while the twins module is on its branch. */
extern const sqlite_schema_module_t sqlite_schema_twins;
extern const sqlite_schema_module_t sqlite_schema_events;

/* In creation order: a module's tables may refer to those of modules before it. */
static const sqlite_schema_module_t *const modules[] = {
    &sqlite_schema_core,  &sqlite_schema_directory, &sqlite_schema_arm,    &sqlite_schema_models,
    &sqlite_schema_twins, &sqlite_schema_audit,     &sqlite_schema_events,
};

#define NMODULES ((int)(sizeof modules / sizeof modules[0]))

int sqlite_schema_latest(void)
{
    int n = 0;
    for (int m = 0; m < NMODULES; m++)
        n += modules[m]->nsteps;
    return n;
}

static int exec(sqlite3 *db, const char *sql, castor_err *err)
{
    char *emsg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &emsg);
    if (rc == SQLITE_OK) return CASTOR_OK;
    castor_err_set(err, CASTOR_EIO, "%s", emsg ? emsg : sqlite3_errstr(rc));
    sqlite3_free(emsg);
    return CASTOR_EIO;
}

/* The version recorded for module, 0 when absent. */
static int module_version(sqlite3 *db, const char *module, int *out, castor_err *err)
{
    sqlite3_stmt *st = NULL;
    *out = 0;
    int rc = sqlite3_prepare_v2(db, "SELECT version FROM schema_versions WHERE module = ?", -1, &st,
                                NULL);
    if (rc == SQLITE_OK) rc = sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) *out = sqlite3_column_int(st, 0);
        rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return castor_err_set(err, CASTOR_EIO, "reading the schema version of %s: %s", module,
                              sqlite3_errmsg(db));
    return CASTOR_OK;
}

/* A module name in the database that this build does not have, or NULL. */
static int unknown_module(sqlite3 *db, char *name, size_t size)
{
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(db, "SELECT module FROM schema_versions", -1, &st, NULL) != SQLITE_OK)
        return 0;
    while (!found && sqlite3_step(st) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 0);
        int known = 0;
        for (int i = 0; i < NMODULES; i++)
            if (m && strcmp(m, modules[i]->name) == 0) known = 1;
        if (!known) {
            snprintf(name, size, "%s", m ? m : "?");
            found = 1;
        }
    }
    sqlite3_finalize(st);
    return found;
}

static int newer_castor(castor_err *err, const char *what)
{
    return castor_err_set(err, CASTOR_EINVAL,
                          "the data folder was written by a newer castor (%s): run that castor "
                          "again, or point --data at another folder",
                          what);
}

int sqlite_migrate(sqlite3 *db, int *version_out, castor_err *err)
{
    int rc = exec(db,
                  "CREATE TABLE IF NOT EXISTS schema_versions ("
                  "  module TEXT PRIMARY KEY, version INTEGER NOT NULL)",
                  err);
    if (rc < 0) return rc;
    char unknown[64];
    if (unknown_module(db, unknown, sizeof unknown)) {
        char what[128];
        snprintf(what, sizeof what, "it has a '%s' schema this castor does not know", unknown);
        return newer_castor(err, what);
    }
    int total = 0;
    for (int m = 0; m < NMODULES; m++) {
        const sqlite_schema_module_t *mod = modules[m];
        int version;
        rc = module_version(db, mod->name, &version, err);
        if (rc < 0) return rc;
        if (version > mod->nsteps) {
            char what[160];
            snprintf(what, sizeof what, "schema '%s' is at step %d; this castor knows %d",
                     mod->name, version, mod->nsteps);
            return newer_castor(err, what);
        }
        for (int v = version; v < mod->nsteps; v++) {
            char bump[160];
            snprintf(bump, sizeof bump,
                     "INSERT INTO schema_versions (module, version) VALUES ('%s', %d) "
                     "ON CONFLICT (module) DO UPDATE SET version = excluded.version",
                     mod->name, v + 1);
            rc = exec(db, "BEGIN IMMEDIATE", err);
            if (rc == 0) rc = exec(db, mod->steps[v], err);
            if (rc == 0) rc = exec(db, bump, err);
            if (rc == 0) rc = exec(db, "COMMIT", err);
            if (rc < 0) {
                castor_err_prefix(err, "applying step %d of the '%s' schema", v + 1, mod->name);
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                return rc;
            }
        }
        total += mod->nsteps;
    }
    *version_out = total;
    return CASTOR_OK;
}
