/* arm_subs.c — tenants, subscriptions, resource groups and the generic resource list
 * (Microsoft.Resources), in the shapes az 2.45 and the SDKs read. */
#include "arm/arm_internal.h"

#include "core/timeutil.h"
#include "store/store_directory.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TENANTS_MAX 64
#define SUBSCRIPTIONS_MAX 256

int arm_h_tenants_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const access_principal_t *c = req->caller;
    store_tenant_t *tenants = calloc(TENANTS_MAX, sizeof *tenants);
    if (!tenants) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    store_txn_t *t;
    int n = 0, rc = arm_begin(req, STORE_READ, &t, err);
    if (rc == 0) rc = store_tenant_list(t, tenants, TENANTS_MAX, &n, err);
    if (t) store_rollback(t);
    json_t *items = json_array();
    for (int i = 0; rc == 0 && i < n && i < TENANTS_MAX; i++) {
        const store_tenant_t *tn = &tenants[i];
        /* A caller sees its own tenant: castor has no guest accounts across tenants. */
        if (c && c->tenant_id[0] && strcasecmp(c->tenant_id, tn->id) != 0) continue;
        json_array_append_new(items,
                              json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s], s:s}", "id",
                                        arena_sprintf(&req->arena, "/tenants/%s", tn->id),
                                        "tenantId", tn->id, "tenantCategory", "Home", "displayName",
                                        tn->display_name, "defaultDomain", tn->domain, "domains",
                                        tn->domain, "tenantType", "AAD"));
    }
    free(tenants);
    if (rc < 0) {
        json_decref(items);
        return rc;
    }
    return arm_send_page(req, resp, items, err);
}

static json_t *subscription_json(http_request_t *req, const store_subscription_t *s)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[], s:{s:s, s:s, s:s}}", "id",
                     arena_sprintf(&req->arena, "/subscriptions/%s", s->id), "subscriptionId",
                     s->id, "tenantId", s->tenant_id, "displayName", s->display_name, "state",
                     s->state, "authorizationSource", "RoleBased", "managedByTenants",
                     "subscriptionPolicies", "locationPlacementId", "Public_2014-09-01", "quotaId",
                     "PayAsYouGo_2014-09-01", "spendingLimit", "Off");
}

typedef struct visible {
    const access_principal_t *c;
    const char *prefix; /* "/subscriptions/{id}" */
    int found;
} visible_t;

static int visible_one(const store_role_assignment_t *ra, void *ctx)
{
    visible_t *v = ctx;
    int mine = strcasecmp(ra->principal_id, v->c->oid) == 0;
    for (size_t i = 0; !mine && i < v->c->ngroups; i++)
        mine = strcasecmp(ra->principal_id, v->c->groups[i]) == 0;
    if (!mine) return 0;
    /* An assignment at, above or anywhere below the subscription makes it visible. */
    if (rbac_scope_covers(ra->scope, v->prefix) || rbac_scope_covers(v->prefix, ra->scope)) {
        v->found = 1;
        return 1;
    }
    return 0;
}

/* Azure lists the subscriptions in which the caller holds some role assignment. */
static int subscription_visible(http_request_t *req, store_txn_t *t, const char *sub,
                                castor_err *err)
{
    const access_principal_t *c = req->caller;
    if (!c) return 0;
    visible_t v = {c, arena_sprintf(&req->arena, "/subscriptions/%s", sub), 0};
    int rc = store_role_assignment_each(t, visible_one, &v, err);
    return rc < 0 ? rc : v.found;
}

int arm_h_subscriptions_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    store_subscription_t *subs = calloc(SUBSCRIPTIONS_MAX, sizeof *subs);
    if (!subs) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    store_txn_t *t;
    int n = 0, rc = arm_begin(req, STORE_READ, &t, err);
    if (rc == 0) rc = store_subscription_list(t, subs, SUBSCRIPTIONS_MAX, &n, err);
    json_t *items = json_array();
    for (int i = 0; rc == 0 && i < n && i < SUBSCRIPTIONS_MAX; i++) {
        int vis = subscription_visible(req, t, subs[i].id, err);
        if (vis < 0) rc = vis;
        if (vis > 0) json_array_append_new(items, subscription_json(req, &subs[i]));
    }
    if (t) store_rollback(t);
    free(subs);
    if (rc < 0) {
        json_decref(items);
        return rc;
    }
    return arm_send_page(req, resp, items, err);
}

int arm_h_subscription_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *sub = http_request_param(req, "subscriptionId");
    store_subscription_t s;
    store_txn_t *t;
    int rc = arm_begin(req, STORE_READ, &t, err);
    if (rc < 0) return rc;
    rc = store_subscription_get(t, sub, &s, err);
    int vis = rc == 0 ? subscription_visible(req, t, sub, err) : 0;
    store_rollback(t);
    if (rc < 0) return rc;
    if (vis < 0) return vis;
    if (!vis)
        return castor_err_http(err, CASTOR_ENOTFOUND, 404, "SubscriptionNotFound",
                               "The subscription '%s' could not be found.", sub);
    return arm_send(req, resp, 200, subscription_json(req, &s), err);
}

