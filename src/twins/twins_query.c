/* twins_query.c — the POST /query handler (see twins_query.h). */
#include "twins/twins_query.h"
#include "twins/twins_routes.h"

#include "core/limits.h"
#include "access/access.h"
#include "query/query_cache.h"
#include "query/query_sql.h"
#include "store/store_query.h"
#include "twins/twins_api.h"

#include <errno.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Queries running now on this node. A process-wide counter (not per app) on purpose: the
 * overload it guards against is this process's threads and store connections. */
static atomic_uint inflight;

int twins_query_admit(void)
{
    unsigned n = atomic_fetch_add(&inflight, 1u);
    if (n >= CASTOR_QUERY_INFLIGHT_MAX) {
        atomic_fetch_sub(&inflight, 1u);
        return -1;
    }
    return 0;
}

void twins_query_leave(void)
{
    atomic_fetch_sub(&inflight, 1u);
}

/* Compiled queries by text, shared by every instance and caller of this process: a compiled form
 * holds no instance, caller or page values (query_cache.h), so sharing it is correct, and a
 * process-wide table bounds its memory once however many apps the process serves. */
static query_cache_t query_cache = QUERY_CACHE_INIT;

#define TOKEN_VERSION "q1"

typedef struct cursor {
    const char *text; /* the query */
    int64_t top_left; /* -1: no TOP */
    int64_t *after;
    size_t nafter;
} cursor_t;

static int bad_token(castor_err *err, const char *why)
{
    return castor_err_http(err, CASTOR_EINVAL, 400, "BadRequest",
                           "The continuation token is invalid: %s. Send the token exactly as the "
                           "previous page returned it, to the same instance, as the same caller; "
                           "or start again with the query.",
                           why);
}

static void token_mac(const unsigned char *key, const http_request_t *req, const char *payload,
                      size_t plen, unsigned char mac[crypto_auth_BYTES])
{
    crypto_auth_hmacsha512256_state st;
    const char *inst = req->instance_id ? req->instance_id : "";
    const char *who = req->caller ? req->caller->oid : "";
    crypto_auth_hmacsha512256_init(&st, key, STORE_QUERY_KEY_BYTES);
    crypto_auth_hmacsha512256_update(&st, (const unsigned char *)inst, strlen(inst) + 1);
    crypto_auth_hmacsha512256_update(&st, (const unsigned char *)who, strlen(who) + 1);
    crypto_auth_hmacsha512256_update(&st, (const unsigned char *)payload, plen);
    crypto_auth_hmacsha512256_final(&st, mac);
}

