/* ev_filter.c — the event-route filter language (ev_filter.h): a lexer and a recursive-descent
 * parser that compile a filter into a flat array of nodes, and a matcher that walks those nodes
 * against a CloudEvent without allocating, so one compiled filter serves every delivery thread.
 *
 * Semantics, where ADT's route documentation is silent, follow ADT's query language (itself
 * Cosmos DB's), because a filter author reads the two languages as one:
 *   - A missing attribute or $body path is *undefined*. Every comparison, function and IN with
 *     an undefined operand is undefined, and so is a comparison of two values of different
 *     types ('5' = 5) or an ordering of values that have none (true < false, objects).
 *   - NOT, AND and OR use three-valued logic (NOT undefined is undefined; false AND undefined is
 *     false; true OR undefined is true) and an event passes only when the whole filter is true.
 *     So `$body.prop != null` (ADT's own example) passes exactly the events whose data has prop
 *     set to something other than null, and `NOT $body.x = 1` does not pass events without x.
 *   - `= null` and `!= null` compare any present value with null (an object is != null); they
 *     are the only comparisons defined for objects and arrays, which $body paths may end at but
 *     never look into ("not inside arrays", adt-limits-and-events.md §3.1).
 *   - Keywords, function names, attribute names and `$body` are case-insensitive; $body path
 *     segments and every value are case-sensitive, strings compare byte by byte (ordinal).
 *   - `x NOT IN [...]` is accepted as NOT (x IN [...]). ADT's route page lists no IN at all, but
 *     its query language has IN and NOT IN and filters written for one are tried on the other;
 *     refusing NOT IN would only force `NOT x IN [...]`, which means the same. */
#include "events/ev_filter.h"

#include "core/limits.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- values ------------------------------------------------------------------------------- */

typedef enum {
    V_UNDEF, /* a missing attribute or path */
    V_NULL,
    V_BOOL,
    V_INT,
    V_REAL,
    V_STR,
    V_OTHER /* an object or array: present, not null, equal to no literal */
} val_kind_t;

typedef struct {
    val_kind_t kind;
    bool b;
    long long i;
    double d;
    const char *s; /* V_STR: not NUL-terminated, may hold NULs */
    size_t len;
} val_t;

/* Three-valued logic: an undefined operand makes a comparison neither true nor false. */
typedef enum { TRI_FALSE = 0, TRI_TRUE = 1, TRI_UNDEF = 2 } tri_t;

/* ---- compiled form ------------------------------------------------------------------------ */

/* The CloudEvents attributes a filter may name (adt-limits-and-events.md §3.1, §4.1). */
static const char *const attributes[] = {
    "type",       "source",          "subject",     "id",         "time",
    "dataschema", "datacontenttype", "specversion", "traceparent"};
#define ATTRIBUTE_COUNT (sizeof attributes / sizeof *attributes)

typedef enum { OPD_LITERAL, OPD_ATTRIBUTE, OPD_BODY } operand_kind_t;

typedef struct {
    operand_kind_t kind;
    val_t lit;     /* OPD_LITERAL; strings point into the filter's pool */
    int attribute; /* OPD_ATTRIBUTE: index in attributes[] */
    size_t seg;    /* OPD_BODY: first segment in segs[] */
    size_t nsegs;  /* OPD_BODY: 0 is $body itself */
} operand_t;

typedef enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE } cmp_op_t;
typedef enum { FN_STARTS_WITH, FN_ENDS_WITH, FN_CONTAINS } fn_t;

typedef enum { N_CONST, N_AND, N_OR, N_NOT, N_CMP, N_FN, N_IN } node_kind_t;

typedef struct {
    node_kind_t kind;
    bool value;     /* N_CONST; N_IN: true for NOT IN */
    cmp_op_t op;    /* N_CMP */
    fn_t fn;        /* N_FN */
    operand_t a, b; /* N_CMP, N_FN; N_IN uses a */
    size_t first;   /* N_AND, N_OR: first child in kids[]; N_NOT: the child node;
                       N_IN: first item in items[] */
    size_t count;   /* N_AND, N_OR: children; N_IN: items */
} node_t;

struct ev_filter {
    node_t *nodes; /* nodes[root] is the whole filter; children come before their parents */
    size_t nnodes, root;
    size_t *kids; /* children of AND/OR nodes, each node's run contiguous */
    size_t nkids;
    const char **segs; /* $body path segments, NUL-terminated, in pool */
    size_t nsegs;
    val_t *items; /* IN list items */
    size_t nitems;
    char *pool; /* unescaped strings and path segments; never longer than the filter + 1 */
    size_t pool_used, pool_cap;
};

