/* access.h — who is calling and whether they may: the one access layer under every plane.
 *
 * A request reaches a handler only through the guard its route names in its plane's route
 * table, next to the action it requires (router.h):
 *
 *     data plane        access_guard_data   instance, token (DATA), API permission, data action
 *     resource manager  access_guard_arm    token (ARM), subscription, control-plane action
 *     Microsoft Graph   access_guard_graph  token (GRAPH); handlers decide per object
 *
 * Each guard authenticates the bearer token once and leaves the caller in req->caller (typed,
 * arena memory), then authorizes route->action through the current RBAC snapshot. Handlers
 * that decide more (list filters, a role assignment's write) ask access_can/access_require,
 * which read the same req->caller and snapshot; nothing is kept per thread. Refusals explain
 * themselves (access_explain.h). The layer's dependencies are one access_t, built by serve.c
 * and handed to every request as req->access.
 *
 * Authentication checks, in order (the first failure is the reason):
 *   ACCESS_REASON_MISSING      no "Authorization: Bearer <token>" header
 *   ACCESS_REASON_MALFORMED    not a compact JWS of base64url JSON, or claims of the wrong type
 *   ACCESS_REASON_ALG          header alg is not RS256 (none, HS256, PS256... are refused)
 *   ACCESS_REASON_KID          kid is not one of castor's published signing keys (JWKS)
 *   ACCESS_REASON_SIGNATURE    the RS256 signature does not verify
 *   ACCESS_REASON_EXPIRED      exp is past (ACCESS_CLOCK_SKEW_S leeway)
 *   ACCESS_REASON_NOT_YET_VALID nbf is in the future (same leeway)
 *   ACCESS_REASON_TENANT       tid is not a castor tenant, or iss does not name that tenant
 *   ACCESS_REASON_AUDIENCE     aud is not one of the plane's audiences:
 *        ARM   https://management.azure.com[/], https://management.core.windows.net[/],
 *              797f4846-ba00-4fd7-ba43-dac1f8f63013, the public URL [+ "/"], and
 *              https://{Host of this request}[/] (az after `az cloud register` uses it)
 *        DATA  https://digitaltwins.azure.net[/], 0b07f429-9f4b-4714-9392-cc5e8e80c8b0
 *        GRAPH https://graph.microsoft.com[/], 00000003-0000-0000-c000-000000000000, the
 *              public URL [+ "/"], https://{Host}[/] (az's microsoftGraphResourceId)
 *   ACCESS_REASON_PRINCIPAL    the user is disabled or deleted, the service principal is
 *                              disabled or deleted
 *
 * A verified token is cached by a hash of its text until it expires (DESIGN.md: verify once),
 * so a repeated token costs a hash lookup. The cache is dropped whenever the directory changes
 * in a way that matters to it (access_directory_changed: a user disabled, a principal deleted, a
 * membership changed), so such changes take effect on the next request. Thread-safe. */
#ifndef CASTOR_ACCESS_ACCESS_H
#define CASTOR_ACCESS_ACCESS_H

#include "core/arena.h"
#include "core/err.h"
#include "http/router.h"
#include "rbac/rbac.h"
#include "store/store.h"
#include "store/store_arm.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define ACCESS_CLOCK_SKEW_S 300 /* leeway on exp and nbf, as Entra's validators use */
#define ACCESS_TOKEN_MAX 16384u /* a longer bearer token is refused as malformed */
#define ACCESS_GROUPS_MAX 2048u /* transitive groups carried in a principal */

typedef enum access_audience {
    ACCESS_AUDIENCE_ARM = 0,
    ACCESS_AUDIENCE_DATA = 1,
    ACCESS_AUDIENCE_GRAPH = 2
} access_audience_t;

typedef enum access_kind {
    ACCESS_KIND_USER = 1, /* delegated: a user signed in through a client app (scp applies) */
    ACCESS_KIND_APP = 2   /* app-only: a service principal with its own credential (roles) */
} access_kind_t;

