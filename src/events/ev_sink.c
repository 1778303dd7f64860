/* ev_sink.c — one interface over the webhook and MQTT drivers, and CA bundles (ev_sink.h). */
#include "events/ev_sink.h"

#include "events/ev_sink_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ev_sink {
    const ev_sink_driver_t *driver;
    void *state;
};

void ev_sink_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    mosquitto_lib_init();
}

int ev_sink_open(const ev_endpoint_t *ep, const ev_sink_env_t *env, ev_sink_t **out,
                 castor_err *err)
{
    *out = NULL;
    ev_sink_t *s = calloc(1, sizeof *s);
    if (!s) return castor_err_set(err, CASTOR_ENOMEM, "out of memory opening a sink");
    s->driver = ep->kind == EV_SINK_MQTT ? &ev_mqtt_driver : &ev_webhook_driver;
    int rc = s->driver->open(ep, env, &s->state, err);
    if (rc < 0) {
        free(s);
        return rc;
    }
    *out = s;
    return CASTOR_OK;
}

int ev_sink_send(ev_sink_t *s, const ev_delivery_t *d, int *retryable, castor_err *err)
{
    int dummy = 1, rc = 0;
    if (!retryable) retryable = &dummy;
    *retryable = 1;
    s->driver->send_many(s->state, d, 1, &rc, retryable, err);
    return rc;
}

void ev_sink_send_many(ev_sink_t *s, const ev_delivery_t *d, int n, int *rc, int *retryable,
                       castor_err *errs)
{
    for (int i = 0; i < n; i++) {
        rc[i] = 0;
        retryable[i] = 1;
    }
    for (int at = 0; at < n; at += EV_SINK_BATCH_MAX) {
        int k = n - at < EV_SINK_BATCH_MAX ? n - at : EV_SINK_BATCH_MAX;
        s->driver->send_many(s->state, d + at, k, rc + at, retryable + at, errs + at);
    }
}

void ev_sink_close(ev_sink_t *s)
{
    if (!s) return;
    s->driver->close(s->state);
    free(s);
}

/* The system's CA bundle as Debian's ca-certificates writes it. */
#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static int append_file(FILE *out, const char *path)
{
    FILE *in = fopen(path, "rb");
    if (!in) return 0; /* no system bundle: the endpoint's CA alone */
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) {
            fclose(in);
            return -1;
        }
    fclose(in);
    return 0;
}

int ev_sink_ca_file(const char *work_dir, const char *pem, char *path, size_t size, castor_err *err)
{
    unsigned char h[16];
    crypto_generichash(h, sizeof h, (const unsigned char *)pem, strlen(pem), NULL, 0);
    char hex[33];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    if (mkdir(work_dir, 0700) < 0 && errno != EEXIST)
        return castor_err_set(err, CASTOR_EIO, "creating %s: %s", work_dir, strerror(errno));
    int n = snprintf(path, size, "%s/ca-%s.pem", work_dir, hex);
    if (n < 0 || (size_t)n >= size)
        return castor_err_set(err, CASTOR_EINVAL, "the folder %s is too long a path", work_dir);
    if (access(path, R_OK) == 0) return CASTOR_OK;
    char tmp[4200];
    n = snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return castor_err_set(err, CASTOR_EINVAL, "the folder %s is too long a path", work_dir);
    FILE *f = fopen(tmp, "wb");
    if (!f) return castor_err_set(err, CASTOR_EIO, "writing %s: %s", tmp, strerror(errno));
    int bad = append_file(f, SYSTEM_CA_BUNDLE) < 0 || fputs("\n", f) < 0 || fputs(pem, f) < 0 ||
              fputs("\n", f) < 0;
    bad = fclose(f) != 0 || bad;
    if (bad || rename(tmp, path) < 0) {
        unlink(tmp);
        return castor_err_set(err, CASTOR_EIO, "writing the CA bundle %s: %s", path,
                              strerror(errno));
    }
    return CASTOR_OK;
}
