/* idn_issue.c — the token service's shared steps: forms, tenants, clients, resources, consent,
 * password sign-in with lockout, and building the token response (idn_internal.h).
 *
 * Consent (security.md §6, as Entra behaves):
 *   - first-party public clients (Azure CLI, Azure PowerShell, castor CLI) are pre-authorized
 *     for the first-party resources: every delegated scope of the resource, no consent step;
 *   - any other client gets, for a resource, the scopes of the oauth2PermissionGrants that
 *     apply (AllPrincipals, or Principal for this user) intersected with what its
 *     requiredResourceAccess declares. No applicable grant: AADSTS65001 (consent_required)
 *     when the resource is declared, AADSTS650057 when it is not. A grant whose scopes the
 *     registration no longer declares yields a token without them (seed cause #2: the data
 *     plane then refuses the delegated token for lacking Read.Write). */
#include "identity/idn_internal.h"

#include "access/access.h"
#include "core/ids.h"
#include "core/timeutil.h"
#include "identity/idn_crypto.h"

#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int idn_form_parse(arena_t *a, const char *text, size_t len, idn_form_t *f)
{
    f->n = 0;
    size_t i = 0;
    while (text && i < len && f->n < IDN_FORM_MAX) {
        const char *p = text + i;
        const char *amp = memchr(p, '&', len - i);
        size_t plen = amp ? (size_t)(amp - p) : len - i;
        const char *eq = memchr(p, '=', plen);
        size_t klen = eq ? (size_t)(eq - p) : plen;
        if (plen) {
            const char *k = http_decode(a, p, klen, 1);
            const char *v = eq ? http_decode(a, eq + 1, plen - klen - 1, 1) : "";
            if (!k || !v) return -1;
            f->k[f->n] = k;
            f->v[f->n] = v;
            f->n++;
        }
        i += plen + 1;
    }
    return 0;
}

const char *idn_form_get(const idn_form_t *f, const char *key)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->k[i], key) == 0) return f->v[i];
    return NULL;
}

int idn_oauth_fail(castor_err *err, int status, const char *error, long aadsts, const char *fmt,
                   ...)
{
    char msg[CASTOR_ERR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char code[CASTOR_ERR_CODE_MAX];
    if (aadsts)
        snprintf(code, sizeof code, "%s:%ld", error, aadsts);
    else
        snprintf(code, sizeof code, "%s", error);
    int rc = status == 401 ? CASTOR_EAUTH : CASTOR_EINVAL;
    return castor_err_http(err, rc, status, code, "%s", msg);
}

int idn_tenant_resolve(store_txn_t *t, const char *name, const char *upn_hint, store_tenant_t *out,
                       castor_err *err)
{
    castor_err e;
    castor_err_clear(&e);
    int rc;
    if (strcasecmp(name, "common") == 0 || strcasecmp(name, "organizations") == 0 ||
        strcasecmp(name, "consumers") == 0 || strcasecmp(name, "adfs") == 0) {
        const char *at = upn_hint ? strrchr(upn_hint, '@') : NULL;
        if (at && store_tenant_get_by_domain(t, at + 1, out, &e) == 0) return CASTOR_OK;
        int n = 0;
        rc = store_tenant_list(t, out, 1, &n, &e);
        if (rc == 0 && n > 0) return CASTOR_OK;
    } else if (ids_is_guid(name)) {
        char lower[STORE_ID_MAX];
        snprintf(lower, sizeof lower, "%s", name);
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'F') *p = (char)(*p - 'A' + 'a');
        if (store_tenant_get(t, lower, out, &e) == 0) return CASTOR_OK;
    } else if (store_tenant_get_by_domain(t, name, out, &e) == 0) {
        return CASTOR_OK;
    }
    if (e.rc && e.rc != CASTOR_ENOTFOUND) return castor_err_set(err, e.rc, "%s", e.message);
    return idn_oauth_fail(err, 400, "invalid_request", 90002,
                          "Tenant '%s' not found. Check to make sure you have the correct tenant "
                          "ID and are signing into the correct cloud.",
                          name);
}

