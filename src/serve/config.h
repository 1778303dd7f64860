/* config.h — `castor serve` settings from flags and CASTOR_* environment variables.
 *
 * Each flag --foo-bar has the variable CASTOR_FOO_BAR; a flag wins over its variable. The
 * configuration is filled once at start and then only read. */
#ifndef CASTOR_SERVE_CONFIG_H
#define CASTOR_SERVE_CONFIG_H

#include "core/err.h"
#include "core/log.h"

#define SERVE_PATH_MAX 4096

typedef struct serve_config {
    char data_dir[SERVE_PATH_MAX]; /* --data, default ./castor-data */
    char store[SERVE_PATH_MAX];    /* --store: "" = SQLite in data_dir, or postgres://... */
    char listen[256];              /* --listen, default 127.0.0.1:8443 */
    char public_url[1024];         /* --public-url, default https://localhost:PORT */
    log_level_t log_level;         /* --log-level, default info */
    char tls_cert[SERVE_PATH_MAX]; /* --tls-cert, optional */
    char tls_key[SERVE_PATH_MAX];  /* --tls-key, optional */
    unsigned threads;              /* --threads, default: number of cores */
    unsigned idle_timeout_s;       /* --idle-timeout, default CASTOR_HTTP_TIMEOUT_S */
    unsigned device_code_ttl_s;    /* --device-code-lifetime; 0 = Entra's 900 s */
    unsigned rbac_delay_s;         /* --rbac-propagation-delay: simulate Azure's delay */
    int compat_empty_403;          /* --compat-empty-403: Azure's bodiless 403s */
    unsigned token_reuse_s;        /* --token-reuse: reuse app-only tokens this long (0 off) */
    unsigned event_lanes;          /* --event-lanes: parallel deliveries per route (default 4) */
    unsigned event_retry_max_s;    /* --event-retry-max: longest wait between retries (10 s) */
    int event_nice;                /* --event-nice: delivery threads' CPU niceness (10) */
    unsigned event_ttl_cap_s;      /* --event-ttl-cap: 0, or a cap on every endpoint's TTL */
    unsigned outbox_retention_s;   /* --outbox-retention: keep delivered events this long */
    int help;                      /* --help was given */
} serve_config_t;

/* Fills cfg from defaults, then the environment, then argv (argv[0] is "serve"). An unknown
 * flag or a bad value is CASTOR_EINVAL with a message naming it. */
int serve_config_parse(int argc, char **argv, serve_config_t *cfg, castor_err *err);

/* Completes public_url once the port is known (when it was not given). */
void serve_config_finish(serve_config_t *cfg, unsigned short port);

/* The host part of public_url ("localhost", "10.0.0.5", "::1"), into buf. */
int serve_config_public_host(const serve_config_t *cfg, char *buf, size_t size, castor_err *err);

/* The usage text of `castor serve`. */
const char *serve_config_usage(void);

#endif
