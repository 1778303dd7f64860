/* access_authn.c — bearer-token verification for every plane (access.h): who is calling. */
#include "access/access.h"

#include "core/ids.h"
#include "core/timeutil.h"
#include "identity/idn.h"
#include "identity/idn_crypto.h"
#include "store/store_directory.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- cache: direct-mapped slots keyed by a 128-bit hash of the token ---- */

#define CACHE_SLOTS 4096u
#define CACHE_STRIPES 64u

typedef struct cache_entry {
    unsigned char key[16];
    int used;
    unsigned generation;
    access_principal_t p; /* roles/groups pointers are NULL here; the blobs below hold them */
    char **roles;         /* malloc'ed copies */
    char **groups;
} cache_entry_t;

static cache_entry_t cache[CACHE_SLOTS];
static pthread_mutex_t stripes[CACHE_STRIPES];
static pthread_once_t stripes_once = PTHREAD_ONCE_INIT;
static atomic_uint generation = 1;

static void stripes_init(void)
{
    for (unsigned i = 0; i < CACHE_STRIPES; i++)
        pthread_mutex_init(&stripes[i], NULL);
}

void access_directory_changed(void)
{
    atomic_fetch_add(&generation, 1);
}

unsigned access_directory_generation(void)
{
    return atomic_load(&generation);
}

static void free_list(char **v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static char **dup_list(const char **v, size_t n)
{
    char **out = calloc(n ? n : 1, sizeof *out);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(out[i] = strdup(v[i]))) {
            free_list(out, i);
            return NULL;
        }
    return out;
}

static const char **arena_list(arena_t *a, char **v, size_t n)
{
    const char **out = arena_calloc(a, n ? n : 1, sizeof *out);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++)
        out[i] = arena_strdup(a, v[i]);
    return out;
}

static int cache_get(const unsigned char key[16], arena_t *a, access_principal_t *out)
{
    pthread_once(&stripes_once, stripes_init);
    unsigned slot;
    memcpy(&slot, key, sizeof slot);
    slot %= CACHE_SLOTS;
    pthread_mutex_t *mu = &stripes[slot % CACHE_STRIPES];
    int hit = 0;
    pthread_mutex_lock(mu);
    cache_entry_t *e = &cache[slot];
    if (e->used && sodium_memcmp(e->key, key, 16) == 0 &&
        e->generation == atomic_load(&generation) &&
        e->p.exp > time_now_s() - ACCESS_CLOCK_SKEW_S) {
        *out = e->p;
        out->roles = arena_list(a, e->roles, e->p.nroles);
        out->groups = arena_list(a, e->groups, e->p.ngroups);
        hit = out->roles && out->groups;
    }
    pthread_mutex_unlock(mu);
    return hit;
}

static void cache_put(const unsigned char key[16], const access_principal_t *p, unsigned gen)
{
    char **roles = dup_list(p->roles, p->nroles);
    char **groups = dup_list(p->groups, p->ngroups);
    if (!roles || !groups) {
        free_list(roles, p->nroles);
        free_list(groups, p->ngroups);
        return;
    }
    unsigned slot;
    memcpy(&slot, key, sizeof slot);
    slot %= CACHE_SLOTS;
    pthread_mutex_t *mu = &stripes[slot % CACHE_STRIPES];
    pthread_mutex_lock(mu);
    cache_entry_t *e = &cache[slot];
    if (e->used) {
        free_list(e->roles, e->p.nroles);
        free_list(e->groups, e->p.ngroups);
    }
    memcpy(e->key, key, 16);
    e->used = 1;
    e->generation = gen;
    e->p = *p;
    e->p.roles = e->p.groups = NULL;
    e->roles = roles;
    e->groups = groups;
    pthread_mutex_unlock(mu);
}

/* ---- checks ---- */

const char *access_reason_name(access_reason_t r)
{
    switch (r) {
    case ACCESS_REASON_NONE:
        return "none";
    case ACCESS_REASON_MISSING:
        return "missing";
    case ACCESS_REASON_MALFORMED:
        return "malformed";
    case ACCESS_REASON_ALG:
        return "algorithm";
    case ACCESS_REASON_KID:
        return "unknown_key";
    case ACCESS_REASON_SIGNATURE:
        return "bad_signature";
    case ACCESS_REASON_EXPIRED:
        return "expired";
    case ACCESS_REASON_NOT_YET_VALID:
        return "not_yet_valid";
    case ACCESS_REASON_TENANT:
        return "tenant";
    case ACCESS_REASON_AUDIENCE:
        return "audience";
    case ACCESS_REASON_PRINCIPAL:
        return "principal";
    }
    return "unknown";
}

