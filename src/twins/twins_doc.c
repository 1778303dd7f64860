/* twins_doc.c — the twin document: building it from a PUT body, validating it against its
 * model, and applying ADT's JSON Patch to it (paths into properties, components, objects,
 * maps and arrays; $metadata/$model and per-property sourceTime), keeping ADT's metadata. */
#include "twins/twins_api.h"

#include "core/json.h"
#include "core/limits.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int vfail(castor_err *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int vfail(castor_err *err, const char *path, const char *fmt, ...)
{
    char msg[CASTOR_ERR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    castor_err_http(err, CASTOR_EINVAL, 400, "ValidationFailed", "%s", msg);
    castor_err_at(err, path);
    return CASTOR_EINVAL;
}

static const char *kind_name(dtdl_content_kind_t k)
{
    switch (k) {
    case DTDL_CONTENT_PROPERTY:
        return "Property";
    case DTDL_CONTENT_TELEMETRY:
        return "Telemetry";
    case DTDL_CONTENT_COMMAND:
        return "Command";
    case DTDL_CONTENT_RELATIONSHIP:
        return "Relationship";
    default:
        return "Component";
    }
}

/* "2021-11-30T18:47:53.7648958Z" or with an offset: what sourceTime must look like. */
int twins_is_datetime(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    for (size_t i = 0; shape[i]; i++) {
        if (!s[i]) return 0;
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i])
                            : (shape[i] == 'T' ? (s[i] != 'T' && s[i] != 't') : s[i] != shape[i]))
            return 0;
    }
    s += sizeof shape - 1;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s)) return 0;
        while (isdigit((unsigned char)*s))
            s++;
    }
    if ((*s == 'Z' || *s == 'z') && !s[1]) return 1;
    if ((*s == '+' || *s == '-') && isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) &&
        s[3] == ':' && isdigit((unsigned char)s[4]) && isdigit((unsigned char)s[5]) && !s[6])
        return 1;
    return 0;
}

/* ADT's string and name limits, anywhere inside a value. */
static int check_sizes(const json_t *v, const char *path, castor_err *err)
{
    if (json_is_string(v) && json_string_length(v) > CASTOR_STRING_VALUE_MAX)
        return vfail(err, path,
                     "%s: the string is %zu bytes long; a string property value may be at most "
                     "%u bytes (UTF-8)",
                     path, json_string_length(v), CASTOR_STRING_VALUE_MAX);
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (strlen(k) > CASTOR_PROPERTY_NAME_MAX)
                return vfail(err, path, "%s: a name is %zu bytes long; at most %u are allowed",
                             path, strlen(k), CASTOR_PROPERTY_NAME_MAX);
            int rc = check_sizes(x, path, err);
            if (rc < 0) return rc;
        }
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            int rc = check_sizes(x, path, err);
            if (rc < 0) return rc;
        }
    }
    return CASTOR_OK;
}

static int validate_meta(const dtdl_interface_t *iface, const json_t *md, const char *path,
                         int is_root, castor_err *err)
{
    char sub[CASTOR_ERR_PATH_MAX];
    snprintf(sub, sizeof sub, "%s.$metadata", path);
    if (!json_is_object(md)) return vfail(err, sub, "%s: $metadata must be an object", sub);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)md, k, v)
    {
        char at[CASTOR_ERR_PATH_MAX];
        castor_text_cut(at, sizeof at, snprintf(at, sizeof at, "%s.%s", sub, k)); /* for messages */
        if (strcmp(k, "$lastUpdateTime") == 0) continue;
        if (strcmp(k, "$model") == 0 && is_root) {
            if (!json_is_string(v)) return vfail(err, at, "%s: $model must be a DTMI string", at);
            continue;
        }
        const dtdl_content_t *c = dtdl_interface_content(iface, k);
        if (!c || c->kind != DTDL_CONTENT_PROPERTY)
            return vfail(err, at,
                         "%s: the model %s defines no property named '%s', so it has no "
                         "metadata",
                         at, iface->id, k);
        if (!json_is_object(v))
            return vfail(err, at, "%s: property metadata must be an object", at);
        const json_t *st = json_object_get(v, "sourceTime");
        if (st && !(json_is_string(st) && twins_is_datetime(json_string_value(st))))
            return vfail(err, at,
                         "%s.sourceTime: expected an ISO 8601 date and time such as "
                         "2021-11-30T18:47:53.7648958Z",
                         at);
    }
    return CASTOR_OK;
}

