/* store_twins.c — twins, relationships and the outbox (see store_twins.h). */
#include "store/store_twins.h"

#include "store/store_engine.h"

#include <string.h>
#include <time.h>

typedef struct twin_copy {
    arena_t *arena;
    store_twin_t *out;
    int found;
} twin_copy_t;

static int twin_copy_row(const store_row_t *row, void *ctx)
{
    twin_copy_t *c = ctx;
    c->out->id = arena_strdup(c->arena, store_row_text(row, 0));
    c->out->model_id = arena_strdup(c->arena, store_row_text(row, 1));
    c->out->etag = arena_strdup(c->arena, store_row_text(row, 2));
    c->out->doc = arena_strdup(c->arena, store_row_text(row, 3));
    c->found = 1;
    return 1;
}

int store_twin_get(store_txn_t *t, const char *instance, const char *id, arena_t *arena,
                   store_twin_t *out, castor_err *err)
{
    twin_copy_t c = {arena, out, 0};
    store_param_t p[] = {SP_T(instance), SP_T(id)};
    int rc =
        store_exec(t, "SELECT id, model_id, etag, doc FROM twins WHERE instance_id = ? AND id = ?",
                   p, 2, twin_copy_row, &c, NULL, err);
    if (rc < 0) return rc;
    if (!c.found) return CASTOR_ENOTFOUND;
    if (!out->doc) return castor_err_set(err, CASTOR_ENOMEM, "out of memory reading twin %s", id);
    return CASTOR_OK;
}

int store_twin_put(store_txn_t *t, const char *instance, const store_twin_t *twin, castor_err *err)
{
    store_param_t p[] = {SP_T(instance), SP_T(twin->id), SP_T(twin->model_id), SP_T(twin->etag),
                         SP_T(twin->doc)};
    /* An upsert keeps the row (and so its rowid, a query's paging order) when replacing. */
    return store_exec(t,
                      "INSERT INTO twins (instance_id, id, model_id, etag, doc) "
                      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (instance_id, id) DO UPDATE SET "
                      "model_id = excluded.model_id, etag = excluded.etag, doc = excluded.doc",
                      p, 5, NULL, NULL, NULL, err);
}

int store_twin_replace_if(store_txn_t *t, const char *instance, const store_twin_t *twin,
                          const char *expect_etag, castor_err *err)
{
    int64_t n = 0;
    int rc;
    if (twin->model_id) {
        store_param_t p[] = {SP_T(twin->model_id), SP_T(twin->etag), SP_T(twin->doc),
                             SP_T(instance),       SP_T(twin->id),   SP_T(expect_etag)};
        rc = store_exec(t,
                        "UPDATE twins SET model_id = ?, etag = ?, doc = ? "
                        "WHERE instance_id = ? AND id = ? AND etag = ?",
                        p, 6, NULL, NULL, &n, err);
    } else {
        /* Not naming model_id spares the model index and the count trigger. */
        store_param_t p[] = {SP_T(twin->etag), SP_T(twin->doc), SP_T(instance), SP_T(twin->id),
                             SP_T(expect_etag)};
        rc = store_exec(t,
                        "UPDATE twins SET etag = ?, doc = ? "
                        "WHERE instance_id = ? AND id = ? AND etag = ?",
                        p, 5, NULL, NULL, &n, err);
    }
    if (rc < 0) return rc;
    return n ? CASTOR_OK : CASTOR_ECONFLICT;
}

int store_twin_delete(store_txn_t *t, const char *instance, const char *id, castor_err *err)
{
    store_param_t p[] = {SP_T(instance), SP_T(id)};
    int64_t n = 0;
    int rc = store_exec(t, "DELETE FROM twins WHERE instance_id = ? AND id = ?", p, 2, NULL, NULL,
                        &n, err);
    if (rc < 0) return rc;
    return n ? CASTOR_OK : CASTOR_ENOTFOUND;
}

typedef struct names_walk {
    arena_t *arena;
    const char **names;
    int max;
    int n;
} names_walk_t;

static int name_row(const store_row_t *row, void *ctx)
{
    names_walk_t *w = ctx;
    if (w->n < w->max) w->names[w->n] = arena_strdup(w->arena, store_row_text(row, 0));
    w->n++;
    return 0;
}