int idn_client_load(store_txn_t *t, const store_tenant_t *tenant, const char *client_id,
                    idn_client_t *out, castor_err *err)
{
    memset(out, 0, sizeof *out);
    castor_err e;
    castor_err_clear(&e);
    if (!client_id || !client_id[0])
        return idn_oauth_fail(err, 400, "invalid_request", 900144,
                              "The request body must contain the following parameter: "
                              "'client_id'.");
    int has_sp = store_sp_get_by_app_id(t, tenant->id, client_id, &out->sp, &e) == 0;
    if (!has_sp && e.rc != CASTOR_ENOTFOUND) return castor_err_set(err, e.rc, "%s", e.message);
    out->has_app = store_app_get_by_app_id(t, tenant->id, client_id, &out->app, &e) == 0;
    if (!has_sp) {
        int had_app = out->has_app;
        idn_client_release(out);
        if (had_app)
            return idn_oauth_fail(err, 400, "invalid_client", 7000229,
                                  "The client application %s is missing service principal in the "
                                  "tenant %s. Create it with `az ad sp create --id %s`.",
                                  client_id, tenant->id, client_id);
        return idn_oauth_fail(err, 400, "unauthorized_client", 700016,
                              "Application with identifier '%s' was not found in the directory "
                              "'%s'. This can happen if the application has not been installed by "
                              "the administrator of the tenant or consented to by any user in the "
                              "tenant. You may have sent your authentication request to the wrong "
                              "tenant.",
                              client_id, tenant->domain);
    }
    out->public_client = out->sp.public_client;
    if (out->has_app) {
        out->doc = json_loads(out->app.doc, 0, NULL);
        const json_t *fb = json_object_get(out->doc, "isFallbackPublicClient");
        if (json_is_true(fb)) out->public_client = 1;
    }
    return CASTOR_OK;
}

void idn_client_release(idn_client_t *c)
{
    store_sp_release(&c->sp);
    store_app_release(&c->app);
    json_decref(c->doc);
    c->doc = NULL;
}

static int is_oidc_scope(const char *s, idn_target_t *out)
{
    if (strcasecmp(s, "openid") == 0) return out->openid = 1;
    if (strcasecmp(s, "offline_access") == 0) return out->offline_access = 1;
    if (strcasecmp(s, "profile") == 0) return out->profile = 1;
    if (strcasecmp(s, "email") == 0) return out->email = 1;
    return 0;
}

static void strip_slashes(char *s)
{
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '/')
        s[--n] = '\0';
}

