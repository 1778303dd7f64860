/* json_read.c — a JSON parser building jansson values, for the hot paths (see json.h).
 *
 * json_loads costs ~55,000 instructions for a 350-byte twin (a character stream behind a
 * callback, a string buffer grown a byte at a time), and a twin PATCH parses the stored twin and
 * its body. This parser accepts exactly what json_loads(JSON_DECODE_ANY) accepts — strict UTF-8,
 * no NUL (but one after a number or literal, as jansson), paired surrogates, integers that fit
 * in 64 bits, no real overflow, depth up to 2048 — and builds the same values (a later duplicate
 * key replaces the earlier one in place). It reports no reason on failure: callers re-parse with
 * jansson for the message, which only malformed input pays. A differential unit test and a
 * fuzz target (tests/fuzz/fuzz_json.c) check it against jansson. */
#include "core/json.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JSON_READ_DEPTH_MAX 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

typedef struct reader {
    const unsigned char *p, *end;
    char *buf; /* decoded strings with escapes (malloc'ed, reused) */
    size_t cap;
} reader_t;

static void skip_ws(reader_t *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)) return 0; /* overlong */
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

static int hex4(const unsigned char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    *out = v;
    return 0;
}

static int buf_reserve(reader_t *r, size_t n)
{
    if (n <= r->cap) return 0;
    size_t cap = r->cap ? r->cap : 256;
    while (cap < n)
        cap *= 2;
    char *b = realloc(r->buf, cap);
    if (!b) return -1;
    r->buf = b;
    r->cap = cap;
    return 0;
}

/* A string after its opening quote: *s and *n point at its bytes (in the input when it has no
 * escapes, else in r->buf). */
static int read_string(reader_t *r, const char **s, size_t *n)
{
    const unsigned char *start = r->p;
    const unsigned char *q = start;
    while (q < r->end) {
        unsigned c = *q;
        if (c == '"') {
            *s = (const char *)start;
            *n = (size_t)(q - start);
            r->p = q + 1;
            return 0;
        }
        if (c == '\\') break;
        if (c < 0x20) return -1;
        if (c < 0x80) {
            q++;
        } else {
            size_t l = utf8_len(q, r->end);
            if (!l) return -1;
            q += l;
        }
    }
    if (q >= r->end) return -1;
    /* Escapes: decode into r->buf; the decoded text is never longer than the source. */
    size_t len = 0;
    if (buf_reserve(r, (size_t)(r->end - start)) < 0) return -1;
    memcpy(r->buf, start, (size_t)(q - start));
    len = (size_t)(q - start);
    while (q < r->end) {
        unsigned c = *q;
        if (c == '"') {
            *s = r->buf;
            *n = len;
            r->p = q + 1;
            return 0;
        }
        if (c < 0x20) return -1;
        if (c >= 0x80) {
            size_t l = utf8_len(q, r->end);
            if (!l) return -1;
            memcpy(r->buf + len, q, l);
            len += l;
            q += l;
            continue;
        }
        if (c != '\\') {
            r->buf[len++] = (char)c;
            q++;
            continue;
        }
        if (r->end - q < 2) return -1;
        unsigned e = q[1];
        q += 2;
        char out = 0;
        switch (e) {
        case '"':
            out = '"';
            break;
        case '\\':
            out = '\\';
            break;
        case '/':
            out = '/';
            break;
        case 'b':
            out = '\b';
            break;
        case 'f':
            out = '\f';
            break;
        case 'n':
            out = '\n';
            break;
        case 'r':
            out = '\r';
            break;
        case 't':
            out = '\t';
            break;
        case 'u': {
            uint32_t cp;
            if (r->end - q < 4 || hex4(q, &cp) < 0) return -1;
            q += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return -1; /* a lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (r->end - q < 6 || q[0] != '\\' || q[1] != 'u' || hex4(q + 2, &lo) < 0 ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return -1;
                q += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (cp == 0) return -1; /* NUL: jansson refuses it without JSON_ALLOW_NUL */
            char *o = r->buf + len;
            if (cp < 0x80) {
                o[0] = (char)cp;
                len += 1;
            } else if (cp < 0x800) {
                o[0] = (char)(0xC0 | (cp >> 6));
                o[1] = (char)(0x80 | (cp & 0x3F));
                len += 2;
            } else if (cp < 0x10000) {
                o[0] = (char)(0xE0 | (cp >> 12));
                o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                o[2] = (char)(0x80 | (cp & 0x3F));
                len += 3;
            } else {
                o[0] = (char)(0xF0 | (cp >> 18));
                o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
                o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
                o[3] = (char)(0x80 | (cp & 0x3F));
                len += 4;
            }
            continue;
        }
        default:
            return -1;
        }
        r->buf[len++] = out;
    }
    return -1;
}

