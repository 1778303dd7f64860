/* test_seed.h — the rows a store-level test needs before a data-plane row can exist: a
 * tenant, a subscription with resource group "rg", and instances in it, written through the
 * typed accessors. Uses cmocka's asserts: include it after cmocka.h. */
#ifndef CASTOR_TEST_SEED_H
#define CASTOR_TEST_SEED_H

#include "core/ids.h"
#include "store/store_arm.h"
#include "store/store_directory.h"

#include <stdio.h>
#include <stdlib.h>

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

#endif
