/* store_events.h — event routes, their delivery state, and reading and trimming the outbox
 * (see store.h for the rules every accessor follows, schema_events.c for the tables).
 *
 * `instance` is the instance's GUID (dt_instances.id). Route ids are case-sensitive; endpoint
 * names compare case-insensitively, as ARM names do. Times are unix milliseconds. */
#ifndef CASTOR_STORE_EVENTS_H
#define CASTOR_STORE_EVENTS_H

#include "core/arena.h"
#include "store/store.h"

#include <stdint.h>

/* A route as stored. Strings are arena copies (store_route_get) or row memory (callbacks). */
typedef struct store_route {
    int64_t seq; /* rowid: the continuation of lists */
    const char *instance_id;
    const char *id;
    const char *endpoint_name;
    const char *filter;
    int64_t created;
    int64_t cursor;          /* every event with seq <= cursor is finished for this route */
    const char *lease_owner; /* "" when none */
    int64_t lease_until;
    int64_t delivered, failed, dead_lettered;
    const char *last_error; /* "" when none */
    int64_t last_error_time;
    int64_t failing;             /* sends failed in a row, as last saved */
    int64_t last_delivered_time; /* 0: never */
} store_route_t;

/* Adds the route (its cursor starts at the outbox's newest seq) or replaces its endpoint and
 * filter, keeping its delivery state. *created_out (may be NULL) is 1 when it was added. */
int store_route_put(store_txn_t *t, const char *instance, const char *id, const char *endpoint_name,
                    const char *filter, int64_t now_ms, int *created_out, castor_err *err);
/* CASTOR_ENOTFOUND (no message) when absent. */
int store_route_get(store_txn_t *t, const char *instance, const char *id, arena_t *arena,
                    store_route_t *out, castor_err *err);
/* Routes of one instance (or of all, instance NULL) with rowid > after, in rowid order, at most
 * limit (< 0: all); fn sees row memory and may stop the walk by returning non-zero. */
int store_route_each(store_txn_t *t, const char *instance, int64_t after, int64_t limit,
                     int (*fn)(const store_route_t *route, void *ctx), void *ctx, castor_err *err);
/* CASTOR_ENOTFOUND (no message) when absent. */
int store_route_delete(store_txn_t *t, const char *instance, const char *id, castor_err *err);
int store_route_count(store_txn_t *t, const char *instance, int *count_out, castor_err *err);
/* Routes of the instance that deliver to endpoint_name (an endpoint in use cannot go). */
int store_route_count_for_endpoint(store_txn_t *t, const char *instance, const char *endpoint_name,
                                   int *count_out, castor_err *err);

/* Takes or renews the route's delivery lease for owner until lease_until, when it is free,
 * expired (lease_until < now) or already owner's. *got is 1 when owner holds it now. */
int store_route_lease(store_txn_t *t, const char *instance, const char *id, const char *owner,
                      int64_t now_ms, int64_t lease_until, int *got, castor_err *err);
/* Frees every lease not held by owner (a process that alone uses the store, at start: whoever
 * held them is dead). */
int store_route_release_others(store_txn_t *t, const char *owner, castor_err *err);
/* Gives the lease up (at stop), so another process need not wait for it to run out. */
int store_route_release(store_txn_t *t, const char *instance, const char *id, const char *owner,
                        castor_err *err);

/* What a delivering process has done for a route since it last said. */
typedef struct store_route_progress {
    int64_t cursor;                           /* the new cursor (never moves back) */
    int64_t delivered, failed, dead_lettered; /* added to the counters */
    const char *last_error;                   /* NULL: unchanged */
    int64_t last_error_time;
    int64_t failing;             /* sends failed in a row now */
    int64_t last_delivered_time; /* 0: unchanged */
} store_route_progress_t;

/* Records progress while owner still holds the lease; *held (may be NULL) is 0 when it does not
 * any more (then nothing was written: another process redelivers from the stored cursor). */
int store_route_progress(store_txn_t *t, const char *instance, const char *id, const char *owner,
                         const store_route_progress_t *p, int *held, castor_err *err);

/* What the routes to one endpoint have done, summed (the endpoint's GET, `dt doctor`). */
typedef struct store_endpoint_stats {
    int routes;
    int64_t delivered, failed, dead_lettered;
    int64_t failing;             /* the most sends failed in a row on any of its routes */
    int64_t last_delivered_time; /* unix ms, 0: never */
    int64_t last_error_time;     /* unix ms, 0: never */
    const char *last_error;      /* arena copy, "" when none */
    int64_t lag;                 /* events of the instance not yet finished by its slowest route */
} store_endpoint_stats_t;

int store_endpoint_stats(store_txn_t *t, const char *instance, const char *endpoint_name,
                         arena_t *arena, store_endpoint_stats_t *out, castor_err *err);

/* ---- reading and trimming the outbox ---- */

typedef struct store_outbox_row {
    int64_t seq;
    const char *instance_id;
    const char *type;
    const char *subject;
    const char *event; /* CloudEvents JSON */
    int64_t created;   /* unix seconds */
} store_outbox_row_t;

/* Events of every instance after the cursor `after`, in commit order, at most limit; fn sees
 * row memory. *next_out is the cursor to continue from (after the last row handed out). No
 * event that commits later is ever ordered before *next_out. */
int store_outbox_next(store_txn_t *t, int64_t after, int limit,
                      int (*fn)(const store_outbox_row_t *row, void *ctx), void *ctx,
                      int64_t *next_out, castor_err *err);
/* The newest event's seq (0 when the outbox is empty). */
int store_outbox_last(store_txn_t *t, int64_t *seq_out, castor_err *err);
/* Deletes up to limit events created before created_before (unix seconds) that every route has
 * finished (all such events, when there are no routes), never the newest one; *deleted_out
 * gets how many. */
int store_outbox_trim(store_txn_t *t, int64_t created_before, int limit, int64_t *deleted_out,
                      castor_err *err);

#endif
