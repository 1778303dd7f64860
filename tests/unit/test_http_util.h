/* test_http_util.h — the fixture the handler tests share: an app on a real SQLite store in a
 * temporary folder, and requests built as the listener builds them, run on one handler with
 * no listener. Include after <cmocka.h>: a request body that is not JSON fails the test. */
#ifndef CASTOR_TEST_HTTP_UTIL_H
#define CASTOR_TEST_HTTP_UTIL_H

#include "core/limits.h"
#include "http/http.h"
#include "serve/app.h"
#include "store/store.h"
#include "twins/models_cache.h"
#include "test_seed.h"
#include "test_util.h"

/* Opens app->store (connections pooled) and a models cache in a fresh folder, *dir (caller
 * gives it back with test_app_close). Returns 0, or -1 having printed the cause. */
static inline int test_app_open(castor_app_t *app, char **dir, unsigned connections)
{
    if (test_store_open_tmp(connections, dir, &app->store) < 0) return -1;
    snprintf(app->cfg.public_url, sizeof app->cfg.public_url, "https://localhost:8443");
    app->models = models_cache_new();
    castor_app_wire(app);
    return 0;
}

static inline void test_app_close(castor_app_t *app, char *dir)
{
    models_cache_free(app->models);
    test_store_close_tmp(app->store, dir);
}

typedef struct test_call {
    http_request_t req;
    http_response_t resp;
    castor_err err;
    int rc;
    int status;
    json_t *body;     /* the parsed response body, or NULL */
    const char *code; /* x-ms-error-code, or NULL */
    const char *etag; /* ETag, or NULL */
} test_call_t;

/* A data-plane request for /dt/{instance}{path}?{query} with body (JSON or NULL); the caller
 * may add route parameters and headers to c->req before test_call_run. Caller frees with
 * test_call_free. */
static inline test_call_t *test_call_new(castor_app_t *app, const char *instance, const char *path,
                                         const char *query, const char *body)
{
    test_call_t *c = calloc(1, sizeof *c);
    http_request_t *r = &c->req;
    arena_init(&r->arena, CASTOR_REQUEST_ARENA_MAX);
    r->access = &app->access;
    r->deps = &app->twins;
    r->plane = HTTP_PLANE_DATA;
    r->instance = instance;
    r->path = arena_sprintf(&r->arena, "/dt/%s%s", instance, path);
    r->query = query ? query : "";
    r->api_version = "2022-05-31";
    snprintf(r->request_id, sizeof r->request_id, "test");
    if (body) {
        r->body = body;
        r->body_len = strlen(body);
        r->json = json_loads(body, JSON_DECODE_ANY, NULL);
        assert_non_null(r->json);
    }
    return c;
}

/* Runs h on c's request; a failure is rendered as the listener renders it. */
static inline test_call_t *test_call_run(test_call_t *c, http_handler_fn h)
{
    http_request_t *r = &c->req;
    castor_err_clear(&c->err);
    c->rc = h(r, &c->resp, &c->err);
    if (c->rc < 0) http_render_error(r, &c->resp, &c->err);
    c->status = c->resp.status ? c->resp.status : (c->resp.body ? 200 : 204);
    if (c->resp.body) c->body = json_loadb(c->resp.body, c->resp.body_len, 0, NULL);
    for (http_header_t *hd = c->resp.headers; hd; hd = hd->next) {
        if (strcmp(hd->name, "x-ms-error-code") == 0) c->code = hd->value;
        if (strcmp(hd->name, "ETag") == 0) c->etag = hd->value;
    }
    return c;
}

static inline void test_call_free(test_call_t *c)
{
    json_decref(c->body);
    json_decref(c->req.json);
    arena_free(&c->req.arena);
    free(c);
}

#endif
