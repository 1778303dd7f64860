/* store_endpoints.h — event endpoints: the ARM sub-resources of a Digital Twins instance that
 * event routes deliver to (see store.h for the rules every accessor follows). The resource
 * manager (src/arm/arm_endpoints.c) writes them; the event dispatcher reads them. Names compare
 * case-insensitively, as ARM's do; records keep the case they were created with. Deleting an
 * instance deletes its endpoints (ON DELETE CASCADE). */
#ifndef CASTOR_STORE_ENDPOINTS_H
#define CASTOR_STORE_ENDPOINTS_H

#include "store/store.h"

typedef struct store_endpoint {
    char instance_id[STORE_ID_MAX]; /* dt_instances.id */
    char name[64];                  /* as created; compared case-insensitively */
    char type[16];                  /* "EventGrid" | "webhook" | "mqtt" */
    char state[32];                 /* provisioningState */
    int64_t created;                /* unix ms */
    char *properties; /* owned: the ARM `properties` JSON object as GET shows it, no secrets */
    char *secrets;    /* owned: JSON object of the secret fields, "{}" when none */
    char created_by[STORE_NAME_MAX]; /* ARM's systemData: the caller's name ("" unknown) */
    int64_t updated;                 /* unix ms of the last put (created, at first) */
    char updated_by[STORE_NAME_MAX];
} store_endpoint_t;

/* Frees properties and secrets (safe on a zeroed record, and twice). */
void store_endpoint_clear(store_endpoint_t *ep);
/* Inserts, or replaces the endpoint with that (instance, name), keeping its first name
 * spelling, created and created_by. A NULL properties or secrets is stored as "{}"; an updated
 * of 0 is taken as created. */
int store_endpoint_put(store_txn_t *t, const store_endpoint_t *ep, castor_err *err);
/* Fills *out (the caller clears it with store_endpoint_clear, also on failure);
 * CASTOR_ENOTFOUND when the instance has no endpoint of that name. */
int store_endpoint_get(store_txn_t *t, const char *instance_id, const char *name,
                       store_endpoint_t *out, castor_err *err);
/* Calls fn for each endpoint of one instance, or of all instances when instance_id is NULL, by
 * name (then instance). fn's record is only valid during the call; fn returning non-zero stops
 * the walk (not an error). */
int store_endpoint_each(store_txn_t *t, const char *instance_id,
                        int (*fn)(const store_endpoint_t *ep, void *ctx), void *ctx,
                        castor_err *err);
/* How many endpoints the instance has (ADT allows 6). */
int store_endpoint_count(store_txn_t *t, const char *instance_id, int *count_out, castor_err *err);
/* CASTOR_ENOTFOUND when the instance has no endpoint of that name. */
int store_endpoint_delete(store_txn_t *t, const char *instance_id, const char *name,
                          castor_err *err);

#endif
