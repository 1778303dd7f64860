/* models_cache.c — per-instance compiled model graphs, shared by reference (see
 * models_cache.h).
 *
 * Invariant: an entry in the cache holds one reference to its graph; each caller of
 * models_graph_get holds one more. A build that raced with an invalidation (the generation
 * moved while it read the store) is handed to its caller but not cached, so the cache never
 * holds a graph older than the last change. */
#include "twins/models_cache.h"

#include "store/store_models.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct graph_ref {
    models_graph_t pub; /* first: callers see only this */
    dtdl_graph_t *graph;
    int refs;
    pthread_mutex_t *mu; /* the cache's mutex guards refs; NULL when uncached */
} graph_ref_t;

typedef struct entry {
    char key[STORE_NAME_MAX];
    graph_ref_t *ref;
    struct entry *next;
} entry_t;

struct models_cache {
    pthread_mutex_t mu;
    entry_t *entries;
    unsigned long generation;
    unsigned long builds;
    /* The store's models change number the entries are known to be current with: when a
     * newer one is seen (another node's change, read by this request's poll, or this node's
     * own commit), every entry is dropped, as the number does not say which instance moved. */
    int64_t changes;
};

models_cache_t *models_cache_new(void)
{
    models_cache_t *c = calloc(1, sizeof *c);
    if (c) pthread_mutex_init(&c->mu, NULL);
    return c;
}

static void ref_destroy(graph_ref_t *r)
{
    dtdl_graph_free(r->graph);
    free(r);
}

/* Drops one reference; the caller holds r->mu when r is cached. Returns 1 when freed. */
static int ref_drop_locked(graph_ref_t *r)
{
    if (--r->refs > 0) return 0;
    ref_destroy(r);
    return 1;
}

void models_cache_free(models_cache_t *c)
{
    if (!c) return;
    for (entry_t *e = c->entries, *n; e; e = n) {
        n = e->next;
        ref_drop_locked(e->ref);
        free(e);
    }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

typedef struct collect {
    json_t *docs;
    castor_err *err;
} collect_t;

static int collect_one(const store_model_t *m, void *ctx)
{
    collect_t *c = ctx;
    json_error_t jerr;
    json_t *doc = json_loads(m->model, 0, &jerr);
    if (!doc) {
        castor_err_set(c->err, CASTOR_EINTERNAL, "stored model %s is not JSON: %s", m->id,
                       jerr.text);
        return 1;
    }
    json_array_append_new(c->docs, doc);
    return 0;
}

/* Reads every model of the instance and compiles them together. */
static int build(store_t *store, const char *key, graph_ref_t **out, castor_err *err)
{
    *out = NULL;
    store_txn_t *t = NULL;
    int rc = store_begin(store, STORE_READ, &t, err);
    if (rc < 0) return rc;
    collect_t c = {json_array(), err};
    castor_err_clear(err);
    rc = store_model_list(t, key, 0, -1, 1, collect_one, &c, err);
    store_rollback(t);
    if (rc == 0 && err->rc) rc = err->rc;
    graph_ref_t *r = rc < 0 ? NULL : calloc(1, sizeof *r);
    if (rc == 0 && !r) rc = castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    if (rc == 0 && json_array_size(c.docs)) {
        rc = dtdl_parse_batch(c.docs, NULL, NULL, NULL, &r->graph, NULL, err);
        if (rc < 0) castor_err_prefix(err, "compiling the stored models of %s", key);
    }
    json_decref(c.docs);
    if (rc < 0) {
        free(r);
        return rc;
    }
    r->pub.graph = r->graph;
    r->pub.model_count = r->graph ? dtdl_graph_count(r->graph) : 0;
    r->refs = 1;
    *out = r;
    return CASTOR_OK;
}

/* Forgets every graph; a build in flight is then not cached (the generation moved). */
static void drop_all_locked(models_cache_t *c)
{
    c->generation++;
    for (entry_t *e = c->entries, *n; e; e = n) {
        n = e->next;
        ref_drop_locked(e->ref);
        free(e);
    }
    c->entries = NULL;
}

int models_graph_get(models_cache_t *c, store_t *store, const char *key, models_graph_t **out,
                     castor_err *err)
{
    *out = NULL;
    if (!c) {
        graph_ref_t *r;
        int rc = build(store, key, &r, err);
        if (rc == 0) *out = &r->pub;
        return rc;
    }
    int64_t seen = store_change_seen(store, STORE_CHANGE_MODELS);
    pthread_mutex_lock(&c->mu);
    if (seen > c->changes) { /* an older number seen by a slower thread changes nothing */
        drop_all_locked(c);
        c->changes = seen;
    }
    for (entry_t *e = c->entries; e; e = e->next)
        if (strcmp(e->key, key) == 0) {
            e->ref->refs++;
            *out = &e->ref->pub;
            pthread_mutex_unlock(&c->mu);
            return CASTOR_OK;
        }
    unsigned long gen = c->generation;
    pthread_mutex_unlock(&c->mu);

    graph_ref_t *r;
    int rc = build(store, key, &r, err); /* outside the lock: reads never wait on a build */
    if (rc < 0) return rc;
    r->mu = &c->mu;
    pthread_mutex_lock(&c->mu);
    c->builds++;
    entry_t *found = NULL;
    for (entry_t *e = c->entries; e; e = e->next)
        if (strcmp(e->key, key) == 0) found = e;
    if (found) { /* another thread built it meanwhile: use theirs */
        found->ref->refs++;
        *out = &found->ref->pub;
        pthread_mutex_unlock(&c->mu);
        ref_destroy(r);
        return CASTOR_OK;
    }
    entry_t *e = gen == c->generation ? calloc(1, sizeof *e) : NULL;
    if (e) {
        snprintf(e->key, sizeof e->key, "%s", key);
        e->ref = r;
        r->refs++;
        e->next = c->entries;
        c->entries = e;
    }
    *out = &r->pub;
    pthread_mutex_unlock(&c->mu);
    return CASTOR_OK;
}

void models_graph_release(models_graph_t *g)
{
    if (!g) return;
    graph_ref_t *r = (graph_ref_t *)g;
    if (!r->mu) {
        ref_drop_locked(r);
        return;
    }
    pthread_mutex_t *mu = r->mu;
    pthread_mutex_lock(mu);
    ref_drop_locked(r);
    pthread_mutex_unlock(mu);
}

void models_cache_invalidate(models_cache_t *c, store_t *store, const char *key)
{
    if (!c) return;
    int64_t seen = store_change_seen(store, STORE_CHANGE_MODELS);
    pthread_mutex_lock(&c->mu);
    c->generation++;
    /* The change just committed has a number above every one the cache knew of; when it is
     * exactly the next, it is the only change in between, and it is this instance's: the other
     * instances' graphs stay. Otherwise models_graph_get drops them all. */
    if (seen == c->changes + 1) c->changes = seen;
    for (entry_t **pe = &c->entries; *pe; pe = &(*pe)->next) {
        entry_t *e = *pe;
        if (strcmp(e->key, key) != 0) continue;
        *pe = e->next;
        ref_drop_locked(e->ref);
        free(e);
        break;
    }
    pthread_mutex_unlock(&c->mu);
}

unsigned long models_cache_builds(const models_cache_t *c)
{
    return c ? c->builds : 0;
}
