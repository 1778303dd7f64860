/* test_rbac_validate.c — checks before creating a custom role or a role assignment: each bad
 * input is refused with the right code, the field it concerns, and a message a user can act on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "rbac/rbac.h"

#define SUB "/subscriptions/11111111-2222-3333-4444-555555555555"
#define SUB2 "/subscriptions/66666666-2222-3333-4444-555555555555"
#define RG1 SUB "/resourceGroups/rg1"
#define ADT1 RG1 "/providers/Microsoft.DigitalTwins/digitalTwinsInstances/adt1"
#define MG "/providers/Microsoft.Management/managementGroups/mg1"
#define ROLE_ID "c0c0c0c0-0000-0000-0000-000000000001"
#define ME "aaaaaaaa-0000-0000-0000-000000000001"
#define A1 "05c5a614-a7d6-4502-b150-c2fb455033ff"
#define A2 "05c5a614-a7d6-4502-b150-c2fb455033fe"

static const char *const good_data[] = {"Microsoft.DigitalTwins/digitaltwins/read"};
static const char *const bad_data[] = {"Microsoft.DigitalTwins/digitaltwins/read",
                                       "DigitalTwins/read"};
static const char *const not_data[] = {"Microsoft.DigitalTwins/models/*"};
static const char *const rg_scope[] = {RG1};
static const char *const mg_scope[] = {MG};
static const char *const bad_scope[] = {SUB, "/subscriptions/x"};

#define L(a)                                                                                       \
    {                                                                                              \
        a, sizeof a / sizeof a[0]                                                                  \
    }

static rbac_role_def_t good_role(void)
{
    return (rbac_role_def_t){ROLE_ID, "Twin Reader", NULL, RBAC_ROLE_CUSTOM, {0},
                             {0},     L(good_data),  {0},  L(rg_scope)};
}

static void role_definition_table(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int rc;
        const char *path, *says;
    } rows[] = {
        {"valid", 0, "", ""},
        {"not a guid", CASTOR_EINVAL, "name", "neither a GUID"},
        {"built-in type", CASTOR_EINVAL, "properties.type", "only custom roles"},
        {"blank name", CASTOR_EINVAL, "properties.roleName", "not blank"},
        {"no permissions", CASTOR_EINVAL, "properties.permissions[0]", "grants nothing"},
        {"only a carve-out", CASTOR_EINVAL, "properties.permissions[0]", "only subtract"},
        {"bad data action", CASTOR_EINVAL, "properties.permissions[0].dataActions[1]",
         "provider namespace"},
        {"bad not-action", CASTOR_EINVAL, "properties.permissions[0].notActions[0]", "has no '/'"},
        {"no scopes", CASTOR_EINVAL, "properties.assignableScopes",
         "at least one assignable scope"},
        {"bad scope", CASTOR_EINVAL, "properties.assignableScopes[1]", "not a GUID"},
        {"data role at a management group", CASTOR_EINVAL, "properties.assignableScopes[0]",
         "management group"},
        {"name of a built-in", CASTOR_ECONFLICT, "properties.roleName", "built-in role"},
        {"legacy preview name", CASTOR_ECONFLICT, "properties.roleName", "legacy preview name"},
    };
    static const char *const not_ok[] = {"read"};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        rbac_role_def_t d = good_role();
        switch (i) {
        case 1:
            d.id = "twin-reader";
            break;
        case 2:
            d.type = RBAC_ROLE_BUILTIN;
            break;
        case 3:
            d.role_name = "  ";
            break;
        case 4:
            d.data_actions = (rbac_strlist_t){0};
            break;
        case 5:
            d.data_actions = (rbac_strlist_t){0}, d.not_data_actions = (rbac_strlist_t)L(not_data);
            break;
        case 6:
            d.data_actions = (rbac_strlist_t)L(bad_data);
            break;
        case 7:
            d.not_actions = (rbac_strlist_t)L(not_ok);
            break;
        case 8:
            d.assignable_scopes = (rbac_strlist_t){0};
            break;
        case 9:
            d.assignable_scopes = (rbac_strlist_t)L(bad_scope);
            break;
        case 10:
            d.assignable_scopes = (rbac_strlist_t)L(mg_scope);
            break;
        case 11:
            d.role_name = "READER";
            break;
        case 12:
            d.role_name = "Azure Digital Twins Owner (Preview)";
            break;
        }
        castor_err err;
        castor_err_clear(&err);
        rbac_index_t *ix = rbac_index_new(NULL, 0, NULL, 0, &err);
        int rc = rbac_role_def_validate(ix, &d, &err);
        rbac_index_free(ix);
        if (rc != rows[i].rc) fail_msg("%s: rc %d (%s)", rows[i].name, rc, err.message);
        if (rc == 0) continue;
        assert_string_equal(err.path, rows[i].path);
        if (!strstr(err.message, rows[i].says))
            fail_msg("%s: message '%s' lacks '%s'", rows[i].name, err.message, rows[i].says);
    }
}

static void role_may_keep_its_own_name(void **state)
{
    (void)state;
    rbac_role_def_t d = good_role();
    castor_err err;
    rbac_index_t *ix = rbac_index_new(&d, 1, NULL, 0, &err);
    assert_non_null(ix);
    assert_int_equal(rbac_role_def_validate(ix, &d, &err), 0); /* an update of itself */
    rbac_role_def_t other = d;
    other.id = "c0c0c0c0-0000-0000-0000-000000000002";
    other.role_name = "twin reader";
    assert_int_equal(rbac_role_def_validate(ix, &other, &err), CASTOR_ECONFLICT);
    assert_non_null(strstr(err.message, "custom role"));
    /* A management-group scope is fine for a role without DataActions. */
    static const char *const acts[] = {"Microsoft.DigitalTwins/digitalTwinsInstances/read"};
    other.role_name = "Instance Viewer";
    other.data_actions = (rbac_strlist_t){0};
    other.actions = (rbac_strlist_t)L(acts);
    other.assignable_scopes = (rbac_strlist_t)L(mg_scope);
    assert_int_equal(rbac_role_def_validate(ix, &other, &err), 0);
    rbac_index_free(ix);
}