int twins_doc_validate(const twins_ctx_t *ctx, const dtdl_interface_t *iface, const json_t *doc,
                       const char *path, int is_root, castor_err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)doc, k, v)
    {
        char at[CASTOR_ERR_PATH_MAX];
        snprintf(at, sizeof at, "%s.%s", path, k);
        if (k[0] == '$') {
            if (is_root && (strcmp(k, "$dtId") == 0 || strcmp(k, "$etag") == 0)) continue;
            if (strcmp(k, "$metadata") == 0) continue; /* after the properties it describes */
            return vfail(err, at,
                         "%s: '%s' is not a property; the system properties of a twin are $dtId, "
                         "$etag and $metadata",
                         at, k);
        }
        const dtdl_content_t *c = dtdl_interface_content(iface, k);
        if (!c)
            return vfail(err, at, "%s: the model %s defines no property or component named '%s'",
                         at, iface->id, k);
        int rc;
        switch (c->kind) {
        case DTDL_CONTENT_PROPERTY:
            rc = check_sizes(v, at, err);
            if (rc == 0) rc = dtdl_validate_value(c->schema, v, at, err);
            if (rc < 0) return rc;
            break;
        case DTDL_CONTENT_COMPONENT: {
            if (!json_is_object(v))
                return vfail(err, at,
                             "%s: the component '%s' must be an object of its properties and "
                             "$metadata",
                             at, k);
            const dtdl_interface_t *ci = twins_iface(ctx, c->component_interface);
            if (!ci)
                return vfail(err, at, "%s: the component's model %s is not in this instance", at,
                             c->component_interface ? c->component_interface : "?");
            rc = twins_doc_validate(ctx, ci, v, at, 0, err);
            if (rc < 0) return rc;
            break;
        }
        default:
            return vfail(err, at,
                         "%s: '%s' is a %s of the model %s, not a property; only properties and "
                         "components are stored on a twin",
                         at, k, kind_name(c->kind), iface->id);
        }
    }
    const json_t *md = json_object_get(doc, "$metadata");
    if (md) {
        int rc = validate_meta(iface, md, path, is_root, err);
        if (rc < 0) return rc;
    }
    for (size_t i = 0; i < iface->content_count; i++) {
        const dtdl_content_t *c = &iface->contents[i];
        if (c->kind != DTDL_CONTENT_COMPONENT || json_object_get(doc, c->name)) continue;
        char at[CASTOR_ERR_PATH_MAX];
        snprintf(at, sizeof at, "%s.%s", path, c->name);
        return vfail(err, at,
                     "%s: the component '%s' declared by the model %s is missing; every component "
                     "must be present on the twin, at least as {\"$metadata\": {}}",
                     at, c->name, iface->id);
    }
    return CASTOR_OK;
}

