/* store_engine.h — what a storage engine provides to src/store/ (internal to the store).
 *
 * The typed accessors in store_*.c are written once against this small interface: run one
 * statement with bound parameters and read its rows. SQL uses `?` placeholders; an engine
 * whose database wants `$1` rewrites them. Only src/store/ includes this header. */
#ifndef CASTOR_STORE_ENGINE_H
#define CASTOR_STORE_ENGINE_H

#include "core/err.h"
#include "store/store.h"
#include "store/store_query.h"

#include <stdint.h>

typedef enum store_ptype { SP_NULL, SP_TEXT, SP_INT } store_ptype_t;

typedef struct store_param {
    store_ptype_t type;
    const char *text; /* SP_TEXT; not copied, must outlive the call */
    int64_t i;        /* SP_INT */
} store_param_t;

#define SP_T(s) ((store_param_t){.type = (s) ? SP_TEXT : SP_NULL, .text = (s)})
#define SP_I(v) ((store_param_t){.type = SP_INT, .i = (int64_t)(v)})
/* The value of a `LIMIT ?`: a negative one means no limit, as SQLite reads it; PostgreSQL
 * refuses a negative LIMIT, so it is sent as the largest number instead. */
#define SP_LIMIT(v) SP_I((int64_t)(v) < 0 ? INT64_MAX : (int64_t)(v))

/* A result row, valid only during the row callback. */
typedef struct store_row store_row_t;
const char *store_row_text(const store_row_t *row, int col); /* "" for NULL */
int64_t store_row_int(const store_row_t *row, int col);
int store_row_is_null(const store_row_t *row, int col);
/* Copies the text of col into dst (cap bytes with the NUL). Returns 0, or CASTOR_EINTERNAL
 * when it does not fit: dst is then "" and the row remembers the column, so the statement
 * running the row callback fails with an error that names it (never a truncated value). */
int store_row_copy(const store_row_t *row, int col, char *dst, size_t cap);

/* How an engine reads its rows: store_row_text and the others call through these, so both
 * engines live in one binary (the cost is one indirect call per column). */
typedef struct store_row_ops {
    const char *(*text)(const store_row_t *row, int col);
    int64_t (*integer)(const store_row_t *row, int col);
    int (*is_null)(const store_row_t *row, int col);
} store_row_ops_t;

struct store_row {
    const store_row_ops_t *ops;
    void *h;   /* the engine's statement or result */
    int index; /* the row within h, for engines that fetch whole results */
    /* The first column store_row_copy could not fit (-1: none) and its size; the engine turns
     * it into the statement's error (store_row_too_long) after the row callback returns. */
    int too_long_col;
    size_t too_long_len, too_long_cap;
};

/* The error for a row whose too_long_col is set; name is that column's name (may be NULL). */
int store_row_too_long(const store_row_t *row, const char *name, castor_err *err);

typedef struct store_qrow_ops {
    int (*columns)(const store_qrow_t *row);
    const char *(*text)(const store_qrow_t *row, int col, size_t *len);
    int64_t (*integer)(const store_qrow_t *row, int col);
} store_qrow_ops_t;

struct store_qrow {
    const store_qrow_ops_t *ops;
    void *h;
    int index;
};

/* Called per row; returning non-zero stops the statement early (not an error). */
typedef int (*store_row_fn)(const store_row_t *row, void *ctx);

typedef struct store_engine_ops {
    const char *name;
    int (*open)(const char *target, unsigned connections, void **engine, castor_err *err);
    void (*close)(void *engine);
    int (*begin)(void *engine, store_mode_t mode, void **conn, castor_err *err);
    int (*commit)(void *engine, void *conn, castor_err *err);
    /* As commit, but a write may return before it is durable: *pending (NULL when the outcome
     * is already final) is then finished with pending_finish, after pending_notify's callback
     * if the caller wants not to block. */
    int (*commit_deferred)(void *engine, void *conn, void **pending, castor_err *err);
    void (*pending_notify)(void *engine, void *pending, void (*fn)(void *), void *arg);
    int (*pending_finish)(void *engine, void *pending, castor_err *err);
    /* Returns once every write a reader could see when it was called is durable (or its sync
     * was tried and failed: see store_wait_durable). NULL when readers never see a write
     * before it is durable (PostgreSQL's COMMIT flushes its WAL record first). */
    int (*wait_durable)(void *engine, castor_err *err);
    void (*rollback)(void *engine, void *conn);
    /* Runs sql with params; *changes_out (may be NULL) gets the rows changed by a write.
     * A unique-constraint violation is CASTOR_ECONFLICT; other failures CASTOR_EIO. */
    int (*exec)(void *conn, const char *sql, const store_param_t *params, int nparams,
                store_row_fn fn, void *ctx, int64_t *changes_out, castor_err *err);
    int (*schema_version)(void *engine);
    /* Runs a compiled ADT query's dynamic SQL (store_query.h): values bound by number, a
     * deadline, rows streamed; statements cached by text. */
    int (*query)(void *conn, const char *sql, const store_qparam_t *params, int nparams,
                 int64_t deadline_ms, store_qrow_fn fn, void *ctx, store_qstats_t *stats,
                 castor_err *err);
} store_engine_ops_t;

extern const store_engine_ops_t store_sqlite_ops;
extern const store_engine_ops_t store_pg_ops;

/* Notes that t counted kind up to n (store_change_bump); store_commit then records n as seen. */
void store_txn_changed(store_txn_t *t, store_change_t kind, int64_t n);

/* Runs sql inside t (used by every typed accessor). */
int store_exec(store_txn_t *t, const char *sql, const store_param_t *params, int nparams,
               store_row_fn fn, void *ctx, int64_t *changes_out, castor_err *err);

/* Runs a compiled query inside t (store_query.c). */
int store_exec_query(store_txn_t *t, const char *sql, const store_qparam_t *params, int nparams,
                     int64_t deadline_ms, store_qrow_fn fn, void *ctx, store_qstats_t *stats,
                     castor_err *err);

#endif
