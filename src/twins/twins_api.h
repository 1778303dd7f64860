/* twins_api.h — the data plane's twin graph: digital twins, relationships, components and
 * telemetry (ADT `/digitaltwins/...`), and the helpers their handlers share.
 *
 * Every write is one store write transaction that reads the current state, checks the
 * request's precondition (If-Match / If-None-Match) against it, validates the result against
 * the instance's compiled models (models_cache.h), writes the row with a fresh ETag and the
 * ADT notification to the outbox, then commits: write transactions are serialized by the
 * store, so concurrent writers to one twin apply one after another and a precondition is
 * checked against exactly the state it replaces. A failure rolls everything back. Shapes and
 * messages follow ../shared/reference/adt-api.md §4 and the live ADT responses recorded by the
 * official SDK's tests. */
#ifndef CASTOR_TWINS_API_H
#define CASTOR_TWINS_API_H

#include "dtdl/dtdl.h"
#include "http/http.h"
#include "store/store.h"

/* ---- handlers (twins_routes.c) ---- */
int twins_get(http_request_t *req, http_response_t *resp, castor_err *err);
int twins_put(http_request_t *req, http_response_t *resp, castor_err *err);
int twins_patch(http_request_t *req, http_response_t *resp, castor_err *err);
int twins_delete(http_request_t *req, http_response_t *resp, castor_err *err);
int twins_component_get(http_request_t *req, http_response_t *resp, castor_err *err);
int twins_component_patch(http_request_t *req, http_response_t *resp, castor_err *err);
int twins_rel_get(http_request_t *req, http_response_t *resp, castor_err *err);
int twins_rel_put(http_request_t *req, http_response_t *resp, castor_err *err);
int twins_rel_patch(http_request_t *req, http_response_t *resp, castor_err *err);
int twins_rel_delete(http_request_t *req, http_response_t *resp, castor_err *err);
int twins_rel_list(http_request_t *req, http_response_t *resp, castor_err *err);
int twins_rel_list_incoming(http_request_t *req, http_response_t *resp, castor_err *err);
int twins_telemetry(http_request_t *req, http_response_t *resp, castor_err *err);
int twins_component_telemetry(http_request_t *req, http_response_t *resp, castor_err *err);

/* Twin and relationship ids: non-empty, at most this many bytes (castor's cap; ADT documents
 * none, and an id is a path segment). */
#define TWINS_ID_MAX 1024u
/* Relationships per page of a list (the SDK follows nextLink; max-items-per-page may lower it). */
#define TWINS_REL_PAGE_MAX 1000u

/* ---- shared by the twins_*.c files ---- */

/* What a twins handler works with. graph may be NULL when the instance has no models. */
typedef struct twins_ctx {
    http_request_t *req;
    store_t *store;
    const char *instance;     /* instance GUID (req->instance_id) */
    const char *instance_key; /* lower-cased instance name (the models module's key) */
    struct models_graph *graph;
    struct models_cache *cache;
} twins_ctx_t;

/* Fills ctx from req (and takes a graph reference when with_graph); release with twins_done. */
int twins_begin(http_request_t *req, twins_ctx_t *ctx, int with_graph, castor_err *err);
void twins_done(twins_ctx_t *ctx);
/* The interface named model_id in ctx's graph, or NULL. */
const dtdl_interface_t *twins_iface(const twins_ctx_t *ctx, const char *model_id);

/* A route parameter that must be an id (twin, relationship): 400 InvalidArgument otherwise. */
int twins_param_id(http_request_t *req, const char *name, const char **out, castor_err *err);

/* Preconditions. A request's If-Match: absent (NULL), "*" or an ETag; malformed -> 400. */
typedef struct twins_cond {
    const char *if_match;  /* NULL, "*", or the etag as sent */
    int if_none_match_any; /* If-None-Match: * */
} twins_cond_t;
int twins_conditions(http_request_t *req, twins_cond_t *cond, castor_err *err);
/* 0 when the stored etag satisfies If-Match (or there is none), else 412 PreconditionFailed. */
int twins_check_if_match(const twins_cond_t *cond, const char *etag, castor_err *err);

/* W/"<guid>" into out (>= 48 bytes). */
void twins_new_etag(char *out, size_t size);
/* ADT's time form with 7 fractional digits, into out (>= 32 bytes). */
void twins_now(char *out, size_t size);

