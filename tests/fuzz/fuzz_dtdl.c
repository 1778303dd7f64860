/* fuzz_dtdl.c — libFuzzer target for the DTDL parser: arbitrary bytes as a `POST /models` body.
 * Whatever parses as JSON goes through dtdl_parse_batch with a lookup that serves the body's
 * own first model (so resolution paths run too); an accepted batch is walked and every
 * property schema is used to validate the body itself, exercising dtdl_validate_value. */
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "dtdl/dtdl.h"

static json_t *lookup_self(const char *dtmi, void *ctx)
{
    json_t *first = json_is_array((json_t *)ctx) ? json_array_get(ctx, 0) : ctx;
    const char *id = json_string_value(json_object_get(first, "@id"));
    (void)dtmi;
    return id ? json_deep_copy(first) : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > CASTOR_HTTP_MODEL_BODY_MAX) return 0;
    json_error_t jerr;
    json_t *in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!in) return 0;
    dtdl_graph_t *g = NULL;
    dtdl_errors_t errs;
    dtdl_errors_init(&errs);
    castor_err err;
    for (int undef = 0; undef < 3; undef++) {
        dtdl_options_t opt = {.undefined_extensions = (dtdl_undef_ext_t)undef};
        if (dtdl_parse_batch(in, &opt, lookup_self, in, &g, &errs, &err) == 0) {
            for (size_t i = 0; i < dtdl_graph_count(g); i++) {
                const dtdl_interface_t *it = dtdl_graph_at(g, i);
                for (size_t k = 0; k < it->content_count; k++)
                    if (it->contents[k].schema)
                        dtdl_validate_value(it->contents[k].schema, in, "$", &err);
            }
        }
        dtdl_graph_free(g);
        g = NULL;
        dtdl_errors_free(&errs);
    }
    json_decref(in);
    return 0;
}
