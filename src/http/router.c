/* router.c — route tables and path matching (see router.h). */
#include "http/router.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ROUTER_TABLES_MAX 32

const char *const http_api_versions_data[] = {
    "2020-05-31-preview", "2020-10-31", "2021-06-30-preview", "2022-05-31",
    "2023-02-27-preview", "2023-06-30", "2023-10-31",         NULL};

const char *const http_api_versions_arm_dt[] = {"2020-03-01-preview", "2020-10-31", "2020-12-01",
                                                "2021-06-30-preview", "2022-05-31", "2022-10-31",
                                                "2023-01-31",         NULL};

const char *const http_api_versions_arm_res[] = {
    "2014-04-01", "2015-01-01", "2016-06-01", "2016-09-01", "2018-05-01", "2019-05-01",
    "2019-06-01", "2019-10-01", "2019-11-01", "2020-01-01", "2020-06-01", "2021-01-01",
    "2021-04-01", "2022-01-01", "2022-09-01", "2022-12-01", NULL};

const char *const http_api_versions_arm_auth[] = {
    "2015-07-01",         "2018-01-01-preview", "2018-09-01-preview", "2020-04-01-preview",
    "2020-10-01-preview", "2022-04-01",         "2022-05-01-preview", NULL};

typedef struct router_table {
    http_plane_t plane;
    const http_route_t *routes;
    const void *deps;
} router_table_t;

struct http_router {
    router_table_t tables[ROUTER_TABLES_MAX];
    int ntables;
};

const char *http_plane_name(http_plane_t plane)
{
    static const char *const names[] = {"system", "identity", "graph", "resource-manager", "data"};
    return plane < HTTP_PLANE_COUNT ? names[plane] : "unknown";
}

http_router_t *http_router_new(void)
{
    return calloc(1, sizeof(http_router_t));
}

void http_router_free(http_router_t *r)
{
    free(r);
}

int http_router_add(http_router_t *r, http_plane_t plane, const http_route_t *table,
                    const void *deps, castor_err *err)
{
    if (r->ntables >= ROUTER_TABLES_MAX)
        return castor_err_set(err, CASTOR_ELIMIT, "too many route tables (max %d)",
                              ROUTER_TABLES_MAX);
    for (const http_route_t *rt = table; rt->method; rt++) {
        if (!rt->pattern || rt->pattern[0] != '/')
            return castor_err_set(err, CASTOR_EINVAL, "route %s: pattern must start with '/'",
                                  rt->name ? rt->name : "?");
        if (plane == HTTP_PLANE_DATA && (!rt->action || !rt->action[0]))
            return castor_err_set(err, CASTOR_EINVAL,
                                  "data-plane route %s %s declares no data action", rt->method,
                                  rt->pattern);
        if ((plane == HTTP_PLANE_DATA || plane == HTTP_PLANE_ARM || plane == HTTP_PLANE_GRAPH) &&
            !rt->guard)
            return castor_err_set(err, CASTOR_EINVAL,
                                  "%s route %s %s declares no guard: name the plane's guard "
                                  "(access/access.h) in its table entry",
                                  http_plane_name(plane), rt->method, rt->pattern);
    }
    r->tables[r->ntables].plane = plane;
    r->tables[r->ntables].routes = table;
    r->tables[r->ntables].deps = deps;
    r->ntables++;
    return CASTOR_OK;
}

static int first_segment_is(const char *path, const char *seg)
{
    size_t n = strlen(seg);
    return path[0] == '/' && strncasecmp(path + 1, seg, n) == 0 &&
           (path[1 + n] == '/' || path[1 + n] == '\0');
}

http_plane_t http_router_plane(const char *path)
{
    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0) return HTTP_PLANE_SYSTEM;
    if (first_segment_is(path, "dt")) return HTTP_PLANE_DATA;
    if (first_segment_is(path, "subscriptions") || first_segment_is(path, "providers") ||
        first_segment_is(path, "tenants"))
        return HTTP_PLANE_ARM;
    if (first_segment_is(path, "v1.0") || first_segment_is(path, "beta")) return HTTP_PLANE_GRAPH;
    return HTTP_PLANE_IDENTITY;
}

/* Compares one pattern segment with one path segment; {x} captures. */
static int segment_match(const char *pat, size_t plen, const char *seg, size_t slen)
{
    if (plen >= 2 && pat[0] == '{' && pat[plen - 1] == '}') return slen > 0;
    return plen == slen && strncasecmp(pat, seg, slen) == 0;
}

/* Walks pattern and path together; captures params when req is not NULL. */
static int path_match(const char *pattern, const char *path, http_request_t *req)
{
    const char *p = pattern, *s = path;
    int nparams = 0;
    for (;;) {
        if (*p == '\0' && (*s == '\0' || (s[0] == '/' && s[1] == '\0'))) break;
        if (*p != '/' || *s != '/') return 0;
        p++;
        s++;
        const char *pe = strchr(p, '/'), *se = strchr(s, '/');
        size_t plen = pe ? (size_t)(pe - p) : strlen(p);
        size_t slen = se ? (size_t)(se - s) : strlen(s);
        if (!segment_match(p, plen, s, slen)) return 0;
        if (p[0] == '{' && req) {
            if (nparams >= HTTP_PARAMS_MAX) return 0;
            char *value = http_decode(&req->arena, s, slen, 0);
            if (!value) return 0;
            req->param_names[nparams] = arena_strndup(&req->arena, p + 1, plen - 2);
            req->param_values[nparams] = value;
            nparams++;
        }
        p += plen;
        s += slen;
    }
    if (req) req->nparams = nparams;
    return 1;
}

http_match_t http_router_match(const http_router_t *r, http_plane_t plane, const char *method,
                               const char *path, http_request_t *req, const http_route_t **route,
                               const char **allowed)
{
    char methods[64] = "";
    int path_seen = 0;
    *route = NULL;
    for (int t = 0; t < r->ntables; t++) {
        if (r->tables[t].plane != plane) continue;
        for (const http_route_t *rt = r->tables[t].routes; rt->method; rt++) {
            if (!path_match(rt->pattern, path, NULL)) continue;
            if (strcmp(rt->method, method) == 0) {
                /* Capturing decodes; a malformed escape in a parameter matches nothing. */
                if (!path_match(rt->pattern, path, req)) return HTTP_MATCH_NO_PATH;
                *route = rt;
                req->deps = r->tables[t].deps;
                return HTTP_MATCH_FOUND;
            }
            path_seen = 1;
            if (!strstr(methods, rt->method) &&
                strlen(methods) + strlen(rt->method) + 3 < sizeof methods) {
                if (methods[0]) strcat(methods, ", ");
                strcat(methods, rt->method);
            }
        }
    }
    if (path_seen) {
        if (allowed) *allowed = arena_strdup(&req->arena, methods);
        return HTTP_MATCH_NO_METHOD;
    }
    return HTTP_MATCH_NO_PATH;
}

void http_router_each(const http_router_t *r,
                      void (*fn)(http_plane_t plane, const http_route_t *route, void *ctx),
                      void *ctx)
{
    for (int t = 0; t < r->ntables; t++)
        for (const http_route_t *rt = r->tables[t].routes; rt->method; rt++)
            fn(r->tables[t].plane, rt, ctx);
}

int http_api_version_ok(const char *const *list, const char *version)
{
    if (!list || !version) return 0;
    for (; *list; list++)
        if (strcmp(*list, version) == 0) return 1;
    return 0;
}
