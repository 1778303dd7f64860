/* odata.c — the shared $filter parser (see odata.h). */
#include "http/odata.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* A single-quoted OData string ('' is a quote); *s points past it. NULL when unterminated. */
static char *quoted(arena_t *a, const char **s)
{
    const char *p = *s;
    if (*p != '\'') return NULL;
    p++;
    char *out = arena_alloc(a, strlen(p) + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (;;) {
        if (!*p) return NULL;
        if (*p == '\'') {
            if (p[1] == '\'') {
                out[o++] = '\'';
                p += 2;
                continue;
            }
            break;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
    *s = p + 1;
    return out;
}

/* A property or function name: letters, digits, '_', '.', and '/' for paths. */
static const char *name_end(const char *s)
{
    while (isalnum((unsigned char)*s) || *s == '_' || *s == '.' || *s == '/')
        s++;
    return s;
}

/* 1 when s starts with the keyword kw followed by white space. */
static int keyword(const char *s, const char *kw)
{
    size_t n = strlen(kw);
    return strncasecmp(s, kw, n) == 0 && (s[n] == ' ' || s[n] == '\t');
}

/* The lambda of name/any(...): "c:c eq 'value'" up to the closing parenthesis. */
static const char *any_lambda(arena_t *a, const char *s, const char **value)
{
    const char *v = name_end(s);
    if (v == s || *v != ':') return NULL;
    const char *w = name_end(v + 1);
    if (w == v + 1 || (size_t)(w - v - 1) != (size_t)(v - s) || strncmp(s, v + 1, (size_t)(v - s)))
        return NULL; /* c:c: the variable is the one bound */
    s = skip_ws(w);
    if (!keyword(s, "eq")) return NULL;
    s = skip_ws(s + 2);
    *value = quoted(a, &s);
    if (!*value) return NULL;
    s = skip_ws(s);
    return *s == ')' ? s + 1 : NULL;
}

/* One term at s; returns where it ends, or NULL. */
static const char *term(arena_t *a, const char *s, http_filter_term_t *t)
{
    const char *end = name_end(s);
    if (end == s) return NULL;
    size_t n = (size_t)(end - s);
    memset(t, 0, sizeof *t);
    if (n > 4 && strncasecmp(end - 4, "/any", 4) == 0 && *end == '(') {
        t->kind = HTTP_FILTER_ANY;
        t->name = arena_strndup(a, s, n - 4);
        return t->name ? any_lambda(a, skip_ws(end + 1), &t->value) : NULL;
    }
    t->name = arena_strndup(a, s, n);
    if (!t->name) return NULL;
    s = skip_ws(end);
    if (*s == '(') {
        t->kind = HTTP_FILTER_CALL;
        s = skip_ws(s + 1);
        const char *arg_end = name_end(s);
        if (arg_end != s && *skip_ws(arg_end) == ',') {
            t->arg = arena_strndup(a, s, (size_t)(arg_end - s));
            s = skip_ws(skip_ws(arg_end) + 1);
            if (!t->arg || *s != '\'') return NULL;
        }
        if (*s == '\'') {
            t->value = quoted(a, &s);
            if (!t->value) return NULL;
            s = skip_ws(s);
        }
        return *s == ')' ? s + 1 : NULL;
    }
    if (!keyword(s, "eq")) return NULL;
    t->kind = HTTP_FILTER_EQ;
    s = skip_ws(s + 2);
    t->value = quoted(a, &s);
    return t->value ? s : NULL;
}

int http_filter_parse(arena_t *a, const char *text, http_filter_t *out, castor_err *err)
{
    memset(out, 0, sizeof *out);
    if (!text) return CASTOR_OK;
    const char *s = skip_ws(text);
    while (*s) {
        if (out->n >= HTTP_FILTER_TERMS_MAX) {
            out->error_offset = (int)(s - text);
            return castor_err_http(err, CASTOR_EINVAL, 400, "",
                                   "The $filter has more than %d terms.", HTTP_FILTER_TERMS_MAX);
        }
        const char *next = term(a, s, &out->t[out->n]);
        if (!next) goto bad;
        out->n++;
        s = skip_ws(next);
        if (!*s) break;
        if (!keyword(s, "and")) goto bad;
        s = skip_ws(s + 3);
    }
    return CASTOR_OK;
bad:
    out->error_offset = (int)(s - text);
    return castor_err_http(err, CASTOR_EINVAL, 400, "",
                           "The $filter '%s' could not be parsed at offset %d.", text,
                           out->error_offset);
}
