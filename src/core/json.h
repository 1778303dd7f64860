/* json.h — parsing untrusted JSON bodies with castor's limits, on top of jansson. */
#ifndef CASTOR_CORE_JSON_H
#define CASTOR_CORE_JSON_H

#include "core/err.h"

#include <jansson.h>
#include <stddef.h>

/* Parses len bytes of text as one JSON value. Refuses nesting deeper than max_depth before
 * jansson sees it (jansson's own limit is 2048, far past what any ADT body needs). On failure
 * fills err with CASTOR_EINVAL and a message naming the line, column and byte offset.
 * Returns a new reference (caller json_decref's it) or NULL. */
json_t *json_parse_body(const char *text, size_t len, unsigned max_depth, castor_err *err);

/* Deepest nesting of arrays/objects in text, ignoring brackets inside strings; stops counting
 * and returns max_depth + 1 as soon as it is exceeded, with *offset at that byte. */
unsigned json_nesting_depth(const char *text, size_t len, unsigned max_depth, size_t *offset);

/* Parses len bytes as one JSON value exactly as json_loadb(JSON_DECODE_ANY) would, several
 * times faster (json_read.c). NULL on any error, without a reason: re-parse with jansson for
 * one. Returns a new reference. */
json_t *json_read(const char *text, size_t len);

/* Writes value (any JSON value) to a compact NUL-terminated string, the same text as
 * json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY) but several times faster (json_write.c);
 * caller frees with free(). NULL when out of memory. */
char *json_dump_compact(const json_t *value);

#endif
