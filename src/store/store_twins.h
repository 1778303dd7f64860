/* store_twins.h — the twin graph's records: digital twins, relationships and the event outbox
 * (see store.h for the rules every accessor follows, schema_twins.c for the tables).
 *
 * `instance` is always the instance's GUID (dt_instances.id, req->instance_id on the data
 * plane). Ids are case-sensitive. Documents are stored as the JSON text GET returns; the caller
 * builds them. Every write the data plane makes goes through one write transaction together
 * with its outbox row, so an event exists exactly when its change committed. */
#ifndef CASTOR_STORE_TWINS_H
#define CASTOR_STORE_TWINS_H

#include "core/arena.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

/* A twin as stored. Strings are arena copies (store_twin_get) or row memory (callbacks). */
typedef struct store_twin {
    const char *id;
    const char *model_id;
    const char *etag;
    const char *doc;
} store_twin_t;

typedef struct store_rel {
    int64_t seq; /* rowid: the continuation of lists */
    const char *source_id;
    const char *id;
    const char *target_id;
    const char *name;
    const char *etag;
    const char *doc;
} store_rel_t;

/* CASTOR_ENOTFOUND (no message) when absent; fields copied into arena. */
int store_twin_get(store_txn_t *t, const char *instance, const char *id, arena_t *arena,
                   store_twin_t *out, castor_err *err);
/* Inserts or replaces the twin (by instance and id). */
int store_twin_put(store_txn_t *t, const char *instance, const store_twin_t *twin, castor_err *err);
/* Replaces the twin only while its stored ETag is still expect_etag: a compare-and-swap that
 * needs no read of the stored document. CASTOR_ECONFLICT (no message) when the twin is gone or
 * its ETag differs, and then nothing was written. A NULL twin->model_id keeps the stored model. */
int store_twin_replace_if(store_txn_t *t, const char *instance, const store_twin_t *twin,
                          const char *expect_etag, castor_err *err);
/* CASTOR_ENOTFOUND (no message) when absent. */
int store_twin_delete(store_txn_t *t, const char *instance, const char *id, castor_err *err);
/* Twins of the instance whose model is model_id: the count, and up to max ids into names
 * (arena copies). instance_key is the instance NAME lower-cased (the models module's key). */
int store_twins_using_model(store_txn_t *t, const char *instance_key, const char *model_id,
                            arena_t *arena, const char **names, int max, int *count_out,
                            castor_err *err);
/* Every twin of the instance, in rowid order (tests and reload checks). */
int store_twin_each(store_txn_t *t, const char *instance,
                    int (*fn)(const store_twin_t *twin, void *ctx), void *ctx, castor_err *err);
int store_twin_count(store_txn_t *t, const char *instance, int64_t *out, castor_err *err);

/* CASTOR_ENOTFOUND (no message) when absent; fields copied into arena. */
int store_rel_get(store_txn_t *t, const char *instance, const char *source_id, const char *id,
                  arena_t *arena, store_rel_t *out, castor_err *err);
/* Inserts or replaces (by instance, source and id). */
int store_rel_put(store_txn_t *t, const char *instance, const store_rel_t *rel, castor_err *err);
int store_rel_delete(store_txn_t *t, const char *instance, const char *source_id, const char *id,
                     castor_err *err);
/* Outgoing relationships of source_id (name NULL: any name), excluding one id (NULL: none):
 * how many there are, for multiplicity and per-twin limits. */
int store_rel_count_out(store_txn_t *t, const char *instance, const char *source_id,
                        const char *name, const char *except_id, int64_t *out, castor_err *err);
int store_rel_count_in(store_txn_t *t, const char *instance, const char *target_id, int64_t *out,
                       castor_err *err);
/* 1 when the twin has any relationship, outgoing or incoming, else 0. */
int store_twin_has_rels(store_txn_t *t, const char *instance, const char *twin_id, int *out,
                        castor_err *err);
/* Outgoing (incoming = 0, filtered by name unless NULL) or incoming (incoming = 1) relationships
 * with rowid > after, in rowid order, at most limit; fn sees row memory. */
int store_rel_list(store_txn_t *t, const char *instance, const char *twin_id, int incoming,
                   const char *name, int64_t after, int64_t limit,
                   int (*fn)(const store_rel_t *rel, void *ctx), void *ctx, castor_err *err);

/* ---- telemetry de-duplication ---- */

/* Records that the telemetry message message_id of twin_id was accepted at now (seconds). *fresh
 * is 1 when it is new, or its earlier sighting is older than window seconds; 0 when it is a
 * duplicate (nothing changes then). Prunes a few sightings older than the window on the way. */
int store_telemetry_seen(store_txn_t *t, const char *instance, const char *twin_id,
                         const char *message_id, int64_t now, int64_t window, int *fresh,
                         castor_err *err);

/* ---- the outbox ---- */
typedef struct store_event {
    int64_t seq;
    const char *type;
    const char *subject;
    const char *event; /* CloudEvents JSON */
} store_event_t;

int store_outbox_add(store_txn_t *t, const char *instance, const char *type, const char *subject,
                     const char *event, castor_err *err);
/* Events of the instance with seq > after, in order. */
int store_outbox_each(store_txn_t *t, const char *instance, int64_t after,
                      int (*fn)(const store_event_t *ev, void *ctx), void *ctx, castor_err *err);

#endif
