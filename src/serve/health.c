/* health.c — liveness and readiness probes (see health.h). */
#include "serve/health.h"

#include "serve/app.h"

static int healthz(http_request_t *req, http_response_t *resp, castor_err *err)
{
    json_t *body = json_pack("{s:s, s:s}", "status", "ok", "version", CASTOR_VERSION);
    int rc = http_response_json(req, resp, 200, body, err);
    json_decref(body);
    return rc;
}

static int readyz(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const castor_app_t *app = req->deps; /* registered by serve.c */
    castor_err why;
    if (store_ping(app->store, &why) < 0)
        return castor_err_http(err, CASTOR_EIO, 503, "ServiceUnavailable",
                               "The store is not answering: %s", why.message);
    json_t *body = json_pack("{s:s, s:i}", "status", "ready", "schemaVersion",
                             store_schema_version(app->store));
    int rc = http_response_json(req, resp, 200, body, err);
    json_decref(body);
    return rc;
}

const http_route_t health_routes[] = {
    {"GET", "/healthz", healthz, "Healthz", NULL, NULL, 0, 0},
    {"GET", "/readyz", readyz, "Readyz", NULL, NULL, 0, 0},
    {0},
};
