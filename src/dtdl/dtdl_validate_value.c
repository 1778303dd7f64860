/* dtdl_validate_value.c — checks a twin's property value (JSON) against its DTDL schema.
 *
 * Used by the twins module on create/patch. The message names the JSON path of the first
 * mismatch and what was expected, e.g. "$.temperature: expected double, got string". Temporal
 * strings are checked for ISO 8601 shape (date, time, dateTime, duration), as ADT does. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "dtdl/dtdl.h"
#include "dtdl/dtdl_internal.h"

static const char *got(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

#define RE_DATE "\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])"
#define RE_TIME "([01]\\d|2[0-3]):[0-5]\\d:([0-5]\\d|60)(\\.\\d+)?"
#define RE_ZONE "(Z|z|[+-]([01]\\d|2[0-3]):[0-5]\\d)"

static int mismatch(castor_err *err, const char *path, const char *want, const json_t *v)
{
    int rc = castor_err_http(err, CASTOR_EINVAL, 400, "ValidationFailed", "%s: expected %s, got %s",
                             path, want, got(v));
    castor_err_at(err, path);
    return rc;
}

static int check_string_form(const dtdl_schema_t *s, const json_t *v, const char *path,
                             castor_err *err)
{
    static const struct {
        dtdl_schema_kind_t kind;
        const char *re;
        const char *what;
    } forms[] = {
        {DTDL_SCHEMA_DATE, "^" RE_DATE "$", "date (ISO 8601, e.g. 2024-05-01)"},
        {DTDL_SCHEMA_TIME, "^" RE_TIME RE_ZONE "?$", "time (ISO 8601, e.g. 13:45:00)"},
        {DTDL_SCHEMA_DATETIME, "^" RE_DATE "[Tt]" RE_TIME RE_ZONE "$",
         "dateTime (RFC 3339, e.g. 2024-05-01T13:45:00Z)"},
        {DTDL_SCHEMA_DURATION,
         "^P(?!$)(\\d+(\\.\\d+)?Y)?(\\d+(\\.\\d+)?M)?(\\d+(\\.\\d+)?W)?(\\d+(\\.\\d+)?D)?"
         "(T(?=\\d)(\\d+(\\.\\d+)?H)?(\\d+(\\.\\d+)?M)?(\\d+(\\.\\d+)?S)?)?$",
         "duration (ISO 8601, e.g. PT15M)"},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        if (forms[i].kind != s->kind) continue;
        if (!json_is_string(v)) return mismatch(err, path, forms[i].what, v);
        if (!dtdl_pattern_match(forms[i].re, json_string_value(v))) {
            int rc =
                castor_err_http(err, CASTOR_EINVAL, 400, "ValidationFailed", "%s: '%s' is not a %s",
                                path, json_string_value(v), forms[i].what);
            castor_err_at(err, path);
            return rc;
        }
        return CASTOR_OK;
    }
    return CASTOR_OK;
}

static int validate(const dtdl_schema_t *s, const json_t *v, const char *path, castor_err *err,
                    int level)
{
    if (!s) return CASTOR_OK; /* an unknown schema constrains nothing */
    if (level > 32) return castor_err_set(err, CASTOR_ELIMIT, "%s: value nests too deeply", path);
    char sub[CASTOR_ERR_PATH_MAX];
    switch (s->kind) {
    case DTDL_SCHEMA_BOOLEAN:
        return json_is_boolean(v) ? CASTOR_OK : mismatch(err, path, "boolean", v);
    case DTDL_SCHEMA_INTEGER:
    case DTDL_SCHEMA_LONG: {
        if (!json_is_integer(v)) return mismatch(err, path, dtdl_schema_kind_name(s->kind), v);
        json_int_t n = json_integer_value(v);
        if (s->kind == DTDL_SCHEMA_INTEGER && (n < INT32_MIN || n > INT32_MAX)) {
            int rc = castor_err_http(err, CASTOR_EINVAL, 400, "ValidationFailed",
                                     "%s: %lld does not fit a 32-bit integer", path, (long long)n);
            castor_err_at(err, path);
            return rc;
        }
        return CASTOR_OK;
    }
    case DTDL_SCHEMA_DOUBLE:
    case DTDL_SCHEMA_FLOAT:
        if (!json_is_number(v)) return mismatch(err, path, dtdl_schema_kind_name(s->kind), v);
        if (s->kind == DTDL_SCHEMA_FLOAT && fabs(json_number_value(v)) > 3.402823466e38) {
            int rc =
                castor_err_http(err, CASTOR_EINVAL, 400, "ValidationFailed",
                                "%s: %g is outside the range of float", path, json_number_value(v));
            castor_err_at(err, path);
            return rc;
        }
        return CASTOR_OK;
    case DTDL_SCHEMA_STRING:
        return json_is_string(v) ? CASTOR_OK : mismatch(err, path, "string", v);
    case DTDL_SCHEMA_DATE:
    case DTDL_SCHEMA_TIME:
    case DTDL_SCHEMA_DATETIME:
    case DTDL_SCHEMA_DURATION:
        return check_string_form(s, v, path, err);
    case DTDL_SCHEMA_ENUM:
        for (size_t i = 0; i < s->value_count; i++)
            if (json_equal((json_t *)v, s->values[i].value)) return CASTOR_OK;
        {
            char allowed[512] = "";
            size_t used = 0;
            for (size_t i = 0; i < s->value_count && used < sizeof allowed - 64; i++) {
                char *t = json_dumps(s->values[i].value, JSON_ENCODE_ANY);
                used += (size_t)snprintf(allowed + used, sizeof allowed - used, "%s%s",
                                         i ? ", " : "", t ? t : "?");
                free(t);
            }
            char *vt = json_dumps(v, JSON_ENCODE_ANY);
            int rc = castor_err_http(err, CASTOR_EINVAL, 400, "ValidationFailed",
                                     "%s: %s is not a value of the enum; allowed: %s", path,
                                     vt ? vt : got(v), allowed);
            free(vt);
            castor_err_at(err, path);
            return rc;
        }
    case DTDL_SCHEMA_ARRAY: {
        if (!json_is_array(v)) return mismatch(err, path, "array", v);
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            int rc = validate(s->element, x, sub, err, level + 1);
            if (rc < 0) return rc;
        }
        return CASTOR_OK;
    }
    case DTDL_SCHEMA_MAP: {
        if (!json_is_object(v)) return mismatch(err, path, "map (JSON object)", v);
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            snprintf(sub, sizeof sub, "%s.%s", path, k);
            if (!dtdl_pattern_match("^[A-Za-z0-9_]{1,64}$", k) &&
                !dtdl_pattern_match("^[^\\s$.]{1,256}$", k)) {
                int rc = castor_err_http(err, CASTOR_EINVAL, 400, "ValidationFailed",
                                         "%s: map key '%s' is not valid", path, k);
                castor_err_at(err, sub);
                return rc;
            }
            int rc = validate(s->map_value, x, sub, err, level + 1);
            if (rc < 0) return rc;
        }
        return CASTOR_OK;
    }
    case DTDL_SCHEMA_OBJECT: {
        if (!json_is_object(v)) return mismatch(err, path, "object", v);
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            snprintf(sub, sizeof sub, "%s.%s", path, k);
            const dtdl_field_t *f = NULL;
            for (size_t i = 0; i < s->field_count; i++)
                if (s->fields[i].name && strcmp(s->fields[i].name, k) == 0) f = &s->fields[i];
            if (!f) {
                int rc = castor_err_http(err, CASTOR_EINVAL, 400, "ValidationFailed",
                                         "%s: '%s' is not a field of this object", path, k);
                castor_err_at(err, sub);
                return rc;
            }
            int rc = validate(f->schema, x, sub, err, level + 1);
            if (rc < 0) return rc;
        }
        return CASTOR_OK;
    }
    }
    return CASTOR_OK;
}

int dtdl_validate_value(const dtdl_schema_t *schema, const json_t *value, const char *path,
                        castor_err *err)
{
    if (!value) return castor_err_set(err, CASTOR_EINVAL, "%s: no value", path ? path : "$");
    return validate(schema, value, path ? path : "$", err, 0);
}
