/* query_lex.c — the query language's tokens, reserved words and error wording.
 *
 * The lexer is context-free: it never decides whether `-` is a minus sign or half of a MATCH
 * arrow, nor whether a word is a keyword; the parser does, because only it knows where it is.
 * That keeps `T.x <-5` (less than minus five) and `(a)<-[r]-(b)` both readable. */
#include "query/query_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ADT's reserved words (reference-query-reserved). They need [[...]] to be used as names. */
static const char *const reserved_words[] = {
    "ALL",       "AND",          "AS",         "ASC",          "AVG",
    "BY",        "COUNT",        "DESC",       "DEVICES_JOBS", "DEVICES_MODULES",
    "DEVICES",   "ENDS_WITH",    "FALSE",      "FROM",         "GROUP",
    "IN",        "IS_BOOL",      "IS_DEFINED", "IS_NULL",      "IS_NUMBER",
    "IS_OBJECT", "IS_PRIMITIVE", "IS_STRING",  "MAX",          "MIN",
    "NOT",       "NOT_IN",       "NULL",       "OR",           "ORDER",
    "SELECT",    "STARTS_WITH",  "SUM",        "TOP",          "TRUE",
    "WHERE",     "IS_OF_MODEL"};

/* Words that are not reserved but that the grammar reads as keywords where an alias or an
 * argument could stand; the printer escapes names spelled like them so they read back. */
static const char *const structural_words[] = {"JOIN",          "RELATED", "MATCH", "DIGITALTWINS",
                                               "RELATIONSHIPS", "NIN",     "EXACT"};

static bool word_in(const char *w, size_t n, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(list[i]) == n && strncasecmp(w, list[i], n) == 0) return true;
    return false;
}

bool query_is_reserved(const char *word, size_t n)
{
    return word_in(word, n, reserved_words, sizeof reserved_words / sizeof *reserved_words);
}

bool query_word_is(const query_tok_t *t, const char *kw)
{
    return t->kind == QTOK_IDENT && strcasecmp(t->text, kw) == 0;
}

static bool ident_start(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '$';
}

static bool ident_char(unsigned char c)
{
    return ident_start(c) || (c >= '0' && c <= '9');
}

bool query_needs_escape(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || !ident_start((unsigned char)name[0])) return true;
    for (size_t i = 1; i < n; i++)
        if (!ident_char((unsigned char)name[i])) return true;
    return query_is_reserved(name, n) ||
           word_in(name, n, structural_words, sizeof structural_words / sizeof *structural_words);
}

static size_t utf8_len(const unsigned char *s, size_t n);

/* String escapes as written after a backslash, and the character each stands for; the
 * lexer reads them and the printer writes them from this one table. */
static const struct {
    char letter, ch;
} escapes[] = {{'\'', '\''}, {'\\', '\\'}, {'n', '\n'}, {'r', '\r'}, {'t', '\t'},
               {'b', '\b'},  {'f', '\f'},  {'"', '"'},  {'/', '/'}};

char query_unescape(char letter)
{
    for (size_t i = 0; i < sizeof escapes / sizeof *escapes; i++)
        if (escapes[i].letter == letter) return escapes[i].ch;
    return 0;
}

char query_escape_letter(char c)
{
    /* The last two, '"' and '/', need no escape inside single quotes: read, never written. */
    for (size_t i = 0; i + 2 < sizeof escapes / sizeof *escapes; i++)
        if (escapes[i].ch == c) return escapes[i].letter;
    return 0;
}

