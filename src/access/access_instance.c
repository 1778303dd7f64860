/* access_instance.c — the data plane's instance lookup: /dt/{name} to castor's GUID and the
 * ARM id that is its RBAC scope, cached, for access_guard_data (access.h). */
#include "access/access.h"

#include "store/store_arm.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DT_TYPE "Microsoft.DigitalTwins/digitalTwinsInstances"

/* Instance lookups are on every data-plane request's path: positive answers are cached by
 * name. A delete (of the instance, or of its group) bumps the generation after its commit and
 * empties the cache; a lookup inserts only if no bump happened while it read the store, so a
 * stale answer can never be cached after the delete is visible. */
#define INSTANCE_CACHE_SLOTS 256
static struct {
    int used;
    access_instance_t inst;
} instance_cache[INSTANCE_CACHE_SLOTS];
static pthread_mutex_t instance_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint instance_cache_gen;

static unsigned instance_slot(const char *name)
{
    unsigned h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)tolower((unsigned char)*p)) * 16777619u;
    return h % INSTANCE_CACHE_SLOTS;
}

void access_instance_cache_clear(void)
{
    atomic_fetch_add(&instance_cache_gen, 1);
    pthread_mutex_lock(&instance_cache_lock);
    memset(instance_cache, 0, sizeof instance_cache);
    pthread_mutex_unlock(&instance_cache_lock);
}

static int instance_cache_get(const char *name, access_instance_t *out)
{
    unsigned slot = instance_slot(name);
    pthread_mutex_lock(&instance_cache_lock);
    int hit = instance_cache[slot].used && strcasecmp(instance_cache[slot].inst.name, name) == 0;
    if (hit) *out = instance_cache[slot].inst;
    pthread_mutex_unlock(&instance_cache_lock);
    return hit;
}

static void instance_cache_put(const access_instance_t *inst, unsigned gen)
{
    unsigned slot = instance_slot(inst->name);
    pthread_mutex_lock(&instance_cache_lock);
    if (atomic_load(&instance_cache_gen) == gen) {
        instance_cache[slot].used = 1;
        instance_cache[slot].inst = *inst;
    }
    pthread_mutex_unlock(&instance_cache_lock);
}

int access_instance_lookup(store_t *store, const char *name, access_instance_t *out,
                           castor_err *err)
{
    memset(out, 0, sizeof *out);
    if (name && instance_cache_get(name, out)) return CASTOR_OK;
    unsigned gen = atomic_load(&instance_cache_gen);
    store_dt_instance_t *d = malloc(sizeof *d);
    if (!d) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    store_txn_t *t;
    int rc = store_begin(store, STORE_READ, &t, err);
    castor_err e;
    castor_err_clear(&e);
    if (rc == 0) rc = store_dt_instance_get(t, name, d, &e);
    store_subscription_t sub;
    if (rc == 0) rc = store_subscription_get(t, d->subscription_id, &sub, &e);
    if (t) store_rollback(t);
    if (rc == CASTOR_ENOTFOUND)
        rc = castor_err_http(err, rc, 404, "NotFound",
                             "No Azure Digital Twins instance named '%s' exists on this castor.",
                             name ? name : "");
    else if (rc < 0 && e.rc)
        *err = e;
    if (rc == 0) {
        snprintf(out->id, sizeof out->id, "%s", d->id);
        snprintf(out->resource_id, sizeof out->resource_id,
                 "/subscriptions/%s/resourceGroups/%s/providers/" DT_TYPE "/%s", d->subscription_id,
                 d->resource_group, d->name);
        snprintf(out->tenant_id, sizeof out->tenant_id, "%s", sub.tenant_id);
        snprintf(out->subscription_id, sizeof out->subscription_id, "%s", d->subscription_id);
        snprintf(out->resource_group, sizeof out->resource_group, "%s", d->resource_group);
        snprintf(out->name, sizeof out->name, "%s", d->name);
        snprintf(out->location, sizeof out->location, "%s", d->location);
        instance_cache_put(out, gen);
    }
    free(d);
    return rc;
}
