/* twins_twin.c — digital twins and their components: PUT (create or replace, If-None-Match),
 * GET, PATCH (JSON Patch, If-Match), DELETE (If-Match; refused while relationships exist),
 * GET/PATCH of a component. Each write is one transaction with its outbox event. */
#include "twins/twins_api.h"

#include "core/json.h"
#include "core/limits.h"
#include "store/store_models.h"
#include "store/store_twins.h"

#include <stdlib.h>
#include <string.h>

typedef struct model_state {
    int found;
    int decommissioned;
} model_state_t;

static int model_state_row(const store_model_t *m, void *ctx)
{
    model_state_t *s = ctx;
    s->found = 1;
    s->decommissioned = m->decommissioned;
    return 0;
}

/* 400 ModelDecommissioned when the model may not get new twins, ValidationFailed when it is
 * gone (deleted after the graph was read). */
static int check_model_usable(twins_ctx_t *ctx, store_txn_t *t, const char *model, castor_err *err)
{
    model_state_t s = {0, 0};
    int rc = store_model_get(t, ctx->instance_key, model, 0, model_state_row, &s, err);
    if (rc < 0 && rc != CASTOR_ENOTFOUND) return rc;
    if (!s.found)
        return castor_err_http(err, CASTOR_EINVAL, 400, "ValidationFailed",
                               "$.$metadata.$model: the model %s does not exist in this instance. "
                               "Upload it first (POST /models), or check the DTMI.",
                               model);
    if (s.decommissioned)
        return castor_err_http(err, CASTOR_EINVAL, 400, "ModelDecommissioned",
                               "The model %s is decommissioned: no new digital twins can be "
                               "created from it. Use a newer version of the model.",
                               model);
    return CASTOR_OK;
}

static json_t *parse_doc(const char *text, castor_err *err)
{
    json_t *doc = json_read(text, strlen(text));
    if (!doc) castor_err_set(err, CASTOR_EINTERNAL, "a stored twin is not valid JSON");
    return doc;
}

/* ADT's 32 KB cap on one twin, measured on its values (metadata is the service's). */
static int check_twin_size(const json_t *doc, size_t text_len, castor_err *err)
{
    if (text_len <= CASTOR_TWIN_SIZE_MAX) return CASTOR_OK;
    size_t n = twins_doc_value_size(doc);
    if (n <= CASTOR_TWIN_SIZE_MAX) return CASTOR_OK;
    return castor_err_http(err, CASTOR_ELIMIT, 413, "TwinSizeLimitExceeded",
                           "The digital twin would be %zu bytes; a twin may be at most %u bytes "
                           "(ADT's limit). Remove or shorten properties.",
                           n, CASTOR_TWIN_SIZE_MAX);
}

/* The JSON Patch that turns old into new at the top level, for a replace's update event. */
static json_t *diff_patch(const json_t *old, const json_t *neu)
{
    json_t *p = json_array();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)neu, k, v)
    {
        if (k[0] == '$') continue;
        json_t *o = json_object_get(old, k);
        if (o && json_is_object(o) && json_is_object(v)) { /* a component: ignore its times */
            json_t *a = twins_doc_strip_metadata(o), *b = twins_doc_strip_metadata(v);
            int same = json_equal(a, b);
            json_decref(a);
            json_decref(b);
            if (same) continue;
        }
        if (o && json_equal(o, v)) continue;
        json_array_append_new(p, json_pack("{s:s, s:s+, s:O}", "op", o ? "replace" : "add", "path",
                                           "/", k, "value", v));
    }
    json_object_foreach((json_t *)old, k, v)
    {
        if (k[0] == '$' || json_object_get(neu, k)) continue;
        json_array_append_new(p, json_pack("{s:s, s:s+}", "op", "remove", "path", "/", k));
    }
    const json_t *om = json_object_get(json_object_get(old, "$metadata"), "$model");
    const json_t *nm = json_object_get(json_object_get(neu, "$metadata"), "$model");
    if (!json_equal(om, nm))
        json_array_append_new(p, json_pack("{s:s, s:s, s:O}", "op", "replace", "path",
                                           "/$metadata/$model", "value", nm));
    return p;
}