/* The ADT errors more than one file answers. */
int twins_err_twin_not_found(castor_err *err, const char *id);
int twins_err_rel_not_found(castor_err *err, const char *source, const char *id);
int twins_err_component_not_found(castor_err *err, const char *twin, const char *component);
int twins_err_patch(castor_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends an ADT notification (CloudEvents) for this request to the outbox, in t.
 * id NULL: a new GUID. dataschema, extra_name may be NULL. data is not consumed. */
int twins_emit(twins_ctx_t *ctx, store_txn_t *t, const char *type, const char *subject,
               const char *source, const char *id, const char *dataschema, const json_t *data,
               const char *extra_name, const char *extra_value, castor_err *err);
/* The same notification as JSON text (caller frees; NULL with err filled), so that a handler
 * can build it before taking the write lock and only append it inside. */
char *twins_event_text(twins_ctx_t *ctx, const char *type, const char *subject, const char *source,
                       const char *id, const char *dataschema, const json_t *data,
                       const char *extra_name, const char *extra_value, castor_err *err);
/* The same with data already serialized as JSON text (a document just written, so it is not
 * serialized twice). Caller frees. */
char *twins_event_text_raw(twins_ctx_t *ctx, const char *type, const char *subject,
                           const char *source, const char *id, const char *dataschema,
                           const char *data_text, const char *extra_name, const char *extra_value,
                           castor_err *err);
/* twins_emit of a request's own event (new id, default source) with data as JSON text. */
int twins_emit_raw(twins_ctx_t *ctx, store_txn_t *t, const char *type, const char *subject,
                   const char *data_text, castor_err *err);
/* The instance's host name as events name it ("localhost:8443/dt/name"). */
const char *twins_host(twins_ctx_t *ctx);

/* Ends a write transaction: commits when rc is 0, else rolls back (t may be NULL). Returns the
 * commit's result or rc. When the listener can defer the answer, a commit returns before the
 * write is on disk and the request's answer waits for it (http_deferred_t); the handler then
 * answers as if durable, and an error replaces its answer if the write is not. */
int twins_end(twins_ctx_t *ctx, store_txn_t *t, int rc, castor_err *err);
/* Answers 200 with stored JSON text (copied into the arena) and its ETag. */
void twins_respond_text(http_request_t *req, http_response_t *resp, const char *text,
                        const char *etag);
/* Answers 200 with body and its ETag header. */
int twins_respond_json(http_request_t *req, http_response_t *resp, const json_t *body,
                       const char *etag, castor_err *err);

/* ---- documents (twins_doc.c) ---- */

/* Builds the stored twin document from a PUT body: $dtId = id, $etag = etag, the body's
 * properties and components, and $metadata stamped with now (sourceTime kept from the body).
 * Then validates it against iface (which may be NULL: the model is unknown). New reference, or
 * NULL with err filled (400 ValidationFailed / InvalidArgument, with the JSON path). */
json_t *twins_doc_from_body(const twins_ctx_t *ctx, const json_t *body, const char *id,
                            const char *etag, const char *now, castor_err *err);
/* Validates a stored-form twin (or component, when is_root = 0) against iface. */
int twins_doc_validate(const twins_ctx_t *ctx, const dtdl_interface_t *iface, const json_t *doc,
                       const char *path, int is_root, castor_err *err);
/* Applies an ADT JSON Patch to a stored twin document in place, updating metadata times.
 * prefix (may be NULL) names the component a component PATCH applies under; applied receives
 * the operations with their full paths, for the event. Validation against the model is the
 * caller's (the model may change within the patch). */
int twins_doc_patch(const twins_ctx_t *ctx, json_t *doc, const json_t *patch, const char *prefix,
                    const char *now, json_t *applied, castor_err *err);
/* Applies a JSON Patch to a relationship document (properties only). */
int twins_rel_doc_patch(json_t *doc, const json_t *patch, castor_err *err);
/* Checks a relationship's properties against the DTDL relationship. */
int twins_rel_validate_props(const dtdl_content_t *rel, const json_t *doc, castor_err *err);
/* 1 when s is an ISO 8601 / RFC 3339 date-time with a zone (sourceTime, Telemetry-Source-Time). */
int twins_is_datetime(const char *s);
/* A deep copy of v without any $metadata member (new reference). */
json_t *twins_doc_strip_metadata(const json_t *v);
/* Serialized size of doc without any $metadata: what ADT's 32 KB twin limit measures. */
size_t twins_doc_value_size(const json_t *doc);

#endif
