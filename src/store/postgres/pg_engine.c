/* pg_engine.c — the PostgreSQL engine behind store.h (libpq), for castor nodes that share
 * one database.
 *
 * A fixed pool of connections, each with the accessors' statements prepared once (cached by
 * the address of their SQL literal, as the SQLite engine does; `?` becomes `$n` when a
 * statement is first prepared). Transactions mean what they mean on SQLite:
 *   STORE_READ   REPEATABLE READ, READ ONLY: one snapshot for the whole transaction;
 *   STORE_LATEST READ COMMITTED, READ ONLY: every statement sees the latest commits;
 *   STORE_WRITE  serialized: a per-node mutex, then pg_advisory_xact_lock on a fixed key, so
 *                writers of every node take turns and a read-check-write stays exact.
 * A write is acknowledged once its COMMIT returned: PostgreSQL has then made it durable
 * (synchronous_commit, as configured on the server). A failed statement inside a write
 * transaction leaves the transaction usable, as on SQLite: each write statement runs inside a
 * savepoint (callers retry a conflicting insert in the same transaction).
 *
 * Round trips are what a request waits for, so statements go in libpq pipelines: a
 * transaction's BEGIN (and a writer's advisory lock) travels with its first statement, a write
 * statement's SAVEPOINT and RELEASE with the statement, and a read's COMMIT is sent without
 * waiting for its answer (the connection's next user reads it). A one-statement read is one
 * round trip; a write statement is one (three before); only a write's COMMIT is waited for.
 *
 * A lost connection (the server restarted, the network broke) fails the transaction at hand
 * with CASTOR_EIO (503 to HTTP clients) and is re-opened when a later transaction begins on it;
 * nothing is retried behind the caller's back, since a COMMIT whose answer was lost may or may
 * not have happened. */
#include "store/postgres/pg_engine_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef struct pg_engine {
    pg_conn_t *conns;
    unsigned nconns;
    pthread_mutex_t pool_lock;
    pthread_cond_t pool_free;
    pthread_mutex_t write_lock; /* held for the whole of a write transaction on this node */
    int schema_version;
    char where[160]; /* host:port/db, for error messages (no password) */
} pg_engine_t;

/* ---- rows ---- */

static const char *pg_row_text(const store_row_t *row, int col)
{
    return PQgetvalue(row->h, row->index, col);
}

/* Text results: integers are decimal, booleans 't'/'f' (SQLite would give 1/0). */
static int64_t pg_text_int(const char *s)
{
    if (s[0] == 't' && !s[1]) return 1;
    if (s[0] == 'f' && !s[1]) return 0;
    return strtoll(s, NULL, 10);
}

static int64_t pg_row_int(const store_row_t *row, int col)
{
    return pg_text_int(PQgetvalue(row->h, row->index, col));
}

static int pg_row_is_null(const store_row_t *row, int col)
{
    return PQgetisnull(row->h, row->index, col);
}

static const store_row_ops_t pg_row_ops = {pg_row_text, pg_row_int, pg_row_is_null};

/* ---- errors ---- */

/* SQLSTATE classes that mean the server or the connection is gone, not the statement. */
static int pg_state_lost(const char *state)
{
    return state && (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
                     strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0);
}

int pg_fail(PGconn *db, const PGresult *res, const char *what, castor_err *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : "";
    if (!msg || !msg[0]) msg = db ? PQerrorMessage(db) : "no connection";
    char clean[512];
    snprintf(clean, sizeof clean, "%s", msg);
    size_t n = strlen(clean);
    while (n && (clean[n - 1] == '\n' || clean[n - 1] == ' '))
        clean[--n] = '\0';
    if (state && strncmp(state, "23", 2) == 0)
        return castor_err_set(err, CASTOR_ECONFLICT, "%s: %s", what, clean);
    if (!db || PQstatus(db) != CONNECTION_OK || pg_state_lost(state))
        return castor_err_set(err, CASTOR_EIO,
                              "%s: the connection to PostgreSQL was lost (%s); castor reconnects "
                              "on the next request, retry once the database is up",
                              what, clean);
    if (state && strcmp(state, "25006") == 0)
        return castor_err_set(err, CASTOR_EINTERNAL,
                              "%s: a write inside a read-only transaction (%s)", what, clean);
    if (state && (strcmp(state, "53300") == 0 || strncmp(state, "53", 2) == 0))
        return castor_err_set(err, CASTOR_EIO,
                              "%s: PostgreSQL is out of resources (%s); raise max_connections or "
                              "run fewer castor threads",
                              what, clean);
    return castor_err_set(err, CASTOR_EIO, "%s: %s", what, clean);
}

