/* test_rbac_check.c — decisions and their explanations, one table row per rule, including the
 * pairs that surprise users (subscription Owner on the data plane, Data Reader writing, the
 * right role on the wrong instance, carve-outs granted back by another assignment). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "rbac/rbac.h"

#define SUB "/subscriptions/11111111-2222-3333-4444-555555555555"
#define RG1 SUB "/resourceGroups/rg1"
#define RG10 SUB "/resourceGroups/rg10"
#define ADT1 RG1 "/providers/Microsoft.DigitalTwins/digitalTwinsInstances/adt1"
#define ADT2 RG1 "/providers/Microsoft.DigitalTwins/digitalTwinsInstances/adt2"
#define ADT10 RG10 "/providers/Microsoft.DigitalTwins/digitalTwinsInstances/adt1"
#define ME "aaaaaaaa-0000-0000-0000-000000000001"
#define OTHER "aaaaaaaa-0000-0000-0000-000000000002"
#define G1 "99999999-0000-0000-0000-0000000000a1"
#define G2 "99999999-0000-0000-0000-0000000000b2"
#define TWIN_OP "c0c0c0c0-0000-0000-0000-000000000001"
#define QUERY_ONLY "c0c0c0c0-0000-0000-0000-000000000002"
#define UNKNOWN_ROLE "deadbeef-0000-0000-0000-000000000000"

#define DT "Microsoft.DigitalTwins/"
#define DATA 1
#define CTRL 0

/* Custom roles the table uses alongside the built-ins. */
static const char *const twin_op_data[] = {"Microsoft.DigitalTwins/*"};
static const char *const twin_op_not[] = {DT "models/delete", DT "digitaltwins/relationships/*"};
static const char *const query_only_data[] = {DT "query/action"};
static const char *const sub_scope[] = {SUB};
static const rbac_role_def_t customs[] = {
    {TWIN_OP,
     "Twin Operator",
     NULL,
     RBAC_ROLE_CUSTOM,
     {0},
     {0},
     {twin_op_data, 1},
     {twin_op_not, 2},
     {sub_scope, 1}},
    {QUERY_ONLY,
     "Query Only",
     NULL,
     RBAC_ROLE_CUSTOM,
     {0},
     {0},
     {query_only_data, 1},
     {0},
     {sub_scope, 1}},
};

typedef struct asg_row {
    const char *principal, *role, *scope; /* role: a name, resolved below */
} asg_row_t;

typedef struct case_row {
    const char *name;
    asg_row_t asg[3];
    const char *action;
    int data;
    const char *scope;
    int allowed;
    rbac_why_t why;  /* allowed: RBAC_WHY_GRANTED; denied: the why of the first item */
    const char *via; /* expected via_group of the grant */
} case_row_t;

