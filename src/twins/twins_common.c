/* twins_common.c — what the twin-graph handlers share: the request context (instance, graph),
 * ids, preconditions, ETags, ADT's errors, and writing notifications to the outbox. */
#include "twins/twins_api.h"
#include "twins/twins_routes.h"

#include "core/ids.h"
#include "core/json.h"
#include "events/ev_dispatch.h"
#include "store/store_models.h"
#include "store/store_twins.h"
#include "twins/models_api.h"
#include "twins/models_cache.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int twins_begin(http_request_t *req, twins_ctx_t *ctx, int with_graph, castor_err *err)
{
    const twins_deps_t *deps = twins_deps(req);
    memset(ctx, 0, sizeof *ctx);
    ctx->req = req;
    ctx->store = deps ? deps->store : NULL;
    ctx->cache = deps ? deps->models : NULL;
    ctx->instance = req->instance_id;
    ctx->instance_key = models_instance_key(req);
    if (!ctx->store || !ctx->instance || !ctx->instance_key)
        return castor_err_set(err, CASTOR_EINTERNAL, "the data plane has no instance or store");
    if (!with_graph) return CASTOR_OK;
    return models_graph_get(ctx->cache, ctx->store, ctx->instance_key, &ctx->graph, err);
}

void twins_done(twins_ctx_t *ctx)
{
    if (ctx->graph) models_graph_release(ctx->graph);
    ctx->graph = NULL;
}

const dtdl_interface_t *twins_iface(const twins_ctx_t *ctx, const char *model_id)
{
    if (!ctx->graph || !ctx->graph->graph || !model_id) return NULL;
    return dtdl_graph_find(ctx->graph->graph, model_id);
}

int twins_param_id(http_request_t *req, const char *name, const char **out, castor_err *err)
{
    const char *v = http_request_param(req, name);
    *out = v;
    if (!v || !*v)
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                               "The %s is empty. Provide a non-empty id.", name);
    if (strlen(v) > TWINS_ID_MAX)
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                               "The %s is %zu bytes long; at most %u are allowed.", name, strlen(v),
                               TWINS_ID_MAX);
    return CASTOR_OK;
}

/* An entity tag as RFC 7232 writes one: "x" or W/"x". */
static int etag_syntax_ok(const char *s)
{
    if (strncmp(s, "W/", 2) == 0) s += 2;
    size_t n = strlen(s);
    return n >= 2 && s[0] == '"' && s[n - 1] == '"' && !memchr(s + 1, '"', n - 2);
}

int twins_conditions(http_request_t *req, twins_cond_t *cond, castor_err *err)
{
    memset(cond, 0, sizeof *cond);
    const char *im = http_request_header(req, "If-Match");
    if (im) {
        while (*im == ' ')
            im++;
        if (strcmp(im, "*") != 0 && !etag_syntax_ok(im))
            return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                                   "Invalid If-Match header value. Allowed value(s): If-Match: "
                                   "{etag} or If-Match: *");
        cond->if_match = im;
    }
    const char *inm = http_request_header(req, "If-None-Match");
    if (inm) {
        while (*inm == ' ')
            inm++;
        if (strcmp(inm, "*") != 0)
            return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                                   "Invalid If-None-Match header value. Allowed value(s): "
                                   "If-None-Match: *");
        cond->if_none_match_any = 1;
    }
    return CASTOR_OK;
}

/* Weak comparison (RFC 7232 §2.3.2): W/"x" matches "x". */
static const char *opaque(const char *tag)
{
    return strncmp(tag, "W/", 2) == 0 ? tag + 2 : tag;
}

int twins_check_if_match(const twins_cond_t *cond, const char *etag, castor_err *err)
{
    if (!cond->if_match || strcmp(cond->if_match, "*") == 0) return CASTOR_OK;
    if (etag && strcmp(opaque(cond->if_match), opaque(etag)) == 0) return CASTOR_OK;
    return castor_err_http(err, CASTOR_EPRECOND, 412, "PreconditionFailed",
                           "The If-Match header %s does not match the current ETag %s: the "
                           "resource was changed since you read it. Read it again and retry.",
                           cond->if_match, etag ? etag : "(none)");
}

void twins_new_etag(char *out, size_t size)
{
    /* W/"<guid>": assembled directly, as ETags are made on every write. */
    if (!size) return;
    char g[CASTOR_GUID_LEN + 4 + 1] = "W/\"";
    ids_guid(g + 3);
    g[3 + CASTOR_GUID_LEN] = '"';
    g[4 + CASTOR_GUID_LEN] = '\0';
    size_t n = 4 + CASTOR_GUID_LEN < size ? 4 + CASTOR_GUID_LEN : size - 1;
    memcpy(out, g, n);
    out[n] = '\0';
}

