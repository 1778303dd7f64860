/* config.c — flags and environment for `castor serve` (see config.h). */
#include "serve/config.h"

#include "core/limits.h"
#include "http/server.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *serve_config_usage(void)
{
    return "usage: castor serve [options]\n"
           "\n"
           "Runs the castor server: identity, resource manager and digital-twins data plane on\n"
           "one HTTPS port, storing everything in the data folder (embedded SQLite) or in a\n"
           "PostgreSQL database that several castor nodes share (--store).\n"
           "\n"
           "options (each also an environment variable, e.g. --data = CASTOR_DATA):\n"
           "  --data DIR           data folder (default ./castor-data)\n"
           "  --store URL          where twins, models, directory and roles live:\n"
           "                       sqlite (default: DIR/castor.db), sqlite:PATH, or\n"
           "                       postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (the\n"
           "                       database must exist; castor creates its tables)\n"
           "  --listen ADDR:PORT   address to listen on (default 127.0.0.1:8443; port 0 = any)\n"
           "  --public-url URL     URL clients use (default https://localhost:PORT)\n"
           "  --log-level LEVEL    debug | info | warn | error (default info)\n"
           "  --tls-cert FILE      serve this PEM certificate chain instead of the generated one\n"
           "  --tls-key FILE       its PEM private key\n"
           "  --threads N          worker threads (default: 4 per core)\n"
           "  --idle-timeout SECS  close connections idle or stalled this long (default 30)\n"
           "  --device-code-lifetime SECS\n"
           "                       how long a device-flow code stays valid (default 900)\n"
           "  --rbac-propagation-delay DURATION\n"
           "                       role changes take effect this long after the latest one\n"
           "                       (e.g. 60s, 5m), as in Azure; default 0: at once\n"
           "  --token-reuse SECS   hand the same app-only token to the same client for the same\n"
           "                       resource for up to SECS (at most 3000); default 0: every\n"
           "                       grant gets a freshly signed token, as Entra does\n"
           "  --event-lanes N      events of one route sent in parallel, by twin (1-16, default "
           "4);\n"
           "                       one twin's events always arrive in order\n"
           "  --event-nice N       CPU niceness of event delivery (0-19, default 10): when writes\n"
           "                       use every core, they go first and delivery catches up after;\n"
           "                       0 delivers at the writers' priority\n"
           "  --event-retry-max DURATION\n"
           "                       longest wait between delivery retries (default 10s)\n"
           "  --event-ttl-cap DURATION\n"
           "                       dead-letter undeliverable events after at most this long,\n"
           "                       whatever an endpoint's eventTimeToLiveInMinutes (default: off)\n"
           "  --outbox-retention DURATION\n"
           "                       keep events in the outbox this long after every route has\n"
           "                       them, to read with sqlite3 (default 0: trim at once)\n"
           "  --compat-empty-403   answer data-plane 403s with an empty body, as Azure does\n"
           "                       (castor's explanation is then only in the log)\n"
           "  -h, --help           this text\n"
           "\n"
           "First start also reads CASTOR_ADMIN_PASSWORD: the password of admin@castor.local\n"
           "(generated and printed once when unset). Setting it on a later start resets it.\n";
}

typedef struct option_def {
    const char *flag;
    const char *env;
    int (*apply)(serve_config_t *cfg, const char *flag, const char *value, castor_err *err);
} option_def_t;

static int copy_opt(char *dst, size_t size, const char *flag, const char *value, castor_err *err)
{
    if (!value[0]) return castor_err_set(err, CASTOR_EINVAL, "%s needs a value", flag);
    if (strlen(value) >= size)
        return castor_err_set(err, CASTOR_EINVAL, "%s is longer than %zu characters", flag,
                              size - 1);
    memcpy(dst, value, strlen(value) + 1);
    return CASTOR_OK;
}

static int set_data(serve_config_t *c, const char *f, const char *v, castor_err *e)
{
    return copy_opt(c->data_dir, sizeof c->data_dir, f, v, e);
}

static int set_store(serve_config_t *c, const char *f, const char *v, castor_err *e)
{
    int rc = copy_opt(c->store, sizeof c->store, f, v, e);
    if (rc < 0) return rc;
    if (strcmp(v, "sqlite") == 0) {
        c->store[0] = '\0'; /* the default: DIR/castor.db */
        return CASTOR_OK;
    }
    if (strncmp(v, "sqlite:", 7) == 0 || strncmp(v, "postgres://", 11) == 0 ||
        strncmp(v, "postgresql://", 13) == 0)
        return CASTOR_OK;
    c->store[0] = '\0';
    return castor_err_set(e, CASTOR_EINVAL,
                          "%s '%s': use sqlite, sqlite:PATH or "
                          "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE",
                          f, v);
}

static int set_listen(serve_config_t *c, const char *f, const char *v, castor_err *e)
{
    int rc = copy_opt(c->listen, sizeof c->listen, f, v, e);
    return rc < 0 ? rc : http_listen_check(v, e);
}

