/* http.h — requests, responses and handlers as the planes see them.
 *
 * The listener (server.c) turns each libmicrohttpd request into an http_request_t, finds its
 * route (router.c), runs the checks every route shares (api-version, body size, JSON), calls
 * the handler, and renders either its http_response_t or its castor_err in the shape of the
 * plane that answered (errors.c). Handlers never see libmicrohttpd types. Everything a
 * request allocates comes from req->arena and dies with the request. */
#ifndef CASTOR_HTTP_HTTP_H
#define CASTOR_HTTP_HTTP_H

#include "core/arena.h"
#include "core/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Which Azure host a path belongs to; decides the error shape and the checks that apply. */
typedef enum http_plane {
    HTTP_PLANE_SYSTEM = 0, /* /healthz, /readyz */
    HTTP_PLANE_IDENTITY,   /* token service: OAuth error shape */
    HTTP_PLANE_GRAPH,      /* Microsoft Graph subset: OData error shape */
    HTTP_PLANE_ARM,        /* resource manager: ARM error shape */
    HTTP_PLANE_DATA,       /* digital twins data plane: ADT error shape */
    HTTP_PLANE_COUNT
} http_plane_t;

const char *http_plane_name(http_plane_t plane);

struct access;           /* access/access.h: authentication, authorization, explanation */
struct access_principal; /* access/access.h: a caller whose token verified */

typedef struct http_header {
    const char *name;
    const char *value;
    struct http_header *next;
} http_header_t;

#define HTTP_PARAMS_MAX 8

/* An outcome a request's answer waits for without holding a thread: a write's durability. A
 * handler sets req->deferred (only when req->can_defer) instead of blocking; the listener
 * suspends the connection, serves others meanwhile, and once notify's wake runs sends the
 * handler's answer if finish returns 0, or finish's error in its place. */
typedef struct http_deferred {
    void *obj;                                                  /* NULL: nothing deferred */
    void (*notify)(void *obj, void (*wake)(void *), void *arg); /* wake(arg) once, any thread */
    int (*finish)(void *obj, castor_err *err);                  /* the outcome; frees obj */
} http_deferred_t;

typedef struct http_request {
    const struct access *access; /* the access layer, for the route's guard and handlers' checks */
    const void *deps;   /* the plane's dependencies, as its module registered them with its route
                         * table (http_router_add); each module reads them through one typed
                         * accessor, so no handler casts */
    void *conn;         /* opaque: the listener's connection, for header lookups */
    const char *method; /* "GET", ... */
    const char *path;   /* raw path, still percent-encoded, without the query */
    const char *query;  /* raw query string after '?', or "" */
    const char *body;   /* request body (NUL-terminated copy), or NULL */
    size_t body_len;
    json_t *json; /* parsed body when the route asks for JSON; owned by the request */
    http_plane_t plane;
    const char *instance;       /* data plane: the instance name from /dt/{name}/... */
    const char *instance_id;    /* data plane: the instance's GUID, set by the guard */
    const char *instance_scope; /* data plane: its ARM id (RBAC scope), set by the guard */
    /* The caller, set by the route's guard once its token verified; NULL on routes without a
     * guard (system, token service) and before the guard ran. Arena memory. */
    const struct access_principal *caller;
    const char *route_name;  /* operation name, e.g. "DigitalTwins_GetById" */
    const char *action;      /* the action the route requires ("" any authenticated caller) */
    const char *api_version; /* the api-version query parameter, or NULL */
    int nparams;
    const char *param_names[HTTP_PARAMS_MAX];
    const char *param_values[HTTP_PARAMS_MAX]; /* percent-decoded */
    json_t *error_inner;   /* optional structured detail, rendered as "innererror" (owned) */
    json_t *error_details; /* optional array of {code,message,...}, rendered as "details" (owned) */
    int error_body_empty;  /* render an error with no body at all (Azure's bare 403) */
    http_header_t *error_headers; /* headers sent only with an error (WWW-Authenticate), arena */
    http_header_t *headers; /* request headers when there is no listener connection (unit tests) */
    int can_defer;          /* the listener can wait for a deferred outcome (see above) */
    http_deferred_t deferred;
    char request_id[40];           /* x-ms-request-id we answer with */
    const char *client_request_id; /* echoed as x-ms-client-request-id when present */
    arena_t arena;
} http_request_t;

typedef struct http_response {
    int status;
    const char *content_type; /* default application/json; charset=utf-8 when body is set */
    char *body;               /* arena memory */
    size_t body_len;
    http_header_t *headers; /* extra headers, arena memory */
} http_response_t;

/* A handler fills resp and returns 0, or returns a negative castor_rc with err filled; the
 * listener then renders err in the plane's error shape. */
typedef int (*http_handler_fn)(http_request_t *req, http_response_t *resp, castor_err *err);

/* ---- helpers for handlers ---- */

/* A request header by name (case-insensitive), or NULL. */
const char *http_request_header(const http_request_t *req, const char *name);
/* A decoded query parameter by name (case-sensitive, as ADT's are), or NULL. */
const char *http_request_query(http_request_t *req, const char *name);
/* A route parameter by its {name} in the pattern, or NULL. */
const char *http_request_param(const http_request_t *req, const char *name);

/* The base URL the client used: "https://" + Host when it is a plausible host[:port], else
 * fallback. Clients check that an issuer shares scheme, host and port with their authority. */
const char *http_request_base_url(http_request_t *req, const char *fallback);

/* Adds a response header (both strings copied into the request arena). */
void http_response_header(http_request_t *req, http_response_t *resp, const char *name,
                          const char *value);
/* Sets status and a JSON body serialized from value (value is not consumed). */
int http_response_json(http_request_t *req, http_response_t *resp, int status, const json_t *value,
                       castor_err *err);
/* Sets status and a text body of the given content type (copied into the arena). */
void http_response_text(http_request_t *req, http_response_t *resp, int status,
                        const char *content_type, const char *text);

/* Adds a header sent only if the request ends in an error (copied into the arena). Guards use
 * it for WWW-Authenticate; handlers' own response headers are dropped on error. */
void http_request_error_header(http_request_t *req, const char *name, const char *value);

/* Renders err as the plane's error response (errors.c). */
void http_render_error(http_request_t *req, http_response_t *resp, const castor_err *err);

/* Percent-decodes src into the arena ('+' becomes a space when plus_is_space). Returns NULL
 * for a malformed escape or an encoded NUL. */
char *http_decode(arena_t *a, const char *src, size_t len, int plus_is_space);

#endif