int pg_simple(PGconn *db, const char *sql, castor_err *err)
{
    PGresult *r = PQexec(db, sql);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    int rc = CASTOR_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char what[96];
        snprintf(what, sizeof what, "running '%.60s'", sql);
        rc = pg_fail(db, r, what, err);
    }
    PQclear(r);
    return rc;
}

/* ---- ? -> $n ---- */

char *pg_rewrite(const char *sql, int *nparams)
{
    size_t len = strlen(sql);
    /* Each `?` grows by at most 4 characters ("$123"); `?N` keeps its digits. */
    size_t cap = len * 5 + 1;
    char *out = malloc(cap);
    if (!out) return NULL;
    char *w = out;
    int next = 0, highest = 0;
    char quote = 0;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            *w++ = *p;
            if (*p == quote) quote = 0;
            continue;
        }
        if (*p == '\'' || *p == '"') {
            quote = *p;
            *w++ = *p;
            continue;
        }
        if (*p == '$' && p[1] >= '1' && p[1] <= '9') {
            /* Already numbered (the query compiler's PostgreSQL dialect): only counted. */
            int n = 0;
            *w++ = *p;
            while (p[1] >= '0' && p[1] <= '9') {
                n = n * 10 + (p[1] - '0');
                *w++ = *++p;
            }
            if (n > highest) highest = n;
            continue;
        }
        if (*p != '?') {
            *w++ = *p;
            continue;
        }
        int n;
        if (p[1] >= '0' && p[1] <= '9') {
            n = 0;
            while (p[1] >= '0' && p[1] <= '9')
                n = n * 10 + (*++p - '0');
        } else {
            n = ++next;
        }
        if (n > highest) highest = n;
        w += sprintf(w, "$%d", n);
    }
    *w = '\0';
    *nparams = highest;
    return out;
}

/* ---- connections ---- */

static void pg_conn_forget(pg_conn_t *c)
{
    c->end_sent = 0;
    c->begin_sql = NULL;
    memset(c->cache, 0, sizeof c->cache);
    c->ncache = 0;
    pg_query_cache_free(c->qcache);
    c->qcache = NULL;
}

static int pg_conn_setup(pg_engine_t *e, pg_conn_t *c, castor_err *err)
{
    (void)e;
    /* Errors are mapped by SQLSTATE, not read by humans in the server's language; UTC keeps
     * any time text the same on every node. */
    return pg_simple(c->db,
                     "SET client_min_messages = warning; SET TimeZone = 'UTC';"
                     "SET lc_messages = 'C'",
                     err);
}

/* Notices ("there is no transaction in progress" after a failed BEGIN) are not errors and
 * must not reach the server's stderr. */
static void pg_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static int pg_conn_open(pg_engine_t *e, const char *conninfo, pg_conn_t *c, castor_err *err)
{
    memset(c, 0, sizeof *c);
    c->engine = e;
    c->db = PQconnectdb(conninfo);
    if (!c->db || PQstatus(c->db) != CONNECTION_OK) {
        const char *why = c->db ? PQerrorMessage(c->db) : "out of memory";
        castor_err_set(err, CASTOR_EIO,
                       "could not connect to PostgreSQL at %s: %.300s (check that the server "
                       "runs, the URL's host, port, user and database, and that the database "
                       "exists)",
                       e->where, why);
        PQfinish(c->db);
        c->db = NULL;
        return CASTOR_EIO;
    }
    PQsetNoticeProcessor(c->db, pg_quiet, NULL);
    int rc = pg_conn_setup(e, c, err);
    if (rc < 0) {
        PQfinish(c->db);
        c->db = NULL;
    }
    return rc;
}

static void pg_conn_close(pg_conn_t *c)
{
    pg_conn_forget(c);
    if (c->db) PQfinish(c->db);
    c->db = NULL;
}

