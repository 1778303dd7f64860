/* dtdl_errors.c — the list of language errors one batch produced.
 *
 * The parser keeps going after an error so that a user fixing a model sees every problem at
 * once, as the official parser reports them; the list is bounded by DTDL_ERRORS_MAX. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtdl/dtdl_internal.h"

void dtdl_errors_init(dtdl_errors_t *errs)
{
    memset(errs, 0, sizeof *errs);
}

void dtdl_errors_free(dtdl_errors_t *errs)
{
    if (!errs) return;
    free(errs->items);
    dtdl_errors_init(errs);
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

void dtdl_fail(dtdl_pctx_t *c, const char *vid, const char *id, const char *prop, const char *path,
               const char *fmt, ...)
{
    if (c->quiet) return;
    c->error_count++;
    dtdl_errors_t *errs = c->errs;
    if (!errs) return;
    if (errs->count >= DTDL_ERRORS_MAX) {
        errs->dropped++;
        return;
    }
    if (errs->count == errs->cap) {
        size_t cap = errs->cap ? errs->cap * 2 : 8;
        dtdl_error_t *items = realloc(errs->items, cap * sizeof *items);
        if (!items) {
            errs->dropped++;
            return;
        }
        errs->items = items;
        errs->cap = cap;
    }
    dtdl_error_t *e = &errs->items[errs->count++];
    copy(e->validation_id, sizeof e->validation_id, vid);
    copy(e->primary_id, sizeof e->primary_id, id);
    copy(e->property, sizeof e->property, prop);
    copy(e->path, sizeof e->path, path);
    char what[CASTOR_ERR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    /* "<path> (<id>): <what>" — where first, so messages in a list line up. */
    int n = id && *id ? snprintf(e->message, sizeof e->message, "%s (%s): %s", path ? path : "$",
                                 id, what)
                      : snprintf(e->message, sizeof e->message, "%s: %s", path ? path : "$", what);
    castor_text_cut(e->message, sizeof e->message, n);
}