static json_t *read_number(reader_t *r)
{
    const unsigned char *s = r->p, *q = s;
    int real = 0;
    if (q < r->end && *q == '-') q++;
    if (q >= r->end || *q < '0' || *q > '9') return NULL;
    if (*q == '0') {
        q++;
        if (q < r->end && *q >= '0' && *q <= '9') return NULL; /* leading zero */
    } else {
        while (q < r->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < r->end && *q == '.') {
        real = 1;
        q++;
        if (q >= r->end || *q < '0' || *q > '9') return NULL;
        while (q < r->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < r->end && (*q == 'e' || *q == 'E')) {
        real = 1;
        q++;
        if (q < r->end && (*q == '+' || *q == '-')) q++;
        if (q >= r->end || *q < '0' || *q > '9') return NULL;
        while (q < r->end && *q >= '0' && *q <= '9')
            q++;
    }
    char tmp[64], *text = tmp, *heap = NULL;
    size_t n = (size_t)(q - s);
    if (n >= sizeof tmp) {
        heap = malloc(n + 1);
        if (!heap) return NULL;
        text = heap;
    }
    memcpy(text, s, n);
    text[n] = '\0';
    json_t *v = NULL;
    errno = 0;
    if (!real) {
        long long i = strtoll(text, NULL, 10);
        if (errno != ERANGE) v = json_integer((json_int_t)i);
    } else {
        double d = strtod(text, NULL);
        if (!((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)) v = json_real(d);
    }
    free(heap);
    r->p = q;
    return v;
}

static int literal(reader_t *r, const char *word, size_t n)
{
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0) return -1;
    r->p += n;
    return 0;
}

/* jansson's lexer drops one NUL byte right after a number or a literal (it cannot push a NUL
 * back): "2\0" and "[true\0]" parse. Done here too, so that both accept the same texts. */
static json_t *after_token(reader_t *r, json_t *v)
{
    if (v && r->p < r->end && *r->p == '\0') r->p++;
    return v;
}

static json_t *read_value(reader_t *r, unsigned depth)
{
    skip_ws(r);
    if (r->p >= r->end) return NULL;
    switch (*r->p) {
    case '{': {
        if (depth >= JSON_READ_DEPTH_MAX) return NULL;
        r->p++;
        json_t *o = json_object();
        if (!o) return NULL;
        skip_ws(r);
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            return o;
        }
        for (;;) {
            skip_ws(r);
            const char *k;
            size_t kn;
            if (r->p >= r->end || *r->p != '"') break;
            r->p++;
            if (read_string(r, &k, &kn) < 0) break;
            /* The key may live in r->buf, which the value's strings reuse: copy it first. */
            char kbuf[128], *key = kn < sizeof kbuf ? kbuf : malloc(kn + 1);
            if (!key) break;
            memcpy(key, k, kn);
            key[kn] = '\0';
            skip_ws(r);
            json_t *v = NULL;
            if (r->p < r->end && *r->p == ':') {
                r->p++;
                v = read_value(r, depth + 1);
            }
            int bad = !v || json_object_setn_new_nocheck(o, key, kn, v) != 0;
            if (key != kbuf) free(key);
            if (bad) break;
            skip_ws(r);
            if (r->p < r->end && *r->p == ',') {
                r->p++;
                continue;
            }
            if (r->p < r->end && *r->p == '}') {
                r->p++;
                return o;
            }
            break;
        }
        json_decref(o);
        return NULL;
    }
    case '[': {
        if (depth >= JSON_READ_DEPTH_MAX) return NULL;
        r->p++;
        json_t *a = json_array();
        if (!a) return NULL;
        skip_ws(r);
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            return a;
        }
        for (;;) {
            json_t *v = read_value(r, depth + 1);
            if (!v || json_array_append_new(a, v) != 0) break;
            skip_ws(r);
            if (r->p < r->end && *r->p == ',') {
                r->p++;
                continue;
            }
            if (r->p < r->end && *r->p == ']') {
                r->p++;
                return a;
            }
            break;
        }
        json_decref(a);
        return NULL;
    }
    case '"': {
        r->p++;
        const char *s;
        size_t n;
        if (read_string(r, &s, &n) < 0) return NULL;
        return json_stringn_nocheck(s, n);
    }
    case 't':
        return after_token(r, literal(r, "true", 4) < 0 ? NULL : json_true());
    case 'f':
        return after_token(r, literal(r, "false", 5) < 0 ? NULL : json_false());
    case 'n':
        return after_token(r, literal(r, "null", 4) < 0 ? NULL : json_null());
    default:
        return after_token(r, read_number(r));
    }
}

json_t *json_read(const char *text, size_t len)
{
    reader_t r = {(const unsigned char *)text, (const unsigned char *)text + len, NULL, 0};
    json_t *v = read_value(&r, 0);
    skip_ws(&r);
    if (v && r.p != r.end) {
        json_decref(v);
        v = NULL;
    }
    free(r.buf);
    return v;
}
