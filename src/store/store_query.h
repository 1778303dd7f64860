/* store_query.h — running a compiled ADT query (src/query/query_sql.h) on the store.
 *
 * The query compiler writes SQL text whose every value is a numbered placeholder; this runs
 * such a statement with its bound values inside a read transaction and streams the rows to a
 * callback, under a time budget. Prepared statements are cached per connection by their text,
 * so the same query shape (any values) is compiled by the engine once. */
#ifndef CASTOR_STORE_QUERY_H
#define CASTOR_STORE_QUERY_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

typedef enum store_qtype { SQ_NULL, SQ_INT, SQ_REAL, SQ_TEXT } store_qtype_t;

typedef struct store_qparam {
    store_qtype_t type;
    int64_t i;
    double d;
    const char *s; /* NUL-terminated; must outlive the call */
} store_qparam_t;

/* What a statement cost: the engine's work (SQLite: virtual-machine steps) and rows out. */
typedef struct store_qstats {
    int64_t steps;
    int64_t rows;
} store_qstats_t;

/* A result row of a query, valid only during the callback. */
typedef struct store_qrow store_qrow_t;
int store_qrow_columns(const store_qrow_t *row);
/* The column as text and its length; NULL for SQL NULL. */
const char *store_qrow_text(const store_qrow_t *row, int col, size_t *len);
int64_t store_qrow_int(const store_qrow_t *row, int col);

/* Non-zero from the callback stops the statement (not an error). */
typedef int (*store_qrow_fn)(const store_qrow_t *row, void *ctx);

/* Runs sql in t. deadline_ms is a CLOCK_MONOTONIC time in milliseconds (0: none) after which
 * the statement is interrupted: 400 TimeoutError. stats (may be NULL) receives the cost. */
int store_query_run(store_txn_t *t, const char *sql, const store_qparam_t *params, int nparams,
                    int64_t deadline_ms, store_qrow_fn fn, void *ctx, store_qstats_t *stats,
                    castor_err *err);

/* Milliseconds on CLOCK_MONOTONIC, for deadlines. */
int64_t store_query_now_ms(void);

/* The query-token signing key of this store (32 bytes), made on first use and kept in the
 * store's meta table so every castor node over one store shares it. */
#define STORE_QUERY_KEY_BYTES 32u
int store_query_token_key(store_t *s, unsigned char key[STORE_QUERY_KEY_BYTES], castor_err *err);

#endif