static const case_row_t cases[] = {
    {"subscription Owner gets no data action",
     {{ME, "Owner", SUB}},
     DT "digitaltwins/read",
     DATA,
     ADT1,
     0,
     RBAC_WHY_CONTROL_PLANE_ONLY,
     NULL},
    {"subscription Owner manages the instance",
     {{ME, "Owner", SUB}},
     DT "digitalTwinsInstances/write",
     CTRL,
     ADT1,
     1,
     RBAC_WHY_GRANTED,
     NULL},
    {"Owner may assign roles",
     {{ME, "Owner", SUB}},
     "Microsoft.Authorization/roleAssignments/write",
     CTRL,
     ADT1,
     1,
     RBAC_WHY_GRANTED,
     NULL},
    {"instance Owner still no data action",
     {{ME, "Owner", ADT1}},
     DT "models/read",
     DATA,
     ADT1,
     0,
     RBAC_WHY_CONTROL_PLANE_ONLY,
     NULL},
    {"Contributor cannot assign roles (NotActions)",
     {{ME, "Contributor", SUB}},
     "Microsoft.Authorization/roleAssignments/write",
     CTRL,
     ADT1,
     0,
     RBAC_WHY_NOT_ACTION_CARVEOUT,
     NULL},
    {"Contributor manages the instance",
     {{ME, "Contributor", RG1}},
     DT "digitalTwinsInstances/write",
     CTRL,
     ADT1,
     1,
     RBAC_WHY_GRANTED,
     NULL},
    {"Contributor plus UAA can assign",
     {{ME, "Contributor", SUB}, {ME, "User Access Administrator", RG1}},
     "Microsoft.Authorization/roleAssignments/write",
     CTRL,
     ADT1,
     1,
     RBAC_WHY_GRANTED,
     NULL},
    {"Reader reads the instance",
     {{ME, "Reader", SUB}},
     DT "digitalTwinsInstances/read",
     CTRL,
     ADT1,
     1,
     RBAC_WHY_GRANTED,
     NULL},
    {"Reader cannot write the instance",
     {{ME, "Reader", SUB}},
     DT "digitalTwinsInstances/write",
     CTRL,
     ADT1,
     0,
     RBAC_WHY_NO_MATCHING_ACTION,
     NULL},
    {"RBAC Administrator assigns",
     {{ME, "Role Based Access Control Administrator", RG1}},
     "Microsoft.Authorization/roleAssignments/delete",
     CTRL,
     ADT1,
     1,
     RBAC_WHY_GRANTED,
     NULL},
    {"RBAC Administrator cannot write role definitions",
     {{ME, "Role Based Access Control Administrator", RG1}},
     "Microsoft.Authorization/roleDefinitions/write",
     CTRL,
     ADT1,
     0,
     RBAC_WHY_NO_MATCHING_ACTION,
     NULL},
    {"Data Reader reads",
     {{ME, "Azure Digital Twins Data Reader", ADT1}},
     DT "digitaltwins/read",
     DATA,
     ADT1,
     1,
     RBAC_WHY_GRANTED,
     NULL},
    {"Data Reader queries",
     {{ME, "Azure Digital Twins Data Reader", ADT1}},
     DT "query/action",
     DATA,
     ADT1,
     1,
     RBAC_WHY_GRANTED,
     NULL},
    {"Data Reader cannot write",
     {{ME, "Azure Digital Twins Data Reader", ADT1}},
     DT "digitaltwins/write",
     DATA,
     ADT1,
     0,
     RBAC_WHY_NO_MATCHING_DATA_ACTION,
     NULL},
    {"Data Reader cannot delete models",
     {{ME, "Azure Digital Twins Data Reader", ADT1}},
     DT "models/delete",
     DATA,
     ADT1,
     0,
     RBAC_WHY_NO_MATCHING_DATA_ACTION,
     NULL},
    {"Data Reader keeps the legacy jobs/import/read",
     {{ME, "Azure Digital Twins Data Reader", ADT1}},
     DT "jobs/import/read",
     DATA,
     ADT1,
     1,
     RBAC_WHY_GRANTED,
     NULL},
    {"Data Reader lacks the legacy jobs/delete/read",
     {{ME, "Azure Digital Twins Data Reader", ADT1}},
     DT "jobs/delete/read",
     DATA,
     ADT1,
     0,
     RBAC_WHY_NO_MATCHING_DATA_ACTION,
     NULL},
    {"Data Owner cannot manage the instance",
     {{ME, "Azure Digital Twins Data Owner", ADT1}},
     DT "digitalTwinsInstances/delete",
     CTRL,
     ADT1,
     0,
     RBAC_WHY_DATA_PLANE_ONLY,
     NULL},
    {"a data action never satisfies a control check",
     {{ME, "Azure Digital Twins Data Owner", ADT1}},
     DT "digitaltwins/read",
     CTRL,
     ADT1,
     0,
     RBAC_WHY_DATA_PLANE_ONLY,
     NULL},
    {"Data Owner writes relationships",
     {{ME, "Azure Digital Twins Data Owner", ADT1}},
     DT "digitaltwins/relationships/write",
     DATA,
     ADT1,
     1,
     RBAC_WHY_GRANTED,
     NULL},
    {"Data Owner on another instance",
     {{ME, "Azure Digital Twins Data Owner", ADT2}},
     DT "digitaltwins/read",
     DATA,
     ADT1,
     0,
     RBAC_WHY_SCOPE_ELSEWHERE,
     NULL},
    {"Data Owner at the resource group inherits",
     {{ME, "Azure Digital Twins Data Owner", RG1}},
     DT "digitaltwins/write",
     DATA,
     ADT1,
     1,
     RBAC_WHY_GRANTED,
     NULL},
    {"Data Owner at the subscription inherits",
     {{ME, "Azure Digital Twins Data Owner", SUB}},
     DT "eventroutes/write",
     DATA,
     ADT10,
     1,
     RBAC_WHY_GRANTED,
     NULL},
    {"segment boundary: rg1 does not cover rg10",
     {{ME, "Azure Digital Twins Data Owner", RG1}},
     DT "digitaltwins/read",
     DATA,
     ADT10,
     0,
     RBAC_WHY_SCOPE_ELSEWHERE,
     NULL},
    {"inheritance never goes up",
     {{ME, "Azure Digital Twins Data Owner", ADT1}},
     DT "digitaltwins/read",
     DATA,
     RG1,
     0,
     RBAC_WHY_SCOPE_ELSEWHERE,
     NULL},
    {"root scope covers every instance",
     {{ME, "Azure Digital Twins Data Reader", "/"}},
     DT "models/read",
     DATA,
     ADT10,
     1,
     RBAC_WHY_GRANTED,
     NULL},
    {"via a group",
     {{G1, "Azure Digital Twins Data Owner", ADT1}},
     DT "digitaltwins/write",
     DATA,
     ADT1,
     1,
     RBAC_WHY_GRANTED,
     G1},
    {"via the second group",
     {{G1, "Reader", SUB}, {G2, "Azure Digital Twins Data Reader", RG1}},
     DT "digitaltwins/read",
     DATA,
     ADT1,
     1,
     RBAC_WHY_GRANTED,
     G2},
    {"another principal's assignment does not count",
     {{OTHER, "Azure Digital Twins Data Owner", ADT1}},
     DT "digitaltwins/read",
     DATA,
     ADT1,
     0,
     RBAC_WHY_GRANTED /* no items */,
     NULL},
    {"custom role: NotDataActions carve-out",
     {{ME, "Twin Operator", SUB}},
     DT "models/delete",
     DATA,
     ADT1,
     0,
     RBAC_WHY_NOT_ACTION_CARVEOUT,
     NULL},
    {"custom role: wildcard carve-out",
     {{ME, "Twin Operator", SUB}},
     DT "digitaltwins/relationships/delete",
     DATA,
     ADT1,
     0,
     RBAC_WHY_NOT_ACTION_CARVEOUT,
     NULL},
    {"custom role: the rest is granted",
     {{ME, "Twin Operator", SUB}},
     DT "models/write",
     DATA,
     ADT1,
     1,
     RBAC_WHY_GRANTED,
     NULL},
    {"custom role: carve-out granted back by another assignment",
     {{ME, "Twin Operator", SUB}, {G1, "Azure Digital Twins Data Owner", ADT1}},
     DT "models/delete",
     DATA,
     ADT1,
     1,
     RBAC_WHY_GRANTED,
     G1},
    {"custom role: carve-out not granted back elsewhere",
     {{ME, "Twin Operator", SUB}, {G1, "Azure Digital Twins Data Owner", ADT2}},
     DT "models/delete",
     DATA,
     ADT1,
     0,
     RBAC_WHY_NOT_ACTION_CARVEOUT,
     NULL},
    {"custom role without the data action",
     {{ME, "Query Only", SUB}},
     DT "digitaltwins/read",
     DATA,
     ADT1,
     0,
     RBAC_WHY_NO_MATCHING_DATA_ACTION,
     NULL},
    {"union of two assignments",
     {{ME, "Azure Digital Twins Data Reader", ADT1}, {ME, "Query Only", SUB}},
     DT "query/action",
     DATA,
     ADT1,
     1,
     RBAC_WHY_GRANTED,
     NULL},
    {"case-insensitive scopes and actions",
     {{"AAAAAAAA-0000-0000-0000-000000000001", "Azure Digital Twins Data Reader",
       "/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/RG1"}},
     "MICROSOFT.DIGITALTWINS/DIGITALTWINS/READ",
     DATA,
     SUB "/resourcegroups/Rg1/providers/microsoft.digitaltwins/DIGITALTWINSINSTANCES/ADT1",
     1,
     RBAC_WHY_GRANTED,
     NULL},
    {"trailing slash on the target",
     {{ME, "Azure Digital Twins Data Reader", ADT1 "/"}},
     DT "digitaltwins/read",
     DATA,
     ADT1 "/",
     1,
     RBAC_WHY_GRANTED,
     NULL},
    {"legacy name resolves to Data Owner",
     {{ME, "Azure Digital Twins Owner (Preview)", ADT1}},
     DT "digitaltwins/delete",
     DATA,
     ADT1,
     1,
     RBAC_WHY_GRANTED,
     NULL},
    {"legacy reader name resolves to Data Reader",
     {{ME, "azure digital twins reader (preview)", ADT1}},
     DT "digitaltwins/delete",
     DATA,
     ADT1,
     0,
     RBAC_WHY_NO_MATCHING_DATA_ACTION,
     NULL},
    {"assignment of a deleted role grants nothing",
     {{ME, UNKNOWN_ROLE, SUB}},
     DT "digitaltwins/read",
     DATA,
     ADT1,
     0,
     RBAC_WHY_ROLE_NOT_FOUND,
     NULL},
};

