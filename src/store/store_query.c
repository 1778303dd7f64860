/* store_query.c — compiled ADT queries on the store, and the key that signs their
 * continuation tokens (see store_query.h). */
#include "store/store_query.h"

#include "store/store_engine.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUERY_KEY_META "query.token-key"

int store_qrow_columns(const store_qrow_t *row)
{
    return row->ops->columns(row);
}

const char *store_qrow_text(const store_qrow_t *row, int col, size_t *len)
{
    return row->ops->text(row, col, len);
}

int64_t store_qrow_int(const store_qrow_t *row, int col)
{
    return row->ops->integer(row, col);
}

int64_t store_query_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int store_query_run(store_txn_t *t, const char *sql, const store_qparam_t *params, int nparams,
                    int64_t deadline_ms, store_qrow_fn fn, void *ctx, store_qstats_t *stats,
                    castor_err *err)
{
    return store_exec_query(t, sql, params, nparams, deadline_ms, fn, ctx, stats, err);
}

static int key_decode(const char *hex, unsigned char key[STORE_QUERY_KEY_BYTES])
{
    size_t n = 0;
    return sodium_hex2bin(key, STORE_QUERY_KEY_BYTES, hex, strlen(hex), NULL, &n, NULL) == 0 &&
                   n == STORE_QUERY_KEY_BYTES
               ? 0
               : -1;
}

static int key_read(store_txn_t *t, unsigned char key[STORE_QUERY_KEY_BYTES], castor_err *err)
{
    char *hex = NULL;
    int rc = store_meta_get(t, QUERY_KEY_META, &hex, err);
    if (rc < 0) return rc;
    rc = key_decode(hex, key) == 0
             ? CASTOR_OK
             : castor_err_set(err, CASTOR_EINTERNAL, "the stored query-token key is malformed");
    free(hex);
    return rc;
}

int store_query_token_key(store_t *s, unsigned char key[STORE_QUERY_KEY_BYTES], castor_err *err)
{
    store_txn_t *t;
    int rc = store_begin(s, STORE_READ, &t, err);
    if (rc < 0) return rc;
    rc = key_read(t, key, err);
    store_rollback(t);
    if (rc != CASTOR_ENOTFOUND) return rc;
    /* First use: make it under the write lock, unless another request just did. */
    if ((rc = store_begin(s, STORE_WRITE, &t, err)) < 0) return rc;
    rc = key_read(t, key, err);
    if (rc == CASTOR_ENOTFOUND) {
        char hex[STORE_QUERY_KEY_BYTES * 2 + 1];
        randombytes_buf(key, STORE_QUERY_KEY_BYTES);
        sodium_bin2hex(hex, sizeof hex, key, STORE_QUERY_KEY_BYTES);
        rc = store_meta_put(t, QUERY_KEY_META, hex, err);
        sodium_memzero(hex, sizeof hex);
        if (rc == 0) return store_commit(t, err);
    }
    store_rollback(t);
    return rc;
}