/* Re-opens a connection whose server went away; its prepared statements went with it. */
static int pg_conn_revive(pg_engine_t *e, pg_conn_t *c, castor_err *err)
{
    pg_conn_forget(c);
    PQreset(c->db);
    if (PQstatus(c->db) != CONNECTION_OK)
        return castor_err_set(err, CASTOR_EIO,
                              "PostgreSQL at %s is not reachable: %.300s; castor reconnects on "
                              "the next request",
                              e->where, PQerrorMessage(c->db));
    return pg_conn_setup(e, c, err);
}

/* host:port/dbname of the URL, for messages that must not show a password. */
static void pg_where(pg_engine_t *e, PGconn *probe, const char *conninfo)
{
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    const char *host = "", *port = "", *db = "";
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (!o->val) continue;
        if (strcmp(o->keyword, "host") == 0 || (strcmp(o->keyword, "hostaddr") == 0 && !host[0]))
            host = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        else if (strcmp(o->keyword, "dbname") == 0)
            db = o->val;
    }
    (void)probe;
    snprintf(e->where, sizeof e->where, "%s:%s/%s", host[0] ? host : "localhost",
             port[0] ? port : "5432", db);
    PQconninfoFree(opts);
}

static void pg_engine_free(pg_engine_t *e)
{
    for (unsigned i = 0; i < e->nconns; i++)
        pg_conn_close(&e->conns[i]);
    pthread_mutex_destroy(&e->pool_lock);
    pthread_cond_destroy(&e->pool_free);
    pthread_mutex_destroy(&e->write_lock);
    free(e->conns);
    free(e);
}

static int pg_open(const char *target, unsigned connections, void **out, castor_err *err)
{
    *out = NULL;
    char *perr = NULL;
    PQconninfoOption *check = PQconninfoParse(target, &perr);
    if (!check) {
        int rc = castor_err_set(err, CASTOR_EINVAL,
                                "the PostgreSQL URL is malformed: %s (use "
                                "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE)",
                                perr ? perr : "out of memory");
        PQfreemem(perr);
        return rc;
    }
    PQconninfoFree(check);
    pg_engine_t *e = calloc(1, sizeof *e);
    if (!e) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    connections++; /* the writers', besides `connections` for readers (as on SQLite) */
    e->conns = calloc(connections, sizeof *e->conns);
    if (!e->conns) {
        free(e);
        return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&e->pool_lock, NULL);
    pthread_cond_init(&e->pool_free, NULL);
    pthread_mutex_init(&e->write_lock, NULL);
    pg_where(e, NULL, target);

    /* The first connection migrates the schema (under an advisory lock: nodes may start
     * together) before the others open. */
    int rc = pg_conn_open(e, target, &e->conns[0], err);
    if (rc == 0) {
        e->nconns = 1;
        rc = pg_migrate(e->conns[0].db, &e->schema_version, err);
        if (rc < 0) castor_err_prefix(err, "%s", e->where);
    }
    for (unsigned i = 1; rc == 0 && i < connections; i++) {
        rc = pg_conn_open(e, target, &e->conns[i], err);
        if (rc == 0) e->nconns++;
    }
    if (rc < 0) {
        pg_engine_free(e);
        return rc;
    }
    *out = e;
    return CASTOR_OK;
}

static void pg_close(void *engine)
{
    if (engine) pg_engine_free(engine);
}

/* A reader's connection: any but conns[0], which only writers use (under write_lock, so it is
 * always free for them: a thread that holds a read and then begins a write cannot starve). */
static pg_conn_t *pg_acquire(pg_engine_t *e)
{
    pthread_mutex_lock(&e->pool_lock);
    for (;;) {
        for (unsigned i = 1; i < e->nconns; i++) {
            if (!e->conns[i].busy) {
                e->conns[i].busy = 1;
                pthread_mutex_unlock(&e->pool_lock);
                return &e->conns[i];
            }
        }
        pthread_cond_wait(&e->pool_free, &e->pool_lock);
    }
}

