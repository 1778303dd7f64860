/* sqlite_query.h — the SQLite engine's side of store_query.h (internal to src/store/sqlite).
 *
 * sqlite_engine.c owns the connections; sqlite_query.c runs dynamic query SQL on one, with a
 * per-connection statement cache keyed by SQL text and a progress-handler deadline. */
#ifndef CASTOR_STORE_SQLITE_QUERY_H
#define CASTOR_STORE_SQLITE_QUERY_H

#include "store/store_engine.h"
#include "store/store_query.h"

#include <sqlite3.h>

struct sq_qcache;

/* Runs a dynamic statement on conn (an sq_conn_t of sqlite_engine.c). */
int sqlite_query_exec(void *conn, const char *sql, const store_qparam_t *params, int nparams,
                      int64_t deadline_ms, store_qrow_fn fn, void *ctx, store_qstats_t *stats,
                      castor_err *err);

/* Frees a connection's query statement cache (before the connection closes). */
void sqlite_query_cache_free(struct sq_qcache *cache);

/* What sqlite_query.c needs of a connection: its handle and its cache slot. */
sqlite3 *sqlite_conn_db(void *conn);
struct sq_qcache **sqlite_conn_qcache(void *conn);

#endif
