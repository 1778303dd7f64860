/* test_http_router.c — route tables and path matching; every data-plane route declares its
 * data action (the authorization layer relies on it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "access/access.h"
#include "arm/arm.h"
#include "http/router.h"
#include "identity/idn.h"
#include "serve/health.h"
#include "twins/twins_routes.h"

/* The data actions ADT defines (security.md §3.1); a route may only require one of these. */
static const char *const known_data_actions[] = {
    "Microsoft.DigitalTwins/digitaltwins/read",
    "Microsoft.DigitalTwins/digitaltwins/write",
    "Microsoft.DigitalTwins/digitaltwins/delete",
    "Microsoft.DigitalTwins/digitaltwins/relationships/read",
    "Microsoft.DigitalTwins/digitaltwins/relationships/write",
    "Microsoft.DigitalTwins/digitaltwins/relationships/delete",
    "Microsoft.DigitalTwins/models/read",
    "Microsoft.DigitalTwins/models/write",
    "Microsoft.DigitalTwins/models/delete",
    "Microsoft.DigitalTwins/query/action",
    "Microsoft.DigitalTwins/eventroutes/read",
    "Microsoft.DigitalTwins/eventroutes/write",
    "Microsoft.DigitalTwins/eventroutes/delete",
    "Microsoft.DigitalTwins/jobs/imports/read",
    "Microsoft.DigitalTwins/jobs/imports/write",
    "Microsoft.DigitalTwins/jobs/imports/delete",
    "Microsoft.DigitalTwins/jobs/imports/cancel/action",
    "Microsoft.DigitalTwins/jobs/deletions/read",
    "Microsoft.DigitalTwins/jobs/deletions/write",
    NULL,
};

typedef struct walk {
    int data_routes;
    int bad;
} walk_t;

static void check_route(http_plane_t plane, const http_route_t *rt, void *ctx)
{
    walk_t *w = ctx;
    if (plane != HTTP_PLANE_DATA) return;
    w->data_routes++;
    int known = 0;
    for (const char *const *a = known_data_actions; *a; a++)
        if (rt->action && strcmp(rt->action, *a) == 0) known = 1;
    if (!known) {
        print_error("route %s %s requires unknown data action '%s'\n", rt->method, rt->pattern,
                    rt->action ? rt->action : "(none)");
        w->bad++;
    }
    if (!rt->api_versions) {
        print_error("route %s %s accepts no api-version\n", rt->method, rt->pattern);
        w->bad++;
    }
}

static http_router_t *make_router(void)
{
    http_router_t *r = http_router_new();
    castor_err err;
    assert_int_equal(http_router_add(r, HTTP_PLANE_SYSTEM, health_routes, NULL, &err), 0);
    assert_int_equal(http_router_add(r, HTTP_PLANE_DATA, twins_routes, NULL, &err), 0);
    return r;
}

static void every_data_route_declares_a_known_data_action(void **state)
{
    (void)state;
    http_router_t *r = make_router();
    walk_t w = {0};
    http_router_each(r, check_route, &w);
    assert_int_equal(w.bad, 0);
    assert_int_equal(w.data_routes, 32); /* ADT's 32 data-plane operations */
    http_router_free(r);
}

/* Each plane's table names that plane's guard on every route, and the token service none:
 * a route copied from another plane's table would otherwise be guarded the wrong way. */
static void every_route_names_its_planes_guard(void **state)
{
    (void)state;
    static const struct {
        http_plane_t plane;
        const http_route_t *table;
        http_guard_fn guard;
    } planes[] = {
        {HTTP_PLANE_DATA, twins_routes, access_guard_data},
        {HTTP_PLANE_ARM, arm_routes, access_guard_arm},
        {HTTP_PLANE_GRAPH, idn_graph_routes, access_guard_graph},
        {HTTP_PLANE_IDENTITY, idn_routes, NULL},
        {HTTP_PLANE_SYSTEM, health_routes, NULL},
    };
    for (size_t i = 0; i < sizeof planes / sizeof planes[0]; i++)
        for (const http_route_t *rt = planes[i].table; rt->method; rt++)
            if (rt->guard != planes[i].guard)
                fail_msg("%s route %s %s names the wrong guard", http_plane_name(planes[i].plane),
                         rt->method, rt->pattern);
}

