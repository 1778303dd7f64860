/* store_arm.c — the resource manager's records (see store_arm.h). */
#include "store/store_copy.h"
#include "store/store_arm.h"
#include "store/store_engine.h"

#include <stdio.h>
#include <stdlib.h>
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

/* Every change to role assignments or definitions counts up the RBAC change number in its own
 * transaction, so a castor node sharing the store (PostgreSQL) sees that its RBAC snapshot is
 * stale on its next request (store_changes_poll, store_rbac_generation). */
static int rbac_bump(store_txn_t *t, int rc, castor_err *err)
{
    if (rc < 0) return rc;
    return store_change_bump(t, STORE_CHANGE_RBAC, err);
}

static int gen_row(const store_row_t *row, void *ctx)
{
    *(int64_t *)ctx = store_row_int(row, 0);
    return 0;
}

int store_rbac_generation(store_txn_t *t, int64_t *gen_out, castor_err *err)
{
    *gen_out = 0;
    return store_exec(t, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'rbac.generation'",
                      NULL, 0, gen_row, gen_out, NULL, err);
}

int store_role_assignment_create(store_txn_t *t, const store_role_assignment_t *ra, castor_err *err)
{
    store_param_t p[] = {SP_T(ra->id),
                         SP_T(ra->scope),
                         SP_T(ra->principal_id),
                         SP_T(ra->principal_type),
                         SP_T(ra->role_definition_id),
                         SP_T(ra->created_by),
                         SP_I(ra->created),
                         SP_T(ra->description)};
    int rc = store_exec(t,
                        "INSERT INTO role_assignments (id, scope, principal_id, principal_type, "
                        "role_definition_id, created_by, created, description) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        p, 8, NULL, NULL, NULL, err);
    if (rc == CASTOR_ECONFLICT) castor_err_set(err, rc, "The role assignment already exists.");
    return rbac_bump(t, rc, err);
}

#define RA_COLS                                                                                    \
    "SELECT id, scope, principal_id, principal_type, role_definition_id, created_by, created, "    \
    "description FROM role_assignments "

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
    STORE_COPY(ra.description, row, 7);
    return w->fn(&ra, w->ctx);
}

int store_role_assignment_each(store_txn_t *t,
                               int (*fn)(const store_role_assignment_t *ra, void *ctx), void *ctx,
                               castor_err *err)
{
    ra_walk_t w = {fn, ctx};
    return store_exec(t, RA_COLS "ORDER BY seq", NULL, 0, ra_one, &w, NULL, err);
}

static int ra_copy(const store_role_assignment_t *ra, void *ctx)
{
    *(store_role_assignment_t *)ctx = *ra;
    return 1;
}

int store_role_assignment_get(store_txn_t *t, const char *id, store_role_assignment_t *out,
                              castor_err *err)
{
    memset(out, 0, sizeof *out);
    ra_walk_t w = {ra_copy, out};
    store_param_t p[] = {SP_T(id)};
    int rc = store_exec(t, RA_COLS "WHERE id = ?", p, 1, ra_one, &w, NULL, err);
    if (rc < 0) return rc;
    if (!out->id[0])
        return castor_err_set(err, CASTOR_ENOTFOUND, "no role assignment named %s", id);
    return CASTOR_OK;
}

int store_role_assignment_delete(store_txn_t *t, const char *id, castor_err *err)
{
    int64_t changes = 0;
    store_param_t p[] = {SP_T(id)};
    int rc =
        store_exec(t, "DELETE FROM role_assignments WHERE id = ?", p, 1, NULL, NULL, &changes, err);
    if (rc < 0) return rc;
    if (!changes) return castor_err_set(err, CASTOR_ENOTFOUND, "no role assignment named %s", id);
    return rbac_bump(t, CASTOR_OK, err);
}

static int count_one(const store_row_t *row, void *ctx)
{
    *(int *)ctx = (int)store_row_int(row, 0);
    return 0;
}

