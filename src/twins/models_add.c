/* models_add.c — POST /models: a batch of DTDL interfaces, all or nothing.
 *
 * Order of checks, cheapest and most specific first: the body's shape and size (400
 * InvalidArgument / LimitExceeded), each model's @id (400 InvalidArgument), then, inside one
 * write transaction, the instance's model count, ids already stored (409 ModelAlreadyExists),
 * and the DTDL parse against the batch plus the stored models (400 DTDLParserError or
 * ModelVersionNotSupported, every error with its JSON path in `details`). Only when all pass
 * are the models and their reference edges inserted and committed together. */
#include "twins/models_api.h"
#include "twins/twins_routes.h"

#include "core/json.h"
#include "core/limits.h"
#include "store/store_models.h"
#include "twins/models_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lookup_ctx {
    store_txn_t *txn;
    const char *instance;
} lookup_ctx_t;

static int lookup_row(const store_model_t *m, void *ctx)
{
    *(json_t **)ctx = json_loads(m->model, 0, NULL);
    return 0;
}

/* The parser asks for DTMIs the batch does not define: answer with stored models. */
static json_t *lookup_stored(const char *dtmi, void *ctx)
{
    lookup_ctx_t *l = ctx;
    json_t *doc = NULL;
    castor_err ignored;
    if (store_model_get(l->txn, l->instance, dtmi, 1, lookup_row, &doc, &ignored) < 0) return NULL;
    return doc;
}

static int check_shape(const json_t *body, castor_err *err)
{
    if (!json_is_array(body) || json_array_size(body) == 0)
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                               "Operation failed as models provided was empty or of a type that "
                               "is not supported. Send a JSON array of 1 to %u DTDL interfaces.",
                               CASTOR_MODELS_PER_UPLOAD_MAX);
    size_t n = json_array_size(body);
    if (n > CASTOR_MODELS_PER_UPLOAD_MAX)
        return castor_err_http(err, CASTOR_ELIMIT, 400, "LimitExceeded",
                               "The request holds %zu models; at most %u can be created in one "
                               "call. Upload them in batches (dependencies first, or together).",
                               n, CASTOR_MODELS_PER_UPLOAD_MAX);
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_array_get(body, i);
        char path[64];
        snprintf(path, sizeof path, "$[%zu]", i);
        if (!json_is_object(m)) {
            castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                            "%s is not a JSON object; each item must be a DTDL Interface.", path);
            castor_err_at(err, path);
            return CASTOR_EINVAL;
        }
        const json_t *id = json_object_get(m, "@id");
        if (id && (!json_is_string(id) || !dtdl_dtmi_valid(json_string_value(id), 3))) {
            snprintf(path, sizeof path, "$[%zu]['@id']", i);
            castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                            "%s: the model id %s is not a valid DTMI (dtmi:<segment>[:<segment>]"
                            "*;<version>, segments of letters, digits and underscores).",
                            path, json_is_string(id) ? json_string_value(id) : "(not a string)");
            castor_err_at(err, path);
            return CASTOR_EINVAL;
        }
    }
    return CASTOR_OK;
}

/* 409 naming every id of the batch that is stored already. */
static int check_existing(http_request_t *req, store_txn_t *t, const char *key, const json_t *body,
                          castor_err *err)
{
    char *list = NULL;
    size_t dup = 0;
    for (size_t i = 0; i < json_array_size(body); i++) {
        const char *id = json_string_value(json_object_get(json_array_get(body, i), "@id"));
        if (!id) continue;
        int rc = store_model_exists(t, key, id, err);
        if (rc < 0) return rc;
        if (!rc) continue;
        dup++;
        if (dup <= 10)
            list = arena_sprintf(&req->arena, "%s%s%s", list ? list : "", list ? ", " : "", id);
    }
    if (!dup) return CASTOR_OK;
    return castor_err_http(err, CASTOR_ECONFLICT, 409, "ModelAlreadyExists",
                           "Some of the model ids already exist: %s%s. Models are immutable: "
                           "upload a new version (a new DTMI) or delete the model first.",
                           list ? list : "", dup > 10 ? ", ..." : "");
}

