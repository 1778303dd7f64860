/* ev_deadletter.h — keeping an event that could not be delivered: one JSON file per event in
 * <data>/deadletter/<instance>/<endpoint>/, written durably before the event counts as done. */
#ifndef CASTOR_EV_DEADLETTER_H
#define CASTOR_EV_DEADLETTER_H

#include "core/err.h"

#include <stdint.h>

typedef struct ev_deadletter {
    const char *root; /* <data>/deadletter */
    const char *instance;
    const char *endpoint;
    const char *route;
    int64_t seq;
    const char *event;  /* CloudEvents JSON */
    const char *reason; /* MaxDeliveryAttemptsExceeded | TimeToLiveExceeded | DeliveryRefused */
    int attempts;
    const char *last_error;
} ev_deadletter_t;

/* Writes the record (file name <seq>.<route>.json) and syncs it and its folder; path (may be
 * NULL) receives the file's path. */
int ev_deadletter_write(const ev_deadletter_t *d, char *path, size_t size, castor_err *err);

/* The record's JSON text as ev_deadletter_write stores it (also what a dead-letter endpoint
 * receives). Caller frees; NULL when out of memory. */
char *ev_deadletter_json(const ev_deadletter_t *d);

#endif
