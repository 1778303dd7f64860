/* access_rbac.c — the shared RBAC snapshot: built from the store, swapped atomically, counted;
 * and the conversions from the store's role definitions and principal types it is built with.
 *
 * A reader takes a reference under a mutex held for two instructions; the snapshot itself is
 * immutable and read without locks. Reloads are serialized by their own mutex so that two
 * concurrent changes cannot swap in the older of their two snapshots last. */
#include "access/access.h"

#include "core/timeutil.h"
#include "store/store_arm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct access_rbac_ref {
    rbac_index_t *ix;
    atomic_int refs;
};

struct access_rbac {
    store_t *store;
    pthread_mutex_t swap;   /* guards cur, pending and due */
    pthread_mutex_t reload; /* one rebuild at a time */
    access_rbac_ref_t *cur;
    /* Propagation simulation (castor serve --rbac-propagation-delay): a rebuilt snapshot
     * waits here until `due`, as Azure's role changes take minutes to reach every node. A
     * newer change replaces it and restarts the wait, so the delay counts from the latest
     * change. */
    unsigned delay_s;
    access_rbac_ref_t *pending;
    int64_t due;
    /* The store's RBAC change number the newest snapshot was built at; a request that has
     * seen a newer one (store_change_seen) rebuilds first, so a role assignment made through
     * any node applies on every node's next request. */
    _Atomic int64_t gen;
};

typedef struct load {
    arena_t *a;
    rbac_role_def_t *defs;
    size_t ndefs, cap_defs;
    rbac_assignment_t *as;
    size_t nas, cap_as;
    castor_err *err;
    int rc;
} load_t;

static int grow(arena_t *a, void **v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 64;
    void *nv = arena_alloc(a, nc * size);
    if (!nv) return -1;
    if (*v) memcpy(nv, *v, n * size);
    *v = nv;
    *cap = nc;
    return 0;
}

static int load_def(const store_role_definition_t *d, void *ctx)
{
    load_t *l = ctx;
    if (grow(l->a, (void **)&l->defs, &l->cap_defs, l->ndefs, sizeof *l->defs) < 0) {
        l->rc = castor_err_set(l->err, CASTOR_ENOMEM, "out of memory loading role definitions");
        return 1;
    }
    if (access_roledef_from_store(l->a, d, &l->defs[l->ndefs], l->err) < 0) {
        l->rc = l->err->rc;
        return 1;
    }
    l->ndefs++;
    return 0;
}

static int load_as(const store_role_assignment_t *ra, void *ctx)
{
    load_t *l = ctx;
    if (grow(l->a, (void **)&l->as, &l->cap_as, l->nas, sizeof *l->as) < 0) {
        l->rc = castor_err_set(l->err, CASTOR_ENOMEM, "out of memory loading role assignments");
        return 1;
    }
    rbac_assignment_t *a = &l->as[l->nas++];
    a->name = arena_strdup(l->a, ra->id);
    a->scope = arena_strdup(l->a, ra->scope);
    a->principal_id = arena_strdup(l->a, ra->principal_id);
    a->principal_type = access_principal_type_parse(ra->principal_type);
    a->role_definition_id = arena_strdup(l->a, ra->role_definition_id);
    return 0;
}

static rbac_index_t *build(store_t *store, int64_t *gen, castor_err *err)
{
    arena_t a;
    arena_init(&a, 0);
    load_t l = {.a = &a, .err = err};
    store_txn_t *t;
    rbac_index_t *ix = NULL;
    if (store_begin(store, STORE_READ, &t, err) < 0) goto out;
    /* The count and the rows from one snapshot: the count says exactly what was loaded. */
    int rc = store_rbac_generation(t, gen, err);
    if (rc == 0) rc = store_role_definition_each(t, load_def, &l, err);
    if (rc == 0 && l.rc == 0) rc = store_role_assignment_each(t, load_as, &l, err);
    store_rollback(t);
    if (rc < 0 || l.rc < 0) goto out;
    ix = rbac_index_new(l.defs, l.ndefs, l.as, l.nas, err);
out:
    arena_free(&a);
    return ix;
}

static access_rbac_ref_t *ref_new(rbac_index_t *ix)
{
    access_rbac_ref_t *r = malloc(sizeof *r);
    if (!r) return NULL;
    r->ix = ix;
    atomic_init(&r->refs, 1);
    return r;
}