/* ---- resource groups ---- */

/* ARM's rule: 1-90 of letters, digits, '_', '-', '.', '(', ')', not ending in '.'. */
static int group_name_check(const char *name, castor_err *err)
{
    size_t n = strlen(name);
    int ok = n >= 1 && n <= 90 && name[n - 1] != '.';
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        ok = isalnum(ch) || ch == '_' || ch == '-' || ch == '.' || ch == '(' || ch == ')';
    }
    if (ok) return CASTOR_OK;
    return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidResourceGroupName",
                           "Resource group name '%s' is invalid: it must be 1 to 90 letters, "
                           "digits, underscores, hyphens, periods or parentheses, and must not "
                           "end with a period.",
                           name);
}

static json_t *group_json(http_request_t *req, const store_resource_group_t *rg)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:s}}", "id",
                     arena_sprintf(&req->arena, "/subscriptions/%s/resourceGroups/%s",
                                   rg->subscription_id, rg->name),
                     "name", rg->name, "type", "Microsoft.Resources/resourceGroups", "location",
                     rg->location, "tags", arm_tags_load(rg->tags), "properties",
                     "provisioningState", "Succeeded");
}

int arm_h_group_put(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *sub = http_request_param(req, "subscriptionId");
    const char *name = http_request_param(req, "resourceGroupName");
    int rc = group_name_check(name, err);
    if (rc < 0) return rc;
    const json_t *loc;
    const char *tags;
    rc = arm_body_location_tags(req, &loc, &tags, err);
    if (rc < 0) return rc;
    store_resource_group_t *rg = calloc(1, sizeof *rg);
    store_resource_group_t *old = calloc(1, sizeof *old);
    if (!rg || !old) {
        free(rg);
        free(old);
        return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    }
    snprintf(rg->subscription_id, sizeof rg->subscription_id, "%s", sub);
    snprintf(rg->name, sizeof rg->name, "%s", name);
    snprintf(rg->location, sizeof rg->location, "%s", json_string_value(loc));
    snprintf(rg->tags, sizeof rg->tags, "%s", tags);
    rg->created = time_now_s();
    store_txn_t *t;
    int created = 0;
    castor_err e;
    castor_err_clear(&e);
    rc = arm_begin(req, STORE_WRITE, &t, err);
    if (rc == 0) {
        int have = store_resource_group_get(t, sub, name, old, &e) == 0;
        if (have && strcasecmp(old->location, rg->location) != 0)
            rc = castor_err_http(err, CASTOR_ECONFLICT, 409, "InvalidResourceGroupLocation",
                                 "Invalid resource group location '%s'. The Resource group "
                                 "already exists in location '%s'.",
                                 rg->location, old->location);
        if (rc == 0) rc = store_resource_group_put(t, rg, &created, err);
        if (rc == 0) rc = store_resource_group_get(t, sub, name, old, err);
        if (rc == 0)
            rc = store_commit(t, err);
        else
            store_rollback(t);
    }
    json_t *body = rc == 0 ? group_json(req, old) : NULL;
    free(rg);
    free(old);
    if (rc < 0) return rc;
    return arm_send(req, resp, created ? 201 : 200, body, err);
}

static int group_load(http_request_t *req, store_resource_group_t *rg, castor_err *err)
{
    store_txn_t *t;
    int rc = arm_begin(req, STORE_READ, &t, err);
    if (rc < 0) return rc;
    const char *sub = http_request_param(req, "subscriptionId");
    const char *name = http_request_param(req, "resourceGroupName");
    rc = store_resource_group_get(t, sub, name, rg, err);
    store_rollback(t);
    if (rc == CASTOR_ENOTFOUND)
        return castor_err_http(err, rc, 404, "ResourceGroupNotFound",
                               "Resource group '%s' could not be found.", name);
    return rc;
}

int arm_h_group_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    store_resource_group_t *rg = malloc(sizeof *rg);
    if (!rg) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    int rc = group_load(req, rg, err);
    json_t *body = rc == 0 ? group_json(req, rg) : NULL;
    free(rg);
    return rc < 0 ? rc : arm_send(req, resp, 200, body, err);
}

int arm_h_group_head(http_request_t *req, http_response_t *resp, castor_err *err)
{
    store_resource_group_t *rg = malloc(sizeof *rg);
    if (!rg) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    castor_err e;
    castor_err_clear(&e);
    int rc = group_load(req, rg, &e);
    free(rg);
    if (rc < 0 && rc != CASTOR_ENOTFOUND) {
        *err = e;
        return rc;
    }
    resp->status = rc == 0 ? 204 : 404;
    return CASTOR_OK;
}