int twins_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *id;
    twins_ctx_t ctx;
    int rc = twins_param_id(req, "id", &id, err);
    if (rc == 0) rc = twins_begin(req, &ctx, 0, err);
    if (rc < 0) return rc;
    store_txn_t *t = NULL;
    store_twin_t tw;
    rc = store_begin(ctx.store, STORE_READ, &t, err);
    if (rc == 0) rc = store_twin_get(t, ctx.instance, id, &req->arena, &tw, err);
    store_rollback(t);
    if (rc == CASTOR_ENOTFOUND) return twins_err_twin_not_found(err, id);
    if (rc < 0) return rc;
    /* The stored text is the answer: no parse and re-dump on the read path. */
    twins_respond_text(req, resp, tw.doc, tw.etag);
    return CASTOR_OK;
}

/* What PUT and PATCH of a twin start with: the id, the preconditions, the context with the
 * model graph, a fresh ETag (>= 64 bytes) and the time of the write (>= 40 bytes). */
static int write_begin(http_request_t *req, const char **id, twins_cond_t *cond, twins_ctx_t *ctx,
                       char *etag, char *now, castor_err *err)
{
    int rc = twins_param_id(req, "id", id, err);
    if (rc == 0) rc = twins_conditions(req, cond, err);
    if (rc == 0) rc = twins_begin(req, ctx, 1, err);
    if (rc < 0) return rc;
    twins_new_etag(etag, 64);
    twins_now(now, 40);
    return CASTOR_OK;
}

int twins_put(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *id;
    twins_cond_t cond;
    twins_ctx_t ctx;
    char etag[64], now[40];
    int rc = write_begin(req, &id, &cond, &ctx, etag, now, err);
    if (rc < 0) return rc;
    json_t *doc = twins_doc_from_body(&ctx, req->json, id, etag, now, err);
    char *text = doc ? json_dump_compact(doc) : NULL;
    if (!doc)
        rc = CASTOR_EINVAL;
    else if (!text)
        rc = castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    if (rc == 0) rc = check_twin_size(doc, strlen(text), err);
    const char *model =
        json_string_value(json_object_get(json_object_get(doc, "$metadata"), "$model"));
    store_txn_t *t = NULL;
    store_twin_t old = {0};
    int exists = 0;
    if (rc == 0) rc = store_begin(ctx.store, STORE_WRITE, &t, err);
    if (rc == 0) {
        rc = store_twin_get(t, ctx.instance, id, &req->arena, &old, err);
        exists = rc == 0;
        if (rc == CASTOR_ENOTFOUND) rc = 0;
    }
    if (rc == 0 && exists && cond.if_none_match_any)
        rc = castor_err_http(err, CASTOR_EPRECOND, 412, "PreconditionFailed",
                             "A digital twin with the ID %s already exists, and If-None-Match: * "
                             "asks to create it only if it does not.",
                             id);
    if (rc == 0 && exists) rc = twins_check_if_match(&cond, old.etag, err);
    if (rc == 0 && !exists && cond.if_match && strcmp(cond.if_match, "*") == 0)
        rc = twins_err_twin_not_found(err, id);
    if (rc == 0 && (!exists || strcmp(old.model_id, model) != 0))
        rc = check_model_usable(&ctx, t, model, err);
    if (rc == 0) {
        store_twin_t tw = {id, model, etag, text};
        rc = store_twin_put(t, ctx.instance, &tw, err);
    }
    if (rc == 0) {
        if (!exists) {
            /* The event's data is the twin as stored: its text, not a second dump. */
            rc = twins_emit_raw(&ctx, t, "Microsoft.DigitalTwins.Twin.Create", id, text, err);
        } else {
            json_t *olddoc = parse_doc(old.doc, err);
            json_t *data =
                olddoc ? json_pack("{s:s, s:o}", "modelId", model, "patch", diff_patch(olddoc, doc))
                       : NULL;
            rc = data ? twins_emit(&ctx, t, "Microsoft.DigitalTwins.Twin.Update", id, NULL, NULL,
                                   NULL, data, NULL, NULL, err)
                      : CASTOR_EINTERNAL;
            json_decref(data);
            json_decref(olddoc);
        }
    }
    rc = twins_end(&ctx, t, rc, err);
    if (rc == 0) twins_respond_text(req, resp, text, etag);
    free(text);
    json_decref(doc);
    twins_done(&ctx);
    return rc;
}

