/* test_query_seed.h — the rows a Digital Twins instance needs (test_seed.h: tenant,
 * subscription, resource group, instance) in an open write transaction, for the query tests
 * and bench/query_bench.c, which put twins straight into the store. Returns 0 or the failing
 * rc. */
#ifndef CASTOR_TEST_QUERY_SEED_H
#define CASTOR_TEST_QUERY_SEED_H

#include "test_seed.h"

static inline int test_query_seed(store_txn_t *t, const char *name, char id_out[STORE_ID_MAX],
                                  castor_err *err)
{
    char sub[STORE_ID_MAX];
    int rc = test_seed_subscription(t, sub, err);
    return rc < 0 ? rc : test_seed_instance(t, sub, name, id_out, err);
}

#endif