typedef enum access_reason {
    ACCESS_REASON_NONE = 0,
    ACCESS_REASON_MISSING,
    ACCESS_REASON_MALFORMED,
    ACCESS_REASON_ALG,
    ACCESS_REASON_KID,
    ACCESS_REASON_SIGNATURE,
    ACCESS_REASON_EXPIRED,
    ACCESS_REASON_NOT_YET_VALID,
    ACCESS_REASON_TENANT,
    ACCESS_REASON_AUDIENCE,
    ACCESS_REASON_PRINCIPAL
} access_reason_t;

/* A caller as its token says, once verified: what the guards leave in req->caller. */
typedef struct access_principal {
    access_reason_t reason; /* ACCESS_REASON_NONE on success; why it failed otherwise */
    access_kind_t kind;
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
} access_principal_t;

/* Verifies the request's bearer token for the given plane (the guards call it; so do tests). On
 * success fills out (lists in req->arena) and returns 0. On failure returns CASTOR_EAUTH, sets
 * out->reason, and fills err with status 401, a plane-appropriate code (ARM: AuthenticationFailed,
 * InvalidAuthenticationToken, ExpiredAuthenticationToken, InvalidAuthenticationTokenAudience,
 * InvalidAuthenticationTokenTenant; Graph: InvalidAuthenticationToken; data: Unauthorized)
 * and a message that says what was wrong and how to get a good token. */
int access_bearer(http_request_t *req, access_audience_t audience, access_principal_t *out,
                  castor_err *err);

/* The same checks on a token string (tests, CLI diagnostics). public_url and request_base
 * (e.g. "https://localhost:8443", may be NULL) extend the ARM/Graph audiences as above. */
int access_verify_token(store_t *store, const char *token, access_audience_t audience,
                        const char *public_url, const char *request_base, arena_t *arena,
                        access_principal_t *out, castor_err *err);

/* A short stable name for a reason ("expired"), for headers, logs and audit. */
const char *access_reason_name(access_reason_t reason);

/* 1 when the delegated token carries scope (case-insensitive, among scp's words). */
int access_has_scope(const access_principal_t *p, const char *scope);
/* 1 when word is one of the space-separated words of list (case-insensitive). */
int access_word_in(const char *list, const char *word);
/* 1 when the token carries the app role value. */
int access_has_role(const access_principal_t *p, const char *role);

/* The value for a 401's WWW-Authenticate header (arena memory). */
const char *access_challenge(http_request_t *req, const access_principal_t *p);

/* Drops every cached verification; the identity plane calls it when a user is disabled or
 * deleted, a service principal disabled or deleted, or a group membership changes. */
void access_directory_changed(void);
/* A counter access_directory_changed() advances; caches of directory-derived data compare it. */
unsigned access_directory_generation(void);

/* Brings this node's caches up to the store's change numbers (store_changes_poll): on a store
 * other nodes write, one short read; then drops the verified-token and reused-token caches,
 * the instance lookups and the signing key set when their kind moved. The RBAC snapshot and
 * the model graphs check the numbers themselves when next used. Every guard calls it first,
 * and so do the token service's token and key endpoints, so a change made through any node is
 * in force on this node's next request. Alone on its store (SQLite) it reads nothing: the
 * numbers then move with this node's own commits. */
void access_sync(store_t *store);

/* ARM's name for a caller ("client" in its messages): the UPN of a user, an app's appId. */
const char *access_caller_name(const access_principal_t *p);

/* ---- the layer's dependencies and the guards ---- */

typedef struct access_rbac access_rbac_t;

/* What the access layer works with; serve.c builds one and hands it to every request. */
typedef struct access {
    store_t *store;
    access_rbac_t *rbac;    /* the RBAC snapshot holder (below) */
    const char *public_url; /* the configured base URL: audiences, challenges */
    int compat_empty_403; /* castor serve --compat-empty-403: Azure's bare 403 on the data plane */
} access_t;

/* The guards route tables name (http_guard_fn). Each fills req->caller or refuses with the
 * plane's 401/403 (data plane: 404 first when the instance does not exist). */