/* What a PATCH computes from the state it read: the new stored text, its model, and the event. */
typedef struct patched {
    const char *model; /* arena */
    char *text;        /* caller frees */
    char *event;       /* caller frees */
} patched_t;

static void patched_free(patched_t *p)
{
    free(p->text);
    free(p->event);
    memset(p, 0, sizeof *p);
}

/* A patch_compute result: the patch changes the twin's model, which only a write transaction
 * can check (t NULL). */
#define PATCH_NEEDS_LOCK 1

/* The JSON work of a PATCH, against one read state `old`: checks the component and If-Match,
 * applies the patch, validates against the (possibly new) model, serializes, checks the size and
 * builds the update event. t is NULL outside any transaction (then a model change answers
 * PATCH_NEEDS_LOCK), else the write transaction, which checks that a new model may get twins. */
static int patch_compute(twins_ctx_t *ctx, store_txn_t *t, const char *id, const char *component,
                         const twins_cond_t *cond, const store_twin_t *old, const char *etag,
                         const char *now, patched_t *out, castor_err *err)
{
    int rc = CASTOR_OK;
    memset(out, 0, sizeof *out);
    if (component) {
        const dtdl_interface_t *iface = twins_iface(ctx, old->model_id);
        const dtdl_content_t *c = iface ? dtdl_interface_content(iface, component) : NULL;
        if (!c || c->kind != DTDL_CONTENT_COMPONENT)
            return twins_err_component_not_found(err, id, component);
    }
    rc = twins_check_if_match(cond, old->etag, err);
    if (rc < 0) return rc;
    json_t *doc = parse_doc(old->doc, err), *applied = json_array();
    if (!doc) rc = CASTOR_EINTERNAL;
    if (rc == 0) rc = twins_doc_patch(ctx, doc, ctx->req->json, component, now, applied, err);
    const char *model =
        doc ? json_string_value(json_object_get(json_object_get(doc, "$metadata"), "$model"))
            : NULL;
    if (rc == 0 && strcmp(model, old->model_id) != 0)
        rc = t ? check_model_usable(ctx, t, model, err) : PATCH_NEEDS_LOCK;
    if (rc == 0) {
        const dtdl_interface_t *iface = twins_iface(ctx, model);
        rc = iface ? twins_doc_validate(ctx, iface, doc, "$", 1, err)
                   : castor_err_http(err, CASTOR_EINVAL, 400, "ValidationFailed",
                                     "$.$metadata.$model: the model %s does not exist in this "
                                     "instance.",
                                     model);
    }
    if (rc == 0) {
        out->model = arena_strdup(&ctx->req->arena, model);
        json_object_set_new(doc, "$etag", json_string(etag));
        out->text = json_dump_compact(doc);
        rc = out->text && out->model ? check_twin_size(doc, strlen(out->text), err)
                                     : castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    }
    if (rc == 0) {
        json_t *data = json_pack("{s:s, s:O}", "modelId", model, "patch", applied);
        out->event = twins_event_text(ctx, "Microsoft.DigitalTwins.Twin.Update", id, NULL, NULL,
                                      NULL, data, NULL, NULL, err);
        json_decref(data);
        if (!out->event) rc = CASTOR_ENOMEM;
    }
    json_decref(doc);
    json_decref(applied);
    if (rc != 0) patched_free(out);
    return rc;
}

/* Optimistic attempts before a PATCH does its JSON work inside the write lock, which always
 * succeeds: a twin patched this hard by others still makes progress. */
