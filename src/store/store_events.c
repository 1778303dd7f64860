/* store_events.c — event routes, delivery state and the outbox's read side (store_events.h). */
#include "store/store_events.h"

#include "store/store_engine.h"

#include <string.h>

#define ROUTE_COLS                                                                                 \
    "rowid, instance_id, id, endpoint_name, filter, created, cursor, coalesce(lease_owner, ''), "  \
    "lease_until, delivered, failed, dead_lettered, coalesce(last_error, ''), "                    \
    "coalesce(last_error_time, 0), failing, last_delivered_time"

static void route_from_row(const store_row_t *row, store_route_t *r)
{
    *r = (store_route_t){
        .seq = store_row_int(row, 0),
        .instance_id = store_row_text(row, 1),
        .id = store_row_text(row, 2),
        .endpoint_name = store_row_text(row, 3),
        .filter = store_row_text(row, 4),
        .created = store_row_int(row, 5),
        .cursor = store_row_int(row, 6),
        .lease_owner = store_row_text(row, 7),
        .lease_until = store_row_int(row, 8),
        .delivered = store_row_int(row, 9),
        .failed = store_row_int(row, 10),
        .dead_lettered = store_row_int(row, 11),
        .last_error = store_row_text(row, 12),
        .last_error_time = store_row_int(row, 13),
        .failing = store_row_int(row, 14),
        .last_delivered_time = store_row_int(row, 15),
    };
}

int store_route_put(store_txn_t *t, const char *instance, const char *id, const char *endpoint_name,
                    const char *filter, int64_t now_ms, int *created_out, castor_err *err)
{
    store_param_t up[] = {SP_T(endpoint_name), SP_T(filter), SP_T(instance), SP_T(id)};
    int64_t n = 0;
    int rc = store_exec(t,
                        "UPDATE event_routes SET endpoint_name = ?, filter = ? "
                        "WHERE instance_id = ? AND id = ?",
                        up, 4, NULL, NULL, &n, err);
    /* Every node's dispatcher re-reads its routes before it delivers past this change. */
    if (rc == 0) rc = store_change_bump(t, STORE_CHANGE_ROUTES, err);
    if (rc < 0) return rc;
    if (created_out) *created_out = n == 0;
    if (n) return CASTOR_OK;
    /* The cursor starts at the newest event: a route delivers what happens after it exists. */
    store_param_t in[] = {SP_T(instance), SP_T(id), SP_T(endpoint_name), SP_T(filter),
                          SP_I(now_ms)};
    return store_exec(t,
                      "INSERT INTO event_routes (instance_id, id, endpoint_name, filter, created, "
                      "cursor) VALUES (?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) FROM outbox))",
                      in, 5, NULL, NULL, NULL, err);
}

typedef struct route_copy {
    arena_t *arena;
    store_route_t *out;
    int found;
} route_copy_t;

static const char *dup(arena_t *a, const char *s)
{
    return arena_strdup(a, s ? s : "");
}

static int route_copy_row(const store_row_t *row, void *ctx)
{
    route_copy_t *c = ctx;
    store_route_t r;
    route_from_row(row, &r);
    r.instance_id = dup(c->arena, r.instance_id);
    r.id = dup(c->arena, r.id);
    r.endpoint_name = dup(c->arena, r.endpoint_name);
    r.filter = dup(c->arena, r.filter);
    r.lease_owner = dup(c->arena, r.lease_owner);
    r.last_error = dup(c->arena, r.last_error);
    *c->out = r;
    c->found = 1;
    return 1;
}

int store_route_get(store_txn_t *t, const char *instance, const char *id, arena_t *arena,
                    store_route_t *out, castor_err *err)
{
    route_copy_t c = {arena, out, 0};
    store_param_t p[] = {SP_T(instance), SP_T(id)};
    int rc =
        store_exec(t, "SELECT " ROUTE_COLS " FROM event_routes WHERE instance_id = ? AND id = ?", p,
                   2, route_copy_row, &c, NULL, err);
    if (rc < 0) return rc;
    return c.found ? CASTOR_OK : CASTOR_ENOTFOUND;
}

typedef struct route_walk {
    int (*fn)(const store_route_t *route, void *ctx);
    void *ctx;
} route_walk_t;

static int route_walk_row(const store_row_t *row, void *ctx)
{
    route_walk_t *w = ctx;
    store_route_t r;
    route_from_row(row, &r);
    return w->fn(&r, w->ctx);
}

int store_route_each(store_txn_t *t, const char *instance, int64_t after, int64_t limit,
                     int (*fn)(const store_route_t *route, void *ctx), void *ctx, castor_err *err)
{
    route_walk_t w = {fn, ctx};
    store_param_t p[] = {SP_T(instance), SP_T(instance), SP_I(after), SP_LIMIT(limit)};
    return store_exec(t,
                      "SELECT " ROUTE_COLS " FROM event_routes "
                      "WHERE (CAST(? AS TEXT) IS NULL OR instance_id = ?) AND rowid > ? "
                      "ORDER BY rowid LIMIT ?",
                      p, 4, route_walk_row, &w, NULL, err);
}

