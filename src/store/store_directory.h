/* store_directory.h — the identity plane's records (see store.h for the rules every accessor
 * follows): tenants, users, groups and memberships, applications and their secrets, service
 * principals, consent grants, app role assignments, signing keys, and the short-lived protocol
 * state of the token service (refresh tokens, device codes, authorization codes).
 *
 * Secrets never reach this layer in clear: callers pass hashes. Records with a `doc` carry the
 * Graph attributes nothing filters on as JSON text (malloc'ed; release with the _release
 * function of the record). */
#ifndef CASTOR_STORE_DIRECTORY_H
#define CASTOR_STORE_DIRECTORY_H

#include "store/store.h"

typedef struct store_tenant {
    char id[STORE_ID_MAX];
    char domain[STORE_NAME_MAX];
    char display_name[STORE_NAME_MAX];
    int64_t created; /* epoch seconds */
} store_tenant_t;

int store_tenant_create(store_txn_t *t, const store_tenant_t *tenant, castor_err *err);
int store_tenant_get(store_txn_t *t, const char *id, store_tenant_t *out, castor_err *err);
/* By verified domain, case-insensitively ("castor.local"). */
int store_tenant_get_by_domain(store_txn_t *t, const char *domain, store_tenant_t *out,
                               castor_err *err);
/* Fills up to max tenants; *count_out is how many exist in all (may exceed max). */
int store_tenant_list(store_txn_t *t, store_tenant_t *out, int max, int *count_out,
                      castor_err *err);

typedef struct store_user {
    char id[STORE_ID_MAX];
    char tenant_id[STORE_ID_MAX];
    char upn[STORE_NAME_MAX];
    char display_name[STORE_NAME_MAX];
    char password_hash[STORE_HASH_MAX]; /* argon2id, encoded; never logged */
    int enabled;
    int failed_signins;
    int64_t locked_until; /* epoch seconds; 0 = not locked */
    int64_t created;
    char mail_nickname[STORE_NAME_MAX];
    int directory_admin; /* may manage every directory object of its tenant */
} store_user_t;

/* CASTOR_ECONFLICT when the UPN is taken in that tenant. */
int store_user_create(store_txn_t *t, const store_user_t *user, castor_err *err);
int store_user_get(store_txn_t *t, const char *id, store_user_t *out, castor_err *err);
/* UPNs compare case-insensitively, as Entra's do. */
int store_user_get_by_upn(store_txn_t *t, const char *tenant_id, const char *upn, store_user_t *out,
                          castor_err *err);
/* Calls fn for each user of the tenant ordered by UPN; fn returning non-zero stops. */
int store_user_each(store_txn_t *t, const char *tenant_id,
                    int (*fn)(const store_user_t *u, void *ctx), void *ctx, castor_err *err);
/* Replaces the user's password hash and clears its lockout. */
int store_user_set_password(store_txn_t *t, const char *id, const char *password_hash,
                            castor_err *err);
/* Records the outcome of a sign-in: the failure count and the lockout end. */
int store_user_set_signin_state(store_txn_t *t, const char *id, int failed_signins,
                                int64_t locked_until, castor_err *err);
/* Writes display_name, mail_nickname, enabled and directory_admin of u (by u->id). */
int store_user_update(store_txn_t *t, const store_user_t *u, castor_err *err);
int store_user_delete(store_txn_t *t, const char *id, castor_err *err);

/* ---- groups ---- */
typedef struct store_group {
    char id[STORE_ID_MAX];
    char tenant_id[STORE_ID_MAX];
    char display_name[STORE_NAME_MAX];
    char mail_nickname[STORE_NAME_MAX];
    char description[CASTOR_DESCRIPTION_MAX];
    char owner_id[STORE_ID_MAX];
    int64_t created;
} store_group_t;

int store_group_create(store_txn_t *t, const store_group_t *g, castor_err *err);
int store_group_get(store_txn_t *t, const char *id, store_group_t *out, castor_err *err);
int store_group_each(store_txn_t *t, const char *tenant_id,
                     int (*fn)(const store_group_t *g, void *ctx), void *ctx, castor_err *err);
int store_group_delete(store_txn_t *t, const char *id, castor_err *err);
/* member_type: "user" | "servicePrincipal" | "group". CASTOR_ECONFLICT when already a member. */
int store_group_member_add(store_txn_t *t, const char *group_id, const char *member_id,
                           const char *member_type, castor_err *err);
int store_group_member_remove(store_txn_t *t, const char *group_id, const char *member_id,
                              castor_err *err);
int store_group_member_each(store_txn_t *t, const char *group_id,
                            int (*fn)(const char *member_id, const char *member_type, void *ctx),
                            void *ctx, castor_err *err);
