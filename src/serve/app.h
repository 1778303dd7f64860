/* app.h — what `castor serve` holds while it runs, handed to every handler as req->app. */
#ifndef CASTOR_SERVE_APP_H
#define CASTOR_SERVE_APP_H

#include "arm/arm.h"
#include "http/router.h"
#include "serve/config.h"
#include "store/store.h"

struct models_cache; /* twins/models_cache.h: compiled model graphs per instance */

typedef struct castor_app {
    serve_config_t cfg; /* read-only after start */
    store_t *store;
    http_router_t *router;
    char tenant_id[37]; /* the bootstrap tenant */
    char subscription_id[37];
    struct models_cache *models; /* NULL: every graph is compiled for its request alone */
    arm_rbac_t *rbac; /* the current RBAC snapshot, swapped when roles or assignments change */
} castor_app_t;

#endif
