/* dtdl_order.c — dtdl_upload_order(): split a set of interfaces into upload batches so that
 * each model's dependencies are stored before it or travel in the same batch.
 *
 * A dependency is any DTMI string inside a model that names another top-level model of the
 * set, except relationship `target`s, which the parser never resolves (ADT accepts a target
 * that does not exist). Kahn's algorithm orders the set; the order is then cut into batches
 * of at most batch_max. A cycle (which the parser will reject anyway) keeps its members in
 * input order at the end, so the server reports it. */
#include <stdlib.h>
#include <string.h>

#include "dtdl/dtdl.h"

static void collect(const json_t *v, const char *self, const json_t *index, json_t *deps)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, self) != 0 && json_object_get(index, s))
            json_object_set_new(deps, s, json_true());
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            collect(json_array_get(v, i), self, index, deps);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (strcmp(k, "target") && strcmp(k, "@id") && strcmp(k, "@context"))
                collect(x, self, index, deps);
        }
    }
}

json_t *dtdl_upload_order(const json_t *models, size_t batch_max)
{
    size_t n = json_array_size(models);
    if (!json_is_array(models) || batch_max == 0) return NULL;
    json_t *index = json_object(); /* id -> position */
    for (size_t i = 0; i < n; i++) {
        const char *id = json_string_value(json_object_get(json_array_get(models, i), "@id"));
        if (id && !json_object_get(index, id))
            json_object_set_new(index, id, json_integer((json_int_t)i));
    }
    /* pending[i]: how many of i's dependencies are not placed yet; users[j]: who waits on j. */
    size_t *pending = calloc(n ? n : 1, sizeof *pending);
    json_t *users = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(users, json_array());
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_array_get(models, i);
        const char *id = json_string_value(json_object_get(m, "@id"));
        json_t *deps = json_object();
        collect(m, id ? id : "", index, deps);
        const char *d;
        json_t *x;
        json_object_foreach(deps, d, x)
        {
            size_t j = (size_t)json_integer_value(json_object_get(index, d));
            if (j == i) continue;
            pending[i]++;
            json_array_append_new(json_array_get(users, j), json_integer((json_int_t)i));
        }
        json_decref(deps);
    }
    json_t *order = json_array();
    char *placed = calloc(n ? n : 1, 1);
    for (size_t i = 0; i < n; i++)
        if (!pending[i]) json_array_append_new(order, json_integer((json_int_t)i));
    for (size_t k = 0; k < json_array_size(order); k++) {
        size_t i = (size_t)json_integer_value(json_array_get(order, k));
        placed[i] = 1;
        json_t *u = json_array_get(users, i);
        for (size_t q = 0; q < json_array_size(u); q++) {
            size_t w = (size_t)json_integer_value(json_array_get(u, q));
            if (--pending[w] == 0) json_array_append_new(order, json_integer((json_int_t)w));
        }
    }
    for (size_t i = 0; i < n; i++) /* cycles: at the end, in input order */
        if (!placed[i] && pending[i]) json_array_append_new(order, json_integer((json_int_t)i));
    json_t *batches = json_array();
    json_t *cur = NULL;
    for (size_t k = 0; k < json_array_size(order); k++) {
        if (!cur || json_array_size(cur) == batch_max) {
            cur = json_array();
            json_array_append_new(batches, cur);
        }
        size_t i = (size_t)json_integer_value(json_array_get(order, k));
        json_array_append(cur, json_array_get(models, i));
    }
    free(placed);
    free(pending);
    json_decref(users);
    json_decref(order);
    json_decref(index);
    return batches;
}
