/* pg_query.c — runs compiled ADT queries on a PostgreSQL connection (see store_query.h).
 *
 * Query SQL is dynamic text, so each connection keeps a small LRU of prepared statements keyed
 * by their text (as sqlite_query.c does); placeholders ?N become $N. A deadline becomes the
 * transaction's statement_timeout, and PostgreSQL's cancel (57014) becomes ADT's TimeoutError. */
#include "store/postgres/pg_engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_QCACHE_SLOTS 32
#define PG_QPARAMS_MAX 256

typedef struct pg_qslot {
    char *sql;
    int id;
    int nparams; /* the highest $N the text names */
    uint64_t used;
} pg_qslot_t;

struct pg_qcache {
    pg_qslot_t slot[PG_QCACHE_SLOTS];
    uint64_t clock;
    int next_id;
};

void pg_query_cache_free(struct pg_qcache *cache)
{
    if (!cache) return;
    for (int i = 0; i < PG_QCACHE_SLOTS; i++)
        free(cache->slot[i].sql);
    free(cache);
}

static int pg_qrow_columns(const store_qrow_t *row)
{
    return PQnfields(row->h);
}

static const char *pg_qrow_text(const store_qrow_t *row, int col, size_t *len)
{
    if (PQgetisnull(row->h, row->index, col)) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = (size_t)PQgetlength(row->h, row->index, col);
    return PQgetvalue(row->h, row->index, col);
}

static int64_t pg_qrow_int(const store_qrow_t *row, int col)
{
    const char *s = PQgetvalue(row->h, row->index, col);
    if (s[0] == 't' && !s[1]) return 1;
    if (s[0] == 'f' && !s[1]) return 0;
    return strtoll(s, NULL, 10);
}

static const store_qrow_ops_t pg_qrow_ops = {pg_qrow_columns, pg_qrow_text, pg_qrow_int};

/* The prepared name of sql on conn ("q<id>"), preparing it in the least recently used slot. */
/* The statement is prepared with its parameters' types as this first call binds them: a value
 * the text does not name (the models' key of a query without IS_OF_MODEL) has no type
 * PostgreSQL could infer. A text's parameter types never change (they follow the query's
 * literal kinds, which the text fixes). */
static int qprepare(pg_conn_t *c, const char *sql, const store_qparam_t *params, int nparams,
                    char name[16], int *named, castor_err *err)
{
    if (!c->qcache) c->qcache = calloc(1, sizeof *c->qcache);
    struct pg_qcache *qc = c->qcache;
    if (!qc) return castor_err_set(err, CASTOR_ENOMEM, "out of memory preparing a query");
    pg_qslot_t *victim = &qc->slot[0];
    for (int i = 0; i < PG_QCACHE_SLOTS; i++) {
        pg_qslot_t *s = &qc->slot[i];
        if (s->sql && strcmp(s->sql, sql) == 0) {
            s->used = ++qc->clock;
            snprintf(name, 16, "q%d", s->id);
            *named = s->nparams;
            return CASTOR_OK;
        }
        if (s->used < victim->used) victim = s;
    }
    int highest = 0;
    char *text = pg_rewrite(sql, &highest);
    char *copy = strdup(sql);
    if (!text || !copy) {
        free(text);
        free(copy);
        return castor_err_set(err, CASTOR_ENOMEM, "out of memory preparing a query");
    }
    if (victim->sql) {
        char old[24];
        snprintf(old, sizeof old, "DEALLOCATE q%d", victim->id);
        pg_simple(c->db, old, NULL);
        free(victim->sql);
        victim->sql = NULL;
    }
    int id = ++qc->next_id;
    snprintf(name, 16, "q%d", id);
    Oid types[PG_QPARAMS_MAX];
    int ntypes = nparams < PG_QPARAMS_MAX ? nparams : PG_QPARAMS_MAX;
    for (int i = 0; i < ntypes; i++)
        types[i] = params[i].type == SQ_INT    ? 20  /* int8 */
                   : params[i].type == SQ_REAL ? 701 /* float8 */
                                               : 25; /* text */
    PGresult *r = PQprepare(c->db, name, text, ntypes, types);
    int rc = CASTOR_OK;
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = pg_fail(c->db, r, "the store could not prepare a query", err);
    PQclear(r);
    free(text);
    if (rc < 0) {
        free(copy);
        return rc;
    }
    victim->sql = copy;
    victim->id = id;
    victim->nparams = highest;
    *named = highest;
    victim->used = ++qc->clock;
    return CASTOR_OK;
}

