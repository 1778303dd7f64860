/* server.c — libmicrohttpd listener, request life cycle and access log (see server.h). */
#include "http/server.h"

#include "core/ids.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/timeutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct http_server {
    struct MHD_Daemon *daemon;
    int listen_fd;
    unsigned short port;
    http_server_config_t cfg;
    atomic_uint in_flight;
    atomic_uint suspended; /* connections waiting for a deferred outcome */
    atomic_int stopping;   /* http_server_stop has begun: no more suspending */
};

/* Everything one request owns; freed in request_completed. */
typedef struct req_state {
    http_server_t *srv;
    http_request_t req;
    const http_route_t *route;
    http_match_t match;
    const char *allowed;
    char *path_rest; /* data plane: the path after /dt/{name} */
    size_t body_cap;
    char *body; /* malloc'ed, capped at body_cap */
    size_t body_len;
    int too_large;
    uint64_t start_us;
    int status;
    size_t bytes_out;
    struct MHD_Connection *conn;
    http_response_t resp; /* the handler's answer, kept while a deferred outcome is awaited */
    int deferred;         /* suspended for req.deferred; the next call sends resp */
} req_state_t;

/* ---- listening socket ---- */

static int parse_listen(const char *addr, struct sockaddr_storage *ss, socklen_t *len,
                        castor_err *err)
{
    char host[256];
    const char *colon;
    const char *port_s;
    memset(ss, 0, sizeof *ss);
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':')
            return castor_err_set(err, CASTOR_EINVAL,
                                  "--listen '%s': write IPv6 addresses as [ADDR]:PORT", addr);
        snprintf(host, sizeof host, "%.*s", (int)(close - addr - 1), addr + 1);
        port_s = close + 2;
    } else {
        colon = strrchr(addr, ':');
        if (!colon)
            return castor_err_set(err, CASTOR_EINVAL,
                                  "--listen '%s': expected ADDR:PORT, e.g. 127.0.0.1:8443", addr);
        snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
        port_s = colon + 1;
    }
    char *end;
    long port = strtol(port_s, &end, 10);
    if (!*port_s || *end || port < 0 || port > 65535)
        return castor_err_set(err, CASTOR_EINVAL, "--listen '%s': port must be 0-65535", addr);
    if (strcmp(host, "localhost") == 0) snprintf(host, sizeof host, "127.0.0.1");
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof *v4;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof *v6;
    } else {
        return castor_err_set(err, CASTOR_EINVAL,
                              "--listen '%s': '%s' is not an IP address (use 127.0.0.1, 0.0.0.0, "
                              "::1 or ::)",
                              addr, host);
    }
    return CASTOR_OK;
}

int http_listen_check(const char *addr, castor_err *err)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    return parse_listen(addr, &ss, &len, err);
}

static int open_listener(const char *addr, int *fd_out, unsigned short *port_out, castor_err *err)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    int rc = parse_listen(addr, &ss, &len, err);
    if (rc < 0) return rc;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return castor_err_set(err, CASTOR_EIO, "socket(): %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* Accepted sockets inherit TCP_NODELAY: without it Nagle and delayed ACKs stall small
     * responses (measured in the HTTP stack benchmark). */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (ss.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        int e = errno;
        close(fd);
        if (e == EADDRINUSE)
            return castor_err_set(err, CASTOR_EIO,
                                  "cannot listen on %s: the port is in use by another process; "
                                  "stop it or choose another port with --listen ADDR:PORT",
                                  addr);
        if (e == EACCES)
            return castor_err_set(err, CASTOR_EIO,
                                  "cannot listen on %s: permission denied (ports below 1024 need "
                                  "root or CAP_NET_BIND_SERVICE)",
                                  addr);
        if (e == EADDRNOTAVAIL)
            return castor_err_set(err, CASTOR_EIO,
                                  "cannot listen on %s: no network interface has that address",
                                  addr);
        return castor_err_set(err, CASTOR_EIO, "cannot listen on %s: %s", addr, strerror(e));
    }
    if (listen(fd, 1024) < 0) {
        int e = errno;
        close(fd);
        return castor_err_set(err, CASTOR_EIO, "listen() on %s: %s", addr, strerror(e));
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    getsockname(fd, (struct sockaddr *)&bound, &blen);
    *port_out = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                  : ((struct sockaddr_in *)&bound)->sin_port);
    *fd_out = fd;
    return CASTOR_OK;
}

/* ---- request life cycle ---- */

/* Keeps URLs and arguments raw: the router and http_request_query decode per segment and per
 * value, so an encoded '/' or '&' inside an id stays part of it. */
