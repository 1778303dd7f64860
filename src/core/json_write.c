/* json_write.c — compact JSON text from a jansson value, as json_dumps writes it.
 *
 * json_dumps(JSON_COMPACT) costs ~48,000 instructions for a 350-byte twin (a callback per
 * fragment, UTF-8 re-validation of every string it wrote itself), and every twin write
 * serializes the twin and its event. This writer gives byte-for-byte the same text (a test
 * compares them over random documents) at a fraction of the cost. */
#include "core/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct jbuf {
    char *s; /* malloc'ed */
    size_t len, cap;
    int oom;
} jbuf_t;

static int grow(jbuf_t *b, size_t n)
{
    if (b->oom) return -1;
    if (b->len + n + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->oom = 1;
        return -1;
    }
    b->s = s;
    b->cap = cap;
    return 0;
}

static void put(jbuf_t *b, const char *p, size_t n)
{
    if (grow(b, n) < 0) return;
    memcpy(b->s + b->len, p, n);
    b->len += n;
}

static void put_c(jbuf_t *b, char c)
{
    if (grow(b, 1) < 0) return;
    b->s[b->len++] = c;
}

/* A string with jansson's escapes: ", \, the five short forms, other controls as \u00XX. */
static void put_string(jbuf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    put_c(b, '"');
    size_t run = 0; /* start of the bytes copied as they are */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        put(b, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t len = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            len = 6;
        }
        put(b, esc, len);
    }
    put(b, s + run, n - run);
    put_c(b, '"');
}

/* A real as jansson writes it: %.17g, with ".0" when that reads as an integer, and the
 * exponent without '+' or leading zeros. */
static void put_real(jbuf_t *b, double v)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf - 3, "%.17g", v);
    if (n < 0 || n >= (int)sizeof buf - 3) {
        b->oom = 1;
        return;
    }
    if (!strchr(buf, '.') && !strchr(buf, 'e')) {
        buf[n++] = '.';
        buf[n++] = '0';
        buf[n] = '\0';
    }
    char *e = strchr(buf, 'e');
    if (e) {
        char *start = e + 1, *end = start + 1;
        if (*start == '-') start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, (size_t)(buf + n - end) + 1);
            n -= (int)(end - start);
        }
    }
    put(b, buf, (size_t)n);
}

static void put_int(jbuf_t *b, json_int_t v)
{
    char buf[24], *p = buf + sizeof buf;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    put(b, p, (size_t)(buf + sizeof buf - p));
}

static void put_value(jbuf_t *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        put_c(b, '{');
        int first = 1;
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            if (!first) put_c(b, ',');
            first = 0;
            put_string(b, json_object_iter_key(it), json_object_iter_key_len(it));
            put_c(b, ':');
            put_value(b, json_object_iter_value(it));
        }
        put_c(b, '}');
        break;
    }
    case JSON_ARRAY: {
        put_c(b, '[');
        size_t n = json_array_size(v);
        for (size_t i = 0; i < n; i++) {
            if (i) put_c(b, ',');
            put_value(b, json_array_get(v, i));
        }
        put_c(b, ']');
        break;
    }
    case JSON_STRING:
        put_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        put_int(b, json_integer_value(v));
        break;
    case JSON_REAL:
        put_real(b, json_real_value(v));
        break;
    case JSON_TRUE:
        put(b, "true", 4);
        break;
    case JSON_FALSE:
        put(b, "false", 5);
        break;
    case JSON_NULL:
        put(b, "null", 4);
        break;
    }
}

char *json_dump_compact(const json_t *value)
{
    if (!value) return NULL;
    jbuf_t b = {0};
    put_value(&b, value);
    if (b.oom || grow(&b, 0) < 0) {
        free(b.s);
        return NULL;
    }
    b.s[b.len] = '\0';
    return b.s;
}