static void a_data_route_without_action_is_refused(void **state)
{
    (void)state;
    static const http_route_t bad[] = {
        {"GET", "/models", NULL, "X", http_api_versions_data, NULL, 0, 0, access_guard_data},
        {0},
    };
    static const http_route_t empty[] = {
        {"GET", "/models", NULL, "X", http_api_versions_data, "", 0, 0, access_guard_data},
        {0},
    };
    http_router_t *r = http_router_new();
    castor_err err;
    assert_int_equal(http_router_add(r, HTTP_PLANE_DATA, bad, NULL, &err), CASTOR_EINVAL);
    assert_non_null(strstr(err.message, "declares no data action"));
    assert_int_equal(http_router_add(r, HTTP_PLANE_DATA, empty, NULL, &err), CASTOR_EINVAL);
    /* The same route is fine on a plane that has no data actions. */
    assert_int_equal(http_router_add(r, HTTP_PLANE_ARM, bad, NULL, &err), 0);
    http_router_free(r);
}

/* A route on a plane that serves callers with tokens must name its guard: one left out would
 * be served to anyone. */
static void a_route_without_guard_is_refused(void **state)
{
    (void)state;
    static const http_route_t unguarded[] = {
        {"GET", "/models", NULL, "X", http_api_versions_data, "Microsoft.DigitalTwins/models/read",
         0, 0},
        {0},
    };
    http_router_t *r = http_router_new();
    castor_err err;
    assert_int_equal(http_router_add(r, HTTP_PLANE_DATA, unguarded, NULL, &err), CASTOR_EINVAL);
    assert_non_null(strstr(err.message, "declares no guard"));
    assert_int_equal(http_router_add(r, HTTP_PLANE_ARM, unguarded, NULL, &err), CASTOR_EINVAL);
    assert_int_equal(http_router_add(r, HTTP_PLANE_GRAPH, unguarded, NULL, &err), CASTOR_EINVAL);
    /* The token service and the probes serve anyone. */
    assert_int_equal(http_router_add(r, HTTP_PLANE_IDENTITY, unguarded, NULL, &err), 0);
    assert_int_equal(http_router_add(r, HTTP_PLANE_SYSTEM, unguarded, NULL, &err), 0);
    http_router_free(r);
}

static void planes_by_path(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        http_plane_t plane;
    } rows[] = {
        {"/healthz", HTTP_PLANE_SYSTEM},
        {"/readyz", HTTP_PLANE_SYSTEM},
        {"/dt/foo/models", HTTP_PLANE_DATA},
        {"/DT/foo", HTTP_PLANE_DATA},
        {"/dtx/foo", HTTP_PLANE_IDENTITY},
        {"/subscriptions/abc/resourcegroups/x", HTTP_PLANE_ARM},
        {"/Subscriptions", HTTP_PLANE_ARM},
        {"/providers/Microsoft.Authorization/roleDefinitions", HTTP_PLANE_ARM},
        {"/tenants", HTTP_PLANE_ARM},
        {"/v1.0/me", HTTP_PLANE_GRAPH},
        {"/common/oauth2/v2.0/token", HTTP_PLANE_IDENTITY},
        {"/adfs/.well-known/openid-configuration", HTTP_PLANE_IDENTITY},
        {"/healthzz", HTTP_PLANE_IDENTITY},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (http_router_plane(rows[i].path) != rows[i].plane) fail_msg("%s", rows[i].path);
    }
}

