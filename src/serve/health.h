/* health.h — /healthz (the process answers) and /readyz (the store answers), unauthenticated. */
#ifndef CASTOR_SERVE_HEALTH_H
#define CASTOR_SERVE_HEALTH_H

#include "http/router.h"

extern const http_route_t health_routes[];

#endif
