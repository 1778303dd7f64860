/* auth.h — bearer-token verification for the resource manager, data and Graph planes.
 *
 * Every plane that serves callers with tokens calls auth_bearer() once per request:
 *
 *     auth_principal_t who;
 *     if (auth_bearer(req, AUTH_AUDIENCE_DATA, &who, err) < 0)
 *         return err->rc;                 // CASTOR_EAUTH, status 401; who.reason says why
 *     ... rbac_check with who.oid + who.groups; for who.kind == AUTH_KIND_USER also require
 *     auth_has_scope(&who, "Read.Write") on the data plane (seed cause #2) ...
 *
 * What is checked, in order (the first failure is the reason):
 *   AUTH_REASON_MISSING      no "Authorization: Bearer <token>" header
 *   AUTH_REASON_MALFORMED    not a compact JWS of base64url JSON, or claims of the wrong type
 *   AUTH_REASON_ALG          header alg is not RS256 (none, HS256, PS256... are refused)
 *   AUTH_REASON_KID          kid is not one of castor's published signing keys (JWKS)
 *   AUTH_REASON_SIGNATURE    the RS256 signature does not verify
 *   AUTH_REASON_EXPIRED      exp is past (AUTH_CLOCK_SKEW_S leeway)
 *   AUTH_REASON_NOT_YET_VALID nbf is in the future (same leeway)
 *   AUTH_REASON_TENANT       tid is not a castor tenant, or iss does not name that tenant
 *   AUTH_REASON_AUDIENCE     aud is not one of the plane's audiences:
 *        ARM   https://management.azure.com[/], https://management.core.windows.net[/],
 *              797f4846-ba00-4fd7-ba43-dac1f8f63013, the public URL [+ "/"], and
 *              https://{Host of this request}[/] (az after `az cloud register` uses it)
 *        DATA  https://digitaltwins.azure.net[/], 0b07f429-9f4b-4714-9392-cc5e8e80c8b0
 *        GRAPH https://graph.microsoft.com[/], 00000003-0000-0000-c000-000000000000, the
 *              public URL [+ "/"], https://{Host}[/] (az's microsoftGraphResourceId)
 *   AUTH_REASON_PRINCIPAL    the user is disabled or deleted, the service principal is
 *                            disabled or deleted
 *
 * A verified token is cached by a hash of its text until it expires (DESIGN.md: verify once),
 * so a repeated token costs a hash lookup. The cache is dropped whenever the directory changes
 * in a way that matters to it (auth_directory_changed: a user disabled, a principal deleted, a
 * membership changed), so such changes take effect on the next request. Thread-safe. */
#ifndef CASTOR_AUTH_AUTH_H
#define CASTOR_AUTH_AUTH_H

#include "core/arena.h"
#include "core/err.h"
#include "http/http.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define AUTH_CLOCK_SKEW_S 300 /* leeway on exp and nbf, as Entra's validators use */
#define AUTH_TOKEN_MAX 16384u /* a longer bearer token is refused as malformed */
#define AUTH_GROUPS_MAX 2048u /* transitive groups carried in a principal */

typedef enum auth_audience {
    AUTH_AUDIENCE_ARM = 0,
    AUTH_AUDIENCE_DATA = 1,
    AUTH_AUDIENCE_GRAPH = 2
} auth_audience_t;

typedef enum auth_kind {
    AUTH_KIND_USER = 1, /* delegated: a user signed in through a client app (scp applies) */
    AUTH_KIND_APP = 2   /* app-only: a service principal with its own credential (roles) */
} auth_kind_t;

typedef enum auth_reason {
    AUTH_REASON_NONE = 0,
    AUTH_REASON_MISSING,
    AUTH_REASON_MALFORMED,
    AUTH_REASON_ALG,
    AUTH_REASON_KID,
    AUTH_REASON_SIGNATURE,
    AUTH_REASON_EXPIRED,
    AUTH_REASON_NOT_YET_VALID,
    AUTH_REASON_TENANT,
    AUTH_REASON_AUDIENCE,
    AUTH_REASON_PRINCIPAL
} auth_reason_t;

typedef struct auth_principal {
    auth_reason_t reason; /* AUTH_REASON_NONE on success; why it failed otherwise */
    auth_kind_t kind;
    char tenant_id[37];
    char oid[37];       /* the RBAC key: user object id or service principal object id */
    char appid[37];     /* the client application's appId (appid / azp) */
    char upn[256];      /* users: user principal name; apps: "" */
    char name[256];     /* display name (users: name; apps: the SP's display name) */
    char aud[512];      /* the token's audience as written */
    char scp[512];      /* delegated scopes, space-separated; "" for app tokens */
    const char **roles; /* app roles of the token (arena); nroles entries */
    size_t nroles;
    const char **groups; /* every group the principal belongs to, transitively (arena) */
    size_t ngroups;
    int64_t exp; /* expiry, epoch seconds */
    int version; /* 1 or 2: the token format */
} auth_principal_t;

/* Verifies the request's bearer token for the given plane. On success fills out (lists in
 * req->arena) and returns 0. On failure returns CASTOR_EAUTH, sets out->reason, and fills err
 * with status 401, a plane-appropriate code (ARM: AuthenticationFailed,
 * InvalidAuthenticationToken, ExpiredAuthenticationToken, InvalidAuthenticationTokenAudience,
 * InvalidAuthenticationTokenTenant; Graph: InvalidAuthenticationToken; data: Unauthorized)
 * and a message that says what was wrong and how to get a good token. */
int auth_bearer(http_request_t *req, auth_audience_t audience, auth_principal_t *out,
                castor_err *err);

/* The same checks on a token string (tests, CLI diagnostics). public_url and request_base
 * (e.g. "https://localhost:8443", may be NULL) extend the ARM/Graph audiences as above. */
int auth_verify_token(store_t *store, const char *token, auth_audience_t audience,
                      const char *public_url, const char *request_base, arena_t *arena,
                      auth_principal_t *out, castor_err *err);

/* A short stable name for a reason ("expired"), for headers, logs and audit. */
const char *auth_reason_name(auth_reason_t reason);

/* 1 when the delegated token carries scope (case-insensitive, among scp's words). */
int auth_has_scope(const auth_principal_t *p, const char *scope);
/* 1 when word is one of the space-separated words of list (case-insensitive). */
int auth_word_in(const char *list, const char *word);
/* 1 when the token carries the app role value. */
int auth_has_role(const auth_principal_t *p, const char *role);

/* The value for a 401's WWW-Authenticate header (arena memory). */
const char *auth_challenge(http_request_t *req, const auth_principal_t *p);

/* Drops every cached verification; the identity plane calls it when a user is disabled or
 * deleted, a service principal disabled or deleted, or a group membership changes. */
void auth_directory_changed(void);
/* A counter auth_directory_changed() advances; caches of directory-derived data compare it. */
unsigned auth_directory_generation(void);

#endif