/* Role column → GUID: a custom role's name, a literal GUID, or a built-in (or legacy) name. */
static const char *role_id(const char *name)
{
    for (size_t i = 0; i < sizeof customs / sizeof customs[0]; i++)
        if (strcmp(customs[i].role_name, name) == 0) return customs[i].id;
    if (rbac_is_guid(name)) return name;
    castor_err err;
    const rbac_role_def_t *d = rbac_role_find(NULL, name, NULL, &err);
    if (!d) fail_msg("role '%s': %s", name, err.message);
    return d->id;
}

static rbac_index_t *index_for(const asg_row_t *rows, size_t n)
{
    static const char *const names[] = {
        "00000000-0000-0000-0000-00000000000a",
        "00000000-0000-0000-0000-00000000000b",
        "00000000-0000-0000-0000-00000000000c",
    };
    rbac_assignment_t as[3] = {0};
    size_t k = 0;
    for (size_t i = 0; i < n && rows[i].principal; i++, k++)
        as[k] = (rbac_assignment_t){names[i], rows[i].scope, rows[i].principal,
                                    rows[i].principal[0] == '9' ? RBAC_PRINCIPAL_GROUP
                                                                : RBAC_PRINCIPAL_USER,
                                    role_id(rows[i].role)};
    castor_err err;
    rbac_index_t *ix = rbac_index_new(customs, 2, as, k, &err);
    if (!ix) fail_msg("index: %s", err.message);
    return ix;
}

