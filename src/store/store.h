/* store.h — the only way castor's modules touch persistent data.
 *
 * Every read and write happens inside a transaction (store_txn_t) taken from a store_t. The
 * typed accessors below carry no SQL into the caller; the SQL lives in src/store/ and is
 * written once, in a dialect both engines accept (SQLite now, PostgreSQL behind the same
 * interface later). A write transaction is durable when store_commit returns 0: it survives
 * kill -9 and power loss.
 *
 * Threading: a store_t is shared by all request threads; a store_txn_t belongs to the thread
 * that began it until it is committed or rolled back. Write transactions are serialized;
 * read transactions run concurrently with them and see the last committed state. */
#ifndef CASTOR_STORE_STORE_H
#define CASTOR_STORE_STORE_H

#include "core/err.h"

#include <stdint.h>

typedef struct store store_t;
typedef struct store_txn store_txn_t;

typedef enum store_mode { STORE_READ = 0, STORE_WRITE = 1 } store_mode_t;

/* Opens (creating if needed) the store named by url:
 *   "sqlite:PATH"     an SQLite database file (created, then migrated to the current schema)
 * connections is how many transactions may be open at once (one per request thread, plus
 * one). A schema newer than this build knows is refused with a message saying so. */
int store_open(const char *url, unsigned connections, store_t **out, castor_err *err);

/* Closes every connection. Every transaction must have ended before this is called. */
void store_close(store_t *s);

/* Answers whether the store can run a query now (for /readyz). */
int store_ping(store_t *s, castor_err *err);

/* The schema version the store is at (after migrations). */
int store_schema_version(store_t *s);

int store_begin(store_t *s, store_mode_t mode, store_txn_t **out, castor_err *err);
/* Commits and ends the transaction (t is invalid afterwards, whatever the result). */
int store_commit(store_txn_t *t, castor_err *err);
/* Abandons and ends the transaction. Safe on NULL. */
void store_rollback(store_txn_t *t);

/* ---- key/value settings of the server itself (bootstrap state, key ids) ---- */

/* *value_out is malloc'ed; caller frees. CASTOR_ENOTFOUND when the key is absent. */
int store_meta_get(store_txn_t *t, const char *key, char **value_out, castor_err *err);
int store_meta_put(store_txn_t *t, const char *key, const char *value, castor_err *err);

/* ---- directory (identity plane) ---- */

#define STORE_ID_MAX 37     /* a GUID and its NUL */
#define STORE_NAME_MAX 256  /* UPNs, domains, display names */
#define STORE_HASH_MAX 160  /* argon2id encoded hashes (crypto_pwhash_STRBYTES = 128) */
#define STORE_SCOPE_MAX 512 /* ARM scopes */

typedef struct store_tenant {
    char id[STORE_ID_MAX];
    char domain[STORE_NAME_MAX];
    char display_name[STORE_NAME_MAX];
    int64_t created; /* epoch seconds */
} store_tenant_t;

int store_tenant_create(store_txn_t *t, const store_tenant_t *tenant, castor_err *err);
int store_tenant_get(store_txn_t *t, const char *id, store_tenant_t *out, castor_err *err);
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
} store_user_t;

/* CASTOR_ECONFLICT when the UPN is taken in that tenant. */
int store_user_create(store_txn_t *t, const store_user_t *user, castor_err *err);
int store_user_get(store_txn_t *t, const char *id, store_user_t *out, castor_err *err);
/* UPNs compare case-insensitively, as Entra's do. */
int store_user_get_by_upn(store_txn_t *t, const char *tenant_id, const char *upn,
                          store_user_t *out, castor_err *err);

/* Replaces the user's password hash and clears its lockout. */
int store_user_set_password(store_txn_t *t, const char *id, const char *password_hash,
                            castor_err *err);

/* ---- resource manager plane ---- */

typedef struct store_subscription {
    char id[STORE_ID_MAX];
    char tenant_id[STORE_ID_MAX];
    char display_name[STORE_NAME_MAX];
    char state[32]; /* "Enabled" */
    int64_t created;
} store_subscription_t;

int store_subscription_create(store_txn_t *t, const store_subscription_t *sub, castor_err *err);
int store_subscription_get(store_txn_t *t, const char *id, store_subscription_t *out,
                           castor_err *err);
int store_subscription_list(store_txn_t *t, store_subscription_t *out, int max, int *count_out,
                            castor_err *err);

typedef struct store_role_assignment {
    char id[STORE_ID_MAX]; /* the assignment's name, a GUID */
    char scope[STORE_SCOPE_MAX];
    char principal_id[STORE_ID_MAX];
    char principal_type[32]; /* User | Group | ServicePrincipal */
    char role_definition_id[STORE_ID_MAX];
    char created_by[STORE_ID_MAX];
    int64_t created;
} store_role_assignment_t;

/* CASTOR_ECONFLICT when the id exists or the same principal already has that role there. */
int store_role_assignment_create(store_txn_t *t, const store_role_assignment_t *ra,
                                 castor_err *err);
/* Calls fn for each assignment, in creation order; fn returning non-zero stops the walk. */
int store_role_assignment_each(store_txn_t *t,
                               int (*fn)(const store_role_assignment_t *ra, void *ctx), void *ctx,
                               castor_err *err);

#endif
