/* idn_oauth.c — the token service's endpoints: OIDC discovery (v1, v2, ADFS-style), JWKS,
 * instance discovery, user realm, the token endpoint (every grant) and the device-code
 * endpoint. Errors answer in Entra's shape through idn_oauth_fail (errors.c renders them). */
#include "identity/idn_internal.h"

#include "access/access.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "identity/idn_crypto.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* How long a device code stays valid: castor serve --device-code-lifetime, else Entra's 900 s. */
static int device_ttl(http_request_t *req)
{
    unsigned s = idn_deps(req)->device_code_ttl_s;
    return s ? (int)s : IDN_DEVICE_CODE_TTL_S;
}

/* The tenant segment of the path ("adfs" on the ADFS-style mirror). */
static const char *tenant_param(http_request_t *req)
{
    const char *t = http_request_param(req, "tenant");
    return t ? t : "adfs";
}

static int with_tenant(http_request_t *req, const char *name, const char *upn_hint,
                       store_tenant_t *out, castor_err *err)
{
    store_txn_t *t;
    int rc = store_begin(idn_store(req), STORE_READ, &t, err);
    if (rc < 0) return rc;
    rc = idn_tenant_resolve(t, name, upn_hint, out, err);
    store_rollback(t);
    return rc;
}

/* ---- discovery ---- */

static int openid_config(http_request_t *req, http_response_t *resp, castor_err *err, int v2)
{
    const char *name = tenant_param(req);
    int adfs = strcasecmp(name, "adfs") == 0;
    store_tenant_t tn;
    int rc = with_tenant(req, name, NULL, &tn, err);
    if (rc < 0) {
        if (err->status == 400) snprintf(err->code, sizeof err->code, "invalid_tenant:90002");
        return rc;
    }
    const char *base = idn_base_url(req);
    arena_t *a = &req->arena;
    int multi = strcasecmp(name, "common") == 0 || strcasecmp(name, "organizations") == 0 ||
                strcasecmp(name, "consumers") == 0;
    const char *seg = adfs ? "adfs" : name;
    const char *issuer_tid = multi ? "{tenantid}" : tn.id;
    const char *issuer = adfs ? arena_sprintf(a, "%s/adfs", base)
                         : v2 ? arena_sprintf(a, "%s/%s/v2.0", base, issuer_tid)
                              : arena_sprintf(a, "%s/%s/", base, issuer_tid);
    const char *oauth = adfs || !v2 ? arena_sprintf(a, "%s/%s/oauth2", base, seg)
                                    : arena_sprintf(a, "%s/%s/oauth2/v2.0", base, seg);
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s,s,s], s:[s,s,s,s], s:[s,s,s], s:[s], "
        "s:[s], s:[s,s,s,s], s:[s,s,s,s,s,s,s,s,s,s,s,s,s], s:s, s:s, s:s, s:s, s:b, s:s}",
        "issuer", issuer, "authorization_endpoint", arena_sprintf(a, "%s/authorize", oauth),
        "token_endpoint", arena_sprintf(a, "%s/token", oauth), "device_authorization_endpoint",
        arena_sprintf(a, "%s/devicecode", oauth), "end_session_endpoint",
        arena_sprintf(a, "%s/logout", oauth), "jwks_uri",
        adfs ? arena_sprintf(a, "%s/adfs/discovery/keys", base)
             : arena_sprintf(a, "%s/%s/discovery/%skeys", base, seg, v2 ? "v2.0/" : ""),
        "userinfo_endpoint", arena_sprintf(a, "%s/oidc/userinfo", base),
        "token_endpoint_auth_methods_supported", "client_secret_post", "private_key_jwt",
        "client_secret_basic", "response_types_supported", "code", "id_token", "code id_token",
        "id_token token", "response_modes_supported", "query", "fragment", "form_post",
        "subject_types_supported", "pairwise", "id_token_signing_alg_values_supported", "RS256",
        "scopes_supported", "openid", "profile", "email", "offline_access", "claims_supported",
        "sub", "iss", "aud", "exp", "iat", "nbf", "name", "preferred_username", "oid", "tid",
        "nonce", "upn", "groups", "tenant_region_scope", "NA", "cloud_instance_name",
        "castor.local", "cloud_graph_host_name", "graph.castor.local", "msgraph_host",
        idn_base_url(req) + 8, "request_uri_parameter_supported", 0, "rbac_url", base);
    if (!doc) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    json_object_set_new(doc, "grant_types_supported",
                        json_pack("[s,s,s,s,s,s]", "authorization_code", "client_credentials",
                                  "password", "refresh_token", "device_code",
                                  "urn:ietf:params:oauth:grant-type:device_code"));
    json_object_set_new(doc, "code_challenge_methods_supported", json_pack("[s]", "S256"));
    if (!adfs) json_object_set_new(doc, "tenant_id", json_string(multi ? "{tenantid}" : tn.id));
    rc = http_response_json(req, resp, 200, doc, err);
    json_decref(doc);
    return rc;
}