static size_t unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    /* libmicrohttpd reports every TLS probe and reset here; useful only when debugging. */
    if (!log_enabled(LOG_DEBUG)) return;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    log_json(LOG_DEBUG, "libmicrohttpd", json_pack("{s:s}", "detail", buf));
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    req_state_t *st = cls;
    arena_t *a = &st->req.arena;
    const char *prev = st->req.query;
    st->req.query =
        prev[0] ? arena_sprintf(a, "%s&%s%s%s", prev, key, value ? "=" : "", value ? value : "")
                : arena_sprintf(a, "%s%s%s", key, value ? "=" : "", value ? value : "");
    if (!st->req.query) st->req.query = prev;
    return MHD_YES;
}

/* First call: record the request, route it, and decide the body cap. Nothing is queued. */
static req_state_t *request_begin(http_server_t *srv, struct MHD_Connection *conn, const char *url,
                                  const char *method)
{
    req_state_t *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->srv = srv;
    st->start_us = time_mono_us();
    http_request_t *req = &st->req;
    arena_init(&req->arena, CASTOR_REQUEST_ARENA_MAX);
    req->access = srv->cfg.access;
    req->conn = conn;
    req->can_defer = 1;
    st->conn = conn;
    req->method = arena_strdup(&req->arena, method);
    req->path = arena_strdup(&req->arena, url);
    req->query = "";
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, st);
    ids_guid(req->request_id);
    req->client_request_id =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-ms-client-request-id");
    if (!req->client_request_id)
        req->client_request_id =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "client-request-id");
    req->plane = http_router_plane(req->path);

    const char *route_path = req->path;
    if (req->plane == HTTP_PLANE_DATA) {
        /* /dt/{instance}[/rest...] */
        const char *name = req->path + 4;
        const char *slash = strchr(name, '/');
        size_t nlen = slash ? (size_t)(slash - name) : strlen(name);
        req->instance = nlen ? http_decode(&req->arena, name, nlen, 0) : NULL;
        route_path = slash ? slash : "/";
    } else if (req->plane == HTTP_PLANE_ARM && strstr(req->path, "//")) {
        /* ARM ignores empty segments, and az relies on it: `az resource create|show|delete`
         * with no parent resource sends .../providers/Microsoft.DigitalTwins//digitalTwins...
         * Route (and scope) the path with each run of slashes made one. */
        char *p = arena_strdup(&req->arena, req->path);
        if (p) {
            char *w = p;
            for (const char *r = p; *r; r++)
                if (!(r[0] == '/' && w > p && w[-1] == '/')) *w++ = *r;
            *w = '\0';
            req->path = route_path = p;
        }
    }
    st->match = req->plane == HTTP_PLANE_DATA && !req->instance
                    ? HTTP_MATCH_NO_PATH
                    : http_router_match(srv->cfg.router, req->plane, req->method, route_path, req,
                                        &st->route, &st->allowed);
    if (st->route) {
        req->route_name = st->route->name;
        req->action = st->route->action;
    }
    st->body_cap = st->route && st->route->body_max ? st->route->body_max : CASTOR_HTTP_BODY_MAX;
    const char *clen = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (clen && strtoull(clen, NULL, 10) > st->body_cap) st->too_large = 1;
    atomic_fetch_add(&srv->in_flight, 1);
    return st;
}

static void request_body(req_state_t *st, const char *data, size_t size)
{
    if (st->too_large) return;
    if (st->body_len + size > st->body_cap) {
        st->too_large = 1;
        free(st->body);
        st->body = NULL;
        st->body_len = 0;
        return;
    }
    char *nb = realloc(st->body, st->body_len + size + 1);
    if (!nb) {
        st->too_large = 1;
        return;
    }
    memcpy(nb + st->body_len, data, size);
    st->body_len += size;
    nb[st->body_len] = '\0';
    st->body = nb;
}

static int api_version_check(http_request_t *req, const http_route_t *route, castor_err *err)
{
    if (!route->api_versions) return CASTOR_OK;
    req->api_version = http_request_query(req, "api-version");
    if (http_api_version_ok(route->api_versions, req->api_version)) return CASTOR_OK;
    char list[1024] = "";
    for (const char *const *v = route->api_versions; *v; v++) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", *v);
    }
    if (!req->api_version || !req->api_version[0])
        return castor_err_http(err, CASTOR_EINVAL, 400, "MissingApiVersionParameter",
                               "The api-version query parameter (?api-version=) is required for "
                               "all requests. The supported versions are '%s'.",
                               list);
    return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidApiVersionParameter",
                           "The api-version '%s' is invalid. The supported versions are '%s'.",
                           req->api_version, list);
}

