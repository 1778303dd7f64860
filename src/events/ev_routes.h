/* ev_routes.h — the data plane's event routes (ADT `/eventroutes`): add or replace, get, list
 * and delete, exactly as the SDKs' upsertEventRoute / getEventRoute / listEventRoutes /
 * deleteEventRoute expect. A route names an endpoint of its instance (an ARM resource) and a
 * filter (ev_filter.h); the dispatcher (ev_dispatch.h) picks changes up within its refresh
 * interval. */
#ifndef CASTOR_EV_ROUTES_H
#define CASTOR_EV_ROUTES_H

#include "http/http.h"

/* A route id: 1 to this many bytes of printable ASCII other than '/', '?', '#' and space. */
#define EV_ROUTE_ID_MAX 128u

int ev_routes_put(http_request_t *req, http_response_t *resp, castor_err *err);
int ev_routes_get(http_request_t *req, http_response_t *resp, castor_err *err);
int ev_routes_list(http_request_t *req, http_response_t *resp, castor_err *err);
int ev_routes_delete(http_request_t *req, http_response_t *resp, castor_err *err);

#endif