static int same_base(const char *a, const char *b)
{
    if (!a || !b) return 0;
    size_t la = strlen(a), lb = strlen(b);
    while (la && a[la - 1] == '/')
        la--;
    while (lb && b[lb - 1] == '/')
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

int idn_target_resolve(http_request_t *req, store_txn_t *t, const store_tenant_t *tenant,
                       const char *scope, const char *resource, int app_only, idn_target_t *out,
                       castor_err *err)
{
    memset(out, 0, sizeof *out);
    char res[512] = "";
    /* Refused whole rather than cut: the scope list is kept in fixed records (codes, refresh
     * tokens, grants) and the resource names the token's audience. */
    if (scope && strlen(scope) >= STORE_OAUTH_SCOPES_MAX)
        return idn_oauth_fail(err, 400, "invalid_scope", 70011,
                              "The provided value for the input parameter 'scope' is not valid: "
                              "it is %zu characters long, and at most %u are accepted.",
                              strlen(scope), STORE_OAUTH_SCOPES_MAX - 1);
    if (resource && strlen(resource) >= sizeof res)
        return idn_oauth_fail(err, 400, "invalid_resource", 500011,
                              "The resource principal named %.64s... was not found: a resource "
                              "is at most %zu characters long.",
                              resource, sizeof res - 1);
    if (resource && resource[0]) {
        snprintf(res, sizeof res, "%s", resource);
        /* The v1 endpoint still honours openid/offline_access in `scope`. */
        if (scope) {
            char *copy = arena_strdup(&req->arena, scope), *save = NULL;
            for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
                is_oidc_scope(w, out);
        }
    } else {
        if (!scope || !scope[0])
            return idn_oauth_fail(err, 400, "invalid_request", 900144,
                                  "The request body must contain the following parameter: "
                                  "'scope'.");
        char *copy = arena_strdup(&req->arena, scope), *save = NULL;
        for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
            if (is_oidc_scope(w, out)) continue;
            char r[512], value[256];
            const char *slash = strrchr(w, '/');
            int uri = strstr(w, "://") != NULL;
            int split = slash && (!uri || slash > strstr(w, "://") + 2);
            /* A resource or value longer than its buffer is refused, never cut. */
            if ((split && ((size_t)(slash - w) >= sizeof r || strlen(slash + 1) >= sizeof value)) ||
                (!split && strlen(w) >= sizeof value))
                return idn_oauth_fail(err, 400, "invalid_scope", 70011,
                                      "The provided value for the input parameter 'scope' is not "
                                      "valid: the scope '%.64s...' is too long.",
                                      w);
            if (split) {
                snprintf(r, sizeof r, "%.*s", (int)(slash - w), w);
                snprintf(value, sizeof value, "%s", slash + 1);
            } else {
                snprintf(r, sizeof r, "%s", IDN_GRAPH_RESOURCE); /* bare "User.Read" is Graph's */
                snprintf(value, sizeof value, "%s", w);
            }
            if (res[0] && strcasecmp(res, r) != 0)
                return idn_oauth_fail(err, 400, "invalid_scope", 70011,
                                      "The provided value for the input parameter 'scope' is not "
                                      "valid: scopes of several resources (%s, %s) cannot be "
                                      "combined in one request.",
                                      res, r);
            snprintf(res, sizeof res, "%s", r);
            if (strcmp(value, ".default") != 0) {
                if (app_only)
                    return idn_oauth_fail(err, 400, "invalid_scope", 1002012,
                                          "The provided value for scope %s is not valid. Client "
                                          "credential flows must have a scope value with "
                                          "/.default suffixed to the resource identifier "
                                          "(application ID URI).",
                                          w);
                size_t n = strlen(out->requested);
                snprintf(out->requested + n, sizeof out->requested - n, "%s%s", n ? " " : "",
                         value);
            }
        }
        if (!res[0]) snprintf(res, sizeof res, "%s", IDN_GRAPH_RESOURCE); /* only openid... */
        /* ARM's identifier URIs end in a slash; Entra's tokens carry them so. */
        if (strcasecmp(res, "https://management.azure.com") == 0 ||
            strcasecmp(res, "https://management.core.windows.net") == 0)
            snprintf(res + strlen(res), sizeof res - strlen(res), "/");
    }
    snprintf(out->resource, sizeof out->resource, "%s", res);
    const idn_deps_t *deps = idn_deps(req);
    castor_err e;
    castor_err_clear(&e);
    int rc;
    char key[512];
    snprintf(key, sizeof key, "%s", res);
    strip_slashes(key);
    if (same_base(res, idn_base_url(req)) ||
        (deps && deps->public_url && same_base(res, deps->public_url)))
        rc = store_sp_get_by_app_id(t, tenant->id, IDN_APP_ARM, &out->sp, &e);
    else
        rc = store_sp_get_by_name(t, tenant->id, key, &out->sp, &e);
    if (rc == CASTOR_ENOTFOUND)
        return idn_oauth_fail(err, 400, "invalid_resource", 500011,
                              "The resource principal named %s was not found in the tenant named "
                              "%s. This can happen if the application has not been installed by "
                              "the administrator of the tenant or consented to by any user in the "
                              "tenant. You might have sent your authentication request to the "
                              "wrong tenant.",
                              res, tenant->domain);
    if (rc < 0) return castor_err_set(err, rc, "%s", e.message);
    out->sp_doc = json_loads(out->sp.doc, 0, NULL);
    const json_t *ver =
        json_object_get(json_object_get(out->sp_doc, "api"), "requestedAccessTokenVersion");
    out->version = json_is_integer(ver) && json_integer_value(ver) == 2 ? 2 : 1;
    snprintf(out->aud, sizeof out->aud, "%s", out->version == 2 ? out->sp.app_id : res);
    return CASTOR_OK;
}

void idn_target_release(idn_target_t *tg)
{
    store_sp_release(&tg->sp);
    json_decref(tg->sp_doc);
    tg->sp_doc = NULL;
}

/* ---- consent ---- */

static void add_word(char *out, size_t size, const char *w)
{
    if (!w || !w[0] || access_word_in(out, w)) return;
    size_t n = strlen(out);
    snprintf(out + n, size - n, "%s%s", n ? " " : "", w);
}

typedef struct grant_ctx {
    const char *resource_id, *user_id;
    char scopes[STORE_SCOPE_MAX];
    int found;
} grant_ctx_t;

static int grant_one(const store_grant_t *g, void *ctx)
{
    grant_ctx_t *c = ctx;
    if (strcmp(g->resource_id, c->resource_id) != 0) return 0;
    if (strcmp(g->consent_type, "AllPrincipals") != 0 &&
        !(c->user_id && strcmp(g->principal_id, c->user_id) == 0))
        return 0;
    c->found = 1;
    char copy[STORE_SCOPE_MAX], *save = NULL;
    snprintf(copy, sizeof copy, "%s", g->scope);
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
        add_word(c->scopes, sizeof c->scopes, w);
    return 0;
}

