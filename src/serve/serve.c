/* serve.c — `castor serve` (see serve.h).
 *
 * Start order matters: the data folder is locked before anything touches it, the store is
 * migrated and bootstrapped before the port opens, and connection.json is written only once
 * the server answers, so whoever waits for that file can connect at once. SIGINT/SIGTERM stop
 * accepting, let requests in flight finish (up to CASTOR_HTTP_SHUTDOWN_GRACE_S), close the
 * store and exit 0. */
#include "serve/serve.h"

#include "arm/arm.h"
#include "access/access.h"
#include "core/ids.h"
#include "core/limits.h"
#include "core/log.h"
#include "events/ev_dispatch.h"
#include "http/server.h"
#include "http/tls_material.h"
#include "identity/idn.h"
#include "serve/app.h"
#include "serve/bootstrap.h"
#include "serve/health.h"
#include "twins/models_cache.h"
#include "twins/twins_routes.h"

#include <errno.h>
#include <sodium.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Worker threads per core when --threads is not given (see serve_main). */
#define SERVE_THREADS_PER_CORE 4u

static int data_dir_prepare(const char *dir, int *lock_fd, castor_err *err)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return castor_err_set(err, CASTOR_EIO, "cannot create the data folder %s: %s", dir,
                              strerror(errno));
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return castor_err_set(err, CASTOR_EINVAL, "--data %s is not a folder", dir);
    if (access(dir, R_OK | W_OK | X_OK) < 0)
        return castor_err_set(err, CASTOR_EIO,
                              "the data folder %s is not writable by this user: fix its "
                              "permissions or choose another with --data",
                              dir);
    char path[SERVE_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/castor.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return castor_err_set(err, CASTOR_EIO, "cannot open %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        char pid[32] = "";
        ssize_t n = read(fd, pid, sizeof pid - 1);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(fd);
        return castor_err_set(err, CASTOR_ECONFLICT,
                              "another castor (pid %s) is serving the data folder %s: stop it, "
                              "or give this one another --data",
                              pid[0] ? pid : "?", dir);
    }
    if (ftruncate(fd, 0) == 0) {
        char pid[32];
        int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
        if (write(fd, pid, (size_t)n) < 0) { /* the pid is only informative */
        }
    }
    *lock_fd = fd;
    return CASTOR_OK;
}

static void print_banner(const castor_app_t *app, const bootstrap_result_t *boot,
                         const tls_material_t *tls, const char *listen, unsigned short port)
{
    const serve_config_t *c = &app->cfg;
    printf("castor %s is serving on %s (listening on %s, port %u)\n", CASTOR_VERSION, c->public_url,
           listen, port);
    if (c->store[0] && strcmp(store_engine_name(app->store), "postgres") == 0)
        printf("  data folder    %s (TLS material; data in PostgreSQL, schema v%d)\n", c->data_dir,
               store_schema_version(app->store));
    else
        printf("  data folder    %s (SQLite, schema v%d)\n", c->data_dir,
               store_schema_version(app->store));
    printf("  trust this CA  %s\n", tls->ca_path);
    printf(
        "                 (NODE_EXTRA_CA_CERTS=..., REQUESTS_CA_BUNDLE=..., curl --cacert ...)\n");
    printf("  tenant         %s (%s)\n", boot->tenant_id, BOOTSTRAP_DOMAIN);
    printf("  subscription   %s (%s)\n", boot->subscription_id, BOOTSTRAP_SUBSCRIPTION_NAME);
    if (boot->generated_password[0])
        printf("  admin          %s  password: %s\n"
               "                 (shown this once; set CASTOR_ADMIN_PASSWORD to choose it)\n",
               boot->admin_upn, boot->generated_password);
    else if (boot->first_start || boot->password_reset)
        printf("  admin          %s  password: from CASTOR_ADMIN_PASSWORD\n", boot->admin_upn);
    else
        printf("  admin          %s  password: as set at first start (restart with "
               "CASTOR_ADMIN_PASSWORD=... to reset it)\n",
               boot->admin_upn);
    printf("  connection     %s/connection.json\n", c->data_dir);
    printf("  check          curl --cacert %s %s/readyz\n", tls->ca_path, c->public_url);
    fflush(stdout);
}