void twins_now(char *out, size_t size)
{
    models_upload_time(out, size);
}

int twins_err_twin_not_found(castor_err *err, const char *id)
{
    return castor_err_http(err, CASTOR_ENOTFOUND, 404, "DigitalTwinNotFound",
                           "There is no digital twin instance that exists with the ID %s. Please "
                           "verify that the twin id is valid and ensure that the twin is not "
                           "deleted. See section on querying the twins https://aka.ms/adtv2query.",
                           id);
}

int twins_err_rel_not_found(castor_err *err, const char *source, const char *id)
{
    return castor_err_http(err, CASTOR_ENOTFOUND, 404, "RelationshipNotFound",
                           "There is no relationship with the ID %s on the digital twin %s. "
                           "Please verify that the relationship id is valid and ensure that the "
                           "relationship is not deleted.",
                           id, source);
}

int twins_err_component_not_found(castor_err *err, const char *twin, const char *component)
{
    return castor_err_http(err, CASTOR_ENOTFOUND, 404, "ComponentNotFound",
                           "The component %s does not exist on the digital twin %s: its model "
                           "declares no component of that name.",
                           component, twin);
}

int twins_err_patch(castor_err *err, const char *fmt, ...)
{
    char msg[CASTOR_ERR_MESSAGE_MAX - 160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return castor_err_http(err, CASTOR_EINVAL, 400, "JsonPatchInvalid",
                           "%s Please provide a valid patch document. See section on update apis "
                           "in the documentation https://aka.ms/adtv2twins.",
                           msg);
}

const char *twins_host(twins_ctx_t *ctx)
{
    const twins_deps_t *deps = twins_deps(ctx->req);
    const char *base = deps && deps->public_url ? deps->public_url : "";
    const char *host = strstr(base, "://");
    host = host ? host + 3 : base;
    size_t n = strlen(host);
    while (n && host[n - 1] == '/')
        n--;
    return arena_sprintf(&ctx->req->arena, "%.*s/dt/%s", (int)n, host,
                         ctx->req->instance ? ctx->req->instance : "");
}

/* A CloudEvents envelope member as written so far: name and string value. */
typedef struct ev_field {
    const char *name;
    const char *value;
} ev_field_t;

/* 1 when v is printable ASCII, which the envelope can write with only " and \ escaped. */
static int plain_ascii(const char *v)
{
    for (const unsigned char *c = (const unsigned char *)v; *c; c++)
        if (*c < 0x20 || *c >= 0x7f) return 0;
    return 1;
}

/* The envelope {..fields.., "data": data_text} written directly: building it as a jansson
 * object and dumping it cost more than the data itself (every write makes one). Any value that
 * is not printable ASCII goes through jansson instead, which checks UTF-8 and escapes control
 * characters exactly as before (and drops a field whose value is not UTF-8). Caller frees. */
static char *event_compose(const ev_field_t *f, int n, const char *data_text)
{
    int plain = 1;
    size_t size = strlen(data_text) + 16;
    for (int i = 0; i < n; i++) {
        plain = plain && plain_ascii(f[i].value);
        size += strlen(f[i].name) + 2 * strlen(f[i].value) + 8;
    }
    if (!plain) {
        json_t *ev = json_object();
        for (int i = 0; ev && i < n; i++)
            json_object_set_new(ev, f[i].name, json_string(f[i].value));
        char *head = ev ? json_dump_compact(ev) : NULL;
        json_decref(ev);
        if (!head) return NULL;
        size_t hn = strlen(head); /* "{...}" or "{}": the data goes before the closing brace */
        char *text = malloc(hn + strlen(data_text) + 16);
        if (text)
            sprintf(text, "%.*s%s\"data\":%s}", (int)(hn - 1), head, hn > 2 ? "," : "", data_text);
        free(head);
        return text;
    }
    char *text = malloc(size), *o = text;
    if (!text) return NULL;
    *o++ = '{';
    for (int i = 0; i < n; i++) {
        o += sprintf(o, "\"%s\":\"", f[i].name);
        for (const char *c = f[i].value; *c; c++) {
            if (*c == '"' || *c == '\\') *o++ = '\\';
            *o++ = *c;
        }
        *o++ = '"';
        *o++ = ',';
    }
    o += sprintf(o, "\"data\":%s}", data_text);
    return text;
}

char *twins_event_text_raw(twins_ctx_t *ctx, const char *type, const char *subject,
                           const char *source, const char *id, const char *dataschema,
                           const char *data_text, const char *extra_name, const char *extra_value,
                           castor_err *err)
{
    char guid[CASTOR_GUID_LEN + 1];
    if (!id) {
        ids_guid(guid);
        id = guid;
    }
    char now[40];
    twins_now(now, sizeof now);
    ev_field_t f[10];
    int n = 0;
    f[n++] = (ev_field_t){"specversion", "1.0"};
    f[n++] = (ev_field_t){"id", id};
    f[n++] = (ev_field_t){"source", source ? source : twins_host(ctx)};
    f[n++] = (ev_field_t){"type", type};
    if (subject) f[n++] = (ev_field_t){"subject", subject};
    f[n++] = (ev_field_t){"time", now};
    f[n++] = (ev_field_t){"datacontenttype", "application/json"};
    if (dataschema) f[n++] = (ev_field_t){"dataschema", dataschema};
    const char *tp = http_request_header(ctx->req, "traceparent");
    if (tp) f[n++] = (ev_field_t){"traceparent", tp};
    if (extra_name && extra_value) f[n++] = (ev_field_t){extra_name, extra_value};
    char *text = event_compose(f, n, data_text);
    if (!text) castor_err_set(err, CASTOR_ENOMEM, "out of memory writing an event");
    return text;
}

char *twins_event_text(twins_ctx_t *ctx, const char *type, const char *subject, const char *source,
                       const char *id, const char *dataschema, const json_t *data,
                       const char *extra_name, const char *extra_value, castor_err *err)
{
    char *data_text = json_dump_compact(data);
    if (!data_text) {
        castor_err_set(err, CASTOR_ENOMEM, "out of memory writing an event");
        return NULL;
    }
    char *text = twins_event_text_raw(ctx, type, subject, source, id, dataschema, data_text,
                                      extra_name, extra_value, err);
    free(data_text);
    return text;
}

int twins_emit_raw(twins_ctx_t *ctx, store_txn_t *t, const char *type, const char *subject,
                   const char *data_text, castor_err *err)
{
    char *text =
        twins_event_text_raw(ctx, type, subject, NULL, NULL, NULL, data_text, NULL, NULL, err);
    if (!text) return CASTOR_ENOMEM;
    int rc = store_outbox_add(t, ctx->instance, type, subject ? subject : "", text, err);
    free(text);
    return rc;
}

int twins_emit(twins_ctx_t *ctx, store_txn_t *t, const char *type, const char *subject,
               const char *source, const char *id, const char *dataschema, const json_t *data,
               const char *extra_name, const char *extra_value, castor_err *err)
{
    char *text = twins_event_text(ctx, type, subject, source, id, dataschema, data, extra_name,
                                  extra_value, err);
    if (!text) return CASTOR_ENOMEM;
    int rc = store_outbox_add(t, ctx->instance, type, subject ? subject : "", text, err);
    free(text);
    return rc;
}

int twins_respond_json(http_request_t *req, http_response_t *resp, const json_t *body,
                       const char *etag, castor_err *err)
{
    int rc = http_response_json(req, resp, 200, body, err);
    if (rc == 0 && etag) http_response_header(req, resp, "ETag", etag);
    return rc;
}

static void pending_notify(void *obj, void (*wake)(void *), void *arg)
{
    store_pending_notify(obj, wake, arg);
}

static int pending_finish(void *obj, castor_err *err)
{
    return store_pending_finish(obj, err);
}

int twins_end(twins_ctx_t *ctx, store_txn_t *t, int rc, castor_err *err)
{
    if (rc < 0 || !t) {
        store_rollback(t);
        return rc;
    }
    http_request_t *req = ctx->req;
    const twins_deps_t *deps = twins_deps(req);
    if (!req->can_defer || req->deferred.obj) {
        rc = store_commit(t, err);
    } else {
        store_pending_t *p = NULL;
        rc = store_commit_deferred(t, &p, err);
        if (rc == 0 && p) req->deferred = (http_deferred_t){p, pending_notify, pending_finish};
    }
    /* Every twin-graph write leaves an event; the dispatcher sends it once it is on disk. */
    if (rc == 0 && deps) ev_dispatch_wake(deps->events);
    return rc;
}

void twins_respond_text(http_request_t *req, http_response_t *resp, const char *text,
                        const char *etag)
{
    resp->status = 200;
    resp->body = arena_strdup(&req->arena, text);
    resp->body_len = strlen(text);
    resp->content_type = "application/json; charset=utf-8";
    http_response_header(req, resp, "ETag", etag);
}
