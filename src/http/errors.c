/* errors.c — one castor_err, rendered in the shape of the plane that answers.
 *
 *   data plane, system  {"error":{"code","message"}}          + x-ms-error-code   (ADT)
 *   resource manager    {"error":{"code","message"}}          + x-ms-failure-cause (ARM)
 *   identity            {"error","error_description","error_codes",...}          (OAuth, Entra)
 *   graph               {"error":{"code","message","innerError":{...}}}           (OData)
 *
 * A wire code the failing code did not choose is derived from the HTTP status. On the
 * identity plane err->code is "oauth_error" or "oauth_error:AADSTS-number". */
#include "http/http.h"

#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *default_code(http_plane_t plane, int status)
{
    if (plane == HTTP_PLANE_IDENTITY) {
        switch (status) {
        case 401:
            return "invalid_client";
        case 404:
            return "invalid_request:900561";
        case 405:
            return "invalid_request:900561";
        case 413:
            return "invalid_request:90014";
        case 500:
            return "server_error";
        case 503:
            return "temporarily_unavailable";
        default:
            return "invalid_request";
        }
    }
    if (plane == HTTP_PLANE_GRAPH) {
        switch (status) {
        case 400:
            return "Request_BadRequest";
        case 401:
            return "InvalidAuthenticationToken";
        case 403:
            return "Authorization_RequestDenied";
        case 404:
            return "Request_ResourceNotFound";
        default:
            return "generalException";
        }
    }
    switch (status) {
    case 400:
        return "BadRequest";
    case 401:
        return plane == HTTP_PLANE_ARM ? "AuthenticationFailed" : "Unauthorized";
    case 403:
        return plane == HTTP_PLANE_ARM ? "AuthorizationFailed" : "Forbidden";
    case 404:
        return plane == HTTP_PLANE_ARM ? "NotFound" : "NotFound";
    case 405:
        return "MethodNotAllowed";
    case 409:
        return "Conflict";
    case 412:
        return "PreconditionFailed";
    case 413:
        return "PayloadTooLarge";
    case 429:
        return "TooManyRequests";
    case 501:
        return "NotImplemented";
    case 503:
        return "ServiceUnavailable";
    default:
        return "InternalServerError";
    }
}

static const char *message_with_path(http_request_t *req, const castor_err *err)
{
    if (!err->path[0] || strstr(err->message, err->path)) return err->message;
    return arena_sprintf(&req->arena, "%s (at %s)", err->message, err->path);
}

static json_t *oauth_body(http_request_t *req, const char *code, const char *message)
{
    char error[64];
    long aadsts = 0;
    const char *colon = strchr(code, ':');
    if (colon) {
        snprintf(error, sizeof error, "%.*s", (int)(colon - code), code);
        aadsts = strtol(colon + 1, NULL, 10);
    } else {
        snprintf(error, sizeof error, "%s", code);
    }
    char when[40], stamp[40];
    time_format_rfc3339_now(when, sizeof when);
    /* Entra's timestamp form: "2026-11-26 02:32:13Z". */
    snprintf(stamp, sizeof stamp, "%.10s %.8sZ", when, when + 11);
    const char *trace = req->request_id;
    const char *corr = req->client_request_id ? req->client_request_id : req->request_id;
    const char *desc =
        aadsts
            ? arena_sprintf(&req->arena,
                            "AADSTS%ld: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
                            aadsts, message, trace, corr, stamp)
            : arena_sprintf(&req->arena,
                            "%s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", message,
                            trace, corr, stamp);
    json_t *codes = json_array();
    if (aadsts) json_array_append_new(codes, json_integer(aadsts));
    json_t *body = json_pack("{s:s, s:s, s:o, s:s, s:s, s:s}", "error", error, "error_description",
                             desc ? desc : message, "error_codes", codes, "timestamp", stamp,
                             "trace_id", trace, "correlation_id", corr);
    if (body && aadsts) {
        char uri[96];
        snprintf(uri, sizeof uri, "https://login.microsoftonline.com/error?code=%ld", aadsts);
        json_object_set_new(body, "error_uri", json_string(uri));
    }
    return body;
}

void http_render_error(http_request_t *req, http_response_t *resp, const castor_err *err)
{
    int status = err->status ? err->status : castor_rc_status(err->rc);
    const char *code = err->code[0] ? err->code : default_code(req->plane, status);
    const char *message = message_with_path(req, err);
    if (!message || !message[0]) message = "The request failed.";
    json_t *body;
    switch (req->plane) {
    case HTTP_PLANE_IDENTITY:
        body = oauth_body(req, code, message);
        break;
    case HTTP_PLANE_GRAPH: {
        char when[40];
        time_format_rfc3339_now(when, sizeof when);
        body = json_pack("{s:{s:s, s:s, s:{s:s, s:s, s:s?}}}", "error", "code", code, "message",
                         message, "innerError", "date", when, "request-id", req->request_id,
                         "client-request-id", req->client_request_id);
        break;
    }
    default:
        body = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message);
        if (body && req->error_details)
            json_object_set(json_object_get(body, "error"), "details", req->error_details);
        if (body && req->error_inner)
            json_object_set(json_object_get(body, "error"), "innererror", req->error_inner);
        http_response_header(
            req, resp, req->plane == HTTP_PLANE_ARM ? "x-ms-failure-cause" : "x-ms-error-code",
            req->plane == HTTP_PLANE_ARM ? "gateway" : code);
        if (req->plane == HTTP_PLANE_ARM) http_response_header(req, resp, "x-ms-error-code", code);
        break;
    }
    castor_err ignored;
    if (req->error_body_empty) {
        /* Azure answers some refusals with no body; castor can too (fidelity tests). */
        json_decref(body);
        resp->status = status;
        resp->body = NULL;
        resp->body_len = 0;
        resp->content_type = NULL;
        return;
    }
    if (!body || http_response_json(req, resp, status, body, &ignored) < 0)
        http_response_text(req, resp, status, "text/plain; charset=utf-8", message);
    json_decref(body);
}