int arm_h_group_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *sub = http_request_param(req, "subscriptionId");
    const char *name = http_request_param(req, "resourceGroupName");
    store_txn_t *t;
    int rc = arm_begin(req, STORE_WRITE, &t, err);
    if (rc < 0) return rc;
    /* The group takes its instances (and their data) and the assignments inside it. */
    rc = store_resource_group_delete(t, sub, name, err);
    if (rc == CASTOR_ENOTFOUND) {
        store_rollback(t);
        return castor_err_http(err, rc, 404, "ResourceGroupNotFound",
                               "Resource group '%s' could not be found.", name);
    }
    if (rc < 0) return arm_fail(t, rc);
    rc = store_commit(t, err);
    if (rc == 0) access_instance_cache_clear(); /* the group's instances went with it */
    if (rc == 0) rc = access_rbac_reload(arm_deps(req)->rbac, err);
    if (rc < 0) return rc;
    resp->status = 200;
    return CASTOR_OK;
}

typedef struct group_walk {
    http_request_t *req;
    json_t *items;
} group_walk_t;

static int group_one(const store_resource_group_t *rg, void *ctx)
{
    group_walk_t *w = ctx;
    const char *scope = arena_sprintf(&w->req->arena, "/subscriptions/%s/resourceGroups/%s",
                                      rg->subscription_id, rg->name);
    if (scope && access_can(w->req, "Microsoft.Resources/subscriptions/resourceGroups/read", scope))
        json_array_append_new(w->items, group_json(w->req, rg));
    return 0;
}

int arm_h_groups_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    group_walk_t w = {req, json_array()};
    store_txn_t *t;
    int rc = arm_begin(req, STORE_READ, &t, err);
    if (rc == 0) {
        rc = store_resource_group_each(t, http_request_param(req, "subscriptionId"), group_one, &w,
                                       err);
        store_rollback(t);
    }
    if (rc < 0) {
        json_decref(w.items);
        return rc;
    }
    return arm_send_page(req, resp, w.items, err);
}

/* ---- /resources: the generic listing (castor's only resource type is the instance) ---- */

typedef struct res_walk {
    http_request_t *req;
    json_t *items;
    const char *group, *type, *name;
    int expand;
} res_walk_t;

static int res_one(const store_dt_instance_t *d, void *ctx)
{
    res_walk_t *w = ctx;
    arena_t *a = &w->req->arena;
    if (w->group && strcasecmp(w->group, d->resource_group) != 0) return 0;
    if (w->name && strcasecmp(w->name, d->name) != 0) return 0;
    if (w->type && strcasecmp(w->type, "Microsoft.DigitalTwins/digitalTwinsInstances") != 0)
        return 0;
    const char *id = arm_instance_id(a, d->subscription_id, d->resource_group, d->name);
    if (!id || !access_can(w->req, "Microsoft.DigitalTwins/digitalTwinsInstances/read", id))
        return 0;
    json_t *item = json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", id, "name", d->name, "type",
                             "Microsoft.DigitalTwins/digitalTwinsInstances", "location",
                             d->location, "tags", arm_tags_load(d->tags));
    if (item && w->expand) {
        json_object_set_new(item, "createdTime", json_string(arm_time(a, d->created)));
        json_object_set_new(item, "changedTime", json_string(arm_time(a, d->updated)));
        json_object_set_new(item, "provisioningState", json_string(d->provisioning_state));
    }
    json_array_append_new(w->items, item);
    return 0;
}

int arm_h_resources_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    arm_filter_t f;
    int rc = arm_filter_parse(&req->arena, http_request_query(req, "$filter"), &f, err);
    if (rc < 0) return rc;
    static const char *const known[] = {"resourceGroup", "resourceType", "name", NULL};
    for (int i = 0; i < f.n; i++) {
        int ok = 0;
        for (int k = 0; known[k]; k++)
            ok |= strcasecmp(f.t[i].name, known[k]) == 0 && f.t[i].value;
        if (!ok)
            return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidFilterInQueryString",
                                   "The $filter term '%s' is not supported here: castor filters "
                                   "resources by resourceGroup, resourceType and name (eq).",
                                   f.t[i].name);
    }
    const char *sub = http_request_param(req, "subscriptionId");
    const char *path_group = http_request_param(req, "resourceGroupName");
    res_walk_t w = {req,
                    json_array(),
                    arm_filter_get(&f, "resourceGroup", NULL),
                    arm_filter_get(&f, "resourceType", NULL),
                    arm_filter_get(&f, "name", NULL),
                    http_request_query(req, "$expand") != NULL};
    store_txn_t *t;
    rc = arm_begin(req, STORE_READ, &t, err);
    if (rc == 0 && path_group) rc = arm_group_check(t, sub, path_group, err);
    if (rc == 0) rc = store_dt_instance_each(t, sub, path_group, res_one, &w, err);
    if (t) store_rollback(t);
    if (rc < 0) {
        json_decref(w.items);
        return rc;
    }
    return arm_send_page(req, resp, w.items, err);
}
