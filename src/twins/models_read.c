/* models_read.c — GET /models (paged, dependenciesFor, includeModelDefinition) and
 * GET /models/{id}.
 *
 * A page is up to `max-items-per-page` models (capped at ADT's 100) in upload order; the
 * continuation token is the upload sequence of the page's last model, so a page never repeats
 * or skips a model even while others are added or deleted. nextLink is absolute (the public
 * URL plus the request's own path), because the SDK resolves a relative one against an
 * endpoint that already holds the /dt/{name} prefix and would double it. */
#include "twins/models_api.h"
#include "twins/twins_routes.h"

#include "core/limits.h"
#include "store/store_models.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* includeModelDefinition: absent = false; otherwise true|false in any case. */
static int bool_param(http_request_t *req, const char *name, int *out, castor_err *err)
{
    const char *v = http_request_query(req, name);
    *out = 0;
    if (!v) return CASTOR_OK;
    if (strcasecmp(v, "true") == 0)
        *out = 1;
    else if (strcasecmp(v, "false") != 0)
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                               "The query parameter %s must be true or false, not '%s'.", name, v);
    return CASTOR_OK;
}

/* Every value of a repeatable query parameter, each also split on commas (the JS SDK joins
 * several ids with commas; the REST spec repeats the parameter). Duplicates are dropped. */
static json_t *multi_param(http_request_t *req, const char *name)
{
    json_t *set = json_array();
    json_t *seen = json_object();
    size_t nlen = strlen(name);
    for (const char *q = req->query; q && *q;) {
        const char *amp = strchr(q, '&');
        size_t plen = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', plen);
        size_t klen = eq ? (size_t)(eq - q) : plen;
        char *key = http_decode(&req->arena, q, klen, 1);
        char *val = eq ? http_decode(&req->arena, eq + 1, plen - klen - 1, 1) : NULL;
        if (key && val && strlen(key) == nlen && memcmp(key, name, nlen) == 0) {
            char *save = NULL;
            for (char *tok = strtok_r(val, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                while (*tok == ' ')
                    tok++;
                if (!*tok || json_object_get(seen, tok)) continue;
                json_object_set_new(seen, tok, json_true());
                json_array_append_new(set, json_string(tok));
            }
        }
        q = amp ? amp + 1 : NULL;
    }
    json_decref(seen);
    return set;
}

static int page_size(http_request_t *req, int64_t *out, castor_err *err)
{
    *out = CASTOR_MODELS_PAGE_MAX;
    const char *v = http_request_header(req, "max-items-per-page");
    if (!v) return CASTOR_OK;
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < 1)
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                               "The max-items-per-page header must be a positive integer, not "
                               "'%s'.",
                               v);
    *out = n < CASTOR_MODELS_PAGE_MAX ? n : CASTOR_MODELS_PAGE_MAX;
    return CASTOR_OK;
}

static int continuation(http_request_t *req, int64_t *out, castor_err *err)
{
    *out = 0;
    const char *v = http_request_query(req, "continuationToken");
    if (!v || !*v) return CASTOR_OK;
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < 0)
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                               "The continuationToken '%s' is not one this server issued; start "
                               "the listing again without it.",
                               v);
    *out = n;
    return CASTOR_OK;
}

/* ---- dependenciesFor: the roots and everything they reach through extends, components and
 * other schema references (not relationship targets, which are not dependencies) ---- */

typedef struct deps {
    json_t *set;   /* id -> true */
    json_t *queue; /* ids still to expand */
} deps_t;

static int dep_edge(const char *ref_id, const char *kind, void *ctx)
{
    deps_t *d = ctx;
    if (strcmp(kind, STORE_MODEL_REF_TARGET) == 0 || json_object_get(d->set, ref_id)) return 0;
    json_object_set_new(d->set, ref_id, json_true());
    json_array_append_new(d->queue, json_string(ref_id));
    return 0;
}

static int expand_deps(store_txn_t *t, const char *key, const json_t *roots, json_t *set,
                       castor_err *err)
{
    deps_t d = {set, json_array()};
    int rc = CASTOR_OK;
    for (size_t i = 0; rc == 0 && i < json_array_size(roots); i++) {
        const char *id = json_string_value(json_array_get(roots, i));
        int ex = store_model_exists(t, key, id, err);
        if (ex < 0)
            rc = ex;
        else if (!ex)
            rc = models_not_found(err, id);
        else if (!json_object_get(set, id)) {
            json_object_set_new(set, id, json_true());
            json_array_append_new(d.queue, json_string(id));
        }
    }
    for (size_t i = 0; rc == 0 && i < json_array_size(d.queue); i++)
        rc = store_model_refs(t, key, json_string_value(json_array_get(d.queue, i)), dep_edge, &d,
                              err);
    json_decref(d.queue);
    return rc;
}

