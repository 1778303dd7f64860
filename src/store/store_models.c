/* store_models.c — models and their reference edges, per instance (see store_models.h). */
#include "store/store_models.h"

#include "store/store_engine.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void store_models_instance_key(const char *name, char *out, size_t size)
{
    size_t i = 0;
    for (; name && name[i] && i + 1 < size; i++)
        out[i] = (char)tolower((unsigned char)name[i]);
    if (size) out[i] = '\0';
}

int store_model_insert(store_txn_t *t, const char *instance, const store_model_t *m,
                       castor_err *err)
{
    store_param_t p[] = {SP_T(instance),         SP_T(m->id),          SP_T(m->model),
                         SP_T(m->display_name),  SP_T(m->description), SP_T(m->upload_time),
                         SP_I(m->decommissioned)};
    int rc = store_exec(t,
                        "INSERT INTO models (instance, id, model, display_name, description, "
                        "upload_time, decommissioned) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        p, 7, NULL, NULL, NULL, err);
    if (rc == CASTOR_ECONFLICT) castor_err_set(err, rc, "model %s exists already", m->id);
    return rc;
}

int store_model_ref_insert(store_txn_t *t, const char *instance, const char *model_id,
                           const char *ref_id, const char *kind, castor_err *err)
{
    store_param_t p[] = {SP_T(instance), SP_T(model_id), SP_T(ref_id), SP_T(kind)};
    /* The same edge may be found twice (e.g. extends named in two forms): keep one. */
    return store_exec(t,
                      "INSERT INTO model_refs (instance, model_id, ref_id, kind) "
                      "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                      p, 4, NULL, NULL, NULL, err);
}

typedef struct model_walk {
    store_model_fn fn;
    void *ctx;
    int with_model;
    int count;
} model_walk_t;

static const char *nullable(const store_row_t *row, int col)
{
    return store_row_is_null(row, col) ? NULL : store_row_text(row, col);
}

static int model_row(const store_row_t *row, void *ctx)
{
    model_walk_t *w = ctx;
    store_model_t m = {
        .seq = store_row_int(row, 0),
        .id = store_row_text(row, 1),
        .display_name = nullable(row, 2),
        .description = nullable(row, 3),
        .upload_time = store_row_text(row, 4),
        .decommissioned = (int)store_row_int(row, 5),
        .model = w->with_model ? store_row_text(row, 6) : NULL,
    };
    w->count++;
    return w->fn ? w->fn(&m, w->ctx) : 0;
}

#define MODEL_COLS "SELECT seq, id, display_name, description, upload_time, decommissioned, "
/* Without the definition the model column is not read at all (list pages stay cheap). */

int store_model_get(store_txn_t *t, const char *instance, const char *id, int with_model,
                    store_model_fn fn, void *ctx, castor_err *err)
{
    model_walk_t w = {fn, ctx, with_model, 0};
    store_param_t p[] = {SP_T(instance), SP_T(id)};
    int rc = with_model
                 ? store_exec(t, MODEL_COLS "model FROM models WHERE instance = ? AND id = ?", p, 2,
                              model_row, &w, NULL, err)
                 : store_exec(t, MODEL_COLS "NULL FROM models WHERE instance = ? AND id = ?", p, 2,
                              model_row, &w, NULL, err);
    if (rc < 0) return rc;
    return w.count ? CASTOR_OK : CASTOR_ENOTFOUND;
}

int store_model_exists(store_txn_t *t, const char *instance, const char *id, castor_err *err)
{
    int rc = store_model_get(t, instance, id, 0, NULL, NULL, err);
    if (rc == CASTOR_ENOTFOUND) return 0;
    return rc < 0 ? rc : 1;
}

int store_model_list(store_txn_t *t, const char *instance, int64_t after_seq, int64_t limit,
                     int with_model, store_model_fn fn, void *ctx, castor_err *err)
{
    model_walk_t w = {fn, ctx, with_model, 0};
    store_param_t p[] = {SP_T(instance), SP_I(after_seq), SP_LIMIT(limit)};
    if (with_model)
        return store_exec(t,
                          MODEL_COLS "model FROM models WHERE instance = ? AND seq > ? "
                                     "ORDER BY seq LIMIT ?",
                          p, 3, model_row, &w, NULL, err);
    return store_exec(t,
                      MODEL_COLS "NULL FROM models WHERE instance = ? AND seq > ? "
                                 "ORDER BY seq LIMIT ?",
                      p, 3, model_row, &w, NULL, err);
}

static int count_row(const store_row_t *row, void *ctx)
{
    *(int64_t *)ctx = store_row_int(row, 0);
    return 0;
}

int store_model_count(store_txn_t *t, const char *instance, int64_t *out, castor_err *err)
{
    *out = 0;
    store_param_t p[] = {SP_T(instance)};
    return store_exec(t, "SELECT COUNT(*) FROM models WHERE instance = ?", p, 1, count_row, out,
                      NULL, err);
}

int store_model_set_decommissioned(store_txn_t *t, const char *instance, const char *id, int value,
                                   castor_err *err)
{
    store_param_t p[] = {SP_I(value ? 1 : 0), SP_T(instance), SP_T(id)};
    int64_t changes = 0;
    int rc = store_exec(t, "UPDATE models SET decommissioned = ? WHERE instance = ? AND id = ?", p,
                        3, NULL, NULL, &changes, err);
    if (rc < 0) return rc;
    return changes ? CASTOR_OK : CASTOR_ENOTFOUND;
}

int store_model_delete(store_txn_t *t, const char *instance, const char *id, castor_err *err)
{
    store_param_t p[] = {SP_T(instance), SP_T(id)};
    int64_t changes = 0;
    int rc = store_exec(t, "DELETE FROM models WHERE instance = ? AND id = ?", p, 2, NULL, NULL,
                        &changes, err);
    if (rc < 0) return rc;
    if (!changes) return CASTOR_ENOTFOUND;
    return store_exec(t, "DELETE FROM model_refs WHERE instance = ? AND model_id = ?", p, 2, NULL,
                      NULL, NULL, err);
}

int store_models_delete_instance(store_txn_t *t, const char *instance, castor_err *err)
{
    store_param_t p[] = {SP_T(instance)};
    int rc =
        store_exec(t, "DELETE FROM model_refs WHERE instance = ?", p, 1, NULL, NULL, NULL, err);
    if (rc == 0)
        rc = store_exec(t, "DELETE FROM models WHERE instance = ?", p, 1, NULL, NULL, NULL, err);
    /* Another node's graph of this instance name must not outlive its models. */
    return rc < 0 ? rc : store_change_bump(t, STORE_CHANGE_MODELS, err);
}

typedef struct edge_walk {
    int (*fn)(const char *id, const char *kind, void *ctx);
    void *ctx;
} edge_walk_t;

static int edge_row(const store_row_t *row, void *ctx)
{
    edge_walk_t *w = ctx;
    return w->fn(store_row_text(row, 0), store_row_text(row, 1), w->ctx);
}

int store_model_dependents(store_txn_t *t, const char *instance, const char *ref_id,
                           int (*fn)(const char *model_id, const char *kind, void *ctx), void *ctx,
                           castor_err *err)
{
    edge_walk_t w = {fn, ctx};
    store_param_t p[] = {SP_T(instance), SP_T(ref_id)};
    return store_exec(t,
                      "SELECT model_id, kind FROM model_refs WHERE instance = ? AND ref_id = ? "
                      "ORDER BY model_id, kind",
                      p, 2, edge_row, &w, NULL, err);
}

int store_model_refs(store_txn_t *t, const char *instance, const char *model_id,
                     int (*fn)(const char *ref_id, const char *kind, void *ctx), void *ctx,
                     castor_err *err)
{
    edge_walk_t w = {fn, ctx};
    store_param_t p[] = {SP_T(instance), SP_T(model_id)};
    return store_exec(t,
                      "SELECT ref_id, kind FROM model_refs WHERE instance = ? AND model_id = ? "
                      "ORDER BY ref_id, kind",
                      p, 2, edge_row, &w, NULL, err);
}
