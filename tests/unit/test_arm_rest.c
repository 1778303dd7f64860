/* test_arm_rest.c — the resource manager's handlers called directly, as the listener would
 * after authentication: resource groups, instances (LRO headers, hostName, tags, delete with
 * data), role assignments and their errors in ARM's words, custom roles, permissions, and
 * the RBAC snapshot seeing each change on the very next request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "arm/arm_internal.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/limits.h"
#include "http/router.h"
#include "serve/app.h"
#include "serve/bootstrap.h"
#include "store/store_directory.h"
#include "test_util.h"

typedef struct fx {
    char *dir;
    castor_app_t app;
    bootstrap_result_t boot;
    char bob[37]; /* a user with no role at first */
} fx_t;

static fx_t *F;

static int setup(void **state)
{
    ids_init();
    fx_t *f = calloc(1, sizeof *f);
    f->dir = test_tmpdir();
    char url[512];
    snprintf(url, sizeof url, "sqlite:%s/castor.db", f->dir);
    castor_err err;
    castor_err_clear(&err);
    if (store_open(url, 4, &f->app.store, &err) < 0) return -1;
    if (bootstrap_run(f->app.store, "Pw-123456789", &f->boot, &err) < 0) return -1;
    snprintf(f->app.tenant_id, sizeof f->app.tenant_id, "%s", f->boot.tenant_id);
    snprintf(f->app.subscription_id, sizeof f->app.subscription_id, "%s", f->boot.subscription_id);
    snprintf(f->app.cfg.public_url, sizeof f->app.cfg.public_url, "https://localhost:8443");
    f->app.router = http_router_new();
    if (http_router_add(f->app.router, HTTP_PLANE_ARM, arm_routes, &f->app.arm, &err) < 0)
        return -1;
    store_txn_t *t;
    store_begin(f->app.store, STORE_WRITE, &t, &err);
    store_user_t u;
    memset(&u, 0, sizeof u);
    ids_guid(u.id);
    snprintf(u.tenant_id, sizeof u.tenant_id, "%s", f->boot.tenant_id);
    snprintf(u.upn, sizeof u.upn, "bob@castor.local");
    snprintf(u.display_name, sizeof u.display_name, "Bob");
    snprintf(u.password_hash, sizeof u.password_hash, "x");
    u.enabled = 1;
    if (store_user_create(t, &u, &err) < 0 || store_commit(t, &err) < 0) return -1;
    snprintf(f->bob, sizeof f->bob, "%s", u.id);
    if (access_rbac_new(f->app.store, &f->app.rbac, &err) < 0) {
        fprintf(stderr, "rbac: %s\n", err.message);
        return -1;
    }
    castor_app_wire(&f->app);
    F = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    access_rbac_free(f->app.rbac);
    http_router_free(f->app.router);
    store_close(f->app.store);
    test_rmdir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

typedef struct result {
    int status;
    json_t *json;
    char code[64];
    char message[1024];
    char async_op[512];
    char location[512];
} result_t;

static void result_free(result_t *r)
{
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* One request through routing, api-version, authorization and the handler, as `who`. */
static result_t call(const char *who, const char *method, const char *target, const char *body)
{
    result_t r;
    memset(&r, 0, sizeof r);
    http_request_t req;
    memset(&req, 0, sizeof req);
    arena_init(&req.arena, CASTOR_REQUEST_ARENA_MAX);
    req.access = &F->app.access;
    req.method = method;
    const char *q = strchr(target, '?');
    req.path = q ? arena_strndup(&req.arena, target, (size_t)(q - target)) : target;
    req.query = q ? q + 1 : "";
    req.plane = HTTP_PLANE_ARM;
    const http_route_t *route = NULL;
    const char *allowed = NULL;
    http_response_t resp;
    memset(&resp, 0, sizeof resp);
    castor_err err;
    castor_err_clear(&err);
    int rc;
    if (http_router_match(F->app.router, HTTP_PLANE_ARM, method, req.path, &req, &route,
                          &allowed) != HTTP_MATCH_FOUND) {
        r.status = 404;
        snprintf(r.code, sizeof r.code, "NoRoute");
        arena_free(&req.arena);
        return r;
    }
    req.api_version = http_request_query(&req, "api-version");
    if (!http_api_version_ok(route->api_versions, req.api_version)) {
        r.status = 400;
        snprintf(r.code, sizeof r.code, "InvalidApiVersionParameter");
        arena_free(&req.arena);
        return r;
    }
    if (body) {
        req.body = body;
        req.body_len = strlen(body);
        req.json = json_parse_body(body, strlen(body), 64, &err);
        assert_non_null(req.json);
    }
    /* The caller access_guard_arm would have authenticated. */
    access_principal_t *c = arena_calloc(&req.arena, 1, sizeof *c);
    assert_non_null(c);
    c->kind = ACCESS_KIND_USER;
    snprintf(c->tenant_id, sizeof c->tenant_id, "%s", F->boot.tenant_id);
    snprintf(c->oid, sizeof c->oid, "%s", who);
    snprintf(c->upn, sizeof c->upn, "%s",
             strcmp(who, F->bob) == 0 ? "bob@castor.local" : "admin@castor.local");
    req.caller = c;
    rc = access_authorize_arm(&req, route, &err);
    if (rc == 0) rc = route->handler(&req, &resp, &err);
    if (rc < 0) {
        r.status = err.status ? err.status : castor_rc_status(err.rc);
        snprintf(r.code, sizeof r.code, "%s", err.code);
        castor_text_cut(r.message, sizeof r.message,
                        snprintf(r.message, sizeof r.message, "%s", err.message));
    } else {
        r.status = resp.status ? resp.status : (resp.body ? 200 : 204);
        if (resp.body) r.json = json_loadb(resp.body, resp.body_len, 0, NULL);
        for (http_header_t *h = resp.headers; h; h = h->next) {
            if (strcasecmp(h->name, "Azure-AsyncOperation") == 0)
                snprintf(r.async_op, sizeof r.async_op, "%s", h->value);
            if (strcasecmp(h->name, "Location") == 0)
                snprintf(r.location, sizeof r.location, "%s", h->value);
        }
    }
    json_decref(req.json);
    arena_free(&req.arena);
    return r;
}

#define ADMIN (F->boot.admin_id)
#define SUBP "/subscriptions/%s"
static char path_buf[2048];
static const char *P(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path_buf, sizeof path_buf, fmt, ap);
    va_end(ap);
    return path_buf;
}

static const char *sub(void)
{
    return F->boot.subscription_id;
}

static void group_create(const char *name)
{
    result_t r =
        call(ADMIN, "PUT", P(SUBP "/resourcegroups/%s?api-version=2021-04-01", sub(), name),
             "{\"location\":\"westus2\"}");
    assert_true(r.status == 201 || r.status == 200);
    result_free(&r);
}

static void dt_create(const char *group, const char *name)
{
    result_t r = call(ADMIN, "PUT",
                      P(SUBP "/resourceGroups/%s/providers/Microsoft.DigitalTwins/"
                             "digitalTwinsInstances/%s?api-version=2023-01-31",
                        sub(), group, name),
                      "{\"location\":\"westus2\",\"tags\":{\"env\":\"test\"}}");
    assert_int_equal(r.status, 201);
    result_free(&r);
}

static void groups_create_get_list_delete(void **state)
{
    (void)state;
    result_t r = call(ADMIN, "PUT", P(SUBP "/resourcegroups/rg1?api-version=2021-04-01", sub()),
                      "{\"location\":\"westus2\",\"tags\":{\"a\":\"b\"}}");
    assert_int_equal(r.status, 201);
    assert_string_equal(json_string_value(json_object_get(r.json, "type")),
                        "Microsoft.Resources/resourceGroups");
    result_free(&r);
    r = call(ADMIN, "PUT", P(SUBP "/resourceGroups/RG1?api-version=2021-04-01", sub()),
             "{\"location\":\"westus2\"}");
    assert_int_equal(r.status, 200); /* same group, other case: an update */
    result_free(&r);
    r = call(ADMIN, "PUT", P(SUBP "/resourceGroups/rg1?api-version=2021-04-01", sub()),
             "{\"location\":\"eastus\"}");
    assert_int_equal(r.status, 409);
    result_free(&r);
    r = call(ADMIN, "GET", P(SUBP "/resourceGroups/rg1?api-version=2021-04-01", sub()), NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "name")), "rg1");
    result_free(&r);
    r = call(ADMIN, "GET", P(SUBP "/resourcegroups?api-version=2021-04-01", sub()), NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "value")), 1);
    result_free(&r);
    r = call(ADMIN, "GET", P(SUBP "/resourceGroups/nope?api-version=2021-04-01", sub()), NULL);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.code, "ResourceGroupNotFound");
    assert_string_equal(r.message, "Resource group 'nope' could not be found.");
    result_free(&r);
    r = call(ADMIN, "PUT", P(SUBP "/resourceGroups/bad.?api-version=2021-04-01", sub()),
             "{\"location\":\"westus2\"}");
    assert_int_equal(r.status, 400);
    result_free(&r);
    r = call(ADMIN, "PUT", P(SUBP "/resourceGroups/noloc?api-version=2021-04-01", sub()), "{}");
    assert_string_equal(r.code, "LocationRequired");
    result_free(&r);
    r = call(ADMIN, "GET",
             "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/"
             "x?api-version=2021-04-01",
             NULL);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.code, "SubscriptionNotFound");
    result_free(&r);
    r = call(ADMIN, "GET", P(SUBP "/resourceGroups/rg1?api-version=1999-01-01", sub()), NULL);
    assert_string_equal(r.code, "InvalidApiVersionParameter");
    result_free(&r);
    r = call(ADMIN, "DELETE", P(SUBP "/resourceGroups/rg1?api-version=2021-04-01", sub()), NULL);
    assert_int_equal(r.status, 200);
    result_free(&r);
    r = call(ADMIN, "DELETE", P(SUBP "/resourceGroups/rg1?api-version=2021-04-01", sub()), NULL);
    assert_int_equal(r.status, 404);
    result_free(&r);
}

