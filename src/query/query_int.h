/* query_int.h — what the query front end's files share and nobody else needs: tokens, the
 * lexer, keyword tables and the one function that words every error. */
#ifndef CASTOR_QUERY_QUERY_INT_H
#define CASTOR_QUERY_QUERY_INT_H

#include "query/query.h"

typedef enum query_tok_kind {
    QTOK_EOF,
    QTOK_IDENT,   /* bare word, keyword or not; `$` may start or continue it */
    QTOK_ESCAPED, /* [[...]]: an identifier that is never a keyword */
    QTOK_STRING,
    QTOK_NUMBER, /* unsigned; a leading '-' is its own token */
    QTOK_COMMA,
    QTOK_DOT,
    QTOK_DOTDOT,
    QTOK_LPAREN,
    QTOK_RPAREN,
    QTOK_LBRACKET,
    QTOK_RBRACKET,
    QTOK_STAR,
    QTOK_EQ,
    QTOK_NE,
    QTOK_LT,
    QTOK_LE,
    QTOK_GT,
    QTOK_GE,
    QTOK_MINUS,
    QTOK_COLON,
    QTOK_PIPE
} query_tok_kind_t;

typedef struct query_tok {
    query_tok_kind_t kind;
    size_t pos, len;     /* bytes of the source text */
    const char *text;    /* IDENT/ESCAPED name, STRING contents (unescaped) */
    size_t text_len;     /* STRING: bytes in text */
    query_value_t value; /* NUMBER */
} query_tok_t;

/* Splits text into tokens ending with QTOK_EOF; *out and every string live in a. */
int query_lex(arena_t *a, const char *text, size_t len, query_tok_t **out, size_t *ntok,
              castor_err *err);

/* Fills err with "<kind> error at position N: <fmt...>" (N: 1-based character position of
 * byte offset off in text) as a 400 SqlQueryError, and returns rc. */
int query_fail(castor_err *err, int rc, const char *text, size_t off, const char *kind,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* True when word (n bytes) is ADT's reserved word list, compared case-insensitively. */
bool query_is_reserved(const char *word, size_t n);

/* Case-insensitive comparison of an identifier token with an upper-case keyword. */
bool query_word_is(const query_tok_t *t, const char *kw);

/* The character a string escape letter stands for (n -> newline), 0 when unknown; and the
 * letter the printer writes for a character, 0 when it is written as itself or as \\uXXXX. */
char query_unescape(char letter);
char query_escape_letter(char c);

/* True when name needs [[...]] to be read back as this identifier. */
bool query_needs_escape(const char *name);

#endif