static int int_row(const store_row_t *row, void *ctx)
{
    *(int64_t *)ctx = store_row_int(row, 0);
    return 1;
}

int store_twins_using_model(store_txn_t *t, const char *instance_key, const char *model_id,
                            arena_t *arena, const char **names, int max, int *count_out,
                            castor_err *err)
{
    store_param_t p[] = {SP_T(instance_key), SP_T(model_id), SP_LIMIT(max)};
    names_walk_t w = {arena, names, max, 0};
    int rc = store_exec(t,
                        "SELECT t.id FROM twins t JOIN dt_instances d ON d.id = t.instance_id "
                        "WHERE d.name = ? AND t.model_id = ? ORDER BY t.rowid LIMIT ?",
                        p, 3, name_row, &w, NULL, err);
    if (rc < 0) return rc;
    int64_t total = w.n;
    if (w.n >= max) {
        rc = store_exec(t,
                        "SELECT count(*) FROM twins t JOIN dt_instances d ON d.id = t.instance_id "
                        "WHERE d.name = ? AND t.model_id = ?",
                        p, 2, int_row, &total, NULL, err);
        if (rc < 0) return rc;
    }
    *count_out = (int)total;
    return CASTOR_OK;
}

typedef struct twin_walk {
    int (*fn)(const store_twin_t *twin, void *ctx);
    void *ctx;
} twin_walk_t;

static int twin_row(const store_row_t *row, void *ctx)
{
    twin_walk_t *w = ctx;
    store_twin_t tw = {store_row_text(row, 0), store_row_text(row, 1), store_row_text(row, 2),
                       store_row_text(row, 3)};
    return w->fn(&tw, w->ctx);
}

int store_twin_each(store_txn_t *t, const char *instance,
                    int (*fn)(const store_twin_t *twin, void *ctx), void *ctx, castor_err *err)
{
    twin_walk_t w = {fn, ctx};
    store_param_t p[] = {SP_T(instance)};
    return store_exec(t,
                      "SELECT id, model_id, etag, doc FROM twins WHERE instance_id = ? "
                      "ORDER BY rowid",
                      p, 1, twin_row, &w, NULL, err);
}

int store_twin_count(store_txn_t *t, const char *instance, int64_t *out, castor_err *err)
{
    store_param_t p[] = {SP_T(instance)};
    *out = 0;
    return store_exec(t, "SELECT count(*) FROM twins WHERE instance_id = ?", p, 1, int_row, out,
                      NULL, err);
}

/* ---- relationships ---- */

#define REL_COLS "SELECT rowid, source_id, id, target_id, name, etag, doc FROM relationships "

static void rel_from_row(const store_row_t *row, store_rel_t *r)
{
    r->seq = store_row_int(row, 0);
    r->source_id = store_row_text(row, 1);
    r->id = store_row_text(row, 2);
    r->target_id = store_row_text(row, 3);
    r->name = store_row_text(row, 4);
    r->etag = store_row_text(row, 5);
    r->doc = store_row_text(row, 6);
}

typedef struct rel_copy {
    arena_t *arena;
    store_rel_t *out;
    int found;
} rel_copy_t;

static int rel_copy_row(const store_row_t *row, void *ctx)
{
    rel_copy_t *c = ctx;
    store_rel_t r;
    rel_from_row(row, &r);
    c->out->seq = r.seq;
    c->out->source_id = arena_strdup(c->arena, r.source_id);
    c->out->id = arena_strdup(c->arena, r.id);
    c->out->target_id = arena_strdup(c->arena, r.target_id);
    c->out->name = arena_strdup(c->arena, r.name);
    c->out->etag = arena_strdup(c->arena, r.etag);
    c->out->doc = arena_strdup(c->arena, r.doc);
    c->found = 1;
    return 1;
}