static const char *plane_code(access_audience_t aud, access_reason_t r)
{
    if (aud == ACCESS_AUDIENCE_GRAPH) return "InvalidAuthenticationToken";
    if (aud == ACCESS_AUDIENCE_DATA) return "Unauthorized";
    switch (r) {
    case ACCESS_REASON_MISSING:
        return "AuthenticationFailed";
    case ACCESS_REASON_EXPIRED:
        return "ExpiredAuthenticationToken";
    case ACCESS_REASON_AUDIENCE:
        return "InvalidAuthenticationTokenAudience";
    case ACCESS_REASON_TENANT:
        return "InvalidAuthenticationTokenTenant";
    default:
        return "InvalidAuthenticationToken";
    }
}

static int fail(access_principal_t *out, access_audience_t aud, access_reason_t r, castor_err *err,
                const char *fmt, const char *a1, const char *a2)
{
    out->reason = r;
    char msg[CASTOR_ERR_MESSAGE_MAX];
    castor_text_cut(msg, sizeof msg, snprintf(msg, sizeof msg, fmt, a1 ? a1 : "", a2 ? a2 : ""));
    return castor_err_http(err, CASTOR_EAUTH, 401, plane_code(aud, r), "%s", msg);
}

static int same_uri(const char *a, const char *b)
{
    if (!a || !b) return 0;
    size_t la = strlen(a), lb = strlen(b);
    while (la && a[la - 1] == '/')
        la--;
    while (lb && b[lb - 1] == '/')
        lb--;
    return la == lb && la > 0 && strncasecmp(a, b, la) == 0;
}

static int audience_ok(access_audience_t audience, const char *aud, const char *public_url,
                       const char *request_base)
{
    switch (audience) {
    case ACCESS_AUDIENCE_DATA:
        return same_uri(aud, IDN_ADT_RESOURCE) || strcasecmp(aud, IDN_APP_ADT) == 0;
    case ACCESS_AUDIENCE_ARM:
        return same_uri(aud, "https://management.azure.com") ||
               same_uri(aud, "https://management.core.windows.net") ||
               strcasecmp(aud, IDN_APP_ARM) == 0 || same_uri(aud, public_url) ||
               same_uri(aud, request_base);
    case ACCESS_AUDIENCE_GRAPH:
        return same_uri(aud, IDN_GRAPH_RESOURCE) || strcasecmp(aud, IDN_APP_GRAPH) == 0 ||
               same_uri(aud, "https://graph.windows.net") || same_uri(aud, public_url) ||
               same_uri(aud, request_base);
    }
    return 0;
}

static const char *audience_list(access_audience_t a)
{
    switch (a) {
    case ACCESS_AUDIENCE_DATA:
        return "https://digitaltwins.azure.net";
    case ACCESS_AUDIENCE_ARM:
        return "https://management.azure.com/ or this castor's URL";
    case ACCESS_AUDIENCE_GRAPH:
        return "https://graph.microsoft.com or this castor's URL";
    }
    return "";
}

