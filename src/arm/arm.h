/* arm.h — the resource manager plane (management.azure.com as castor serves it).
 *
 * What other modules use: the route table and guard that serve.c registers, the RBAC snapshot
 * holder every plane authorizes with, and the instance lookup the data plane resolves
 * /dt/{name} with. Handlers, filters and JSON shapes stay inside src/arm/. */
#ifndef CASTOR_ARM_ARM_H
#define CASTOR_ARM_ARM_H

#include "http/router.h"
#include "rbac/rbac.h"
#include "store/store.h"

#include <stdint.h>

/* ---- routes and guard ---- */

/* Every resource-manager operation castor serves (paths from the root; ends with a zeroed
 * entry). Each names its control-plane action in arm_routes.c. */
extern const http_route_t arm_routes[];

/* The plane's guard: authenticates the bearer token (ARM audiences), checks the subscription
 * exists, then authorizes the route's control-plane action at the request's scope through the
 * current RBAC snapshot. Refusals are ARM's 401 codes and 403 AuthorizationFailed. */
int arm_guard(http_request_t *req, const http_route_t *route, castor_err *err);

/* ---- the RBAC snapshot holder ---- */

/* Holds the current rbac_index_t built from the store's custom roles and assignments.
 * Readers take a counted reference, so a swap never frees a snapshot in use; every change to
 * assignments or roles calls arm_rbac_reload after its commit and before answering, so the
 * change is in force on the very next request. */
typedef struct arm_rbac arm_rbac_t;
typedef struct arm_rbac_ref arm_rbac_ref_t;

/* Builds the first snapshot from store. Caller frees with arm_rbac_free. */
int arm_rbac_new(store_t *store, arm_rbac_t **out, castor_err *err);
void arm_rbac_free(arm_rbac_t *r);
/* Rebuilds from the store (reloads are serialized, so the last one wins with the newest data)
 * and swaps it in. On failure the old snapshot stays. */
int arm_rbac_reload(arm_rbac_t *r, castor_err *err);
/* The current snapshot; valid until arm_rbac_release(*ref). Never NULL. */
const rbac_index_t *arm_rbac_acquire(arm_rbac_t *r, arm_rbac_ref_t **ref);
/* Simulates Azure's role-propagation delay: reloads take effect delay_s seconds after the
 * latest change instead of at once (0, the default, is immediate). Set once at start. */
void arm_rbac_set_delay(arm_rbac_t *r, unsigned delay_s);
/* 1 while a change waits to take effect, with *due_out (may be NULL) when it will. */
int arm_rbac_pending(arm_rbac_t *r, int64_t *due_out);
void arm_rbac_release(arm_rbac_ref_t *ref);

/* ---- instances, for the data plane ---- */

#define ARM_INSTANCE_ID_MAX 512

typedef struct arm_instance {
    char id[37];                           /* castor's GUID: data-plane rows reference it */
    char resource_id[ARM_INSTANCE_ID_MAX]; /* the ARM id, also the instance's RBAC scope */
    char tenant_id[37];
    char subscription_id[37];
    char resource_group[96];
    char name[64];
    char location[64];
} arm_instance_t;

/* Finds an instance by name (case-insensitive). CASTOR_ENOTFOUND (404, ADT's shape) when no
 * instance has that name. */
int arm_instance_lookup(store_t *store, const char *name, arm_instance_t *out, castor_err *err);
/* Forgets cached lookups; every change that deletes instances calls it after its commit. */
void arm_instance_cache_clear(void);

#endif
