/* cli_http.c — the client's HTTPS over libcurl (GnuTLS): trust only the configured CA, turn
 * transport failures into sentences a user can act on, and turn error answers of every plane
 * (ADT/ARM/OData {"error":{code,message}}, OAuth {error,error_description}) into ctx->err.
 * --debug shows each exchange on stderr with secrets replaced. */
#include "cli/cli_internal.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define CLI_RESPONSE_MAX (16u * 1024u * 1024u)
#define CLI_CONNECT_TIMEOUT_S 10L
#define CLI_REQUEST_TIMEOUT_S 120L

static const char *const secret_names[] = {"password",      "client_secret", "refresh_token",
                                           "access_token",  "id_token",      "device_code",
                                           "code",          "secretText",    "client_assertion",
                                           "accessToken",   "refreshToken",  "clientSecret",
                                           "code_verifier", "secret",        "accessKey",
                                           "accessKey1",    "accessKey2",    NULL};

int cli_is_secret_name(const char *name)
{
    for (size_t i = 0; secret_names[i]; i++)
        if (strcasecmp(name, secret_names[i]) == 0) return 1;
    return 0;
}

char *cli_redact_form(cli_ctx_t *ctx, const char *form)
{
    size_t cap = strlen(form) * 2 + 64;
    char *out = arena_alloc(&ctx->arena, cap);
    if (!out) return NULL;
    out[0] = '\0';
    const char *p = form;
    while (*p) {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(klen < 127 ? klen : 127), p);
        size_t used = strlen(out);
        if (eq && cli_is_secret_name(key))
            snprintf(out + used, cap - used, "%s%s=<redacted>", used ? "&" : "", key);
        else
            snprintf(out + used, cap - used, "%s%.*s", used ? "&" : "", (int)len, p);
        p += len;
        if (*p == '&') p++;
    }
    return out;
}

json_t *cli_redact_json(const json_t *value)
{
    if (json_is_object(value)) {
        json_t *o = json_object();
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)value, key, v)
        {
            if (cli_is_secret_name(key) && json_is_string(v))
                json_object_set_new(o, key, json_string("<redacted>"));
            else
                json_object_set_new(o, key, cli_redact_json(v));
        }
        return o;
    }
    if (json_is_array(value)) {
        json_t *a = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(value, i, v) json_array_append_new(a, cli_redact_json(v));
        return a;
    }
    return json_deep_copy(value);
}

char *cli_escape(cli_ctx_t *ctx, const char *s)
{
    char *e = curl_easy_escape(NULL, s ? s : "", 0);
    char *out = e ? arena_strdup(&ctx->arena, e) : NULL;
    curl_free(e);
    return out;
}

void cli_http_cleanup(cli_ctx_t *ctx)
{
    if (ctx->curl) curl_easy_cleanup(ctx->curl);
    ctx->curl = NULL;
}

void cli_http_resp_free(cli_http_resp_t *resp)
{
    json_decref(resp->json);
    json_decref(resp->headers);
    resp->json = NULL;
    resp->headers = NULL;
}

const char *cli_http_header(const cli_http_resp_t *resp, const char *lower_name)
{
    return json_string_value(json_object_get(resp->headers, lower_name));
}

typedef struct body_buf {
    char *data;
    size_t len, cap;
    int too_big;
} body_buf_t;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    body_buf_t *b = userdata;
    size_t n = size * nmemb;
    if (b->len + n + 1 > CLI_RESPONSE_MAX) {
        b->too_big = 1;
        return 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    json_t *headers = userdata;
    size_t n = size * nmemb;
    const char *colon = memchr(ptr, ':', n);
    if (!colon || colon == ptr) return n;
    char name[128];
    size_t nlen = (size_t)(colon - ptr);
    if (nlen >= sizeof name) return n;
    for (size_t i = 0; i < nlen; i++)
        name[i] = (char)tolower((unsigned char)ptr[i]);
    name[nlen] = '\0';
    const char *v = colon + 1;
    const char *end = ptr + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    json_object_set_new(headers, name, json_stringn(v, (size_t)(end - v)));
    return n;
}

