/* ev_webhook.c — delivering CloudEvents to an HTTPS endpoint: one POST per event in structured
 * mode (application/cloudevents+json), as Event Grid and the CloudEvents webhook spec do. The
 * connection is kept alive between events. */
#include "events/ev_sink_int.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A receiver that takes longer than this is counted as failing (Event Grid waits 30 s for a
 * webhook; castor's receivers are local, and a lane must not stall for long). */
#define WEBHOOK_TIMEOUT_MS 10000L
#define WEBHOOK_CONNECT_TIMEOUT_MS 3000L

typedef struct webhook {
    CURL *curl;
    struct curl_slist *headers;
    char *uri;
    char ca_file[4096]; /* "" for the system's CAs alone */
    char curl_error[CURL_ERROR_SIZE];
} webhook_t;

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

static void webhook_close(void *state)
{
    webhook_t *w = state;
    if (!w) return;
    if (w->curl) curl_easy_cleanup(w->curl);
    curl_slist_free_all(w->headers);
    free(w->uri);
    free(w);
}

static int webhook_open(const ev_endpoint_t *ep, const ev_sink_env_t *env, void **state,
                        castor_err *err)
{
    webhook_t *w = calloc(1, sizeof *w);
    if (!w) return castor_err_set(err, CASTOR_ENOMEM, "out of memory opening a webhook");
    w->uri = strdup(ep->uri);
    w->headers = curl_slist_append(NULL, "Content-Type: application/cloudevents+json; "
                                         "charset=utf-8");
    w->headers = curl_slist_append(w->headers, "Expect:"); /* no 100-continue round trip */
    if (ep->auth_header) w->headers = curl_slist_append(w->headers, ep->auth_header);
    int rc = CASTOR_OK;
    if (!w->uri || !w->headers)
        rc = castor_err_set(err, CASTOR_ENOMEM, "out of memory opening a webhook");
    if (rc == 0 && ep->ca_pem)
        rc = ev_sink_ca_file(env->work_dir, ep->ca_pem, w->ca_file, sizeof w->ca_file, err);
    if (rc < 0) {
        webhook_close(w);
        return rc;
    }
    *state = w;
    return CASTOR_OK;
}

static int webhook_send(void *state, const ev_delivery_t *d, int *retryable, castor_err *err)
{
    webhook_t *w = state;
    if (!w->curl) {
        w->curl = curl_easy_init();
        if (!w->curl) return castor_err_set(err, CASTOR_ENOMEM, "out of memory making a request");
    }
    CURL *c = w->curl;
    curl_easy_setopt(c, CURLOPT_URL, w->uri);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->event);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)d->event_len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, w->headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, WEBHOOK_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, WEBHOOK_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, w->curl_error);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "castor-events/" CASTOR_VERSION);
    if (w->ca_file[0]) curl_easy_setopt(c, CURLOPT_CAINFO, w->ca_file);
    w->curl_error[0] = '\0';
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        /* The connection may be half-dead: start the next try on a fresh handle. */
        curl_easy_cleanup(c);
        w->curl = NULL;
        return castor_err_set(err, CASTOR_EIO, "POST %s: %s", w->uri,
                              w->curl_error[0] ? w->curl_error : curl_easy_strerror(cc));
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) return CASTOR_OK;
    *retryable = !(status == 400 || status == 403 || status == 413);
    return castor_err_set(err, CASTOR_EIO, "POST %s answered HTTP %ld", w->uri, status);
}

const ev_sink_driver_t ev_webhook_driver = {webhook_open, webhook_send, webhook_close};
