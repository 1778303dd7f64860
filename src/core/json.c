/* json.c — bounded JSON parsing with user-readable errors (see json.h). */
#include "core/json.h"

#include <stdlib.h>

unsigned json_nesting_depth(const char *text, size_t len, unsigned max_depth, size_t *offset)
{
    unsigned depth = 0, deepest = 0;
    int in_string = 0, escaped = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"') {
            in_string = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > deepest) deepest = depth;
            if (depth > max_depth) {
                if (offset) *offset = i;
                return max_depth + 1;
            }
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

json_t *json_parse_body(const char *text, size_t len, unsigned max_depth, castor_err *err)
{
    if (len == 0) {
        castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                        "The request body is empty; a JSON document is required.");
        return NULL;
    }
    size_t at = 0;
    if (json_nesting_depth(text, len, max_depth, &at) > max_depth) {
        castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                        "The request body nests arrays/objects deeper than %u levels "
                        "(at byte offset %zu); flatten the document.",
                        max_depth, at);
        return NULL;
    }
    json_t *v = json_read(text, len);
    if (v) return v;
    /* Malformed: jansson says where and why. */
    json_error_t jerr;
    v = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
    if (!v) {
        castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                        "The request body is not valid JSON: %s at line %d, column %d "
                        "(byte offset %d).",
                        jerr.text, jerr.line, jerr.column, jerr.position);
        return NULL;
    }
    return v;
}