static void debug_body(cli_ctx_t *ctx, const char *label, const char *text, const json_t *json,
                       const char *form)
{
    if (json) {
        json_t *r = cli_redact_json(json);
        char *s = json_dumps(r, JSON_COMPACT | JSON_ENCODE_ANY);
        fprintf(ctx->errout, "DEBUG: %s body: %s\n", label, s ? s : "");
        free(s);
        json_decref(r);
    } else if (form) {
        fprintf(ctx->errout, "DEBUG: %s body: %s\n", label, cli_redact_form(ctx, form));
    } else if (text && *text) {
        fprintf(ctx->errout, "DEBUG: %s body: %.2000s\n", label, text);
    }
}

static int transport_error(cli_ctx_t *ctx, CURLcode cc, const char *errbuf, const char *url)
{
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(cc);
    const char *from = ctx->server.url_from ? ctx->server.url_from : "the command line";
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
        return cli_fail(ctx, CASTOR_EIO,
                        "cannot reach the castor server at %s (%s). Is `castor serve` running "
                        "there? The address came from %s; pass --server to use another.",
                        ctx->server.url[0] ? ctx->server.url : url, detail, from);
    case CURLE_PEER_FAILED_VERIFICATION:
#if LIBCURL_VERSION_NUM < 0x073e00
    case CURLE_SSL_CACERT:
#endif
        return cli_fail(ctx, CASTOR_EIO,
                        "the server at %s presented a TLS certificate that %s does not trust "
                        "(%s). Pass --ca-file with the ca.pem that `castor serve` printed, or "
                        "set CASTOR_CA_FILE.",
                        ctx->server.url[0] ? ctx->server.url : url,
                        ctx->server.ca_file[0] ? ctx->server.ca_file : "the system trust store",
                        detail);
    case CURLE_SSL_CACERT_BADFILE:
        return cli_fail(ctx, CASTOR_EIO, "cannot use the CA file %s: %s", ctx->server.ca_file,
                        detail);
    case CURLE_WRITE_ERROR:
        return cli_fail(ctx, CASTOR_ELIMIT, "the answer from %s was larger than %u bytes", url,
                        CLI_RESPONSE_MAX);
    default:
        return cli_fail(ctx, CASTOR_EIO, "the request to %s failed: %s", url, detail);
    }
}

int cli_http(cli_ctx_t *ctx, const cli_http_req_t *req, cli_http_resp_t *resp)
{
    memset(resp, 0, sizeof *resp);
    const char *url = req->url;
    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
        if (cli_server_load(ctx) < 0) return ctx->err.rc;
        url = cli_arena_printf(ctx, "%s%s%s", ctx->server.url, url[0] == '/' ? "" : "/", url);
    } else if (!ctx->server_loaded) {
        (void)cli_server_load(ctx); /* for the CA file; an absolute URL needs no address */
        castor_err_clear(&ctx->err);
    }
    const char *bearer = NULL;
    if (req->resource) {
        bearer = cli_token_get(ctx, req->resource, NULL);
        if (!bearer) return ctx->err.rc;
    }
    static int curl_ready;
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = 1;
    }
    if (!ctx->curl) ctx->curl = curl_easy_init();
    CURL *c = ctx->curl;
    if (!c) return cli_fail(ctx, CASTOR_ENOMEM, "cannot start libcurl");
    curl_easy_reset(c);

    char *body_text = NULL;
    const char *content_type = NULL;
    if (req->json) {
        body_text = json_dumps(req->json, JSON_COMPACT | JSON_ENCODE_ANY);
        content_type = "Content-Type: application/json";
    } else if (req->form) {
        content_type = "Content-Type: application/x-www-form-urlencoded";
    }
    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (content_type) hdrs = curl_slist_append(hdrs, content_type);
    char *auth = bearer ? cli_arena_printf(ctx, "Authorization: Bearer %s", bearer) : NULL;
    if (auth) hdrs = curl_slist_append(hdrs, auth);
    for (const char *const *h = req->headers; h && *h; h++)
        hdrs = curl_slist_append(hdrs, *h);

    char errbuf[CURL_ERROR_SIZE] = "";
    body_buf_t body = {0};
    resp->headers = json_object();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    if (strcmp(req->method, "HEAD") == 0) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "castor-cli/" CASTOR_VERSION);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CLI_CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, CLI_REQUEST_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, resp->headers);
    if (ctx->server.ca_file[0]) curl_easy_setopt(c, CURLOPT_CAINFO, ctx->server.ca_file);
    const char *payload = body_text ? body_text : req->form;
    if (payload) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
    } else if (strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
               strcmp(req->method, "PATCH") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    }
    if (ctx->debug) {
        fprintf(ctx->errout, "DEBUG: request: %s %s\n", req->method, url);
        if (bearer) fputs("DEBUG: request header: Authorization: Bearer <redacted>\n", ctx->errout);
        debug_body(ctx, "request", NULL, req->json, req->form);
    }
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(hdrs);
    free(body_text);
    if (cc != CURLE_OK) {
        free(body.data);
        json_decref(resp->headers);
        resp->headers = NULL;
        if (body.too_big) cc = CURLE_WRITE_ERROR;
        return transport_error(ctx, cc, errbuf, url);
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    resp->len = body.len;
    resp->body = arena_strndup(&ctx->arena, body.data ? body.data : "", body.len);
    free(body.data);
    if (!resp->body) return cli_fail(ctx, CASTOR_ENOMEM, "out of memory");
    if (resp->len) {
        json_error_t jerr;
        resp->json = json_loadb(resp->body, resp->len, JSON_DECODE_ANY, &jerr);
    }
    if (ctx->debug) {
        fprintf(ctx->errout, "DEBUG: response: %ld (x-ms-request-id %s)\n", resp->status,
                cli_http_header(resp, "x-ms-request-id") ? cli_http_header(resp, "x-ms-request-id")
                                                         : "-");
        debug_body(ctx, "response", resp->json ? NULL : resp->body, resp->json, NULL);
    }
    return 0;
}