static void pg_release(pg_engine_t *e, pg_conn_t *c)
{
    if (c == &e->conns[0]) {
        c->writing = 0;
        c->read_only = 0;
        return;
    }
    pthread_mutex_lock(&e->pool_lock);
    c->busy = 0;
    c->writing = 0;
    c->read_only = 0;
    pthread_cond_signal(&e->pool_free);
    pthread_mutex_unlock(&e->pool_lock);
}

/* ---- transactions ---- */

/* Each a NULL-ended list of statements, sent in the pipeline of the transaction's first
 * statement (pg_pipeline). A writer's lock is taken inside its transaction and released by its
 * COMMIT or ROLLBACK. */
#define PG_KEY_TEXT_(k) #k
#define PG_KEY_TEXT(k) PG_KEY_TEXT_(k)
static const char *const PG_BEGIN_READ[] = {"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                                            NULL};
static const char *const PG_BEGIN_LATEST[] = {"BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY",
                                              NULL};
static const char *const PG_BEGIN_WRITE[] = {
    "BEGIN ISOLATION LEVEL READ COMMITTED",
    "SELECT pg_advisory_xact_lock(" PG_KEY_TEXT(PG_WRITE_LOCK_KEY) ")", NULL};

/* Reads the answer to a read's COMMIT that pg_commit sent without waiting (its outcome does
 * not matter: the read is over; a broken connection shows in PQstatus afterwards). */
static void pg_settle(pg_conn_t *c)
{
    if (!c->end_sent) return;
    c->end_sent = 0;
    PGresult *r;
    while ((r = PQgetResult(c->db)) != NULL)
        PQclear(r);
}

/* No round trip: the BEGIN waits for the transaction's first statement (pg_pipeline), which
 * re-opens a connection lost since its last use. */
static int pg_begin(void *engine, store_mode_t mode, void **conn, castor_err *err)
{
    pg_engine_t *e = engine;
    *conn = NULL;
    pg_conn_t *c;
    if (mode == STORE_WRITE) {
        pthread_mutex_lock(&e->write_lock);
        c = &e->conns[0];
    } else {
        c = pg_acquire(e);
    }
    pg_settle(c);
    int rc = CASTOR_OK;
    if (PQstatus(c->db) != CONNECTION_OK || PQpipelineStatus(c->db) != PQ_PIPELINE_OFF)
        rc = pg_conn_revive(e, c, err);
    if (rc < 0) {
        pg_release(e, c);
        if (mode == STORE_WRITE) pthread_mutex_unlock(&e->write_lock);
        return rc;
    }
    c->begin_sql = mode == STORE_WRITE    ? PG_BEGIN_WRITE
                   : mode == STORE_LATEST ? PG_BEGIN_LATEST
                                          : PG_BEGIN_READ;
    c->writing = mode == STORE_WRITE;
    c->read_only = mode != STORE_WRITE;
    *conn = c;
    return CASTOR_OK;
}

static void pg_end(pg_engine_t *e, pg_conn_t *c)
{
    int writing = c->writing;
    pg_release(e, c);
    if (writing) pthread_mutex_unlock(&e->write_lock);
}

static int pg_commit(void *engine, void *conn, castor_err *err)
{
    pg_engine_t *e = engine;
    pg_conn_t *c = conn;
    if (c->begin_sql) { /* no statement ran: there is no transaction on the server */
        c->begin_sql = NULL;
        pg_end(e, c);
        return CASTOR_OK;
    }
    if (c->read_only) {
        /* A read has nothing to acknowledge: its COMMIT goes out without a wait. */
        if (PQsendQuery(c->db, "COMMIT")) c->end_sent = 1;
        pg_end(e, c);
        return CASTOR_OK;
    }
    PGresult *r = PQexec(c->db, "COMMIT");
    int rc = CASTOR_OK;
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK) {
        rc = pg_fail(c->db, r,
                     c->writing ? "committing (the write may or may not have been "
                                  "applied)"
                                : "ending a read",
                     err);
    } else if (strcmp(PQcmdStatus(r), "ROLLBACK") == 0) {
        /* COMMIT of a transaction a failed statement aborted: PostgreSQL rolls it back. */
        rc = castor_err_set(err, CASTOR_EIO,
                            "the transaction was rolled back by PostgreSQL after a failed "
                            "statement; nothing was written");
    }
    PQclear(r);
    if (rc < 0 && PQstatus(c->db) == CONNECTION_OK) pg_simple(c->db, "ROLLBACK", NULL);
    pg_end(e, c);
    return rc;
}