int store_rel_get(store_txn_t *t, const char *instance, const char *source_id, const char *id,
                  arena_t *arena, store_rel_t *out, castor_err *err)
{
    rel_copy_t c = {arena, out, 0};
    store_param_t p[] = {SP_T(instance), SP_T(source_id), SP_T(id)};
    int rc = store_exec(t, REL_COLS "WHERE instance_id = ? AND source_id = ? AND id = ?", p, 3,
                        rel_copy_row, &c, NULL, err);
    if (rc < 0) return rc;
    if (!c.found) return CASTOR_ENOTFOUND;
    if (!out->doc) return castor_err_set(err, CASTOR_ENOMEM, "out of memory reading %s", id);
    return CASTOR_OK;
}

int store_rel_put(store_txn_t *t, const char *instance, const store_rel_t *rel, castor_err *err)
{
    store_param_t p[] = {SP_T(instance),  SP_T(rel->source_id), SP_T(rel->id), SP_T(rel->target_id),
                         SP_T(rel->name), SP_T(rel->etag),      SP_T(rel->doc)};
    return store_exec(t,
                      "INSERT INTO relationships (instance_id, source_id, id, target_id, name, "
                      "etag, doc) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance_id, "
                      "source_id, id) DO UPDATE SET target_id = excluded.target_id, "
                      "name = excluded.name, etag = excluded.etag, doc = excluded.doc",
                      p, 7, NULL, NULL, NULL, err);
}

int store_rel_delete(store_txn_t *t, const char *instance, const char *source_id, const char *id,
                     castor_err *err)
{
    store_param_t p[] = {SP_T(instance), SP_T(source_id), SP_T(id)};
    int64_t n = 0;
    int rc = store_exec(t,
                        "DELETE FROM relationships WHERE instance_id = ? AND source_id = ? AND "
                        "id = ?",
                        p, 3, NULL, NULL, &n, err);
    if (rc < 0) return rc;
    return n ? CASTOR_OK : CASTOR_ENOTFOUND;
}

/* Four texts rather than "(? IS NULL OR ...)": a statement that names `id` cannot be answered
 * from relationships_source alone, and counting then fetches every relationship's row. */
int store_rel_count_out(store_txn_t *t, const char *instance, const char *source_id,
                        const char *name, const char *except_id, int64_t *out, castor_err *err)
{
    static const char *const sql[4] = {
        "SELECT count(*) FROM relationships WHERE instance_id = ? AND source_id = ?",
        "SELECT count(*) FROM relationships WHERE instance_id = ? AND source_id = ? "
        "AND name = ?",
        "SELECT count(*) FROM relationships WHERE instance_id = ? AND source_id = ? "
        "AND id <> ?",
        "SELECT count(*) FROM relationships WHERE instance_id = ? AND source_id = ? "
        "AND name = ? AND id <> ?",
    };
    store_param_t p[4] = {SP_T(instance), SP_T(source_id)};
    int n = 2;
    if (name) p[n++] = SP_T(name);
    if (except_id) p[n++] = SP_T(except_id);
    *out = 0;
    return store_exec(t, sql[(name ? 1 : 0) + (except_id ? 2 : 0)], p, n, int_row, out, NULL, err);
}

int store_rel_count_in(store_txn_t *t, const char *instance, const char *target_id, int64_t *out,
                       castor_err *err)
{
    store_param_t p[] = {SP_T(instance), SP_T(target_id)};
    *out = 0;
    return store_exec(t,
                      "SELECT count(*) FROM relationships WHERE instance_id = ? AND target_id = ?",
                      p, 2, int_row, out, NULL, err);
}

int store_twin_has_rels(store_txn_t *t, const char *instance, const char *twin_id, int *out,
                        castor_err *err)
{
    store_param_t p[] = {SP_T(instance), SP_T(twin_id), SP_T(instance), SP_T(twin_id)};
    int64_t n = 0;
    int rc = store_exec(t,
                        "SELECT EXISTS (SELECT 1 FROM relationships WHERE instance_id = ? AND "
                        "source_id = ?) OR EXISTS (SELECT 1 FROM relationships WHERE "
                        "instance_id = ? AND target_id = ?)",
                        p, 4, int_row, &n, NULL, err);
    *out = n != 0;
    return rc;
}

typedef struct rel_walk {
    int (*fn)(const store_rel_t *rel, void *ctx);
    void *ctx;
} rel_walk_t;