/* The scope values (not ids) the client's registration declares for the resource. */
static void declared_scopes(const idn_client_t *c, const idn_target_t *tg, char *out, size_t size,
                            int *listed)
{
    *listed = 0;
    out[0] = '\0';
    const json_t *rra = json_object_get(c->doc, "requiredResourceAccess");
    const json_t *scopes = json_object_get(tg->sp_doc, "oauth2PermissionScopes");
    size_t i, k, s;
    const json_t *entry, *acc, *sc;
    json_array_foreach(rra, i, entry)
    {
        const char *rid = json_string_value(json_object_get(entry, "resourceAppId"));
        if (!rid || strcasecmp(rid, tg->sp.app_id) != 0) continue;
        *listed = 1;
        json_array_foreach(json_object_get(entry, "resourceAccess"), k, acc)
        {
            const char *id = json_string_value(json_object_get(acc, "id"));
            const char *type = json_string_value(json_object_get(acc, "type"));
            if (!id || !type || strcmp(type, "Scope") != 0) continue;
            json_array_foreach(scopes, s, sc)
            {
                const char *sid = json_string_value(json_object_get(sc, "id"));
                if (sid && strcasecmp(sid, id) == 0)
                    add_word(out, size, json_string_value(json_object_get(sc, "value")));
            }
        }
    }
}

int idn_delegated_scopes(store_txn_t *t, const idn_client_t *c, const idn_target_t *tg,
                         const char *user_id, char *out, size_t size, castor_err *err)
{
    out[0] = '\0';
    char all[STORE_SCOPE_MAX] = "";
    size_t i;
    const json_t *sc;
    json_array_foreach(json_object_get(tg->sp_doc, "oauth2PermissionScopes"), i, sc)
        add_word(all, sizeof all, json_string_value(json_object_get(sc, "value")));

    char granted[STORE_SCOPE_MAX];
    if (c->sp.first_party && c->public_client && tg->sp.first_party) {
        snprintf(granted, sizeof granted, "%s", all); /* pre-authorized */
    } else if (strcmp(c->sp.id, tg->sp.id) == 0) {
        snprintf(granted, sizeof granted, "%s", all); /* an app calling its own API */
    } else {
        grant_ctx_t g = {.resource_id = tg->sp.id, .user_id = user_id};
        castor_err e;
        castor_err_clear(&e);
        if (store_grant_each(t, c->sp.tenant_id, c->sp.id, grant_one, &g, &e) < 0)
            return castor_err_set(err, e.rc, "%s", e.message);
        char declared[STORE_SCOPE_MAX];
        int listed = 0;
        declared_scopes(c, tg, declared, sizeof declared, &listed);
        if (!g.found) {
            if (listed)
                return idn_oauth_fail(
                    err, 400, "invalid_grant", 65001,
                    "The user or administrator has not consented to use the application with ID "
                    "'%s' named '%s'. Send an interactive authorization request for this user "
                    "and resource, or grant consent: az ad app permission grant --id %s --api %s "
                    "--scope \"%s\".",
                    c->sp.app_id, c->sp.display_name, c->sp.app_id, tg->sp.app_id,
                    declared[0] ? declared : all);
            return idn_oauth_fail(
                err, 400, "invalid_client", 650057,
                "Invalid resource. The client has requested access to a resource which is not "
                "listed in the requested permissions in the client's application registration. "
                "Client app ID: %s(%s). Resource value from request: %s. Resource app ID: %s. "
                "Add it with: az ad app permission add --id %s --api %s --api-permissions "
                "<scope id>=Scope.",
                c->sp.app_id, c->sp.display_name, tg->resource, tg->sp.app_id, c->sp.app_id,
                tg->sp.app_id);
        }
        granted[0] = '\0';
        char copy[STORE_SCOPE_MAX], *save = NULL;
        snprintf(copy, sizeof copy, "%s", g.scopes);
        for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
            if (access_word_in(declared, w)) add_word(granted, sizeof granted, w);
    }
    if (tg->requested[0]) {
        char copy[STORE_SCOPE_MAX], *save = NULL;
        snprintf(copy, sizeof copy, "%s", tg->requested);
        for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
            if (!access_word_in(all, w))
                return idn_oauth_fail(err, 400, "invalid_scope", 70011,
                                      "The provided value for the input parameter 'scope' is not "
                                      "valid. The scope %s/%s does not exist.",
                                      tg->resource, w);
            if (!access_word_in(granted, w))
                return idn_oauth_fail(
                    err, 400, "invalid_grant", 65001,
                    "The user or administrator has not consented to use the application with ID "
                    "'%s' named '%s' for the scope '%s'. Send an interactive authorization "
                    "request for this user and resource.",
                    c->sp.app_id, c->sp.display_name, w);
            add_word(out, size, w);
        }
        return CASTOR_OK;
    }
    snprintf(out, size, "%s", granted);
    return CASTOR_OK;
}

