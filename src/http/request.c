/* request.c — helpers handlers use on requests and responses (see http.h). */
#include "http/http.h"

#include "core/json.h"

#include <ctype.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *http_request_header(const http_request_t *req, const char *name)
{
    if (!req->conn) {
        for (const http_header_t *h = req->headers; h; h = h->next)
            if (strcasecmp(h->name, name) == 0) return h->value;
        return NULL;
    }
    return MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_HEADER_KIND, name);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *http_decode(arena_t *a, const char *src, size_t len, int plus_is_space)
{
    char *out = arena_alloc(a, len + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            if (i + 2 >= len) return NULL;
            int hi = hexval(src[i + 1]), lo = hexval(src[i + 2]);
            if (hi < 0 || lo < 0) return NULL;
            c = (char)(hi * 16 + lo);
            if (c == '\0') return NULL;
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

const char *http_request_query(http_request_t *req, const char *name)
{
    /* The query is kept raw (the listener does not unescape it) so that a value containing
     * '&' or '=' when encoded stays one value; each lookup decodes the one it finds. */
    size_t nlen = strlen(name);
    const char *q = req->query;
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t plen = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', plen);
        size_t klen = eq ? (size_t)(eq - q) : plen;
        char *key = http_decode(&req->arena, q, klen, 1);
        if (key && strlen(key) == nlen && memcmp(key, name, nlen) == 0) {
            if (!eq) return "";
            return http_decode(&req->arena, eq + 1, plen - klen - 1, 1);
        }
        q = amp ? amp + 1 : NULL;
    }
    return NULL;
}

const char *http_request_param(const http_request_t *req, const char *name)
{
    for (int i = 0; i < req->nparams; i++)
        if (strcmp(req->param_names[i], name) == 0) return req->param_values[i];
    return NULL;
}

void http_response_header(http_request_t *req, http_response_t *resp, const char *name,
                          const char *value)
{
    http_header_t *h = arena_alloc(&req->arena, sizeof *h);
    if (!h) return;
    h->name = arena_strdup(&req->arena, name);
    h->value = arena_strdup(&req->arena, value);
    h->next = resp->headers;
    resp->headers = h;
}

int http_response_json(http_request_t *req, http_response_t *resp, int status, const json_t *value,
                       castor_err *err)
{
    char *text = json_dump_compact(value);
    if (!text) return castor_err_set(err, CASTOR_ENOMEM, "out of memory writing the response");
    resp->body = arena_strdup(&req->arena, text);
    free(text);
    if (!resp->body) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    resp->body_len = strlen(resp->body);
    resp->status = status;
    resp->content_type = "application/json; charset=utf-8";
    return CASTOR_OK;
}

void http_response_text(http_request_t *req, http_response_t *resp, int status,
                        const char *content_type, const char *text)
{
    resp->status = status;
    resp->content_type = content_type;
    resp->body = arena_strdup(&req->arena, text);
    resp->body_len = resp->body ? strlen(resp->body) : 0;
}

void http_request_error_header(http_request_t *req, const char *name, const char *value)
{
    http_header_t *h = arena_alloc(&req->arena, sizeof *h);
    if (!h) return;
    h->name = arena_strdup(&req->arena, name);
    h->value = arena_strdup(&req->arena, value);
    h->next = req->error_headers;
    req->error_headers = h;
}

const char *http_request_base_url(http_request_t *req, const char *fallback)
{
    const char *host = http_request_header(req, "Host");
    if (host && host[0] && strlen(host) < 256) {
        int ok = 1;
        for (const char *p = host; *p && ok; p++)
            ok = isalnum((unsigned char)*p) || strchr(".-:[]", *p);
        if (ok) return arena_sprintf(&req->arena, "https://%s", host);
    }
    return fallback;
}
