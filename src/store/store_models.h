/* store_models.h — the Models API's records: DTDL interfaces uploaded to an instance and the
 * references between them (see store.h for the rules every accessor follows).
 *
 * `instance` is always the data plane's instance name lower-cased by the caller
 * (store_models_instance_key); model ids are DTMIs, compared case-sensitively. A batch upload
 * is all-or-nothing because the caller inserts every model and edge in one write transaction. */
#ifndef CASTOR_STORE_MODELS_H
#define CASTOR_STORE_MODELS_H

#include "store/store.h"

#include <stddef.h>

/* One stored model. Strings point into the row and live only during the callback. */
typedef struct store_model {
    int64_t seq;              /* upload order, unique per store; the list's continuation */
    const char *id;           /* DTMI */
    const char *model;        /* the interface JSON as uploaded (NULL unless asked for) */
    const char *display_name; /* JSON language map, or NULL */
    const char *description;  /* JSON language map, or NULL */
    const char *upload_time;  /* "2026-11-26T02:32:13.1234567Z" */
    int decommissioned;
} store_model_t;

typedef int (*store_model_fn)(const store_model_t *m, void *ctx);

/* Edge kinds; DELETE is refused while an extends/component/ref edge points at a model. */
#define STORE_MODEL_REF_EXTENDS "extends"
#define STORE_MODEL_REF_COMPONENT "component"
#define STORE_MODEL_REF_TARGET "target"
#define STORE_MODEL_REF_OTHER "ref"

/* Lower-cases name into out (size >= STORE_NAME_MAX); the key every accessor takes. */
void store_models_instance_key(const char *name, char *out, size_t size);

/* CASTOR_ECONFLICT when (instance, id) exists. m->model must be set; seq is ignored. */
int store_model_insert(store_txn_t *t, const char *instance, const store_model_t *m,
                       castor_err *err);
int store_model_ref_insert(store_txn_t *t, const char *instance, const char *model_id,
                           const char *ref_id, const char *kind, castor_err *err);

/* Calls fn once; CASTOR_ENOTFOUND (no message) when absent. with_model loads the JSON. */
int store_model_get(store_txn_t *t, const char *instance, const char *id, int with_model,
                    store_model_fn fn, void *ctx, castor_err *err);
/* 1 when the model exists, 0 when not, negative on error. */
int store_model_exists(store_txn_t *t, const char *instance, const char *id, castor_err *err);

/* Models with seq > after_seq in upload order, at most limit (< 0: all); fn returning
 * non-zero stops the walk early. */
int store_model_list(store_txn_t *t, const char *instance, int64_t after_seq, int64_t limit,
                     int with_model, store_model_fn fn, void *ctx, castor_err *err);
int store_model_count(store_txn_t *t, const char *instance, int64_t *out, castor_err *err);

/* CASTOR_ENOTFOUND when absent. */
int store_model_set_decommissioned(store_txn_t *t, const char *instance, const char *id, int value,
                                   castor_err *err);

/* Deletes the model and the edges going out of it; CASTOR_ENOTFOUND when absent. */
int store_model_delete(store_txn_t *t, const char *instance, const char *id, castor_err *err);

/* Deletes every model and edge of the instance (the resource manager's instance delete). */
int store_models_delete_instance(store_txn_t *t, const char *instance, castor_err *err);

/* Calls fn(model_id, kind, ctx) for each stored edge pointing AT ref_id (its dependents),
 * in model-id order. */
int store_model_dependents(store_txn_t *t, const char *instance, const char *ref_id,
                           int (*fn)(const char *model_id, const char *kind, void *ctx), void *ctx,
                           castor_err *err);
/* Calls fn(ref_id, kind, ctx) for each edge going out of model_id. */
int store_model_refs(store_txn_t *t, const char *instance, const char *model_id,
                     int (*fn)(const char *ref_id, const char *kind, void *ctx), void *ctx,
                     castor_err *err);

#endif
