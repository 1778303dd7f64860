/* test_rbac_match.c — permission pattern matching and permission string syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "rbac/rbac.h"

static void matches_table(void **state)
{
    (void)state;
    static const struct {
        const char *pattern, *action;
        int match;
    } rows[] = {
        {"*", "Microsoft.DigitalTwins/digitaltwins/read", 1},
        {"*/read", "Microsoft.DigitalTwins/digitalTwinsInstances/read", 1},
        {"*/read", "Microsoft.DigitalTwins/digitalTwinsInstances/write", 0},
        {"*/read", "Microsoft.DigitalTwins/query/action", 0},
        {"Microsoft.DigitalTwins/*", "Microsoft.DigitalTwins/models/delete", 1},
        {"Microsoft.DigitalTwins/*", "Microsoft.DigitalTwinsX/models/delete", 0},
        /* a star crosses '/': digitaltwins/ + star covers relationships and commands */
        {"Microsoft.DigitalTwins/digitaltwins/*",
         "Microsoft.DigitalTwins/digitaltwins/relationships/read", 1},
        {"Microsoft.DigitalTwins/digitaltwins/*",
         "Microsoft.DigitalTwins/digitaltwins/commands/action", 1},
        {"Microsoft.DigitalTwins/digitaltwins/*",
         "Microsoft.DigitalTwins/digitalTwinsInstances/read", 0},
        {"Microsoft.DigitalTwins/query/*", "Microsoft.DigitalTwins/query/action", 1},
        /* case-insensitive both ways */
        {"Microsoft.Authorization/*/Write", "microsoft.authorization/roleassignments/write", 1},
        {"MICROSOFT.DIGITALTWINS/MODELS/READ", "microsoft.digitaltwins/models/read", 1},
        {"microsoft.digitaltwins/models/read", "Microsoft.DigitalTwins/Models/Read", 1},
        /* middle and multiple stars */
        {"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/roleAssignments/delete", 1},
        {"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/roleAssignments/read", 0},
        {"Microsoft.*/*/read", "Microsoft.Web/sites/read", 1},
        {"Microsoft.*/*/read", "Contoso.Web/sites/read", 0},
        {"*a*b*c", "xxaxxbxxc", 1},
        {"*a*b*c", "xxaxxcxxb", 0},
        {"a**b", "ab", 1},
        /* exact patterns are whole-string */
        {"Microsoft.DigitalTwins/models/read", "Microsoft.DigitalTwins/models/readx", 0},
        {"Microsoft.DigitalTwins/models/read", "Microsoft.DigitalTwins/models/rea", 0},
        {"Microsoft.DigitalTwins/models/*", "Microsoft.DigitalTwins/models", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rbac_action_matches(rows[i].pattern, rows[i].action) != rows[i].match)
            fail_msg("'%s' vs '%s' should be %d", rows[i].pattern, rows[i].action, rows[i].match);
}

static void validate_accepts_azure_shapes(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "*",
        "*/read",
        "Microsoft.DigitalTwins/*",
        "Microsoft.DigitalTwins/digitaltwins/relationships/read",
        "Microsoft.Authorization/*/Write",
        "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
        "Microsoft.*/*/read",
        "Microsoft.Insights/diagnostic-settings_v2/read",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        castor_err err;
        if (rbac_action_validate(ok[i], &err) != 0) fail_msg("'%s': %s", ok[i], err.message);
    }
}

static void validate_rejects_with_a_reason(void **state)
{
    (void)state;
    static const struct {
        const char *in, *says;
    } rows[] = {
        {"", "empty"},
        {"read", "has no '/'"},
        {"Microsoft.DigitalTwins/", "empty segment"},
        {"/Microsoft.DigitalTwins/read", "empty segment"},
        {"Microsoft.DigitalTwins//read", "empty segment"},
        {"DigitalTwins/models/read", "provider namespace"},
        {".DigitalTwins/models/read", "provider namespace"},
        {"Microsoft./models/read", "provider namespace"},
        {"Microsoft.DigitalTwins/models/read ", "character ' '"},
        {"Microsoft.DigitalTwins/models?/read", "character '?'"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        castor_err err;
        assert_int_equal(rbac_action_validate(rows[i].in, &err), CASTOR_EINVAL);
        if (!strstr(err.message, rows[i].says))
            fail_msg("'%s': message '%s' lacks '%s'", rows[i].in, err.message, rows[i].says);
    }
    char big[RBAC_ACTION_MAX + 1];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    castor_err err;
    assert_int_equal(rbac_action_validate(big, &err), CASTOR_EINVAL);
    assert_non_null(strstr(err.message, "at most"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_table),
        cmocka_unit_test(validate_accepts_azure_shapes),
        cmocka_unit_test(validate_rejects_with_a_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