static int h_openid_v2(http_request_t *req, http_response_t *resp, castor_err *err)
{
    return openid_config(req, resp, err, 1);
}

static int h_openid_v1(http_request_t *req, http_response_t *resp, castor_err *err)
{
    return openid_config(req, resp, err, 0);
}

static int h_jwks(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *name = tenant_param(req);
    store_tenant_t tn;
    int rc = with_tenant(req, name, NULL, &tn, err);
    if (rc < 0) return rc;
    access_sync(idn_deps(req)->store); /* keys another node rotated in are published at once */
    const idn_keyset_t *ks = idn_keys();
    return http_response_json(req, resp, 200, ks->jwks, err);
}

static int h_instance(http_request_t *req, http_response_t *resp, castor_err *err)
{
    /* MSAL sends authorization_endpoint=https://host/{tenant}/oauth2/v2.0/authorize; answer
     * with this castor as the only alias (real-clients-cli-python.md §1). */
    const char *base = idn_base_url(req);
    const char *host = base + 8;
    const char *ae = http_request_query(req, "authorization_endpoint");
    const char *tenant = "common";
    char seg[128] = "";
    if (ae) {
        const char *p = strstr(ae, "://");
        p = p ? strchr(p + 3, '/') : NULL;
        if (p) {
            snprintf(seg, sizeof seg, "%s", p + 1);
            seg[strcspn(seg, "/")] = '\0';
            if (seg[0]) tenant = seg;
        }
    }
    json_t *doc = json_pack(
        "{s:s, s:s, s:[{s:s, s:s, s:[s]}]}", "tenant_discovery_endpoint",
        arena_sprintf(&req->arena, "%s/%s/v2.0/.well-known/openid-configuration", base, tenant),
        "api-version", "1.1", "metadata", "preferred_network", host, "preferred_cache", host,
        "aliases", host);
    int rc = http_response_json(req, resp, 200, doc, err);
    json_decref(doc);
    return rc;
}

static int h_userrealm(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *upn = http_request_param(req, "upn");
    store_tenant_t tn;
    castor_err e;
    castor_err_clear(&e);
    int known = with_tenant(req, "common", upn, &tn, &e) == 0;
    const char *at = upn ? strrchr(upn, '@') : NULL;
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ver", "1.0", "account_type",
                            known ? "Managed" : "Unknown", "domain_name", at ? at + 1 : "",
                            "cloud_instance_name", "castor.local", "cloud_audience_urn",
                            "urn:federation:castor", "federation_protocol", "");
    int rc = http_response_json(req, resp, 200, doc, err);
    json_decref(doc);
    return rc;
}

/* ---- client authentication ---- */

typedef struct secret_ctx {
    char hash[65];
    int matched, expired;
} secret_ctx_t;

static int secret_one(const store_app_secret_t *s, void *ctx)
{
    secret_ctx_t *c = ctx;
    if (strlen(s->secret_hash) == 64 && sodium_memcmp(s->secret_hash, c->hash, 64) == 0) {
        if (s->end_s && s->end_s < time_now_s())
            c->expired = 1;
        else
            c->matched = 1;
    }
    return 0;
}

/* Basic auth (client_secret_basic) as an alternative to form fields. */
static void basic_credentials(http_request_t *req, const char **id, const char **secret)
{
    const char *h = http_request_header(req, "Authorization");
    if (!h || strncasecmp(h, "Basic ", 6) != 0) return;
    size_t len = 0;
    unsigned char *raw = idn_b64_decode(&req->arena, h + 6, strlen(h + 6), &len);
    if (!raw) return;
    char *text = arena_strndup(&req->arena, (const char *)raw, len);
    char *colon = text ? strchr(text, ':') : NULL;
    if (!colon) return;
    *colon = '\0';
    if (!*id) *id = http_decode(&req->arena, text, strlen(text), 1);
    if (!*secret) *secret = http_decode(&req->arena, colon + 1, strlen(colon + 1), 1);
}

