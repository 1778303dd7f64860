/* test_rbac_property.c — seeded random cases: the index agrees with a naive reading of Azure's
 * rules, the slow path agrees with the fast one, and adding an assignment never removes access
 * (RBAC has no deny in role assignments; NotActions only subtract within one role). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rbac/rbac.h"

#define CASES 4000
#define MAX_ASG 9
#define SA "/subscriptions/11111111-2222-3333-4444-555555555555"
#define SB "/subscriptions/66666666-2222-3333-4444-555555555555"
#define INST "/providers/Microsoft.DigitalTwins/digitalTwinsInstances/"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *const ids[] = {
    "aaaaaaaa-0000-0000-0000-000000000001", "aaaaaaaa-0000-0000-0000-000000000002",
    "aaaaaaaa-0000-0000-0000-000000000003", "99999999-0000-0000-0000-0000000000a1",
    "99999999-0000-0000-0000-0000000000a2", "99999999-0000-0000-0000-0000000000a3",
};
static const char *const scopes[] = {
    "/",
    SA,
    SB,
    SA "/resourceGroups/rg1",
    SA "/resourceGroups/rg10",
    SA "/resourceGroups/rg1" INST "adt1",
    SA "/resourceGroups/rg1" INST "adt2",
    SA "/resourceGroups/rg10" INST "adt1",
    SB "/resourceGroups/rg1" INST "adt1",
};
static const struct {
    const char *action;
    int data;
} actions[] = {
    {"Microsoft.DigitalTwins/digitaltwins/read", 1},
    {"Microsoft.DigitalTwins/digitaltwins/write", 1},
    {"Microsoft.DigitalTwins/digitaltwins/relationships/delete", 1},
    {"Microsoft.DigitalTwins/models/delete", 1},
    {"Microsoft.DigitalTwins/query/action", 1},
    {"Microsoft.DigitalTwins/jobs/delete/read", 1},
    {"Microsoft.DigitalTwins/digitalTwinsInstances/write", 0},
    {"Microsoft.DigitalTwins/digitalTwinsInstances/read", 0},
    {"Microsoft.Authorization/roleAssignments/write", 0},
    {"Microsoft.Authorization/roleDefinitions/delete", 0},
    {"Microsoft.DigitalTwins/digitaltwins/read", 0}, /* a data action asked as control: never */
};

static const char *const c1_data[] = {"Microsoft.DigitalTwins/*"};
static const char *const c1_not[] = {"Microsoft.DigitalTwins/models/delete", "*/relationships/*"};
static const char *const c2_act[] = {"Microsoft.*/*/write", "*/read"};
static const char *const c2_not[] = {"Microsoft.Authorization/*"};
static const char *const root[] = {"/"};
static const rbac_role_def_t customs[] = {
    {"c0c0c0c0-0000-0000-0000-000000000001",
     "C1",
     NULL,
     RBAC_ROLE_CUSTOM,
     {0},
     {0},
     {c1_data, 1},
     {c1_not, 2},
     {root, 1}},
    {"c0c0c0c0-0000-0000-0000-000000000002",
     "C2",
     NULL,
     RBAC_ROLE_CUSTOM,
     {c2_act, 2},
     {c2_not, 1},
     {0},
     {0},
     {root, 1}},
};
#define N_ROLES (7 + 2)

static const rbac_role_def_t *role_at(size_t i)
{
    return i < rbac_builtin_count() ? rbac_builtin_at(i) : &customs[i - rbac_builtin_count()];
}

/* Random case and an optional trailing slash: neither may change a decision. */
static void mangle(char *dst, const char *src)
{
    size_t i = 0;
    for (; src[i]; i++)
        dst[i] = (char)(next(2) ? toupper((unsigned char)src[i]) : tolower((unsigned char)src[i]));
    if (i > 1 && next(4) == 0) dst[i++] = '/';
    dst[i] = '\0';
}

typedef struct world {
    rbac_assignment_t as[MAX_ASG + 1];
    char scope[MAX_ASG + 1][256];
    char name[MAX_ASG + 1][40];
    size_t n;
} world_t;

static void add_random(world_t *w)
{
    size_t k = w->n++;
    snprintf(w->name[k], sizeof w->name[k], "00000000-0000-0000-0000-%012zx", k);
    mangle(w->scope[k], scopes[next(sizeof scopes / sizeof scopes[0])]);
    const char *pid = ids[next(sizeof ids / sizeof ids[0])];
    w->as[k] = (rbac_assignment_t){w->name[k], w->scope[k], pid,
                                   pid[0] == '9' ? RBAC_PRINCIPAL_GROUP : RBAC_PRINCIPAL_USER,
                                   role_at(next(N_ROLES))->id};
}