typedef struct page {
    json_t *value;
    const json_t *only; /* NULL: every model */
    int include;
    int64_t limit;
    int64_t count;
    int64_t last_seq;
    int more;
} page_t;

static int page_row(const store_model_t *m, void *ctx)
{
    page_t *p = ctx;
    if (p->only && !json_object_get(p->only, m->id)) return 0;
    if (p->count == p->limit) {
        p->more = 1;
        return 1;
    }
    json_array_append_new(p->value, models_data_json(m, p->include));
    p->count++;
    p->last_seq = m->seq;
    return 0;
}

static void url_append(char **s, arena_t *a, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(value);
    char *enc = arena_alloc(a, n * 3 + 1);
    if (!enc) return;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
            enc[o++] = (char)c;
        } else {
            enc[o++] = '%';
            enc[o++] = hex[c >> 4];
            enc[o++] = hex[c & 15];
        }
    }
    enc[o] = '\0';
    *s = arena_sprintf(a, "%s&%s=%s", *s, name, enc);
}

static const char *next_link(http_request_t *req, int64_t after, int include, const json_t *roots)
{
    const twins_deps_t *deps = twins_deps(req);
    const char *base = deps && deps->public_url ? deps->public_url : "";
    size_t bl = strlen(base);
    char *s = arena_sprintf(&req->arena, "%.*s%s?continuationToken=%lld",
                            (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl), base, req->path,
                            (long long)after);
    if (!s) return NULL;
    if (include) url_append(&s, &req->arena, "includeModelDefinition", "true");
    for (size_t i = 0; i < json_array_size(roots); i++)
        url_append(&s, &req->arena, "dependenciesFor", json_string_value(json_array_get(roots, i)));
    if (req->api_version) url_append(&s, &req->arena, "api-version", req->api_version);
    return s;
}

int models_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const twins_deps_t *deps = twins_deps(req);
    int include = 0;
    int64_t limit = 0, after = 0;
    int rc = bool_param(req, "includeModelDefinition", &include, err);
    if (rc == 0) rc = page_size(req, &limit, err);
    if (rc == 0) rc = continuation(req, &after, err);
    if (rc < 0) return rc;
    const char *key = models_instance_key(req);
    json_t *roots = multi_param(req, "dependenciesFor");
    json_t *only = json_array_size(roots) ? json_object() : NULL;
    store_txn_t *t = NULL;
    page_t p = {.value = json_array(), .only = only, .include = include, .limit = limit};
    rc = store_begin(deps->store, STORE_READ, &t, err);
    if (rc == 0 && only) rc = expand_deps(t, key, roots, only, err);
    /* With a filter the walk reads past non-members; without, one row more tells "more". */
    if (rc == 0)
        rc = store_model_list(t, key, after, only ? -1 : limit + 1, include, page_row, &p, err);
    if (t) store_rollback(t);
    if (rc == 0) {
        json_t *body = json_pack("{s:O}", "value", p.value);
        const char *link = p.more ? next_link(req, p.last_seq, include, roots) : NULL;
        json_object_set_new(body, "nextLink", link ? json_string(link) : json_null());
        rc = http_response_json(req, resp, 200, body, err);
        json_decref(body);
    }
    json_decref(p.value);
    json_decref(only);
    json_decref(roots);
    return rc;
}

typedef struct one {
    json_t *data;
    int include;
} one_t;

static int one_row(const store_model_t *m, void *ctx)
{
    one_t *o = ctx;
    o->data = models_data_json(m, o->include);
    return 0;
}

int models_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const twins_deps_t *deps = twins_deps(req);
    const char *id = http_request_param(req, "id");
    one_t o = {NULL, 0};
    int rc = bool_param(req, "includeModelDefinition", &o.include, err);
    if (rc < 0) return rc;
    store_txn_t *t = NULL;
    rc = store_begin(deps->store, STORE_READ, &t, err);
    if (rc < 0) return rc;
    rc = store_model_get(t, models_instance_key(req), id, o.include, one_row, &o, err);
    store_rollback(t);
    if (rc == CASTOR_ENOTFOUND) return models_not_found(err, id);
    if (rc == 0) rc = http_response_json(req, resp, 200, o.data, err);
    json_decref(o.data);
    return rc;
}
