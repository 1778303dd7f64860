/* twins_routes.h — the data plane's route table: every ADT operation and its data action. */
#ifndef CASTOR_TWINS_ROUTES_H
#define CASTOR_TWINS_ROUTES_H

#include "http/router.h"

/* Paths are relative to /dt/{instance}. Every entry names the data action it requires
 * (../shared/reference/security.md §3.3); an entry whose handler is still NULL answers 501. */
extern const http_route_t twins_routes[];

#endif
