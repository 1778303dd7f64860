/* test_store_copy.c — a stored text longer than its record field is an error naming the column,
 * never a truncated value (STORE_COPY, store_row_copy), and the caps of core/limits.h are the
 * record sizes and agree across layers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/limits.h"
#include "rbac/rbac.h"
#include "store/store_arm.h"
#include "store/store_directory.h"
#include "store/store_engine.h"
#include "test_seed.h"
#include "test_util.h"

typedef struct fixture {
    char *dir;
    store_t *store;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (test_store_open_tmp(2, &f->dir, &f->store) < 0) return -1;
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

/* Writes a tenant row with display_name of n bytes, past the typed accessor (which could not
 * hold it), as another program or an older castor could. */
static void put_tenant(fixture_t *f, const char *id, size_t n)
{
    char *name = malloc(n + 1);
    assert_non_null(name);
    memset(name, 'n', n);
    name[n] = '\0';
    char buf[64];
    snprintf(buf, sizeof buf, "%s.example", id);
    const char *domain = buf; /* SP_T tests its argument for NULL */
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    store_param_t p[] = {SP_T(id), SP_T(domain), SP_T(name), SP_I(1)};
    assert_int_equal(store_exec(t,
                                "INSERT INTO tenants (id, domain, display_name, created) "
                                "VALUES (?, ?, ?, ?)",
                                p, 4, NULL, NULL, NULL, &err),
                     0);
    assert_int_equal(store_commit(t, &err), 0);
    free(name);
}

static void a_value_that_fits_is_copied_whole(void **state)
{
    fixture_t *f = *state;
    put_tenant(f, "t-fits", STORE_NAME_MAX - 1);
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    store_tenant_t tn;
    assert_int_equal(store_tenant_get(t, "t-fits", &tn, &err), 0);
    assert_int_equal(strlen(tn.display_name), STORE_NAME_MAX - 1);
    store_rollback(t);
}

static void a_value_too_long_is_an_error_not_a_cut(void **state)
{
    fixture_t *f = *state;
    put_tenant(f, "t-long", STORE_NAME_MAX);
    castor_err err;
    castor_err_clear(&err);
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    store_tenant_t tn;
    memset(&tn, 'x', sizeof tn);
    assert_int_equal(store_tenant_get(t, "t-long", &tn, &err), CASTOR_EINTERNAL);
    assert_non_null(strstr(err.message, "the stored display_name is 256 bytes, more than the 255"));
    assert_non_null(strstr(err.message, "rather than truncate"));
    /* The field holds nothing rather than a prefix that could pass for a real value. */
    assert_string_equal(tn.display_name, "");
    /* Lists fail the same way: no record with a cut field is handed out. */
    store_tenant_t all[8];
    int n = 0;
    castor_err_clear(&err);
    assert_int_equal(store_tenant_list(t, all, 8, &n, &err), CASTOR_EINTERNAL);
    store_rollback(t);
}

static void caps_agree_across_layers(void **state)
{
    (void)state;
    store_role_assignment_t ra;
    store_role_definition_t rd;
    store_dt_instance_t dt;
    store_resource_group_t rg;
    store_group_t g;
    /* One scope cap for RBAC and the store (RBAC_SCOPE_MAX was 2048, STORE_SCOPE_MAX 512). */
    assert_int_equal(RBAC_SCOPE_MAX, CASTOR_SCOPE_MAX);
    assert_int_equal(sizeof ra.scope, CASTOR_SCOPE_MAX);
    /* RBAC accepts role names up to RBAC_ROLE_NAME_MAX - 1; the record keeps that many. */
    assert_int_equal(sizeof rd.role_name, RBAC_ROLE_NAME_MAX);
    assert_int_equal(sizeof rd.description, CASTOR_DESCRIPTION_MAX);
    assert_int_equal(sizeof ra.description, CASTOR_DESCRIPTION_MAX);
    assert_int_equal(sizeof g.description, CASTOR_DESCRIPTION_MAX);
    assert_int_equal(sizeof dt.location, CASTOR_LOCATION_MAX);
    assert_int_equal(sizeof rg.location, CASTOR_LOCATION_MAX);
    assert_int_equal(sizeof rg.tags, CASTOR_TAGS_TEXT_MAX);
    /* A caller's name (a UPN) fits where an instance records who made it. */
    assert_int_equal(sizeof dt.created_by, CASTOR_NAME_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_value_that_fits_is_copied_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(a_value_too_long_is_an_error_not_a_cut, setup, teardown),
        cmocka_unit_test(caps_agree_across_layers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
