/* idn_graph.c — the Microsoft Graph v1.0 subset. */
#include "identity/idn_internal.h"

const http_route_t idn_graph_routes[] = {
    {0},
};