int store_route_delete(store_txn_t *t, const char *instance, const char *id, castor_err *err)
{
    store_param_t p[] = {SP_T(instance), SP_T(id)};
    int64_t n = 0;
    int rc = store_exec(t, "DELETE FROM event_routes WHERE instance_id = ? AND id = ?", p, 2, NULL,
                        NULL, &n, err);
    if (rc < 0) return rc;
    if (!n) return CASTOR_ENOTFOUND;
    return store_change_bump(t, STORE_CHANGE_ROUTES, err);
}

static int count_row(const store_row_t *row, void *ctx)
{
    *(int *)ctx = (int)store_row_int(row, 0);
    return 0;
}

int store_route_count(store_txn_t *t, const char *instance, int *count_out, castor_err *err)
{
    *count_out = 0;
    store_param_t p[] = {SP_T(instance)};
    return store_exec(t, "SELECT count(*) FROM event_routes WHERE instance_id = ?", p, 1, count_row,
                      count_out, NULL, err);
}

int store_route_count_for_endpoint(store_txn_t *t, const char *instance, const char *endpoint_name,
                                   int *count_out, castor_err *err)
{
    *count_out = 0;
    store_param_t p[] = {SP_T(instance), SP_T(endpoint_name)};
    return store_exec(t,
                      "SELECT count(*) FROM event_routes WHERE instance_id = ? AND "
                      "endpoint_name = ?",
                      p, 2, count_row, count_out, NULL, err);
}

int store_route_lease(store_txn_t *t, const char *instance, const char *id, const char *owner,
                      int64_t now_ms, int64_t lease_until, int *got, castor_err *err)
{
    store_param_t p[] = {SP_T(owner), SP_I(lease_until), SP_T(instance),
                         SP_T(id),    SP_T(owner),       SP_I(now_ms)};
    int64_t n = 0;
    int rc = store_exec(t,
                        "UPDATE event_routes SET lease_owner = ?, lease_until = ? "
                        "WHERE instance_id = ? AND id = ? AND "
                        "(lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)",
                        p, 6, NULL, NULL, &n, err);
    *got = rc == 0 && n > 0;
    return rc;
}

int store_route_release_others(store_txn_t *t, const char *owner, castor_err *err)
{
    store_param_t p[] = {SP_T(owner)};
    return store_exec(t,
                      "UPDATE event_routes SET lease_owner = NULL, lease_until = 0 "
                      "WHERE lease_owner IS NOT NULL AND lease_owner <> ?",
                      p, 1, NULL, NULL, NULL, err);
}

int store_route_release(store_txn_t *t, const char *instance, const char *id, const char *owner,
                        castor_err *err)
{
    store_param_t p[] = {SP_T(instance), SP_T(id), SP_T(owner)};
    return store_exec(t,
                      "UPDATE event_routes SET lease_owner = NULL, lease_until = 0 "
                      "WHERE instance_id = ? AND id = ? AND lease_owner = ?",
                      p, 3, NULL, NULL, NULL, err);
}

int store_route_progress(store_txn_t *t, const char *instance, const char *id, const char *owner,
                         const store_route_progress_t *pr, int *held, castor_err *err)
{
    /* CASE rather than two-argument max(), which PostgreSQL spells greatest(). */
    store_param_t p[] = {SP_I(pr->cursor),
                         SP_I(pr->cursor),
                         SP_I(pr->delivered),
                         SP_I(pr->failed),
                         SP_I(pr->dead_lettered),
                         SP_T(pr->last_error),
                         SP_T(pr->last_error),
                         SP_T(pr->last_error),
                         SP_I(pr->last_error_time),
                         SP_I(pr->failing),
                         SP_I(pr->last_delivered_time),
                         SP_I(pr->last_delivered_time),
                         SP_T(instance),
                         SP_T(id),
                         SP_T(owner)};
    int64_t n = 0;
    int rc = store_exec(t,
                        "UPDATE event_routes SET "
                        "cursor = CASE WHEN cursor > ? THEN cursor ELSE ? END, "
                        "delivered = delivered + ?, failed = failed + ?, "
                        "dead_lettered = dead_lettered + ?, "
                        "last_error = CASE WHEN CAST(? AS TEXT) IS NULL THEN last_error "
                        "ELSE ? END, "
                        "last_error_time = CASE WHEN CAST(? AS TEXT) IS NULL THEN last_error_time "
                        "ELSE ? END, "
                        "failing = ?, last_delivered_time = CASE WHEN last_delivered_time > ? "
                        "THEN last_delivered_time ELSE ? END "
                        "WHERE instance_id = ? AND id = ? AND lease_owner = ?",
                        p, (int)(sizeof p / sizeof p[0]), NULL, NULL, &n, err);
    if (held) *held = rc == 0 && n > 0;
    return rc;
}

static int int_row_stats(const store_row_t *row, void *ctx)
{
    *(int64_t *)ctx = store_row_int(row, 0);
    return 0;
}

typedef struct stats_ctx {
    arena_t *arena;
    store_endpoint_stats_t *out;
    int64_t min_cursor;
} stats_ctx_t;

