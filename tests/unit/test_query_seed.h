/* test_query_seed.h — makes the rows a Digital Twins instance needs (tenant, subscription,
 * resource group, instance) in an open write transaction, for the query tests and
 * bench/query_bench.c, which put twins straight into the store. Returns 0 or the failing rc. */
#ifndef CASTOR_TEST_QUERY_SEED_H
#define CASTOR_TEST_QUERY_SEED_H

#include "core/ids.h"
#include "store/store_arm.h"
#include "store/store_directory.h"

#include <stdio.h>

static inline int test_query_seed(store_txn_t *t, const char *name, char id_out[STORE_ID_MAX],
                                  castor_err *err)
{
    store_tenant_t tn = {.created = 1};
    store_subscription_t sub = {.created = 1};
    store_resource_group_t rg = {.created = 1};
    store_dt_instance_t in = {.created = 1, .updated = 1};
    ids_guid(tn.id);
    ids_guid(sub.id);
    ids_guid(in.id);
    snprintf(tn.domain, sizeof tn.domain, "%s.test", name);
    snprintf(sub.tenant_id, sizeof sub.tenant_id, "%s", tn.id);
    snprintf(sub.state, sizeof sub.state, "Enabled");
    snprintf(rg.subscription_id, sizeof rg.subscription_id, "%s", sub.id);
    snprintf(rg.name, sizeof rg.name, "rg");
    snprintf(rg.location, sizeof rg.location, "local");
    snprintf(rg.tags, sizeof rg.tags, "{}");
    snprintf(in.name, sizeof in.name, "%s", name);
    snprintf(in.subscription_id, sizeof in.subscription_id, "%s", sub.id);
    snprintf(in.resource_group, sizeof in.resource_group, "rg");
    snprintf(in.location, sizeof in.location, "local");
    snprintf(in.tags, sizeof in.tags, "{}");
    snprintf(in.public_network_access, sizeof in.public_network_access, "Enabled");
    snprintf(in.provisioning_state, sizeof in.provisioning_state, "Succeeded");
    snprintf(in.created_by, sizeof in.created_by, "%s", tn.id);
    int created, rc;
    if ((rc = store_tenant_create(t, &tn, err)) < 0) return rc;
    if ((rc = store_subscription_create(t, &sub, err)) < 0) return rc;
    if ((rc = store_resource_group_put(t, &rg, &created, err)) < 0) return rc;
    if ((rc = store_dt_instance_create(t, &in, err)) < 0) return rc;
    snprintf(id_out, STORE_ID_MAX, "%s", in.id);
    return 0;
}

#endif
