/* test_access_explain.c — a data-plane denial becomes the right cause, a message naming it and
 * its fix, and a structured innererror; decided through the real RBAC engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "access/access_explain.h"

#define SUB "/subscriptions/11111111-1111-1111-1111-111111111111"
#define INST SUB "/resourceGroups/rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/adt1"
#define OTHER SUB "/resourceGroups/rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/adt2"
#define USER "22222222-2222-2222-2222-222222222222"
#define GROUP "33333333-3333-3333-3333-333333333333"
#define OWNER RBAC_ROLE_OWNER
#define DATA_OWNER RBAC_ROLE_ADT_DATA_OWNER
#define DATA_READER RBAC_ROLE_ADT_DATA_READER
#define CUSTOM "44444444-4444-4444-4444-444444444444"

static const char *const all_dt[] = {"Microsoft.DigitalTwins/*"};
static const char *const no_write[] = {"Microsoft.DigitalTwins/digitaltwins/write"};
static const char *const root[] = {"/"};

typedef struct row {
    const char *name;
    rbac_assignment_t as[3];
    size_t n;
    const char *action;
    access_cause_t want;
    const char *message_has;
} row_t;

static const row_t rows[] = {
    {"no assignments at all",
     {{0}},
     0,
     "Microsoft.DigitalTwins/digitaltwins/read",
     ACCESS_NO_ASSIGNMENT,
     "has no role assignment that covers this instance"},
    {"subscription Owner only (the seed)",
     {{"a1", SUB, USER, RBAC_PRINCIPAL_USER, OWNER}},
     1,
     "Microsoft.DigitalTwins/digitaltwins/read",
     ACCESS_CONTROL_PLANE_ONLY,
     "is a control-plane role"},
    {"Data Reader writing",
     {{"a1", INST, USER, RBAC_PRINCIPAL_USER, DATA_READER}},
     1,
     "Microsoft.DigitalTwins/digitaltwins/write",
     ACCESS_ROLE_LACKS_ACTION,
     "Azure Digital Twins Data Owner"},
    {"Data Owner on another instance",
     {{"a1", OTHER, USER, RBAC_PRINCIPAL_USER, DATA_OWNER}},
     1,
     "Microsoft.DigitalTwins/models/read",
     ACCESS_SCOPE_ELSEWHERE,
     "the right role, on another scope"},
    {"custom role carving writes out, through a group",
     {{"a1", INST, GROUP, RBAC_PRINCIPAL_GROUP, CUSTOM}},
     1,
     "Microsoft.DigitalTwins/digitaltwins/write",
     ACCESS_CARVED_OUT,
     "through group " GROUP},
};

static rbac_index_t *index_for(const row_t *r)
{
    rbac_role_def_t custom = {
        .id = CUSTOM,
        .role_name = "Twin reader-writer without twin writes",
        .type = RBAC_ROLE_CUSTOM,
        .data_actions = {all_dt, 1},
        .not_data_actions = {no_write, 1},
        .assignable_scopes = {root, 1},
    };
    castor_err err;
    rbac_index_t *ix = rbac_index_new(&custom, 1, r->as, r->n, &err);
    if (!ix) fail_msg("index: %s", err.message);
    return ix;
}

static void causes_messages_and_fixes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const row_t *r = &rows[i];
        rbac_index_t *ix = index_for(r);
        const char *groups[] = {GROUP};
        rbac_principal_t p = {.object_id = USER, .group_ids = {groups, 1}};
        rbac_request_t q = {.principal = &p, .action = r->action, .data_action = 1, .scope = INST};
        castor_err err;
        assert_int_equal(rbac_check(ix, &q, NULL, &err), RBAC_DENY);
        arena_t a;
        arena_init(&a, 1 << 20);
        rbac_explanation_t *e;
        assert_int_equal(rbac_explain(ix, &q, NULL, &a, &e, &err), 0);
        access_principal_t who = {.kind = ACCESS_KIND_USER};
        strcpy(who.oid, USER);
        strcpy(who.upn, "alice@castor.local");
        strcpy(who.appid, "04b07795-8ddb-461a-bbee-02f9e1bf7b46");
        strcpy(who.scp, "Read.Write");
        access_denial_t d = {"adt1", INST, r->action, &who, e};
        access_cause_t cause = access_classify(&d);
        if (cause != r->want)
            fail_msg("%s: cause %s, want %s", r->name, access_cause_name(cause),
                     access_cause_name(r->want));
        const char *msg;
        json_t *inner;
        assert_int_equal(access_explain_denial(&d, cause, &a, &msg, &inner, &err), 0);
        if (!strstr(msg, r->message_has))
            fail_msg("%s: message lacks '%s': %s", r->name, r->message_has, msg);
        assert_non_null(strstr(msg, "seed cause #1"));
        assert_non_null(strstr(msg, "castor dt role-assignment create --dt-name adt1 --assignee "
                                    "alice@castor.local --role"));
        assert_non_null(strstr(msg, "az dt role-assignment create"));
        assert_non_null(strstr(msg, r->action));
        assert_int_equal(json_integer_value(json_object_get(inner, "seedCause")), 1);
        assert_string_equal(json_string_value(json_object_get(inner, "code")),
                            access_cause_name(r->want));
        assert_int_equal(json_array_size(json_object_get(inner, "assignments")), r->n);
        /* Reads are fixed by the least role that grants them. */
        const char *role = json_string_value(json_object_get(inner, "suggestedRole"));
        if (strstr(r->action, "/read"))
            assert_string_equal(role, "Azure Digital Twins Data Reader");
        else
            assert_string_equal(role, "Azure Digital Twins Data Owner");
        json_decref(inner);
        arena_free(&a);
        rbac_index_free(ix);
    }
}

static void missing_api_permission_is_cause_two(void **state)
{
    (void)state;
    arena_t a;
    arena_init(&a, 1 << 20);
    access_principal_t who = {.kind = ACCESS_KIND_USER};
    strcpy(who.oid, USER);
    strcpy(who.upn, "bob@castor.local");
    strcpy(who.appid, "55555555-5555-5555-5555-555555555555");
    strcpy(who.scp, "User.Read");
    access_denial_t d = {"adt1", INST, "Microsoft.DigitalTwins/digitaltwins/read", &who, NULL};
    assert_int_equal(access_classify(&d), ACCESS_MISSING_SCOPE);
    const char *msg;
    json_t *inner;
    castor_err err;
    assert_int_equal(access_explain_denial(&d, ACCESS_MISSING_SCOPE, &a, &msg, &inner, &err), 0);
    assert_non_null(strstr(msg, "seed cause #2"));
    assert_non_null(strstr(msg, "'User.Read'"));
    assert_non_null(strstr(msg,
                           "castor ad app permission add --id 55555555-5555-5555-5555-555555555555 "
                           "--api 0b07f429-9f4b-4714-9392-cc5e8e80c8b0 --api-permissions "
                           "4589bd03-58cb-4e6c-b17f-b580e39652f8=Scope"));
    assert_non_null(strstr(msg, "admin-consent"));
    assert_int_equal(json_integer_value(json_object_get(inner, "seedCause")), 2);
    assert_null(json_object_get(inner, "assignments"));
    json_decref(inner);
    arena_free(&a);
    assert_int_equal(access_seed_cause(ACCESS_UNAUTHENTICATED), 0);
    assert_int_equal(access_seed_cause(ACCESS_CONTROL_PLANE_ONLY), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(causes_messages_and_fixes),
        cmocka_unit_test(missing_api_permission_is_cause_two),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