int store_role_assignment_count(store_txn_t *t, const char *scope, const char *role_definition_id,
                                int *count_out, castor_err *err)
{
    *count_out = 0;
    store_param_t p[] = {SP_T(scope), SP_T(role_definition_id)};
    return store_exec(t,
                      "SELECT count(*) FROM role_assignments WHERE scope = ? "
                      "AND role_definition_id = ?",
                      p, 2, count_one, count_out, NULL, err);
}

/* "At or below scope" on segment boundaries, without LIKE (resource names may hold '_'). */
#define UNDER_SCOPE "(scope = ? OR substr(scope, 1, length(?) + 1) = (? || '/') COLLATE NOCASE)"

int store_role_assignment_delete_under(store_txn_t *t, const char *scope, castor_err *err)
{
    store_param_t p[] = {SP_T(scope), SP_T(scope), SP_T(scope)};
    int rc = store_exec(t, "DELETE FROM role_assignments WHERE " UNDER_SCOPE, p, 3, NULL, NULL,
                        NULL, err);
    return rbac_bump(t, rc, err);
}

/* ---- resource groups ---- */

#define RG_COLS "SELECT subscription_id, name, location, tags, created FROM resource_groups "

typedef struct rg_walk {
    int (*fn)(const store_resource_group_t *rg, void *ctx);
    void *ctx;
} rg_walk_t;

static int rg_one(const store_row_t *row, void *ctx)
{
    rg_walk_t *w = ctx;
    store_resource_group_t *rg = malloc(sizeof *rg);
    if (!rg) return 1;
    memset(rg, 0, sizeof *rg);
    STORE_COPY(rg->subscription_id, row, 0);
    STORE_COPY(rg->name, row, 1);
    STORE_COPY(rg->location, row, 2);
    STORE_COPY(rg->tags, row, 3);
    rg->created = store_row_int(row, 4);
    int stop = w->fn(rg, w->ctx);
    free(rg);
    return stop;
}

int store_resource_group_put(store_txn_t *t, const store_resource_group_t *rg, int *created_out,
                             castor_err *err)
{
    int64_t changes = 0;
    store_param_t u[] = {SP_T(rg->tags), SP_T(rg->subscription_id), SP_T(rg->name)};
    /* The location of an existing group never changes (ARM refuses a move); tags do. */
    int rc =
        store_exec(t, "UPDATE resource_groups SET tags = ? WHERE subscription_id = ? AND name = ?",
                   u, 3, NULL, NULL, &changes, err);
    if (rc < 0) return rc;
    if (created_out) *created_out = changes == 0;
    if (changes) return CASTOR_OK;
    store_param_t p[] = {SP_T(rg->subscription_id), SP_T(rg->name), SP_T(rg->location),
                         SP_T(rg->tags), SP_I(rg->created)};
    return store_exec(
        t,
        "INSERT INTO resource_groups (subscription_id, name, location, tags, created) "
        "VALUES (?, ?, ?, ?, ?)",
        p, 5, NULL, NULL, NULL, err);
}

static int rg_copy(const store_resource_group_t *rg, void *ctx)
{
    memcpy(ctx, rg, sizeof *rg);
    return 1;
}

int store_resource_group_get(store_txn_t *t, const char *subscription_id, const char *name,
                             store_resource_group_t *out, castor_err *err)
{
    memset(out, 0, sizeof *out);
    rg_walk_t w = {rg_copy, out};
    store_param_t p[] = {SP_T(subscription_id), SP_T(name)};
    int rc = store_exec(t, RG_COLS "WHERE subscription_id = ? AND name = ?", p, 2, rg_one, &w, NULL,
                        err);
    if (rc < 0) return rc;
    if (!out->name[0])
        return castor_err_set(err, CASTOR_ENOTFOUND, "Resource group '%s' could not be found.",
                              name);
    return CASTOR_OK;
}

int store_resource_group_each(store_txn_t *t, const char *subscription_id,
                              int (*fn)(const store_resource_group_t *rg, void *ctx), void *ctx,
                              castor_err *err)
{
    rg_walk_t w = {fn, ctx};
    store_param_t p[] = {SP_T(subscription_id)};
    return store_exec(t, RG_COLS "WHERE subscription_id = ? ORDER BY name", p, 1, rg_one, &w, NULL,
                      err);
}