/* PostgreSQL acknowledges a COMMIT once it is durable (or as its synchronous_commit says): the
 * outcome is always final here. */
static int pg_commit_deferred(void *engine, void *conn, void **pending, castor_err *err)
{
    *pending = NULL;
    return pg_commit(engine, conn, err);
}

static void pg_pending_notify(void *engine, void *pending, void (*fn)(void *), void *arg)
{
    (void)engine;
    (void)pending;
    fn(arg);
}

static int pg_pending_finish(void *engine, void *pending, castor_err *err)
{
    (void)engine;
    (void)pending;
    (void)err;
    return CASTOR_OK;
}

static void pg_rollback(void *engine, void *conn)
{
    pg_engine_t *e = engine;
    pg_conn_t *c = conn;
    if (c->begin_sql) {
        c->begin_sql = NULL;
    } else if (c->read_only) {
        if (PQstatus(c->db) == CONNECTION_OK && PQsendQuery(c->db, "ROLLBACK")) c->end_sent = 1;
    } else if (PQstatus(c->db) == CONNECTION_OK) {
        pg_simple(c->db, "ROLLBACK", NULL);
    }
    pg_end(e, c);
}

/* ---- statements ---- */

static size_t pg_slot(const char *sql)
{
    uint64_t h = (uint64_t)(uintptr_t)sql;
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 40) & (PG_STMT_SLOTS - 1);
}

/* The statement's prepared name on c, preparing it on first use. *out_name is "" when the
 * table is full (the caller then runs the text unprepared, in *text_out, which it frees). */
static int pg_prepare(pg_conn_t *c, const char *sql, char name[16], char **text_out,
                      castor_err *err)
{
    *text_out = NULL;
    size_t i = pg_slot(sql);
    for (size_t n = 0; n < PG_STMT_SLOTS && c->cache[i].sql; n++) {
        if (c->cache[i].sql == sql) {
            snprintf(name, 16, "s%d", c->cache[i].id);
            return CASTOR_OK;
        }
        i = (i + 1) & (PG_STMT_SLOTS - 1);
    }
    int nparams = 0;
    char *text = pg_rewrite(sql, &nparams);
    if (!text) return castor_err_set(err, CASTOR_ENOMEM, "out of memory preparing a statement");
    if (c->cache[i].sql || c->ncache >= PG_STMT_SLOTS * 3 / 4) {
        name[0] = '\0';
        *text_out = text;
        return CASTOR_OK;
    }
    int id = ++c->next_id;
    snprintf(name, 16, "s%d", id);
    PGresult *r = PQprepare(c->db, name, text, 0, NULL);
    int rc = CASTOR_OK;
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        char what[120];
        snprintf(what, sizeof what, "preparing '%.80s'", sql);
        rc = pg_fail(c->db, r, what, err);
    }
    PQclear(r);
    free(text);
    if (rc < 0) return rc;
    c->cache[i].sql = sql;
    c->cache[i].id = id;
    c->cache[i].nparams = nparams;
    c->ncache++;
    return CASTOR_OK;
}

/* Statements that may change rows (and so may violate a constraint). */
static int pg_is_write(const char *sql)
{
    while (*sql == ' ' || *sql == '\n')
        sql++;
    return strncmp(sql, "INSERT", 6) == 0 || strncmp(sql, "UPDATE", 6) == 0 ||
           strncmp(sql, "DELETE", 6) == 0 || strncmp(sql, "WITH", 4) == 0;
}

/* ---- pipelines ---- */

/* The most statements one pipeline carries: a writer's BEGIN and lock, then a savepoint, the
 * statement and its release (or a query's timeout and the query). */
#define PG_PIPE_MAX 8

