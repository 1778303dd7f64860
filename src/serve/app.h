/* app.h — what `castor serve` holds while it runs, and the typed dependencies it hands each
 * module from it: the access layer's (req->access) and each plane's (req->deps, registered
 * with its route table). Only src/serve/ (and tests building a server by hand) include this. */
#ifndef CASTOR_SERVE_APP_H
#define CASTOR_SERVE_APP_H

#include "access/access.h"
#include "arm/arm.h"
#include "http/router.h"
#include "identity/idn.h"
#include "serve/config.h"
#include "store/store.h"
#include "twins/twins_routes.h"

struct models_cache; /* twins/models_cache.h: compiled model graphs per instance */

typedef struct castor_app {
    serve_config_t cfg; /* read-only after start (public_url completed once the port is known) */
    store_t *store;
    http_router_t *router;
    char tenant_id[37]; /* the bootstrap tenant */
    char subscription_id[37];
    struct models_cache *models; /* NULL: every graph is compiled for its request alone */
    access_rbac_t *rbac; /* the current RBAC snapshot, swapped when roles or assignments change */
    struct ev_dispatch *events; /* the event dispatcher, told when routes or endpoints change */
    /* What each module is given (castor_app_wire fills them from the fields above). */
    access_t access;
    twins_deps_t twins;
    arm_deps_t arm;
    idn_deps_t idn;
} castor_app_t;

/* Fills the modules' dependencies from app's fields; call again after changing them. The
 * strings point into app, so they follow cfg.public_url when the port completes it. */
static inline void castor_app_wire(castor_app_t *app)
{
    app->access = (access_t){.store = app->store,
                             .rbac = app->rbac,
                             .public_url = app->cfg.public_url,
                             .compat_empty_403 = app->cfg.compat_empty_403};
    app->twins = (twins_deps_t){.store = app->store,
                                .models = app->models,
                                .public_url = app->cfg.public_url,
                                .events = app->events};
    app->arm = (arm_deps_t){.store = app->store,
                            .rbac = app->rbac,
                            .tenant_id = app->tenant_id,
                            .public_url = app->cfg.public_url,
                            .data_dir = app->cfg.data_dir,
                            .events = app->events};
    app->idn = (idn_deps_t){.store = app->store,
                            .public_url = app->cfg.public_url,
                            .device_code_ttl_s = app->cfg.device_code_ttl_s,
                            .token_reuse_s = app->cfg.token_reuse_s};
}

#endif
