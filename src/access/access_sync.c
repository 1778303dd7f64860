/* access_sync.c — a node's caches brought up to the store's change numbers once per request
 * (access.h: access_sync), so that a change made through any castor node over the same store
 * is in force on this node's next request. */
#include "access/access.h"

#include "identity/idn_crypto.h"

#include <stdatomic.h>

/* The change numbers the process-wide caches were last emptied for. They compare with != (not
 * <): a process holds one store, and a test that opens another only costs a refill. */
static _Atomic int64_t directory_seen, instances_seen;

/* 1 when *last moved to n (and records n): a plain load first, so that the common case writes
 * no shared cache line on every request. */
static int moved(_Atomic int64_t *last, int64_t n)
{
    return atomic_load(last) != n && atomic_exchange(last, n) != n;
}

void access_sync(store_t *store)
{
    castor_err err;
    /* One short read on a shared store (nothing on SQLite). If it fails, the caches serve what
     * they hold and the request meets the store's failure on its own reads. */
    store_changes_poll(store, &err);
    if (moved(&directory_seen, store_change_seen(store, STORE_CHANGE_DIRECTORY)))
        access_directory_changed();
    if (moved(&instances_seen, store_change_seen(store, STORE_CHANGE_INSTANCES)))
        access_instance_cache_clear();
    idn_keys_sync(store);
    /* The RBAC snapshot (access_rbac_acquire) and the model graphs (models_graph_get) compare
     * the numbers themselves when next used. */
}
