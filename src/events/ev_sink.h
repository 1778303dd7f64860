/* ev_sink.h — delivering one event to one endpoint and hearing it was taken: an HTTPS POST
 * answered 2xx (webhook, EventGrid) or an MQTT PUBLISH answered with PUBACK (QoS 1).
 *
 * A sink is one connection (a webhook's batches use a few), used by one thread at a time; it
 * reconnects by itself on the next send after a failure. Sends are synchronous: a send returns
 * once every event in it was acknowledged or failed, so a lane's events of one twin arrive in
 * order. A batch has several events in flight at once, which is what makes a lane fast: one
 * wake-up and a few system calls for many events, not a round trip each. */
#ifndef CASTOR_EV_SINK_H
#define CASTOR_EV_SINK_H

#include "core/err.h"
#include "events/ev_endpoint.h"

typedef struct ev_sink ev_sink_t;

/* What a sink needs besides the endpoint: a folder for files it must hand to its library (CA
 * bundles), and a distinct MQTT client id for this connection. */
typedef struct ev_sink_env {
    const char *work_dir;
    const char *client_id;
} ev_sink_env_t;

/* One event to send. */
typedef struct ev_delivery {
    const char *event; /* CloudEvents JSON (structured mode) */
    size_t event_len;
    const char *instance; /* instance name */
    const char *twin_id;
    const char *type;
    const char *subject;
} ev_delivery_t;

/* Copies what it needs of ep. Connects lazily (on the first send). */
int ev_sink_open(const ev_endpoint_t *ep, const ev_sink_env_t *env, ev_sink_t **out,
                 castor_err *err);
/* 0 once the endpoint acknowledged the event. On failure err says why; *retryable (may be
 * NULL) is 0 when sending again cannot help (the receiver refused the event itself: HTTP 400,
 * 403 or 413, as Event Grid treats them). */
int ev_sink_send(ev_sink_t *s, const ev_delivery_t *d, int *retryable, castor_err *err);
/* The most events one ev_sink_send_many takes. */
#define EV_SINK_BATCH_MAX 32
/* What rc[i] of ev_sink_send_many is for an event the sink did not try: an earlier one of the
 * batch showed the endpoint failing (not a delivery attempt). */
#define EV_SINK_NOT_SENT 1
/* Sends n (1..EV_SINK_BATCH_MAX) events at once. No two may be about the same twin: their
 * outcomes are independent and their arrival order is not kept. rc[i] is 0 once event i was
 * acknowledged, EV_SINK_NOT_SENT, or negative: then errs[i] says why and retryable[i] is as
 * for ev_sink_send. */
void ev_sink_send_many(ev_sink_t *s, const ev_delivery_t *d, int n, int *rc, int *retryable,
                       castor_err *errs);
void ev_sink_close(ev_sink_t *s);

/* Process-wide set-up of the transport libraries; call once before any sink is opened. */
void ev_sink_global_init(void);

/* A file under work_dir holding the system's trusted CAs and pem (written once per distinct
 * pem), for libraries that only take a CA file. Writes its path into path (size bytes). */
int ev_sink_ca_file(const char *work_dir, const char *pem, char *path, size_t size,
                    castor_err *err);

#endif