static int serve_fail(const char *what, const castor_err *err)
{
    fprintf(stderr, "castor serve: %s: %s\n", what, err->message);
    return err->rc == CASTOR_EINVAL ? 2 : 1;
}

int serve_main(int argc, char **argv)
{
    castor_app_t app;
    memset(&app, 0, sizeof app);
    castor_err err;
    castor_err_clear(&err);
    if (serve_config_parse(argc, argv, &app.cfg, &err) < 0) {
        fprintf(stderr, "castor serve: %s\n", err.message);
        return 2;
    }
    if (app.cfg.help) {
        fputs(serve_config_usage(), stdout);
        return 0;
    }
    log_init(app.cfg.log_level);
    umask(0077); /* the store and keys hold secrets; ca.pem is made world-readable on purpose */
    if (ids_init() < 0) {
        fprintf(stderr, "castor serve: libsodium could not initialize (no randomness source)\n");
        return 1;
    }

    /* Signals are taken synchronously by this thread; the workers never see them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lock_fd = -1;
    if (data_dir_prepare(app.cfg.data_dir, &lock_fd, &err) < 0)
        return serve_fail("data folder", &err);

    int exit_code = 0;
    tls_material_t tls = {0};
    http_server_t *server = NULL;
    /* Twin-graph writes no longer hold a thread while the disk syncs (their connection is
     * suspended instead), but other planes' writes and the writer lock still make a thread wait
     * now and then, so a few per core: on 2 cores, 4 to 12 threads gave the same PATCH rate
     * (20-22k/s), 16 less (contention). */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = app.cfg.threads ? app.cfg.threads
                                       : (unsigned)(cores > 0 ? cores : 1) * SERVE_THREADS_PER_CORE;
    char url[SERVE_PATH_MAX + 32]; /* "sqlite:" + the folder + "/castor.db" */
    if (app.cfg.store[0])
        snprintf(url, sizeof url, "%s", app.cfg.store);
    else
        snprintf(url, sizeof url, "sqlite:%s/castor.db", app.cfg.data_dir);
    if (store_open(url, threads + 2, &app.store, &err) < 0) {
        exit_code = serve_fail("store", &err);
        goto out;
    }
    app.models = models_cache_new();
    bootstrap_result_t boot;
    if (bootstrap_run(app.store, getenv("CASTOR_ADMIN_PASSWORD"), &boot, &err) < 0) {
        exit_code = serve_fail("bootstrap", &err);
        goto out;
    }
    snprintf(app.tenant_id, sizeof app.tenant_id, "%s", boot.tenant_id);
    snprintf(app.subscription_id, sizeof app.subscription_id, "%s", boot.subscription_id);
    if (idn_start(app.store, app.cfg.public_url, boot.admin_id, &err) < 0) {
        exit_code = serve_fail("identity", &err);
        goto out;
    }

    if (access_rbac_new(app.store, &app.rbac, &err) < 0) {
        exit_code = serve_fail("role assignments", &err);
        goto out;
    }
    access_rbac_set_delay(app.rbac, app.cfg.rbac_delay_s);

    char host[256] = "localhost";
    if (app.cfg.public_url[0] && serve_config_public_host(&app.cfg, host, sizeof host, &err) < 0) {
        exit_code = serve_fail("public URL", &err);
        goto out;
    }
    int trc = app.cfg.tls_cert[0] ? tls_material_load(app.cfg.tls_cert, app.cfg.tls_key, &tls, &err)
                                  : tls_material_ensure(app.cfg.data_dir, host, &tls, &err);
    if (trc < 0) {
        exit_code = serve_fail("TLS certificate", &err);
        goto out;
    }

    /* The dispatcher starts before the listener so handlers can tell it about route and
     * endpoint changes; it waits for nothing (events wait in the outbox). */
    char node_id[128];
    char hostname[64] = "castor";
    gethostname(hostname, sizeof hostname - 1);
    snprintf(node_id, sizeof node_id, "%s-%ld-%08x", hostname, (long)getpid(),
             (unsigned)randombytes_random());
    ev_dispatch_config_t ecfg = {
        .store = app.store,
        .data_dir = app.cfg.data_dir,
        .node_id = node_id,
        .lanes = app.cfg.event_lanes,
        .nice = app.cfg.event_nice,
        .retry_max_ms = (int64_t)app.cfg.event_retry_max_s * 1000,
        .ttl_cap_ms = (int64_t)app.cfg.event_ttl_cap_s * 1000,
        .retention_ms = (int64_t)app.cfg.outbox_retention_s * 1000,
        .exclusive = strcmp(store_engine_name(app.store), "sqlite") == 0,
    };
    if (ev_dispatch_start(&ecfg, &app.events, &err) < 0) {
        exit_code = serve_fail("event dispatcher", &err);
        goto out;
    }
    castor_app_wire(&app);
    app.router = http_router_new();
    if (!app.router ||
        http_router_add(app.router, HTTP_PLANE_SYSTEM, health_routes, &app, &err) < 0 ||
        http_router_add(app.router, HTTP_PLANE_DATA, twins_routes, &app.twins, &err) < 0 ||
        http_router_add(app.router, HTTP_PLANE_IDENTITY, idn_routes, &app.idn, &err) < 0 ||
        http_router_add(app.router, HTTP_PLANE_GRAPH, idn_graph_routes, &app.idn, &err) < 0 ||
        http_router_add(app.router, HTTP_PLANE_ARM, arm_routes, &app.arm, &err) < 0) {
        exit_code = serve_fail("routes", &err);
        goto out;
    }
    http_server_config_t hcfg = {
        .listen = app.cfg.listen,
        .cert_pem = tls.cert_pem,
        .key_pem = tls.key_pem,
        .threads = threads,
        .timeout_s = app.cfg.idle_timeout_s,
        .access = &app.access,
        .router = app.router,
    };
    if (http_server_start(&hcfg, &server, &err) < 0) {
        exit_code = serve_fail("listener", &err);
        goto out;
    }
    serve_config_finish(&app.cfg, http_server_port(server));
    if (bootstrap_write_connection(&app.cfg, &boot, tls.ca_path, &err) < 0) {
        exit_code = serve_fail("connection.json", &err);
        goto out;
    }
    print_banner(&app, &boot, &tls, app.cfg.listen, http_server_port(server));
    log_json(LOG_INFO, "serving",
             json_pack("{s:s, s:s, s:i}", "publicUrl", app.cfg.public_url, "listen", app.cfg.listen,
                       "port", (int)http_server_port(server)));

    int sig = 0;
    sigwait(&sigs, &sig);
    log_json(LOG_INFO, "stopping",
             json_pack("{s:s}", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM"));
    http_server_quiesce(server);
    unsigned left = http_server_drain(server, CASTOR_HTTP_SHUTDOWN_GRACE_S * 1000u);
    if (left) log_msg(LOG_WARN, "%u request(s) still running after the grace period", left);

out:
    http_server_stop(server);
    ev_dispatch_stop(app.events);
    http_router_free(app.router);
    tls_material_free(&tls);
    models_cache_free(app.models);
    access_rbac_free(app.rbac);
    store_close(app.store);
    idn_stop();
    if (lock_fd >= 0) close(lock_fd);
    if (exit_code == 0) log_msg(LOG_INFO, "stopped");
    return exit_code;
}
