/* twins_routes.h — the data plane's route table: every ADT operation and its data action. */
#ifndef CASTOR_TWINS_ROUTES_H
#define CASTOR_TWINS_ROUTES_H

#include "http/router.h"
#include "store/store.h"

struct models_cache; /* twins/models_cache.h */

/* What the data plane's handlers use; serve.c registers twins_routes with one. */
typedef struct twins_deps {
    store_t *store;
    struct models_cache *models; /* NULL: every graph is compiled for its request alone */
    const char *public_url;      /* nextLink bases */
    struct ev_dispatch *events;  /* told when a route changes; NULL: it finds out by polling */
} twins_deps_t;

/* The dependencies twins_routes was registered with (the handlers' one way to them). */
static inline const twins_deps_t *twins_deps(const http_request_t *req)
{
    return req->deps;
}

/* Paths are relative to /dt/{instance}. Every entry names the data action it requires
 * (../shared/reference/security.md §3.3) and access_guard_data, which enforces it; an entry
 * whose handler is still NULL answers 501. */
extern const http_route_t twins_routes[];

#endif
