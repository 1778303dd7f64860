/* models_api.h — the data plane's Models API (ADT `/models`): handlers, the shared helpers
 * they use, and the hook the twins module fills.
 *
 * Every handler works on the instance the router found (req->instance, keyed lower-case in
 * the store) and answers in ADT's shapes (../shared/reference/adt-api.md §3); the messages
 * contain the phrases the official SDK tests look for. */
#ifndef CASTOR_TWINS_MODELS_API_H
#define CASTOR_TWINS_MODELS_API_H

#include "dtdl/dtdl.h"
#include "http/http.h"
#include "store/store.h"

/* POST /models: a batch of 1..250 interfaces, parsed against the batch and the stored models,
 * stored all or nothing. 201 with the ModelData of each, in request order. */
int models_add(http_request_t *req, http_response_t *resp, castor_err *err);
/* GET /models: paged ModelData (nextLink absolute), dependenciesFor, includeModelDefinition. */
int models_list(http_request_t *req, http_response_t *resp, castor_err *err);
/* GET /models/{id} */
int models_get(http_request_t *req, http_response_t *resp, castor_err *err);
/* PATCH /models/{id}: only [{"op":"replace","path":"/decommissioned","value":true}]. */
int models_update(http_request_t *req, http_response_t *resp, castor_err *err);
/* DELETE /models/{id}: refused (409) while other models or twins depend on it. */
int models_delete(http_request_t *req, http_response_t *resp, castor_err *err);

/* ---- hook for the twins module ----
 * How many twins of the instance use model_id (as $metadata.$model); DELETE /models/{id} is
 * refused while it is non-zero, as the issue asks (ADT itself lets twins go "model-less";
 * whoever lands twins decides and changes only this function). Fills up to `max` twin ids
 * into `names` (arena memory) for the message. Until twins exist it answers 0. */
int models_hook_twins_using(store_txn_t *t, const char *instance_key, const char *model_id,
                            arena_t *arena, const char **names, int max, int *count_out,
                            castor_err *err);

/* ---- shared by the models_*.c files ---- */

/* The store key of req's instance (lower-cased), in req->arena. */
const char *models_instance_key(http_request_t *req);
/* "2026-11-26T02:32:13.1234567Z", ADT's 7 fractional digits. */
void models_upload_time(char *buf, size_t size);
/* The language map ADT returns for a DTDL displayName/description: a string becomes
 * {"en": s}, an object is copied; anything else (or NULL) gives NULL. New reference. */
json_t *models_language_map(const json_t *v);
/* The ADT answer when a model id is unknown (404 ModelNotFound). */
int models_not_found(castor_err *err, const char *id);
/* ADT's ModelData for a stored model: {id, displayName?, description?, uploadTime,
 * decommissioned, model? (when include_model and m->model)}. New reference or NULL. */
struct store_model;
json_t *models_data_json(const struct store_model *m, int include_model);
/* Renders a failed parse as ADT's 400 with every error as a structured `details` entry
 * ({code: validationId, message, path, modelId, property}); returns 0 (resp is filled). */
int models_render_dtdl_errors(http_request_t *req, http_response_t *resp, const castor_err *err,
                              const dtdl_errors_t *errs);

#endif