/* ---- lexer -------------------------------------------------------------------------------- */

typedef enum {
    T_END,
    T_LPAREN,
    T_RPAREN,
    T_LBRACKET,
    T_RBRACKET,
    T_COMMA,
    T_CMP,    /* op holds which */
    T_STRING, /* span includes the quotes */
    T_NUMBER,
    T_WORD, /* keyword, function or attribute name */
    T_BODY  /* $body or $body.a.b */
} tok_kind_t;

typedef struct {
    tok_kind_t kind;
    size_t pos, end; /* byte span in the filter text */
    cmp_op_t op;
} tok_t;

typedef struct {
    const char *text;
    size_t len;
    ev_filter_t *f;
    tok_t tok; /* the current token */
    castor_err *err;
} parser_t;

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool word_start(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '$';
}

static bool word_char(unsigned char c)
{
    return word_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Offsets in messages count characters, not bytes, so a client can point a caret at them. */
static size_t char_offset(const parser_t *p, size_t byte)
{
    size_t n = 0;
    for (size_t i = 0; i < byte && i < p->len; i++)
        if (((unsigned char)p->text[i] & 0xC0) != 0x80) n++;
    return n;
}

/* "invalid event route filter at offset N: <what>", as rc (EINVAL, or ELIMIT for a cap). The
 * message is cut on a character boundary when long so it stays valid UTF-8 in a JSON body. */
static int vfail(parser_t *p, int rc, size_t byte, const char *fmt, va_list ap)
{
    char what[512];
    int n = vsnprintf(what, sizeof what, fmt, ap);
    if (n >= (int)sizeof what) {
        size_t cut = sizeof what - 4;
        while (cut > 0 && ((unsigned char)what[cut] & 0xC0) == 0x80)
            cut--;
        memcpy(what + cut, "...", 4);
    }
    return castor_err_http(p->err, rc, 400, "EventRouteFilterInvalid",
                           "invalid event route filter at offset %zu: %s", char_offset(p, byte),
                           what);
}

static int fail_at(parser_t *p, size_t byte, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(parser_t *p, size_t byte, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(p, CASTOR_EINVAL, byte, fmt, ap);
    va_end(ap);
    return rc;
}

static int limit_at(parser_t *p, size_t byte, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int limit_at(parser_t *p, size_t byte, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(p, CASTOR_ELIMIT, byte, fmt, ap);
    va_end(ap);
    return rc;
}

/* Describes the current token for "found ...": at most 40 bytes of it, cut on a character
 * boundary, into buf. */
static const char *found(const parser_t *p, char *buf, size_t cap)
{
    const tok_t *t = &p->tok;
    if (t->kind == T_END) return "the end of the filter";
    size_t n = t->end - t->pos;
    size_t shown = n;
    if (shown > 40)
        for (shown = 40; shown > 0 && ((unsigned char)p->text[t->pos + shown] & 0xC0) == 0x80;
             shown--)
            continue;
    /* A NUL byte would end the message early; show what comes before it. */
    const char *nul = memchr(p->text + t->pos, '\0', shown);
    if (nul) shown = (size_t)(nul - (p->text + t->pos));
    /* A string token carries its own quotes. */
    bool str = t->kind == T_STRING;
    int w = snprintf(buf, cap, "%s%.*s%s%s", str ? "string " : "'", (int)shown, p->text + t->pos,
                     shown < n ? "..." : "", str ? "" : "'");
    if (w < 0 || (size_t)w >= cap) return "a token";
    return buf;
}

static int expected(parser_t *p, const char *what)
{
    char buf[64];
    return fail_at(p, p->tok.pos, "expected %s, found %s", what, found(p, buf, sizeof buf));
}

/* Reads the token at byte offset at into *t. Malformed tokens (an unterminated string, a stray
 * character) fail here with their own offset. */
static int lex(parser_t *p, size_t at, tok_t *t)
{
    const char *s = p->text;
    size_t n = p->len, i = at;
    while (i < n && is_space((unsigned char)s[i]))
        i++;
    t->pos = i;
    t->op = OP_EQ;
    if (i == n) {
        t->kind = T_END;
        t->end = i;
        return 0;
    }
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '(':
        t->kind = T_LPAREN, t->end = i + 1;
        return 0;
    case ')':
        t->kind = T_RPAREN, t->end = i + 1;
        return 0;
    case '[':
        t->kind = T_LBRACKET, t->end = i + 1;
        return 0;
    case ']':
        t->kind = T_RBRACKET, t->end = i + 1;
        return 0;
    case ',':
        t->kind = T_COMMA, t->end = i + 1;
        return 0;
    case '=':
        if (i + 1 < n && s[i + 1] == '=')
            return fail_at(p, i, "'==' is not an operator: compare with '='");
        t->kind = T_CMP, t->op = OP_EQ, t->end = i + 1;
        return 0;
    case '!':
        if (i + 1 < n && s[i + 1] == '=') {
            t->kind = T_CMP, t->op = OP_NE, t->end = i + 2;
            return 0;
        }
        return fail_at(p, i, "'!' is not an operator: use '!=' or NOT");
    case '<':
        if (i + 1 < n && s[i + 1] == '>') return fail_at(p, i, "'<>' is not an operator: use '!='");
        t->kind = T_CMP, t->end = i + 1, t->op = OP_LT;
        if (i + 1 < n && s[i + 1] == '=') t->op = OP_LE, t->end = i + 2;
        return 0;
    case '>':
        t->kind = T_CMP, t->end = i + 1, t->op = OP_GT;
        if (i + 1 < n && s[i + 1] == '=') t->op = OP_GE, t->end = i + 2;
        return 0;
    case '\'':
        for (size_t j = i + 1; j < n; j++) {
            if (s[j] != '\'') continue;
            if (j + 1 < n && s[j + 1] == '\'') { /* '' is a quote inside the string */
                j++;
                continue;
            }
            t->kind = T_STRING, t->end = j + 1;
            return 0;
        }
        return fail_at(p, i,
                       "the string starting here has no closing quote (') "
                       "(a quote inside a string is written '')");
    case '"':
        return fail_at(p, i, "strings are written in single quotes: 'value'");
    default:
        break;
    }
    if (is_digit(c) || (c == '-' && i + 1 < n && is_digit((unsigned char)s[i + 1]))) {
        size_t j = i + 1;
        while (j < n && is_digit((unsigned char)s[j]))
            j++;
        if (j < n && s[j] == '.') {
            j++;
            if (j == n || !is_digit((unsigned char)s[j]))
                return fail_at(p, i, "a number's decimal point must be followed by digits");
            while (j < n && is_digit((unsigned char)s[j]))
                j++;
        }
        if (j < n && (s[j] == 'e' || s[j] == 'E')) {
            size_t k = j + 1;
            if (k < n && (s[k] == '+' || s[k] == '-')) k++;
            if (k == n || !is_digit((unsigned char)s[k]))
                return fail_at(p, i, "a number's exponent must have digits");
            while (k < n && is_digit((unsigned char)s[k]))
                k++;
            j = k;
        }
        if (j < n && (word_char((unsigned char)s[j]) || s[j] == '.'))
            return fail_at(p, i,
                           "a number must not run into letters: put a space after it, or "
                           "quote the value as a string");
        t->kind = T_NUMBER, t->end = j;
        return 0;
    }
    if (word_start(c)) {
        size_t j = i + 1;
        while (j < n && word_char((unsigned char)s[j]))
            j++;
        if (j - i == 5 && strncasecmp(s + i, "$body", 5) == 0) {
            while (j < n && s[j] == '.') {
                size_t k = j + 1;
                while (k < n && word_char((unsigned char)s[k]))
                    k++;
                if (k == j + 1)
                    return fail_at(p, j + 1, "expected a property name after '.' in a $body path");
                j = k;
            }
            if (j < n && s[j] == '[')
                return fail_at(p, j,
                               "a $body path cannot index into arrays or use [...]: "
                               "filters see object properties only, as in ADT");
            t->kind = T_BODY, t->end = j;
            return 0;
        }
        t->kind = T_WORD, t->end = j;
        return 0;
    }
    if (c < 0x20 || c == 0x7f) return fail_at(p, i, "unexpected control character 0x%02x", c);
    size_t j = i + 1;
    while (j < n && ((unsigned char)s[j] & 0xC0) == 0x80)
        j++;
    return fail_at(p, i, "unexpected character '%.*s'", (int)(j - i), s + i);
}

static int advance(parser_t *p)
{
    return lex(p, p->tok.end, &p->tok);
}

static bool word_is(const parser_t *p, const tok_t *t, const char *kw)
{
    size_t n = t->end - t->pos;
    return t->kind == T_WORD && strlen(kw) == n && strncasecmp(p->text + t->pos, kw, n) == 0;
}

/* ---- building ----------------------------------------------------------------------------- */

static int nomem(parser_t *p)
{
    return castor_err_set(p->err, CASTOR_ENOMEM, "out of memory compiling an event route filter");
}

/* The array's capacity is the next power of two at or above its length (at least 8), so
 * growing is needed exactly when the length is 8, 16, 32... or 0. */
static int reserve(parser_t *p, void **arr, size_t used, size_t elem)
{
    if (used == 0 || (used >= 8 && (used & (used - 1)) == 0)) {
        size_t cap = used ? used * 2 : 8;
        void *n = realloc(*arr, cap * elem);
        if (!n) return nomem(p);
        *arr = n;
    }
    return 0;
}

static int new_node(parser_t *p, const node_t *n, size_t *out)
{
    ev_filter_t *f = p->f;
    int rc = reserve(p, (void **)&f->nodes, f->nnodes, sizeof *f->nodes);
    if (rc < 0) return rc;
    f->nodes[f->nnodes] = *n;
    *out = f->nnodes++;
    return 0;
}

/* Copies len bytes into the pool with a NUL after them; the pool was sized so this fits. */
static char *pool_put(parser_t *p, const char *s, size_t len)
{
    ev_filter_t *f = p->f;
    if (f->pool_used + len + 1 > f->pool_cap) return NULL;
    char *d = f->pool + f->pool_used;
    memcpy(d, s, len);
    d[len] = '\0';
    f->pool_used += len + 1;
    return d;
}

/* The current token, a literal, into *v; the caller knows it is one. */
static int take_literal(parser_t *p, val_t *v)
{
    const tok_t *t = &p->tok;
    const char *s = p->text + t->pos;
    size_t n = t->end - t->pos;
    memset(v, 0, sizeof *v);
    if (t->kind == T_STRING) {
        /* Unescape '' into the pool: the result is shorter than the quoted token. */
        ev_filter_t *f = p->f;
        if (f->pool_used + n > f->pool_cap)
            return castor_err_set(p->err, CASTOR_EINTERNAL, "filter string pool overflow");
        char *d = f->pool + f->pool_used;
        size_t k = 0;
        for (size_t i = 1; i + 1 < n; i++) {
            d[k++] = s[i];
            if (s[i] == '\'') i++;
        }
        d[k] = '\0';
        f->pool_used += k + 1;
        v->kind = V_STR, v->s = d, v->len = k;
    } else if (t->kind == T_NUMBER) {
        char buf[64];
        if (n >= sizeof buf)
            return fail_at(p, t->pos, "a number may be at most %zu characters long",
                           sizeof buf - 1);
        memcpy(buf, s, n);
        buf[n] = '\0';
        errno = 0;
        if (strpbrk(buf, ".eE")) {
            v->kind = V_REAL, v->d = strtod(buf, NULL);
            if (errno == ERANGE && fabs(v->d) > 1.0)
                return fail_at(p, t->pos, "the number %s is out of range", buf);
        } else {
            v->kind = V_INT, v->i = strtoll(buf, NULL, 10);
            if (errno == ERANGE)
                return fail_at(p, t->pos, "the integer %s is out of range (at most 19 digits)",
                               buf);
        }
    } else if (word_is(p, t, "true") || word_is(p, t, "false")) {
        v->kind = V_BOOL, v->b = word_is(p, t, "true");
    } else if (word_is(p, t, "null")) {
        v->kind = V_NULL;
    } else {
        return expected(p, "a string, number, true, false or null");
    }
    return advance(p);
}

static bool is_literal(const parser_t *p, const tok_t *t)
{
    return t->kind == T_STRING || t->kind == T_NUMBER || word_is(p, t, "true") ||
           word_is(p, t, "false") || word_is(p, t, "null");
}

static const char *const operand_expected =
    "an attribute (type, source, subject, id, time, dataschema, datacontenttype, specversion, "
    "traceparent), a $body path, or a value";

static int parse_operand(parser_t *p, operand_t *o)
{
    memset(o, 0, sizeof *o);
    const tok_t *t = &p->tok;
    if (is_literal(p, t)) {
        o->kind = OPD_LITERAL;
        return take_literal(p, &o->lit);
    }
    if (t->kind == T_BODY) {
        ev_filter_t *f = p->f;
        o->kind = OPD_BODY;
        o->seg = f->nsegs;
        /* Segments follow "$body", each after a '.'; the lexer checked they are not empty. */
        for (size_t i = t->pos + 5; i < t->end;) {
            size_t j = i + 1;
            while (j < t->end && p->text[j] != '.')
                j++;
            int rc = reserve(p, (void **)&f->segs, f->nsegs, sizeof *f->segs);
            if (rc < 0) return rc;
            const char *seg = pool_put(p, p->text + i + 1, j - i - 1);
            if (!seg) return castor_err_set(p->err, CASTOR_EINTERNAL, "filter pool overflow");
            f->segs[f->nsegs++] = seg;
            o->nsegs++;
            i = j;
        }
        return advance(p);
    }
    if (t->kind == T_WORD && !word_is(p, t, "AND") && !word_is(p, t, "OR") &&
        !word_is(p, t, "NOT") && !word_is(p, t, "IN")) {
        for (size_t i = 0; i < ATTRIBUTE_COUNT; i++)
            if (word_is(p, t, attributes[i])) {
                o->kind = OPD_ATTRIBUTE;
                o->attribute = (int)i;
                return advance(p);
            }
        size_t n = t->end - t->pos;
        if (n > 0 && p->text[t->pos] == '$')
            return fail_at(p, t->pos,
                           "'%.*s' is not known: event data is read through $body, e.g. "
                           "$body.%.*s",
                           (int)(n > 40 ? 40 : n), p->text + t->pos, (int)(n > 40 ? 40 : n),
                           p->text + t->pos);
        return fail_at(p, t->pos,
                       "'%.*s' is not a CloudEvents attribute a filter can test: use type, "
                       "source, subject, id, time, dataschema, datacontenttype, specversion or "
                       "traceparent, or $body.<path> for the event's data",
                       (int)(n > 40 ? 40 : n), p->text + t->pos);
    }
    return expected(p, operand_expected);
}

static int parse_or(parser_t *p, unsigned depth, size_t *out);

/* FN '(' operand ',' operand ')' — the current token is the function's name. */
static int parse_function(parser_t *p, fn_t fn, size_t *out)
{
    node_t n = {.kind = N_FN, .fn = fn};
    int rc;
    if ((rc = advance(p)) < 0) return rc;
    if (p->tok.kind != T_LPAREN) return expected(p, "'(' after the function's name");
    if ((rc = advance(p)) < 0 || (rc = parse_operand(p, &n.a)) < 0) return rc;
    if (p->tok.kind != T_COMMA) return expected(p, "',' between the function's two arguments");
    if ((rc = advance(p)) < 0 || (rc = parse_operand(p, &n.b)) < 0) return rc;
    if (p->tok.kind != T_RPAREN) return expected(p, "')' after the function's two arguments");
    if ((rc = advance(p)) < 0) return rc;
    return new_node(p, &n, out);
}

/* '[' literal (',' literal)* ']' after IN, the current token being '['. */
static int parse_in_list(parser_t *p, node_t *n)
{
    ev_filter_t *f = p->f;
    int rc;
    size_t open = p->tok.pos;
    if ((rc = advance(p)) < 0) return rc;
    n->first = f->nitems;
    for (;;) {
        if (!is_literal(p, &p->tok))
            return expected(p, n->count == 0 && p->tok.kind == T_RBRACKET
                                   ? "a value: an IN list has at least one"
                                   : "a value (string, number, true, false or null)");
        if (n->count == CASTOR_EVENT_FILTER_IN_ITEMS_MAX)
            return limit_at(p, open, "an IN list may hold at most %u values",
                            CASTOR_EVENT_FILTER_IN_ITEMS_MAX);
        if ((rc = reserve(p, (void **)&f->items, f->nitems, sizeof *f->items)) < 0) return rc;
        if ((rc = take_literal(p, &f->items[f->nitems])) < 0) return rc;
        f->nitems++;
        n->count++;
        if (p->tok.kind == T_RBRACKET) break;
        if (p->tok.kind != T_COMMA) return expected(p, "',' or ']' in the IN list");
        if ((rc = advance(p)) < 0) return rc;
    }
    return advance(p);
}

static bool is_cmp_or_in(const parser_t *p, const tok_t *t)
{
    return t->kind == T_CMP || word_is(p, t, "IN") || word_is(p, t, "NOT");
}

/* A predicate: '(' filter ')', true, false, a function, a comparison, or [NOT] IN. */
static int parse_predicate(parser_t *p, unsigned depth, size_t *out)
{
    int rc;
    tok_t *t = &p->tok;
    if (t->kind == T_LPAREN) {
        size_t open = t->pos;
        if ((rc = advance(p)) < 0 || (rc = parse_or(p, depth + 1, out)) < 0) return rc;
        if (p->tok.kind != T_RPAREN) {
            char buf[64];
            return fail_at(p, p->tok.pos, "expected ')' to close the '(' at offset %zu, found %s",
                           char_offset(p, open), found(p, buf, sizeof buf));
        }
        return advance(p);
    }
    if (word_is(p, t, "STARTS_WITH")) return parse_function(p, FN_STARTS_WITH, out);
    if (word_is(p, t, "ENDS_WITH")) return parse_function(p, FN_ENDS_WITH, out);
    if (word_is(p, t, "CONTAINS")) return parse_function(p, FN_CONTAINS, out);
    if (word_is(p, t, "true") || word_is(p, t, "false")) {
        /* `true` alone is a filter; `true = $body.x` is a comparison. */
        tok_t next;
        if ((rc = lex(p, t->end, &next)) < 0) return rc;
        if (!is_cmp_or_in(p, &next)) {
            node_t n = {.kind = N_CONST, .value = word_is(p, t, "true")};
            if ((rc = advance(p)) < 0) return rc;
            return new_node(p, &n, out);
        }
    }
    node_t n = {.kind = N_CMP};
    if ((rc = parse_operand(p, &n.a)) < 0) return rc;
    if (p->tok.kind == T_CMP) {
        n.op = p->tok.op;
        if ((rc = advance(p)) < 0 || (rc = parse_operand(p, &n.b)) < 0) return rc;
        return new_node(p, &n, out);
    }
    bool negated = false;
    if (word_is(p, &p->tok, "NOT")) {
        negated = true;
        if ((rc = advance(p)) < 0) return rc;
        if (!word_is(p, &p->tok, "IN")) return expected(p, "IN after NOT");
    }
    if (!word_is(p, &p->tok, "IN"))
        return expected(p, "a comparison (=, !=, <, <=, >, >=) or IN after the operand");
    if ((rc = advance(p)) < 0) return rc;
    if (p->tok.kind != T_LBRACKET) return expected(p, "'[' to open the IN list");
    n.kind = N_IN;
    n.value = negated;
    if ((rc = parse_in_list(p, &n)) < 0) return rc;
    return new_node(p, &n, out);
}

static int parse_not(parser_t *p, unsigned depth, size_t *out)
{
    if (!word_is(p, &p->tok, "NOT")) return parse_predicate(p, depth, out);
    if (depth >= CASTOR_EVENT_FILTER_DEPTH_MAX)
        return limit_at(p, p->tok.pos,
                        "the filter nests NOT and parentheses more than %u deep: simplify it",
                        CASTOR_EVENT_FILTER_DEPTH_MAX);
    int rc;
    size_t child;
    if ((rc = advance(p)) < 0 || (rc = parse_not(p, depth + 1, &child)) < 0) return rc;
    node_t n = {.kind = N_NOT, .first = child};
    return new_node(p, &n, out);
}

/* operand (AND operand)* or (OR ...)*: one n-ary node, so long chains never deepen the tree.
 * Children are gathered in a local list first because a child's own children are appended to
 * kids[] while it is parsed. */
static int parse_chain(parser_t *p, unsigned depth, bool is_or, size_t *out)
{
    size_t local[64], *list = local, n = 0, cap = 64;
    int rc;
    for (;;) {
        size_t child;
        rc = is_or ? parse_chain(p, depth, false, &child) : parse_not(p, depth, &child);
        if (rc < 0) goto done;
        if (n == cap) {
            size_t *bigger = malloc(cap * 2 * sizeof *bigger);
            if (!bigger) {
                rc = nomem(p);
                goto done;
            }
            memcpy(bigger, list, n * sizeof *list);
            if (list != local) free(list);
            list = bigger, cap *= 2;
        }
        list[n++] = child;
        if (!word_is(p, &p->tok, is_or ? "OR" : "AND")) break;
        if ((rc = advance(p)) < 0) goto done;
    }
    if (n == 1) {
        *out = list[0];
        rc = 0;
        goto done;
    }
    ev_filter_t *f = p->f;
    node_t node = {.kind = is_or ? N_OR : N_AND, .first = f->nkids, .count = n};
    for (size_t i = 0; i < n; i++) {
        if ((rc = reserve(p, (void **)&f->kids, f->nkids, sizeof *f->kids)) < 0) goto done;
        f->kids[f->nkids++] = list[i];
    }
    rc = new_node(p, &node, out);
done:
    if (list != local) free(list);
    return rc;
}

static int parse_or(parser_t *p, unsigned depth, size_t *out)
{
    if (depth > CASTOR_EVENT_FILTER_DEPTH_MAX)
        return limit_at(p, p->tok.pos,
                        "the filter nests NOT and parentheses more than %u deep: simplify it",
                        CASTOR_EVENT_FILTER_DEPTH_MAX);
    return parse_chain(p, depth, true, out);
}

/* ---- compile ------------------------------------------------------------------------------ */

int ev_filter_compile(const char *text, size_t len, ev_filter_t **out, castor_err *err)
{
    *out = NULL;
    parser_t p = {.text = text, .len = len, .err = err};
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)text[i] & 0xC0) == 0x80) continue;
        if (++chars > CASTOR_EVENT_FILTER_LENGTH_MAX)
            return castor_err_http(err, CASTOR_ELIMIT, 400, "EventRouteFilterInvalid",
                                   "an event route filter may be at most %u characters long; "
                                   "this one has more",
                                   CASTOR_EVENT_FILTER_LENGTH_MAX);
    }
    ev_filter_t *f = calloc(1, sizeof *f);
    if (!f) return castor_err_set(err, CASTOR_ENOMEM, "out of memory compiling a filter");
    p.f = f;
    f->pool_cap = len + 1;
    f->pool = malloc(f->pool_cap);
    int rc;
    if (!f->pool) {
        rc = nomem(&p);
        goto fail;
    }
    if ((rc = lex(&p, 0, &p.tok)) < 0) goto fail;
    if (p.tok.kind == T_END) {
        rc = castor_err_http(err, CASTOR_EINVAL, 400, "EventRouteFilterInvalid",
                             "the event route filter is empty: use 'true' to route every event "
                             "or 'false' to route none");
        goto fail;
    }
    if ((rc = parse_or(&p, 0, &f->root)) < 0) goto fail;
    if (p.tok.kind != T_END) {
        rc = expected(&p, p.tok.kind == T_RPAREN ? "the end of the filter (this ')' has no '(')"
                                                 : "AND, OR or the end of the filter");
        goto fail;
    }
    *out = f;
    return 0;