int query_fail(castor_err *err, int rc, const char *text, size_t off, const char *kind,
               const char *fmt, ...)
{
    /* Positions are characters, not bytes, so a client can point a caret at them. */
    size_t pos = 1;
    for (size_t i = 0; text && i < off; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80) pos++;
    char what[CASTOR_ERR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    castor_err_http(err, rc, 400, "SqlQueryError", "%s at position %zu: %s", kind, pos, what);
    /* A long name may have been cut mid-character; the message must stay valid UTF-8. */
    if (err) {
        size_t n = strlen(err->message), back = 0;
        while (back < n && back < 4 && ((unsigned char)err->message[n - 1 - back] & 0xC0) == 0x80)
            back++;
        if (back < n && (unsigned char)err->message[n - 1 - back] >= 0xC0 &&
            utf8_len((const unsigned char *)err->message + n - 1 - back, back + 1) == 0)
            err->message[n - 1 - back] = '\0';
    }
    castor_err_at(err, "$.query");
    return rc;
}

/* Returns the length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80) return 1;
    size_t len;
    uint32_t cp;
    if ((s[0] & 0xE0) == 0xC0)
        len = 2, cp = s[0] & 0x1F;
    else if ((s[0] & 0xF0) == 0xE0)
        len = 3, cp = s[0] & 0x0F;
    else if ((s[0] & 0xF8) == 0xF0)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

typedef struct lexer {
    arena_t *a;
    const char *s;
    size_t n, i;
    castor_err *err;
} lexer_t;

static int lex_fail(lexer_t *lx, size_t off, const char *fmt, const char *arg)
{
    return query_fail(lx->err, CASTOR_EINVAL, lx->s, off, "Syntax error", fmt, arg);
}

static int nomem(lexer_t *lx)
{
    return castor_err_set(lx->err, CASTOR_ELIMIT, "query too large to parse in memory");
}

static int hex4(const char *s, size_t n, uint32_t *out)
{
    if (n < 4) return -1;
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0) return -1;
        v = v * 16 + (uint32_t)d;
    }
    *out = v;
    return 0;
}

static size_t utf8_put(char *o, uint32_t cp)
{
    if (cp < 0x80) return o[0] = (char)cp, 1;
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A single-quoted string; escapes follow JSON plus \' (ADT documents 'D\'Souza'). The decoded
 * text is never longer than the source, so one allocation of the source length suffices. */
static int lex_string(lexer_t *lx, query_tok_t *t)
{
    size_t start = lx->i++;
    char *o = arena_alloc(lx->a, lx->n - start + 1);
    if (!o) return nomem(lx);
    size_t k = 0;
    for (;;) {
        if (lx->i >= lx->n) return lex_fail(lx, start, "unterminated string%s", "");
        char c = lx->s[lx->i];
        if (c == '\'') break;
        if (c != '\\') {
            o[k++] = c;
            lx->i++;
            continue;
        }
        size_t esc = lx->i;
        if (esc + 1 >= lx->n) return lex_fail(lx, start, "unterminated string%s", "");
        char e = lx->s[esc + 1];
        lx->i += 2;
        if (e != 'u') {
            char d = query_unescape(e);
            if (!d)
                return lex_fail(lx, esc,
                                "unknown escape in string; allowed are \\' \\\" \\\\ \\/ \\b "
                                "\\f \\n \\r \\t \\uXXXX%s",
                                "");
            o[k++] = d;
            continue;
        }
        uint32_t cp, lo;
        if (hex4(lx->s + lx->i, lx->n - lx->i, &cp) < 0)
            return lex_fail(lx, esc, "\\u needs four hex digits%s", "");
        lx->i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (lx->i + 6 > lx->n || lx->s[lx->i] != '\\' || lx->s[lx->i + 1] != 'u' ||
                hex4(lx->s + lx->i + 2, 4, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
                return lex_fail(lx, esc, "\\u escape is an unpaired surrogate%s", "");
            lx->i += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return lex_fail(lx, esc, "\\u escape is an unpaired surrogate%s", "");
        }
        /* A NUL would cut the C string the compiler binds; no twin value can hold one usefully. */
        if (cp == 0) return lex_fail(lx, esc, "\\u0000 is not allowed in a string%s", "");
        k += utf8_put(o + k, cp);
    }
    lx->i++;
    o[k] = '\0';
    t->kind = QTOK_STRING;
    t->text = o;
    t->text_len = k;
    return 0;
}

static int lex_number(lexer_t *lx, query_tok_t *t)
{
    size_t start = lx->i;
    bool integral = true;
    while (lx->i < lx->n && lx->s[lx->i] >= '0' && lx->s[lx->i] <= '9')
        lx->i++;
    /* `1..3` is a hop range, so a '.' belongs to the number only when a digit follows. */
    if (lx->i + 1 < lx->n && lx->s[lx->i] == '.' && lx->s[lx->i + 1] >= '0' &&
        lx->s[lx->i + 1] <= '9') {
        integral = false;
        lx->i++;
        while (lx->i < lx->n && lx->s[lx->i] >= '0' && lx->s[lx->i] <= '9')
            lx->i++;
    }
    if (lx->i < lx->n && (lx->s[lx->i] == 'e' || lx->s[lx->i] == 'E')) {
        size_t j = lx->i + 1;
        if (j < lx->n && (lx->s[j] == '+' || lx->s[j] == '-')) j++;
        if (j >= lx->n || lx->s[j] < '0' || lx->s[j] > '9')
            return lex_fail(lx, start, "malformed number: exponent needs digits%s", "");
        while (j < lx->n && lx->s[j] >= '0' && lx->s[j] <= '9')
            j++;
        lx->i = j;
        integral = false;
    }
    if (lx->i < lx->n && ident_char((unsigned char)lx->s[lx->i]))
        return lex_fail(lx, start,
                        "malformed number; a name cannot start with a digit unless escaped as "
                        "[[...]]%s",
                        "");
    char *num = arena_strndup(lx->a, lx->s + start, lx->i - start);
    if (!num) return nomem(lx);
    t->kind = QTOK_NUMBER;
    t->text = num;
    errno = 0;
    if (integral) {
        long long v = strtoll(num, NULL, 10);
        if (errno == 0) {
            t->value.kind = QUERY_VALUE_INT;
            t->value.i = v;
            return 0;
        }
        errno = 0;
    }
    double d = strtod(num, NULL);
    if (!isfinite(d)) return lex_fail(lx, start, "number %s is out of range", num);
    t->value.kind = QUERY_VALUE_DOUBLE;
    t->value.d = d;
    return 0;
}

/* [[name]]: the way to write a reserved word or any other name as an identifier. */
static int lex_escaped(lexer_t *lx, query_tok_t *t)
{
    size_t start = lx->i;
    size_t j = start + 2;
    while (j + 1 < lx->n && !(lx->s[j] == ']' && lx->s[j + 1] == ']'))
        j++;
    if (j + 1 >= lx->n)
        return lex_fail(lx, start, "unterminated [[...]] name; expected ']]'%s", "");
    if (j == start + 2) return lex_fail(lx, start, "empty [[]] name%s", "");
    t->kind = QTOK_ESCAPED;
    t->text = arena_strndup(lx->a, lx->s + start + 2, j - start - 2);
    if (!t->text) return nomem(lx);
    lx->i = j + 2;
    return 0;
}

static int lex_one(lexer_t *lx, query_tok_t *t)
{
    const char *s = lx->s;
    size_t i = lx->i;
    unsigned char c = (unsigned char)s[i];
    char two = i + 1 < lx->n ? s[i + 1] : '\0';
    static const struct {
        char c, next;
        query_tok_kind_t kind;
    } punct[] = {{'!', '=', QTOK_NE},     {'<', '=', QTOK_LE},   {'>', '=', QTOK_GE},
                 {'.', '.', QTOK_DOTDOT}, {',', 0, QTOK_COMMA},  {'.', 0, QTOK_DOT},
                 {'(', 0, QTOK_LPAREN},   {')', 0, QTOK_RPAREN}, {'[', 0, QTOK_LBRACKET},
                 {']', 0, QTOK_RBRACKET}, {'*', 0, QTOK_STAR},   {'=', 0, QTOK_EQ},
                 {'<', 0, QTOK_LT},       {'>', 0, QTOK_GT},     {'-', 0, QTOK_MINUS},
                 {':', 0, QTOK_COLON},    {'|', 0, QTOK_PIPE}};
    if (c == '\'') return lex_string(lx, t);
    if (c >= '0' && c <= '9') return lex_number(lx, t);
    if (c == '[' && two == '[') return lex_escaped(lx, t);
    if (ident_start(c)) {
        size_t j = i + 1;
        while (j < lx->n && ident_char((unsigned char)s[j]))
            j++;
        t->kind = QTOK_IDENT;
        t->text = arena_strndup(lx->a, s + i, j - i);
        if (!t->text) return nomem(lx);
        lx->i = j;
        return 0;
    }
    for (size_t k = 0; k < sizeof punct / sizeof *punct; k++) {
        if (punct[k].c != (char)c || (punct[k].next && punct[k].next != two)) continue;
        t->kind = punct[k].kind;
        lx->i += punct[k].next ? 2 : 1;
        return 0;
    }
    if (c == '"') return lex_fail(lx, i, "strings are written in single quotes%s", "");
    if (c == '!') return lex_fail(lx, i, "expected '!=', found '!'%s", "");
    /* The text is valid UTF-8 by now, so a non-ASCII character can be shown whole. */
    char shown[16];
    size_t clen = c < 0x80 ? 1 : utf8_len((const unsigned char *)s + i, lx->n - i);
    if (c >= 0x80 || (c >= 0x20 && c < 0x7F))
        snprintf(shown, sizeof shown, "'%.*s'", (int)clen, s + i);
    else
        snprintf(shown, sizeof shown, "U+%04X", c);
    return lex_fail(lx, i, "unexpected character %s", shown);
}

int query_lex(arena_t *a, const char *text, size_t len, query_tok_t **out, size_t *ntok,
              castor_err *err)
{
    lexer_t lx = {a, text, len, 0, err};
    for (size_t i = 0; i < len;) {
        size_t l = utf8_len((const unsigned char *)text + i, len - i);
        if (l == 0) return lex_fail(&lx, i, "query text is not valid UTF-8%s", "");
        if (text[i] == '\0') return lex_fail(&lx, i, "query text contains a NUL character%s", "");
        i += l;
    }
    /* Every token but EOF consumes at least one byte: len + 1 slots always suffice. */
    query_tok_t *toks = arena_calloc(a, len + 1, sizeof *toks);
    if (!toks) return nomem(&lx);
    size_t n = 0;
    for (;;) {
        while (lx.i < len && strchr(" \t\r\n", text[lx.i]))
            lx.i++;
        query_tok_t *t = &toks[n++];
        t->pos = lx.i;
        if (lx.i >= len) {
            t->kind = QTOK_EOF;
            break;
        }
        int rc = lex_one(&lx, t);
        if (rc < 0) return rc;
        t->len = lx.i - t->pos;
    }
    *out = toks;
    *ntok = n;
    return 0;
}
