/* arm.h — the resource manager plane (management.azure.com as castor serves it).
 *
 * What other modules use: the route table and the dependencies serve.c registers it with.
 * Authentication and authorization are the access layer's (access/access.h); handlers,
 * filters and JSON shapes stay inside src/arm/. */
#ifndef CASTOR_ARM_ARM_H
#define CASTOR_ARM_ARM_H

#include "access/access.h"
#include "http/router.h"
#include "store/store.h"

/* ---- routes and dependencies ---- */

/* What the resource manager's handlers use; serve.c registers arm_routes with one. */
typedef struct arm_deps {
    store_t *store;
    access_rbac_t *rbac;        /* reloaded after every role or assignment change */
    const char *tenant_id;      /* the bootstrap tenant: role assignments of callers without one */
    const char *public_url;     /* hostName and nextLink bases */
    const char *data_dir;       /* the data folder: endpoints' dead-letter folders live under it */
    struct ev_dispatch *events; /* told when an endpoint changes; NULL: it finds out by polling */
} arm_deps_t;

/* Every resource-manager operation castor serves (paths from the root; ends with a zeroed
 * entry). Each names its control-plane action and access_guard_arm in arm_routes.c. */
extern const http_route_t arm_routes[];

#endif