fail:
    ev_filter_free(f);
    return rc;
}

void ev_filter_free(ev_filter_t *f)
{
    if (!f) return;
    free(f->nodes);
    free(f->kids);
    free(f->segs);
    free(f->items);
    free(f->pool);
    free(f);
}

/* ---- match -------------------------------------------------------------------------------- */

static val_t from_json(const json_t *j)
{
    val_t v = {.kind = V_UNDEF};
    if (!j) return v;
    switch (json_typeof(j)) {
    case JSON_NULL:
        v.kind = V_NULL;
        break;
    case JSON_TRUE:
        v.kind = V_BOOL, v.b = true;
        break;
    case JSON_FALSE:
        v.kind = V_BOOL, v.b = false;
        break;
    case JSON_INTEGER:
        v.kind = V_INT, v.i = json_integer_value(j);
        break;
    case JSON_REAL:
        v.kind = V_REAL, v.d = json_real_value(j);
        break;
    case JSON_STRING:
        v.kind = V_STR, v.s = json_string_value(j), v.len = json_string_length(j);
        break;
    default:
        v.kind = V_OTHER;
        break;
    }
    return v;
}

static val_t resolve(const ev_filter_t *f, const operand_t *o, const json_t *event)
{
    switch (o->kind) {
    case OPD_LITERAL:
        return o->lit;
    case OPD_ATTRIBUTE:
        return from_json(json_is_object(event) ? json_object_get(event, attributes[o->attribute])
                                               : NULL);
    case OPD_BODY:
        break;
    }
    const json_t *j = json_is_object(event) ? json_object_get(event, "data") : NULL;
    for (size_t i = 0; j && i < o->nsegs; i++)
        /* Arrays and scalars have no properties: the path is undefined past them. */
        j = json_is_object(j) ? json_object_get(j, f->segs[o->seg + i]) : NULL;
    return from_json(j);
}