static void instances_lifecycle(void **state)
{
    (void)state;
    group_create("rg2");
    const char *base = "/subscriptions/%s/resourceGroups/rg2/providers/Microsoft.DigitalTwins/"
                       "digitalTwinsInstances/%s?api-version=2023-01-31";
    result_t r = call(ADMIN, "PUT", P(base, sub(), "dt-one"), "{\"location\":\"westus2\"}");
    assert_int_equal(r.status, 201);
    json_t *props = json_object_get(r.json, "properties");
    assert_string_equal(json_string_value(json_object_get(props, "hostName")),
                        "localhost:8443/dt/dt-one");
    assert_string_equal(json_string_value(json_object_get(props, "provisioningState")),
                        "Succeeded");
    assert_true(strncmp(r.async_op, "https://localhost:8443/subscriptions/", 37) == 0);
    char op[512];
    assert_true(snprintf(op, sizeof op, "%s", r.async_op + strlen("https://localhost:8443")) <
                (int)sizeof op);
    result_free(&r);
    r = call(ADMIN, "GET", op, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "Succeeded");
    result_free(&r);

    /* Names: Azure's rule, globally unique. */
    static const char *const bad[] = {"ab", "-abc", "abc-", "a_bc", "a.bc", NULL};
    for (int i = 0; bad[i]; i++) {
        r = call(ADMIN, "PUT", P(base, sub(), bad[i]), "{\"location\":\"westus2\"}");
        assert_int_equal(r.status, 400);
        assert_string_equal(r.code, "InvalidResourceName");
        result_free(&r);
    }
    group_create("rg3");
    r = call(ADMIN, "PUT",
             P("/subscriptions/%s/resourceGroups/rg3/providers/Microsoft.DigitalTwins/"
               "digitalTwinsInstances/DT-ONE?api-version=2023-01-31",
               sub()),
             "{\"location\":\"westus2\"}");
    assert_int_equal(r.status, 409);
    result_free(&r);
    r = call(ADMIN, "POST",
             P("/subscriptions/%s/providers/Microsoft.DigitalTwins/locations/westus2/"
               "checkNameAvailability?api-version=2023-01-31",
               sub()),
             "{\"name\":\"dt-one\",\"type\":\"Microsoft.DigitalTwins/digitalTwinsInstances\"}");
    assert_false(json_boolean_value(json_object_get(r.json, "nameAvailable")));
    assert_string_equal(json_string_value(json_object_get(r.json, "reason")), "AlreadyExists");
    result_free(&r);
    r = call(ADMIN, "POST",
             P("/subscriptions/%s/providers/Microsoft.DigitalTwins/locations/westus2/"
               "checkNameAvailability?api-version=2023-01-31",
               sub()),
             "{\"name\":\"-x\"}");
    assert_string_equal(json_string_value(json_object_get(r.json, "reason")), "Invalid");
    result_free(&r);

    /* Get, list (by subscription, by group, generic with az's filters), PATCH tags. */
    r = call(ADMIN, "GET", P(base, sub(), "DT-one"), NULL);
    assert_int_equal(r.status, 200);
    result_free(&r);
    r = call(ADMIN, "GET",
             P("/subscriptions/%s/providers/Microsoft.DigitalTwins/digitalTwinsInstances"
               "?api-version=2023-01-31",
               sub()),
             NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "value")), 1);
    result_free(&r);
    r = call(ADMIN, "GET",
             P("/subscriptions/%s/resources?$filter=resourceGroup%%20eq%%20%%27RG2%%27&$expand="
               "createdTime,changedTime,provisioningState&api-version=2021-04-01",
               sub()),
             NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "value")), 1);
    result_free(&r);
    r = call(ADMIN, "GET",
             P("/subscriptions/%s/resources?$filter=resourceType%%20eq%%20%%27Microsoft."
               "DigitalTwins%%2FdigitalTwinsInstances%%27&api-version=2021-04-01",
               sub()),
             NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "value")), 1);
    result_free(&r);
    r = call(ADMIN, "PATCH", P(base, sub(), "dt-one"), "{\"tags\":{\"k\":\"v\"}}");
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "tags"), "k")),
                        "v");
    result_free(&r);

    access_instance_t inst;
    castor_err err;
    assert_int_equal(access_instance_lookup(F->app.store, "dt-ONE", &inst, &err), 0);
    assert_string_equal(inst.resource_group, "rg2");
    assert_string_equal(inst.tenant_id, F->boot.tenant_id);

    r = call(ADMIN, "DELETE", P(base, sub(), "dt-one"), NULL);
    assert_int_equal(r.status, 202);
    assert_true(strstr(r.location, "/operationResults/") != NULL);
    snprintf(op, sizeof op, "%s", r.location + strlen("https://localhost:8443"));
    result_free(&r);
    r = call(ADMIN, "GET", op, NULL);
    assert_int_equal(r.status, 204);
    result_free(&r);
    assert_int_equal(access_instance_lookup(F->app.store, "dt-one", &inst, &err), CASTOR_ENOTFOUND);
    r = call(ADMIN, "GET", P(base, sub(), "dt-one"), NULL);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.code, "ResourceNotFound");
    result_free(&r);
    r = call(ADMIN, "DELETE", P(base, sub(), "dt-one"), NULL);
    assert_int_equal(r.status, 204);
    result_free(&r);
}