static const char *str_claim(const json_t *payload, const char *name)
{
    const json_t *v = json_object_get(payload, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* iss must be "{anything}/{tid}/" (v1) or "{anything}/{tid}/v2.0" (v2). */
static int issuer_names_tenant(const char *iss, const char *tid)
{
    if (!iss) return 0;
    const char *p = strstr(iss, tid);
    if (!p || p == iss || p[-1] != '/') return 0;
    const char *rest = p + strlen(tid);
    return strcmp(rest, "/") == 0 || strcmp(rest, "/v2.0") == 0 || rest[0] == '\0';
}

typedef struct list_ctx {
    arena_t *a;
    const char **v;
    size_t n, cap;
} list_ctx_t;

static int add_group(const char *gid, void *ctx)
{
    list_ctx_t *l = ctx;
    if (l->n >= l->cap) return 1;
    l->v[l->n++] = arena_strdup(l->a, gid);
    return 0;
}

static int principal_check(store_t *store, access_principal_t *out, arena_t *a, castor_err *err,
                           access_audience_t audience)
{
    store_txn_t *t;
    castor_err e;
    castor_err_clear(&e);
    if (store_begin(store, STORE_READ, &t, &e) < 0)
        return castor_err_set(err, e.rc, "verifying the token: %s", e.message);
    int rc = CASTOR_OK;
    store_tenant_t tenant;
    if (store_tenant_get(t, out->tenant_id, &tenant, &e) < 0) {
        store_rollback(t);
        return fail(out, audience, ACCESS_REASON_TENANT, err,
                    "The access token is from tenant '%s', which this castor does not hold.",
                    out->tenant_id, NULL);
    }
    if (out->kind == ACCESS_KIND_USER) {
        store_user_t u;
        if (store_user_get(t, out->oid, &u, &e) < 0 || strcmp(u.tenant_id, out->tenant_id) != 0)
            rc = fail(out, audience, ACCESS_REASON_PRINCIPAL, err,
                      "The user '%s' of the access token no longer exists; sign in again.",
                      out->upn[0] ? out->upn : out->oid, NULL);
        else if (!u.enabled)
            rc = fail(out, audience, ACCESS_REASON_PRINCIPAL, err,
                      "The user '%s' is disabled (accountEnabled is false).", u.upn, NULL);
        sodium_memzero(u.password_hash, sizeof u.password_hash);
    } else {
        store_sp_t sp;
        if (store_sp_get(t, out->oid, &sp, &e) < 0 || strcmp(sp.tenant_id, out->tenant_id) != 0) {
            rc = fail(out, audience, ACCESS_REASON_PRINCIPAL, err,
                      "The service principal '%s' of the access token no longer exists.", out->oid,
                      NULL);
        } else {
            if (!sp.enabled)
                rc = fail(out, audience, ACCESS_REASON_PRINCIPAL, err,
                          "The service principal '%s' is disabled.", out->oid, NULL);
            if (!out->name[0]) snprintf(out->name, sizeof out->name, "%s", sp.display_name);
            store_sp_release(&sp);
        }
    }
    if (rc == 0) {
        list_ctx_t l = {a, arena_calloc(a, ACCESS_GROUPS_MAX, sizeof(char *)), 0,
                        ACCESS_GROUPS_MAX};
        if (!l.v)
            rc = castor_err_set(err, CASTOR_ENOMEM, "out of memory");
        else if (store_principal_groups(t, out->oid, add_group, &l, &e) < 0)
            rc = castor_err_set(err, e.rc, "reading group memberships: %s", e.message);
        out->groups = l.v;
        out->ngroups = l.n;
    }
    store_rollback(t);
    return rc;
}

/* The cache key of a token: a BLAKE2b-128 of it (~7,000 instructions for a 1.5 KB token), kept
 * per thread for the last token seen, since a client sends the same token request after
 * request; the exact comparison keeps it as safe as hashing every time. */
static void token_key(const char *token, size_t tlen, unsigned char key[16])
{
    static _Thread_local char last[ACCESS_TOKEN_MAX]; /* no heap: nothing to free at thread exit */
    static _Thread_local size_t last_len;
    static _Thread_local unsigned char last_key[16];
    if (last_len && last_len == tlen && memcmp(last, token, tlen) == 0) {
        memcpy(key, last_key, 16);
        return;
    }
    crypto_generichash(key, 16, (const unsigned char *)token, tlen, NULL, 0);
    memcpy(last, token, tlen); /* tlen <= ACCESS_TOKEN_MAX, checked by the caller */
    last_len = tlen;
    memcpy(last_key, key, 16);
}

int access_verify_token(store_t *store, const char *token, access_audience_t audience,
                        const char *public_url, const char *request_base, arena_t *a,
                        access_principal_t *out, castor_err *err)
{
    memset(out, 0, sizeof *out);
    if (!token || !token[0])
        return fail(out, audience, ACCESS_REASON_MISSING, err,
                    "Authentication failed. The 'Authorization' header is missing a bearer "
                    "token.%s%s",
                    NULL, NULL);
    size_t tlen = strlen(token);
    if (tlen > ACCESS_TOKEN_MAX)
        return fail(out, audience, ACCESS_REASON_MALFORMED, err,
                    "The access token is longer than castor accepts.%s%s", NULL, NULL);

    unsigned char key[16];
    token_key(token, tlen, key);
    if (cache_get(key, a, out)) {
        if (out->exp + ACCESS_CLOCK_SKEW_S <= time_now_s()) {
            memset(out, 0, sizeof *out);
        } else if (!audience_ok(audience, out->aud, public_url, request_base)) {
            char aud[512];
            snprintf(aud, sizeof aud, "%s", out->aud);
            return fail(out, audience, ACCESS_REASON_AUDIENCE, err,
                        "The access token has audience '%s'; this endpoint accepts tokens for "
                        "%s.",
                        aud, audience_list(audience));
        } else {
            return CASTOR_OK;
        }
    }
    unsigned gen = atomic_load(&generation);

    castor_err perr;
    castor_err_clear(&perr);
    idn_jws_t j;
    if (idn_jws_parse(a, token, &j, &perr) < 0)
        return fail(out, audience, ACCESS_REASON_MALFORMED, err,
                    "The access token is malformed: %s%s", perr.message, NULL);
    int rc = CASTOR_OK;
    const char *alg = str_claim(j.header, "alg");
    const char *kid = str_claim(j.header, "kid");
    const idn_key_t *k = NULL;
    if (!alg || strcmp(alg, "RS256") != 0) {
        rc = fail(out, audience, ACCESS_REASON_ALG, err,
                  "The access token is signed with '%s'; castor accepts RS256 only.%s",
                  alg ? alg : "(no alg)", NULL);
    } else if (!(k = idn_keys_find(idn_keys(), kid))) {
        rc = fail(out, audience, ACCESS_REASON_KID, err,
                  "The access token's signing key '%s' is not one of this castor's keys (see "
                  "/common/discovery/v2.0/keys).%s",
                  kid ? kid : "(no kid)", NULL);
    } else if (idn_key_verify_rs256(k, &j) != 0) {
        rc = fail(out, audience, ACCESS_REASON_SIGNATURE, err,
                  "The access token's signature does not verify.%s%s", NULL, NULL);
    }
    if (rc < 0) {
        idn_jws_release(&j);
        return rc;
    }
    const json_t *pl = j.payload;
    const json_t *exp = json_object_get(pl, "exp"), *nbf = json_object_get(pl, "nbf");
    const char *tid = str_claim(pl, "tid"), *oid = str_claim(pl, "oid");
    const char *iss = str_claim(pl, "iss"), *aud = str_claim(pl, "aud");
    int64_t now = time_now_s();
    if (!json_is_integer(exp) || (nbf && !json_is_integer(nbf)) || !tid || !oid || !aud ||
        !ids_is_guid(tid) || !ids_is_guid(oid) || strlen(aud) >= sizeof out->aud) {
        rc = fail(out, audience, ACCESS_REASON_MALFORMED, err,
                  "The access token lacks exp, tid, oid or aud, or has them in the wrong "
                  "form.%s%s",
                  NULL, NULL);
    } else if (json_integer_value(exp) + ACCESS_CLOCK_SKEW_S <= now) {
        char when[40];
        time_format_rfc3339(json_integer_value(exp), 0, when, sizeof when);
        rc = fail(out, audience, ACCESS_REASON_EXPIRED, err,
                  "The access token expired at %s. Get a new token.%s", when, NULL);
    } else if (nbf && json_integer_value(nbf) - ACCESS_CLOCK_SKEW_S > now) {
        rc = fail(out, audience, ACCESS_REASON_NOT_YET_VALID, err,
                  "The access token is not valid yet (nbf is in the future).%s%s", NULL, NULL);
    } else if (!issuer_names_tenant(iss, tid)) {
        rc = fail(out, audience, ACCESS_REASON_TENANT, err,
                  "The access token's issuer '%s' does not name its tenant '%s'.", iss ? iss : "",
                  tid);
    } else if (!audience_ok(audience, aud, public_url, request_base)) {
        rc = fail(out, audience, ACCESS_REASON_AUDIENCE, err,
                  "The access token has audience '%s'; this endpoint accepts tokens for %s.", aud,
                  audience_list(audience));
    }
    if (rc == 0) {
        const char *idtyp = str_claim(pl, "idtyp");
        const char *scp = str_claim(pl, "scp");
        out->kind = (idtyp && strcmp(idtyp, "app") == 0) || (!idtyp && !scp) ? ACCESS_KIND_APP
                                                                             : ACCESS_KIND_USER;
        snprintf(out->tenant_id, sizeof out->tenant_id, "%s", tid);
        snprintf(out->oid, sizeof out->oid, "%s", oid);
        const char *appid = str_claim(pl, "appid");
        if (!appid) appid = str_claim(pl, "azp");
        snprintf(out->appid, sizeof out->appid, "%s", appid ? appid : "");
        const char *upn = str_claim(pl, "upn");
        if (!upn) upn = str_claim(pl, "preferred_username");
        snprintf(out->upn, sizeof out->upn, "%s", upn ? upn : "");
        const char *name = str_claim(pl, "name");
        snprintf(out->name, sizeof out->name, "%s", name ? name : "");
        snprintf(out->aud, sizeof out->aud, "%s", aud);
        snprintf(out->scp, sizeof out->scp, "%s", scp ? scp : "");
        const char *ver = str_claim(pl, "ver");
        out->version = ver && strcmp(ver, "2.0") == 0 ? 2 : 1;
        out->exp = json_integer_value(exp);
        const json_t *roles = json_object_get(pl, "roles");
        size_t nr = json_is_array(roles) ? json_array_size(roles) : 0;
        out->roles = arena_calloc(a, nr ? nr : 1, sizeof(char *));
        for (size_t i = 0; out->roles && i < nr; i++) {
            const json_t *r = json_array_get(roles, i);
            if (json_is_string(r))
                out->roles[out->nroles++] = arena_strdup(a, json_string_value(r));
        }
        if (!out->roles) rc = castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    }
    idn_jws_release(&j);
    if (rc == 0) rc = principal_check(store, out, a, err, audience);
    if (rc == 0) cache_put(key, out, gen);
    return rc;
}

static const char *bearer_of(http_request_t *req)
{
    const char *h = http_request_header(req, "Authorization");
    if (!h) return NULL;
    while (*h == ' ')
        h++;
    if (strncasecmp(h, "Bearer ", 7) != 0) return "";
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    while (n && h[n - 1] == ' ')
        n--;
    return arena_strndup(&req->arena, h, n);
}

int access_bearer(http_request_t *req, access_audience_t audience, access_principal_t *out,
                  castor_err *err)
{
    const access_t *ax = req->access;
    const char *token = bearer_of(req);
    return access_verify_token(ax->store, token, audience, ax->public_url,
                               http_request_base_url(req, ax->public_url), &req->arena, out, err);
}

int access_word_in(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        while (*p == ' ')
            p++;
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && n && strncasecmp(p, word, n) == 0) return 1;
        p += len;
    }
    return 0;
}

int access_has_scope(const access_principal_t *p, const char *scope)
{
    return p->kind == ACCESS_KIND_USER && access_word_in(p->scp, scope);
}

int access_has_role(const access_principal_t *p, const char *role)
{
    for (size_t i = 0; i < p->nroles; i++)
        if (strcasecmp(p->roles[i], role) == 0) return 1;
    return 0;
}

const char *access_challenge(http_request_t *req, const access_principal_t *p)
{
    const char *base = http_request_base_url(req, req->access ? req->access->public_url : "");
    if (p->reason == ACCESS_REASON_MISSING)
        return arena_sprintf(&req->arena, "Bearer authorization_uri=\"%s/%s\"", base,
                             p->tenant_id[0] ? p->tenant_id : "common");
    return arena_sprintf(&req->arena,
                         "Bearer authorization_uri=\"%s/common\", error=\"invalid_token\", "
                         "error_description=\"%s\"",
                         base, access_reason_name(p->reason));
}

const char *access_caller_name(const access_principal_t *p)
{
    if (!p) return "";
    const char *name = p->kind == ACCESS_KIND_USER && p->upn[0] ? p->upn : p->appid;
    return name[0] ? name : p->oid;
}
