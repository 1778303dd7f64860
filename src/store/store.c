/* store.c — engine selection and transactions (see store.h). */
#include "store/store.h"

#include "store/store_engine.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

const char *store_row_text(const store_row_t *row, int col)
{
    return row->ops->text(row, col);
}

int64_t store_row_int(const store_row_t *row, int col)
{
    return row->ops->integer(row, col);
}

int store_row_is_null(const store_row_t *row, int col)
{
    return row->ops->is_null(row, col);
}

int store_row_copy(const store_row_t *row, int col, char *dst, size_t cap)
{
    const char *s = store_row_text(row, col);
    size_t n = strlen(s);
    if (n < cap) {
        memcpy(dst, s, n + 1);
        return 0;
    }
    if (cap) dst[0] = '\0';
    /* Every row is its engine's own non-const local; callbacks see it const so they cannot
     * move the statement, and this note is the one thing written through it. */
    struct store_row *w = (struct store_row *)row;
    if (w->too_long_col < 0) {
        w->too_long_col = col;
        w->too_long_len = n;
        w->too_long_cap = cap;
    }
    return CASTOR_EINTERNAL;
}

int store_row_too_long(const store_row_t *row, const char *name, castor_err *err)
{
    return castor_err_set(err, CASTOR_EINTERNAL,
                          "the stored %s is %zu bytes, more than the %zu castor's records hold; "
                          "castor refuses it rather than truncate it (was the database written by "
                          "another program?)",
                          name ? name : "value", row->too_long_len,
                          row->too_long_cap ? row->too_long_cap - 1 : 0);
}

struct store {
    const store_engine_ops_t *ops;
    void *engine;
    _Atomic int64_t seen[STORE_CHANGE_KINDS]; /* the newest change numbers a poll read */
};

struct store_txn {
    store_t *store;
    void *conn;
    store_mode_t mode;
    /* The change numbers this transaction counted up to (0: not changed): once it commits,
     * its own node knows at once, without a poll (store_change_bump). */
    int64_t bumped[STORE_CHANGE_KINDS];
};

void store_txn_changed(store_txn_t *t, store_change_t kind, int64_t n)
{
    t->bumped[kind] = n;
}

int store_open(const char *url, unsigned connections, store_t **out, castor_err *err)
{
    *out = NULL;
    const store_engine_ops_t *ops = NULL;
    const char *target = NULL;
    if (strncmp(url, "sqlite:", 7) == 0) {
        ops = &store_sqlite_ops;
        target = url + 7;
    } else if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        ops = &store_pg_ops;
        target = url; /* libpq reads the URL itself */
    } else {
        return castor_err_set(err, CASTOR_EINVAL,
                              "unknown store '%s': use sqlite:PATH or "
                              "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE",
                              url);
    }
    store_t *s = calloc(1, sizeof *s);
    if (!s) return castor_err_set(err, CASTOR_ENOMEM, "out of memory opening the store");
    s->ops = ops;
    int rc = ops->open(target, connections ? connections : 1, &s->engine, err);
    if (rc < 0) {
        free(s);
        return rc;
    }
    *out = s;
    return CASTOR_OK;
}

void store_close(store_t *s)
{
    if (!s) return;
    s->ops->close(s->engine);
    free(s);
}

const char *store_engine_name(store_t *s)
{
    return s->ops->name;
}

int store_shared(store_t *s)
{
    return s->ops == &store_pg_ops;
}

void store_changes_observe(store_t *s, const int64_t n[STORE_CHANGE_KINDS])
{
    /* Only upwards: two polls that finish out of order must not make a cache that already
     * caught up with the newer count drop itself again for the older one. */
    for (int k = 0; k < STORE_CHANGE_KINDS; k++) {
        int64_t cur = atomic_load(&s->seen[k]);
        while (n[k] > cur && !atomic_compare_exchange_weak(&s->seen[k], &cur, n[k])) {
        }
    }
}

