/* test_store_endpoints.c — event endpoints in the store: put/get/each/delete, names compared
 * case-insensitively per instance, secrets kept apart, and an instance's deletion taking its
 * endpoints with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/ids.h"
#include "store/store_arm.h"
#include "store/store_directory.h"
#include "store/store_endpoints.h"
#include "test_seed.h"
#include "test_util.h"

typedef struct fixture {
    char *dir;
    store_t *store;
    char inst_a[STORE_ID_MAX];
    char inst_b[STORE_ID_MAX];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (test_store_open_tmp(4, &f->dir, &f->store) < 0) return -1;
    castor_err err;
    assert_int_equal(test_seed_instances(f->store, (const char *const[]){"inst-a", "inst-b", NULL},
                                         (char *const[]){f->inst_a, f->inst_b}, &err),
                     0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    test_store_close_tmp(f->store, f->dir);
    free(f);
    return 0;
}

static void put(store_t *s, const char *inst, const char *name, const char *type, const char *props,
                const char *secrets)
{
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(s, STORE_WRITE, &t, &err), 0);
    store_endpoint_t ep = {.created = 1000};
    snprintf(ep.instance_id, sizeof ep.instance_id, "%s", inst);
    snprintf(ep.name, sizeof ep.name, "%s", name);
    snprintf(ep.type, sizeof ep.type, "%s", type);
    snprintf(ep.state, sizeof ep.state, "Succeeded");
    ep.properties = (char *)props;
    ep.secrets = (char *)secrets;
    snprintf(ep.created_by, sizeof ep.created_by, "alice");
    snprintf(ep.updated_by, sizeof ep.updated_by, "alice");
    assert_int_equal(store_endpoint_put(t, &ep, &err), 0);
    assert_int_equal(store_commit(t, &err), 0);
}

static void put_get_replace_case_insensitively(void **state)
{
    fixture_t *f = *state;
    put(f->store, f->inst_a, "Hook-1", "webhook", "{\"endpointUri\":\"https://a\"}",
        "{\"accessKey\":\"k1\"}");
    castor_err err;
    store_txn_t *t;
    store_endpoint_t ep;
    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    assert_int_equal(store_endpoint_get(t, f->inst_a, "hook-1", &ep, &err), 0);
    assert_string_equal(ep.name, "Hook-1");
    assert_string_equal(ep.type, "webhook");
    assert_string_equal(ep.state, "Succeeded");
    assert_int_equal(ep.created, 1000);
    assert_string_equal(ep.properties, "{\"endpointUri\":\"https://a\"}");
    assert_string_equal(ep.secrets, "{\"accessKey\":\"k1\"}");
    assert_string_equal(ep.created_by, "alice");
    assert_int_equal(ep.updated, 1000); /* 0 is taken as created */
    store_endpoint_clear(&ep);
    store_endpoint_clear(&ep); /* twice is safe */
    /* The name belongs to one instance only. */
    assert_int_equal(store_endpoint_get(t, f->inst_b, "Hook-1", &ep, &err), CASTOR_ENOTFOUND);
    assert_non_null(strstr(err.message, "Hook-1"));
    store_endpoint_clear(&ep);
    store_rollback(t);

    /* A second put under another case replaces the record, keeping the first name and time. */
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    store_endpoint_t up = {.created = 2000};
    snprintf(up.instance_id, sizeof up.instance_id, "%s", f->inst_a);
    snprintf(up.name, sizeof up.name, "HOOK-1");
    snprintf(up.type, sizeof up.type, "mqtt");
    snprintf(up.state, sizeof up.state, "Updating");
    up.properties = "{\"topic\":\"x\"}";
    up.secrets = NULL; /* stored as {} */
    up.updated = 3000;
    snprintf(up.created_by, sizeof up.created_by, "mallory"); /* ignored: the creator stays */
    snprintf(up.updated_by, sizeof up.updated_by, "bob");
    assert_int_equal(store_endpoint_put(t, &up, &err), 0);
    int n = -1;
    assert_int_equal(store_endpoint_count(t, f->inst_a, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_commit(t, &err), 0);

    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    assert_int_equal(store_endpoint_get(t, f->inst_a, "hook-1", &ep, &err), 0);
    assert_string_equal(ep.name, "Hook-1");
    assert_int_equal(ep.created, 1000);
    assert_string_equal(ep.type, "mqtt");
    assert_string_equal(ep.state, "Updating");
    assert_string_equal(ep.properties, "{\"topic\":\"x\"}");
    assert_string_equal(ep.secrets, "{}");
    assert_string_equal(ep.created_by, "alice");
    assert_int_equal(ep.updated, 3000);
    assert_string_equal(ep.updated_by, "bob");
    store_endpoint_clear(&ep);
    store_rollback(t);
}

