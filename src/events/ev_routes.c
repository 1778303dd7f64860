/* ev_routes.c — event-route handlers (ev_routes.h). Errors are ADT's: EventRouteIdInvalid,
 * EventRouteEndpointInvalid, EventRouteFilterInvalid, LimitExceeded, EventRouteNotFound. */
#include "events/ev_routes.h"

#include "core/limits.h"
#include "events/ev_filter.h"
#include "store/store_endpoints.h"
#include "store/store_events.h"
#include "events/ev_dispatch.h"
#include "twins/twins_api.h"
#include "twins/twins_routes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A route changed: the dispatcher re-reads routes now rather than at its next refresh. */
static void tell_dispatcher(const http_request_t *req)
{
    const twins_deps_t *deps = twins_deps(req);
    if (deps) ev_dispatch_poke(deps->events);
}

static int route_id(http_request_t *req, const char **out, castor_err *err)
{
    const char *id = http_request_param(req, "id");
    *out = id;
    size_t n = id ? strlen(id) : 0;
    int ok = n > 0 && n <= EV_ROUTE_ID_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = id[i] > 0x20 && id[i] < 0x7f && !strchr("/?#", id[i]);
    if (!ok)
        return castor_err_http(err, CASTOR_EINVAL, 400, "EventRouteIdInvalid",
                               "The event route id '%.*s' is not valid: use 1 to %u printable "
                               "characters other than '/', '?', '#' and spaces.",
                               (int)(n > 200 ? 200 : n), id ? id : "", EV_ROUTE_ID_MAX);
    return CASTOR_OK;
}

static int not_found(castor_err *err, const char *id)
{
    return castor_err_http(err, CASTOR_ENOTFOUND, 404, "EventRouteNotFound",
                           "There is no event route with the id %s on this instance. List the "
                           "routes with GET /eventroutes (castor dt route list).",
                           id);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The route's endpoint must exist on the instance and be ready (provisioningState
 * Succeeded): ADT answers EventRouteEndpointInvalid otherwise. */
static int check_endpoint(store_txn_t *t, twins_ctx_t *ctx, const char *name, castor_err *err)
{
    store_endpoint_t ep = {0};
    int rc = store_endpoint_get(t, ctx->instance, name, &ep, err);
    if (rc == CASTOR_ENOTFOUND)
        return castor_err_http(err, CASTOR_EINVAL, 400, "EventRouteEndpointInvalid",
                               "The endpoint '%s' does not exist on the instance %s. Create it "
                               "first (castor dt endpoint create webhook|mqtt -n %s --en %s ...) "
                               "or name an existing one (castor dt endpoint list -n %s).",
                               name, ctx->req->instance, ctx->req->instance, name,
                               ctx->req->instance);
    if (rc == 0 && strcmp(ep.state, "Succeeded") != 0)
        rc = castor_err_http(err, CASTOR_EINVAL, 400, "EventRouteEndpointInvalid",
                             "The endpoint '%s' is not active (its provisioningState is %s); "
                             "wait until it is Succeeded.",
                             name, ep.state);
    store_endpoint_clear(&ep);
    return rc;
}

int ev_routes_put(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *id = NULL;
    int rc = route_id(req, &id, err);
    if (rc < 0) return rc;
    const json_t *body = req->json;
    if (!json_is_object(body))
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                               "The body must be a JSON object {\"endpointName\": ..., "
                               "\"filter\": ...}.");
    json_t *jep = json_object_get(body, "endpointName");
    json_t *jf = json_object_get(body, "filter");
    if (!json_is_string(jep) || !json_string_length(jep))
        return castor_err_http(err, CASTOR_EINVAL, 400, "EventRouteEndpointInvalid",
                               "The event route needs an endpointName: the name of an endpoint "
                               "of this instance.");
    if (!json_is_string(jf))
        return castor_err_http(err, CASTOR_EINVAL, 400, "EventRouteFilterInvalid",
                               "The event route needs a filter (a string): \"true\" routes every "
                               "event, e.g. \"type = 'Microsoft.DigitalTwins.Twin.Create'\".");
    ev_filter_t *filter = NULL;
    rc = ev_filter_compile(json_string_value(jf), json_string_length(jf), &filter, err);
    ev_filter_free(filter);
    if (rc < 0) return rc;

    twins_ctx_t ctx;
    rc = twins_begin(req, &ctx, 0, err);
    store_txn_t *t = NULL;
    if (rc == 0) rc = store_begin(ctx.store, STORE_WRITE, &t, err);
    if (rc == 0) rc = check_endpoint(t, &ctx, json_string_value(jep), err);
    arena_t *a = &req->arena;
    store_route_t old;
    int exists = 0;
    if (rc == 0) {
        rc = store_route_get(t, ctx.instance, id, a, &old, err);
        exists = rc == 0;
        if (rc == CASTOR_ENOTFOUND) rc = 0;
    }
    if (rc == 0 && !exists) {
        int n = 0;
        rc = store_route_count(t, ctx.instance, &n, err);
        if (rc == 0 && n >= (int)CASTOR_ROUTES_PER_INSTANCE_MAX)
            rc = castor_err_http(err, CASTOR_ELIMIT, 400, "LimitExceeded",
                                 "The instance has %d event routes, the most allowed (ADT's limit "
                                 "is %u). Delete one first (castor dt route delete).",
                                 n, CASTOR_ROUTES_PER_INSTANCE_MAX);
    }
    if (rc == 0)
        rc = store_route_put(t, ctx.instance, id, json_string_value(jep), json_string_value(jf),
                             now_ms(), NULL, err);
    if (rc == 0)
        rc = store_commit(t, err);
    else
        store_rollback(t);
    twins_done(&ctx);
    if (rc < 0) return rc;
    tell_dispatcher(req);
    resp->status = 204;
    return CASTOR_OK;
}