int access_rbac_new(store_t *store, access_rbac_t **out, castor_err *err)
{
    *out = NULL;
    access_rbac_t *r = calloc(1, sizeof *r);
    if (!r) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    r->store = store;
    pthread_mutex_init(&r->swap, NULL);
    pthread_mutex_init(&r->reload, NULL);
    int64_t gen = 0;
    rbac_index_t *ix = build(store, &gen, err);
    atomic_init(&r->gen, gen);
    r->cur = ix ? ref_new(ix) : NULL;
    if (!r->cur) {
        rbac_index_free(ix);
        access_rbac_free(r);
        if (!err->rc) castor_err_set(err, CASTOR_ENOMEM, "out of memory");
        castor_err_prefix(err, "building the RBAC snapshot");
        return err->rc;
    }
    *out = r;
    return CASTOR_OK;
}

void access_rbac_release(access_rbac_ref_t *ref)
{
    if (ref && atomic_fetch_sub(&ref->refs, 1) == 1) {
        rbac_index_free(ref->ix);
        free(ref);
    }
}

void access_rbac_free(access_rbac_t *r)
{
    if (!r) return;
    access_rbac_release(r->cur);
    access_rbac_release(r->pending);
    pthread_mutex_destroy(&r->swap);
    pthread_mutex_destroy(&r->reload);
    free(r);
}

void access_rbac_set_delay(access_rbac_t *r, unsigned delay_s)
{
    r->delay_s = delay_s;
}

int access_rbac_pending(access_rbac_t *r, int64_t *due_out)
{
    pthread_mutex_lock(&r->swap);
    int pending = r->pending && time_now_s() < r->due;
    if (pending && due_out) *due_out = r->due;
    pthread_mutex_unlock(&r->swap);
    return pending;
}

/* Rebuilds when a change numbered after the snapshot was seen: another node's, which this
 * request's poll read (access_sync), or this node's own, whose handler normally reloads first.
 * A store that cannot answer keeps the snapshot in use (the request then fails or succeeds on
 * it). */
static int reload_locked(access_rbac_t *r, castor_err *err);

static void refresh_if_changed(access_rbac_t *r)
{
    int64_t seen = store_change_seen(r->store, STORE_CHANGE_RBAC);
    if (seen <= atomic_load(&r->gen)) return;
    castor_err err;
    castor_err_clear(&err);
    pthread_mutex_lock(&r->reload);
    /* Every thread that saw the change gets here; the first rebuilds, the others find it done. */
    if (seen > atomic_load(&r->gen)) reload_locked(r, &err);
    pthread_mutex_unlock(&r->reload);
}

const rbac_index_t *access_rbac_acquire(access_rbac_t *r, access_rbac_ref_t **ref)
{
    refresh_if_changed(r);
    access_rbac_ref_t *old = NULL;
    pthread_mutex_lock(&r->swap);
    if (r->pending && time_now_s() >= r->due) {
        old = r->cur;
        r->cur = r->pending;
        r->pending = NULL;
    }
    access_rbac_ref_t *c = r->cur;
    atomic_fetch_add(&c->refs, 1);
    pthread_mutex_unlock(&r->swap);
    access_rbac_release(old);
    *ref = c;
    return c->ix;
}

int access_rbac_reload(access_rbac_t *r, castor_err *err)
{
    pthread_mutex_lock(&r->reload);
    int rc = reload_locked(r, err);
    pthread_mutex_unlock(&r->reload);
    return rc;
}

/* Rebuilds and swaps in; the caller holds r->reload. */
static int reload_locked(access_rbac_t *r, castor_err *err)
{
    int64_t gen = 0;
    rbac_index_t *ix = build(r->store, &gen, err);
    access_rbac_ref_t *n = ix ? ref_new(ix) : NULL;
    if (!n) {
        rbac_index_free(ix);
        if (!err->rc) castor_err_set(err, CASTOR_ENOMEM, "out of memory");
        castor_err_prefix(err, "rebuilding the RBAC snapshot");
        return err->rc;
    }
    pthread_mutex_lock(&r->swap);
    access_rbac_ref_t *old;
    if (r->delay_s) {
        old = r->pending;
        r->pending = n;
        r->due = time_now_s() + r->delay_s;
    } else {
        old = r->cur;
        r->cur = n;
    }
    atomic_store(&r->gen, gen);
    pthread_mutex_unlock(&r->swap);
    access_rbac_release(old);
    return CASTOR_OK;
}