int pg_pipeline(pg_conn_t *c, const pg_cmd_t *cmds, int ncmds, PGresult **res, castor_err *err)
{
    PGconn *db = c->db;
    pg_cmd_t all[PG_PIPE_MAX];
    int n = 0, nbegin = 0;
    for (const char *const *b = c->begin_sql; b && *b && n < PG_PIPE_MAX; b++)
        all[n++] = (pg_cmd_t){NULL, *b, 0, NULL, NULL};
    nbegin = n;
    for (int i = 0; i < ncmds; i++)
        res[i] = NULL;
    if (n + ncmds > PG_PIPE_MAX)
        return castor_err_set(err, CASTOR_EINTERNAL, "a pipeline of %d statements (at most %d)",
                              n + ncmds, PG_PIPE_MAX);
    for (int i = 0; i < ncmds; i++)
        all[n++] = cmds[i];
    /* Whatever happens below, the BEGIN is on its way: a rollback must now be sent. */
    c->begin_sql = NULL;
    if (!PQenterPipelineMode(db)) return pg_fail(db, NULL, "starting a pipeline", err);
    int sent = 1;
    for (int i = 0; i < n && sent; i++) {
        const pg_cmd_t *k = &all[i];
        sent = k->name
                   ? PQsendQueryPrepared(db, k->name, k->nparams, k->values, NULL, NULL, 0)
                   : PQsendQueryParams(db, k->text, k->nparams, k->types, k->values, NULL, NULL, 0);
    }
    if (sent) sent = PQpipelineSync(db);
    /* Each statement gives one result, then NULL; the Sync gives PGRES_PIPELINE_SYNC. A broken
     * connection gives an error and NULLs: two NULLs in a row, or too many results, end the
     * wait there. */
    PGresult *got[PG_PIPE_MAX + 1] = {0};
    PGresult *broke = NULL;
    int ngot = 0, nulls = 0, synced = 0;
    while (sent && !synced && ngot <= n) {
        PGresult *r = PQgetResult(db);
        if (!r) {
            if (++nulls > 1 || PQstatus(db) != CONNECTION_OK) break;
            continue;
        }
        nulls = 0;
        if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            synced = 1;
        } else if (ngot < n) {
            got[ngot++] = r;
        } else {
            PQclear(broke);
            broke = r;
        }
    }
    int rc = CASTOR_OK;
    if (!synced || ngot != n) {
        /* The first failure says why (the connection's error when none came back). */
        const PGresult *why = broke;
        for (int i = 0; i < ngot && !why; i++)
            if (PQresultStatus(got[i]) == PGRES_FATAL_ERROR) why = got[i];
        rc = pg_fail(db, why, "running a statement", err);
    } else if (!PQexitPipelineMode(db)) {
        rc = pg_fail(db, NULL, "ending a pipeline", err);
    } else {
        for (int i = 0; i < nbegin && rc == CASTOR_OK; i++) {
            ExecStatusType st = PQresultStatus(got[i]);
            if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
                rc = pg_fail(db, got[i], "beginning a transaction", err);
        }
    }
    if (rc < 0) {
        for (int i = 0; i < ngot; i++)
            PQclear(got[i]);
        PQclear(broke);
        /* A pipeline left unfinished on a live connection: no ROLLBACK can be sent on it, and
         * the server would keep the transaction open, a writer's advisory lock with it, which
         * holds every other writer of every node. Closing the socket makes the server roll it
         * back and the rest of this transaction fail; the next begin re-opens the connection. */
        if (PQstatus(db) == CONNECTION_OK && PQpipelineStatus(db) != PQ_PIPELINE_OFF)
            shutdown(PQsocket(db), SHUT_RDWR);
        return rc;
    }
    for (int i = 0; i < nbegin; i++)
        PQclear(got[i]);
    for (int i = 0; i < ncmds; i++)
        res[i] = got[nbegin + i];
    return CASTOR_OK;
}

/* ---- statements ---- */

static const char PG_SAVEPOINT[] = "SAVEPOINT castor_stmt";
static const char PG_RELEASE[] = "RELEASE castor_stmt";
static const char PG_ROLLBACK_TO[] = "ROLLBACK TO castor_stmt; RELEASE castor_stmt";

/* The first statement of a transaction is sent with its BEGIN: when the connection turns out
 * to be lost (the server restarted since its last use), nothing of the transaction ran, so it
 * is re-opened and the pipeline sent once more. Later statements are never retried. */