static bool numeric(const val_t *v)
{
    return v->kind == V_INT || v->kind == V_REAL;
}

/* <0, 0, >0 for two numbers; integers compare exactly, anything with a double as doubles. */
static int num_cmp(const val_t *a, const val_t *b)
{
    if (a->kind == V_INT && b->kind == V_INT) return (a->i > b->i) - (a->i < b->i);
    double x = a->kind == V_INT ? (double)a->i : a->d;
    double y = b->kind == V_INT ? (double)b->i : b->d;
    return (x > y) - (x < y);
}

static int str_cmp(const val_t *a, const val_t *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->s, b->s, n) : 0;
    if (c) return c;
    return (a->len > b->len) - (a->len < b->len);
}

/* Equality in three values: null is equal only to null and unequal to any present value;
 * otherwise values of different types are incomparable. */
static tri_t equal(const val_t *a, const val_t *b)
{
    if (a->kind == V_UNDEF || b->kind == V_UNDEF) return TRI_UNDEF;
    if (a->kind == V_NULL || b->kind == V_NULL) return a->kind == b->kind ? TRI_TRUE : TRI_FALSE;
    if (numeric(a) && numeric(b)) return num_cmp(a, b) == 0 ? TRI_TRUE : TRI_FALSE;
    if (a->kind != b->kind || a->kind == V_OTHER) return TRI_UNDEF;
    if (a->kind == V_BOOL) return a->b == b->b ? TRI_TRUE : TRI_FALSE;
    return str_cmp(a, b) == 0 ? TRI_TRUE : TRI_FALSE;
}

