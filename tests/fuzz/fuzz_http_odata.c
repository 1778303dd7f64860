/* fuzz_http_odata.c — libFuzzer target for the shared OData $filter parser (http/odata.h).
 *
 * Any text must parse or be refused with a 400 whose offset lies inside the text, never crash,
 * leak or read past it; a parsed filter has at most HTTP_FILTER_TERMS_MAX terms, each named,
 * with a value where its form requires one. Build: cmake -DCASTOR_FUZZ=ON with clang. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/odata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    arena_t a;
    arena_init(&a, 1 << 20);
    http_filter_t f;
    castor_err err;
    int rc = http_filter_parse(&a, text, &f, &err);
    if (rc == CASTOR_OK) {
        if (f.n < 0 || f.n > HTTP_FILTER_TERMS_MAX) abort();
        for (int i = 0; i < f.n; i++) {
            const http_filter_term_t *t = &f.t[i];
            if (!t->name || !t->name[0]) abort();
            if ((t->kind == HTTP_FILTER_EQ || t->kind == HTTP_FILTER_ANY) && !t->value) abort();
            if (t->arg && !t->value) abort();
        }
    } else {
        if (rc != CASTOR_EINVAL || err.status != 400) abort();
        if (f.error_offset < 0 || (size_t)f.error_offset > strlen(text)) abort();
    }
    arena_free(&a);
    free(text);
    return 0;
}