int store_resource_group_delete(store_txn_t *t, const char *subscription_id, const char *name,
                                castor_err *err)
{
    char scope[STORE_SCOPE_MAX];
    snprintf(scope, sizeof scope, "/subscriptions/%s/resourceGroups/%s", subscription_id, name);
    store_param_t p[] = {SP_T(subscription_id), SP_T(name)};
    int rc = store_exec(t,
                        "DELETE FROM dt_instances WHERE subscription_id = ? AND "
                        "resource_group = ?",
                        p, 2, NULL, NULL, NULL, err);
    if (rc == 0) rc = store_role_assignment_delete_under(t, scope, err);
    int64_t changes = 0;
    if (rc == 0)
        rc = store_exec(t, "DELETE FROM resource_groups WHERE subscription_id = ? AND name = ?", p,
                        2, NULL, NULL, &changes, err);
    if (rc < 0) return rc;
    if (!changes)
        return castor_err_set(err, CASTOR_ENOTFOUND, "Resource group '%s' could not be found.",
                              name);
    /* Its instances and their models went with it: nodes forget their name lookups and
     * model graphs. */
    rc = store_change_bump(t, STORE_CHANGE_INSTANCES, err);
    return rc < 0 ? rc : store_change_bump(t, STORE_CHANGE_MODELS, err);
}

/* ---- Digital Twins instances ---- */

#define DT_COLS                                                                                    \
    "SELECT id, name, subscription_id, resource_group, location, tags, public_network_access, "    \
    "provisioning_state, created_by, created, updated FROM dt_instances "

typedef struct dt_walk {
    int (*fn)(const store_dt_instance_t *inst, void *ctx);
    void *ctx;
} dt_walk_t;

static int dt_one(const store_row_t *row, void *ctx)
{
    dt_walk_t *w = ctx;
    store_dt_instance_t *d = malloc(sizeof *d);
    if (!d) return 1;
    memset(d, 0, sizeof *d);
    STORE_COPY(d->id, row, 0);
    STORE_COPY(d->name, row, 1);
    STORE_COPY(d->subscription_id, row, 2);
    STORE_COPY(d->resource_group, row, 3);
    STORE_COPY(d->location, row, 4);
    STORE_COPY(d->tags, row, 5);
    STORE_COPY(d->public_network_access, row, 6);
    STORE_COPY(d->provisioning_state, row, 7);
    STORE_COPY(d->created_by, row, 8);
    d->created = store_row_int(row, 9);
    d->updated = store_row_int(row, 10);
    int stop = w->fn(d, w->ctx);
    free(d);
    return stop;
}