static tri_t compare(cmp_op_t op, const val_t *a, const val_t *b)
{
    if (op == OP_EQ) return equal(a, b);
    if (op == OP_NE) {
        tri_t e = equal(a, b);
        return e == TRI_UNDEF ? TRI_UNDEF : e == TRI_TRUE ? TRI_FALSE : TRI_TRUE;
    }
    int c;
    if (numeric(a) && numeric(b))
        c = num_cmp(a, b);
    else if (a->kind == V_STR && b->kind == V_STR)
        c = str_cmp(a, b);
    else
        return TRI_UNDEF;
    switch (op) {
    case OP_LT:
        return c < 0 ? TRI_TRUE : TRI_FALSE;
    case OP_LE:
        return c <= 0 ? TRI_TRUE : TRI_FALSE;
    case OP_GT:
        return c > 0 ? TRI_TRUE : TRI_FALSE;
    default:
        return c >= 0 ? TRI_TRUE : TRI_FALSE;
    }
}

static tri_t function(fn_t fn, const val_t *x, const val_t *y)
{
    if (x->kind != V_STR || y->kind != V_STR) return TRI_UNDEF;
    if (y->len > x->len) return TRI_FALSE;
    bool r;
    switch (fn) {
    case FN_STARTS_WITH:
        r = memcmp(x->s, y->s, y->len) == 0;
        break;
    case FN_ENDS_WITH:
        r = memcmp(x->s + x->len - y->len, y->s, y->len) == 0;
        break;
    default:
        r = y->len == 0 || memmem(x->s, x->len, y->s, y->len) != NULL;
        break;
    }
    return r ? TRI_TRUE : TRI_FALSE;
}

