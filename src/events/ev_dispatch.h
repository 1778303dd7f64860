/* ev_dispatch.h — the event dispatcher: delivers every outbox event to every route whose
 * filter it passes, at least once, in order per twin, with retries and dead-lettering.
 *
 * Each castor process runs one. A route is delivered by the process that holds its lease
 * (store_route_lease), so several processes on one database share the work without doing it
 * twice; a process that dies loses its leases when they run out and another resumes from the
 * route's durable cursor. Within a route, events go out on a few lanes chosen by twin id: a
 * lane sends its queue's first events together (up to EV_SINK_BATCH_MAX, several in flight on
 * the connection), never two of one twin in one batch, and retries each until it is delivered
 * or dead-lettered, so one twin's events arrive in the order they were written, while a slow
 * twin or endpoint holds up no other route. */
#ifndef CASTOR_EV_DISPATCH_H
#define CASTOR_EV_DISPATCH_H

#include "core/err.h"
#include "store/store.h"

#include <stdint.h>

#define EV_LANES_MAX 16

typedef struct ev_dispatch_config {
    store_t *store;
    const char *data_dir;  /* dead letters go to <data_dir>/deadletter, CA bundles to .../events */
    const char *node_id;   /* this process's name in leases; unique among the processes */
    unsigned lanes;        /* per route, 1..EV_LANES_MAX (default 4) */
    int nice;              /* 1..19: the delivery threads run this much nicer than the writers,
                            * so a write burst is not slowed by delivering its events (they
                            * wait in the outbox); 0: same priority */
    int64_t retry_base_ms; /* first retry after about this long (default 250) */
    int64_t retry_max_ms;  /* retries back off up to this (default 10 s) */
    int64_t ttl_cap_ms;    /* 0, or an upper bound on every endpoint's event TTL (tests) */
    int64_t lease_ms;      /* how long a lease lasts unrenewed (default 10 s) */
    int64_t refresh_ms;    /* how often routes and endpoints are re-read (default 500 ms) */
    int64_t retention_ms;  /* events stay in the outbox at least this long (default 0) */
    int exclusive;         /* no other process can use the store (SQLite locks its data folder):
                            * leases held by other names are a dead predecessor's, taken at once */
} ev_dispatch_config_t;

typedef struct ev_dispatch ev_dispatch_t;

/* Starts the dispatcher's thread; the config's strings are copied. */
int ev_dispatch_start(const ev_dispatch_config_t *cfg, ev_dispatch_t **out, castor_err *err);
/* Asks for routes to be re-read now (a route or endpoint changed in this process). Safe from
 * any thread, and on NULL. */
void ev_dispatch_poke(ev_dispatch_t *d);
/* Says that a write committed (its event is in the outbox): a dispatcher idle between polls
 * reads at once instead of at its next poll, so delivery latency is not the poll interval.
 * Cheap when the dispatcher is busy; safe from any thread, and on NULL. */
void ev_dispatch_wake(ev_dispatch_t *d);
/* Stops delivering: events in flight finish or time out, progress is saved, leases are given
 * up. Safe on NULL. */
void ev_dispatch_stop(ev_dispatch_t *d);

#endif