/* ---- password sign-in ---- */

int idn_password_signin(store_t *store, const store_tenant_t *tenant, const char *username,
                        const char *password, store_user_t *out, castor_err *err)
{
    if (!username || !username[0])
        return idn_oauth_fail(err, 400, "invalid_request", 900144,
                              "The request body must contain the following parameter: "
                              "'username'.");
    if (!password)
        return idn_oauth_fail(err, 400, "invalid_request", 900144,
                              "The request body must contain the following parameter: "
                              "'password'.");
    store_txn_t *t;
    int rc = store_begin(store, STORE_WRITE, &t, err);
    if (rc < 0) return rc;
    castor_err e;
    castor_err_clear(&e);
    rc = store_user_get_by_upn(t, tenant->id, username, out, &e);
    if (rc < 0) {
        store_rollback(t);
        if (rc != CASTOR_ENOTFOUND) return castor_err_set(err, rc, "%s", e.message);
        return idn_oauth_fail(err, 400, "invalid_grant", 50034,
                              "The user account %s does not exist in the %s directory. To sign "
                              "into this application, the account must be added to the "
                              "directory.",
                              username, tenant->domain);
    }
    int64_t now = time_now_s();
    if (out->locked_until > now) {
        store_rollback(t);
        return idn_oauth_fail(err, 400, "invalid_grant", 50053,
                              "Your account is locked because you've tried to sign in too many "
                              "times with an incorrect user ID or password. Try again in %lld "
                              "seconds.",
                              (long long)(out->locked_until - now));
    }
    int ok = crypto_pwhash_str_verify(out->password_hash, password, strlen(password)) == 0;
    sodium_memzero(out->password_hash, sizeof out->password_hash);
    if (!ok) {
        int failed = out->failed_signins + 1;
        int64_t until = failed >= IDN_LOCKOUT_THRESHOLD ? now + IDN_LOCKOUT_S : 0;
        rc = store_user_set_signin_state(t, out->id, until ? 0 : failed, until, err);
        if (rc == 0)
            rc = store_commit(t, err);
        else
            store_rollback(t);
        if (rc < 0) return rc;
        if (until)
            return idn_oauth_fail(err, 400, "invalid_grant", 50053,
                                  "Your account is locked because you've tried to sign in too "
                                  "many times with an incorrect user ID or password. Try again "
                                  "in %d seconds.",
                                  IDN_LOCKOUT_S);
        return idn_oauth_fail(err, 400, "invalid_grant", 50126,
                              "Error validating credentials due to invalid username or "
                              "password.");
    }
    if (!out->enabled) {
        store_rollback(t);
        return idn_oauth_fail(err, 400, "invalid_grant", 50057,
                              "The user account is disabled. The account %s has been disabled by "
                              "an administrator.",
                              out->upn);
    }
    if (out->failed_signins || out->locked_until) {
        rc = store_user_set_signin_state(t, out->id, 0, 0, err);
        if (rc == 0) return store_commit(t, err);
        store_rollback(t);
        return rc;
    }
    store_rollback(t);
    return CASTOR_OK;
}

/* ---- token response ---- */

typedef struct roles_ctx {
    const json_t *app_roles;
    const char *resource_id;
    json_t *out;
} roles_ctx_t;

static int role_one(const store_app_role_assignment_t *a, void *ctx)
{
    roles_ctx_t *r = ctx;
    if (strcmp(a->resource_id, r->resource_id) != 0) return 0;
    size_t i;
    const json_t *role;
    json_array_foreach(r->app_roles, i, role)
    {
        const char *id = json_string_value(json_object_get(role, "id"));
        const char *value = json_string_value(json_object_get(role, "value"));
        if (id && value && strcasecmp(id, a->app_role_id) == 0)
            json_array_append_new(r->out, json_string(value));
    }
    return 0;
}

static int groups_one(const char *gid, void *ctx)
{
    json_array_append_new(ctx, json_string(gid));
    return 0;
}

static char *random_uti(arena_t *a)
{
    return idn_random_token(a, 16);
}

/* ---- app-only token reuse (off unless --token-reuse SECS) ----
 * Entra signs a new token for every grant, and so does castor by default: with OpenSSL a
 * fresh token costs ~0.25 ms of RSA and two cores issue several thousand per second. An
 * operator may still ask for reuse: an app-only token depends only on (tenant, client,
 * audience, format, credential kind) and on directory state (roles, groups), so a token issued
 * for the same authenticated client and resource is handed out again for up to SECS, with
 * expires_in counting down. The client is authenticated on every request before this cache is
 * consulted, and any directory change (role assignment, membership, deletion, disabling)
 * empties it through the auth generation counter. */