/* Every group principal_id belongs to, directly or through nested groups (each once, cycles
 * are harmless). This is what RBAC evaluates group assignments with. */
int store_principal_groups(store_txn_t *t, const char *principal_id,
                           int (*fn)(const char *group_id, void *ctx), void *ctx, castor_err *err);

/* ---- applications (app registrations) ---- */
typedef struct store_app {
    char id[STORE_ID_MAX]; /* object id */
    char tenant_id[STORE_ID_MAX];
    char app_id[STORE_ID_MAX]; /* client id */
    char display_name[STORE_NAME_MAX];
    char owner_id[STORE_ID_MAX];
    char *doc; /* JSON object text, malloc'ed; store_app_release frees it */
    int64_t created;
} store_app_t;

void store_app_release(store_app_t *a);
int store_app_create(store_txn_t *t, const store_app_t *a, castor_err *err);
int store_app_get(store_txn_t *t, const char *id, store_app_t *out, castor_err *err);
int store_app_get_by_app_id(store_txn_t *t, const char *tenant_id, const char *app_id,
                            store_app_t *out, castor_err *err);
/* fn gets a record whose doc is valid only during the call. */
int store_app_each(store_txn_t *t, const char *tenant_id,
                   int (*fn)(const store_app_t *a, void *ctx), void *ctx, castor_err *err);
/* Writes display_name and doc of a (by a->id). */
int store_app_update(store_txn_t *t, const store_app_t *a, castor_err *err);
int store_app_delete(store_txn_t *t, const char *id, castor_err *err);

typedef struct store_app_secret {
    char key_id[STORE_ID_MAX];
    char app_object_id[STORE_ID_MAX];
    char secret_hash[STORE_HASH_MAX]; /* keyed hash of the secret; the secret is shown once */
    char hint[8];                     /* first three characters, as Graph's `hint` */
    char display_name[STORE_NAME_MAX];
    int64_t start_s, end_s;
} store_app_secret_t;

int store_app_secret_add(store_txn_t *t, const store_app_secret_t *s, castor_err *err);
int store_app_secret_each(store_txn_t *t, const char *app_object_id,
                          int (*fn)(const store_app_secret_t *s, void *ctx), void *ctx,
                          castor_err *err);
int store_app_secret_remove(store_txn_t *t, const char *app_object_id, const char *key_id,
                            castor_err *err);

/* ---- service principals ---- */
typedef struct store_sp {
    char id[STORE_ID_MAX];
    char tenant_id[STORE_ID_MAX];
    char app_id[STORE_ID_MAX];
    char display_name[STORE_NAME_MAX];
    int enabled;
    int first_party;   /* seeded Microsoft or castor application */
    int public_client; /* may sign users in without a credential */
    char owner_id[STORE_ID_MAX];
    char *doc; /* JSON: appRoles, oauth2PermissionScopes, servicePrincipalNames... */
    int64_t created;
} store_sp_t;

void store_sp_release(store_sp_t *s);
/* Also records s->app_id as one of its names (store_sp_add_name). */
int store_sp_create(store_txn_t *t, const store_sp_t *s, castor_err *err);
int store_sp_get(store_txn_t *t, const char *id, store_sp_t *out, castor_err *err);
int store_sp_get_by_app_id(store_txn_t *t, const char *tenant_id, const char *app_id,
                           store_sp_t *out, castor_err *err);
/* By one of its servicePrincipalNames (app id, identifier URI), case-insensitively; the
 * caller strips trailing slashes of URIs before both adding and looking up. */
int store_sp_get_by_name(store_txn_t *t, const char *tenant_id, const char *name, store_sp_t *out,
                         castor_err *err);
int store_sp_add_name(store_txn_t *t, const char *tenant_id, const char *sp_id, const char *name,
                      castor_err *err);
int store_sp_each(store_txn_t *t, const char *tenant_id, int (*fn)(const store_sp_t *s, void *ctx),
                  void *ctx, castor_err *err);
int store_sp_update(store_txn_t *t, const store_sp_t *s, castor_err *err);
int store_sp_delete(store_txn_t *t, const char *id, castor_err *err);

/* ---- delegated consent (oauth2PermissionGrants) and app role assignments ---- */
typedef struct store_grant {
    char id[STORE_ID_MAX];
    char tenant_id[STORE_ID_MAX];
    char client_id[STORE_ID_MAX];       /* client service principal object id */
    char consent_type[16];              /* AllPrincipals | Principal */
    char principal_id[STORE_ID_MAX];    /* the user for Principal grants, else "" */
    char resource_id[STORE_ID_MAX];     /* resource service principal object id */
    char scope[STORE_OAUTH_SCOPES_MAX]; /* space-separated scope values */
    int64_t created;
} store_grant_t;