static int set_public_url(serve_config_t *c, const char *f, const char *v, castor_err *e)
{
    int rc = copy_opt(c->public_url, sizeof c->public_url, f, v, e);
    if (rc < 0) return rc;
    if (strncmp(v, "https://", 8) != 0 || !v[8])
        return castor_err_set(e, CASTOR_EINVAL,
                              "%s '%s' must be an https:// URL (the Azure clients refuse plain "
                              "http), e.g. https://localhost:8443",
                              f, v);
    size_t n = strlen(c->public_url);
    while (n > 8 && c->public_url[n - 1] == '/')
        c->public_url[--n] = '\0';
    return CASTOR_OK;
}

static int set_log_level(serve_config_t *c, const char *f, const char *v, castor_err *e)
{
    if (log_level_parse(v, &c->log_level) < 0)
        return castor_err_set(e, CASTOR_EINVAL, "%s '%s': use debug, info, warn or error", f, v);
    return CASTOR_OK;
}

static int set_tls_cert(serve_config_t *c, const char *f, const char *v, castor_err *e)
{
    return copy_opt(c->tls_cert, sizeof c->tls_cert, f, v, e);
}

static int set_tls_key(serve_config_t *c, const char *f, const char *v, castor_err *e)
{
    return copy_opt(c->tls_key, sizeof c->tls_key, f, v, e);
}

/* A whole number from lo to hi, or an error that says what to use (hint). */
static int parse_whole(const char *f, const char *v, long lo, long hi, const char *hint, long *out,
                       castor_err *e)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (!v[0] || *end || n < lo || n > hi)
        return castor_err_set(e, CASTOR_EINVAL, "%s '%s': %s", f, v, hint);
    *out = n;
    return CASTOR_OK;
}

static int set_threads(serve_config_t *c, const char *f, const char *v, castor_err *e)
{
    long n = 0;
    int rc = parse_whole(f, v, 1, 256, "use a whole number from 1 to 256", &n, e);
    if (rc == 0) c->threads = (unsigned)n;
    return rc;
}

static int set_idle_timeout(serve_config_t *c, const char *f, const char *v, castor_err *e)
{
    long n = 0;
    int rc = parse_whole(f, v, 1, 3600, "use a number of seconds from 1 to 3600", &n, e);
    if (rc == 0) c->idle_timeout_s = (unsigned)n;
    return rc;
}

static int set_token_reuse(serve_config_t *c, const char *f, const char *v, castor_err *e)
{
    long n = 0;
    int rc = parse_whole(f, v, 0, 3000, "use a number of seconds from 0 (off) to 3000", &n, e);
    if (rc == 0) c->token_reuse_s = (unsigned)n;
    return rc;
}

/* "90", "90s", "5m", "1h" into seconds, at most 24 hours. */
static int parse_duration(const char *f, const char *v, unsigned *out, castor_err *e)
{
    char *end;
    long n = strtol(v, &end, 10);
    long mult = 1;
    if (*end == 's')
        end++;
    else if (*end == 'm')
        mult = 60, end++;
    else if (*end == 'h')
        mult = 3600, end++;
    if (!v[0] || end == v || *end || n < 0 || n * mult > 24 * 3600)
        return castor_err_set(e, CASTOR_EINVAL,
                              "%s '%s': use a duration such as 60s, 5m or 1h (at most 24h)", f, v);
    *out = (unsigned)(n * mult);
    return CASTOR_OK;
}

/* Azure's propagation delays are minutes, up to 30. */
static int set_rbac_delay(serve_config_t *c, const char *f, const char *v, castor_err *e)
{
    return parse_duration(f, v, &c->rbac_delay_s, e);
}

static int set_event_retry_max(serve_config_t *c, const char *f, const char *v, castor_err *e)
{
    int rc = parse_duration(f, v, &c->event_retry_max_s, e);
    if (rc == 0 && c->event_retry_max_s < 1)
        return castor_err_set(e, CASTOR_EINVAL, "%s '%s': use at least 1s", f, v);
    return rc;
}

static int set_event_ttl_cap(serve_config_t *c, const char *f, const char *v, castor_err *e)
{
    return parse_duration(f, v, &c->event_ttl_cap_s, e);
}

static int set_outbox_retention(serve_config_t *c, const char *f, const char *v, castor_err *e)
{
    return parse_duration(f, v, &c->outbox_retention_s, e);
}

static int set_event_lanes(serve_config_t *c, const char *f, const char *v, castor_err *e)
{
    long n = 0;
    int rc = parse_whole(f, v, 1, 16, "use a whole number from 1 to 16", &n, e);
    if (rc == 0) c->event_lanes = (unsigned)n;
    return rc;
}

static int set_event_nice(serve_config_t *c, const char *f, const char *v, castor_err *e)
{
    long n = 0;
    int rc = parse_whole(f, v, 0, 19, "use a whole number from 0 to 19", &n, e);
    if (rc == 0) c->event_nice = (int)n;
    return rc;
}