#define APP_CACHE_SLOTS 1024u

typedef struct app_cache_entry {
    unsigned char key[16];
    unsigned generation;
    int64_t exp;
    char *access;
    char *scope;
} app_cache_entry_t;

static app_cache_entry_t app_cache[APP_CACHE_SLOTS];
static pthread_mutex_t app_cache_mu = PTHREAD_MUTEX_INITIALIZER;

static void app_cache_key(const idn_issue_t *is, unsigned char key[16])
{
    char text[1200];
    snprintf(text, sizeof text, "%s|%s|%s|%d|%d|%d|%s", is->tenant->id, is->client->sp.id,
             is->target->aud, is->target->version, is->appidacr, is->v1_response,
             is->target->resource);
    crypto_generichash(key, 16, (const unsigned char *)text, strlen(text), NULL, 0);
}

static int app_cache_get(http_request_t *req, const unsigned char key[16], int64_t now,
                         unsigned reuse_s, const char **access, const char **scope, int64_t *exp)
{
    unsigned slot;
    memcpy(&slot, key, sizeof slot);
    slot %= APP_CACHE_SLOTS;
    int hit = 0;
    pthread_mutex_lock(&app_cache_mu);
    app_cache_entry_t *e = &app_cache[slot];
    if (e->access && memcmp(e->key, key, 16) == 0 &&
        e->generation == access_directory_generation() &&
        e->exp - now > IDN_ACCESS_TOKEN_TTL_S - (int64_t)reuse_s) {
        *access = arena_strdup(&req->arena, e->access);
        *scope = arena_strdup(&req->arena, e->scope);
        *exp = e->exp;
        hit = *access && *scope;
    }
    pthread_mutex_unlock(&app_cache_mu);
    return hit;
}

static void app_cache_put(const unsigned char key[16], unsigned generation, int64_t exp,
                          const char *access, const char *scope)
{
    char *a = strdup(access), *s = strdup(scope);
    if (!a || !s) {
        free(a);
        free(s);
        return;
    }
    unsigned slot;
    memcpy(&slot, key, sizeof slot);
    slot %= APP_CACHE_SLOTS;
    pthread_mutex_lock(&app_cache_mu);
    app_cache_entry_t *e = &app_cache[slot];
    free(e->access);
    free(e->scope);
    memcpy(e->key, key, 16);
    e->generation = generation;
    e->exp = exp;
    e->access = a;
    e->scope = s;
    pthread_mutex_unlock(&app_cache_mu);
}

void idn_issue_cache_clear(void)
{
    pthread_mutex_lock(&app_cache_mu);
    for (unsigned i = 0; i < APP_CACHE_SLOTS; i++) {
        free(app_cache[i].access);
        free(app_cache[i].scope);
        memset(&app_cache[i], 0, sizeof app_cache[i]);
    }
    pthread_mutex_unlock(&app_cache_mu);
}

static int app_response(http_request_t *req, const idn_issue_t *is, const char *access,
                        const char *scope_out, int64_t exp, int64_t now, http_response_t *resp,
                        castor_err *err)
{
    json_t *body;
    int ttl = (int)(exp - now) - 1;
    if (is->v1_response) {
        char s_exp[24], s_now[24], s_ttl[24];
        snprintf(s_exp, sizeof s_exp, "%lld", (long long)exp);
        snprintf(s_now, sizeof s_now, "%lld", (long long)now);
        snprintf(s_ttl, sizeof s_ttl, "%d", ttl);
        body =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "token_type", "Bearer", "expires_in",
                      s_ttl, "ext_expires_in", s_ttl, "expires_on", s_exp, "not_before", s_now,
                      "resource", is->target->resource, "access_token", access);
    } else {
        body = json_pack("{s:s, s:s, s:i, s:i, s:s}", "token_type", "Bearer", "scope", scope_out,
                         "expires_in", ttl, "ext_expires_in", ttl, "access_token", access);
    }
    http_response_header(req, resp, "Cache-Control", "no-store, no-cache");
    http_response_header(req, resp, "Pragma", "no-cache");
    int rc = http_response_json(req, resp, 200, body, err);
    json_decref(body);
    return rc;
}

