/* router.h — route tables per plane and path matching.
 *
 * A route names its method, a path pattern whose {name} segments are parameters, its handler,
 * the api-versions it accepts, and, on the data plane, the data action it requires. Literal
 * segments match case-insensitively (ARM and ADT both do). Route tables are static arrays
 * ending in a zeroed entry; each plane's module owns its table and registers it at start. */
#ifndef CASTOR_HTTP_ROUTER_H
#define CASTOR_HTTP_ROUTER_H

#include "http/http.h"

typedef struct http_route {
    const char *method;
    const char *pattern;             /* e.g. "/digitaltwins/{id}/relationships/{relationshipId}" */
    http_handler_fn handler;         /* NULL: declared but not served yet (answers 501) */
    const char *name;                /* operation id, for logs and audit */
    const char *const *api_versions; /* NULL-terminated list, or NULL when none is required */
    const char *data_action;         /* data plane: required, never empty */
    size_t body_max;                 /* 0: the plane's default (CASTOR_HTTP_BODY_MAX) */
    int json_body;                   /* 1: the body must be JSON and is parsed before the handler */
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

/* Adds a plane's table (not copied: it must be static). Refuses a data-plane route without a
 * data action, or a pattern that does not start with '/'. */
int http_router_add(http_router_t *r, http_plane_t plane, const http_route_t *table,
                    castor_err *err);

/* Which plane a path belongs to, and for the data plane where the instance name is. */
http_plane_t http_router_plane(const char *path);

typedef enum http_match {
    HTTP_MATCH_FOUND = 0,
    HTTP_MATCH_NO_PATH = 1,  /* 404 */
    HTTP_MATCH_NO_METHOD = 2 /* 405: path exists with other methods */
} http_match_t;

/* Finds the route for method and path (the part after /dt/{name} on the data plane). Fills
 * req->params (decoded into req->arena) on success; *allowed gets "GET, PUT" for 405. */
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
