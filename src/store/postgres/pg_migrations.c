/* pg_migrations.c — applying the modules' schema steps at start (see pg_schema.h), the
 * PostgreSQL twin of sqlite_migrations.c. Several castor nodes may start at once on one
 * database: the whole migration runs under a session advisory lock, so one node applies the
 * steps and the others find them done. */
#include "store/postgres/pg_engine_int.h"
#include "store/postgres/pg_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* In creation order: a module's tables may refer to those of modules before it. */
static const pg_schema_module_t *const modules[] = {
    &pg_schema_core,  &pg_schema_directory, &pg_schema_arm,    &pg_schema_models,
    &pg_schema_twins, &pg_schema_audit,     &pg_schema_events,
};

#define NMODULES ((int)(sizeof modules / sizeof modules[0]))

/* Held while migrating; another number than the write lock's. */
#define PG_MIGRATE_LOCK "SELECT pg_advisory_lock(6530298826419053)"
#define PG_MIGRATE_UNLOCK "SELECT pg_advisory_unlock(6530298826419053)"

int pg_schema_latest(void)
{
    int n = 0;
    for (int m = 0; m < NMODULES; m++)
        n += modules[m]->nsteps;
    return n;
}

static int newer_castor(castor_err *err, const char *what)
{
    return castor_err_set(err, CASTOR_EINVAL,
                          "the database was written by a newer castor (%s): run that castor "
                          "again, or point --store at another database",
                          what);
}

/* Every (module, version) row, to check them against this build's modules. */
static int read_versions(PGconn *db, int versions[NMODULES], castor_err *err)
{
    for (int m = 0; m < NMODULES; m++)
        versions[m] = 0;
    PGresult *r = PQexec(db, "SELECT module, version FROM schema_versions");
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        int rc = pg_fail(db, r, "reading the schema versions", err);
        PQclear(r);
        return rc;
    }
    int rc = CASTOR_OK;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        const char *name = PQgetvalue(r, i, 0);
        int v = atoi(PQgetvalue(r, i, 1));
        int found = -1;
        for (int m = 0; m < NMODULES; m++)
            if (strcmp(name, modules[m]->name) == 0) found = m;
        char what[160];
        if (found < 0) {
            snprintf(what, sizeof what, "it has a '%.40s' schema this castor does not know", name);
            rc = newer_castor(err, what);
        } else if (v > modules[found]->nsteps) {
            snprintf(what, sizeof what, "schema '%s' is at step %d; this castor knows %d", name, v,
                     modules[found]->nsteps);
            rc = newer_castor(err, what);
        } else {
            versions[found] = v;
        }
    }
    PQclear(r);
    return rc;
}

static int migrate_locked(PGconn *db, int *version_out, castor_err *err)
{
    int rc = pg_simple(db,
                       "CREATE TABLE IF NOT EXISTS schema_versions ("
                       "  module TEXT PRIMARY KEY, version BIGINT NOT NULL)",
                       err);
    int versions[NMODULES];
    if (rc == 0) rc = read_versions(db, versions, err);
    if (rc < 0) return rc;
    int total = 0;
    for (int m = 0; m < NMODULES; m++) {
        const pg_schema_module_t *mod = modules[m];
        for (int v = versions[m]; v < mod->nsteps; v++) {
            char bump[200];
            snprintf(bump, sizeof bump,
                     "INSERT INTO schema_versions (module, version) VALUES ('%s', %d) "
                     "ON CONFLICT (module) DO UPDATE SET version = excluded.version",
                     mod->name, v + 1);
            rc = pg_simple(db, "BEGIN", err);
            if (rc == 0) rc = pg_simple(db, mod->steps[v], err);
            if (rc == 0) rc = pg_simple(db, bump, err);
            if (rc == 0) rc = pg_simple(db, "COMMIT", err);
            if (rc < 0) {
                castor_err_prefix(err, "applying step %d of the '%s' schema", v + 1, mod->name);
                pg_simple(db, "ROLLBACK", NULL);
                return rc;
            }
        }
        total += mod->nsteps;
    }
    *version_out = total;
    return CASTOR_OK;
}

/* Functions the query compiler's PostgreSQL dialect calls (query_sql.c). They are code, not
 * data: replaced at every start, so they always match this build, outside the versioned steps.
 * castor_jtype names a JSON value's type as the dialect compares types: booleans as 'true'
 * and 'false' (so false orders before true), NULL when the value is absent. */
static const char PG_FUNCTIONS[] =
    "CREATE OR REPLACE FUNCTION castor_jtype(v json) RETURNS text LANGUAGE sql IMMUTABLE"
    "  PARALLEL SAFE AS $$ SELECT CASE json_typeof(v) WHEN 'boolean' THEN v::text"
    "  ELSE json_typeof(v) END $$;";

int pg_migrate(PGconn *db, int *version_out, castor_err *err)
{
    int rc = pg_simple(db, PG_MIGRATE_LOCK, err);
    if (rc < 0) return rc;
    rc = migrate_locked(db, version_out, err);
    if (rc == 0) {
        rc = pg_simple(db, PG_FUNCTIONS, err);
        if (rc < 0) castor_err_prefix(err, "creating castor's query functions");
    }
    pg_simple(db, PG_MIGRATE_UNLOCK, NULL);
    return rc;
}