static int def_grants(const rbac_role_def_t *d, const char *action, int data)
{
    const rbac_strlist_t *g = data ? &d->data_actions : &d->actions;
    const rbac_strlist_t *x = data ? &d->not_data_actions : &d->not_actions;
    int hit = 0;
    for (size_t i = 0; i < g->n; i++)
        hit |= rbac_action_matches(g->v[i], action);
    for (size_t i = 0; i < x->n; i++)
        if (rbac_action_matches(x->v[i], action)) hit = 0;
    return hit;
}

/* Independent of the engine's covers: lower-case, drop trailing slashes, compare whole segments. */
static int ref_covers(const char *outer, const char *inner)
{
    char o[256], in[256];
    size_t ol = 0, il = 0;
    for (; outer[ol]; ol++)
        o[ol] = (char)tolower((unsigned char)outer[ol]);
    for (; inner[il]; il++)
        in[il] = (char)tolower((unsigned char)inner[il]);
    while (ol > 0 && o[ol - 1] == '/')
        ol--;
    while (il > 0 && in[il - 1] == '/')
        il--;
    o[ol] = in[il] = '\0';
    if (ol == 0) return 1; /* root */
    char *os, *is, *op = o, *ip = in;
    for (;;) {
        char *a = strtok_r(op, "/", &os), *b = strtok_r(ip, "/", &is);
        op = ip = NULL;
        if (!a) return 1;
        if (!b || strcmp(a, b) != 0) return 0;
    }
}

/* The rules read literally: any assignment of one of my ids, at or above the target, whose role
 * grants the action on the asked plane. */
static int oracle(const world_t *w, const rbac_principal_t *p, const char *action, int data,
                  const char *target)
{
    for (size_t i = 0; i < w->n; i++) {
        const rbac_assignment_t *a = &w->as[i];
        int mine = strcasecmp(a->principal_id, p->object_id) == 0;
        for (size_t g = 0; g < p->group_ids.n; g++)
            mine |= strcasecmp(a->principal_id, p->group_ids.v[g]) == 0;
        if (!mine || !ref_covers(a->scope, target)) continue;
        for (size_t r = 0; r < N_ROLES; r++)
            if (rbac_roledef_id_equal(role_at(r)->id, a->role_definition_id) &&
                def_grants(role_at(r), action, data))
                return 1;
    }
    return 0;
}

static int decide(const world_t *w, const rbac_request_t *req, int *explained)
{
    castor_err err;
    rbac_index_t *ix = rbac_index_new(customs, 2, w->as, w->n, &err);
    if (!ix) fail_msg("index: %s", err.message);
    int rc = rbac_check(ix, req, NULL, &err);
    assert_true(rc == RBAC_ALLOW || rc == RBAC_DENY);
    arena_t a;
    arena_init(&a, 1 << 20);
    rbac_explanation_t *e;
    assert_int_equal(rbac_explain(ix, req, NULL, &a, &e, &err), 0);
    *explained = e->allowed;
    arena_free(&a);
    rbac_index_free(ix);
    return rc == RBAC_ALLOW;
}

static void random_cases(void **state)
{
    (void)state;
    size_t allowed = 0, denied = 0;
    for (int c = 0; c < CASES; c++) {
        world_t w = {0};
        size_t n = next(MAX_ASG);
        for (size_t i = 0; i < n; i++)
            add_random(&w);
        const char *groups[3];
        size_t ng = 0;
        for (size_t g = 3; g < 6; g++)
            if (next(2)) groups[ng++] = ids[g];
        rbac_principal_t p = {ids[next(3)], {groups, ng}};
        size_t ai = next(sizeof actions / sizeof actions[0]);
        char target[256];
        mangle(target, scopes[3 + next(6)]);
        rbac_request_t req = {&p, actions[ai].action, actions[ai].data, target};

        int explained;
        int before = decide(&w, &req, &explained);
        int expect = oracle(&w, &p, req.action, req.data_action, target);
        if (before != expect || explained != before)
            fail_msg("case %d: index %d, oracle %d, explain %d for %s at %s", c, before, expect,
                     explained, req.action, target);
        before ? allowed++ : denied++;

        add_random(&w);
        int after = decide(&w, &req, &explained);
        if (before && !after) fail_msg("case %d: adding an assignment removed access", c);
        assert_int_equal(after, oracle(&w, &p, req.action, req.data_action, target));
    }
    /* Both outcomes must be common, or the property says little. */
    assert_true(allowed > CASES / 10 && denied > CASES / 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
