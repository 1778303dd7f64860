/* query_cache.h — compiled ADT queries kept by their shape (the text with its string and number
 * literals as placeholders), so a repeated query, or one that differs only in an id or a
 * value, skips parse, check and compile (4–14 µs, as much as running a point query).
 *
 * What the compiler writes for a text depends on the text, the dialect and whether the page
 * continues a previous one (the paging filter is part of the SQL), and on nothing else: the
 * instance, its models' key, the page size and the paging key are parameters tagged with where
 * they come from (query_param_src_t), and query_sql_bind() sets them for each request; the
 * query's literals are parameters bound from each request's tokens (the SQL depends on their
 * kinds, never their content). So one entry serves every caller, instance and id; literals
 * stay bound parameters, never spliced. A cached entry is one flat block; a hit copies it into the
 * caller's arena under the lock, so eviction never pulls memory from under a running query. Bounded
 * (LRU over a fixed table of slots) and thread-safe (one mutex, held only for the lookup and the
 * copy). */
#ifndef CASTOR_QUERY_QUERY_CACHE_H
#define CASTOR_QUERY_QUERY_CACHE_H

#include "query/query_sql.h"

#include <pthread.h>

/* Distinct query forms kept. The bound is on memory: an entry is its text plus SQL (a few KB for
 * typical queries, at most QUERY_SQL_MAX); texts over QUERY_CACHE_TEXT_MAX are not kept. */
#define QUERY_CACHE_SLOTS 256u
#define QUERY_CACHE_TEXT_MAX 4096u

typedef struct query_cache_slot {
    uint64_t hash; /* of text, dialect and paged */
    uint64_t used; /* LRU clock; 0: empty */
    void *blob;    /* the entry: query_compiled_t, then everything it points to */
    size_t len;
} query_cache_slot_t;

typedef struct query_cache {
    pthread_mutex_t lock;
    uint64_t clock;
    uint64_t hits, misses;
    query_cache_slot_t slot[QUERY_CACHE_SLOTS];
} query_cache_t;

#define QUERY_CACHE_INIT                                                                           \
    {                                                                                              \
        .lock = PTHREAD_MUTEX_INITIALIZER                                                          \
    }

/* A compiled query ready to bind: what the handler needs of the AST, and the SQL. */
typedef struct query_compiled {
    uint32_t top;    /* TOP(n); 0 without */
    size_t nkeys;    /* key columns of a row (what a continuation token carries) */
    query_sql_t sql; /* request values unset until query_sql_bind */
    /* the cache's own: the text (in an entry: its shape), the literal tokens that shaped the
     * SQL (ordinal, then text and NUL, each), and the paging flag */
    const char *text;
    size_t text_len;
    const char *fixed;
    size_t fixed_len, nfixed;
    bool paged;
    const query_dialect_t *dialect;
} query_compiled_t;

/* The compiled form of text (len bytes) for dialect d, first page or (paged) a continuation,
 * allocated in a; from the cache when it holds it, else parsed, checked, compiled and kept.
 * Errors are the parser's, checker's and compiler's. Request values are left to
 * query_sql_bind(). qc may be NULL (no caching). */
int query_cache_compile(query_cache_t *qc, arena_t *a, const char *text, size_t len,
                        const query_dialect_t *d, bool paged, query_compiled_t *out,
                        castor_err *err);

/* Frees every entry (the cache stays usable). */
void query_cache_clear(query_cache_t *qc);

#endif