/* Replaces resp with the error err (of a request that failed with rc). */
static void render_failure(req_state_t *st, http_response_t *resp, int rc, castor_err *err)
{
    http_request_t *req = &st->req;
    if (err->rc == CASTOR_OK) castor_err_set(err, rc, "The request failed.");
    if (err->rc == CASTOR_EINTERNAL || err->rc == CASTOR_ENOMEM || err->rc == CASTOR_EIO)
        log_json(LOG_ERROR, "request failed",
                 json_pack("{s:s, s:s, s:s}", "requestId", req->request_id, "path", req->path,
                           "error", err->message));
    memset(resp, 0, sizeof *resp);
    resp->headers = req->error_headers;
    if (st->match == HTTP_MATCH_NO_METHOD)
        http_response_header(req, resp, "Allow", st->allowed ? st->allowed : "");
    http_render_error(req, resp, err);
}

/* Last call: run the shared checks, the route's guard and the handler; fill resp. */
static void request_dispatch(req_state_t *st, http_response_t *resp)
{
    http_request_t *req = &st->req;
    castor_err err;
    castor_err_clear(&err);
    int rc = CASTOR_OK;
    const http_route_t *route = st->route;
    if (st->match == HTTP_MATCH_NO_PATH) {
        rc = castor_err_http(&err, CASTOR_ENOTFOUND, 404,
                             req->plane == HTTP_PLANE_ARM ? "InvalidResourceType" : "",
                             "No operation is served at %s %s.", req->method, req->path);
    } else if (st->match == HTTP_MATCH_NO_METHOD) {
        http_response_header(req, resp, "Allow", st->allowed ? st->allowed : "");
        rc = castor_err_http(&err, CASTOR_EINVAL, 405, "",
                             "The method %s is not allowed on %s; allowed: %s.", req->method,
                             req->path, st->allowed ? st->allowed : "none");
    } else if (st->too_large) {
        rc = castor_err_http(&err, CASTOR_ELIMIT, 413, "",
                             "The request body is larger than %zu bytes, the limit for %s.",
                             st->body_cap, route->name ? route->name : "this operation");
    } else {
        rc = api_version_check(req, route, &err);
    }
    if (rc == CASTOR_OK) {
        req->body = st->body;
        req->body_len = st->body_len;
        if (route->json_body) {
            req->json = json_parse_body(st->body ? st->body : "", st->body_len,
                                        CASTOR_JSON_DEPTH_MAX, &err);
            if (!req->json) rc = err.rc;
        }
    }
    if (rc == CASTOR_OK && route->guard) rc = route->guard(req, route, &err);
    if (rc == CASTOR_OK && !route->handler)
        rc = castor_err_http(&err, CASTOR_EINTERNAL, 501, "",
                             "%s is part of the API but this castor does not serve it yet.",
                             route->name ? route->name : req->path);
    if (rc == CASTOR_OK) {
        rc = route->handler(req, resp, &err);
        if (rc == CASTOR_OK && resp->status == 0) resp->status = resp->body ? 200 : 204;
    }
    if (rc < 0) render_failure(st, resp, rc, &err);
}

static enum MHD_Result queue(struct MHD_Connection *conn, req_state_t *st, http_response_t *resp)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        resp->body_len, resp->body ? resp->body : (char *)"", MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    if (resp->body || resp->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->content_type ? resp->content_type
                                                   : "application/json; charset=utf-8");
    MHD_add_response_header(r, "x-ms-request-id", st->req.request_id);
    if (st->req.client_request_id)
        MHD_add_response_header(r, "x-ms-client-request-id", st->req.client_request_id);
    for (http_header_t *h = resp->headers; h; h = h->next)
        MHD_add_response_header(r, h->name, h->value);
    st->status = resp->status;
    st->bytes_out = resp->body_len;
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ok;
}

/* Takes the deferred outcome (waiting if it is not known yet); an error replaces the answer. */
static void deferred_finish(req_state_t *st)
{
    castor_err err;
    castor_err_clear(&err);
    http_deferred_t d = st->req.deferred;
    st->req.deferred.obj = NULL;
    int rc = d.finish(d.obj, &err);
    if (rc < 0) render_failure(st, &st->resp, rc, &err);
}