typedef struct seen {
    char names[8][80];
    int n;
    int stop_after;
} seen_t;

static int collect(const store_endpoint_t *ep, void *ctx)
{
    seen_t *s = ctx;
    assert_non_null(ep->properties);
    assert_non_null(ep->secrets);
    if (s->n < 8)
        assert_true(snprintf(s->names[s->n], sizeof s->names[0], "%s/%s", ep->instance_id,
                             ep->name) < (int)sizeof s->names[0]);
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static void each_by_instance_or_all_and_delete(void **state)
{
    fixture_t *f = *state;
    put(f->store, f->inst_a, "zeta", "EventGrid", "{}", "{\"accessKey1\":\"s\"}");
    put(f->store, f->inst_a, "Alpha", "webhook", "{}", "{}");
    put(f->store, f->inst_b, "mid", "mqtt", "{}", "{}");
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    seen_t s = {0};
    assert_int_equal(store_endpoint_each(t, f->inst_a, collect, &s, &err), 0);
    assert_int_equal(s.n, 2);
    char want[80];
    snprintf(want, sizeof want, "%s/Alpha", f->inst_a); /* by name, case-insensitively */
    assert_string_equal(s.names[0], want);
    memset(&s, 0, sizeof s);
    assert_int_equal(store_endpoint_each(t, NULL, collect, &s, &err), 0);
    assert_int_equal(s.n, 3);
    snprintf(want, sizeof want, "%s/mid", f->inst_b);
    assert_string_equal(s.names[1], want);
    memset(&s, 0, sizeof s);
    s.stop_after = 1; /* a callback stops the walk without an error */
    assert_int_equal(store_endpoint_each(t, NULL, collect, &s, &err), 0);
    assert_int_equal(s.n, 1);
    store_rollback(t);

    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_endpoint_delete(t, f->inst_a, "ALPHA", &err), 0);
    assert_int_equal(store_endpoint_delete(t, f->inst_a, "alpha", &err), CASTOR_ENOTFOUND);
    assert_int_equal(store_endpoint_delete(t, f->inst_a, "mid", &err), CASTOR_ENOTFOUND);
    int n = -1;
    assert_int_equal(store_endpoint_count(t, f->inst_a, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_commit(t, &err), 0);
}

static void deleting_an_instance_deletes_its_endpoints(void **state)
{
    fixture_t *f = *state;
    put(f->store, f->inst_a, "one", "webhook", "{}", "{}");
    put(f->store, f->inst_b, "two", "webhook", "{}", "{}");
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_dt_instance_delete(t, f->inst_a, &err), 0);
    assert_int_equal(store_commit(t, &err), 0);
    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    seen_t s = {0};
    assert_int_equal(store_endpoint_each(t, NULL, collect, &s, &err), 0);
    assert_int_equal(s.n, 1);
    char want[80];
    snprintf(want, sizeof want, "%s/two", f->inst_b);
    assert_string_equal(s.names[0], want);
    store_rollback(t);

    /* An endpoint of an instance that does not exist is refused (foreign key). */
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    store_endpoint_t ep = {.created = 1};
    snprintf(ep.instance_id, sizeof ep.instance_id, "%s", f->inst_a);
    snprintf(ep.name, sizeof ep.name, "orphan");
    snprintf(ep.type, sizeof ep.type, "webhook");
    snprintf(ep.state, sizeof ep.state, "Succeeded");
    assert_true(store_endpoint_put(t, &ep, &err) < 0);
    store_rollback(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(put_get_replace_case_insensitively, setup, teardown),
        cmocka_unit_test_setup_teardown(each_by_instance_or_all_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(deleting_an_instance_deletes_its_endpoints, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