static void match_captures_and_decodes_params(void **state)
{
    (void)state;
    http_router_t *r = make_router();
    http_request_t req = {0};
    arena_init(&req.arena, 1 << 20);
    const http_route_t *rt;
    const char *allowed = NULL;
    /* Literal segments match case-insensitively; params are percent-decoded. */
    http_match_t m =
        http_router_match(r, HTTP_PLANE_DATA, "GET", "/DigitalTwins/room%2F1/relationships/r%3B2",
                          &req, &rt, &allowed);
    assert_int_equal(m, HTTP_MATCH_FOUND);
    assert_string_equal(rt->name, "DigitalTwins_GetRelationshipById");
    assert_string_equal(http_request_param(&req, "id"), "room/1");
    assert_string_equal(http_request_param(&req, "relationshipId"), "r;2");
    assert_null(http_request_param(&req, "nope"));

    m = http_router_match(r, HTTP_PLANE_DATA, "GET", "/models/dtmi%3Acom%3Aex%3BA%3B1", &req, &rt,
                          &allowed);
    assert_int_equal(m, HTTP_MATCH_FOUND);
    assert_string_equal(http_request_param(&req, "id"), "dtmi:com:ex;A;1");

    /* A trailing slash is tolerated; an empty segment never matches a parameter. */
    assert_int_equal(http_router_match(r, HTTP_PLANE_DATA, "GET", "/models/", &req, &rt, &allowed),
                     HTTP_MATCH_FOUND);
    assert_string_equal(rt->name, "DigitalTwinModels_List");
    assert_int_equal(http_router_match(r, HTTP_PLANE_DATA, "GET", "/digitaltwins//relationships",
                                       &req, &rt, &allowed),
                     HTTP_MATCH_NO_PATH);

    m = http_router_match(r, HTTP_PLANE_DATA, "PUT", "/query", &req, &rt, &allowed);
    assert_int_equal(m, HTTP_MATCH_NO_METHOD);
    assert_string_equal(allowed, "POST");
    m = http_router_match(r, HTTP_PLANE_DATA, "GET", "/nope", &req, &rt, &allowed);
    assert_int_equal(m, HTTP_MATCH_NO_PATH);
    /* A malformed escape in a parameter does not match. */
    m = http_router_match(r, HTTP_PLANE_DATA, "GET", "/digitaltwins/a%zz", &req, &rt, &allowed);
    assert_int_equal(m, HTTP_MATCH_NO_PATH);
    arena_free(&req.arena);
    http_router_free(r);
}

static void decode_table(void **state)
{
    (void)state;
    arena_t a;
    arena_init(&a, 1 << 16);
    static const struct {
        const char *in;
        int plus;
        const char *out;
    } rows[] = {
        {"abc", 0, "abc"},   {"a%20b", 0, "a b"}, {"a+b", 1, "a b"}, {"a+b", 0, "a+b"},
        {"%3a%3A", 0, "::"}, {"%", 0, NULL},      {"%4", 0, NULL},   {"%zz", 0, NULL},
        {"x%00y", 0, NULL},  {"", 0, ""},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *got = http_decode(&a, rows[i].in, strlen(rows[i].in), rows[i].plus);
        if (!rows[i].out) {
            if (got) fail_msg("'%s' should be refused, got '%s'", rows[i].in, got);
        } else if (!got || strcmp(got, rows[i].out) != 0) {
            fail_msg("'%s' decoded to '%s', want '%s'", rows[i].in, got ? got : "(null)",
                     rows[i].out);
        }
    }
    arena_free(&a);
}

static void query_lookup(void **state)
{
    (void)state;
    http_request_t req = {0};
    arena_init(&req.arena, 1 << 16);
    req.query = "api-version=2022-05-31&%24filter=roleName%20eq%20%27Owner%27&flag&x=a%26b";
    assert_string_equal(http_request_query(&req, "api-version"), "2022-05-31");
    assert_string_equal(http_request_query(&req, "$filter"), "roleName eq 'Owner'");
    assert_string_equal(http_request_query(&req, "flag"), "");
    assert_string_equal(http_request_query(&req, "x"), "a&b");
    assert_null(http_request_query(&req, "API-VERSION"));
    assert_null(http_request_query(&req, "missing"));
    arena_free(&req.arena);
}

static void api_versions(void **state)
{
    (void)state;
    assert_true(http_api_version_ok(http_api_versions_data, "2022-05-31"));
    assert_true(http_api_version_ok(http_api_versions_data, "2023-10-31"));
    assert_false(http_api_version_ok(http_api_versions_data, "2022-05-3"));
    assert_false(http_api_version_ok(http_api_versions_data, NULL));
    assert_true(http_api_version_ok(http_api_versions_arm_auth, "2020-04-01-preview"));
    assert_true(http_api_version_ok(http_api_versions_arm_auth, "2018-01-01-preview"));
    assert_true(http_api_version_ok(http_api_versions_arm_auth, "2022-04-01"));
    assert_true(http_api_version_ok(http_api_versions_arm_res, "2019-11-01"));
    assert_true(http_api_version_ok(http_api_versions_arm_dt, "2023-01-31"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_data_route_declares_a_known_data_action),
        cmocka_unit_test(a_data_route_without_action_is_refused),
        cmocka_unit_test(a_route_without_guard_is_refused),
        cmocka_unit_test(every_route_names_its_planes_guard),
        cmocka_unit_test(planes_by_path),
        cmocka_unit_test(match_captures_and_decodes_params),
        cmocka_unit_test(decode_table),
        cmocka_unit_test(query_lookup),
        cmocka_unit_test(api_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
