/* sqlite_query.c — runs compiled ADT queries on an SQLite connection (see sqlite_query.h).
 *
 * Query SQL is dynamic text, so the engine's cache keyed by a literal's address does not fit;
 * each connection keeps a small LRU of statements keyed by their text instead. Values are bound
 * by number; a progress handler interrupts a statement past its deadline. */
#include "store/sqlite/sqlite_query.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SQ_QCACHE_SLOTS 32
#define SQ_PROGRESS_OPS 4000 /* VM steps between deadline checks (~tens of microseconds) */

typedef struct sq_qslot {
    char *sql;
    sqlite3_stmt *stmt;
    uint64_t used;
} sq_qslot_t;

struct sq_qcache {
    sq_qslot_t slot[SQ_QCACHE_SLOTS];
    uint64_t clock;
};

static int sq_qrow_columns(const store_qrow_t *row)
{
    return sqlite3_column_count(row->h);
}

static const char *sq_qrow_text(const store_qrow_t *row, int col, size_t *len)
{
    if (sqlite3_column_type(row->h, col) == SQLITE_NULL) {
        if (len) *len = 0;
        return NULL;
    }
    const char *s = (const char *)sqlite3_column_text(row->h, col);
    if (len) *len = (size_t)sqlite3_column_bytes(row->h, col);
    return s;
}

static int64_t sq_qrow_int(const store_qrow_t *row, int col)
{
    return sqlite3_column_int64(row->h, col);
}

static const store_qrow_ops_t sq_qrow_ops = {sq_qrow_columns, sq_qrow_text, sq_qrow_int};

void sqlite_query_cache_free(struct sq_qcache *cache)
{
    if (!cache) return;
    for (int i = 0; i < SQ_QCACHE_SLOTS; i++) {
        sqlite3_finalize(cache->slot[i].stmt);
        free(cache->slot[i].sql);
    }
    free(cache);
}

/* The cached statement for sql, or a new one put in the least recently used slot. */
static sqlite3_stmt *qprepare(void *conn, const char *sql, castor_err *err)
{
    sqlite3 *db = sqlite_conn_db(conn);
    struct sq_qcache **pc = sqlite_conn_qcache(conn);
    if (!*pc) *pc = calloc(1, sizeof **pc);
    struct sq_qcache *qc = *pc;
    if (!qc) {
        castor_err_set(err, CASTOR_ENOMEM, "out of memory preparing a query");
        return NULL;
    }
    sq_qslot_t *victim = &qc->slot[0];
    for (int i = 0; i < SQ_QCACHE_SLOTS; i++) {
        sq_qslot_t *s = &qc->slot[i];
        if (s->sql && strcmp(s->sql, sql) == 0) {
            s->used = ++qc->clock;
            return s->stmt;
        }
        if (s->used < victim->used) victim = s;
    }
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
    if (rc != SQLITE_OK) {
        castor_err_set(err, CASTOR_EIO, "the store could not prepare a query: %s",
                       sqlite3_errmsg(db));
        return NULL;
    }
    char *copy = strdup(sql);
    if (!copy) {
        sqlite3_finalize(stmt);
        castor_err_set(err, CASTOR_ENOMEM, "out of memory preparing a query");
        return NULL;
    }
    sqlite3_finalize(victim->stmt);
    free(victim->sql);
    victim->sql = copy;
    victim->stmt = stmt;
    victim->used = ++qc->clock;
    return stmt;
}

static int past_deadline(void *arg)
{
    return store_query_now_ms() >= *(const int64_t *)arg;
}

int sqlite_query_exec(void *conn, const char *sql, const store_qparam_t *params, int nparams,
                      int64_t deadline_ms, store_qrow_fn fn, void *ctx, store_qstats_t *stats,
                      castor_err *err)
{
    sqlite3 *db = sqlite_conn_db(conn);
    sqlite3_stmt *stmt = qprepare(conn, sql, err);
    if (!stmt) return CASTOR_EIO;
    int rc = CASTOR_OK;
    /* Numbered placeholders: a value the statement does not name (past the highest ?N) is
     * simply not bound. */
    int named = sqlite3_bind_parameter_count(stmt);
    for (int i = 0; i < nparams && i < named && rc == CASTOR_OK; i++) {
        int brc;
        const store_qparam_t *p = &params[i];
        switch (p->type) {
        case SQ_INT:
            brc = sqlite3_bind_int64(stmt, i + 1, p->i);
            break;
        case SQ_REAL:
            brc = sqlite3_bind_double(stmt, i + 1, p->d);
            break;
        case SQ_TEXT:
            brc = sqlite3_bind_text(stmt, i + 1, p->s, -1, SQLITE_STATIC);
            break;
        default:
            brc = sqlite3_bind_null(stmt, i + 1);
            break;
        }
        if (brc != SQLITE_OK)
            rc = castor_err_set(err, CASTOR_EIO, "the store could not bind query value %d: %s",
                                i + 1, sqlite3_errmsg(db));
    }
    if (deadline_ms > 0) sqlite3_progress_handler(db, SQ_PROGRESS_OPS, past_deadline, &deadline_ms);
    int64_t rows = 0;
    while (rc == CASTOR_OK) {
        int step = sqlite3_step(stmt);
        if (step == SQLITE_ROW) {
            rows++;
            store_qrow_t row = {&sq_qrow_ops, stmt, 0};
            if (fn && fn(&row, ctx)) break;
            continue;
        }
        if (step == SQLITE_INTERRUPT)
            rc = castor_err_http(err, CASTOR_ELIMIT, 400, "TimeoutError",
                                 "The query ran past its time budget and was stopped. Narrow it: "
                                 "pin $dtId, filter with IS_OF_MODEL, or lower the MATCH hops.");
        else if (step != SQLITE_DONE)
            rc = castor_err_set(err, CASTOR_EIO, "the store failed running a query: %s",
                                sqlite3_errmsg(db));
        break;
    }
    if (deadline_ms > 0) sqlite3_progress_handler(db, 0, NULL, NULL);
    if (stats) {
        stats->steps = sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_VM_STEP, 1);
        stats->rows = rows;
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc;
}