/* Copies one level (the twin, or a component) of a PUT body into the stored form. */
static int copy_level(const twins_ctx_t *ctx, const dtdl_interface_t *iface, const json_t *src,
                      json_t *dst, const char *now, int is_root, const char *path, castor_err *err)
{
    json_t *md = json_object();
    if (is_root)
        json_object_set(md, "$model", json_object_get(json_object_get(src, "$metadata"), "$model"));
    json_object_set_new(md, "$lastUpdateTime", json_string(now));
    const json_t *srcmd = json_object_get(src, "$metadata");
    if (srcmd && !json_is_object(srcmd)) {
        json_decref(md);
        char at[CASTOR_ERR_PATH_MAX];
        snprintf(at, sizeof at, "%s.$metadata", path);
        return vfail(err, at, "%s: $metadata must be an object", at);
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)srcmd, k, v)
    {
        const json_t *st = json_object_get(v, "sourceTime");
        if (k[0] == '$' || !st || (json_is_string(st) && twins_is_datetime(json_string_value(st))))
            continue;
        json_decref(md);
        char mp[CASTOR_ERR_PATH_MAX];
        snprintf(mp, sizeof mp, "%s.$metadata.%s.sourceTime", path, k);
        return vfail(err, mp,
                     "%s: expected an ISO 8601 date and time such as 2021-11-30T18:47:53.7648958Z",
                     mp);
    }
    int rc = CASTOR_OK;
    json_object_foreach((json_t *)src, k, v)
    {
        char at[CASTOR_ERR_PATH_MAX];
        snprintf(at, sizeof at, "%s.%s", path, k);
        if (strcmp(k, "$metadata") == 0) continue;
        if (is_root && (strcmp(k, "$dtId") == 0 || strcmp(k, "$etag") == 0)) continue;
        if (k[0] == '$') {
            rc = vfail(err, at,
                       "%s: '%s' is not a property; the system properties of a twin are $dtId, "
                       "$etag and $metadata",
                       at, k);
            break;
        }
        const dtdl_content_t *c = iface ? dtdl_interface_content(iface, k) : NULL;
        if (c && c->kind == DTDL_CONTENT_COMPONENT && json_is_object(v) && is_root) {
            const dtdl_interface_t *ci = twins_iface(ctx, c->component_interface);
            json_t *sub = json_object();
            rc = copy_level(ctx, ci, v, sub, now, 0, at, err);
            json_object_set_new(dst, k, sub);
            if (rc < 0) break;
            continue;
        }
        json_object_set_new(dst, k, json_deep_copy(v));
        json_t *entry = json_pack("{s:s}", "lastUpdateTime", now);
        const json_t *st = json_object_get(json_object_get(srcmd, k), "sourceTime");
        if (st) {
            if (!json_is_string(st) || !twins_is_datetime(json_string_value(st))) {
                json_decref(entry);
                char mp[CASTOR_ERR_PATH_MAX];
                snprintf(mp, sizeof mp, "%s.$metadata.%s.sourceTime", path, k);
                rc = vfail(err, mp,
                           "%s: expected an ISO 8601 date and time such as "
                           "2021-11-30T18:47:53.7648958Z",
                           mp);
                break;
            }
            json_object_set(entry, "sourceTime", (json_t *)st);
        }
        json_object_set_new(md, k, entry);
    }
    json_object_set_new(dst, "$metadata", md);
    return rc;
}

json_t *twins_doc_from_body(const twins_ctx_t *ctx, const json_t *body, const char *id,
                            const char *etag, const char *now, castor_err *err)
{
    if (!json_is_object(body)) {
        castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                        "The digital twin must be a JSON object with $metadata.$model and its "
                        "properties.");
        return NULL;
    }
    const json_t *model = json_object_get(json_object_get(body, "$metadata"), "$model");
    if (!json_is_string(model)) {
        vfail(err, "$.$metadata.$model",
              "$.$metadata.$model: a digital twin must name its model; set "
              "\"$metadata\": {\"$model\": \"<DTMI>\"}");
        return NULL;
    }
    const dtdl_interface_t *iface = twins_iface(ctx, json_string_value(model));
    if (!iface) {
        vfail(err, "$.$metadata.$model",
              "$.$metadata.$model: the model %s does not exist in this instance. Upload it "
              "first (POST /models), or check the DTMI.",
              json_string_value(model));
        return NULL;
    }
    json_t *doc = json_pack("{s:s, s:s}", "$dtId", id, "$etag", etag);
    int rc = copy_level(ctx, iface, body, doc, now, 1, "$", err);
    if (rc == 0) rc = twins_doc_validate(ctx, iface, doc, "$", 1, err);
    if (rc < 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* ---- JSON Patch ---- */

/* Splits a JSON Pointer ("/a/b~1c") into decoded segments (arena memory). */
static int split_pointer(arena_t *a, const char *ptr, const char ***segs_out, size_t *n_out)
{
    size_t n = 0;
    for (const char *p = ptr; *p; p++)
        if (*p == '/') n++;
    const char **segs = arena_calloc(a, n + 1, sizeof *segs);
    if (!segs) return -1;
    size_t i = 0;
    const char *p = ptr;
    while (*p == '/') {
        p++;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char *s = arena_alloc(a, len + 1);
        if (!s) return -1;
        size_t o = 0;
        for (size_t j = 0; j < len; j++) {
            if (p[j] == '~' && j + 1 < len && (p[j + 1] == '0' || p[j + 1] == '1')) {
                s[o++] = p[j + 1] == '0' ? '~' : '/';
                j++;
            } else {
                s[o++] = p[j];
            }
        }
        s[o] = '\0';
        segs[i++] = s;
        p += len;
    }
    *segs_out = segs;
    *n_out = i;
    return 0;
}

static int parse_index(const char *s, size_t size, int allow_end, size_t *out)
{
    if (allow_end && strcmp(s, "-") == 0) {
        *out = size;
        return 0;
    }
    if (!*s || (s[0] == '0' && s[1])) return -1;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v > size || (!allow_end && v == size)) return -1;
    *out = (size_t)v;
    return 0;
}