static int assertion_check(http_request_t *req, const idn_client_t *c, const char *type,
                           const char *assertion, castor_err *err)
{
    if (!type || strcmp(type, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") != 0)
        return idn_oauth_fail(err, 400, "invalid_request", 700025,
                              "client_assertion_type must be "
                              "urn:ietf:params:oauth:client-assertion-type:jwt-bearer.");
    idn_jws_t j;
    castor_err e;
    castor_err_clear(&e);
    if (idn_jws_parse(&req->arena, assertion, &j, &e) < 0)
        return idn_oauth_fail(err, 400, "invalid_request", 50027,
                              "JWT token is invalid or malformed (client_assertion): %s",
                              e.message);
    int rc = CASTOR_OK;
    const char *alg = json_string_value(json_object_get(j.header, "alg"));
    const char *x5t = json_string_value(json_object_get(j.header, "x5t"));
    const char *x5t256 = json_string_value(json_object_get(j.header, "x5t#S256"));
    const json_t *kc = json_object_get(c->doc, "keyCredentials");
    const unsigned char *der = NULL;
    size_t derlen = 0;
    size_t i;
    const json_t *cred;
    json_array_foreach(kc, i, cred)
    {
        const char *key = json_string_value(json_object_get(cred, "key"));
        if (!key) continue;
        size_t n = 0;
        unsigned char *d = idn_b64_decode(&req->arena, key, strlen(key), &n);
        idn_cert_info_t ci;
        if (!d || idn_cert_info(d, n, &ci, &e) < 0) continue;
        if ((x5t256 && strcmp(x5t256, ci.x5t_s256) == 0) || (x5t && strcmp(x5t, ci.x5t) == 0)) {
            der = d;
            derlen = n;
            break;
        }
    }
    const json_t *payload = j.payload;
    const char *iss = json_string_value(json_object_get(payload, "iss"));
    const char *sub = json_string_value(json_object_get(payload, "sub"));
    const char *aud = json_string_value(json_object_get(payload, "aud"));
    const json_t *exp = json_object_get(payload, "exp"), *nbf = json_object_get(payload, "nbf");
    int64_t now = time_now_s();
    if (!alg || (strcmp(alg, "RS256") != 0 && strcmp(alg, "PS256") != 0)) {
        rc = idn_oauth_fail(err, 401, "invalid_client", 700027,
                            "Client assertion failed signature validation: the algorithm '%s' is "
                            "not supported (RS256 or PS256).",
                            alg ? alg : "");
    } else if (!der) {
        rc = idn_oauth_fail(err, 401, "invalid_client", 700027,
                            "Client assertion contains an invalid signature. [Reason - The key "
                            "was not found., Thumbprint of key used by client: '%s']. Register "
                            "the certificate on application %s.",
                            x5t256 ? x5t256
                            : x5t  ? x5t
                                   : "",
                            c->sp.app_id);
    } else if (idn_cert_verify(der, derlen, alg, &j) != 0) {
        rc = idn_oauth_fail(err, 401, "invalid_client", 700027,
                            "Client assertion contains an invalid signature.");
    } else if (!iss || !sub || strcmp(iss, c->sp.app_id) != 0 || strcmp(sub, c->sp.app_id) != 0) {
        rc = idn_oauth_fail(err, 401, "invalid_client", 700023,
                            "Client assertion audience claim does not match: iss and sub must "
                            "be the client id %s.",
                            c->sp.app_id);
    } else if (!aud || (!strstr(aud, "/oauth2/v2.0/token") && !strstr(aud, "/oauth2/token"))) {
        rc = idn_oauth_fail(err, 401, "invalid_client", 700021,
                            "Client assertion audience claim does not match Realm issuer: aud "
                            "'%s' is not this token endpoint.",
                            aud ? aud : "");
    } else if (!json_is_integer(exp) || json_integer_value(exp) + 300 < now ||
               (json_is_integer(nbf) && json_integer_value(nbf) - 300 > now)) {
        rc = idn_oauth_fail(err, 401, "invalid_client", 700024,
                            "Client assertion is not within its valid time range.");
    }
    idn_jws_release(&j);
    return rc;
}

/* Authenticates the client: secret, assertion, or none for public clients. *acr gets 0/1/2. */
static int client_authenticate(http_request_t *req, store_txn_t *t, const idn_client_t *c,
                               const char *secret, const idn_form_t *f, int need_confidential,
                               int *acr, castor_err *err)
{
    const char *assertion = idn_form_get(f, "client_assertion");
    if (secret && secret[0]) {
        if (!c->has_app)
            return idn_oauth_fail(err, 401, "invalid_client", 7000215,
                                  "Invalid client secret provided. Application '%s' has no client "
                                  "secrets.",
                                  c->sp.app_id);
        secret_ctx_t s = {0};
        idn_secret_hash(secret, s.hash);
        castor_err e;
        castor_err_clear(&e);
        if (store_app_secret_each(t, c->app.id, secret_one, &s, &e) < 0)
            return castor_err_set(err, e.rc, "%s", e.message);
        if (s.matched) {
            *acr = 1;
            return CASTOR_OK;
        }
        if (s.expired)
            return idn_oauth_fail(err, 401, "invalid_client", 7000222,
                                  "The provided client secret keys for app '%s' are expired. "
                                  "Visit the Azure portal to create new keys for your app: "
                                  "az ad app credential reset --id %s.",
                                  c->sp.app_id, c->sp.app_id);
        return idn_oauth_fail(err, 401, "invalid_client", 7000215,
                              "Invalid client secret provided. Ensure the secret being sent in "
                              "the request is the client secret value, not the client secret ID, "
                              "for a secret added to app '%s'.",
                              c->sp.app_id);
    }
    if (assertion && assertion[0]) {
        if (!c->has_app)
            return idn_oauth_fail(err, 401, "invalid_client", 700027,
                                  "Client assertion contains an invalid signature: application "
                                  "'%s' has no certificates.",
                                  c->sp.app_id);
        int rc = assertion_check(req, c, idn_form_get(f, "client_assertion_type"), assertion, err);
        if (rc < 0) return rc;
        *acr = 2;
        return CASTOR_OK;
    }
    if (!need_confidential && c->public_client) {
        *acr = 0;
        return CASTOR_OK;
    }
    return idn_oauth_fail(err, 401, "invalid_client", 7000218,
                          "The request body must contain the following parameter: "
                          "'client_assertion' or 'client_secret'.");
}

/* ---- grants ---- */

typedef struct token_req {
    http_request_t *req;
    idn_form_t f;
    store_tenant_t tenant;
    const char *client_id, *client_secret;
    const char *scope, *resource;
    int v1; /* the request named a resource: answer in the v1 shape */
} token_req_t;

static int grant_client_credentials(token_req_t *tr, http_response_t *resp, castor_err *err)
{
    http_request_t *req = tr->req;
    store_txn_t *t;
    int rc = store_begin(idn_store(req), STORE_READ, &t, err);
    if (rc < 0) return rc;
    idn_client_t c;
    idn_target_t tg;
    memset(&tg, 0, sizeof tg);
    int acr = 0;
    rc = idn_client_load(t, &tr->tenant, tr->client_id, &c, err);
    if (rc < 0) {
        store_rollback(t);
        return rc;
    }
    rc = client_authenticate(req, t, &c, tr->client_secret, &tr->f, 1, &acr, err);
    if (rc == 0 && !c.sp.enabled)
        rc = idn_oauth_fail(err, 400, "unauthorized_client", 7000112,
                            "Application '%s'(%s) is disabled.", c.sp.app_id, c.sp.display_name);
    if (rc == 0) rc = idn_target_resolve(req, t, &tr->tenant, tr->scope, tr->resource, 1, &tg, err);
    if (rc == 0) {
        idn_issue_t is = {.tenant = &tr->tenant,
                          .client = &c,
                          .target = &tg,
                          .appidacr = acr,
                          .v1_response = tr->v1};
        rc = idn_issue_tokens(req, t, &is, resp, err);
    }
    idn_target_release(&tg);
    idn_client_release(&c);
    store_rollback(t);
    return rc;
}

/* Issues user tokens in a write transaction (the refresh token is stored). */
static int issue_user(token_req_t *tr, idn_client_t *c, int acr, const store_user_t *u,
                      const char *scope, const char *resource, const char *family,
                      const char *nonce, http_response_t *resp, castor_err *err)
{
    http_request_t *req = tr->req;
    store_txn_t *t;
    int rc = store_begin(idn_store(req), STORE_WRITE, &t, err);
    if (rc < 0) return rc;
    idn_target_t tg;
    rc = idn_target_resolve(req, t, &tr->tenant, scope, resource, 0, &tg, err);
    if (rc == 0) {
        idn_issue_t is = {.tenant = &tr->tenant,
                          .client = c,
                          .target = &tg,
                          .user = u,
                          .appidacr = acr,
                          .family = family,
                          .nonce = nonce,
                          .rt_scope = scope ? scope : resource,
                          .v1_response = tr->v1};
        rc = idn_issue_tokens(req, t, &is, resp, err);
        idn_target_release(&tg);
    }
    if (rc == 0) return store_commit(t, err);
    store_rollback(t);
    return rc;
}

/* Loads and authenticates the client in its own read transaction. */
static int client_for_user_flow(token_req_t *tr, idn_client_t *c, int *acr, castor_err *err)
{
    store_txn_t *t;
    int rc = store_begin(idn_store(tr->req), STORE_READ, &t, err);
    if (rc < 0) return rc;
    rc = idn_client_load(t, &tr->tenant, tr->client_id, c, err);
    if (rc == 0) {
        rc = client_authenticate(tr->req, t, c, tr->client_secret, &tr->f, 0, acr, err);
        if (rc < 0) idn_client_release(c);
    }
    store_rollback(t);
    return rc;
}

static int grant_password(token_req_t *tr, http_response_t *resp, castor_err *err)
{
    idn_client_t c;
    int acr = 0;
    int rc = client_for_user_flow(tr, &c, &acr, err);
    if (rc < 0) return rc;
    if (acr == 0 && !c.public_client) {
        idn_client_release(&c);
        return idn_oauth_fail(err, 400, "invalid_client", 7000218,
                              "The request body must contain the following parameter: "
                              "'client_assertion' or 'client_secret'.");
    }
    store_user_t u;
    rc = idn_password_signin(idn_store(tr->req), &tr->tenant, idn_form_get(&tr->f, "username"),
                             idn_form_get(&tr->f, "password"), &u, err);
    if (rc == 0) rc = issue_user(tr, &c, acr, &u, tr->scope, tr->resource, NULL, NULL, resp, err);
    idn_client_release(&c);
    return rc;
}

static int grant_refresh(token_req_t *tr, http_response_t *resp, castor_err *err)
{
    const char *rt = idn_form_get(&tr->f, "refresh_token");
    if (!rt || !rt[0])
        return idn_oauth_fail(err, 400, "invalid_request", 900144,
                              "The request body must contain the following parameter: "
                              "'refresh_token'.");
    idn_client_t c;
    int acr = 0;
    int rc = client_for_user_flow(tr, &c, &acr, err);
    if (rc < 0) return rc;
    store_t *store = idn_store(tr->req);
    store_txn_t *t;
    rc = store_begin(store, STORE_WRITE, &t, err);
    if (rc < 0) {
        idn_client_release(&c);
        return rc;
    }
    store_refresh_t r;
    char hash[65];
    idn_secret_hash(rt, hash);
    castor_err e;
    castor_err_clear(&e);
    int commit_revocation = 0;
    rc = store_refresh_get(t, hash, &r, &e);
    if (rc == CASTOR_ENOTFOUND) {
        rc = idn_oauth_fail(err, 400, "invalid_grant", 9002313,
                            "Invalid request. Request is malformed or invalid: the refresh token "
                            "is not one this castor issued.");
    } else if (rc < 0) {
        rc = castor_err_set(err, rc, "%s", e.message);
    } else if (strcmp(r.state, "used") == 0) {
        /* A rotated token presented again: whoever holds the family may be an attacker. */
        rc = store_refresh_revoke(t, r.family, NULL, err);
        if (rc == 0) commit_revocation = 1;
        rc = idn_oauth_fail(err, 400, "invalid_grant", 70008,
                            "The refresh token has already been used (refresh tokens are "
                            "rotated); every token of this sign-in is now revoked. Sign in "
                            "again.");
    } else if (strcmp(r.state, "revoked") == 0) {
        rc = idn_oauth_fail(err, 400, "invalid_grant", 50173,
                            "The provided grant has expired due to it being revoked, a fresh "
                            "auth token is needed. The user might have changed or reset their "
                            "password. Sign in again.");
    } else if (r.expires < time_now_s()) {
        rc = idn_oauth_fail(err, 400, "invalid_grant", 700082,
                            "The refresh token has expired due to inactivity. Sign in again.");
    } else if (strcasecmp(r.client_id, c.sp.app_id) != 0) {
        rc =
            idn_oauth_fail(err, 400, "invalid_grant", 70000,
                           "The refresh token was issued to a different client (%s).", r.client_id);
    } else if (strcmp(r.tenant_id, tr->tenant.id) != 0) {
        rc = idn_oauth_fail(err, 400, "invalid_grant", 70000,
                            "The refresh token was issued in another tenant.");
    } else {
        rc = store_refresh_set_state(t, hash, "used", err);
    }
    if (rc < 0) {
        if (commit_revocation) {
            castor_err ce;
            store_commit(t, &ce);
        } else {
            store_rollback(t);
        }
        idn_client_release(&c);
        return rc;
    }
    store_user_t u;
    rc = store_user_get(t, r.user_id, &u, &e);
    if (rc < 0 || !u.enabled) {
        store_rollback(t);
        idn_client_release(&c);
        if (rc < 0)
            return idn_oauth_fail(err, 400, "invalid_grant", 50034,
                                  "The user account of this refresh token does not exist any "
                                  "more.");
        return idn_oauth_fail(err, 400, "invalid_grant", 50057, "The user account is disabled.");
    }
    rc = store_commit(t, err);
    if (rc < 0) {
        idn_client_release(&c);
        return rc;
    }
    const char *scope = tr->scope, *resource = tr->resource;
    if ((!scope || !scope[0]) && (!resource || !resource[0])) scope = r.scope;
    rc = issue_user(tr, &c, acr, &u, scope, resource, r.family, NULL, resp, err);
    idn_client_release(&c);
    return rc;
}

static int grant_device_code(token_req_t *tr, http_response_t *resp, castor_err *err)
{
    const char *code = idn_form_get(&tr->f, "device_code");
    if (!code) code = idn_form_get(&tr->f, "code");
    if (!code || !code[0])
        return idn_oauth_fail(err, 400, "invalid_request", 900144,
                              "The request body must contain the following parameter: "
                              "'device_code'.");
    idn_client_t c;
    int acr = 0;
    int rc = client_for_user_flow(tr, &c, &acr, err);
    if (rc < 0) return rc;
    store_txn_t *t;
    rc = store_begin(idn_store(tr->req), STORE_WRITE, &t, err);
    if (rc < 0) {
        idn_client_release(&c);
        return rc;
    }
    char hash[65];
    idn_secret_hash(code, hash);
    store_device_code_t d;
    castor_err e;
    castor_err_clear(&e);
    rc = store_device_code_get(t, hash, &d, &e);
    if (rc < 0 || strcasecmp(d.client_id, c.sp.app_id) != 0)
        rc = idn_oauth_fail(err, 400, "invalid_grant", 70000,
                            "The provided value for the input parameter 'device_code' is not "
                            "valid.");
    else if (strcmp(d.state, "consumed") == 0)
        rc = idn_oauth_fail(err, 400, "invalid_grant", 70000,
                            "The device code has already been redeemed.");
    else if (d.expires < time_now_s())
        rc = idn_oauth_fail(err, 400, "expired_token", 70019,
                            "Verification code expired. Start the sign-in again.");
    else if (strcmp(d.state, "declined") == 0)
        rc = idn_oauth_fail(err, 400, "authorization_declined", 70020,
                            "The end user declined the authorization request.");
    else if (strcmp(d.state, "pending") == 0)
        rc = idn_oauth_fail(err, 400, "authorization_pending", 70016,
                            "OAuth 2.0 device flow error. Authorization is pending. Continue "
                            "polling.");
    else
        rc = store_device_code_set(t, hash, "consumed", d.user_id, err);
    store_user_t u;
    if (rc == 0 && store_user_get(t, d.user_id, &u, &e) < 0)
        rc = idn_oauth_fail(err, 400, "invalid_grant", 50034,
                            "The user account that approved the code does not exist any more.");
    if (rc == 0)
        rc = store_commit(t, err);
    else
        store_rollback(t);
    if (rc == 0) {
        const char *scope = tr->scope, *resource = tr->resource;
        if ((!scope || !scope[0]) && (!resource || !resource[0])) scope = d.scope;
        rc = issue_user(tr, &c, acr, &u, scope, resource, NULL, NULL, resp, err);
    }
    idn_client_release(&c);
    return rc;
}

static int grant_auth_code(token_req_t *tr, http_response_t *resp, castor_err *err)
{
    idn_client_t c;
    int acr = 0;
    int rc = client_for_user_flow(tr, &c, &acr, err);
    if (rc < 0) return rc;
    rc = idn_token_authorization_code(tr->req, idn_store(tr->req), &tr->tenant, &c, &tr->f, acr,
                                      resp, err);
    idn_client_release(&c);
    return rc;
}

int idn_token_authorization_code(http_request_t *req, store_t *store, const store_tenant_t *tn,
                                 idn_client_t *c, const idn_form_t *f, int appidacr,
                                 http_response_t *resp, castor_err *err)
{
    const char *code = idn_form_get(f, "code");
    if (!code || !code[0])
        return idn_oauth_fail(err, 400, "invalid_request", 900144,
                              "The request body must contain the following parameter: 'code'.");
    store_txn_t *t;
    int rc = store_begin(store, STORE_WRITE, &t, err);
    if (rc < 0) return rc;
    char hash[65];
    idn_secret_hash(code, hash);
    store_auth_code_t ac;
    castor_err e;
    castor_err_clear(&e);
    rc = store_auth_code_take(t, hash, &ac, &e);
    const char *verifier = idn_form_get(f, "code_verifier");
    const char *redirect = idn_form_get(f, "redirect_uri");
    if (rc == CASTOR_ECONFLICT)
        rc = idn_oauth_fail(err, 400, "invalid_grant", 54005,
                            "OAuth2 Authorization code was already redeemed, please retry with a "
                            "new valid code or use an existing refresh token.");
    else if (rc < 0)
        rc = idn_oauth_fail(err, 400, "invalid_grant", 9002313,
                            "Invalid request. Request is malformed or invalid: unknown "
                            "authorization code.");
    else if (ac.expires < time_now_s())
        rc = idn_oauth_fail(err, 400, "invalid_grant", 70008,
                            "The provided authorization code or refresh token has expired due to "
                            "inactivity. Send a new interactive authorization request.");
    else if (strcasecmp(ac.client_id, c->sp.app_id) != 0 || strcmp(ac.tenant_id, tn->id) != 0)
        rc = idn_oauth_fail(err, 400, "invalid_grant", 70000,
                            "The authorization code was issued to another client.");
    else if (!redirect || strcmp(redirect, ac.redirect_uri) != 0)
        rc = idn_oauth_fail(err, 400, "invalid_grant", 500112,
                            "The reply address '%s' does not match the reply address '%s' "
                            "provided when requesting the authorization code.",
                            redirect ? redirect : "", ac.redirect_uri);
    else if (ac.challenge[0]) {
        unsigned char h[crypto_hash_sha256_BYTES];
        if (!verifier || strlen(verifier) < 43 || strlen(verifier) > 128) {
            rc = idn_oauth_fail(err, 400, "invalid_grant", 501481,
                                "The Code_Verifier does not match the code_challenge supplied in "
                                "the authorization request (code_verifier must be 43 to 128 "
                                "characters).");
        } else {
            crypto_hash_sha256(h, (const unsigned char *)verifier, strlen(verifier));
            const char *computed = idn_b64url(&req->arena, h, sizeof h);
            if (!computed || strcmp(computed, ac.challenge) != 0)
                rc = idn_oauth_fail(err, 400, "invalid_grant", 501481,
                                    "The Code_Verifier does not match the code_challenge "
                                    "supplied in the authorization request for PKCE.");
        }
    }
    store_user_t u;
    if (rc == 0 && (store_user_get(t, ac.user_id, &u, &e) < 0 || !u.enabled))
        rc = idn_oauth_fail(err, 400, "invalid_grant", 50057,
                            "The user account is disabled or was deleted.");
    if (rc == 0) {
        idn_target_t tg;
        const char *scope = idn_form_get(f, "scope");
        if (!scope || !scope[0]) scope = ac.scope;
        rc = idn_target_resolve(req, t, tn, scope, NULL, 0, &tg, err);
        if (rc == 0) {
            idn_issue_t is = {.tenant = tn,
                              .client = c,
                              .target = &tg,
                              .user = &u,
                              .appidacr = appidacr,
                              .nonce = ac.nonce,
                              .rt_scope = scope};
            rc = idn_issue_tokens(req, t, &is, resp, err);
            idn_target_release(&tg);
        }
    }
    if (rc == 0) return store_commit(t, err);
    /* A failed redemption still burns the code (it was taken). */
    castor_err ce;
    if (err->status == 400 && ac.code_hash[0])
        store_commit(t, &ce);
    else
        store_rollback(t);
    return rc;
}

static int h_token(http_request_t *req, http_response_t *resp, castor_err *err)
{
    /* Another node's directory or key change is in force for this token (the reused-token
     * cache, the signing key). */
    access_sync(idn_deps(req)->store);
    token_req_t tr;
    memset(&tr, 0, sizeof tr);
    tr.req = req;
    if (idn_form_parse(&req->arena, req->body, req->body_len, &tr.f) < 0)
        return idn_oauth_fail(err, 400, "invalid_request", 900144,
                              "The request body is not application/x-www-form-urlencoded.");
    const char *grant = idn_form_get(&tr.f, "grant_type");
    if (!grant || !grant[0])
        return idn_oauth_fail(err, 400, "invalid_request", 900144,
                              "The request body must contain the following parameter: "
                              "'grant_type'.");
    tr.client_id = idn_form_get(&tr.f, "client_id");
    tr.client_secret = idn_form_get(&tr.f, "client_secret");
    basic_credentials(req, &tr.client_id, &tr.client_secret);
    tr.scope = idn_form_get(&tr.f, "scope");
    tr.resource = idn_form_get(&tr.f, "resource");
    tr.v1 = tr.resource && tr.resource[0];
    int rc = with_tenant(req, tenant_param(req), idn_form_get(&tr.f, "username"), &tr.tenant, err);
    if (rc < 0) return rc;
    if (strcmp(grant, "client_credentials") == 0) return grant_client_credentials(&tr, resp, err);
    if (strcmp(grant, "password") == 0) return grant_password(&tr, resp, err);
    if (strcmp(grant, "refresh_token") == 0) return grant_refresh(&tr, resp, err);
    if (strcmp(grant, "device_code") == 0 ||
        strcmp(grant, "urn:ietf:params:oauth:grant-type:device_code") == 0)
        return grant_device_code(&tr, resp, err);
    if (strcmp(grant, "authorization_code") == 0) return grant_auth_code(&tr, resp, err);
    return idn_oauth_fail(err, 400, "unsupported_grant_type", 70003,
                          "The app requested an unsupported grant type '%s'.", grant);
}

/* ---- device code ---- */

static void user_code(char out[10])
{
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for (int i = 0; i < 9; i++)
        out[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
    out[9] = '\0';
}

static int h_devicecode(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_form_t f;
    if (idn_form_parse(&req->arena, req->body, req->body_len, &f) < 0)
        return idn_oauth_fail(err, 400, "invalid_request", 900144,
                              "The request body is not application/x-www-form-urlencoded.");
    const char *client_id = idn_form_get(&f, "client_id");
    const char *scope = idn_form_get(&f, "scope");
    const char *resource = idn_form_get(&f, "resource");
    store_txn_t *t;
    int rc = store_begin(idn_store(req), STORE_WRITE, &t, err);
    if (rc < 0) return rc;
    store_tenant_t tn;
    idn_client_t c;
    memset(&c, 0, sizeof c);
    rc = idn_tenant_resolve(t, tenant_param(req), NULL, &tn, err);
    if (rc == 0) rc = idn_client_load(t, &tn, client_id, &c, err);
    if (rc == 0 && (!scope || !scope[0]) && (!resource || !resource[0]))
        rc = idn_oauth_fail(err, 400, "invalid_request", 900144,
                            "The request body must contain the following parameter: 'scope'.");
    /* The device code keeps resource/.default and the scope in one field: whole or refused. */
    size_t want =
        (resource && resource[0] ? strlen(resource) + 10 : 0) + (scope ? strlen(scope) : 0);
    if (rc == 0 && want >= STORE_OAUTH_SCOPES_MAX)
        rc = idn_oauth_fail(err, 400, "invalid_scope", 70011,
                            "The provided value for the input parameter 'scope' is not valid: "
                            "scope and resource together are %zu characters long, and at most %u "
                            "are accepted.",
                            want, STORE_OAUTH_SCOPES_MAX - 1);
    char uc[10];
    char *dc = idn_random_token(&req->arena, 32);
    if (rc == 0) {
        store_device_code_t d = {.created = time_now_s()};
        d.expires = d.created + device_ttl(req);
        idn_secret_hash(dc, d.device_hash);
        snprintf(d.tenant_id, sizeof d.tenant_id, "%s", tn.id);
        snprintf(d.client_id, sizeof d.client_id, "%s", c.sp.app_id);
        if (resource && resource[0])
            snprintf(d.scope, sizeof d.scope, "%s/.default%s%s", resource, scope ? " " : "",
                     scope ? scope : "");
        else
            snprintf(d.scope, sizeof d.scope, "%s", scope);
        snprintf(d.state, sizeof d.state, "pending");
        for (int tries = 0; tries < 5; tries++) {
            user_code(uc);
            snprintf(d.user_code, sizeof d.user_code, "%s", uc);
            rc = store_device_code_add(t, &d, err);
            if (rc != CASTOR_ECONFLICT) break;
        }
    }
    idn_client_release(&c);
    if (rc == 0)
        rc = store_commit(t, err);
    else
        store_rollback(t);
    if (rc < 0) return rc;
    const char *uri = arena_sprintf(&req->arena, "%s/devicelogin", idn_base_url(req));
    const char *msg = arena_sprintf(&req->arena,
                                    "To sign in, use a web browser to open the page %s and enter "
                                    "the code %s to authenticate.",
                                    uri, uc);
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:s}", "user_code", uc, "device_code", dc,
                  "verification_uri", uri, "verification_url", uri, "expires_in", device_ttl(req),
                  "interval", IDN_DEVICE_POLL_INTERVAL_S, "message", msg);
    rc = http_response_json(req, resp, 200, body, err);
    json_decref(body);
    return rc;
}

static int h_logout(http_request_t *req, http_response_t *resp, castor_err *err)
{
    (void)err;
    http_response_text(req, resp, 200, "text/html; charset=utf-8",
                       "<!doctype html><title>Signed out</title><p>You have signed out.</p>");
    return CASTOR_OK;
}

#define FORM_MAX (64u * 1024u) /* client assertions with x5c chains exceed the 32 KB default */

/* ADFS-style mirror first: the literal segment must win over {tenant}. */
const http_route_t idn_routes[] = {
    {"GET", "/adfs/.well-known/openid-configuration", h_openid_v1, "Adfs_OpenIdConfiguration"},
    {"GET", "/adfs/discovery/keys", h_jwks, "Adfs_Keys"},
    {"POST", "/adfs/oauth2/token", h_token, "Adfs_Token", NULL, NULL, FORM_MAX},
    {"POST", "/adfs/oauth2/devicecode", h_devicecode, "Adfs_DeviceCode"},
    {"GET", "/adfs/oauth2/authorize", idn_h_authorize, "Adfs_Authorize"},
    {"POST", "/adfs/oauth2/authorize", idn_h_authorize, "Adfs_AuthorizePost"},
    {"GET", "/common/discovery/instance", h_instance, "InstanceDiscovery"},
    {"GET", "/common/userrealm/{upn}", h_userrealm, "UserRealm"},
    {"GET", "/devicelogin", idn_h_devicelogin_get, "DeviceLogin"},
    {"POST", "/devicelogin", idn_h_devicelogin_post, "DeviceLoginPost"},
    {"GET", "/{tenant}/v2.0/.well-known/openid-configuration", h_openid_v2,
     "OpenIdConfigurationV2"},
    {"GET", "/{tenant}/.well-known/openid-configuration", h_openid_v1, "OpenIdConfiguration"},
    {"GET", "/{tenant}/discovery/v2.0/keys", h_jwks, "KeysV2"},
    {"GET", "/{tenant}/discovery/keys", h_jwks, "Keys"},
    {"POST", "/{tenant}/oauth2/v2.0/token", h_token, "TokenV2", NULL, NULL, FORM_MAX},
    {"POST", "/{tenant}/oauth2/token", h_token, "Token", NULL, NULL, FORM_MAX},
    {"POST", "/{tenant}/oauth2/v2.0/devicecode", h_devicecode, "DeviceCodeV2"},
    {"POST", "/{tenant}/oauth2/devicecode", h_devicecode, "DeviceCode"},
    {"GET", "/{tenant}/oauth2/v2.0/authorize", idn_h_authorize, "AuthorizeV2"},
    {"POST", "/{tenant}/oauth2/v2.0/authorize", idn_h_authorize, "AuthorizeV2Post"},
    {"GET", "/{tenant}/oauth2/authorize", idn_h_authorize, "Authorize"},
    {"POST", "/{tenant}/oauth2/authorize", idn_h_authorize, "AuthorizePost"},
    {"GET", "/{tenant}/oauth2/v2.0/logout", h_logout, "LogoutV2"},
    {"GET", "/{tenant}/oauth2/logout", h_logout, "Logout"},
    {0},
};