static const char *const my_groups[] = {G1, G2};
static const rbac_principal_t me = {ME, {my_groups, 2}};

static void decision_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const case_row_t *c = &cases[i];
        rbac_index_t *ix = index_for(c->asg, 3);
        rbac_request_t req = {&me, c->action, c->data, c->scope};
        rbac_decision_t d;
        castor_err err;
        int rc = rbac_check(ix, &req, &d, &err);
        if (rc != (c->allowed ? RBAC_ALLOW : RBAC_DENY)) fail_msg("%s: rc %d", c->name, rc);
        assert_int_equal(d.allowed, c->allowed);
        if (c->via && (!d.via_group || strcmp(d.via_group, c->via) != 0))
            fail_msg("%s: via '%s'", c->name, d.via_group ? d.via_group : "(direct)");
        if (c->allowed && !c->via && d.via_group)
            fail_msg("%s: unexpected via %s", c->name, d.via_group);

        /* The slow path agrees and says why. */
        arena_t a;
        arena_init(&a, 1 << 20);
        rbac_explanation_t *e;
        assert_int_equal(rbac_explain(ix, &req, NULL, &a, &e, &err), 0);
        assert_int_equal(e->allowed, c->allowed);
        assert_int_equal(e->data_action, c->data);
        if (c->allowed) {
            assert_non_null(e->granted_by);
            assert_int_equal(e->granted_by->why, RBAC_WHY_GRANTED);
            assert_non_null(e->granted_by->pattern);
            assert_string_equal(e->granted_by->assignment_name, d.assignment_name);
        } else if (strcmp(c->asg[0].principal, OTHER) == 0) {
            assert_int_equal(e->n_items, 0);
        } else {
            assert_null(e->granted_by);
            if (e->items[0].why != c->why)
                fail_msg("%s: why %s, expected %s", c->name, rbac_why_name(e->items[0].why),
                         rbac_why_name(c->why));
        }
        char *line = rbac_explanation_format(e, &a);
        assert_non_null(line);
        assert_non_null(strstr(line, c->allowed ? "allowed" : "denied"));
        arena_free(&a);
        rbac_index_free(ix);
    }
}

