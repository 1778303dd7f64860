/* models_cache.h — the compiled model graph of each instance, kept between requests.
 *
 * Twin validation needs every model of an instance compiled (property schemas, inherited
 * contents, ancestors). Parsing RealEstateCore takes tens of milliseconds, so the graph is
 * built once per instance and shared, read-only, by every request until the instance's models
 * change: the models handlers invalidate it after each commit. A caller holds a reference
 * (models_graph_get) and releases it when done, so a graph replaced meanwhile stays valid for
 * it. Several nodes over one store: every graph is also dropped when the store's models change
 * number moves (store_change_seen), so a model added or deleted through another node is in
 * force on this node's next request. Thread-safe. */
#ifndef CASTOR_TWINS_MODELS_CACHE_H
#define CASTOR_TWINS_MODELS_CACHE_H

#include "dtdl/dtdl.h"
#include "store/store.h"

typedef struct models_cache models_cache_t;

/* One instance's compiled models. graph is NULL when the instance has no models. */
typedef struct models_graph {
    const dtdl_graph_t *graph;
    size_t model_count;
} models_graph_t;

/* Caller frees with models_cache_free (after every reference was released). */
models_cache_t *models_cache_new(void);
void models_cache_free(models_cache_t *c);

/* The graph of instance_key (lower-cased instance name), compiled from the store on first use.
 * The result is a reference: release it with models_graph_release. c may be NULL: the graph is
 * then compiled for this caller alone. */
int models_graph_get(models_cache_t *c, store_t *store, const char *instance_key,
                     models_graph_t **out, castor_err *err);
void models_graph_release(models_graph_t *g);

/* Forgets the graph of instance_key; the next models_graph_get rebuilds it. Call after the
 * transaction that changed the instance's models (and counted up the store's models change
 * number) has committed: when no other change came in between, the other instances' graphs
 * are kept. Safe on a NULL cache. */
void models_cache_invalidate(models_cache_t *c, store_t *store, const char *instance_key);

/* How many graphs were compiled since start (tests check that reads reuse the graph). */
unsigned long models_cache_builds(const models_cache_t *c);

#endif