static int rc_of_status(long status)
{
    switch (status) {
    case 400:
        return CASTOR_EINVAL;
    case 401:
        return CASTOR_EAUTH;
    case 403:
        return CASTOR_EPERM;
    case 404:
        return CASTOR_ENOTFOUND;
    case 409:
        return CASTOR_ECONFLICT;
    case 412:
        return CASTOR_EPRECOND;
    case 413:
        return CASTOR_ELIMIT;
    default:
        return status >= 500 ? CASTOR_EIO : CASTOR_EINVAL;
    }
}

int cli_error_from_response(cli_ctx_t *ctx, const cli_http_resp_t *resp)
{
    int rc = rc_of_status(resp->status);
    const json_t *j = resp->json;
    json_t *e = json_object_get(j, "error");
    if (json_is_object(e)) { /* ADT, ARM, Graph (OData) */
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        cli_fail(ctx, rc, "(%s) %s", code ? code : "Error", msg ? msg : "(no message)");
    } else if (json_is_string(e)) { /* OAuth / Entra */
        const char *desc = json_string_value(json_object_get(j, "error_description"));
        if (desc) {
            /* Entra appends "\r\nTrace ID: …" lines; the first line is the message. */
            size_t n = strcspn(desc, "\r\n");
            cli_fail(ctx, rc, "%.*s", (int)n, desc);
        } else {
            cli_fail(ctx, rc, "%s", json_string_value(e));
        }
        snprintf(ctx->err.code, sizeof ctx->err.code, "%s", json_string_value(e));
    } else if (json_is_string(json_object_get(j, "message"))) {
        cli_fail(ctx, rc, "%s", json_string_value(json_object_get(j, "message")));
    } else if (resp->len) {
        cli_fail(ctx, rc, "the server answered HTTP %ld: %.300s", resp->status, resp->body);
    } else {
        cli_fail(ctx, rc, "the server answered HTTP %ld with no body", resp->status);
    }
    ctx->err.status = (int)resp->status;
    return ctx->err.rc;
}

json_t *cli_call_status(cli_ctx_t *ctx, const char *method, const char *url, const char *resource,
                        const json_t *body, long *status)
{
    cli_http_req_t req = {.method = method, .url = url, .resource = resource, .json = body};
    return cli_call_req(ctx, &req, status);
}

json_t *cli_call(cli_ctx_t *ctx, const char *method, const char *url, const char *resource,
                 const json_t *body)
{
    return cli_call_status(ctx, method, url, resource, body, NULL);
}