/* The explanation is derived from the fast path's decision, not decided again: it names the
 * same granting assignment, and a decision its items contradict is refused as a bug. */
static void explanation_follows_the_decision(void **state)
{
    (void)state;
    asg_row_t rows[] = {{ME, "Owner", SUB}, {G1, "Azure Digital Twins Data Reader", ADT1}};
    rbac_index_t *ix = index_for(rows, 2);
    rbac_request_t req = {&me, DT "digitaltwins/read", DATA, ADT1};
    castor_err err;
    rbac_decision_t d;
    assert_int_equal(rbac_check(ix, &req, &d, &err), RBAC_ALLOW);
    arena_t a;
    arena_init(&a, 1 << 20);
    rbac_explanation_t *e;
    assert_int_equal(rbac_explain(ix, &req, &d, &a, &e, &err), 0);
    assert_true(e->allowed);
    assert_non_null(e->granted_by);
    assert_string_equal(e->granted_by->assignment_name, d.assignment_name);
    rbac_decision_t forged = {0};
    assert_int_equal(rbac_explain(ix, &req, &forged, &a, &e, &err), CASTOR_EINTERNAL);
    assert_non_null(strstr(err.message, "denial"));
    arena_free(&a);
    rbac_index_free(ix);
}

static void explanation_of_the_classic_403(void **state)
{
    (void)state;
    /* Owner at the subscription, Data Owner on the wrong instance, Data Reader via a group. */
    asg_row_t rows[] = {{ME, "Owner", SUB},
                        {ME, "Azure Digital Twins Data Owner", ADT2},
                        {G1, "Azure Digital Twins Data Reader", ADT1}};
    rbac_index_t *ix = index_for(rows, 3);
    rbac_request_t req = {&me, DT "digitaltwins/write", DATA, ADT1};
    arena_t a;
    arena_init(&a, 1 << 20);
    rbac_explanation_t *e;
    castor_err err;
    assert_int_equal(rbac_explain(ix, &req, NULL, &a, &e, &err), 0);
    assert_false(e->allowed);
    assert_int_equal(e->n_items, 3);
    int seen = 0;
    for (size_t i = 0; i < e->n_items; i++) {
        const rbac_considered_t *it = &e->items[i];
        if (strcmp(it->role_name, "Owner") == 0) {
            assert_int_equal(it->why, RBAC_WHY_CONTROL_PLANE_ONLY);
            assert_null(it->via_group);
            seen |= 1;
        } else if (strcmp(it->role_name, "Azure Digital Twins Data Owner") == 0) {
            assert_int_equal(it->why, RBAC_WHY_SCOPE_ELSEWHERE);
            assert_true(it->role_grants_action); /* right role, wrong instance */
            assert_string_equal(it->scope, ADT2);
            seen |= 2;
        } else {
            assert_int_equal(it->why, RBAC_WHY_NO_MATCHING_DATA_ACTION);
            assert_false(it->role_grants_action);
            assert_string_equal(it->via_group, G1);
            assert_string_equal(it->role_definition_id, RBAC_ROLE_ADT_DATA_READER);
            seen |= 4;
        }
    }
    assert_int_equal(seen, 7);
    char *line = rbac_explanation_format(e, &a);
    assert_non_null(strstr(line, "denied"));
    assert_non_null(strstr(line, "only control-plane Actions"));
    assert_non_null(strstr(line, "would grant it at the target scope"));
    assert_non_null(strstr(line, "via group '" G1 "'"));
    assert_non_null(strstr(line, "'Azure Digital Twins Data Owner' at '" ADT1 "'"));
    /* The explanation is a copy: it outlives the snapshot. */
    rbac_index_free(ix);
    assert_string_equal(e->items[0].scope, e->items[0].scope);
    assert_non_null(strstr(rbac_explanation_format(e, &a), "denied"));
    arena_free(&a);
}

