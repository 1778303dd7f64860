/* store_directory.c — tenants and users (see store.h). */
#include "store/store_copy.h"
#include "store/store_directory.h"
#include "store/store_engine.h"

#include <string.h>

static void tenant_from_row(const store_row_t *row, store_tenant_t *t)
{
    memset(t, 0, sizeof *t);
    STORE_COPY(t->id, row, 0);
    STORE_COPY(t->domain, row, 1);
    STORE_COPY(t->display_name, row, 2);
    t->created = store_row_int(row, 3);
}

static int tenant_one(const store_row_t *row, void *ctx)
{
    store_collect_t *c = ctx;
    if (c->count < c->max) tenant_from_row(row, (store_tenant_t *)c->out + c->count);
    c->count++;
    return 0;
}

#define TENANT_COLS "SELECT id, domain, display_name, created FROM tenants "

int store_tenant_create(store_txn_t *t, const store_tenant_t *tenant, castor_err *err)
{
    store_param_t p[] = {SP_T(tenant->id), SP_T(tenant->domain), SP_T(tenant->display_name),
                         SP_I(tenant->created)};
    int rc = store_exec(t,
                        "INSERT INTO tenants (id, domain, display_name, created) "
                        "VALUES (?, ?, ?, ?)",
                        p, 4, NULL, NULL, NULL, err);
    if (rc == CASTOR_ECONFLICT)
        castor_err_set(err, rc, "a tenant with id %s or domain %s exists already", tenant->id,
                       tenant->domain);
    return rc;
}

int store_tenant_get(store_txn_t *t, const char *id, store_tenant_t *out, castor_err *err)
{
    store_collect_t c = {out, 1, 0};
    store_param_t p[] = {SP_T(id)};
    int rc = store_exec(t, TENANT_COLS "WHERE id = ?", p, 1, tenant_one, &c, NULL, err);
    if (rc < 0) return rc;
    if (!c.count) return castor_err_set(err, CASTOR_ENOTFOUND, "no tenant %s", id);
    return CASTOR_OK;
}

int store_tenant_list(store_txn_t *t, store_tenant_t *out, int max, int *count_out,
                      castor_err *err)
{
    store_collect_t c = {out, max, 0};
    int rc = store_exec(t, TENANT_COLS "ORDER BY created, id", NULL, 0, tenant_one, &c, NULL, err);
    *count_out = c.count;
    return rc;
}

#define USER_COLS                                                                                  \
    "SELECT id, tenant_id, upn, display_name, password_hash, enabled, failed_signins, "           \
    "locked_until, created FROM users "

static int user_one(const store_row_t *row, void *ctx)
{
    store_collect_t *c = ctx;
    if (c->count < c->max) {
        store_user_t *u = (store_user_t *)c->out + c->count;
        memset(u, 0, sizeof *u);
        STORE_COPY(u->id, row, 0);
        STORE_COPY(u->tenant_id, row, 1);
        STORE_COPY(u->upn, row, 2);
        STORE_COPY(u->display_name, row, 3);
        STORE_COPY(u->password_hash, row, 4);
        u->enabled = (int)store_row_int(row, 5);
        u->failed_signins = (int)store_row_int(row, 6);
        u->locked_until = store_row_int(row, 7);
        u->created = store_row_int(row, 8);
    }
    c->count++;
    return 0;
}

int store_user_create(store_txn_t *t, const store_user_t *u, castor_err *err)
{
    store_param_t p[] = {SP_T(u->id),           SP_T(u->tenant_id),     SP_T(u->upn),
                         SP_T(u->display_name), SP_T(u->password_hash), SP_I(u->enabled),
                         SP_I(u->created)};
    int rc = store_exec(t,
                        "INSERT INTO users (id, tenant_id, upn, display_name, password_hash, "
                        "enabled, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        p, 7, NULL, NULL, NULL, err);
    if (rc == CASTOR_ECONFLICT)
        castor_err_set(err, rc, "a user with user principal name %s exists already", u->upn);
    return rc;
}

int store_user_get(store_txn_t *t, const char *id, store_user_t *out, castor_err *err)
{
    store_collect_t c = {out, 1, 0};
    store_param_t p[] = {SP_T(id)};
    int rc = store_exec(t, USER_COLS "WHERE id = ?", p, 1, user_one, &c, NULL, err);
    if (rc < 0) return rc;
    if (!c.count) return castor_err_set(err, CASTOR_ENOTFOUND, "no user with object id %s", id);
    return CASTOR_OK;
}

int store_user_get_by_upn(store_txn_t *t, const char *tenant_id, const char *upn,
                          store_user_t *out, castor_err *err)
{
    store_collect_t c = {out, 1, 0};
    store_param_t p[] = {SP_T(tenant_id), SP_T(upn)};
    int rc = store_exec(t, USER_COLS "WHERE tenant_id = ? AND upn = ?", p, 2, user_one, &c, NULL,
                        err);
    if (rc < 0) return rc;
    if (!c.count) return castor_err_set(err, CASTOR_ENOTFOUND, "no user %s in tenant %s", upn,
                                        tenant_id);
    return CASTOR_OK;
}

int store_user_set_password(store_txn_t *t, const char *id, const char *password_hash,
                            castor_err *err)
{
    store_param_t p[] = {SP_T(password_hash), SP_T(id)};
    int64_t changed = 0;
    int rc = store_exec(t,
                        "UPDATE users SET password_hash = ?, failed_signins = 0, locked_until = 0 "
                        "WHERE id = ?",
                        p, 2, NULL, NULL, &changed, err);
    if (rc == 0 && changed == 0)
        return castor_err_set(err, CASTOR_ENOTFOUND, "no user with object id %s", id);
    return rc;
}
