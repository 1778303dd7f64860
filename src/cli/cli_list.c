/* cli_list.c — fetching every page of a list, whichever way the plane pages it: ARM and the
 * ADT data plane answer {value, nextLink} with an absolute nextLink to GET; POST /query answers
 * {value, continuationToken} to send back in the next body. Each list command names its first
 * request and gets one array, so no command writes its own paging loop. */
#include "cli/cli_internal.h"

#include <stdlib.h>

json_t *cli_call_req(cli_ctx_t *ctx, const cli_http_req_t *req, long *status)
{
    cli_http_resp_t resp;
    if (status) *status = 0;
    if (cli_http(ctx, req, &resp) < 0) return NULL;
    if (status) *status = resp.status;
    json_t *out = NULL;
    if (resp.status >= 200 && resp.status < 300)
        out = resp.json ? json_incref(resp.json) : json_null();
    else
        cli_error_from_response(ctx, &resp);
    cli_http_resp_free(&resp);
    return out;
}

json_t *cli_list_all(cli_ctx_t *ctx, const cli_http_req_t *first, double *charge)
{
    if (charge) *charge = 0;
    if (!first->url) {
        /* Whatever should have made the URL failed; it said why, or this says there was none. */
        if (ctx->err.rc == 0) cli_fail(ctx, CASTOR_EINTERNAL, "no URL to list");
        return NULL;
    }
    cli_http_req_t req = *first;
    json_t *body = NULL; /* the continuation's body (req.json then points to it), owned here */
    json_t *all = json_array();
    int rc = 0;
    while (req.url && rc == 0) {
        cli_http_resp_t resp;
        if ((rc = cli_http(ctx, &req, &resp)) < 0) break;
        if (resp.status < 200 || resp.status > 299) {
            rc = cli_error_from_response(ctx, &resp);
            cli_http_resp_free(&resp);
            break;
        }
        json_array_extend(all, json_object_get(resp.json, "value"));
        const char *c = cli_http_header(&resp, "query-charge");
        if (charge && c) *charge += atof(c);
        const char *next = json_string_value(json_object_get(resp.json, "nextLink"));
        json_t *token = json_object_get(resp.json, "continuationToken");
        if (next) {
            req.method = "GET";
            req.url = cli_arena_strdup(ctx, next);
            req.json = NULL;
            req.form = NULL;
        } else if (json_is_string(token) && json_is_object(first->json)) {
            json_decref(body);
            body = json_deep_copy(first->json);
            json_object_set(body, "continuationToken", token);
            req.json = body;
        } else {
            req.url = NULL;
        }
        cli_http_resp_free(&resp);
    }
    json_decref(body);
    if (rc < 0) {
        json_decref(all);
        return NULL;
    }
    return all;
}

json_t *cli_get_all(cli_ctx_t *ctx, const char *url, const char *resource)
{
    cli_http_req_t req = {.method = "GET", .url = url, .resource = resource};
    return cli_list_all(ctx, &req, NULL);
}