#define PATCH_OPTIMISTIC_TRIES 8

/* Writes a computed patch in t: the twin with its new ETag, and its event. */
static int patch_write(twins_ctx_t *ctx, store_txn_t *t, const char *id, const char *etag,
                       const patched_t *p, castor_err *err)
{
    store_twin_t tw = {id, p->model, etag, p->text};
    int rc = store_twin_put(t, ctx->instance, &tw, err);
    if (rc == 0)
        rc = store_outbox_add(t, ctx->instance, "Microsoft.DigitalTwins.Twin.Update", id, p->event,
                              err);
    return rc;
}

/* PATCH of the twin (component NULL) or of one component.
 *
 * The JSON work (parse, apply, validate, serialize, event) is most of a PATCH's cost, and write
 * transactions are serialized: done inside the lock it caps PATCH throughput at one core. So a
 * PATCH reads the twin (STORE_LATEST: the writer's warm cache, which also sees writes not yet
 * committed, so a PATCH follows the one before it), computes the result outside any lock, then
 * in the write transaction replaces the twin only if its ETag is still the one it computed from
 * (an UPDATE ... WHERE etag = ?, no re-read of the document); when another write got there
 * first nothing was written and it starts again. A result is therefore always computed from
 * exactly the state it replaces, as if done under the lock. A model change (which
 * needs the store to check that the model may get twins) and a twin still contended after
 * PATCH_OPTIMISTIC_TRIES are done wholly inside the write transaction. */
static int patch_twin(http_request_t *req, http_response_t *resp, const char *component,
                      castor_err *err)
{
    const char *id;
    twins_cond_t cond;
    twins_ctx_t ctx;
    char etag[64], now[40];
    int rc = write_begin(req, &id, &cond, &ctx, etag, now, err);
    if (rc < 0) return rc;
    patched_t p = {0};
    int done = 0;
    for (int attempt = 0; rc == 0 && !done && attempt < PATCH_OPTIMISTIC_TRIES; attempt++) {
        store_txn_t *t = NULL;
        store_twin_t old;
        rc = store_begin(ctx.store, STORE_LATEST, &t, err);
        if (rc == 0) rc = store_twin_get(t, ctx.instance, id, &req->arena, &old, err);
        store_rollback(t);
        t = NULL;
        if (rc == CASTOR_ENOTFOUND) rc = twins_err_twin_not_found(err, id);
        if (rc == 0) rc = patch_compute(&ctx, NULL, id, component, &cond, &old, etag, now, &p, err);
        if (rc == PATCH_NEEDS_LOCK) rc = 0;
        if (rc < 0 || !p.text) break;
        /* The write replaces the twin only if its ETag is still the one computed from; when
         * it is not (changed or deleted since), nothing was written and the loop starts again. */
        rc = store_begin(ctx.store, STORE_WRITE, &t, err);
        if (rc == 0) {
            store_twin_t tw = {id, strcmp(p.model, old.model_id) ? p.model : NULL, etag, p.text};
            rc = store_twin_replace_if(t, ctx.instance, &tw, old.etag, err);
        }
        if (rc == 0) {
            rc = store_outbox_add(t, ctx.instance, "Microsoft.DigitalTwins.Twin.Update", id,
                                  p.event, err);
            done = 1;
            rc = twins_end(&ctx, t, rc, err);
        } else {
            store_rollback(t);
            if (rc == CASTOR_ECONFLICT) rc = 0;
        }
        patched_free(&p);
    }
    if (rc == 0 && !done) {
        store_txn_t *t = NULL;
        store_twin_t old;
        rc = store_begin(ctx.store, STORE_WRITE, &t, err);
        if (rc == 0) {
            rc = store_twin_get(t, ctx.instance, id, &req->arena, &old, err);
            if (rc == CASTOR_ENOTFOUND) rc = twins_err_twin_not_found(err, id);
        }
        if (rc == 0) rc = patch_compute(&ctx, t, id, component, &cond, &old, etag, now, &p, err);
        if (rc == 0) rc = patch_write(&ctx, t, id, etag, &p, err);
        rc = twins_end(&ctx, t, rc, err);
        patched_free(&p);
    }
    twins_done(&ctx);
    if (rc < 0) return rc;
    resp->status = 204;
    http_response_header(req, resp, "ETag", etag);
    return CASTOR_OK;
}

