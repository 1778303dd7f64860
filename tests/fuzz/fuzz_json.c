/* fuzz_json.c — libFuzzer target for castor's own JSON parser and writer (src/core/json_*.c).
 *
 * json_read must accept exactly what json_loadb(JSON_DECODE_ANY) accepts and build the same
 * value, and json_dump_compact must write what json_dumps(JSON_COMPACT) writes; any difference,
 * crash or leak fails. Build: cmake -DCASTOR_FUZZ=ON with clang (see the Makefile's fuzz). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t e;
    json_t *want = json_loadb((const char *)data, size, JSON_DECODE_ANY, &e);
    json_t *got = json_read((const char *)data, size);
    if (!want != !got) abort();
    if (want) {
        char *a = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
        char *b = json_dump_compact(got);
        char *c = json_dump_compact(want);
        if (!a || !b || !c || strcmp(a, b) != 0 || strcmp(a, c) != 0) abort();
        free(a);
        free(b);
        free(c);
    }
    json_decref(want);
    json_decref(got);
    return 0;
}