int store_grant_create(store_txn_t *t, const store_grant_t *g, castor_err *err);
int store_grant_get(store_txn_t *t, const char *id, store_grant_t *out, castor_err *err);
int store_grant_update_scope(store_txn_t *t, const char *id, const char *scope, castor_err *err);
int store_grant_delete(store_txn_t *t, const char *id, castor_err *err);
/* client_id may be NULL: every grant of the tenant. */
int store_grant_each(store_txn_t *t, const char *tenant_id, const char *client_id,
                     int (*fn)(const store_grant_t *g, void *ctx), void *ctx, castor_err *err);

typedef struct store_app_role_assignment {
    char id[STORE_ID_MAX];
    char tenant_id[STORE_ID_MAX];
    char principal_id[STORE_ID_MAX];
    char principal_type[32];
    char resource_id[STORE_ID_MAX];
    char app_role_id[STORE_ID_MAX];
    int64_t created;
} store_app_role_assignment_t;

int store_app_role_assignment_create(store_txn_t *t, const store_app_role_assignment_t *a,
                                     castor_err *err);
int store_app_role_assignment_each(store_txn_t *t, const char *principal_id,
                                   int (*fn)(const store_app_role_assignment_t *a, void *ctx),
                                   void *ctx, castor_err *err);

/* ---- signing keys ---- */
typedef struct store_signing_key {
    char kid[64];
    char *private_pem; /* malloc'ed in _each callbacks only while called */
    int64_t created;
    char state[16]; /* current | previous | retired */
} store_signing_key_t;

int store_signing_key_add(store_txn_t *t, const char *kid, const char *private_pem, int64_t created,
                          const char *state, castor_err *err);
int store_signing_key_set_state(store_txn_t *t, const char *kid, const char *state,
                                castor_err *err);
/* Newest first; retired keys are skipped. */
int store_signing_key_each(store_txn_t *t, int (*fn)(const store_signing_key_t *k, void *ctx),
                           void *ctx, castor_err *err);

/* ---- refresh tokens (stored by hash; rotated: one use each) ---- */
typedef struct store_refresh {
    char token_hash[96];
    char tenant_id[STORE_ID_MAX];
    char user_id[STORE_ID_MAX];
    char client_id[STORE_ID_MAX]; /* the client's app id */
    char scope[STORE_OAUTH_SCOPES_MAX];
    char family[STORE_ID_MAX]; /* every rotation of one sign-in shares it */
    int64_t created, expires;
    char state[16]; /* active | used | revoked */
} store_refresh_t;

int store_refresh_add(store_txn_t *t, const store_refresh_t *r, castor_err *err);
int store_refresh_get(store_txn_t *t, const char *token_hash, store_refresh_t *out,
                      castor_err *err);
int store_refresh_set_state(store_txn_t *t, const char *token_hash, const char *state,
                            castor_err *err);
/* Revokes every token of a family (reuse detection) or, with family NULL, of a user. */
int store_refresh_revoke(store_txn_t *t, const char *family, const char *user_id, castor_err *err);

/* ---- device codes ---- */
typedef struct store_device_code {
    char device_hash[96];
    char user_code[16];
    char tenant_id[STORE_ID_MAX];
    char client_id[STORE_ID_MAX];
    char scope[STORE_OAUTH_SCOPES_MAX];
    int64_t created, expires;
    char state[16]; /* pending | approved | declined | consumed */
    char user_id[STORE_ID_MAX];
} store_device_code_t;

int store_device_code_add(store_txn_t *t, const store_device_code_t *d, castor_err *err);
int store_device_code_get(store_txn_t *t, const char *device_hash, store_device_code_t *out,
                          castor_err *err);
int store_device_code_get_by_user_code(store_txn_t *t, const char *user_code,
                                       store_device_code_t *out, castor_err *err);
int store_device_code_set(store_txn_t *t, const char *device_hash, const char *state,
                          const char *user_id, castor_err *err);

/* ---- authorization codes ---- */
typedef struct store_auth_code {
    char code_hash[96];
    char tenant_id[STORE_ID_MAX];
    char client_id[STORE_ID_MAX];
    char user_id[STORE_ID_MAX];
    char redirect_uri[1024];
    char scope[STORE_OAUTH_SCOPES_MAX];
    char challenge[128];
    char challenge_method[16];
    char nonce[256];
    int64_t expires;
    int used;
} store_auth_code_t;

int store_auth_code_add(store_txn_t *t, const store_auth_code_t *c, castor_err *err);
/* Reads the code and marks it used in one step; a used code is CASTOR_ECONFLICT. */
int store_auth_code_take(store_txn_t *t, const char *code_hash, store_auth_code_t *out,
                         castor_err *err);

#endif