int twins_patch(http_request_t *req, http_response_t *resp, castor_err *err)
{
    return patch_twin(req, resp, NULL, err);
}

int twins_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *id;
    twins_cond_t cond;
    twins_ctx_t ctx;
    int rc = twins_param_id(req, "id", &id, err);
    if (rc == 0) rc = twins_conditions(req, &cond, err);
    if (rc == 0) rc = twins_begin(req, &ctx, 0, err);
    if (rc < 0) return rc;
    store_txn_t *t = NULL;
    store_twin_t old;
    int has = 0;
    rc = store_begin(ctx.store, STORE_WRITE, &t, err);
    if (rc == 0) {
        rc = store_twin_get(t, ctx.instance, id, &req->arena, &old, err);
        if (rc == CASTOR_ENOTFOUND) rc = twins_err_twin_not_found(err, id);
    }
    if (rc == 0) rc = twins_check_if_match(&cond, old.etag, err);
    if (rc == 0) rc = store_twin_has_rels(t, ctx.instance, id, &has, err);
    if (rc == 0 && has)
        rc = castor_err_http(err, CASTOR_ECONFLICT, 400, "RelationshipsNotDeleted",
                             "The digital twin %s still has relationships (outgoing or incoming). "
                             "Delete all of them before deleting the twin: list them with GET "
                             "/digitaltwins/%s/relationships and /incomingrelationships.",
                             id, id);
    if (rc == 0) rc = store_twin_delete(t, ctx.instance, id, err);
    if (rc == 0) {
        json_t *doc = parse_doc(old.doc, err);
        rc = doc ? twins_emit(&ctx, t, "Microsoft.DigitalTwins.Twin.Delete", id, NULL, NULL, NULL,
                              doc, NULL, NULL, err)
                 : CASTOR_EINTERNAL;
        json_decref(doc);
    }
    rc = twins_end(&ctx, t, rc, err);
    if (rc < 0) return rc;
    resp->status = 204;
    return CASTOR_OK;
}

int twins_component_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *id, *path = http_request_param(req, "componentPath");
    twins_ctx_t ctx;
    int rc = twins_param_id(req, "id", &id, err);
    if (rc == 0) rc = twins_begin(req, &ctx, 1, err);
    if (rc < 0) return rc;
    store_txn_t *t = NULL;
    store_twin_t tw;
    rc = store_begin(ctx.store, STORE_READ, &t, err);
    if (rc == 0) rc = store_twin_get(t, ctx.instance, id, &req->arena, &tw, err);
    store_rollback(t);
    if (rc == CASTOR_ENOTFOUND) rc = twins_err_twin_not_found(err, id);
    json_t *doc = rc == 0 ? parse_doc(tw.doc, err) : NULL;
    if (rc == 0 && !doc) rc = CASTOR_EINTERNAL;
    if (rc == 0) {
        /* A component of the twin's model, not merely an object-valued property. */
        const dtdl_interface_t *iface = twins_iface(&ctx, tw.model_id);
        const dtdl_content_t *c = iface && path ? dtdl_interface_content(iface, path) : NULL;
        json_t *comp = json_object_get(doc, path ? path : "");
        if (!c || c->kind != DTDL_CONTENT_COMPONENT || !json_is_object(comp))
            rc = twins_err_component_not_found(err, id, path ? path : "");
        else
            rc = twins_respond_json(req, resp, comp, tw.etag, err);
    }
    json_decref(doc);
    twins_done(&ctx);
    return rc;
}

int twins_component_patch(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *path = http_request_param(req, "componentPath");
    if (!path || !*path || strchr(path, '/'))
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                               "The component path must name one component of the twin.");
    return patch_twin(req, resp, path, err);
}
