/* dtdl_batch.c — dtdl_parse_batch(): one `POST /models` body from JSON to a model graph.
 *
 * Order: parse each document (single-element rules), resolve references (batch, predefined
 * elements, stored models), check the cross-element rules, and only when no error was found,
 * compile the graph. All working memory is one scratch arena freed before returning. */
#include <stdio.h>
#include <string.h>

#include "core/limits.h"
#include "dtdl/dtdl_internal.h"

int dtdl_parse_batch(const json_t *models, const dtdl_options_t *opt, dtdl_lookup_fn lookup,
                     void *lookup_ctx, dtdl_graph_t **out, dtdl_errors_t *errs, castor_err *err)
{
    *out = NULL;
    dtdl_errors_t local;
    dtdl_errors_init(&local);
    dtdl_pctx_t c = {
        .errs = errs ? errs : &local,
        .undef_opt = opt ? opt->undefined_extensions : DTDL_UNDEF_EXT_DEFAULT,
        .max_version = opt && opt->max_dtdl_version ? opt->max_dtdl_version : 3,
        .ids = json_object(),
        .held = json_array(),
        .asked = json_object(),
        .lookup = lookup,
        .lookup_ctx = lookup_ctx,
    };
    size_t first_error = c.errs->count;
    arena_init(&c.arena, DTDL_GRAPH_ARENA_MAX);
    json_t *docs = (json_t *)models;
    if (!json_is_array(models)) {
        docs = json_array();
        json_array_append((json_t *)docs, (json_t *)models);
    } else {
        json_incref(docs);
    }
    if (json_array_size(docs) == 0)
        dtdl_fail(&c, "emptyUpload", NULL, NULL, "$", "the upload holds no models");
    for (size_t i = 0; i < json_array_size(docs); i++) {
        json_t *d = json_array_get(docs, i);
        char *path = json_is_array(models) ? arena_sprintf(&c.arena, "$[%zu]", i)
                                           : arena_strdup(&c.arena, "$");
        if (json_is_array(d)) { /* a document may itself be an array of interfaces */
            for (size_t k = 0; k < json_array_size(d); k++)
                dtdl_parse_doc(&c, json_array_get(d, k),
                               arena_sprintf(&c.arena, "%s[%zu]", path, k), (int)i, false);
            continue;
        }
        dtdl_parse_doc(&c, d, path, (int)i, false);
    }
    if (c.error_count == 0) dtdl_resolve_all(&c);
    if (c.error_count == 0) dtdl_check_controls(&c);
    int rc = CASTOR_OK;
    if (c.error_count == 0) {
        *out = dtdl_graph_compile(&c, err);
        if (!*out) rc = err ? err->rc : CASTOR_ENOMEM;
    } else {
        const dtdl_error_t *e0 = c.errs->count > first_error ? &c.errs->items[first_error] : NULL;
        rc = castor_err_http(err, CASTOR_EINVAL, 400, "DTDLParserError", "%zu DTDL error%s: %s",
                             c.error_count, c.error_count == 1 ? "" : "s",
                             e0 ? e0->message : "see the error list");
        if (e0) castor_err_at(err, e0->path);
    }
    json_decref(docs);
    json_decref(c.held);
    json_decref(c.asked);
    json_decref(c.ids);
    arena_free(&c.arena);
    dtdl_errors_free(&local);
    return rc;
}