static json_t *route_json(const store_route_t *r)
{
    return json_pack("{s:s, s:s, s:s}", "id", r->id, "endpointName", r->endpoint_name, "filter",
                     r->filter);
}

int ev_routes_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *id = NULL;
    int rc = route_id(req, &id, err);
    if (rc < 0) return rc;
    twins_ctx_t ctx;
    rc = twins_begin(req, &ctx, 0, err);
    store_txn_t *t = NULL;
    store_route_t r;
    if (rc == 0) rc = store_begin(ctx.store, STORE_READ, &t, err);
    if (rc == 0) rc = store_route_get(t, ctx.instance, id, &req->arena, &r, err);
    store_rollback(t);
    twins_done(&ctx);
    if (rc == CASTOR_ENOTFOUND) return not_found(err, id);
    if (rc < 0) return rc;
    json_t *body = route_json(&r);
    rc = http_response_json(req, resp, 200, body, err);
    json_decref(body);
    return rc;
}

typedef struct page {
    json_t *value;
    int64_t limit, last;
    int more;
} page_t;

static int page_row(const store_route_t *r, void *ctx)
{
    page_t *p = ctx;
    if ((int64_t)json_array_size(p->value) >= p->limit) {
        p->more = 1;
        return 1;
    }
    json_array_append_new(p->value, route_json(r));
    p->last = r->seq;
    return 0;
}

static int int_arg(const char *v, const char *what, int64_t min, int64_t *out, castor_err *err)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < min)
        return castor_err_http(
            err, CASTOR_EINVAL, 400, "InvalidArgument", "The %s '%s' is not valid: %s.", what, v,
            min ? "use a positive integer" : "use the nextLink of the previous page as it is");
    *out = n;
    return CASTOR_OK;
}

int ev_routes_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    int64_t limit = CASTOR_ROUTES_PER_INSTANCE_MAX, after = 0;
    const char *mip = http_request_header(req, "max-items-per-page");
    const char *tok = http_request_query(req, "continuationToken");
    int rc = mip ? int_arg(mip, "max-items-per-page header", 1, &limit, err) : 0;
    if (rc == 0 && tok && *tok) rc = int_arg(tok, "continuationToken", 0, &after, err);
    if (rc < 0) return rc;
    twins_ctx_t ctx;
    rc = twins_begin(req, &ctx, 0, err);
    store_txn_t *t = NULL;
    page_t p = {.value = json_array(), .limit = limit};
    if (rc == 0) rc = store_begin(ctx.store, STORE_READ, &t, err);
    if (rc == 0) rc = store_route_each(t, ctx.instance, after, limit + 1, page_row, &p, err);
    store_rollback(t);
    if (rc == 0) {
        json_t *link = json_null();
        if (p.more) {
            const char *s = arena_sprintf(
                &req->arena, "https://%s/eventroutes?continuationToken=%lld%s%s", twins_host(&ctx),
                (long long)p.last, req->api_version ? "&api-version=" : "",
                req->api_version ? req->api_version : "");
            link = s ? json_string(s) : json_null();
        }
        json_t *body = json_pack("{s:O, s:o}", "value", p.value, "nextLink", link);
        rc = http_response_json(req, resp, 200, body, err);
        json_decref(body);
    }
    twins_done(&ctx);
    json_decref(p.value);
    return rc;
}

int ev_routes_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *id = NULL;
    int rc = route_id(req, &id, err);
    if (rc < 0) return rc;
    twins_ctx_t ctx;
    rc = twins_begin(req, &ctx, 0, err);
    store_txn_t *t = NULL;
    if (rc == 0) rc = store_begin(ctx.store, STORE_WRITE, &t, err);
    if (rc == 0) rc = store_route_delete(t, ctx.instance, id, err);
    if (rc == 0)
        rc = store_commit(t, err);
    else
        store_rollback(t);
    twins_done(&ctx);
    if (rc == CASTOR_ENOTFOUND) return not_found(err, id);
    if (rc < 0) return rc;
    tell_dispatcher(req);
    resp->status = 204;
    return CASTOR_OK;
}
