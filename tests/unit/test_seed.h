/* test_seed.h — a store-level test's fixture: a throwaway SQLite store in its own folder, and
 * the rows a test needs before a data-plane row can exist (a tenant, a subscription with
 * resource group "rg", instances in it), written through the typed accessors. Uses cmocka's
 * asserts: include it after cmocka.h. */
#ifndef CASTOR_TEST_SEED_H
#define CASTOR_TEST_SEED_H

#include "core/ids.h"
#include "store/store_arm.h"
#include "store/store_directory.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>

/* A fresh SQLite store with conns connections in a new temporary folder, which also serves a
 * test as a data folder. *dir_out is malloc'ed: give both to test_store_close_tmp. */
static inline int test_store_open_tmp(int conns, char **dir_out, store_t **store_out)
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
static inline void test_seed_subscription(store_txn_t *t, char sub_out[STORE_ID_MAX])
{
    castor_err err;
    store_tenant_t tenant = {.created = 1};
    ids_guid(tenant.id);
    snprintf(tenant.domain, sizeof tenant.domain, "t.test");
    assert_int_equal(store_tenant_create(t, &tenant, &err), 0);
    store_subscription_t sub = {.created = 1};
    ids_guid(sub.id);
    snprintf(sub.tenant_id, sizeof sub.tenant_id, "%s", tenant.id);
    snprintf(sub.state, sizeof sub.state, "Enabled");
    assert_int_equal(store_subscription_create(t, &sub, &err), 0);
    store_resource_group_t *rg = calloc(1, sizeof *rg); /* large: tags */
    snprintf(rg->subscription_id, sizeof rg->subscription_id, "%s", sub.id);
    snprintf(rg->name, sizeof rg->name, "rg");
    snprintf(rg->location, sizeof rg->location, "local");
    snprintf(rg->tags, sizeof rg->tags, "{}");
    int created;
    assert_int_equal(store_resource_group_put(t, rg, &created, &err), 0);
    free(rg);
    snprintf(sub_out, STORE_ID_MAX, "%s", sub.id);
}

/* An instance `name` in the subscription's group "rg"; id_out gets its GUID. */
static inline void test_seed_instance(store_txn_t *t, const char *sub, const char *name,
                                      char id_out[STORE_ID_MAX])
{
    castor_err err;
    store_dt_instance_t *inst = calloc(1, sizeof *inst); /* large: tags */
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
    assert_int_equal(store_dt_instance_create(t, inst, &err), 0);
    snprintf(id_out, STORE_ID_MAX, "%s", inst->id);
    free(inst);
}

/* In one write transaction: a subscription (test_seed_subscription) and an instance for each
 * of the NULL-terminated names; ids[i] (STORE_ID_MAX bytes) gets the GUID of names[i]. */
static inline void test_seed_instances(store_t *s, const char *const *names, char *const *ids)
{
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(s, STORE_WRITE, &t, &err), 0);
    char sub[STORE_ID_MAX];
    test_seed_subscription(t, sub);
    for (int i = 0; names[i]; i++)
        test_seed_instance(t, sub, names[i], ids[i]);
    assert_int_equal(store_commit(t, &err), 0);
}

#endif
