/* fuzz_query.c — libFuzzer target for the query front end.
 *
 * Any input must end in success or in a positioned 400 error, never a crash, leak or hang;
 * and any query that prepares must print to text that prepares to an equal AST.
 * Build: clang -fsanitize=fuzzer,address,undefined -Isrc tests/fuzz/fuzz_query.c src/query/\*.c
 * src/core/\*.c (or cmake -DCASTOR_FUZZ=ON with clang). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "query/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_t a;
    arena_init(&a, CASTOR_REQUEST_ARENA_MAX);
    castor_err err;
    castor_err_clear(&err);
    query_t *q = NULL, *q2 = NULL;
    int rc = query_prepare(&a, (const char *)data, size, &q, &err);
    if (rc < 0) {
        /* Every refusal must say why; only running out of arena has no position. */
        if (err.message[0] == '\0') abort();
        if (rc != CASTOR_ELIMIT && !strstr(err.message, " at position ")) abort();
    } else {
        char *text = NULL;
        if (query_print(&a, q, &text, &err) < 0) abort();
        /* Canonical spacing can lengthen a query past ADT's 8,000 characters; only then
         * may the printed text be refused. */
        rc = query_prepare(&a, text, strlen(text), &q2, &err);
        if (rc == CASTOR_ELIMIT && strlen(text) > size) goto done;
        if (rc < 0) abort();
        if (!query_equal(q, q2)) abort();
    }
done:
    arena_free(&a);
    return 0;
}
