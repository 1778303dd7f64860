/* ev_webhook.c — delivering CloudEvents to an HTTPS endpoint: one POST per event in structured
 * mode (application/cloudevents+json), as Event Grid and the CloudEvents webhook spec do. A
 * batch's POSTs go out WEBHOOK_PARALLEL at a time on parallel keep-alive connections (a curl
 * multi handle: HTTP/1.1 has no usable pipelining), kept open between batches. Few, because a
 * new TLS connection costs curl far more than a POST (it loads the whole CA bundle). */
#include "events/ev_sink_int.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A receiver that takes longer than this is counted as failing (Event Grid waits 30 s for a
 * webhook; castor's receivers are local, and a lane must not stall for long). */
#define WEBHOOK_TIMEOUT_MS 10000L
#define WEBHOOK_CONNECT_TIMEOUT_MS 3000L
/* POSTs in flight at once per sink (connections kept open). */
#define WEBHOOK_PARALLEL 4

typedef struct webhook {
    CURLM *multi; /* owns the connection cache the handles share */
    CURL *curl[WEBHOOK_PARALLEL];
    char curl_error[WEBHOOK_PARALLEL][CURL_ERROR_SIZE];
    struct curl_slist *headers;
    char *uri;
    char ca_file[4096]; /* "" for the system's CAs alone */
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
    for (int i = 0; i < WEBHOOK_PARALLEL; i++)
        if (w->curl[i]) curl_easy_cleanup(w->curl[i]);
    if (w->multi) curl_multi_cleanup(w->multi);
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

/* Starts d on handle `slot`. */
static int request_start(webhook_t *w, int slot, const ev_delivery_t *d, castor_err *err)
{
    if (!w->curl[slot]) {
        w->curl[slot] = curl_easy_init();
        if (!w->curl[slot])
            return castor_err_set(err, CASTOR_ENOMEM, "out of memory making a request");
    }
    CURL *c = w->curl[slot];
    curl_easy_setopt(c, CURLOPT_URL, w->uri);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->event);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)d->event_len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, w->headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, WEBHOOK_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, WEBHOOK_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, w->curl_error[slot]);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "castor-events/" CASTOR_VERSION);
    curl_easy_setopt(c, CURLOPT_PRIVATE, (void *)(intptr_t)slot);
    if (w->ca_file[0]) {
        /* The bundle has the system's CAs already: no scan of the CA folder per connection. */
        curl_easy_setopt(c, CURLOPT_CAINFO, w->ca_file);
        curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
    }
    w->curl_error[slot][0] = '\0';
    if (curl_multi_add_handle(w->multi, c) != CURLM_OK)
        return castor_err_set(err, CASTOR_ENOMEM, "out of memory making a request");
    return CASTOR_OK;
}

/* The outcome of the request on `slot`, which curl finished with cc. */
static int request_result(webhook_t *w, int slot, CURLcode cc, int *retryable, castor_err *err)
{
    CURL *c = w->curl[slot];
    if (cc != CURLE_OK) {
        /* The connection may be half-dead: start the next try on a fresh handle. */
        castor_err_set(err, CASTOR_EIO, "POST %s: %s", w->uri,
                       w->curl_error[slot][0] ? w->curl_error[slot] : curl_easy_strerror(cc));
        curl_easy_cleanup(c);
        w->curl[slot] = NULL;
        return err->rc;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) return CASTOR_OK;
    *retryable = !(status == 400 || status == 403 || status == 413);
    return castor_err_set(err, CASTOR_EIO, "POST %s answered HTTP %ld", w->uri, status);
}

static void webhook_send_many(void *state, const ev_delivery_t *d, int n, int *rc, int *retryable,
                              castor_err *errs)
{
    webhook_t *w = state;
    int on_slot[WEBHOOK_PARALLEL]; /* the event each handle sends, or -1 */
    for (int k = 0; k < WEBHOOK_PARALLEL; k++)
        on_slot[k] = -1;
    if (!w->multi) {
        w->multi = curl_multi_init();
        if (w->multi) curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)WEBHOOK_PARALLEL);
    }
    if (!w->multi) {
        for (int i = 0; i < n; i++)
            rc[i] = castor_err_set(&errs[i], CASTOR_ENOMEM, "out of memory making a request");
        return;
    }
    int next = 0, busy = 0, broken = 0; /* broken: a POST failed in transport */
    while (next < n || busy > 0) {
        /* A receiver that does not answer would cost a timeout for every POST left: those
         * are not sent (they go with the lane's next batch), so a batch takes about one
         * timeout, as a single event does. */
        if (broken) {
            for (; next < n; next++)
                rc[next] = EV_SINK_NOT_SENT;
            if (busy == 0) break;
        }
        /* Keep every handle busy while events remain. */
        for (int k = 0; k < WEBHOOK_PARALLEL && next < n; k++) {
            if (on_slot[k] >= 0) continue;
            int i = next++;
            rc[i] = request_start(w, k, &d[i], &errs[i]);
            if (rc[i] == 0) {
                on_slot[k] = i;
                busy++;
            }
        }
        if (busy == 0) continue;
        int running = 0;
        CURLMcode mc = curl_multi_perform(w->multi, &running);
        CURLMsg *msg;
        int queued;
        while ((msg = curl_multi_info_read(w->multi, &queued))) {
            if (msg->msg != CURLMSG_DONE) continue;
            void *priv = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            int k = (int)(intptr_t)priv, i = on_slot[k];
            CURLcode cc = msg->data.result;
            curl_multi_remove_handle(w->multi, msg->easy_handle);
            on_slot[k] = -1;
            busy--;
            rc[i] = request_result(w, k, cc, &retryable[i], &errs[i]);
            if (cc != CURLE_OK) broken = 1;
        }
        /* Every request has its own timeout, so this ends. */
        if (busy > 0 && mc == CURLM_OK) mc = curl_multi_poll(w->multi, NULL, 0, 1000, NULL);
        if (mc != CURLM_OK) {
            for (int k = 0; k < WEBHOOK_PARALLEL; k++)
                if (on_slot[k] >= 0) {
                    curl_multi_remove_handle(w->multi, w->curl[k]);
                    curl_easy_cleanup(w->curl[k]);
                    w->curl[k] = NULL;
                    rc[on_slot[k]] = castor_err_set(&errs[on_slot[k]], CASTOR_EIO, "POST %s: %s",
                                                    w->uri, curl_multi_strerror(mc));
                    on_slot[k] = -1;
                }
            busy = 0;
            for (; next < n; next++)
                rc[next] = castor_err_set(&errs[next], CASTOR_EIO, "POST %s: %s", w->uri,
                                          curl_multi_strerror(mc));
        }
    }
}

const ev_sink_driver_t ev_webhook_driver = {webhook_open, webhook_send_many, webhook_close};