static int stats_row(const store_row_t *row, void *ctx)
{
    stats_ctx_t *c = ctx;
    store_route_t r;
    route_from_row(row, &r);
    store_endpoint_stats_t *o = c->out;
    o->routes++;
    o->delivered += r.delivered;
    o->failed += r.failed;
    o->dead_lettered += r.dead_lettered;
    if (r.failing > o->failing) o->failing = r.failing;
    if (r.last_delivered_time > o->last_delivered_time)
        o->last_delivered_time = r.last_delivered_time;
    if (r.last_error_time > o->last_error_time && r.last_error[0]) {
        o->last_error_time = r.last_error_time;
        o->last_error = arena_strdup(c->arena, r.last_error);
    }
    if (c->min_cursor < 0 || r.cursor < c->min_cursor) c->min_cursor = r.cursor;
    return 0;
}

int store_endpoint_stats(store_txn_t *t, const char *instance, const char *endpoint_name,
                         arena_t *arena, store_endpoint_stats_t *out, castor_err *err)
{
    *out = (store_endpoint_stats_t){.last_error = ""};
    stats_ctx_t c = {arena, out, -1};
    store_param_t p[] = {SP_T(instance), SP_T(endpoint_name)};
    int rc = store_exec(t,
                        "SELECT " ROUTE_COLS " FROM event_routes WHERE instance_id = ? AND "
                        "endpoint_name = ?",
                        p, 2, stats_row, &c, NULL, err);
    if (rc < 0 || c.min_cursor < 0) return rc;
    /* A range scan from the slowest cursor: as long as the backlog, no longer. */
    store_param_t q[] = {SP_I(c.min_cursor), SP_T(instance)};
    return store_exec(t, "SELECT count(*) FROM outbox WHERE seq > ? AND instance_id = ?", q, 2,
                      int_row_stats, &out->lag, NULL, err);
}

/* ---- the outbox ---- */

typedef struct outbox_walk {
    int (*fn)(const store_outbox_row_t *row, void *ctx);
    void *ctx;
    int64_t last;
} outbox_walk_t;

static int outbox_row(const store_row_t *row, void *ctx)
{
    outbox_walk_t *w = ctx;
    store_outbox_row_t r = {
        .seq = store_row_int(row, 0),
        .instance_id = store_row_text(row, 1),
        .type = store_row_text(row, 2),
        .subject = store_row_text(row, 3),
        .event = store_row_text(row, 4),
        .created = store_row_int(row, 5),
    };
    w->last = r.seq;
    return w->fn(&r, w->ctx);
}

int store_outbox_next(store_txn_t *t, int64_t after, int limit,
                      int (*fn)(const store_outbox_row_t *row, void *ctx), void *ctx,
                      int64_t *next_out, castor_err *err)
{
    /* A reader that has seen seq n has seen every committed seq below it, because seqs are
     * handed out in commit order. SQLite: writers are serialized. PostgreSQL, where sequence
     * values are not in commit order in general: every write transaction of every node holds
     * one advisory lock (pg_engine.c) from its first statement until after its commit is
     * visible, so a later writer's seqs are all above an earlier one's and it commits after
     * the earlier one is visible (test_store_pg: outbox_cursor_skips_nothing). */
    outbox_walk_t w = {fn, ctx, after};
    store_param_t p[] = {SP_I(after), SP_I(limit)};
    int rc = store_exec(t,
                        "SELECT seq, instance_id, type, subject, event, created FROM outbox "
                        "WHERE seq > ? ORDER BY seq LIMIT ?",
                        p, 2, outbox_row, &w, NULL, err);
    *next_out = w.last;
    return rc;
}

static int int_row(const store_row_t *row, void *ctx)
{
    *(int64_t *)ctx = store_row_int(row, 0);
    return 0;
}

int store_outbox_last(store_txn_t *t, int64_t *seq_out, castor_err *err)
{
    *seq_out = 0;
    return store_exec(t, "SELECT coalesce(max(seq), 0) FROM outbox", NULL, 0, int_row, seq_out,
                      NULL, err);
}

int store_outbox_trim(store_txn_t *t, int64_t created_before, int limit, int64_t *deleted_out,
                      castor_err *err)
{
    int64_t last = 0, floor = 0;
    *deleted_out = 0;
    int rc = store_outbox_last(t, &last, err);
    if (rc == 0)
        rc = store_exec(t, "SELECT coalesce(min(cursor), -1) FROM event_routes", NULL, 0, int_row,
                        &floor, NULL, err);
    if (rc < 0) return rc;
    if (floor < 0 || floor > last) floor = last;
    if (floor >= last) floor = last - 1; /* the newest row stays: seqs must never be reused */
    if (floor <= 0) return CASTOR_OK;
    store_param_t p[] = {SP_I(floor), SP_I(created_before), SP_I(limit)};
    return store_exec(t,
                      "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE seq <= ? "
                      "AND created < ? ORDER BY seq LIMIT ?)",
                      p, 3, NULL, NULL, deleted_out, err);
}