static void carveout_names_the_pattern(void **state)
{
    (void)state;
    asg_row_t rows[] = {{ME, "Twin Operator", SUB}};
    rbac_index_t *ix = index_for(rows, 1);
    rbac_request_t req = {&me, DT "digitaltwins/relationships/read", DATA, ADT1};
    arena_t a;
    arena_init(&a, 1 << 20);
    rbac_explanation_t *e;
    assert_int_equal(rbac_explain(ix, &req, NULL, &a, &e, NULL), 0);
    assert_int_equal(e->items[0].why, RBAC_WHY_NOT_ACTION_CARVEOUT);
    assert_string_equal(e->items[0].pattern, DT "digitaltwins/relationships/*");
    arena_free(&a);
    rbac_index_free(ix);
}

static void group_listed_twice_is_explained_once(void **state)
{
    (void)state;
    asg_row_t rows[] = {{G1, "Reader", SUB}};
    rbac_index_t *ix = index_for(rows, 1);
    static const char *const dup[] = {G1, "99999999-0000-0000-0000-0000000000A1", ME};
    rbac_principal_t p = {ME, {dup, 3}};
    rbac_request_t req = {&p, DT "models/read", DATA, ADT1};
    arena_t a;
    arena_init(&a, 1 << 20);
    rbac_explanation_t *e;
    assert_int_equal(rbac_explain(ix, &req, NULL, &a, &e, NULL), 0);
    assert_int_equal(e->n_items, 1);
    arena_free(&a);
    rbac_index_free(ix);
}

static void permissions_at_a_scope(void **state)
{
    (void)state;
    asg_row_t rows[] = {{ME, "Twin Operator", SUB},
                        {G1, "Azure Digital Twins Data Reader", ADT1},
                        {ME, "Owner", ADT2}};
    rbac_index_t *ix = index_for(rows, 3);
    arena_t a;
    arena_init(&a, 1 << 20);
    rbac_permission_t *pm;
    size_t n;
    castor_err err;
    assert_int_equal(rbac_permissions(ix, &me, ADT1, &a, &pm, &n, &err), 0);
    assert_int_equal(n, 2); /* Owner at adt2 does not apply at adt1 */
    int saw_carveout = 0, saw_reader = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(pm[i].role_definition_id, TWIN_OP) == 0) {
            assert_int_equal(pm[i].data_actions.n, 1);
            assert_string_equal(pm[i].data_actions.v[0], "Microsoft.DigitalTwins/*");
            assert_int_equal(pm[i].not_data_actions.n, 2);
            assert_string_equal(pm[i].not_data_actions.v[0], DT "models/delete");
            saw_carveout = 1;
        } else {
            assert_string_equal(pm[i].role_definition_id, RBAC_ROLE_ADT_DATA_READER);
            assert_int_equal(pm[i].data_actions.n, 8);
            assert_int_equal(pm[i].actions.n, 0);
            saw_reader = 1;
        }
    }
    assert_true(saw_carveout && saw_reader);
    assert_int_equal(rbac_permissions(ix, &me, ADT2, &a, &pm, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rbac_permissions(ix, &me, RG10, &a, &pm, &n, &err), 0);
    assert_int_equal(n, 1);
    arena_free(&a);
    rbac_index_free(ix);
}