static int rel_row(const store_row_t *row, void *ctx)
{
    rel_walk_t *w = ctx;
    store_rel_t r;
    rel_from_row(row, &r);
    return w->fn(&r, w->ctx);
}

int store_rel_list(store_txn_t *t, const char *instance, const char *twin_id, int incoming,
                   const char *name, int64_t after, int64_t limit,
                   int (*fn)(const store_rel_t *rel, void *ctx), void *ctx, castor_err *err)
{
    rel_walk_t w = {fn, ctx};
    if (incoming) {
        store_param_t p[] = {SP_T(instance), SP_T(twin_id), SP_I(after), SP_LIMIT(limit)};
        return store_exec(t,
                          REL_COLS "WHERE instance_id = ? AND target_id = ? AND rowid > ? "
                                   "ORDER BY rowid LIMIT ?",
                          p, 4, rel_row, &w, NULL, err);
    }
    store_param_t p[] = {SP_T(instance), SP_T(twin_id), SP_T(name),
                         SP_T(name),     SP_I(after),   SP_LIMIT(limit)};
    return store_exec(
        t,
        REL_COLS
        "WHERE instance_id = ? AND source_id = ? AND (CAST(? AS TEXT) IS NULL OR name = ?) "
        "AND rowid > ? ORDER BY rowid LIMIT ?",
        p, 6, rel_row, &w, NULL, err);
}

/* ---- telemetry de-duplication ---- */

int store_telemetry_seen(store_txn_t *t, const char *instance, const char *twin_id,
                         const char *message_id, int64_t now, int64_t window, int *fresh,
                         castor_err *err)
{
    int64_t cutoff = now - window, n = 0;
    store_param_t p[] = {SP_T(instance), SP_T(twin_id), SP_T(message_id), SP_I(now), SP_I(cutoff)};
    /* A new id inserts; an expired one is renewed; a live one changes nothing (0 rows). */
    int rc = store_exec(t,
                        "INSERT INTO telemetry_ids (instance_id, twin_id, message_id, created) "
                        "VALUES (?, ?, ?, ?) ON CONFLICT (instance_id, twin_id, message_id) "
                        "DO UPDATE SET created = excluded.created WHERE telemetry_ids.created < ?",
                        p, 5, NULL, NULL, &n, err);
    if (rc < 0) return rc;
    *fresh = n != 0;
    if (!*fresh) return CASTOR_OK;
    /* Bounded work per message keeps the table near one window's worth of ids. */
    store_param_t q[] = {SP_I(cutoff)};
    return store_exec(t,
                      "DELETE FROM telemetry_ids WHERE rowid IN (SELECT rowid FROM telemetry_ids "
                      "WHERE created < ? ORDER BY created LIMIT 8)",
                      q, 1, NULL, NULL, NULL, err);
}

/* ---- outbox ---- */

int store_outbox_add(store_txn_t *t, const char *instance, const char *type, const char *subject,
                     const char *event, castor_err *err)
{
    store_param_t p[] = {SP_T(instance), SP_T(type), SP_T(subject), SP_T(event), SP_I(time(NULL))};
    return store_exec(t,
                      "INSERT INTO outbox (instance_id, type, subject, event, created) "
                      "VALUES (?, ?, ?, ?, ?)",
                      p, 5, NULL, NULL, NULL, err);
}

typedef struct ev_walk {
    int (*fn)(const store_event_t *ev, void *ctx);
    void *ctx;
} ev_walk_t;

static int ev_row(const store_row_t *row, void *ctx)
{
    ev_walk_t *w = ctx;
    store_event_t ev = {store_row_int(row, 0), store_row_text(row, 1), store_row_text(row, 2),
                        store_row_text(row, 3)};
    return w->fn(&ev, w->ctx);
}

int store_outbox_each(store_txn_t *t, const char *instance, int64_t after,
                      int (*fn)(const store_event_t *ev, void *ctx), void *ctx, castor_err *err)
{
    ev_walk_t w = {fn, ctx};
    store_param_t p[] = {SP_T(instance), SP_I(after)};
    return store_exec(t,
                      "SELECT seq, type, subject, event FROM outbox WHERE instance_id = ? AND "
                      "seq > ? ORDER BY seq",
                      p, 2, ev_row, &w, NULL, err);
}
