/* store_arm.h — the resource manager's records: subscriptions, role assignments (see store.h
 * for the rules every accessor follows). */
#ifndef CASTOR_STORE_ARM_H
#define CASTOR_STORE_ARM_H

#include "store/store.h"

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
