/* test_rbac_builtin.c — built-in role tables, role ids, lookup by name (legacy names included)
 * and "did you mean". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "rbac/rbac.h"

static const rbac_role_def_t *must_find(const char *name, int *legacy)
{
    castor_err err;
    const rbac_role_def_t *d = rbac_role_find(NULL, name, legacy, &err);
    if (!d) fail_msg("'%s' not found: %s", name, err.message);
    return d;
}

static void builtins_have_real_guids_and_shapes(void **state)
{
    (void)state;
    static const struct {
        const char *name, *guid;
        size_t actions, not_actions, data_actions;
    } rows[] = {
        {"Owner", RBAC_ROLE_OWNER, 1, 0, 0},
        {"Contributor", RBAC_ROLE_CONTRIBUTOR, 1, 11, 0},
        {"Reader", RBAC_ROLE_READER, 1, 0, 0},
        {"User Access Administrator", RBAC_ROLE_USER_ACCESS_ADMIN, 3, 0, 0},
        {"Role Based Access Control Administrator", RBAC_ROLE_RBAC_ADMIN, 4, 0, 0},
        {"Azure Digital Twins Data Owner", RBAC_ROLE_ADT_DATA_OWNER, 0, 0, 7},
        {"Azure Digital Twins Data Reader", RBAC_ROLE_ADT_DATA_READER, 0, 0, 8},
    };
    assert_int_equal(rbac_builtin_count(), sizeof rows / sizeof rows[0]);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const rbac_role_def_t *d = must_find(rows[i].name, NULL);
        assert_string_equal(d->role_name, rows[i].name);
        assert_true(rbac_roledef_id_equal(d->id, rows[i].guid));
        assert_int_equal(d->type, RBAC_ROLE_BUILTIN);
        assert_int_equal(d->actions.n, rows[i].actions);
        assert_int_equal(d->not_actions.n, rows[i].not_actions);
        assert_int_equal(d->data_actions.n, rows[i].data_actions);
        assert_int_equal(d->not_data_actions.n, 0);
        assert_int_equal(d->assignable_scopes.n, 1);
        assert_string_equal(d->assignable_scopes.v[0], "/");
    }
    /* Verbatim spot checks that a typo would break. */
    const rbac_role_def_t *owner = must_find("Azure Digital Twins Data Owner", NULL);
    assert_string_equal(
        owner->id,
        "/providers/Microsoft.Authorization/roleDefinitions/bcd981a7-7f74-457b-83e1-cceb9e632ffe");
    assert_string_equal(owner->data_actions.v[0], "Microsoft.DigitalTwins/digitaltwins/*");
    assert_string_equal(owner->data_actions.v[6], "Microsoft.DigitalTwins/query/*");
    const rbac_role_def_t *reader = must_find("Azure Digital Twins Data Reader", NULL);
    assert_string_equal(reader->data_actions.v[3], "Microsoft.DigitalTwins/jobs/import/read");
    assert_string_equal(reader->data_actions.v[7], "Microsoft.DigitalTwins/query/action");
    const rbac_role_def_t *contrib = must_find("Contributor", NULL);
    assert_string_equal(contrib->not_actions.v[1], "Microsoft.Authorization/*/Write");
    assert_string_equal(contrib->not_actions.v[10], "Microsoft.Subscription/enable/action");
}