static int set_device_ttl(serve_config_t *c, const char *f, const char *v, castor_err *e)
{
    long n = 0;
    int rc = parse_whole(f, v, 1, 86400, "use a number of seconds from 1 to 86400", &n, e);
    if (rc == 0) c->device_code_ttl_s = (unsigned)n;
    return rc;
}

static const option_def_t options[] = {
    {"--data", "CASTOR_DATA", set_data},
    {"--store", "CASTOR_STORE", set_store},
    {"--listen", "CASTOR_LISTEN", set_listen},
    {"--public-url", "CASTOR_PUBLIC_URL", set_public_url},
    {"--log-level", "CASTOR_LOG_LEVEL", set_log_level},
    {"--tls-cert", "CASTOR_TLS_CERT", set_tls_cert},
    {"--tls-key", "CASTOR_TLS_KEY", set_tls_key},
    {"--threads", "CASTOR_THREADS", set_threads},
    {"--idle-timeout", "CASTOR_IDLE_TIMEOUT", set_idle_timeout},
    {"--rbac-propagation-delay", "CASTOR_RBAC_PROPAGATION_DELAY", set_rbac_delay},
    {"--device-code-lifetime", "CASTOR_DEVICE_CODE_LIFETIME", set_device_ttl},
    {"--token-reuse", "CASTOR_TOKEN_REUSE", set_token_reuse},
    {"--event-lanes", "CASTOR_EVENT_LANES", set_event_lanes},
    {"--event-nice", "CASTOR_EVENT_NICE", set_event_nice},
    {"--event-retry-max", "CASTOR_EVENT_RETRY_MAX", set_event_retry_max},
    {"--event-ttl-cap", "CASTOR_EVENT_TTL_CAP", set_event_ttl_cap},
    {"--outbox-retention", "CASTOR_OUTBOX_RETENTION", set_outbox_retention},
};

#define NOPTIONS (sizeof options / sizeof options[0])

int serve_config_parse(int argc, char **argv, serve_config_t *cfg, castor_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "./castor-data");
    snprintf(cfg->listen, sizeof cfg->listen, "127.0.0.1:8443");
    cfg->log_level = LOG_INFO;
    cfg->idle_timeout_s = CASTOR_HTTP_TIMEOUT_S;
    cfg->event_nice = 10;
    const char *compat = getenv("CASTOR_COMPAT_EMPTY_403");
    cfg->compat_empty_403 = compat && (strcmp(compat, "1") == 0 || strcmp(compat, "true") == 0);
    for (size_t i = 0; i < NOPTIONS; i++) {
        const char *v = getenv(options[i].env);
        if (v && v[0]) {
            int rc = options[i].apply(cfg, options[i].env, v, err);
            if (rc < 0) return rc;
        }
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            cfg->help = 1;
            continue;
        }
        if (strcmp(arg, "--compat-empty-403") == 0) {
            cfg->compat_empty_403 = 1;
            continue;
        }
        const option_def_t *opt = NULL;
        const char *value = NULL;
        for (size_t i = 0; i < NOPTIONS && !opt; i++) {
            size_t n = strlen(options[i].flag);
            if (strncmp(arg, options[i].flag, n) != 0) continue;
            if (arg[n] == '=') {
                opt = &options[i];
                value = arg + n + 1;
            } else if (arg[n] == '\0') {
                opt = &options[i];
                if (a + 1 >= argc)
                    return castor_err_set(err, CASTOR_EINVAL, "%s needs a value", arg);
                value = argv[++a];
            }
        }
        if (!opt)
            return castor_err_set(err, CASTOR_EINVAL,
                                  "unknown option '%s' for castor serve (see castor serve --help)",
                                  arg);
        int rc = opt->apply(cfg, opt->flag, value, err);
        if (rc < 0) return rc;
    }
    if (!cfg->tls_cert[0] != !cfg->tls_key[0])
        return castor_err_set(err, CASTOR_EINVAL,
                              "--tls-cert and --tls-key go together: give both, or neither to "
                              "use the certificate castor makes");
    return CASTOR_OK;
}

void serve_config_finish(serve_config_t *cfg, unsigned short port)
{
    if (!cfg->public_url[0])
        snprintf(cfg->public_url, sizeof cfg->public_url, "https://localhost:%u", port);
}

int serve_config_public_host(const serve_config_t *cfg, char *buf, size_t size, castor_err *err)
{
    const char *h = cfg->public_url + 8; /* after https:// */
    const char *end;
    if (*h == '[') {
        h++;
        end = strchr(h, ']');
        if (!end)
            return castor_err_set(err, CASTOR_EINVAL, "--public-url '%s': unclosed '['",
                                  cfg->public_url);
    } else {
        end = h + strcspn(h, ":/");
    }
    if (end == h || (size_t)(end - h) >= size)
        return castor_err_set(err, CASTOR_EINVAL, "--public-url '%s' has no host", cfg->public_url);
    snprintf(buf, size, "%.*s", (int)(end - h), h);
    for (char *p = buf; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return CASTOR_OK;
}