/* The wire code ADT gives a failed parse. */
static const char *parse_code(const dtdl_errors_t *errs)
{
    for (size_t i = 0; i < errs->count; i++) {
        const char *v = errs->items[i].validation_id;
        if (strcmp(v, "unrecognizedContextVersion") == 0 ||
            strcmp(v, "disallowedContextVersion") == 0)
            return "ModelVersionNotSupported";
    }
    return "DTDLParserError";
}

/* ---- reference edges ---- */

typedef struct edges {
    store_txn_t *txn;
    const char *key;
    const char *from;
    json_t *top; /* ids of the batch's top-level interfaces */
    const dtdl_graph_t *graph;
    json_t *seen; /* ref id -> kind, for this model */
} edges_t;

/* A DTMI that names a model of the instance: in the batch at top level, or stored. */
static int is_model(const edges_t *e, const char *id)
{
    if (json_object_get(e->top, id)) return 1;
    const dtdl_interface_t *i = dtdl_graph_find(e->graph, id);
    return i && !i->in_batch;
}

static void add_edge(edges_t *e, const char *to, const char *kind)
{
    if (!to || strcmp(to, e->from) == 0 || !is_model(e, to)) return;
    if (json_object_get(e->seen, to) && strcmp(kind, STORE_MODEL_REF_OTHER) == 0) return;
    char k[600];
    snprintf(k, sizeof k, "%s\n%s", to, kind);
    json_object_set_new(e->seen, to, json_string(kind));
    json_object_set_new(e->seen, k, json_true());
}

static void walk_refs(edges_t *e, const json_t *v)
{
    if (json_is_string(v)) {
        if (strncmp(json_string_value(v), "dtmi:", 5) == 0)
            add_edge(e, json_string_value(v), STORE_MODEL_REF_OTHER);
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            walk_refs(e, json_array_get(v, i));
    } else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (strcmp(k, "@id") != 0 && strcmp(k, "@context") != 0) walk_refs(e, x);
        }
    }
}

static int store_edges(edges_t *e, const json_t *doc, castor_err *err)
{
    const dtdl_interface_t *iface = dtdl_graph_find(e->graph, e->from);
    e->seen = json_object();
    if (iface) {
        for (size_t i = 0; i < iface->extends_count; i++)
            add_edge(e, iface->extends[i], STORE_MODEL_REF_EXTENDS);
        for (size_t i = 0; i < iface->content_count; i++) {
            const dtdl_content_t *c = &iface->contents[i];
            if (!c->defined_in || strcmp(c->defined_in, e->from) != 0) continue;
            if (c->kind == DTDL_CONTENT_COMPONENT)
                add_edge(e, c->component_interface, STORE_MODEL_REF_COMPONENT);
            if (c->kind == DTDL_CONTENT_RELATIONSHIP)
                add_edge(e, c->target, STORE_MODEL_REF_TARGET);
        }
    }
    walk_refs(e, doc);
    int rc = CASTOR_OK;
    const char *k;
    json_t *x;
    json_object_foreach(e->seen, k, x)
    {
        const char *nl = strchr(k, '\n');
        if (!nl || rc < 0) continue;
        char to[520];
        snprintf(to, sizeof to, "%.*s", (int)(nl - k), k);
        rc = store_model_ref_insert(e->txn, e->key, e->from, to, nl + 1, err);
    }
    json_decref(e->seen);
    e->seen = NULL;
    return rc;
}

/* ---- the handler ---- */

