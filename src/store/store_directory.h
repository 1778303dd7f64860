/* store_directory.h — the identity plane's records: tenants, users (see store.h for the rules
 * every accessor follows). */
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

#endif