/* RFC 6902 add/replace/remove at segs under root. */
static int pointer_apply(json_t *root, const char **segs, size_t n, const char *op,
                         const json_t *value, const char *path, castor_err *err)
{
    json_t *cur = root;
    for (size_t i = 0; i + 1 < n; i++) {
        json_t *next = NULL;
        size_t idx;
        if (json_is_object(cur))
            next = json_object_get(cur, segs[i]);
        else if (json_is_array(cur) && parse_index(segs[i], json_array_size(cur), 0, &idx) == 0)
            next = json_array_get(cur, idx);
        if (!next)
            return twins_err_patch(err,
                                   "The path %s does not exist: '%s' is not set on the twin. Add "
                                   "the whole value first.",
                                   path, segs[i]);
        cur = next;
    }
    const char *last = segs[n - 1];
    int is_add = strcmp(op, "add") == 0, is_remove = strcmp(op, "remove") == 0;
    if (json_is_object(cur)) {
        json_t *exists = json_object_get(cur, last);
        if (!is_add && !exists)
            return twins_err_patch(err,
                                   "Cannot %s %s: the value does not exist. Use add to set a "
                                   "value that is not set yet.",
                                   op, path);
        if (is_remove) return json_object_del(cur, last) == 0 ? 0 : CASTOR_EINTERNAL;
        json_object_set_new(cur, last, json_deep_copy(value));
        return CASTOR_OK;
    }
    if (json_is_array(cur)) {
        size_t idx;
        if (parse_index(last, json_array_size(cur), is_add, &idx) < 0)
            return twins_err_patch(err, "The path %s does not name an element of the array.", path);
        if (is_remove) return json_array_remove(cur, idx) == 0 ? 0 : CASTOR_EINTERNAL;
        if (is_add)
            return json_array_insert_new(cur, idx, json_deep_copy(value)) == 0 ? 0
                                                                               : CASTOR_EINTERNAL;
        return json_array_set_new(cur, idx, json_deep_copy(value)) == 0 ? 0 : CASTOR_EINTERNAL;
    }
    return twins_err_patch(err, "The path %s does not exist: its parent is not an object.", path);
}

static json_t *meta_of(json_t *level)
{
    json_t *md = json_object_get(level, "$metadata");
    if (!json_is_object(md)) {
        md = json_object();
        json_object_set_new(level, "$metadata", md);
    }
    return md;
}

/* /$metadata/$model and /$metadata/<prop>/sourceTime; everything else there is read-only. */
static int patch_meta(json_t *md, const char **segs, size_t n, const char *op, const json_t *value,
                      int is_root, const char *path, castor_err *err)
{
    int is_remove = strcmp(op, "remove") == 0;
    if (is_root && n == 1 && strcmp(segs[0], "$model") == 0) {
        if (is_remove)
            return twins_err_patch(err, "%s cannot be removed: a twin has a model.", path);
        if (!json_is_string(value))
            return twins_err_patch(err, "The value of %s must be a DTMI string.", path);
        json_object_set_new(md, "$model", json_deep_copy(value));
        return CASTOR_OK;
    }
    if (n == 2 && strcmp(segs[1], "sourceTime") == 0 && segs[0][0] != '$') {
        json_t *entry = json_object_get(md, segs[0]);
        if (is_remove) {
            if (!entry || !json_object_get(entry, "sourceTime"))
                return twins_err_patch(err, "Cannot remove %s: it is not set.", path);
            json_object_del(entry, "sourceTime");
            return CASTOR_OK;
        }
        if (!json_is_string(value) || !twins_is_datetime(json_string_value(value))) {
            int rc = vfail(err, path,
                           "%s: expected an ISO 8601 date and time such as "
                           "2021-11-30T18:47:53.7648958Z",
                           path);
            return rc;
        }
        if (!json_is_object(entry)) {
            entry = json_object();
            json_object_set_new(md, segs[0], entry);
        }
        json_object_set_new(entry, "sourceTime", json_deep_copy(value));
        return CASTOR_OK;
    }
    return twins_err_patch(err,
                           "%s is read-only: in $metadata only $model and "
                           "<property>/sourceTime can be changed.",
                           path);
}

