/* ev_mqtt.c — publishing events to an MQTT broker with libmosquitto: QoS 1, one PUBLISH per
 * event, the CloudEvents JSON as the payload (structured mode), and an event counted done only
 * when the broker's PUBACK for it arrives. Each sink is its own client connection, driven by
 * the calling thread (mosquitto_loop). A batch's PUBLISHes all go out before the first PUBACK
 * is awaited (QoS 1 allows many in flight), so a batch costs about one round trip.
 *
 * A batch that fails drops its client, not just the connection: libmosquitto would otherwise
 * resend the batch's unacknowledged PUBLISHes itself on reconnect, on top of the dispatcher's
 * retry of the same events, and every event of the batch would reach the broker once more. */
#include "events/ev_sink_int.h"

#include <errno.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MQTT_KEEPALIVE_S 30
#define MQTT_ACK_TIMEOUT_MS 10000
#define MQTT_CONNECT_TIMEOUT_MS 5000

typedef struct mqtt {
    struct mosquitto *m; /* NULL after a failure: made anew by the next send */
    char host[256];
    int port;
    int tls;
    char client_id[160];
    char *username, *password;    /* copies, or NULL */
    char ca_file[4096];           /* "" for the system's CAs */
    int connected;                /* CONNACK accepted and no disconnect since */
    int connect_rc;               /* the last CONNACK's code, -1 while waiting */
    int mids[EV_SINK_BATCH_MAX];  /* the batch in flight: its message ids, */
    int acked[EV_SINK_BATCH_MAX]; /* and which have their PUBACK */
    int nmids, nacked;
    char *topic_tmpl;
    char why[160]; /* the last disconnect's reason */
} mqtt_t;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
    (void)m;
    mqtt_t *q = obj;
    q->connect_rc = rc;
    q->connected = rc == 0;
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
    (void)m;
    mqtt_t *q = obj;
    q->connected = 0;
    snprintf(q->why, sizeof q->why, "%s", mosquitto_strerror(rc));
}

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
    (void)m;
    mqtt_t *q = obj;
    for (int i = 0; i < q->nmids; i++)
        if (q->mids[i] == mid && !q->acked[i]) {
            q->acked[i] = 1;
            q->nacked++;
            return;
        }
}

static int parse_uri(mqtt_t *q, const char *uri, int *tls, castor_err *err)
{
    const char *rest = NULL;
    if (strncmp(uri, "mqtt://", 7) == 0) {
        rest = uri + 7;
        *tls = 0;
    } else if (strncmp(uri, "mqtts://", 8) == 0) {
        rest = uri + 8;
        *tls = 1;
    } else {
        return castor_err_set(err, CASTOR_EINVAL, "%s is not an mqtt:// or mqtts:// URI", uri);
    }
    q->port = *tls ? 8883 : 1883;
    const char *colon = strrchr(rest, ':');
    const char *end = rest + strcspn(rest, "/");
    size_t hl = (colon && colon < end ? colon : end) - rest;
    if (colon && colon < end) q->port = atoi(colon + 1);
    if (hl == 0 || hl >= sizeof q->host || q->port <= 0 || q->port > 65535)
        return castor_err_set(err, CASTOR_EINVAL, "%s does not name a host and port", uri);
    memcpy(q->host, rest, hl);
    q->host[hl] = '\0';
    return CASTOR_OK;
}

static void drop_client(mqtt_t *q)
{
    if (!q->m) return;
    if (q->connected) mosquitto_disconnect(q->m);
    mosquitto_destroy(q->m);
    q->m = NULL;
    q->connected = 0;
}

static void mqtt_close(void *state)
{
    mqtt_t *q = state;
    if (!q) return;
    drop_client(q);
    free(q->topic_tmpl);
    free(q->username);
    if (q->password) {
        explicit_bzero(q->password, strlen(q->password));
        free(q->password);
    }
    free(q);
}

