/* server.h — the HTTPS listener: libmicrohttpd with TLS, a thread pool and keep-alive.
 *
 * The listener owns the socket and the worker threads. Each request runs the shared checks
 * (route, method, body size, api-version, JSON), then the guard its route names (authentication
 * and authorization, access/access.h), then the route's handler. Responses are
 * queued only after the first access-handler call: libmicrohttpd 0.9.75 closes the connection
 * when a response is queued in the first call, which breaks keep-alive (measured: ~700
 * instead of ~140,000 req/s over TLS, ../shared/reference/http-stack-bench.md). */
#ifndef CASTOR_HTTP_SERVER_H
#define CASTOR_HTTP_SERVER_H

#include "http/router.h"

typedef struct http_server_config {
    const char *listen;          /* "ADDR:PORT", "[v6]:PORT"; port 0 picks a free one */
    const char *cert_pem;        /* server certificate chain, PEM */
    const char *key_pem;         /* its private key, PEM */
    unsigned threads;            /* worker threads; 0 = number of cores */
    unsigned timeout_s;          /* idle/stalled connection timeout; 0 = CASTOR_HTTP_TIMEOUT_S */
    const struct access *access; /* handed to guards and handlers as req->access */
    const http_router_t *router; /* each route names its guard and its table's dependencies */
} http_server_config_t;

typedef struct http_server http_server_t;

/* Binds, then starts the worker threads. A port in use or an address that cannot be bound is
 * a CASTOR_EIO with a message saying what to do. Caller stops with http_server_stop. */
int http_server_start(const http_server_config_t *cfg, http_server_t **out, castor_err *err);

/* Checks an ADDR:PORT listen address without binding it (for early, clear config errors). */
int http_listen_check(const char *addr, castor_err *err);

/* The port actually bound (useful with port 0). */
unsigned short http_server_port(const http_server_t *s);

/* Stops accepting connections; requests in flight go on. */
void http_server_quiesce(http_server_t *s);

/* Waits until no request is in flight or timeout_ms passes; returns how many were left. */
unsigned http_server_drain(http_server_t *s, unsigned timeout_ms);

/* Stops the threads and frees the server. Safe on NULL. */
void http_server_stop(http_server_t *s);

#endif