static void assignment_table(void **state)
{
    (void)state;
    rbac_role_def_t role = good_role();
    rbac_assignment_t existing = {A1, ADT1, ME, RBAC_PRINCIPAL_USER, ROLE_ID};
    castor_err err;
    rbac_index_t *ix = rbac_index_new(&role, 1, &existing, 1, &err);
    assert_non_null(ix);
    static const struct {
        const char *name;
        rbac_assignment_t as;
        int rc;
        const char *code, *path, *says;
    } rows[] = {
        {"new, built-in role at a subscription",
         {A2, SUB, ME, RBAC_PRINCIPAL_USER,
          "/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/" RBAC_ROLE_OWNER},
         0,
         "",
         "",
         ""},
        {"new, custom role inside its scope",
         {A2, RG1, ME, RBAC_PRINCIPAL_GROUP, ROLE_ID},
         0,
         "",
         "",
         ""},
        {"identical re-put",
         {A1, ADT1 "/", "AAAAAAAA-0000-0000-0000-000000000001", RBAC_PRINCIPAL_USER, ROLE_ID},
         1,
         "",
         "",
         ""},
        {"name not a guid",
         {"my-assignment", SUB, ME, RBAC_PRINCIPAL_USER, ROLE_ID},
         CASTOR_EINVAL,
         "",
         "name",
         "not a GUID"},
        {"principal not a guid",
         {A2, SUB, "alice@contoso.com", RBAC_PRINCIPAL_USER, ROLE_ID},
         CASTOR_EINVAL,
         "",
         "properties.principalId",
         "not a GUID"},
        {"bad principal type",
         {A2, SUB, ME, (rbac_principal_type_t)9, ROLE_ID},
         CASTOR_EINVAL,
         "",
         "properties.principalType",
         "User, Group"},
        {"bad scope",
         {A2, SUB "/resourcegroup/rg1", ME, RBAC_PRINCIPAL_USER, ROLE_ID},
         CASTOR_EINVAL,
         "",
         "scope",
         "should be 'resourceGroups'"},
        {"bad role id",
         {A2, SUB, ME, RBAC_PRINCIPAL_USER, "Owner"},
         CASTOR_EINVAL,
         "",
         "properties.roleDefinitionId",
         "neither a GUID"},
        {"unknown role",
         {A2, SUB, ME, RBAC_PRINCIPAL_USER, "deadbeef-0000-0000-0000-000000000000"},
         CASTOR_ENOTFOUND,
         "RoleDefinitionDoesNotExist",
         "properties.roleDefinitionId",
         "does not exist"},
        {"custom role above its assignable scope",
         {A2, SUB, ME, RBAC_PRINCIPAL_USER, ROLE_ID},
         CASTOR_EINVAL,
         "",
         "scope",
         "assignable scopes ('" RG1 "')"},
        {"custom role in another subscription",
         {A2, SUB2, ME, RBAC_PRINCIPAL_USER, ROLE_ID},
         CASTOR_EINVAL,
         "",
         "scope",
         "is outside them"},
        {"same grant under another name",
         {A2, ADT1, ME, RBAC_PRINCIPAL_USER, ROLE_ID},
         CASTOR_ECONFLICT,
         "RoleAssignmentExists",
         "",
         "already exists"},
        {"same name, other principal",
         {A1, ADT1, "aaaaaaaa-0000-0000-0000-000000000002", RBAC_PRINCIPAL_USER, ROLE_ID},
         CASTOR_EINVAL,
         "RoleAssignmentUpdateNotPermitted",
         "",
         "not allowed to be updated"},
        {"same name, other scope",
         {A1, RG1, ME, RBAC_PRINCIPAL_USER, ROLE_ID},
         CASTOR_EINVAL,
         "RoleAssignmentUpdateNotPermitted",
         "",
         "not allowed to be updated"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        castor_err_clear(&err);
        int rc = rbac_assignment_validate(ix, &rows[i].as, &err);
        if (rc != rows[i].rc) fail_msg("%s: rc %d (%s)", rows[i].name, rc, err.message);
        if (rc < 0) {
            assert_string_equal(err.code, rows[i].code);
            assert_string_equal(err.path, rows[i].path);
            if (!strstr(err.message, rows[i].says))
                fail_msg("%s: message '%s' lacks '%s'", rows[i].name, err.message, rows[i].says);
        }
    }
    rbac_index_free(ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(role_definition_table),
        cmocka_unit_test(role_may_keep_its_own_name),
        cmocka_unit_test(assignment_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