static const char *ra_body(const char *role, const char *principal)
{
    static char b[512];
    snprintf(b, sizeof b,
             "{\"properties\":{\"roleDefinitionId\":\"/subscriptions/%s/providers/"
             "Microsoft.Authorization/roleDefinitions/%s\",\"principalId\":\"%s\","
             "\"principalType\":\"User\"}}",
             sub(), role, principal);
    return b;
}

static void role_assignments_and_refusals(void **state)
{
    (void)state;
    group_create("rg4");
    dt_create("rg4", "dt-four");
    const char *inst = "/subscriptions/%s/resourceGroups/rg4/providers/Microsoft.DigitalTwins/"
                       "digitalTwinsInstances/dt-four";
    char scope[512], subscope[128];
    snprintf(scope, sizeof scope, inst, sub());
    snprintf(subscope, sizeof subscope, "/subscriptions/%s", sub());

    /* Bob holds nothing: ARM's exact AuthorizationFailed. */
    result_t r = call(F->bob, "PUT", P(SUBP "/resourcegroups/bobs?api-version=2021-04-01", sub()),
                      "{\"location\":\"westus2\"}");
    assert_int_equal(r.status, 403);
    assert_string_equal(r.code, "AuthorizationFailed");
    char want[1024];
    snprintf(want, sizeof want,
             "The client 'bob@castor.local' with object id '%s' does not have authorization to "
             "perform action 'Microsoft.Resources/subscriptions/resourceGroups/write' over scope "
             "'/subscriptions/%s/resourceGroups/bobs' or the scope is invalid. If access was "
             "recently granted, please refresh your credentials.",
             F->bob, sub());
    assert_string_equal(r.message, want);
    result_free(&r);

    /* Admin (Owner) gives Bob Data Owner on the instance: 201; the same again under another
     * name: 409 RoleAssignmentExists; the same name and values: 200. */
    char name[37];
    ids_guid(name);
    const char *ra_path = "%s/providers/Microsoft.Authorization/roleAssignments/%s?api-version=%s";
    r = call(ADMIN, "PUT", P(ra_path, scope, name, "2020-04-01-preview"),
             ra_body(RBAC_ROLE_ADT_DATA_OWNER, F->bob));
    assert_int_equal(r.status, 201);
    json_t *props = json_object_get(r.json, "properties");
    assert_string_equal(json_string_value(json_object_get(props, "scope")), scope);
    assert_string_equal(json_string_value(json_object_get(props, "principalType")), "User");
    result_free(&r);
    r = call(ADMIN, "PUT", P(ra_path, scope, name, "2022-04-01"),
             ra_body(RBAC_ROLE_ADT_DATA_OWNER, F->bob));
    assert_int_equal(r.status, 200);
    result_free(&r);
    char other[37];
    ids_guid(other);
    r = call(ADMIN, "PUT", P(ra_path, scope, other, "2022-04-01"),
             ra_body(RBAC_ROLE_ADT_DATA_OWNER, F->bob));
    assert_int_equal(r.status, 409);
    assert_string_equal(r.code, "RoleAssignmentExists");
    result_free(&r);
    char ghost[37];
    ids_guid(ghost);
    r = call(ADMIN, "PUT", P(ra_path, scope, other, "2022-04-01"),
             ra_body(RBAC_ROLE_ADT_DATA_OWNER, ghost));
    assert_int_equal(r.status, 400);
    assert_string_equal(r.code, "PrincipalNotFound");
    assert_true(strncmp(r.message, "Principal ", 10) == 0);
    result_free(&r);
    r = call(ADMIN, "PUT", P(ra_path, scope, "not-a-guid", "2022-04-01"),
             ra_body(RBAC_ROLE_ADT_DATA_OWNER, F->bob));
    assert_int_equal(r.status, 400);
    result_free(&r);
    r = call(ADMIN, "PUT", P(ra_path, scope, other, "2022-04-01"),
             ra_body("11111111-2222-3333-4444-555555555555", F->bob));
    assert_int_equal(r.status, 404);
    assert_string_equal(r.code, "RoleDefinitionDoesNotExist");
    result_free(&r);

    /* Lists: atScope() shows the instance's and the subscription's; principalId eq. */
    r = call(ADMIN, "GET",
             P("%s/providers/Microsoft.Authorization/roleAssignments?$filter=atScope()"
               "&api-version=2020-04-01-preview",
               scope),
             NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "value")), 2);
    result_free(&r);
    r = call(ADMIN, "GET",
             P(SUBP "/providers/Microsoft.Authorization/roleAssignments?$filter=principalId%%20eq"
                    "%%20%%27%s%%27&api-version=2020-04-01-preview",
               sub(), F->bob),
             NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "value")), 1);
    result_free(&r);
    r = call(ADMIN, "GET",
             P(SUBP "/providers/Microsoft.Authorization/roleAssignments?$filter=atScope()"
                    "&api-version=2020-04-01-preview",
               sub()),
             NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "value")), 1); /* not below */
    result_free(&r);
    r = call(ADMIN, "GET",
             P(SUBP
               "/providers/Microsoft.Authorization/roleAssignments?api-version=2020-04-01-preview",
               sub()),
             NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "value")), 2); /* --all */
    result_free(&r);

    /* Bob's new role is data-plane only: still no group write, but he sees his permissions. */
    r = call(F->bob, "GET",
             P("%s/providers/Microsoft.Authorization/permissions?api-version=2022-04-01", scope),
             NULL);
    assert_int_equal(r.status, 200);
    json_t *first = json_array_get(json_object_get(r.json, "value"), 0);
    assert_true(json_array_size(json_object_get(first, "dataActions")) > 0);
    assert_int_equal(json_array_size(json_object_get(first, "actions")), 0);
    result_free(&r);

    /* Contributor at the subscription: can create groups on the very next request, cannot
     * assign roles (Microsoft.Authorization/ * /Write is carved out). */
    char contrib[37];
    ids_guid(contrib);
    r = call(ADMIN, "PUT", P(ra_path, subscope, contrib, "2022-04-01"),
             ra_body(RBAC_ROLE_CONTRIBUTOR, F->bob));
    assert_int_equal(r.status, 201);
    result_free(&r);
    r = call(F->bob, "PUT", P(SUBP "/resourcegroups/bobs?api-version=2021-04-01", sub()),
             "{\"location\":\"westus2\"}");
    assert_int_equal(r.status, 201);
    result_free(&r);
    ids_guid(other);
    r = call(F->bob, "PUT", P(ra_path, scope, other, "2022-04-01"),
             ra_body(RBAC_ROLE_READER, F->bob));
    assert_int_equal(r.status, 403);
    assert_true(strstr(r.message, "Microsoft.Authorization/roleAssignments/write") != NULL);
    result_free(&r);

    /* The last Owner of the subscription stays. */
    r = call(ADMIN, "GET",
             P(SUBP "/providers/Microsoft.Authorization/roleAssignments?$filter=principalId%%20eq"
                    "%%20%%27%s%%27&api-version=2022-04-01",
               sub(), ADMIN),
             NULL);
    const char *owner_name = json_string_value(
        json_object_get(json_array_get(json_object_get(r.json, "value"), 0), "name"));
    char owner[37];
    snprintf(owner, sizeof owner, "%s", owner_name);
    result_free(&r);
    r = call(ADMIN, "DELETE", P(ra_path, subscope, owner, "2022-04-01"), NULL);
    assert_int_equal(r.status, 409);
    assert_true(strstr(r.message, "last") != NULL);
    result_free(&r);

    /* Delete Bob's Data Owner: 200 with the body, then 204; the instance delete takes the
     * rest. */
    r = call(ADMIN, "DELETE", P(ra_path, scope, name, "2022-04-01"), NULL);
    assert_int_equal(r.status, 200);
    result_free(&r);
    r = call(ADMIN, "DELETE", P(ra_path, scope, name, "2022-04-01"), NULL);
    assert_int_equal(r.status, 204);
    result_free(&r);
    r = call(ADMIN, "GET", P(ra_path, scope, name, "2022-04-01"), NULL);
    assert_int_equal(r.status, 404);
    result_free(&r);
    /* Contributor cannot remove the Contributor assignment (no roleAssignments/delete). */
    r = call(F->bob, "DELETE", P(ra_path, subscope, contrib, "2022-04-01"), NULL);
    assert_int_equal(r.status, 403);
    result_free(&r);
    r = call(ADMIN, "DELETE", P(ra_path, subscope, contrib, "2022-04-01"), NULL);
    assert_int_equal(r.status, 200);
    result_free(&r);
    /* ...and on the very next request Bob can no longer write groups. */
    r = call(F->bob, "PUT", P(SUBP "/resourcegroups/bobs2?api-version=2021-04-01", sub()),
             "{\"location\":\"westus2\"}");
    assert_int_equal(r.status, 403);
    result_free(&r);
}