static void find_by_name_id_and_legacy_name(void **state)
{
    (void)state;
    static const struct {
        const char *query, *guid;
        int legacy;
    } rows[] = {
        {"owner", RBAC_ROLE_OWNER, 0},
        {"AZURE DIGITAL TWINS DATA OWNER", RBAC_ROLE_ADT_DATA_OWNER, 0},
        {"Azure Digital Twins Owner (Preview)", RBAC_ROLE_ADT_DATA_OWNER, 1},
        {"azure digital twins owner (preview)", RBAC_ROLE_ADT_DATA_OWNER, 1},
        {"Azure Digital Twins Reader (Preview)", RBAC_ROLE_ADT_DATA_READER, 1},
        {"AZURE DIGITAL TWINS READER (PREVIEW)", RBAC_ROLE_ADT_DATA_READER, 1},
        {"D57506D4-4C8D-48B1-8587-93C323F6A5A3", RBAC_ROLE_ADT_DATA_READER, 0},
        {"/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/"
         "roleDefinitions/bcd981a7-7f74-457b-83e1-cceb9e632ffe",
         RBAC_ROLE_ADT_DATA_OWNER, 0},
        {"/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
         RBAC_ROLE_READER, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int legacy = -1;
        const rbac_role_def_t *d = must_find(rows[i].query, &legacy);
        if (!rbac_roledef_id_equal(d->id, rows[i].guid))
            fail_msg("'%s' found %s", rows[i].query, d->id);
        assert_int_equal(legacy, rows[i].legacy);
    }
    castor_err err;
    int legacy = -1;
    assert_null(rbac_role_find(NULL, "Azure Digital Twins Owner", &legacy, &err));
    assert_int_equal(err.rc, CASTOR_ENOTFOUND);
    assert_string_equal(err.code, "RoleDefinitionDoesNotExist");
    assert_int_equal(legacy, 0);
    assert_null(rbac_role_find(NULL, "00000000-0000-0000-0000-00000000dead", NULL, &err));
    assert_non_null(strstr(err.message, "ID '00000000-0000-0000-0000-00000000dead'"));
    assert_null(rbac_role_find(NULL, "", NULL, &err));
    assert_int_equal(err.rc, CASTOR_EINVAL);
}

static void suggest_closest_names(void **state)
{
    (void)state;
    const char *out[4];
    size_t n = rbac_role_suggest(NULL, "Data Owner", out, 4);
    assert_true(n >= 1);
    assert_string_equal(out[0], "Azure Digital Twins Data Owner");

    n = rbac_role_suggest(NULL, "Contributer", out, 4);
    assert_true(n >= 1);
    assert_string_equal(out[0], "Contributor");

    n = rbac_role_suggest(NULL, "Azure Digital Twins Data Ownr", out, 4);
    assert_true(n >= 1);
    assert_string_equal(out[0], "Azure Digital Twins Data Owner");

    /* "Digital Twins" is in four names (two current, two legacy): all come back, capped by max. */
    n = rbac_role_suggest(NULL, "digital twins", out, 3);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_non_null(strcasestr(out[i], "digital twins"));

    assert_int_equal(rbac_role_suggest(NULL, "Quantum Flux Capacitor", out, 4), 0);
    assert_int_equal(rbac_role_suggest(NULL, "", out, 4), 0);
}

static void roledef_guid_extraction(void **state)
{
    (void)state;
    char g[RBAC_GUID_LEN + 1];
    castor_err err;
    assert_int_equal(rbac_roledef_guid("BCD981A7-7F74-457B-83E1-CCEB9E632FFE", g, &err), 0);
    assert_string_equal(g, RBAC_ROLE_ADT_DATA_OWNER);
    assert_int_equal(rbac_roledef_guid("/subscriptions/s/providers/Microsoft.Authorization/"
                                       "ROLEDEFINITIONS/bcd981a7-7f74-457b-83e1-cceb9e632ffe",
                                       g, &err),
                     0);
    assert_string_equal(g, RBAC_ROLE_ADT_DATA_OWNER);
    static const char *const bad[] = {
        "",
        "owner",
        "bcd981a7-7f74-457b-83e1-cceb9e632ff",
        "bcd981a7-7f74-457b-83e1-cceb9e632ffe0",
        "bcd981a7_7f74-457b-83e1-cceb9e632ffe",
        "/providers/Microsoft.Authorization/roleAssignments/"
        "bcd981a7-7f74-457b-83e1-cceb9e632ffe",
        "/roleDefinitions/",
        "gcd981a7-7f74-457b-83e1-cceb9e632ffe",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (rbac_roledef_guid(bad[i], g, &err) != CASTOR_EINVAL) fail_msg("'%s' accepted", bad[i]);
        assert_non_null(strstr(err.message, "neither a GUID nor"));
    }
    assert_true(
        rbac_roledef_id_equal("/providers/Microsoft.Authorization/roleDefinitions/" RBAC_ROLE_OWNER,
                              "8E3AF657-A8FF-443C-A75C-2FE8C4BCB635"));
    assert_false(rbac_roledef_id_equal(RBAC_ROLE_OWNER, RBAC_ROLE_READER));
    assert_false(rbac_roledef_id_equal("junk", "junk"));
}

static void least_privileged_builtin_for_an_action(void **state)
{
    (void)state;
    static const struct {
        const char *action;
        int data;
        const char *role; /* NULL = none */
    } rows[] = {
        {"Microsoft.DigitalTwins/digitaltwins/read", 1, "Azure Digital Twins Data Reader"},
        {"Microsoft.DigitalTwins/query/action", 1, "Azure Digital Twins Data Reader"},
        {"Microsoft.DigitalTwins/digitaltwins/write", 1, "Azure Digital Twins Data Owner"},
        {"Microsoft.DigitalTwins/jobs/delete/read", 1, "Azure Digital Twins Data Owner"},
        {"Microsoft.DigitalTwins/digitalTwinsInstances/read", 0, "Reader"},
        {"Microsoft.Authorization/roleAssignments/write", 0,
         "Role Based Access Control Administrator"},
        {"Microsoft.Authorization/roleDefinitions/write", 0, "User Access Administrator"},
        {"Microsoft.DigitalTwins/digitalTwinsInstances/write", 0, "Contributor"},
        {"Microsoft.Authorization/elevateAccess/Action", 0, "User Access Administrator"},
        {"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read", 1, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const rbac_role_def_t *d = rbac_builtin_suggest_for(rows[i].action, rows[i].data);
        if (!rows[i].role) {
            assert_null(d);
            continue;
        }
        if (!d) fail_msg("%s: no role", rows[i].action);
        assert_string_equal(d->role_name, rows[i].role);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtins_have_real_guids_and_shapes),
        cmocka_unit_test(find_by_name_id_and_legacy_name),
        cmocka_unit_test(suggest_closest_names),
        cmocka_unit_test(roledef_guid_extraction),
        cmocka_unit_test(least_privileged_builtin_for_an_action),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