static int insert_all(http_request_t *req, store_txn_t *t, const char *key, const json_t *body,
                      const dtdl_graph_t *graph, json_t *out, castor_err *err)
{
    char when[40];
    models_upload_time(when, sizeof when);
    edges_t e = {.txn = t, .key = key, .top = json_object(), .graph = graph};
    for (size_t i = 0; i < json_array_size(body); i++) {
        const char *id = json_string_value(json_object_get(json_array_get(body, i), "@id"));
        if (id) json_object_set_new(e.top, id, json_true());
    }
    int rc = CASTOR_OK;
    for (size_t i = 0; rc == 0 && i < json_array_size(body); i++) {
        const json_t *doc = json_array_get(body, i);
        json_t *dn = models_language_map(json_object_get(doc, "displayName"));
        json_t *ds = models_language_map(json_object_get(doc, "description"));
        char *text = json_dump_compact(doc);
        char *dn_text = dn ? json_dump_compact(dn) : NULL;
        char *ds_text = ds ? json_dump_compact(ds) : NULL;
        store_model_t m = {
            .id = json_string_value(json_object_get(doc, "@id")),
            .model = text,
            .display_name = dn_text,
            .description = ds_text,
            .upload_time = when,
        };
        rc = text ? store_model_insert(t, key, &m, err)
                  : castor_err_set(err, CASTOR_ENOMEM, "out of memory");
        if (rc == 0) {
            e.from = m.id;
            rc = store_edges(&e, doc, err);
        }
        if (rc == 0) json_array_append_new(out, models_data_json(&m, 0));
        free(text);
        free(dn_text);
        free(ds_text);
        json_decref(dn);
        json_decref(ds);
    }
    json_decref(e.top);
    (void)req;
    return rc;
}

int models_add(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const twins_deps_t *deps = twins_deps(req);
    const json_t *body = req->json;
    int rc = check_shape(body, err);
    if (rc < 0) return rc;
    const char *key = models_instance_key(req);
    store_txn_t *t = NULL;
    rc = store_begin(deps->store, STORE_WRITE, &t, err);
    if (rc < 0) return rc;
    int64_t have = 0;
    rc = store_model_count(t, key, &have, err);
    if (rc == 0 && (uint64_t)have + json_array_size(body) > CASTOR_MODELS_PER_INSTANCE_MAX)
        rc =
            castor_err_http(err, CASTOR_ELIMIT, 400, "LimitExceeded",
                            "The instance holds %lld models; %zu more would pass the limit of "
                            "%u models per instance.",
                            (long long)have, json_array_size(body), CASTOR_MODELS_PER_INSTANCE_MAX);
    if (rc == 0) rc = check_existing(req, t, key, body, err);
    if (rc < 0) {
        store_rollback(t);
        return rc;
    }

    lookup_ctx_t l = {t, key};
    dtdl_graph_t *graph = NULL;
    dtdl_errors_t errs;
    dtdl_errors_init(&errs);
    rc = dtdl_parse_batch(body, NULL, lookup_stored, &l, &graph, &errs, err);
    if (rc < 0) {
        store_rollback(t);
        if (rc != CASTOR_EINVAL) {
            dtdl_errors_free(&errs);
            return rc;
        }
        castor_err e2 = *err;
        snprintf(e2.code, sizeof e2.code, "%s", parse_code(&errs));
        castor_text_cut(e2.message, sizeof e2.message,
                        snprintf(e2.message, sizeof e2.message,
                                 "None of the models in this request could be created due to a "
                                 "problem with one or more models: %s",
                                 err->message));
        e2.status = 400;
        rc = models_render_dtdl_errors(req, resp, &e2, &errs);
        dtdl_errors_free(&errs);
        return rc;
    }
    dtdl_errors_free(&errs);

    json_t *out = json_array();
    rc = insert_all(req, t, key, body, graph, out, err);
    if (rc == 0) rc = store_change_bump(t, STORE_CHANGE_MODELS, err);
    dtdl_graph_free(graph);
    if (rc < 0) {
        store_rollback(t);
        json_decref(out);
        return rc;
    }
    rc = store_commit(t, err);
    if (rc == 0) {
        models_cache_invalidate(deps->models, deps->store, key);
        rc = http_response_json(req, resp, 201, out, err);
    }
    json_decref(out);
    return rc;
}