static void role_definitions_builtin_legacy_custom(void **state)
{
    (void)state;
    result_t r = call(ADMIN, "GET",
                      P(SUBP "/providers/Microsoft.Authorization/roleDefinitions?$filter=roleName"
                             "%%20eq%%20%%27Azure%%20Digital%%20Twins%%20Owner%%20(Preview)%%27"
                             "&api-version=2018-01-01-preview",
                        sub()),
                      NULL);
    assert_int_equal(r.status, 200);
    json_t *v = json_object_get(r.json, "value");
    assert_int_equal(json_array_size(v), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "name")),
                        RBAC_ROLE_ADT_DATA_OWNER);
    result_free(&r);
    r = call(ADMIN, "GET",
             P(SUBP "/providers/Microsoft.Authorization/roleDefinitions/" RBAC_ROLE_READER
                    "?api-version=2022-04-01",
               sub()),
             NULL);
    assert_int_equal(r.status, 200);
    result_free(&r);

    char id[37];
    ids_guid(id);
    char body[1024];
    snprintf(body, sizeof body,
             "{\"properties\":{\"roleName\":\"Twin Reader Plus\",\"type\":\"CustomRole\","
             "\"description\":\"d\",\"permissions\":[{\"actions\":[\"*/read\"],\"dataActions\":"
             "[\"Microsoft.DigitalTwins/digitaltwins/read\"]}],\"assignableScopes\":"
             "[\"/subscriptions/%s\"]}}",
             sub());
    r = call(ADMIN, "PUT",
             P(SUBP "/providers/Microsoft.Authorization/roleDefinitions/%s?api-version=2022-04-01",
               sub(), id),
             body);
    assert_int_equal(r.status, 201);
    result_free(&r);
    /* Same name under another id: refused. */
    char id2[37];
    ids_guid(id2);
    r = call(ADMIN, "PUT",
             P(SUBP "/providers/Microsoft.Authorization/roleDefinitions/%s?api-version=2022-04-01",
               sub(), id2),
             body);
    assert_int_equal(r.status, 409);
    result_free(&r);
    /* Assign it to Bob at the subscription, then it cannot be deleted. */
    char ra[37];
    ids_guid(ra);
    r = call(ADMIN, "PUT",
             P(SUBP "/providers/Microsoft.Authorization/roleAssignments/%s?api-version=2022-04-01",
               sub(), ra),
             ra_body(id, F->bob));
    assert_int_equal(r.status, 201);
    result_free(&r);
    r = call(ADMIN, "DELETE",
             P(SUBP "/providers/Microsoft.Authorization/roleDefinitions/%s?api-version=2022-04-01",
               sub(), id),
             NULL);
    assert_int_equal(r.status, 409);
    assert_string_equal(r.code, "RoleDefinitionHasAssignments");
    result_free(&r);
    r = call(ADMIN, "DELETE",
             P(SUBP "/providers/Microsoft.Authorization/roleAssignments/%s?api-version=2022-04-01",
               sub(), ra),
             NULL);
    result_free(&r);
    r = call(ADMIN, "DELETE",
             P(SUBP "/providers/Microsoft.Authorization/roleDefinitions/%s?api-version=2022-04-01",
               sub(), id),
             NULL);
    assert_int_equal(r.status, 200);
    result_free(&r);
    r = call(ADMIN, "DELETE",
             P(SUBP "/providers/Microsoft.Authorization/roleDefinitions/" RBAC_ROLE_OWNER
                    "?api-version=2022-04-01",
               sub()),
             NULL);
    assert_int_equal(r.status, 403);
    result_free(&r);
}