/* ---- role definitions and principal types from the store ---- */

rbac_principal_type_t access_principal_type_parse(const char *s)
{
    if (s && strcasecmp(s, "Group") == 0) return RBAC_PRINCIPAL_GROUP;
    if (s && strcasecmp(s, "ServicePrincipal") == 0) return RBAC_PRINCIPAL_SERVICE_PRINCIPAL;
    if (s && strcasecmp(s, "ForeignGroup") == 0) return RBAC_PRINCIPAL_FOREIGN_GROUP;
    return RBAC_PRINCIPAL_USER;
}

const char *access_principal_type_name(rbac_principal_type_t t)
{
    switch (t) {
    case RBAC_PRINCIPAL_GROUP:
        return "Group";
    case RBAC_PRINCIPAL_SERVICE_PRINCIPAL:
        return "ServicePrincipal";
    case RBAC_PRINCIPAL_FOREIGN_GROUP:
        return "ForeignGroup";
    default:
        return "User";
    }
}

/* ---- role definitions ---- */

static int strlist_from_json(arena_t *a, const json_t *arr, const char *what, rbac_strlist_t *out,
                             castor_err *err)
{
    out->v = NULL;
    out->n = 0;
    if (!arr || json_is_null(arr)) return CASTOR_OK;
    if (!json_is_array(arr))
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRoleDefinition",
                               "%s must be an array of strings", what);
    size_t n = json_array_size(arr);
    const char **v = n ? arena_alloc(a, n * sizeof *v) : NULL;
    if (n && !v) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_array_get(arr, i);
        if (!json_is_string(s))
            return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRoleDefinition",
                                   "%s[%zu] must be a string", what, i);
        v[i] = arena_strdup(a, json_string_value(s));
    }
    out->v = v;
    out->n = n;
    return CASTOR_OK;
}

int access_roledef_from_json(arena_t *a, const json_t *permissions, const json_t *scopes,
                             rbac_role_def_t *out, castor_err *err)
{
    /* One permission block, as every built-in role has: several blocks would be a union that
     * the engine does not model, so they are refused rather than merged wrongly. */
    if (!json_is_array(permissions) || json_array_size(permissions) != 1)
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRoleDefinition",
                               "properties.permissions must hold exactly one entry "
                               "{actions, notActions, dataActions, notDataActions}");
    const json_t *p = json_array_get(permissions, 0);
    int rc = strlist_from_json(a, json_object_get(p, "actions"), "permissions[0].actions",
                               &out->actions, err);
    if (rc == 0)
        rc = strlist_from_json(a, json_object_get(p, "notActions"), "permissions[0].notActions",
                               &out->not_actions, err);
    if (rc == 0)
        rc = strlist_from_json(a, json_object_get(p, "dataActions"), "permissions[0].dataActions",
                               &out->data_actions, err);
    if (rc == 0)
        rc = strlist_from_json(a, json_object_get(p, "notDataActions"),
                               "permissions[0].notDataActions", &out->not_data_actions, err);
    if (rc == 0)
        rc = strlist_from_json(a, scopes, "properties.assignableScopes", &out->assignable_scopes,
                               err);
    return rc;
}

int access_roledef_from_store(arena_t *a, const store_role_definition_t *d, rbac_role_def_t *out,
                              castor_err *err)
{
    memset(out, 0, sizeof *out);
    json_t *perm = json_loads(d->permissions, 0, NULL);
    json_t *scopes = json_loads(d->assignable_scopes, 0, NULL);
    int rc = access_roledef_from_json(a, perm, scopes, out, err);
    json_decref(perm);
    json_decref(scopes);
    out->id = arena_strdup(a, d->id);
    out->role_name = arena_strdup(a, d->role_name);
    out->description = arena_strdup(a, d->description);
    out->type = RBAC_ROLE_CUSTOM;
    if (rc < 0) castor_err_prefix(err, "custom role %s in the store", d->id);
    return rc;
}