/* Recursion is bounded by the compiled depth: AND/OR chains are one node each, and NOT and
 * parentheses nest at most CASTOR_EVENT_FILTER_DEPTH_MAX deep. */
static tri_t eval(const ev_filter_t *f, size_t i, const json_t *event)
{
    const node_t *n = &f->nodes[i];
    switch (n->kind) {
    case N_CONST:
        return n->value ? TRI_TRUE : TRI_FALSE;
    case N_NOT: {
        tri_t r = eval(f, n->first, event);
        return r == TRI_UNDEF ? TRI_UNDEF : r == TRI_TRUE ? TRI_FALSE : TRI_TRUE;
    }
    case N_AND:
    case N_OR: {
        /* AND stops at the first false, OR at the first true; undefined otherwise wins. */
        tri_t stop = n->kind == N_AND ? TRI_FALSE : TRI_TRUE;
        tri_t r = n->kind == N_AND ? TRI_TRUE : TRI_FALSE;
        for (size_t k = 0; k < n->count; k++) {
            tri_t c = eval(f, f->kids[n->first + k], event);
            if (c == stop) return stop;
            if (c == TRI_UNDEF) r = TRI_UNDEF;
        }
        return r;
    }
    case N_CMP: {
        val_t a = resolve(f, &n->a, event), b = resolve(f, &n->b, event);
        return compare(n->op, &a, &b);
    }
    case N_FN: {
        val_t a = resolve(f, &n->a, event), b = resolve(f, &n->b, event);
        return function(n->fn, &a, &b);
    }
    case N_IN: {
        val_t a = resolve(f, &n->a, event);
        if (a.kind == V_UNDEF) return TRI_UNDEF;
        bool in = false;
        for (size_t k = 0; k < n->count && !in; k++)
            in = equal(&a, &f->items[n->first + k]) == TRI_TRUE;
        return in != n->value ? TRI_TRUE : TRI_FALSE;
    }
    }
    return TRI_UNDEF;
}

bool ev_filter_match(const ev_filter_t *f, const json_t *event)
{
    return eval(f, f->root, event) == TRI_TRUE;
}
