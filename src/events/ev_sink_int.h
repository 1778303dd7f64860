/* ev_sink_int.h — the drivers behind ev_sink.h (internal to src/events/). */
#ifndef CASTOR_EV_SINK_INT_H
#define CASTOR_EV_SINK_INT_H

#include "events/ev_sink.h"

typedef struct ev_sink_driver {
    int (*open)(const ev_endpoint_t *ep, const ev_sink_env_t *env, void **state, castor_err *err);
    /* n events at once, as ev_sink_send_many; retryable[i] is 1 on entry. */
    void (*send_many)(void *state, const ev_delivery_t *d, int n, int *rc, int *retryable,
                      castor_err *errs);
    void (*close)(void *state);
} ev_sink_driver_t;

extern const ev_sink_driver_t ev_webhook_driver;
extern const ev_sink_driver_t ev_mqtt_driver;

#endif