static void filters_parse(void **state)
{
    (void)state;
    arena_t a;
    arena_init(&a, 0);
    arm_filter_t f;
    castor_err err;
    assert_int_equal(arm_filter_parse(&a, "atScope() and assignedTo('x''y')", &f, &err), 0);
    assert_int_equal(f.n, 2);
    assert_null(f.t[0].value);
    assert_string_equal(f.t[1].value, "x'y");
    assert_int_equal(arm_filter_parse(&a, "roleName eq 'Azure Digital Twins Data Owner'", &f, &err),
                     0);
    assert_string_equal(arm_filter_get(&f, "rolename", NULL), "Azure Digital Twins Data Owner");
    assert_true(arm_filter_parse(&a, "roleName ne 'x'", &f, &err) < 0);
    assert_true(arm_filter_parse(&a, "name eq 'unterminated", &f, &err) < 0);
    assert_true(arm_filter_parse(&a, "a eq 'b' or c eq 'd'", &f, &err) < 0);
    /* Graph's forms parse in the shared parser but are not ARM's. */
    assert_true(arm_filter_parse(&a, "startswith(displayName,'x')", &f, &err) < 0);
    assert_string_equal(err.code, "InvalidFilterInQueryString");
    assert_true(arm_filter_parse(&a, "names/any(c:c eq 'x')", &f, &err) < 0);
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(filters_parse),
        cmocka_unit_test(groups_create_get_list_delete),
        cmocka_unit_test(instances_lifecycle),
        cmocka_unit_test(role_assignments_and_refusals),
        cmocka_unit_test(role_definitions_builtin_legacy_custom),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
