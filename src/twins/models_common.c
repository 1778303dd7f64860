/* models_common.c — what the Models API handlers share: the instance key, ADT's timestamp
 * form, language maps, and ADT's error answers (see models_api.h). */
#include "twins/models_api.h"

#include "store/store_models.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

const char *models_instance_key(http_request_t *req)
{
    char key[STORE_NAME_MAX];
    store_models_instance_key(req->instance ? req->instance : "", key, sizeof key);
    return arena_strdup(&req->arena, key);
}

void models_upload_time(char *buf, size_t size)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    time_t s = ts.tv_sec;
    gmtime_r(&s, &tm);
    /* Digits by hand: every twin write stamps its properties, and snprintf costs ~6,000
     * instructions here. */
    char t[29];
    int fields[] = {tm.tm_year + 1900, tm.tm_mon + 1,          tm.tm_mday, tm.tm_hour, tm.tm_min,
                    tm.tm_sec,         (int)(ts.tv_nsec / 100)};
    static const int width[] = {4, 2, 2, 2, 2, 2, 7};
    static const char after[] = "--T::.Z";
    char *o = t;
    for (int i = 0; i < 7; i++) {
        for (int d = width[i] - 1; d >= 0; d--) {
            o[d] = (char)('0' + fields[i] % 10);
            fields[i] /= 10;
        }
        o += width[i];
        *o++ = after[i];
    }
    *o = '\0';
    snprintf(buf, size, "%s", t);
}

json_t *models_language_map(const json_t *v)
{
    if (json_is_string(v)) return json_pack("{s:O}", "en", v);
    if (json_is_object(v)) return json_deep_copy(v);
    return NULL;
}

static void set_parsed(json_t *obj, const char *key, const char *text)
{
    if (!text) return;
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    if (v) json_object_set_new(obj, key, v);
}

/* A language map, {} when the model has none: ADT always sends displayName and description,
 * and the Python SDK's deserializer fails on anything but an object there. */
static void set_language_map(json_t *obj, const char *key, const char *text)
{
    set_parsed(obj, key, text);
    if (!json_is_object(json_object_get(obj, key))) json_object_set_new(obj, key, json_object());
}

json_t *models_data_json(const store_model_t *m, int include_model)
{
    json_t *o = json_pack("{s:s}", "id", m->id);
    if (!o) return NULL;
    set_language_map(o, "displayName", m->display_name);
    set_language_map(o, "description", m->description);
    json_object_set_new(o, "uploadTime", json_string(m->upload_time));
    json_object_set_new(o, "decommissioned", json_boolean(m->decommissioned));
    if (include_model) set_parsed(o, "model", m->model);
    return o;
}

int models_not_found(castor_err *err, const char *id)
{
    return castor_err_http(err, CASTOR_ENOTFOUND, 404, "ModelNotFound",
                           "There is no Model(s) available that matches the provided id(s) %s. "
                           "Check that the Model ID provided is valid by doing a Model_List API "
                           "call.",
                           id);
}

int models_render_dtdl_errors(http_request_t *req, http_response_t *resp, const castor_err *err,
                              const dtdl_errors_t *errs)
{
    json_t *details = json_array();
    for (size_t i = 0; errs && i < errs->count; i++) {
        const dtdl_error_t *e = &errs->items[i];
        json_t *d = json_pack("{s:s, s:s, s:s}", "code", e->validation_id, "message", e->message,
                              "path", e->path);
        if (d && e->primary_id[0]) json_object_set_new(d, "modelId", json_string(e->primary_id));
        if (d && e->property[0]) json_object_set_new(d, "property", json_string(e->property));
        if (d) json_array_append_new(details, d);
    }
    if (errs && errs->dropped) {
        char more[96];
        snprintf(more, sizeof more, "%zu more error(s) not listed", errs->dropped);
        json_array_append_new(details, json_pack("{s:s, s:s, s:s}", "code", "tooManyErrors",
                                                 "message", more, "path", "$"));
    }
    const char *code = err->code[0] ? err->code : "DTDLParserError";
    const char *msg = err->message;
    if (err->path[0] && !strstr(msg, err->path))
        msg = arena_sprintf(&req->arena, "%s (at %s)", msg, err->path);
    json_t *body = json_pack("{s:{s:s, s:s, s:o}}", "error", "code", code, "message",
                             msg ? msg : err->message, "details", details);
    castor_err e2;
    int rc = http_response_json(req, resp, err->status ? err->status : 400, body, &e2);
    json_decref(body);
    if (rc < 0) return rc;
    http_response_header(req, resp, "x-ms-error-code", code);
    return CASTOR_OK;
}