static void malformed_requests_are_errors_not_denials(void **state)
{
    (void)state;
    rbac_index_t *ix = index_for(NULL, 0);
    castor_err err;
    rbac_request_t no_action = {&me, NULL, DATA, ADT1};
    assert_int_equal(rbac_check(ix, &no_action, NULL, &err), CASTOR_EINVAL);
    rbac_principal_t nobody = {NULL, {0}};
    rbac_request_t no_principal = {&nobody, DT "models/read", DATA, ADT1};
    assert_int_equal(rbac_check(ix, &no_principal, NULL, &err), CASTOR_EINVAL);
    assert_non_null(strstr(err.message, "principal"));
    rbac_request_t relative = {&me, DT "models/read", DATA, "subscriptions/x"};
    assert_int_equal(rbac_check(ix, &relative, NULL, &err), CASTOR_EINVAL);
    char big[RBAC_ACTION_MAX + 1];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    rbac_request_t long_action = {&me, big, DATA, ADT1};
    assert_int_equal(rbac_check(ix, &long_action, NULL, &err), CASTOR_EINVAL);
    rbac_request_t fine = {&me, DT "models/read", DATA, ADT1};
    assert_int_equal(rbac_check(ix, &fine, NULL, &err), RBAC_DENY);
    assert_int_equal(rbac_check(NULL, &fine, NULL, &err), CASTOR_EINVAL);
    rbac_index_free(ix);
}

static void index_build_refuses_bad_rows(void **state)
{
    (void)state;
    castor_err err;
    rbac_assignment_t bad_scope = {"00000000-0000-0000-0000-00000000000a", SUB "/resourceGroup/rg1",
                                   ME, RBAC_PRINCIPAL_USER, RBAC_ROLE_READER};
    assert_null(rbac_index_new(NULL, 0, &bad_scope, 1, &err));
    assert_int_equal(err.rc, CASTOR_EINVAL);
    assert_non_null(strstr(err.message, "role assignment '00000000-0000-0000-0000-00000000000a'"));
    assert_non_null(strstr(err.message, "resourceGroups"));

    rbac_assignment_t bad_role = {"00000000-0000-0000-0000-00000000000a", SUB, ME,
                                  RBAC_PRINCIPAL_USER, "Reader"};
    assert_null(rbac_index_new(NULL, 0, &bad_role, 1, &err));
    assert_non_null(strstr(err.message, "neither a GUID"));

    rbac_role_def_t shadow = customs[0];
    shadow.id = RBAC_ROLE_OWNER;
    assert_null(rbac_index_new(&shadow, 1, NULL, 0, &err));
    assert_int_equal(err.rc, CASTOR_ECONFLICT);
    assert_non_null(strstr(err.message, RBAC_ROLE_OWNER));

    rbac_index_t *ix = rbac_index_new(customs, 2, NULL, 0, &err);
    assert_non_null(ix);
    assert_int_equal(rbac_index_role_count(ix), rbac_builtin_count() + 2);
    assert_int_equal(rbac_index_assignment_count(ix), 0);
    int legacy = 1;
    const rbac_role_def_t *d = rbac_role_find(ix, "twin operator", &legacy, &err);
    assert_non_null(d);
    assert_int_equal(legacy, 0);
    assert_true(rbac_roledef_id_equal(d->id, TWIN_OP));
    const char *sug[2];
    assert_int_equal(rbac_role_suggest(ix, "Twin Operater", sug, 2), 1);
    assert_string_equal(sug[0], "Twin Operator");
    rbac_index_free(ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decision_table),
        cmocka_unit_test(explanation_of_the_classic_403),
        cmocka_unit_test(carveout_names_the_pattern),
        cmocka_unit_test(group_listed_twice_is_explained_once),
        cmocka_unit_test(explanation_follows_the_decision),
        cmocka_unit_test(permissions_at_a_scope),
        cmocka_unit_test(malformed_requests_are_errors_not_denials),
        cmocka_unit_test(index_build_refuses_bad_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