int access_guard_data(http_request_t *req, const http_route_t *route, castor_err *err);
int access_guard_arm(http_request_t *req, const http_route_t *route, castor_err *err);
int access_guard_graph(http_request_t *req, const http_route_t *route, castor_err *err);

/* The resource-manager half of access_guard_arm after authentication: the subscription exists
 * (ARM's 404 before 403), then route->action at the request's scope. Tests that set
 * req->caller themselves call it directly. */
int access_authorize_arm(http_request_t *req, const http_route_t *route, castor_err *err);

/* 1 when req->caller holds the control-plane action at scope. */
int access_can(http_request_t *req, const char *action, const char *scope);
/* 0 when req->caller holds action at scope; else ARM's AuthorizationFailed 403. */
int access_require(http_request_t *req, const char *action, const char *scope, castor_err *err);

/* The ARM scope a request addresses, from its route parameters (subscriptionId,
 * resourceGroupName, providerNamespace/resourceType/resourceName); "/" when it has none.
 * Arena memory. */
const char *access_request_scope(http_request_t *req);

/* ---- the RBAC snapshot holder (access_rbac.c) ---- */

/* Holds the current rbac_index_t built from the store's custom roles and assignments.
 * Readers take a counted reference, so a swap never frees a snapshot in use; every change to
 * assignments or roles calls access_rbac_reload after its commit and before answering, so the
 * change is in force on the very next request. */
typedef struct access_rbac_ref access_rbac_ref_t;

/* Builds the first snapshot from store. Caller frees with access_rbac_free. */
int access_rbac_new(store_t *store, access_rbac_t **out, castor_err *err);
void access_rbac_free(access_rbac_t *r);
/* Rebuilds from the store (reloads are serialized, so the last one wins with the newest data)
 * and swaps it in. On failure the old snapshot stays. */
int access_rbac_reload(access_rbac_t *r, castor_err *err);
/* The current snapshot; valid until access_rbac_release(*ref). Never NULL. */
const rbac_index_t *access_rbac_acquire(access_rbac_t *r, access_rbac_ref_t **ref);
/* Simulates Azure's role-propagation delay: reloads take effect delay_s seconds after the
 * latest change instead of at once (0, the default, is immediate). Set once at start. */
void access_rbac_set_delay(access_rbac_t *r, unsigned delay_s);
/* 1 while a change waits to take effect, with *due_out (may be NULL) when it will. */
int access_rbac_pending(access_rbac_t *r, int64_t *due_out);
void access_rbac_release(access_rbac_ref_t *ref);

/* Custom role definitions and assignments' principal types between the store's text and the
 * engine's structs (the snapshot is built with them; the resource manager checks PUTs). */
int access_roledef_from_store(arena_t *a, const store_role_definition_t *d, rbac_role_def_t *out,
                              castor_err *err);
int access_roledef_from_json(arena_t *a, const json_t *permissions, const json_t *scopes,
                             rbac_role_def_t *out, castor_err *err);
rbac_principal_type_t access_principal_type_parse(const char *s);
const char *access_principal_type_name(rbac_principal_type_t t);

/* ---- instances: the data plane's resource and RBAC scope (access_instance.c) ---- */

#define ACCESS_INSTANCE_ID_MAX 512

typedef struct access_instance {
    char id[37];                              /* castor's GUID: data-plane rows reference it */
    char resource_id[ACCESS_INSTANCE_ID_MAX]; /* the ARM id, also the instance's RBAC scope */
    char tenant_id[37];
    char subscription_id[37];
    char resource_group[96];
    char name[64];
    char location[64];
} access_instance_t;

/* Finds an instance by name (case-insensitive). CASTOR_ENOTFOUND (404, ADT's shape) when no
 * instance has that name. */
int access_instance_lookup(store_t *store, const char *name, access_instance_t *out,
                           castor_err *err);
/* Forgets cached lookups; every change that deletes instances calls it after its commit. */
void access_instance_cache_clear(void);

#endif
