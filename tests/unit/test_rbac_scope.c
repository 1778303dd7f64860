/* test_rbac_scope.c — scope parsing, normalization and the inheritance (covers) rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "rbac/rbac.h"

#define SUB "/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333"
#define RG SUB "/resourceGroups/Rg-1"
#define ADT RG "/providers/Microsoft.DigitalTwins/digitalTwinsInstances/adt1"

static void parse_accepts_every_shape(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        rbac_scope_kind_t kind;
        const char *norm, *sub, *rg, *provider, *type, *name, *mg;
    } rows[] = {
        {"/", RBAC_SCOPE_ROOT, "/", "", "", "", "", "", ""},
        {SUB, RBAC_SCOPE_SUBSCRIPTION, "/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333",
         "0b1f6471-1bf0-4dda-aec3-111122223333", "", "", "", "", ""},
        {SUB "/", RBAC_SCOPE_SUBSCRIPTION, "/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333",
         "0b1f6471-1bf0-4dda-aec3-111122223333", "", "", "", "", ""},
        {RG, RBAC_SCOPE_RESOURCE_GROUP, SUB "/resourcegroups/rg-1",
         "0b1f6471-1bf0-4dda-aec3-111122223333", "Rg-1", "", "", "", ""},
        {"/SUBSCRIPTIONS/0B1F6471-1BF0-4DDA-AEC3-111122223333/RESOURCEGROUPS/Rg-1/",
         RBAC_SCOPE_RESOURCE_GROUP, SUB "/resourcegroups/rg-1",
         "0B1F6471-1BF0-4DDA-AEC3-111122223333", "Rg-1", "", "", "", ""},
        {ADT, RBAC_SCOPE_RESOURCE,
         SUB "/resourcegroups/rg-1/providers/microsoft.digitaltwins/digitaltwinsinstances/adt1",
         "0b1f6471-1bf0-4dda-aec3-111122223333", "Rg-1", "Microsoft.DigitalTwins",
         "digitalTwinsInstances", "adt1", ""},
        {ADT "/endpoints/ep1", RBAC_SCOPE_RESOURCE, NULL, "0b1f6471-1bf0-4dda-aec3-111122223333",
         "Rg-1", "Microsoft.DigitalTwins", "digitalTwinsInstances/endpoints", "adt1/ep1", ""},
        {ADT
         "/providers/Microsoft.Authorization/roleAssignments/05c5a614-a7d6-4502-b150-c2fb455033ff",
         RBAC_SCOPE_RESOURCE, NULL, "0b1f6471-1bf0-4dda-aec3-111122223333", "Rg-1",
         "Microsoft.Authorization", "roleAssignments", "05c5a614-a7d6-4502-b150-c2fb455033ff", ""},
        {SUB
         "/providers/Microsoft.Authorization/roleDefinitions/bcd981a7-7f74-457b-83e1-cceb9e632ffe",
         RBAC_SCOPE_RESOURCE, NULL, "0b1f6471-1bf0-4dda-aec3-111122223333", "",
         "Microsoft.Authorization", "roleDefinitions", "bcd981a7-7f74-457b-83e1-cceb9e632ffe", ""},
        {"/providers/Microsoft.Management/managementGroups/mg-root", RBAC_SCOPE_MANAGEMENT_GROUP,
         "/providers/microsoft.management/managementgroups/mg-root", "", "", "", "", "", "mg-root"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        rbac_scope_t sc;
        castor_err err;
        int rc = rbac_scope_parse(rows[i].in, &sc, &err);
        if (rc != 0) fail_msg("%s: %s", rows[i].in, err.message);
        assert_int_equal(sc.kind, rows[i].kind);
        if (rows[i].norm) assert_string_equal(sc.norm, rows[i].norm);
        assert_string_equal(sc.subscription, rows[i].sub);
        assert_string_equal(sc.resource_group, rows[i].rg);
        assert_string_equal(sc.provider, rows[i].provider);
        assert_string_equal(sc.type, rows[i].type);
        assert_string_equal(sc.name, rows[i].name);
        assert_string_equal(sc.management_group, rows[i].mg);
    }
}

static void parse_rejects_malformed_with_a_reason(void **state)
{
    (void)state;
    static const struct {
        const char *in, *says;
    } rows[] = {
        {"", "empty"},
        {"subscriptions/x", "does not start with '/'"},
        {"/subscriptions", "names no subscription"},
        {"/subscriptions/abc", "is not a GUID"},
        {SUB "//resourceGroups/rg", "empty segment"},
        {SUB "/resourceGroup/rg", "should be 'resourceGroups'"},
        {SUB "/resourceGroups", "names no resource group"},
        {SUB "/resourceGroups/bad.", "must be 1-90"},
        {SUB "/resourceGroups/a b", "must be 1-90"},
        {RG "/providers", "providers/{namespace}/{type}/{name}"},
        {RG "/things/Microsoft.X/a/b", "providers/{namespace}/{type}/{name}"},
        {RG "/providers/NoDot/a/b", "not a provider namespace"},
        {RG "/providers/Microsoft.DigitalTwins/digitalTwinsInstances", "the last type has no name"},
        {SUB "/providers/Microsoft.Web", "there are none"},
        {ADT "/endpoints", "the last type has no name"},
        {"/tenants/x", "starts with 'tenants'"},
        {"/providers", "ends after 'providers'"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        rbac_scope_t sc;
        castor_err err;
        assert_int_equal(rbac_scope_parse(rows[i].in, &sc, &err), CASTOR_EINVAL);
        if (!strstr(err.message, rows[i].says))
            fail_msg("'%s': message '%s' lacks '%s'", rows[i].in, err.message, rows[i].says);
    }
}

static void parse_rejects_overlong(void **state)
{
    (void)state;
    char big[RBAC_SCOPE_MAX + 10];
    memset(big, 'a', sizeof big - 1);
    big[0] = '/';
    big[sizeof big - 1] = '\0';
    rbac_scope_t sc;
    castor_err err;
    assert_int_equal(rbac_scope_parse(big, &sc, &err), CASTOR_EINVAL);
    assert_non_null(strstr(err.message, "longer than"));
}

static void covers_table(void **state)
{
    (void)state;
    static const struct {
        const char *outer, *inner;
        int covers;
    } rows[] = {
        {"/", "/", 1},
        {"/", ADT, 1},
        {SUB, SUB, 1},
        {SUB, RG, 1},
        {SUB, ADT, 1},
        {RG, ADT, 1},
        {ADT, ADT, 1},
        {ADT, RG, 0}, /* inheritance goes down, never up */
        {RG, SUB, 0},
        {SUB, "/", 0},
        {"/subscriptions/abc", "/subscriptions/abcd", 0}, /* segment boundary */
        {"/subscriptions/abc", "/subscriptions/abc/resourceGroups/x", 1},
        {SUB "/resourceGroups/rg1", SUB "/resourceGroups/rg10", 0},
        {SUB "/resourceGroups/rg1", SUB "/resourceGroups/rg1-dev/providers/a.b/c/d", 0},
        {"/SUBSCRIPTIONS/0B1F6471-1BF0-4DDA-AEC3-111122223333/resourcegroups/RG-1", ADT, 1},
        {RG "/", ADT "/", 1},
        {RG, ADT "/", 1},
        {ADT "/", ADT, 1},
        /* ASCII case folding only: '@'/'`', '['/'{' and non-ASCII bytes stay distinct */
        {"/providers/a.b/t/x@y[z", "/PROVIDERS/A.B/T/X@Y[Z", 1},
        {"/providers/a.b/t/x@y[z", "/providers/a.b/t/x`y[z", 0},
        {"/providers/a.b/t/x@y[z", "/providers/a.b/t/x@y{z", 0},
        {"/providers/a.b/t/caf\xc9", "/providers/a.b/t/caf\xe9", 0},
        {"/providers/a.b/t/CAF\xc9", "/providers/a.b/t/caf\xc9/sub/x", 1},
        {"relative", ADT, 0},
        {ADT, "relative", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rbac_scope_covers(rows[i].outer, rows[i].inner) != rows[i].covers)
            fail_msg("covers('%s', '%s') should be %d", rows[i].outer, rows[i].inner,
                     rows[i].covers);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_accepts_every_shape),
        cmocka_unit_test(parse_rejects_malformed_with_a_reason),
        cmocka_unit_test(parse_rejects_overlong),
        cmocka_unit_test(covers_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
