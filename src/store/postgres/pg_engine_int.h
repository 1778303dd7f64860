/* pg_engine_int.h — what the PostgreSQL engine's files share (internal to src/store/postgres/):
 * the connection structure, the error mapping, and the entry points pg_engine.c (pool,
 * statements, transactions), pg_migrations.c (schema steps) and pg_query.c (compiled ADT
 * queries) call across. */
#ifndef CASTOR_STORE_PG_ENGINE_INT_H
#define CASTOR_STORE_PG_ENGINE_INT_H

#include "core/err.h"
#include "store/store_engine.h"

#include <libpq-fe.h>
#include <stdint.h>

/* Prepared statements per connection, hashed by the address of their SQL literal (as the
 * SQLite engine's): castor has about 100, so each is prepared once per connection. */
#define PG_STMT_SLOTS 1024

/* Parameters one accessor statement binds at most (the largest insert has about 12). */
#define PG_PARAMS_MAX 64

/* Every write transaction of every castor node on one database holds this advisory lock
 * (pg_advisory_xact_lock), so writes are serialized as on SQLite: the accessors' read, check,
 * then write stays race-free across nodes. The number is arbitrary but fixed. */
#define PG_WRITE_LOCK_KEY 109270199988082 /* "castor" in ASCII, as a number */

typedef struct pg_stmt {
    const char *sql; /* cache key: the literal's address */
    int id;          /* prepared as "s<id>" on this connection */
    int nparams;     /* placeholders in the rewritten text */
} pg_stmt_t;

typedef struct pg_conn {
    PGconn *db;
    struct pg_engine *engine; /* the pool this connection belongs to */
    int busy;
    int writing;   /* a write transaction (holds the engine's write lock) */
    int read_only; /* STORE_READ or STORE_LATEST: PostgreSQL itself refuses writes */
    /* A transaction's BEGIN is not sent by begin() but in one pipeline with its first
     * statement (pg_pipeline): the BEGIN statements still to send, NULL once sent. */
    const char *const *begin_sql;
    /* A read transaction's end (COMMIT) was sent without waiting for its answer: the next
     * user of the connection reads it first (pg_settle). */
    int end_sent;
    pg_stmt_t cache[PG_STMT_SLOTS]; /* open addressing; sql == NULL is empty */
    int ncache;
    int next_id;
    struct pg_qcache *qcache; /* compiled ADT queries' statements, by text (pg_query.c) */
} pg_conn_t;

/* Maps a failed result (or a NULL one: the connection went away) to a castor error: a
 * constraint violation is CASTOR_ECONFLICT, everything else CASTOR_EIO, whose 503 tells the
 * client to retry. what says what castor was doing. */
int pg_fail(PGconn *db, const PGresult *res, const char *what, castor_err *err);

/* One statement of a pipeline: a prepared statement (name) or a text (name NULL), with its
 * parameters as text (NULL values are SQL NULLs; types may be NULL: inferred). */
typedef struct pg_cmd {
    const char *name;
    const char *text;
    int nparams;
    const char *const *values;
    const Oid *types;
} pg_cmd_t;

/* Sends the connection's pending BEGIN (if any) and cmds in one pipeline, one round trip, and
 * reads every result: res[i] gets cmd i's (the caller PQclears them; a command skipped after
 * an earlier failure has PGRES_PIPELINE_ABORTED). Fails (res all NULL) only when the pending
 * BEGIN failed or the connection broke: the transaction is then unusable. */
int pg_pipeline(pg_conn_t *c, const pg_cmd_t *cmds, int ncmds, PGresult **res, castor_err *err);

/* Runs one or more statements without parameters (the simple protocol: one round trip). */
int pg_simple(PGconn *db, const char *sql, castor_err *err);

/* "$1"-style text of sql, whose parameters are `?`, `?N` or `$N` outside quotes: malloc'ed,
 * caller frees; *nparams gets the highest parameter number. NULL when out of memory. */
char *pg_rewrite(const char *sql, int *nparams);

/* Forgets conn's prepared statements (its session was reset). */
void pg_query_cache_free(struct pg_qcache *cache);

/* pg_query.c: runs a compiled ADT query on conn (a pg_conn_t). */
int pg_query_exec(void *conn, const char *sql, const store_qparam_t *params, int nparams,
                  int64_t deadline_ms, store_qrow_fn fn, void *ctx, store_qstats_t *stats,
                  castor_err *err);

/* pg_migrations.c */
int pg_schema_latest(void);
int pg_migrate(PGconn *db, int *version_out, castor_err *err);

#endif
