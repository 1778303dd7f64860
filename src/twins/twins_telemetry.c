/* twins_telemetry.c — POST /digitaltwins/{id}/telemetry and .../components/{c}/telemetry.
 *
 * Nothing is stored on the twin: the message becomes a `microsoft.iot.telemetry` event in the
 * outbox (id = Message-Id, source = <host>/digitaltwins/<id>, subject = the component,
 * dataschema = the twin's or component's model). The body may be any JSON value: the official
 * JS SDK sends a string for component telemetry (its arguments are swapped). Fields that name
 * a Telemetry of the model are checked against its schema; other fields pass, as on ADT.
 *
 * De-duplication (ADT: Message-Id is "unique per twin, used for de-dup"): a message whose id
 * this twin already sent within CASTOR_TELEMETRY_DEDUP_S is acknowledged (204) and makes no
 * second event, so a client retrying after a lost response never delivers a message twice. The
 * id is recorded in the transaction of its event, so both exist or neither does. */
#include "twins/twins_api.h"

#include "core/limits.h"
#include "store/store_twins.h"

#include <string.h>
#include <time.h>

static int check_fields(const dtdl_interface_t *iface, const json_t *body, castor_err *err)
{
    if (!iface || !json_is_object(body)) return CASTOR_OK;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)body, k, v)
    {
        const dtdl_content_t *c = dtdl_interface_content(iface, k);
        if (!c || c->kind != DTDL_CONTENT_TELEMETRY || !c->schema) continue;
        char at[CASTOR_ERR_PATH_MAX];
        snprintf(at, sizeof at, "$.%s", k);
        int rc = dtdl_validate_value(c->schema, v, at, err);
        if (rc < 0) return rc;
    }
    return CASTOR_OK;
}

static int send(http_request_t *req, http_response_t *resp, const char *component, castor_err *err)
{
    const char *id;
    twins_ctx_t ctx;
    int rc = twins_param_id(req, "id", &id, err);
    if (rc < 0) return rc;
    const char *msgid = http_request_header(req, "Message-Id");
    if (!msgid || !*msgid)
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                               "The Message-Id header is required: a unique id for this "
                               "telemetry message.");
    if (strlen(msgid) > TWINS_ID_MAX)
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                               "The Message-Id header is %zu bytes long; at most %u are allowed.",
                               strlen(msgid), TWINS_ID_MAX);
    const char *stime = http_request_header(req, "Telemetry-Source-Time");
    if (stime && !twins_is_datetime(stime))
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                               "The Telemetry-Source-Time header %s is not an RFC 3339 time such "
                               "as 2021-11-30T18:47:53.7648958Z.",
                               stime);
    if (!req->json)
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                               "The telemetry body must be JSON.");
    rc = twins_begin(req, &ctx, 1, err);
    if (rc < 0) return rc;
    store_txn_t *t = NULL;
    store_twin_t tw;
    const char *schema = NULL;
    rc = store_begin(ctx.store, STORE_WRITE, &t, err);
    if (rc == 0) {
        rc = store_twin_get(t, ctx.instance, id, &req->arena, &tw, err);
        if (rc == CASTOR_ENOTFOUND) rc = twins_err_twin_not_found(err, id);
    }
    if (rc == 0) {
        const dtdl_interface_t *iface = twins_iface(&ctx, tw.model_id);
        schema = tw.model_id;
        if (component) {
            const dtdl_content_t *c = iface ? dtdl_interface_content(iface, component) : NULL;
            if (!c || c->kind != DTDL_CONTENT_COMPONENT) {
                rc = twins_err_component_not_found(err, id, component);
            } else {
                schema = c->component_interface;
                iface = twins_iface(&ctx, schema);
            }
        }
        if (rc == 0) rc = check_fields(iface, req->json, err);
    }
    int fresh = 1;
    if (rc == 0)
        rc = store_telemetry_seen(t, ctx.instance, id, msgid, (int64_t)time(NULL),
                                  CASTOR_TELEMETRY_DEDUP_S, &fresh, err);
    if (rc == 0 && fresh) {
        const char *source = arena_sprintf(&req->arena, "%s/digitaltwins/%s", twins_host(&ctx), id);
        rc = twins_emit(&ctx, t, "microsoft.iot.telemetry", component, source, msgid, schema,
                        req->json, stime ? "telemetrysourcetime" : NULL, stime, err);
    }
    rc = twins_end(&ctx, t, rc, err);
    twins_done(&ctx);
    if (rc < 0) return rc;
    resp->status = 204;
    return CASTOR_OK;
}

int twins_telemetry(http_request_t *req, http_response_t *resp, castor_err *err)
{
    return send(req, resp, NULL, err);
}

int twins_component_telemetry(http_request_t *req, http_response_t *resp, castor_err *err)
{
    return send(req, resp, http_request_param(req, "componentPath"), err);
}
