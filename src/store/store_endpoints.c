/* store_endpoints.c — event endpoints of Digital Twins instances (see store_endpoints.h). */
#include "store/store_endpoints.h"
#include "store/store_copy.h"
#include "store/store_engine.h"

#include <stdlib.h>
#include <string.h>

#define EP_COLS                                                                                    \
    "SELECT instance_id, name, type, state, created, properties, secrets, created_by, updated, "   \
    "updated_by FROM dt_endpoints "

void store_endpoint_clear(store_endpoint_t *ep)
{
    free(ep->properties);
    free(ep->secrets);
    ep->properties = ep->secrets = NULL;
}

int store_endpoint_put(store_txn_t *t, const store_endpoint_t *ep, castor_err *err)
{
    const char *props = ep->properties ? ep->properties : "{}";
    const char *secrets = ep->secrets ? ep->secrets : "{}";
    store_param_t p[] = {
        SP_T(ep->instance_id), SP_T(ep->name),       SP_T(ep->type),
        SP_T(ep->state),       SP_I(ep->created),    SP_T(props),
        SP_T(secrets),         SP_T(ep->created_by), SP_I(ep->updated ? ep->updated : ep->created),
        SP_T(ep->updated_by)};
    /* An upsert keeps the name's original case, its creation time and creator, as ARM does on a
     * PUT that updates an existing resource. */
    int rc = store_change_bump(t, STORE_CHANGE_ROUTES, err);
    if (rc < 0) return rc;
    return store_exec(t,
                      "INSERT INTO dt_endpoints (instance_id, name, type, state, created, "
                      "properties, secrets, created_by, updated, updated_by) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                      "ON CONFLICT (instance_id, name) DO UPDATE SET type = excluded.type, "
                      "state = excluded.state, properties = excluded.properties, "
                      "secrets = excluded.secrets, updated = excluded.updated, "
                      "updated_by = excluded.updated_by",
                      p, 10, NULL, NULL, NULL, err);
}

typedef struct ep_walk {
    int (*fn)(const store_endpoint_t *ep, void *ctx);
    void *ctx;
    int oom;
} ep_walk_t;

static int ep_one(const store_row_t *row, void *ctx)
{
    ep_walk_t *w = ctx;
    store_endpoint_t ep;
    memset(&ep, 0, sizeof ep);
    STORE_COPY(ep.instance_id, row, 0);
    STORE_COPY(ep.name, row, 1);
    STORE_COPY(ep.type, row, 2);
    STORE_COPY(ep.state, row, 3);
    ep.created = store_row_int(row, 4);
    ep.properties = strdup(store_row_text(row, 5));
    ep.secrets = strdup(store_row_text(row, 6));
    STORE_COPY(ep.created_by, row, 7);
    ep.updated = store_row_int(row, 8);
    STORE_COPY(ep.updated_by, row, 9);
    int stop = 1;
    if (ep.properties && ep.secrets)
        stop = w->fn(&ep, w->ctx);
    else
        w->oom = 1;
    store_endpoint_clear(&ep);
    return stop;
}

static int walk_end(const ep_walk_t *w, int rc, castor_err *err)
{
    if (rc == 0 && w->oom) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    return rc;
}

/* Moves the walked record into the caller's (its heap fields change owner). */
static int ep_take(const store_endpoint_t *ep, void *ctx)
{
    store_endpoint_t *out = ctx;
    *out = *ep;
    out->properties = strdup(ep->properties);
    out->secrets = strdup(ep->secrets);
    return 1;
}

int store_endpoint_get(store_txn_t *t, const char *instance_id, const char *name,
                       store_endpoint_t *out, castor_err *err)
{
    memset(out, 0, sizeof *out);
    ep_walk_t w = {ep_take, out, 0};
    store_param_t p[] = {SP_T(instance_id), SP_T(name)};
    int rc =
        store_exec(t, EP_COLS "WHERE instance_id = ? AND name = ?", p, 2, ep_one, &w, NULL, err);
    rc = walk_end(&w, rc, err);
    if (rc < 0) return rc;
    if (!out->name[0])
        return castor_err_set(err, CASTOR_ENOTFOUND, "The endpoint '%s' could not be found.", name);
    if (!out->properties || !out->secrets) {
        store_endpoint_clear(out);
        return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    }
    return CASTOR_OK;
}

int store_endpoint_each(store_txn_t *t, const char *instance_id,
                        int (*fn)(const store_endpoint_t *ep, void *ctx), void *ctx,
                        castor_err *err)
{
    ep_walk_t w = {fn, ctx, 0};
    store_param_t p[] = {SP_T(instance_id), SP_T(instance_id)};
    int rc = store_exec(
        t, EP_COLS "WHERE (CAST(? AS TEXT) IS NULL OR instance_id = ?) ORDER BY name, instance_id",
        p, 2, ep_one, &w, NULL, err);
    return walk_end(&w, rc, err);
}

static int count_one(const store_row_t *row, void *ctx)
{
    *(int *)ctx = (int)store_row_int(row, 0);
    return 0;
}

int store_endpoint_count(store_txn_t *t, const char *instance_id, int *count_out, castor_err *err)
{
    *count_out = 0;
    store_param_t p[] = {SP_T(instance_id)};
    return store_exec(t, "SELECT count(*) FROM dt_endpoints WHERE instance_id = ?", p, 1, count_one,
                      count_out, NULL, err);
}

int store_endpoint_delete(store_txn_t *t, const char *instance_id, const char *name,
                          castor_err *err)
{
    int64_t changes = 0;
    store_param_t p[] = {SP_T(instance_id), SP_T(name)};
    int rc = store_exec(t, "DELETE FROM dt_endpoints WHERE instance_id = ? AND name = ?", p, 2,
                        NULL, NULL, &changes, err);
    if (rc < 0) return rc;
    if (!changes)
        return castor_err_set(err, CASTOR_ENOTFOUND, "The endpoint '%s' could not be found.", name);
    return store_change_bump(t, STORE_CHANGE_ROUTES, err);
}