int64_t store_change_seen(store_t *s, store_change_t kind)
{
    return atomic_load(&s->seen[kind]);
}

int store_schema_version(store_t *s)
{
    return s->ops->schema_version(s->engine);
}

int store_begin(store_t *s, store_mode_t mode, store_txn_t **out, castor_err *err)
{
    *out = NULL;
    store_txn_t *t = malloc(sizeof *t);
    if (!t) return castor_err_set(err, CASTOR_ENOMEM, "out of memory starting a transaction");
    t->store = s;
    t->mode = mode;
    memset(t->bumped, 0, sizeof t->bumped);
    int rc = s->ops->begin(s->engine, mode, &t->conn, err);
    if (rc < 0) {
        free(t);
        return rc;
    }
    *out = t;
    return CASTOR_OK;
}

int store_commit(store_txn_t *t, castor_err *err)
{
    int rc = t->store->ops->commit(t->store->engine, t->conn, err);
    if (rc == 0) store_changes_observe(t->store, t->bumped);
    free(t);
    return rc;
}

struct store_pending {
    store_t *store;
    void *p; /* the engine's */
};

int store_commit_deferred(store_txn_t *t, store_pending_t **pending, castor_err *err)
{
    *pending = NULL;
    store_t *s = t->store;
    store_pending_t *sp = malloc(sizeof *sp);
    if (!sp) return store_commit(t, err); /* no memory to defer with: wait here instead */
    void *p = NULL;
    int rc = s->ops->commit_deferred(s->engine, t->conn, &p, err);
    /* Visible to readers from now on, durable or not: caches must not outlive it. */
    if (rc == 0) store_changes_observe(s, t->bumped);
    free(t);
    if (rc < 0 || !p) {
        free(sp);
        return rc;
    }
    sp->store = s;
    sp->p = p;
    *pending = sp;
    return CASTOR_OK;
}

void store_pending_notify(store_pending_t *p, void (*fn)(void *), void *arg)
{
    p->store->ops->pending_notify(p->store->engine, p->p, fn, arg);
}

int store_wait_durable(store_t *s, castor_err *err)
{
    return s->ops->wait_durable ? s->ops->wait_durable(s->engine, err) : CASTOR_OK;
}

int store_pending_finish(store_pending_t *p, castor_err *err)
{
    int rc = p->store->ops->pending_finish(p->store->engine, p->p, err);
    free(p);
    return rc;
}

void store_rollback(store_txn_t *t)
{
    if (!t) return;
    t->store->ops->rollback(t->store->engine, t->conn);
    free(t);
}

int store_exec(store_txn_t *t, const char *sql, const store_param_t *params, int nparams,
               store_row_fn fn, void *ctx, int64_t *changes_out, castor_err *err)
{
    return t->store->ops->exec(t->conn, sql, params, nparams, fn, ctx, changes_out, err);
}

int store_exec_query(store_txn_t *t, const char *sql, const store_qparam_t *params, int nparams,
                     int64_t deadline_ms, store_qrow_fn fn, void *ctx, store_qstats_t *stats,
                     castor_err *err)
{
    return t->store->ops->query(t->conn, sql, params, nparams, deadline_ms, fn, ctx, stats, err);
}

static int ping_row(const store_row_t *row, void *ctx)
{
    *(int64_t *)ctx = store_row_int(row, 0);
    return 0;
}

int store_ping(store_t *s, castor_err *err)
{
    store_txn_t *t;
    int rc = store_begin(s, STORE_READ, &t, err);
    if (rc < 0) return rc;
    int64_t one = 0;
    rc = store_exec(t, "SELECT 1", NULL, 0, ping_row, &one, NULL, err);
    store_rollback(t);
    if (rc < 0) return rc;
    if (one != 1) return castor_err_set(err, CASTOR_EIO, "the store answered SELECT 1 wrongly");
    return CASTOR_OK;
}
