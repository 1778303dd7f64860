/* store_arm.h — the resource manager's records: subscriptions, resource groups, Digital Twins
 * instances, custom role definitions, role assignments and long-running operations (see
 * store.h for the rules every accessor follows). Names compare case-insensitively, as ARM's do;
 * records keep the case they were created with. */
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
    char description[CASTOR_DESCRIPTION_MAX];
    int64_t created;
} store_role_assignment_t;

/* CASTOR_ECONFLICT when the id exists or the same principal already has that role there. */
int store_role_assignment_create(store_txn_t *t, const store_role_assignment_t *ra,
                                 castor_err *err);
/* Calls fn for each assignment, in creation order; fn returning non-zero stops the walk. */
int store_role_assignment_each(store_txn_t *t,
                               int (*fn)(const store_role_assignment_t *ra, void *ctx), void *ctx,
                               castor_err *err);

/* CASTOR_ENOTFOUND when no assignment has that name (a GUID, compared case-insensitively). */
int store_role_assignment_get(store_txn_t *t, const char *id, store_role_assignment_t *out,
                              castor_err *err);
/* Removes one assignment; CASTOR_ENOTFOUND when it did not exist. */
int store_role_assignment_delete(store_txn_t *t, const char *id, castor_err *err);
/* How many assignments of role_definition_id exist at exactly scope (the last-Owner rule). */
int store_role_assignment_count(store_txn_t *t, const char *scope, const char *role_definition_id,
                                int *count_out, castor_err *err);
/* Removes every assignment at scope or below it (a deleted resource takes its assignments). */
int store_role_assignment_delete_under(store_txn_t *t, const char *scope, castor_err *err);

/* ---- resource groups ---- */

#define STORE_TAGS_MAX CASTOR_TAGS_TEXT_MAX /* tags as JSON text */

typedef struct store_resource_group {
    char subscription_id[STORE_ID_MAX];
    char name[96]; /* 1-90 characters */
    char location[CASTOR_LOCATION_MAX];
    char tags[STORE_TAGS_MAX]; /* a JSON object */
    int64_t created;
} store_resource_group_t;

/* Creates, or updates location/tags when (subscription, name) exists: *created_out says which. */
int store_resource_group_put(store_txn_t *t, const store_resource_group_t *rg, int *created_out,
                             castor_err *err);
int store_resource_group_get(store_txn_t *t, const char *subscription_id, const char *name,
                             store_resource_group_t *out, castor_err *err);
/* Calls fn for each group of the subscription, by name; fn returning non-zero stops the walk. */
int store_resource_group_each(store_txn_t *t, const char *subscription_id,
                              int (*fn)(const store_resource_group_t *rg, void *ctx), void *ctx,
                              castor_err *err);
/* Deletes the group, every instance in it (with their data) and every role assignment at or
 * below its scope. CASTOR_ENOTFOUND when the group does not exist. */
int store_resource_group_delete(store_txn_t *t, const char *subscription_id, const char *name,
                                castor_err *err);

/* ---- Digital Twins instances ---- */

typedef struct store_dt_instance {
    char id[STORE_ID_MAX]; /* castor's own GUID: data-plane rows reference it */
    char name[64];         /* globally unique (it is the data-plane host), 3-63 characters */
    char subscription_id[STORE_ID_MAX];
    char resource_group[96];
    char location[CASTOR_LOCATION_MAX];
    char tags[STORE_TAGS_MAX];
    char public_network_access[16]; /* Enabled | Disabled */
    char provisioning_state[32];
    char created_by[STORE_NAME_MAX]; /* the caller's name: a UPN or an appId */
    int64_t created;
    int64_t updated;
} store_dt_instance_t;

/* CASTOR_ECONFLICT when the name is taken anywhere on this castor. */
int store_dt_instance_create(store_txn_t *t, const store_dt_instance_t *inst, castor_err *err);
/* Replaces tags, public_network_access, provisioning_state and updated of the named instance. */
int store_dt_instance_update(store_txn_t *t, const store_dt_instance_t *inst, castor_err *err);
/* By name alone (the data plane's view); CASTOR_ENOTFOUND when absent. */
int store_dt_instance_get(store_txn_t *t, const char *name, store_dt_instance_t *out,
                          castor_err *err);
/* Every instance, or those of one subscription (group may be NULL), or of one group, by name. */
int store_dt_instance_each(store_txn_t *t, const char *subscription_id, const char *group,
                           int (*fn)(const store_dt_instance_t *inst, void *ctx), void *ctx,
                           castor_err *err);
/* The instance-data hook: deletes the instance row, and with it (ON DELETE CASCADE from every
 * data-plane table that references dt_instances(id)) all its models, twins, relationships,
 * routes and jobs, in the caller's transaction; also its role assignments. */
int store_dt_instance_delete(store_txn_t *t, const char *id, castor_err *err);

/* ---- custom role definitions (built-in roles live in src/rbac/, never in the store) ---- */

typedef struct store_role_definition {
    char id[STORE_ID_MAX];
    char role_name[CASTOR_ROLE_NAME_MAX];
    char description[CASTOR_DESCRIPTION_MAX];
    char *permissions; /* JSON array [{actions,notActions,dataActions,notDataActions}]; heap */
    char *assignable_scopes; /* JSON array of scopes; heap */
    char created_by[STORE_ID_MAX];
    int64_t created;
    int64_t updated;
} store_role_definition_t;

/* Frees the two heap fields (safe on a zeroed record). */
void store_role_definition_clear(store_role_definition_t *def);
/* Creates or replaces by id; CASTOR_ECONFLICT when another role has the name. */
int store_role_definition_put(store_txn_t *t, const store_role_definition_t *def, castor_err *err);
/* fn's record is only valid during the call. */
int store_role_definition_each(store_txn_t *t,
                               int (*fn)(const store_role_definition_t *def, void *ctx), void *ctx,
                               castor_err *err);
int store_role_definition_delete(store_txn_t *t, const char *id, castor_err *err);

/* ---- long-running operations (Azure-AsyncOperation / Location polling) ---- */

typedef struct store_arm_operation {
    char id[STORE_ID_MAX];
    char subscription_id[STORE_ID_MAX];
    char resource_id[STORE_SCOPE_MAX];
    char status[32]; /* InProgress | Succeeded | Failed | Canceled */
    char error_code[64];
    char error_message[512];
    int64_t created;
} store_arm_operation_t;

int store_arm_operation_create(store_txn_t *t, const store_arm_operation_t *op, castor_err *err);
int store_arm_operation_get(store_txn_t *t, const char *id, store_arm_operation_t *out,
                            castor_err *err);

/* How many times role assignments or definitions have changed (0 before the first change):
 * a node whose RBAC snapshot was built at another count rebuilds it (store_shared). */
int store_rbac_generation(store_txn_t *t, int64_t *gen_out, castor_err *err);

#endif