static void touch(json_t *md, const char *prop, const char *now, int removed)
{
    if (removed) {
        json_object_del(md, prop);
        return;
    }
    json_t *entry = json_object_get(md, prop);
    if (!json_is_object(entry)) {
        entry = json_object();
        json_object_set_new(md, prop, entry);
    }
    json_object_set_new(entry, "lastUpdateTime", json_string(now));
}

static int apply_one(const twins_ctx_t *ctx, json_t *doc, const char **segs, size_t n,
                     const char *op, const json_t *value, const char *path, const char *now,
                     castor_err *err)
{
    if (n == 0 || !segs[0][0])
        return twins_err_patch(err, "The path %s must name a property of the twin.", path);
    const char *s0 = segs[0];
    if (strcmp(s0, "$dtId") == 0 || strcmp(s0, "$etag") == 0)
        return twins_err_patch(err, "%s is read-only.", path);
    json_t *rootmd = meta_of(doc);
    if (strcmp(s0, "$metadata") == 0)
        return patch_meta(rootmd, segs + 1, n - 1, op, value, 1, path, err);
    if (s0[0] == '$') return twins_err_patch(err, "%s is not a property of the twin.", path);
    const dtdl_interface_t *iface =
        twins_iface(ctx, json_string_value(json_object_get(rootmd, "$model")));
    const dtdl_content_t *c = iface ? dtdl_interface_content(iface, s0) : NULL;
    int is_remove = strcmp(op, "remove") == 0;
    if (c && c->kind == DTDL_CONTENT_COMPONENT) {
        json_t *comp = json_object_get(doc, s0);
        if (n == 1) { /* the whole component */
            if (is_remove) return json_object_del(doc, s0) == 0 ? 0 : CASTOR_EINTERNAL;
            if (strcmp(op, "replace") == 0 && !comp)
                return twins_err_patch(err, "Cannot replace %s: the value does not exist.", path);
            if (!json_is_object(value))
                return vfail(err, path, "%s: a component's value must be an object", path);
            json_t *sub = json_object();
            char at[CASTOR_ERR_PATH_MAX];
            snprintf(at, sizeof at, "$.%s", s0);
            int rc = copy_level(ctx, twins_iface(ctx, c->component_interface), value, sub, now, 0,
                                at, err);
            json_object_set_new(doc, s0, sub);
            return rc;
        }
        if (!json_is_object(comp))
            return twins_err_patch(err, "The path %s does not exist: the component %s is not set.",
                                   path, s0);
        json_t *cmd = meta_of(comp);
        if (strcmp(segs[1], "$metadata") == 0)
            return patch_meta(cmd, segs + 2, n - 2, op, value, 0, path, err);
        if (segs[1][0] == '$')
            return twins_err_patch(err, "%s is not a property of the component.", path);
        int rc = pointer_apply(comp, segs + 1, n - 1, op, value, path, err);
        if (rc < 0) return rc;
        touch(cmd, segs[1], now, is_remove && n == 2);
        json_object_set_new(cmd, "$lastUpdateTime", json_string(now));
        return CASTOR_OK;
    }
    int rc = pointer_apply(doc, segs, n, op, value, path, err);
    if (rc < 0) return rc;
    touch(rootmd, s0, now, is_remove && n == 1);
    return CASTOR_OK;
}

/* The checks every JSON Patch operation gets before it is applied. */
static int patch_op_fields(const json_t *o, size_t i, const char **op, const char **path,
                           const json_t **value, castor_err *err)
{
    if (!json_is_object(o))
        return twins_err_patch(err, "Operation %zu of the patch is not a JSON object.", i);
    *op = json_string_value(json_object_get(o, "op"));
    *path = json_string_value(json_object_get(o, "path"));
    *value = json_object_get(o, "value");
    if (!*op) return twins_err_patch(err, "Operation %zu of the patch has no op.", i);
    if (strcmp(*op, "add") != 0 && strcmp(*op, "replace") != 0 && strcmp(*op, "remove") != 0)
        return twins_err_patch(err, "Unsupported operation type %s.", *op);
    if (!*path || (*path)[0] != '/')
        return twins_err_patch(err,
                               "Operation %zu of the patch has no valid path (a JSON Pointer "
                               "such as /property).",
                               i);
    if (strcmp(*op, "remove") != 0 && !*value)
        return twins_err_patch(err, "The %s operation on %s has no value.", *op, *path);
    return CASTOR_OK;
}