/* A deferred outcome is known (called once, from any thread). */
static void request_resume(void *arg)
{
    req_state_t *st = arg;
    MHD_resume_connection(st->conn);
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **req_cls)
{
    (void)version;
    http_server_t *srv = cls;
    req_state_t *st = *req_cls;
    if (!st) {
        st = request_begin(srv, conn, url, method);
        if (!st) return MHD_NO;
        *req_cls = st;
        return MHD_YES; /* never queue on the first call: see server.h */
    }
    if (*upload_data_size) {
        request_body(st, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->deferred) {
        /* Resumed: the outcome the answer waited for is known. Counted out only now, once
         * libmicrohttpd has taken the connection off its suspended list (see
         * http_server_stop). */
        atomic_fetch_sub(&srv->suspended, 1);
        st->deferred = 0;
        deferred_finish(st);
        return queue(conn, st, &st->resp);
    }
    request_dispatch(st, &st->resp);
    if (st->req.deferred.obj) {
        /* Counted before the stopping check, as http_server_stop sets stopping before it
         * reads the count: either it waits for this one, or this one sees it stopping. */
        atomic_fetch_add(&srv->suspended, 1);
        if (!atomic_load(&srv->stopping)) {
            /* Wait for it without this thread: MHD calls back once the connection is resumed. */
            st->deferred = 1;
            MHD_suspend_connection(conn);
            st->req.deferred.notify(st->req.deferred.obj, request_resume, st);
            return MHD_YES;
        }
        atomic_fetch_sub(&srv->suspended, 1);
        deferred_finish(st); /* stopping: wait here for the outcome instead */
    }
    return queue(conn, st, &st->resp);
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                              enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    http_server_t *srv = cls;
    req_state_t *st = *req_cls;
    if (!st) return;
    *req_cls = NULL;
    http_request_t *req = &st->req;
    if (log_enabled(LOG_INFO)) {
        uint64_t us = time_mono_us() - st->start_us;
        json_t *line = json_pack("{s:s, s:s, s:s, s:i, s:I, s:I, s:s}", "method", req->method,
                                 "path", req->path, "plane", http_plane_name(req->plane), "status",
                                 st->status, "bytes", (json_int_t)st->bytes_out, "us",
                                 (json_int_t)us, "requestId", req->request_id);
        if (line && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
            json_object_set_new(line, "aborted", json_true());
        if (line && req->client_request_id)
            json_object_set_new(line, "clientRequestId", json_string(req->client_request_id));
        log_json(LOG_INFO, "request", line);
    }
    if (req->deferred.obj) {
        /* Closed before its answer was sent: still wait for the outcome, so nothing leaks. */
        castor_err ignored;
        req->deferred.finish(req->deferred.obj, &ignored);
    }
    if (st->deferred) atomic_fetch_sub(&srv->suspended, 1);
    json_decref(req->json);
    json_decref(req->error_inner);
    json_decref(req->error_details);
    free(st->body);
    arena_free(&req->arena);
    free(st);
    atomic_fetch_sub(&srv->in_flight, 1);
}

/* ---- start / stop ---- */

int http_server_start(const http_server_config_t *cfg, http_server_t **out, castor_err *err)
{
    *out = NULL;
    http_server_t *s = calloc(1, sizeof *s);
    if (!s) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    s->cfg = *cfg;
    s->listen_fd = -1;
    atomic_init(&s->in_flight, 0);
    int rc = open_listener(cfg->listen, &s->listen_fd, &s->port, err);
    if (rc < 0) {
        free(s);
        return rc;
    }
    unsigned threads = cfg->threads;
    if (!threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, access_handler, s, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->listen_fd,
        MHD_OPTION_HTTPS_MEM_KEY, cfg->key_pem, MHD_OPTION_HTTPS_MEM_CERT, cfg->cert_pem,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)(cfg->timeout_s ? cfg->timeout_s : CASTOR_HTTP_TIMEOUT_S),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CASTOR_HTTP_CONNECTIONS_MAX,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)CASTOR_HTTP_PER_IP_CONNECTIONS_MAX,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(2 * CASTOR_HTTP_HEADERS_MAX),
        MHD_OPTION_NOTIFY_COMPLETED, request_completed, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
        NULL, MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, NULL, MHD_OPTION_END);
    if (!s->daemon) {
        close(s->listen_fd);
        free(s);
        return castor_err_set(err, CASTOR_EIO,
                              "the HTTPS listener did not start: the TLS certificate or key was "
                              "refused, or threads could not be created (run with --log-level "
                              "debug for libmicrohttpd's reason)");
    }
    *out = s;
    return CASTOR_OK;
}

unsigned short http_server_port(const http_server_t *s)
{
    return s->port;
}

void http_server_quiesce(http_server_t *s)
{
    if (!s || s->listen_fd < 0) return;
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET) close(fd);
    s->listen_fd = -1;
}

unsigned http_server_drain(http_server_t *s, unsigned timeout_ms)
{
    uint64_t until = time_mono_us() + (uint64_t)timeout_ms * 1000u;
    while (atomic_load(&s->in_flight) > 0 && time_mono_us() < until)
        usleep(10000);
    return atomic_load(&s->in_flight);
}

void http_server_stop(http_server_t *s)
{
    if (!s) return;
    /* libmicrohttpd refuses to stop (it aborts) with a connection still on its suspended
     * list, and a resumed one leaves that list only when a worker next runs it: wait until
     * every suspended request has been run again. Deferred outcomes come from the store,
     * which is still open, within a disk sync. */
    atomic_store(&s->stopping, 1);
    while (atomic_load(&s->suspended) > 0)
        usleep(1000);
    MHD_stop_daemon(s->daemon);
    if (s->listen_fd >= 0) close(s->listen_fd);
    free(s);
}