int pg_query_exec(void *conn, const char *sql, const store_qparam_t *params, int nparams,
                  int64_t deadline_ms, store_qrow_fn fn, void *ctx, store_qstats_t *stats,
                  castor_err *err)
{
    pg_conn_t *c = conn;
    if (nparams > PG_QPARAMS_MAX)
        return castor_err_set(err, CASTOR_ELIMIT, "a query binds %d values (at most %d)", nparams,
                              PG_QPARAMS_MAX);
    char name[16];
    int named = 0;
    int rc = qprepare(c, sql, params, nparams, name, &named, err);
    if (rc < 0) return rc;
    /* The deadline goes in the query's pipeline (with the transaction's BEGIN when this is its
     * first statement): one round trip. */
    char set[64] = "";
    if (deadline_ms > 0) {
        int64_t left = deadline_ms - store_query_now_ms();
        snprintf(set, sizeof set, "SET LOCAL statement_timeout = %lld",
                 (long long)(left > 1 ? left : 1));
    }
    /* Every value is bound (the statement was prepared with all their types). */
    if (named > nparams)
        return castor_err_set(err, CASTOR_EINTERNAL, "a query names value %d of %d", named,
                              nparams);
    named = nparams;
    const char **values = calloc((size_t)(named ? named : 1), sizeof *values);
    char(*nums)[32] = calloc((size_t)(named ? named : 1), sizeof *nums);
    if (!values || !nums) {
        free(values);
        free(nums);
        return castor_err_set(err, CASTOR_ENOMEM, "out of memory binding a query");
    }
    for (int i = 0; i < named; i++) {
        const store_qparam_t *p = &params[i];
        switch (p->type) {
        case SQ_INT:
            snprintf(nums[i], sizeof nums[i], "%lld", (long long)p->i);
            values[i] = nums[i];
            break;
        case SQ_REAL:
            snprintf(nums[i], sizeof nums[i], "%.17g", p->d);
            values[i] = nums[i];
            break;
        case SQ_TEXT:
            values[i] = p->s;
            break;
        default:
            values[i] = NULL;
            break;
        }
    }
    pg_cmd_t cmds[2];
    int ncmds = 0;
    if (set[0]) cmds[ncmds++] = (pg_cmd_t){NULL, set, 0, NULL, NULL};
    cmds[ncmds++] = (pg_cmd_t){name, NULL, named, values, NULL};
    PGresult *res[2];
    rc = pg_pipeline(c, cmds, ncmds, res, err);
    free(values);
    free(nums);
    if (rc < 0) return rc;
    PGresult *r = res[ncmds - 1];
    if (ncmds > 1) {
        if (PQresultStatus(res[0]) != PGRES_COMMAND_OK) {
            rc = pg_fail(c->db, res[0], "the store failed setting a query's time budget", err);
            PQclear(res[0]);
            PQclear(r);
            return rc;
        }
        PQclear(res[0]);
    }
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        if (state && strcmp(state, "57014") == 0)
            rc = castor_err_http(err, CASTOR_ELIMIT, 400, "TimeoutError",
                                 "The query ran past its time budget and was stopped. Narrow it: "
                                 "pin $dtId, filter with IS_OF_MODEL, or lower the MATCH hops.");
        else
            rc = pg_fail(c->db, r, "the store failed running a query", err);
        PQclear(r);
        return rc;
    }
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        store_qrow_t row = {&pg_qrow_ops, r, i};
        if (fn && fn(&row, ctx)) break;
    }
    if (stats) {
        stats->steps = n;
        stats->rows = n;
    }
    PQclear(r);
    return CASTOR_OK;
}