/* A fresh client with the sink's settings (no messages of an earlier client carried over). */
static int client_new(mqtt_t *q, castor_err *err)
{
    q->m = mosquitto_new(q->client_id, true, q);
    if (!q->m) return castor_err_set(err, CASTOR_ENOMEM, "out of memory opening an MQTT sink");
    q->connected = 0;
    mosquitto_int_option(q->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    /* A whole batch in flight (libmosquitto's default holds back all but 20). */
    mosquitto_int_option(q->m, MOSQ_OPT_SEND_MAXIMUM, EV_SINK_BATCH_MAX);
    /* Back-to-back PUBLISHes: without this, Nagle holds the second until the broker's
     * delayed ACK of the first (tens of ms). */
    mosquitto_int_option(q->m, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set(q->m, on_connect);
    mosquitto_disconnect_callback_set(q->m, on_disconnect);
    mosquitto_publish_callback_set(q->m, on_publish);
    int rc = CASTOR_OK;
    if (q->username && mosquitto_username_pw_set(q->m, q->username, q->password) != 0)
        rc = castor_err_set(err, CASTOR_EINVAL, "the MQTT user name is not usable");
    if (rc == 0 && q->tls &&
        mosquitto_tls_set(q->m, q->ca_file[0] ? q->ca_file : "/etc/ssl/certs/ca-certificates.crt",
                          NULL, NULL, NULL, NULL) != MOSQ_ERR_SUCCESS)
        rc =
            castor_err_set(err, CASTOR_EINVAL, "setting up TLS for %s:%d failed", q->host, q->port);
    if (rc < 0) drop_client(q);
    return rc;
}

static int mqtt_open(const ev_endpoint_t *ep, const ev_sink_env_t *env, void **state,
                     castor_err *err)
{
    mqtt_t *q = calloc(1, sizeof *q);
    if (!q) return castor_err_set(err, CASTOR_ENOMEM, "out of memory opening an MQTT sink");
    int rc = parse_uri(q, ep->uri, &q->tls, err);
    q->topic_tmpl = strdup(ep->topic ? ep->topic : EV_DEFAULT_TOPIC);
    if (ep->username) q->username = strdup(ep->username);
    if (ep->password) q->password = strdup(ep->password);
    if (rc == 0 &&
        (!q->topic_tmpl || (ep->username && !q->username) || (ep->password && !q->password)))
        rc = castor_err_set(err, CASTOR_ENOMEM, "out of memory opening an MQTT sink");
    if (rc == 0 && (size_t)snprintf(q->client_id, sizeof q->client_id, "%s", env->client_id) >=
                       sizeof q->client_id)
        rc = castor_err_set(err, CASTOR_EINVAL, "the MQTT client id '%s' is too long",
                            env->client_id);
    if (rc == 0 && q->tls && ep->ca_pem)
        rc = ev_sink_ca_file(env->work_dir, ep->ca_pem, q->ca_file, sizeof q->ca_file, err);
    if (rc == 0) rc = client_new(q, err);
    if (rc < 0) {
        mqtt_close(q);
        return rc;
    }
    *state = q;
    return CASTOR_OK;
}

/* Runs the client until done() holds, the deadline passes or the link fails: poll(2) on its
 * socket, then libmosquitto's read, write and keep-alive steps. Not mosquitto_loop: its select(2)
 * refuses a descriptor above FD_SETSIZE, which a castor with a thousand clients connected hands
 * out, and it wakes once per queued PUBLISH to read one byte of its internal socket pair. */
static int pump(mqtt_t *q, int (*done)(const mqtt_t *q, int arg), int arg, int64_t deadline,
                castor_err *err, const char *what)
{
    while (!done(q, arg)) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return castor_err_set(err, CASTOR_EIO, "MQTT broker %s:%d: no %s in time", q->host,
                                  q->port, what);
        struct pollfd p = {mosquitto_socket(q->m), POLLIN, 0};
        if (p.fd < 0) {
            q->connected = 0;
            return castor_err_set(err, CASTOR_EIO, "MQTT broker %s:%d closed the connection%s%s",
                                  q->host, q->port, q->why[0] ? ": " : "", q->why);
        }
        if (mosquitto_want_write(q->m)) p.events |= POLLOUT;
        int n = poll(&p, 1, left < 100 ? (int)left : 100);
        int rc = MOSQ_ERR_SUCCESS;
        if (n < 0 && errno != EINTR) {
            rc = MOSQ_ERR_ERRNO;
        } else if (n > 0) {
            if (p.revents & (POLLIN | POLLHUP | POLLERR))
                rc = mosquitto_loop_read(q->m, EV_SINK_BATCH_MAX);
            if (rc == MOSQ_ERR_SUCCESS && mosquitto_want_write(q->m))
                rc = mosquitto_loop_write(q->m, EV_SINK_BATCH_MAX);
        }
        if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop_misc(q->m);
        if (rc != MOSQ_ERR_SUCCESS) {
            q->connected = 0;
            return castor_err_set(err, CASTOR_EIO, "MQTT broker %s:%d: %s", q->host, q->port,
                                  rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
        }
        if (!q->connected && q->connect_rc > 0)
            return castor_err_set(err, CASTOR_EIO, "MQTT broker %s:%d refused the connection: %s",
                                  q->host, q->port, mosquitto_connack_string(q->connect_rc));
    }
    return CASTOR_OK;
}

/* Whether a connection idle since the last batch is still up: a broker closes one that missed
 * its keep-alive (nothing drives the client between batches), and a batch published into a
 * closed socket would only fail at its PUBACKs. */
static int still_connected(mqtt_t *q)
{
    struct pollfd p = {mosquitto_socket(q->m), POLLIN, 0};
    if (p.fd < 0) return 0;
    if (poll(&p, 1, 0) > 0 && mosquitto_loop_read(q->m, EV_SINK_BATCH_MAX) != MOSQ_ERR_SUCCESS)
        return 0;
    return q->connected && mosquitto_loop_misc(q->m) == MOSQ_ERR_SUCCESS;
}

static int is_connected(const mqtt_t *q, int arg)
{
    (void)arg;
    return q->connected;
}

static int all_acked(const mqtt_t *q, int arg)
{
    (void)arg;
    return q->nacked == q->nmids;
}

static int ensure_connected(mqtt_t *q, castor_err *err)
{
    if (q->m && q->connected && still_connected(q)) return CASTOR_OK;
    drop_client(q);
    if (client_new(q, err) < 0) return err->rc;
    q->connect_rc = -1;
    int rc = mosquitto_connect(q->m, q->host, q->port, MQTT_KEEPALIVE_S);
    if (rc != MOSQ_ERR_SUCCESS)
        return castor_err_set(err, CASTOR_EIO, "connecting to the MQTT broker %s:%d: %s", q->host,
                              q->port,
                              rc == MOSQ_ERR_ERRNO ? "connection failed" : mosquitto_strerror(rc));
    return pump(q, is_connected, 0, now_ms() + MQTT_CONNECT_TIMEOUT_MS, err, "CONNACK");
}

static void mqtt_send_many(void *state, const ev_delivery_t *d, int n, int *rc, int *retryable,
                           castor_err *errs)
{
    mqtt_t *q = state;
    (void)retryable;
    q->nmids = q->nacked = 0;
    castor_err err = {0};
    int failed = ensure_connected(q, &err) < 0;
    for (int i = 0; i < n && !failed; i++) {
        char *topic =
            ev_topic_expand(q->topic_tmpl, d[i].instance, d[i].twin_id, d[i].type, d[i].subject);
        if (!topic) {
            castor_err_set(&err, CASTOR_ENOMEM, "out of memory making a topic");
            failed = 1;
            break;
        }
        int mid = 0;
        q->acked[q->nmids] = 0;
        int prc = mosquitto_publish(q->m, &mid, topic, (int)d[i].event_len, d[i].event, 1, false);
        free(topic);
        if (prc != MOSQ_ERR_SUCCESS) {
            castor_err_set(&err, CASTOR_EIO, "publishing to %s:%d: %s", q->host, q->port,
                           mosquitto_strerror(prc));
            failed = 1;
            break;
        }
        q->mids[q->nmids++] = mid;
    }
    if (!failed && pump(q, all_acked, 0, now_ms() + MQTT_ACK_TIMEOUT_MS, &err, "PUBACK") < 0)
        failed = 1;
    /* The retry starts on a clean client (see the top of the file). */
    if (failed) drop_client(q);
    /* Published and acknowledged is done; the rest failed with the batch's error. */
    for (int i = 0; i < n; i++) {
        int ok = i < q->nmids && q->acked[i];
        rc[i] = ok ? 0 : err.rc ? err.rc : CASTOR_EIO;
        if (!ok) errs[i] = err;
    }
    q->nmids = q->nacked = 0;
}

const ev_sink_driver_t ev_mqtt_driver = {mqtt_open, mqtt_send_many, mqtt_close};