static int pg_send(pg_conn_t *c, const char *sql, const store_param_t *params, int nparams,
                   PGresult **res, int *nres, int *at, castor_err *err)
{
    const char *const *begin = c->begin_sql;
    const char *values[PG_PARAMS_MAX];
    char ints[PG_PARAMS_MAX][24];
    for (int i = 0; i < nparams; i++) {
        switch (params[i].type) {
        case SP_TEXT:
            values[i] = params[i].text;
            break;
        case SP_INT:
            snprintf(ints[i], sizeof ints[i], "%lld", (long long)params[i].i);
            values[i] = ints[i];
            break;
        default:
            values[i] = NULL;
            break;
        }
    }
    int guarded = c->writing && pg_is_write(sql);
    for (int attempt = 0;; attempt++) {
        char name[16];
        char *text = NULL;
        int rc = pg_prepare(c, sql, name, &text, err);
        if (rc == 0) {
            pg_cmd_t cmds[3];
            int n = 0;
            if (guarded) cmds[n++] = (pg_cmd_t){NULL, PG_SAVEPOINT, 0, NULL, NULL};
            *at = n;
            cmds[n++] = (pg_cmd_t){name[0] ? name : NULL, text, nparams, values, NULL};
            if (guarded) cmds[n++] = (pg_cmd_t){NULL, PG_RELEASE, 0, NULL, NULL};
            *nres = n;
            rc = pg_pipeline(c, cmds, n, res, err);
        }
        free(text);
        if (rc == 0 || attempt > 0 || !begin || PQstatus(c->db) == CONNECTION_OK) return rc;
        /* Lost before anything of the transaction ran: a fresh connection, the same BEGIN. */
        if (pg_conn_revive(c->engine, c, err) < 0) return err->rc;
        c->begin_sql = begin;
    }
}

static int pg_exec(void *conn, const char *sql, const store_param_t *params, int nparams,
                   store_row_fn fn, void *ctx, int64_t *changes_out, castor_err *err)
{
    pg_conn_t *c = conn;
    if (nparams > PG_PARAMS_MAX)
        return castor_err_set(err, CASTOR_EINTERNAL, "a statement binds %d values (at most %d)",
                              nparams, PG_PARAMS_MAX);
    PGresult *res[3];
    int nres = 0, at = 0;
    int rc = pg_send(c, sql, params, nparams, res, &nres, &at, err);
    if (rc < 0) return rc;
    PGresult *r = res[at];
    int guarded = nres > 1;
    /* A savepoint that failed (the transaction was already aborted) skipped the statement. */
    const PGresult *bad = NULL;
    for (int i = 0; i < nres && !bad; i++) {
        ExecStatusType st = PQresultStatus(res[i]);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) bad = res[i];
    }
    if (bad) {
        char what[120];
        snprintf(what, sizeof what, "running '%.80s'", sql);
        rc = pg_fail(c->db, bad, what, err);
        /* The statement failed inside its savepoint: undo it alone, the transaction goes on. */
        if (guarded && bad == r && PQstatus(c->db) == CONNECTION_OK)
            pg_simple(c->db, PG_ROLLBACK_TO, NULL);
        for (int i = 0; i < nres; i++)
            PQclear(res[i]);
        return rc;
    }
    for (int i = 0; i < nres; i++)
        if (res[i] != r) PQclear(res[i]);
    if (fn) {
        int n = PQntuples(r);
        for (int i = 0; i < n; i++) {
            store_row_t row = {&pg_row_ops, r, i, -1, 0, 0};
            int stop = fn(&row, ctx);
            if (row.too_long_col >= 0) {
                rc = store_row_too_long(&row, PQfname(r, row.too_long_col), err);
                break;
            }
            if (stop) break;
        }
    }
    if (rc == CASTOR_OK && changes_out) {
        const char *t = PQcmdTuples(r);
        *changes_out = t && t[0] ? strtoll(t, NULL, 10) : 0;
    }
    PQclear(r);
    return rc;
}

static int pg_schema_version(void *engine)
{
    return ((pg_engine_t *)engine)->schema_version;
}

const store_engine_ops_t store_pg_ops = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .commit_deferred = pg_commit_deferred,
    .pending_notify = pg_pending_notify,
    .pending_finish = pg_pending_finish,
    .rollback = pg_rollback,
    .exec = pg_exec,
    .schema_version = pg_schema_version,
    .query = pg_query_exec,
};
