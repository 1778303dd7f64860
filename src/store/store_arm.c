/* store_arm.c — subscriptions and role assignments (see store.h). */
#include "store/store_copy.h"
#include "store/store_arm.h"
#include "store/store_engine.h"

#include <string.h>

#define SUB_COLS "SELECT id, tenant_id, display_name, state, created FROM subscriptions "

static int sub_one(const store_row_t *row, void *ctx)
{
    store_collect_t *c = ctx;
    if (c->count < c->max) {
        store_subscription_t *s = (store_subscription_t *)c->out + c->count;
        memset(s, 0, sizeof *s);
        STORE_COPY(s->id, row, 0);
        STORE_COPY(s->tenant_id, row, 1);
        STORE_COPY(s->display_name, row, 2);
        STORE_COPY(s->state, row, 3);
        s->created = store_row_int(row, 4);
    }
    c->count++;
    return 0;
}

int store_subscription_create(store_txn_t *t, const store_subscription_t *s, castor_err *err)
{
    store_param_t p[] = {SP_T(s->id), SP_T(s->tenant_id), SP_T(s->display_name), SP_T(s->state),
                         SP_I(s->created)};
    int rc = store_exec(t,
                        "INSERT INTO subscriptions (id, tenant_id, display_name, state, created) "
                        "VALUES (?, ?, ?, ?, ?)",
                        p, 5, NULL, NULL, NULL, err);
    if (rc == CASTOR_ECONFLICT) castor_err_set(err, rc, "subscription %s exists already", s->id);
    return rc;
}

int store_subscription_get(store_txn_t *t, const char *id, store_subscription_t *out,
                           castor_err *err)
{
    store_collect_t c = {out, 1, 0};
    store_param_t p[] = {SP_T(id)};
    int rc = store_exec(t, SUB_COLS "WHERE id = ?", p, 1, sub_one, &c, NULL, err);
    if (rc < 0) return rc;
    if (!c.count) return castor_err_set(err, CASTOR_ENOTFOUND, "no subscription %s", id);
    return CASTOR_OK;
}

int store_subscription_list(store_txn_t *t, store_subscription_t *out, int max, int *count_out,
                            castor_err *err)
{
    store_collect_t c = {out, max, 0};
    int rc = store_exec(t, SUB_COLS "ORDER BY created, id", NULL, 0, sub_one, &c, NULL, err);
    *count_out = c.count;
    return rc;
}

int store_role_assignment_create(store_txn_t *t, const store_role_assignment_t *ra,
                                 castor_err *err)
{
    store_param_t p[] = {SP_T(ra->id),           SP_T(ra->scope),
                         SP_T(ra->principal_id), SP_T(ra->principal_type),
                         SP_T(ra->role_definition_id), SP_T(ra->created_by),
                         SP_I(ra->created)};
    int rc = store_exec(t,
                        "INSERT INTO role_assignments (id, scope, principal_id, principal_type, "
                        "role_definition_id, created_by, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        p, 7, NULL, NULL, NULL, err);
    if (rc == CASTOR_ECONFLICT)
        castor_err_set(err, rc, "The role assignment already exists.");
    return rc;
}

typedef struct ra_walk {
    int (*fn)(const store_role_assignment_t *ra, void *ctx);
    void *ctx;
} ra_walk_t;

static int ra_one(const store_row_t *row, void *ctx)
{
    ra_walk_t *w = ctx;
    store_role_assignment_t ra;
    memset(&ra, 0, sizeof ra);
    STORE_COPY(ra.id, row, 0);
    STORE_COPY(ra.scope, row, 1);
    STORE_COPY(ra.principal_id, row, 2);
    STORE_COPY(ra.principal_type, row, 3);
    STORE_COPY(ra.role_definition_id, row, 4);
    STORE_COPY(ra.created_by, row, 5);
    ra.created = store_row_int(row, 6);
    return w->fn(&ra, w->ctx);
}

int store_role_assignment_each(store_txn_t *t,
                               int (*fn)(const store_role_assignment_t *ra, void *ctx), void *ctx,
                               castor_err *err)
{
    ra_walk_t w = {fn, ctx};
    return store_exec(t,
                      "SELECT id, scope, principal_id, principal_type, role_definition_id, "
                      "created_by, created FROM role_assignments ORDER BY seq",
                      NULL, 0, ra_one, &w, NULL, err);
}
