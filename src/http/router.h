/* router.h — route tables per plane and path matching.
 *
 * A route names its method, a path pattern whose {name} segments are parameters, its handler,
 * the api-versions it accepts, the action it requires and the guard that enforces it (one per
 * plane, from access/access.h). Literal segments match case-insensitively (ARM and ADT both
 * do). Route tables are static arrays ending in a zeroed entry; each plane's module owns its
 * table and registers it at start with the dependencies its handlers use. */
#ifndef CASTOR_HTTP_ROUTER_H
#define CASTOR_HTTP_ROUTER_H

#include "http/http.h"

struct http_route;

/* Runs after routing and the shared checks, before the handler: authenticates the caller
 * (req->caller) and authorizes route->action. A negative return refuses the request with err
 * (rendered in the plane's shape). */
typedef int (*http_guard_fn)(http_request_t *req, const struct http_route *route, castor_err *err);

typedef struct http_route {
    const char *method;
    const char *pattern;             /* e.g. "/digitaltwins/{id}/relationships/{relationshipId}" */
    http_handler_fn handler;         /* NULL: declared but not served yet (answers 501) */
    const char *name;                /* operation id, for logs and audit */
    const char *const *api_versions; /* NULL-terminated list, or NULL when none is required */
    const char *action;              /* data plane: its data action, never empty; resource manager:
                                      * its control-plane action, "" for any authenticated caller
                                      * (list handlers filter their items instead) */
    size_t body_max;                 /* 0: the plane's default (CASTOR_HTTP_BODY_MAX) */
    int json_body;                   /* 1: the body must be JSON and is parsed before the handler */
    http_guard_fn guard; /* required on the data, resource-manager and Graph planes; NULL on
                          * the system and token-service planes, which serve anyone */
} http_route_t;

/* Supported api-versions, shared by the routes of each plane. */
extern const char *const http_api_versions_data[];
extern const char *const http_api_versions_arm_dt[];   /* Microsoft.DigitalTwins */
extern const char *const http_api_versions_arm_res[];  /* subscriptions, groups, resources */
extern const char *const http_api_versions_arm_auth[]; /* Microsoft.Authorization */

typedef struct http_router http_router_t;

/* Creates an empty router. Caller frees with http_router_free. */
http_router_t *http_router_new(void);
void http_router_free(http_router_t *r);

/* Adds a plane's table (not copied: it must be static) and the dependencies its handlers read
 * as req->deps (borrowed; they must outlive the router). Refuses a pattern that does not start
 * with '/', a data-plane route without a data action, and a data, resource-manager or Graph
 * route without a guard. */
int http_router_add(http_router_t *r, http_plane_t plane, const http_route_t *table,
                    const void *deps, castor_err *err);

/* Which plane a path belongs to, and for the data plane where the instance name is. */
http_plane_t http_router_plane(const char *path);

typedef enum http_match {
    HTTP_MATCH_FOUND = 0,
    HTTP_MATCH_NO_PATH = 1,  /* 404 */
    HTTP_MATCH_NO_METHOD = 2 /* 405: path exists with other methods */
} http_match_t;

/* Finds the route for method and path (the part after /dt/{name} on the data plane). Fills
 * req->params (decoded into req->arena) and req->deps on success; *allowed gets "GET, PUT"
 * for 405. */
http_match_t http_router_match(const http_router_t *r, http_plane_t plane, const char *method,
                               const char *path, http_request_t *req, const http_route_t **route,
                               const char **allowed);

/* Calls fn for every route of every plane (tests walk the tables with it). */
void http_router_each(const http_router_t *r,
                      void (*fn)(http_plane_t plane, const http_route_t *route, void *ctx),
                      void *ctx);

/* 1 when version is in the NULL-terminated list. */
int http_api_version_ok(const char *const *list, const char *version);

#endif