static char *b64(arena_t *a, const void *bin, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *s = arena_alloc(a, cap);
    if (s) sodium_bin2base64(s, cap, bin, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return s;
}

static char *token_make(http_request_t *req, const unsigned char *key, const cursor_t *cur)
{
    arena_t *a = &req->arena;
    char *keys = arena_strdup(a, "");
    for (size_t i = 0; keys && i < cur->nafter; i++)
        keys = arena_sprintf(a, "%s%s%lld", keys, i ? "," : "", (long long)cur->after[i]);
    if (!keys) return NULL;
    char *payload = arena_sprintf(a, TOKEN_VERSION "\n%lld\n%zu\n%s\n%s", (long long)cur->top_left,
                                  cur->nafter, keys, cur->text);
    if (!payload) return NULL;
    unsigned char mac[crypto_auth_BYTES];
    token_mac(key, req, payload, strlen(payload), mac);
    char *p64 = b64(a, payload, strlen(payload)), *m64 = b64(a, mac, sizeof mac);
    return p64 && m64 ? arena_sprintf(a, "%s.%s", p64, m64) : NULL;
}

static int parse_i64(const char *s, char end, const char **next, int64_t *out)
{
    errno = 0;
    char *e;
    long long v = strtoll(s, &e, 10);
    if (e == s || *e != end || errno) return -1;
    *out = v;
    *next = e + 1;
    return 0;
}

static int token_open(http_request_t *req, const unsigned char *key, const char *tok, cursor_t *cur,
                      castor_err *err)
{
    arena_t *a = &req->arena;
    const char *dot = strchr(tok, '.');
    if (!dot) return bad_token(err, "it is not a castor query token");
    size_t plen = 0, mlen = 0, p64 = (size_t)(dot - tok);
    unsigned char *payload = arena_alloc(a, p64 + 1);
    unsigned char mac[crypto_auth_BYTES + 1];
    if (!payload) return castor_err_set(err, CASTOR_ELIMIT, "continuation token too large");
    if (sodium_base642bin(payload, p64 + 1, tok, p64, NULL, &plen, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        sodium_base642bin(mac, sizeof mac, dot + 1, strlen(dot + 1), NULL, &mlen, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        mlen != crypto_auth_BYTES)
        return bad_token(err, "it is not a castor query token");
    payload[plen] = 0;
    unsigned char want[crypto_auth_BYTES];
    token_mac(key, req, (const char *)payload, plen, want);
    if (sodium_memcmp(want, mac, crypto_auth_BYTES) != 0)
        return bad_token(err, "it was altered, or was issued for another instance or caller");
    const char *s = (const char *)payload;
    int64_t n;
    if (strncmp(s, TOKEN_VERSION "\n", 3) != 0) return bad_token(err, "unknown token version");
    s += 3;
    if (parse_i64(s, '\n', &s, &cur->top_left) < 0 || parse_i64(s, '\n', &s, &n) < 0 || n < 0 ||
        n > 64)
        return bad_token(err, "malformed");
    cur->nafter = (size_t)n;
    cur->after = arena_calloc(a, cur->nafter ? cur->nafter : 1, sizeof *cur->after);
    if (!cur->after) return castor_err_set(err, CASTOR_ELIMIT, "continuation token too large");
    for (size_t i = 0; i < cur->nafter; i++)
        if (parse_i64(s, i + 1 == cur->nafter ? '\n' : ',', &s, &cur->after[i]) < 0)
            return bad_token(err, "malformed");
    if (cur->nafter == 0) {
        if (*s != '\n') return bad_token(err, "malformed");
        s++;
    }
    cur->text = s;
    return CASTOR_OK;
}

static int page_size(http_request_t *req, int64_t *out, castor_err *err)
{
    const char *h = http_request_header(req, "max-items-per-page");
    *out = CASTOR_QUERY_PAGE_DEFAULT;
    if (!h || !*h) return CASTOR_OK;
    int64_t v;
    const char *end;
    if (parse_i64(h, 0, &end, &v) < 0 || v < 1)
        return castor_err_http(err, CASTOR_EINVAL, 400, "BadRequest",
                               "The max-items-per-page header must be a positive integer, not "
                               "'%s'.",
                               h);
    *out = v > CASTOR_QUERY_PAGE_MAX ? CASTOR_QUERY_PAGE_MAX : v;
    return CASTOR_OK;
}

static int64_t budget_ms(void)
{
    const char *env = getenv("CASTOR_QUERY_TIMEOUT_MS");
    long long v = env ? atoll(env) : 0;
    return v > 0 ? v : (int64_t)CASTOR_QUERY_TIMEOUT_S * 1000;
}

/* ---- the page ---- */

typedef struct page {
    char *buf;
    size_t len, cap;
    int oom;
    const query_sql_t *qs;
    const char **qkeys; /* the output keys as JSON strings */
    int64_t want;       /* rows for this page */
    int64_t rows;
    int more;      /* a row beyond the page exists */
    int64_t *last; /* key of the last row written */
    int64_t count;
} page_t;

static void put(page_t *p, const char *s, size_t n)
{
    if (p->oom) return;
    if (p->len + n + 1 > p->cap) {
        size_t cap = p->cap ? p->cap : 16384;
        while (cap < p->len + n + 1)
            cap *= 2;
        char *b = realloc(p->buf, cap);
        if (!b) {
            p->oom = 1;
            return;
        }
        p->buf = b;
        p->cap = cap;
    }
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = 0;
}

static void puts_(page_t *p, const char *s)
{
    put(p, s, strlen(s));
}

static int on_row(const store_qrow_t *row, void *ctx)
{
    page_t *p = ctx;
    const query_sql_t *qs = p->qs;
    if (qs->count) {
        p->count = store_qrow_int(row, 0);
        return 1;
    }
    if (p->rows == p->want || p->len > CASTOR_QUERY_PAGE_BYTES_MAX) {
        p->more = 1;
        return 1;
    }
    if (p->rows) puts_(p, ",");
    size_t n;
    int col = (int)qs->nkeys;
    if (qs->star) {
        const char *s = store_qrow_text(row, col, &n);
        put(p, s ? s : "null", s ? n : 4);
    } else {
        puts_(p, "{");
        int first = 1;
        for (size_t i = 0; i < qs->nouts; i++) {
            const char *s = store_qrow_text(row, col + (int)i, &n);
            if (!s) continue; /* undefined on this row: omitted, as ADT does */
            if (!first) puts_(p, ",");
            first = 0;
            puts_(p, p->qkeys[i]);
            puts_(p, ":");
            put(p, s, n);
        }
        puts_(p, "}");
    }
    for (size_t i = 0; i < qs->nkeys; i++)
        p->last[i] = store_qrow_int(row, (int)i);
    p->rows++;
    return 0;
}

static store_qparam_t *bind_params(arena_t *a, const query_sql_t *qs)
{
    store_qparam_t *sp = arena_calloc(a, qs->nparams ? qs->nparams : 1, sizeof *sp);
    for (size_t i = 0; sp && i < qs->nparams; i++) {
        const query_param_t *p = &qs->params[i];
        switch (p->kind) {
        case QUERY_PARAM_INT:
            sp[i] = (store_qparam_t){.type = SQ_INT, .i = p->i};
            break;
        case QUERY_PARAM_DOUBLE:
            sp[i] = (store_qparam_t){.type = SQ_REAL, .d = p->d};
            break;
        case QUERY_PARAM_TEXT:
            sp[i] = (store_qparam_t){.type = SQ_TEXT, .s = p->s};
            break;
        default:
            sp[i] = (store_qparam_t){.type = SQ_NULL};
            break;
        }
    }
    return sp;
}

static const char *json_key(arena_t *a, const char *k)
{
    json_t *s = json_string(k ? k : "");
    char *t = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
    const char *out = t ? arena_strdup(a, t) : NULL;
    free(t);
    json_decref(s);
    return out;
}

static int run_page(http_request_t *req, http_response_t *resp, twins_ctx_t *ctx,
                    const unsigned char *key, cursor_t *cur, castor_err *err)
{
    arena_t *a = &req->arena;
    query_compiled_t qc;
    int rc = query_cache_compile(&query_cache, a, cur->text, strlen(cur->text),
                                 query_dialect_for(store_engine_name(ctx->store)),
                                 cur->after != NULL, &qc, err);
    if (rc < 0) return rc;
    int64_t size;
    if ((rc = page_size(req, &size, err)) < 0) return rc;
    if (cur->top_left < 0 && qc.top) cur->top_left = qc.top;
    int64_t want = size;
    if (cur->top_left >= 0 && cur->top_left < want) want = cur->top_left;
    size_t nkeys = qc.nkeys;
    if (cur->after && cur->nafter != nkeys) return bad_token(err, "it belongs to another query");
    query_sql_in_t in = {.instance = ctx->instance,
                         .instance_key = ctx->instance_key,
                         .after = cur->after,
                         .nafter = cur->nafter,
                         .limit = want + 1};
    query_sql_t qs = qc.sql;
    if ((rc = query_sql_bind(&qs, &in, err)) < 0) return rc;
    page_t p = {.qs = &qs, .want = want};
    p.last = arena_calloc(a, nkeys ? nkeys : 1, sizeof *p.last);
    p.qkeys = arena_calloc(a, qs.nouts ? qs.nouts : 1, sizeof *p.qkeys);
    for (size_t i = 0; p.qkeys && i < qs.nouts; i++)
        p.qkeys[i] = json_key(a, qs.out_keys[i]);
    store_qparam_t *sp = bind_params(a, &qs);
    if (!p.last || !p.qkeys || !sp) return castor_err_set(err, CASTOR_ELIMIT, "query too large");
    puts_(&p, "{\"value\":[");
    store_qstats_t st = {0};
    if (want > 0 || qs.count) {
        store_txn_t *t;
        if ((rc = store_begin(ctx->store, STORE_READ, &t, err)) < 0) {
            free(p.buf);
            return rc;
        }
        rc = store_query_run(t, qs.sql, sp, (int)qs.nparams, store_query_now_ms() + budget_ms(),
                             on_row, &p, &st, err);
        store_rollback(t);
        if (rc < 0) {
            free(p.buf);
            return rc;
        }
    }
    if (qs.count) {
        char n[48];
        snprintf(n, sizeof n, "{\"COUNT\":%lld}", (long long)p.count);
        puts_(&p, n);
    }
    puts_(&p, "],\"continuationToken\":");
    const char *next = NULL;
    if (cur->top_left >= 0 && cur->top_left - p.rows <= 0) p.more = 0; /* TOP(n) is done */
    if (p.more && nkeys) {
        cursor_t nc = {.text = cur->text,
                       .top_left = cur->top_left >= 0 ? cur->top_left - p.rows : -1,
                       .after = p.last,
                       .nafter = nkeys};
        next = token_make(req, key, &nc);
        if (!next) {
            free(p.buf);
            return castor_err_set(err, CASTOR_ELIMIT, "query too large");
        }
    }
    if (next) {
        puts_(&p, "\"");
        puts_(&p, next);
        puts_(&p, "\"}");
    } else {
        puts_(&p, "null}");
    }
    if (p.oom) {
        free(p.buf);
        return castor_err_set(err, CASTOR_ENOMEM, "out of memory writing the query's page");
    }
    resp->body = arena_alloc(a, p.len + 1);
    if (resp->body) memcpy(resp->body, p.buf, p.len + 1);
    free(p.buf);
    if (!resp->body)
        return castor_err_set(err, CASTOR_ELIMIT, "the query's page does not fit in memory");
    resp->body_len = p.len;
    resp->status = 200;
    resp->content_type = "application/json; charset=utf-8";
    char charge[32];
    snprintf(charge, sizeof charge, "%.2f", 1.0 + (double)st.steps / 10000.0);
    http_response_header(req, resp, "query-charge", charge);
    return CASTOR_OK;
}

static int query_body(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const json_t *body = req->json;
    const json_t *jt = json_object_get(body, "continuationToken");
    const json_t *jq = json_object_get(body, "query");
    if (!json_is_object(body) || ((!jt || json_is_null(jt)) && !json_is_string(jq)))
        return castor_err_http(err, CASTOR_EINVAL, 400, "BadRequest",
                               "The body must be {\"query\": \"SELECT ...\"} or "
                               "{\"continuationToken\": \"...\"}.");
    if (jt && !json_is_null(jt) && !json_is_string(jt)) return bad_token(err, "it is not a string");
    twins_ctx_t ctx;
    int rc = twins_begin(req, &ctx, 0, err);
    if (rc < 0) return rc;
    unsigned char key[STORE_QUERY_KEY_BYTES];
    if ((rc = store_query_token_key(ctx.store, key, err)) < 0) return rc;
    cursor_t cur = {.top_left = -1};
    if (jt && json_is_string(jt))
        rc = token_open(req, key, json_string_value(jt), &cur, err);
    else
        cur.text = json_string_value(jq);
    if (rc == 0) rc = run_page(req, resp, &ctx, key, &cur, err);
    sodium_memzero(key, sizeof key);
    twins_done(&ctx);
    return rc;
}

int twins_query(http_request_t *req, http_response_t *resp, castor_err *err)
{
    if (twins_query_admit() < 0) {
        char s[16];
        snprintf(s, sizeof s, "%u", CASTOR_QUERY_RETRY_AFTER_S);
        http_request_error_header(req, "Retry-After", s);
        return castor_err_http(err, CASTOR_ELIMIT, 429, "QuotaReachedError",
                               "More than %u queries are running on this server; retry after %u "
                               "second(s).",
                               CASTOR_QUERY_INFLIGHT_MAX, CASTOR_QUERY_RETRY_AFTER_S);
    }
    int rc = query_body(req, resp, err);
    twins_query_leave();
    return rc;
}