int idn_issue_tokens(http_request_t *req, store_txn_t *t, const idn_issue_t *is,
                     http_response_t *resp, castor_err *err)
{
    arena_t *a = &req->arena;
    const char *base = idn_base_url(req);
    const idn_target_t *tg = is->target;
    const idn_client_t *c = is->client;
    const char *tid = is->tenant->id;
    int64_t now = time_now_s();
    int64_t exp = now + IDN_ACCESS_TOKEN_TTL_S;
    castor_err e;
    castor_err_clear(&e);
    unsigned char ckey[16];
    unsigned gen = access_directory_generation();
    const idn_deps_t *deps = idn_deps(req);
    unsigned reuse_s = deps ? deps->token_reuse_s : 0;
    if (!is->user && reuse_s) {
        const char *cached, *cscope;
        int64_t cexp;
        app_cache_key(is, ckey);
        if (app_cache_get(req, ckey, now, reuse_s, &cached, &cscope, &cexp))
            return app_response(req, is, cached, cscope, cexp, now, resp, err);
    }

    char scp[STORE_SCOPE_MAX] = "";
    if (is->user) {
        int rc = idn_delegated_scopes(t, c, tg, is->user->id, scp, sizeof scp, err);
        if (rc < 0) return rc;
    }
    const char *iss = tg->version == 2 ? arena_sprintf(a, "%s/%s/v2.0", base, tid)
                                       : arena_sprintf(a, "%s/%s/", base, tid);
    json_t *at = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s}", "aud", tg->aud, "iss",
                           iss, "iat", (json_int_t)now, "nbf", (json_int_t)now, "exp",
                           (json_int_t)exp, "tid", tid, "ver", tg->version == 2 ? "2.0" : "1.0",
                           "uti", random_uti(a), "idtyp", is->user ? "user" : "app");
    char acr[2] = {(char)('0' + is->appidacr), 0};
    if (tg->version == 2) {
        json_object_set_new(at, "azp", json_string(c->sp.app_id));
        json_object_set_new(at, "azpacr", json_string(acr));
    } else {
        json_object_set_new(at, "appid", json_string(c->sp.app_id));
        json_object_set_new(at, "appidacr", json_string(acr));
    }
    const char *oid = is->user ? is->user->id : c->sp.id;
    json_object_set_new(at, "oid", json_string(oid));
    json_object_set_new(at, "sub", json_string(oid));
    json_t *groups = json_array();
    if (store_principal_groups(t, oid, groups_one, groups, &e) < 0) {
        json_decref(at);
        json_decref(groups);
        return castor_err_set(err, e.rc, "%s", e.message);
    }
    if (json_array_size(groups) > 0 && json_array_size(groups) <= 200)
        json_object_set(at, "groups", groups);
    json_t *roles = json_array();
    roles_ctx_t rc_ctx = {json_object_get(tg->sp_doc, "appRoles"), tg->sp.id, roles};
    if (store_app_role_assignment_each(t, oid, role_one, &rc_ctx, &e) < 0) {
        json_decref(at);
        json_decref(groups);
        json_decref(roles);
        return castor_err_set(err, e.rc, "%s", e.message);
    }
    if (json_array_size(roles)) json_object_set(at, "roles", roles);
    json_decref(roles);
    json_decref(groups);
    if (is->user) {
        json_object_set_new(at, "name", json_string(is->user->display_name));
        json_object_set_new(at, "amr", json_pack("[s]", "pwd"));
        if (tg->version == 2) {
            json_object_set_new(at, "preferred_username", json_string(is->user->upn));
        } else {
            json_object_set_new(at, "upn", json_string(is->user->upn));
            json_object_set_new(at, "unique_name", json_string(is->user->upn));
            json_object_set_new(at, "acr", json_string("1"));
        }
        if (scp[0]) json_object_set_new(at, "scp", json_string(scp));
    } else {
        json_object_set_new(at, "idp", json_string(iss));
    }
    char *access = idn_jwt_sign(a, at, err);
    json_decref(at);
    if (!access) return err->rc ? err->rc : CASTOR_EINTERNAL;

    /* The scope echoed back: what was asked plus what was granted, so MSAL's cache matches. */
    char scope_out[2048] = "";
    if (tg->requested[0] || scp[0]) {
        char copy[STORE_SCOPE_MAX], *save = NULL;
        snprintf(copy, sizeof copy, "%s", scp[0] ? scp : tg->requested);
        for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
            size_t n = strlen(scope_out);
            snprintf(scope_out + n, sizeof scope_out - n, "%s%s/%s", n ? " " : "", tg->resource, w);
        }
    }
    if (!tg->requested[0]) {
        size_t n = strlen(scope_out);
        snprintf(scope_out + n, sizeof scope_out - n, "%s%s/.default", n ? " " : "", tg->resource);
    }
    if (is->user) {
        size_t n = strlen(scope_out);
        snprintf(scope_out + n, sizeof scope_out - n, "%s%s%s%s", tg->openid ? " openid" : "",
                 tg->profile ? " profile" : "", tg->email ? " email" : "", " offline_access");
    }

    if (!is->user) {
        if (reuse_s) app_cache_put(ckey, gen, exp, access, scope_out);
        return app_response(req, is, access, scope_out, exp, now, resp, err);
    }
    json_t *body;
    if (is->v1_response) {
        char s_exp[24], s_now[24], s_ttl[24];
        snprintf(s_exp, sizeof s_exp, "%lld", (long long)exp);
        snprintf(s_now, sizeof s_now, "%lld", (long long)now);
        snprintf(s_ttl, sizeof s_ttl, "%d", IDN_ACCESS_TOKEN_TTL_S - 1);
        body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "token_type", "Bearer",
                         "expires_in", s_ttl, "ext_expires_in", s_ttl, "expires_on", s_exp,
                         "not_before", s_now, "resource", tg->resource, "access_token", access);
        if (scp[0]) json_object_set_new(body, "scope", json_string(scp));
    } else {
        body = json_pack("{s:s, s:s, s:i, s:i, s:s}", "token_type", "Bearer", "scope", scope_out,
                         "expires_in", IDN_ACCESS_TOKEN_TTL_S - 1, "ext_expires_in",
                         IDN_ACCESS_TOKEN_TTL_S - 1, "access_token", access);
    }

    if (is->user) {
        const store_user_t *u = is->user;
        json_t *idt = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "aud",
                                c->sp.app_id, "iss", arena_sprintf(a, "%s/%s/v2.0", base, tid),
                                "iat", (json_int_t)now, "nbf", (json_int_t)now, "exp",
                                (json_int_t)exp, "oid", u->id, "sub", u->id, "tid", tid, "name",
                                u->display_name, "preferred_username", u->upn, "ver", "2.0");
        if (is->nonce && is->nonce[0]) json_object_set_new(idt, "nonce", json_string(is->nonce));
        char *id_token = idn_jwt_sign(a, idt, err);
        json_decref(idt);
        if (!id_token) {
            json_decref(body);
            return err->rc ? err->rc : CASTOR_EINTERNAL;
        }
        json_object_set_new(body, "id_token", json_string(id_token));
        char ci[160];
        snprintf(ci, sizeof ci, "{\"uid\":\"%s\",\"utid\":\"%s\"}", u->id, tid);
        json_object_set_new(body, "client_info", json_string(idn_b64url(a, ci, strlen(ci))));

        char *rt = idn_random_token(a, 32);
        store_refresh_t r = {.created = now, .expires = now + IDN_REFRESH_TOKEN_TTL_S};
        idn_secret_hash(rt, r.token_hash);
        snprintf(r.tenant_id, sizeof r.tenant_id, "%s", tid);
        snprintf(r.user_id, sizeof r.user_id, "%s", u->id);
        snprintf(r.client_id, sizeof r.client_id, "%s", c->sp.app_id);
        snprintf(r.scope, sizeof r.scope, "%s", is->rt_scope ? is->rt_scope : "");
        if (is->family)
            snprintf(r.family, sizeof r.family, "%s", is->family);
        else
            ids_guid(r.family);
        snprintf(r.state, sizeof r.state, "active");
        if (store_refresh_add(t, &r, err) < 0) {
            json_decref(body);
            return err->rc;
        }
        json_object_set_new(body, "refresh_token", json_string(rt));
        if (!is->v1_response)
            json_object_set_new(body, "refresh_token_expires_in",
                                json_integer(IDN_REFRESH_TOKEN_TTL_S));
    }
    http_response_header(req, resp, "Cache-Control", "no-store, no-cache");
    http_response_header(req, resp, "Pragma", "no-cache");
    int rc = http_response_json(req, resp, 200, body, err);
    json_decref(body);
    return rc;
}

const char *idn_html(arena_t *a, const char *s)
{
    if (!s) return "";
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += strchr("<>&\"'", *p) ? 6 : 1;
    char *out = arena_alloc(a, n + 1), *o = out;
    if (!out) return "";
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '<':
            o += sprintf(o, "&lt;");
            break;
        case '>':
            o += sprintf(o, "&gt;");
            break;
        case '&':
            o += sprintf(o, "&amp;");
            break;
        case '"':
            o += sprintf(o, "&quot;");
            break;
        case '\'':
            o += sprintf(o, "&#39;");
            break;
        default:
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}
