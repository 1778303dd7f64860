/* test_seed.h — a store-level test's fixture: a throwaway SQLite store in its own folder, and
 * the rows a data-plane row needs first (a tenant, a subscription with resource group "rg",
 * instances in it), written through the typed accessors. Functions return 0 or the failing
 * rc with err filled, so that bench/query_bench.c (no cmocka) seeds with them too; tests
 * assert on the result. */
#ifndef CASTOR_TEST_SEED_H
#define CASTOR_TEST_SEED_H

#include "core/ids.h"
#include "store/store.h"
#include "store/store_arm.h"
#include "store/store_directory.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>

/* A fresh SQLite store with conns connections in a new temporary folder, which also serves a
 * test as a data folder. *dir_out is malloc'ed: give both to test_store_close_tmp. */
static inline int test_store_open_tmp(unsigned conns, char **dir_out, store_t **store_out)
{
    *store_out = NULL;
    *dir_out = test_tmpdir();
    if (!*dir_out) return -1;
    char url[512];
    if (snprintf(url, sizeof url, "sqlite:%s/castor.db", *dir_out) >= (int)sizeof url) return -1;
    castor_err err;
    if (store_open(url, conns, store_out, &err) < 0) {
        fprintf(stderr, "store_open: %s\n", err.message);
        return -1;
    }
    return 0;
}

/* Closes the store (NULL is fine), removes its folder with everything in it, frees dir. */
static inline void test_store_close_tmp(store_t *store, char *dir)
{
    store_close(store);
    if (dir) test_rmdir(dir);
    free(dir);
}

/* A tenant, a subscription of it and its resource group "rg"; sub_out gets the subscription. */
static inline int test_seed_subscription(store_txn_t *t, char sub_out[STORE_ID_MAX],
                                         castor_err *err)
{
    store_tenant_t tenant = {.created = 1};
    ids_guid(tenant.id);
    snprintf(tenant.domain, sizeof tenant.domain, "%.36s.test", tenant.id); /* unique */
    int rc = store_tenant_create(t, &tenant, err);
    if (rc < 0) return rc;
    store_subscription_t sub = {.created = 1};
    ids_guid(sub.id);
    snprintf(sub.tenant_id, sizeof sub.tenant_id, "%s", tenant.id);
    snprintf(sub.state, sizeof sub.state, "Enabled");
    if ((rc = store_subscription_create(t, &sub, err)) < 0) return rc;
    store_resource_group_t *rg = calloc(1, sizeof *rg); /* large: tags */
    if (!rg) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    rg->created = 1;
    snprintf(rg->subscription_id, sizeof rg->subscription_id, "%s", sub.id);
    snprintf(rg->name, sizeof rg->name, "rg");
    snprintf(rg->location, sizeof rg->location, "local");
    snprintf(rg->tags, sizeof rg->tags, "{}");
    int created;
    rc = store_resource_group_put(t, rg, &created, err);
    free(rg);
    if (rc < 0) return rc;
    snprintf(sub_out, STORE_ID_MAX, "%s", sub.id);
    return 0;
}

/* An instance `name` in the subscription's group "rg"; id_out gets its GUID. */
static inline int test_seed_instance(store_txn_t *t, const char *sub, const char *name,
                                     char id_out[STORE_ID_MAX], castor_err *err)
{
    store_dt_instance_t *inst = calloc(1, sizeof *inst); /* large: tags */
    if (!inst) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    ids_guid(inst->id);
    snprintf(inst->name, sizeof inst->name, "%s", name);
    snprintf(inst->subscription_id, sizeof inst->subscription_id, "%s", sub);
    snprintf(inst->resource_group, sizeof inst->resource_group, "rg");
    snprintf(inst->location, sizeof inst->location, "local");
    snprintf(inst->tags, sizeof inst->tags, "{}");
    snprintf(inst->public_network_access, sizeof inst->public_network_access, "Enabled");
    snprintf(inst->provisioning_state, sizeof inst->provisioning_state, "Succeeded");
    snprintf(inst->created_by, sizeof inst->created_by, "x");
    inst->created = inst->updated = 1;
    int rc = store_dt_instance_create(t, inst, err);
    if (rc == 0) snprintf(id_out, STORE_ID_MAX, "%s", inst->id);
    free(inst);
    return rc;
}

/* In one write transaction: a subscription (test_seed_subscription) and an instance for each
 * of the NULL-terminated names; ids[i] (STORE_ID_MAX bytes) gets the GUID of names[i]. */
static inline int test_seed_instances(store_t *s, const char *const *names, char *const *ids,
                                      castor_err *err)
{
    store_txn_t *t;
    int rc = store_begin(s, STORE_WRITE, &t, err);
    if (rc < 0) return rc;
    char sub[STORE_ID_MAX];
    rc = test_seed_subscription(t, sub, err);
    for (int i = 0; rc == 0 && names[i]; i++)
        rc = test_seed_instance(t, sub, names[i], ids[i], err);
    if (rc < 0) {
        store_rollback(t);
        return rc;
    }
    return store_commit(t, err);
}

#endif