int store_dt_instance_create(store_txn_t *t, const store_dt_instance_t *d, castor_err *err)
{
    store_param_t p[] = {SP_T(d->id),
                         SP_T(d->name),
                         SP_T(d->subscription_id),
                         SP_T(d->resource_group),
                         SP_T(d->location),
                         SP_T(d->tags),
                         SP_T(d->public_network_access),
                         SP_T(d->provisioning_state),
                         SP_T(d->created_by),
                         SP_I(d->created),
                         SP_I(d->updated)};
    int rc = store_exec(t,
                        "INSERT INTO dt_instances (id, name, subscription_id, resource_group, "
                        "location, tags, public_network_access, provisioning_state, created_by, "
                        "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        p, 11, NULL, NULL, NULL, err);
    if (rc == CASTOR_ECONFLICT)
        castor_err_set(err, rc, "an Azure Digital Twins instance named '%s' exists already",
                       d->name);
    return rc;
}

int store_dt_instance_update(store_txn_t *t, const store_dt_instance_t *d, castor_err *err)
{
    int64_t changes = 0;
    store_param_t p[] = {SP_T(d->tags), SP_T(d->public_network_access), SP_T(d->provisioning_state),
                         SP_I(d->updated), SP_T(d->id)};
    int rc = store_exec(t,
                        "UPDATE dt_instances SET tags = ?, public_network_access = ?, "
                        "provisioning_state = ?, updated = ? WHERE id = ?",
                        p, 5, NULL, NULL, &changes, err);
    if (rc < 0) return rc;
    if (!changes) return castor_err_set(err, CASTOR_ENOTFOUND, "no instance %s", d->name);
    return CASTOR_OK;
}

static int dt_copy(const store_dt_instance_t *d, void *ctx)
{
    memcpy(ctx, d, sizeof *d);
    return 1;
}

int store_dt_instance_get(store_txn_t *t, const char *name, store_dt_instance_t *out,
                          castor_err *err)
{
    memset(out, 0, sizeof *out);
    dt_walk_t w = {dt_copy, out};
    store_param_t p[] = {SP_T(name)};
    int rc = store_exec(t, DT_COLS "WHERE name = ?", p, 1, dt_one, &w, NULL, err);
    if (rc < 0) return rc;
    if (!out->id[0])
        return castor_err_set(err, CASTOR_ENOTFOUND,
                              "No Azure Digital Twins instance named '%s' exists.", name);
    return CASTOR_OK;
}

int store_dt_instance_each(store_txn_t *t, const char *subscription_id, const char *group,
                           int (*fn)(const store_dt_instance_t *inst, void *ctx), void *ctx,
                           castor_err *err)
{
    dt_walk_t w = {fn, ctx};
    store_param_t p[] = {SP_T(subscription_id), SP_T(subscription_id), SP_T(group), SP_T(group)};
    return store_exec(t,
                      DT_COLS "WHERE (CAST(? AS TEXT) IS NULL OR subscription_id = ?) AND "
                              "(CAST(? AS TEXT) IS NULL OR resource_group = ?) ORDER BY name",
                      p, 4, dt_one, &w, NULL, err);
}

int store_dt_instance_delete(store_txn_t *t, const char *id, castor_err *err)
{
    store_dt_instance_t *d = malloc(sizeof *d);
    if (!d) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    memset(d, 0, sizeof *d);
    dt_walk_t w = {dt_copy, d};
    store_param_t p[] = {SP_T(id)};
    int rc = store_exec(t, DT_COLS "WHERE id = ?", p, 1, dt_one, &w, NULL, err);
    if (rc == 0 && !d->id[0]) rc = castor_err_set(err, CASTOR_ENOTFOUND, "no instance %s", id);
    if (rc == 0) {
        char scope[STORE_SCOPE_MAX];
        snprintf(scope, sizeof scope,
                 "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.DigitalTwins/"
                 "digitalTwinsInstances/%s",
                 d->subscription_id, d->resource_group, d->name);
        rc = store_role_assignment_delete_under(t, scope, err);
    }
    if (rc == 0)
        rc = store_exec(t, "DELETE FROM dt_instances WHERE id = ?", p, 1, NULL, NULL, NULL, err);
    /* Its models went with it (schema_models.c's trigger): nodes forget the instance's name
     * lookup and model graph. */
    if (rc == 0) rc = store_change_bump(t, STORE_CHANGE_INSTANCES, err);
    if (rc == 0) rc = store_change_bump(t, STORE_CHANGE_MODELS, err);
    free(d);
    return rc;
}

/* ---- custom role definitions ---- */

void store_role_definition_clear(store_role_definition_t *def)
{
    free(def->permissions);
    free(def->assignable_scopes);
    def->permissions = def->assignable_scopes = NULL;
}

int store_role_definition_put(store_txn_t *t, const store_role_definition_t *d, castor_err *err)
{
    store_param_t p[] = {SP_T(d->id),
                         SP_T(d->role_name),
                         SP_T(d->description),
                         SP_T(d->permissions),
                         SP_T(d->assignable_scopes),
                         SP_T(d->created_by),
                         SP_I(d->created),
                         SP_I(d->updated)};
    int rc = store_exec(t,
                        "INSERT INTO role_definitions (id, role_name, description, permissions, "
                        "assignable_scopes, created_by, created, updated) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                        "role_name = excluded.role_name, description = excluded.description, "
                        "permissions = excluded.permissions, "
                        "assignable_scopes = excluded.assignable_scopes, "
                        "updated = excluded.updated",
                        p, 8, NULL, NULL, NULL, err);
    if (rc == CASTOR_ECONFLICT)
        castor_err_set(err, rc, "A role definition named '%s' exists already.", d->role_name);
    return rbac_bump(t, rc, err);
}

typedef struct rd_walk {
    int (*fn)(const store_role_definition_t *def, void *ctx);
    void *ctx;
} rd_walk_t;

static int rd_one(const store_row_t *row, void *ctx)
{
    rd_walk_t *w = ctx;
    store_role_definition_t d;
    memset(&d, 0, sizeof d);
    STORE_COPY(d.id, row, 0);
    STORE_COPY(d.role_name, row, 1);
    STORE_COPY(d.description, row, 2);
    d.permissions = strdup(store_row_text(row, 3));
    d.assignable_scopes = strdup(store_row_text(row, 4));
    STORE_COPY(d.created_by, row, 5);
    d.created = store_row_int(row, 6);
    d.updated = store_row_int(row, 7);
    int stop = d.permissions && d.assignable_scopes ? w->fn(&d, w->ctx) : 1;
    store_role_definition_clear(&d);
    return stop;
}

int store_role_definition_each(store_txn_t *t,
                               int (*fn)(const store_role_definition_t *def, void *ctx), void *ctx,
                               castor_err *err)
{
    rd_walk_t w = {fn, ctx};
    return store_exec(t,
                      "SELECT id, role_name, description, permissions, assignable_scopes, "
                      "created_by, created, updated FROM role_definitions ORDER BY created, id",
                      NULL, 0, rd_one, &w, NULL, err);
}

int store_role_definition_delete(store_txn_t *t, const char *id, castor_err *err)
{
    int64_t changes = 0;
    store_param_t p[] = {SP_T(id)};
    int rc =
        store_exec(t, "DELETE FROM role_definitions WHERE id = ?", p, 1, NULL, NULL, &changes, err);
    if (rc < 0) return rc;
    if (!changes) return castor_err_set(err, CASTOR_ENOTFOUND, "no role definition %s", id);
    return rbac_bump(t, CASTOR_OK, err);
}

/* ---- long-running operations ---- */

int store_arm_operation_create(store_txn_t *t, const store_arm_operation_t *op, castor_err *err)
{
    store_param_t p[] = {SP_T(op->id),     SP_T(op->subscription_id), SP_T(op->resource_id),
                         SP_T(op->status), SP_T(op->error_code),      SP_T(op->error_message),
                         SP_I(op->created)};
    return store_exec(t,
                      "INSERT INTO arm_operations (id, subscription_id, resource_id, status, "
                      "error_code, error_message, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      p, 7, NULL, NULL, NULL, err);
}

static int op_one(const store_row_t *row, void *ctx)
{
    store_arm_operation_t *op = ctx;
    STORE_COPY(op->id, row, 0);
    STORE_COPY(op->subscription_id, row, 1);
    STORE_COPY(op->resource_id, row, 2);
    STORE_COPY(op->status, row, 3);
    STORE_COPY(op->error_code, row, 4);
    STORE_COPY(op->error_message, row, 5);
    op->created = store_row_int(row, 6);
    return 1;
}

int store_arm_operation_get(store_txn_t *t, const char *id, store_arm_operation_t *out,
                            castor_err *err)
{
    memset(out, 0, sizeof *out);
    store_param_t p[] = {SP_T(id)};
    int rc = store_exec(t,
                        "SELECT id, subscription_id, resource_id, status, error_code, "
                        "error_message, created FROM arm_operations WHERE id = ?",
                        p, 1, op_one, out, NULL, err);
    if (rc < 0) return rc;
    if (!out->id[0]) return castor_err_set(err, CASTOR_ENOTFOUND, "no operation %s", id);
    return CASTOR_OK;
}
