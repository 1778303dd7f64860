/* idn_internal.h — what the identity plane's files share (not used outside src/identity/). */
#ifndef CASTOR_IDENTITY_INTERNAL_H
#define CASTOR_IDENTITY_INTERNAL_H

#include "identity/idn.h"
#include "store/store_directory.h"

#include <jansson.h>

/* The dependencies idn_routes and idn_graph_routes were registered with. */
static inline const idn_deps_t *idn_deps(const http_request_t *req)
{
    return req->deps;
}
static inline store_t *idn_store(const http_request_t *req)
{
    return idn_deps(req)->store;
}

/* ---- form bodies and query strings ---- */
#define IDN_FORM_MAX 64
typedef struct idn_form {
    int n;
    const char *k[IDN_FORM_MAX];
    const char *v[IDN_FORM_MAX];
} idn_form_t;

/* Parses application/x-www-form-urlencoded text (also a query string) into the arena. */
int idn_form_parse(arena_t *a, const char *text, size_t len, idn_form_t *f);
const char *idn_form_get(const idn_form_t *f, const char *key);

/* Fills err as Entra's token endpoint answers: error "error", AADSTS code (0 for none). */
int idn_oauth_fail(castor_err *err, int status, const char *error, long aadsts, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));

/* Resolves a tenant path segment: a GUID, a verified domain, or common / organizations /
 * consumers / adfs (the first tenant, or the tenant of upn_hint's domain). */
int idn_tenant_resolve(store_txn_t *t, const char *name, const char *upn_hint, store_tenant_t *out,
                       castor_err *err);

/* A client application as the token service sees it. */
typedef struct idn_client {
    store_sp_t sp;
    store_app_t app;
    int has_app;       /* a castor app registration (credentials, requiredResourceAccess) */
    int public_client; /* may sign users in without credentials */
    json_t *doc;       /* the app registration's doc (or NULL) */
} idn_client_t;

int idn_client_load(store_txn_t *t, const store_tenant_t *tenant, const char *client_id,
                    idn_client_t *out, castor_err *err);
void idn_client_release(idn_client_t *c);

/* What a scope or resource parameter asks for. */
typedef struct idn_target {
    store_sp_t sp;                   /* the resource's service principal */
    json_t *sp_doc;                  /* its doc */
    char aud[512];                   /* the audience the token carries */
    char resource[512];              /* the resource as named in the request */
    char requested[STORE_SCOPE_MAX]; /* explicit scope values asked for; "" = .default */
    int openid, offline_access, profile, email;
    int version; /* access token format: 1 or 2 */
} idn_target_t;

/* scope is the v2 `scope` parameter; resource the v1 `resource` parameter (one may be NULL). */
int idn_target_resolve(http_request_t *req, store_txn_t *t, const store_tenant_t *tenant,
                       const char *scope, const char *resource, int app_only, idn_target_t *out,
                       castor_err *err);
void idn_target_release(idn_target_t *tg);

/* Delegated scopes the client gets for the target on behalf of user_id (consent rules in
 * idn_issue.c); CASTOR_EAUTH with AADSTS65001 / 650057 when nothing may be issued. */
int idn_delegated_scopes(store_txn_t *t, const idn_client_t *c, const idn_target_t *tg,
                         const char *user_id, char *out, size_t size, castor_err *err);

/* Checks a user's password with lockout; commits its own write transaction so that a failed
 * attempt counts even though the request fails. */
int idn_password_signin(store_t *store, const store_tenant_t *tenant, const char *username,
                        const char *password, store_user_t *out, castor_err *err);

typedef struct idn_issue {
    const store_tenant_t *tenant;
    const idn_client_t *client;
    const idn_target_t *target;
    const store_user_t *user; /* NULL: app-only */
    int appidacr;             /* 0 public, 1 secret, 2 certificate */
    const char *nonce;        /* id_token nonce, or NULL */
    const char *family;       /* refresh-token family to continue, or NULL for a new one */
    const char *rt_scope;     /* scope string remembered with the refresh token */
    int v1_response;          /* answer in the v1 shape (resource parameter) */
} idn_issue_t;

/* Builds the access token (and for users id_token, client_info, refresh_token stored in t)
 * and writes the token response. t must be a write transaction when user is set. */
int idn_issue_tokens(http_request_t *req, store_txn_t *t, const idn_issue_t *is,
                     http_response_t *resp, castor_err *err);

/* Forgets every reusable app-only token (at shutdown). */
void idn_issue_cache_clear(void);

/* HTML-escapes s into the arena. */
const char *idn_html(arena_t *a, const char *s);

/* Route handlers in other files. */
int idn_h_devicelogin_get(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_h_devicelogin_post(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_h_authorize(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_token_authorization_code(http_request_t *req, store_t *store, const store_tenant_t *tn,
                                 idn_client_t *c, const idn_form_t *f, int appidacr,
                                 http_response_t *resp, castor_err *err);

#endif