int twins_doc_patch(const twins_ctx_t *ctx, json_t *doc, const json_t *patch, const char *prefix,
                    const char *now, json_t *applied, castor_err *err)
{
    if (!json_is_array(patch))
        return twins_err_patch(err, "The patch must be a JSON array of operations.");
    arena_t *a = &ctx->req->arena;
    size_t i;
    json_t *o;
    json_array_foreach(patch, i, o)
    {
        const char *op, *path;
        const json_t *value;
        int rc = patch_op_fields(o, i, &op, &path, &value, err);
        if (rc < 0) return rc;
        const char *full = prefix ? arena_sprintf(a, "/%s%s", prefix, path) : path;
        const char **segs;
        size_t n;
        if (!full || split_pointer(a, full, &segs, &n) < 0)
            return castor_err_set(err, CASTOR_ENOMEM, "out of memory applying the patch");
        rc = apply_one(ctx, doc, segs, n, op, value, full, now, err);
        if (rc < 0) return rc;
        json_t *rec = json_pack("{s:s, s:s}", "op", op, "path", full);
        if (value) json_object_set_new(rec, "value", json_deep_copy(value));
        json_array_append_new(applied, rec);
    }
    json_object_set_new(meta_of(doc), "$lastUpdateTime", json_string(now));
    return CASTOR_OK;
}

int twins_rel_doc_patch(json_t *doc, const json_t *patch, castor_err *err)
{
    if (!json_is_array(patch))
        return twins_err_patch(err, "The patch must be a JSON array of operations.");
    arena_t scratch;
    arena_init(&scratch, 1u << 20);
    size_t i;
    json_t *o;
    int rc = CASTOR_OK;
    json_array_foreach(patch, i, o)
    {
        const char *op, *path;
        const json_t *value;
        rc = patch_op_fields(o, i, &op, &path, &value, err);
        if (rc < 0) break;
        const char **segs;
        size_t n;
        if (split_pointer(&scratch, path, &segs, &n) < 0) {
            rc = castor_err_set(err, CASTOR_ENOMEM, "out of memory applying the patch");
            break;
        }
        if (n == 0 || !segs[0][0] || segs[0][0] == '$') {
            rc = twins_err_patch(err,
                                 "%s is read-only: only a relationship's properties can be "
                                 "patched.",
                                 path);
            break;
        }
        rc = pointer_apply(doc, segs, n, op, value, path, err);
        if (rc < 0) break;
    }
    arena_free(&scratch);
    return rc;
}

int twins_rel_validate_props(const dtdl_content_t *rel, const json_t *doc, castor_err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)doc, k, v)
    {
        if (k[0] == '$') continue;
        char at[CASTOR_ERR_PATH_MAX];
        snprintf(at, sizeof at, "$.%s", k);
        const dtdl_content_t *p = NULL;
        for (size_t i = 0; i < rel->property_count; i++)
            if (strcmp(rel->properties[i].name, k) == 0) p = &rel->properties[i];
        if (!p)
            return vfail(err, at, "%s: the relationship '%s' defines no property named '%s'", at,
                         rel->name, k);
        int rc = check_sizes(v, at, err);
        if (rc == 0) rc = dtdl_validate_value(p->schema, v, at, err);
        if (rc < 0) return rc;
    }
    return CASTOR_OK;
}

json_t *twins_doc_strip_metadata(const json_t *v)
{
    if (!json_is_object(v)) return json_deep_copy(v);
    json_t *o = json_object();
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        if (strcmp(k, "$metadata") == 0) continue;
        json_object_set_new(o, k, twins_doc_strip_metadata(x));
    }
    return o;
}

size_t twins_doc_value_size(const json_t *doc)
{
    json_t *bare = twins_doc_strip_metadata(doc);
    char *s = json_dump_compact(bare);
    size_t n = s ? strlen(s) : 0;
    free(s);
    json_decref(bare);
    return n;
}
