/* rbac_bench.c — decisions per second and latency of the RBAC engine on a large snapshot.
 *
 * 10,000 users in 0-5 of 1,000 groups, 100,000 assignments over 20 subscriptions, 200 resource
 * groups and 2,000 instances, built-in and custom roles mixed. Prints figures; never fails on
 * time (STYLE: benchmarks print, they do not judge). Build: see bench/README-rbac.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rbac/rbac.h"

#define USERS 10000
#define GROUPS 1000
#define ASSIGNMENTS 100000
#define SUBS 20
#define RGS_PER_SUB 10
#define INST_PER_RG 10
#define CUSTOM_ROLES 20
#define REQUESTS 65536 /* distinct requests, cycled */
#define DECISIONS 4000000
#define BATCH 16 /* decisions per latency sample: clock_gettime costs ~20 ns itself */

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint32_t next(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *guid(uint32_t kind, uint32_t i)
{
    char *s = malloc(RBAC_GUID_LEN + 1);
    if (!s) abort();
    snprintf(s, RBAC_GUID_LEN + 1, "%08x-0000-4000-8000-%012x", kind, i);
    return s;
}

static char *scope_of(uint32_t level, uint32_t sub, uint32_t rg, uint32_t inst)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "/subscriptions/%08x-1111-4000-8000-000000000000", sub);
    if (level >= 1) n += snprintf(buf + n, sizeof buf - (size_t)n, "/resourceGroups/rg-%u", rg);
    if (level >= 2)
        snprintf(buf + n, sizeof buf - (size_t)n,
                 "/providers/Microsoft.DigitalTwins/digitalTwinsInstances/adt-%u-%u", rg, inst);
    return strdup(buf);
}

static const char *const data_actions[] = {
    "Microsoft.DigitalTwins/digitaltwins/read",
    "Microsoft.DigitalTwins/digitaltwins/write",
    "Microsoft.DigitalTwins/digitaltwins/relationships/read",
    "Microsoft.DigitalTwins/models/read",
    "Microsoft.DigitalTwins/models/write",
    "Microsoft.DigitalTwins/query/action",
    "Microsoft.DigitalTwins/eventroutes/write",
    "Microsoft.DigitalTwins/jobs/imports/write",
};
static const char *const control_actions[] = {
    "Microsoft.DigitalTwins/digitalTwinsInstances/read",
    "Microsoft.DigitalTwins/digitalTwinsInstances/write",
    "Microsoft.Authorization/roleAssignments/write",
    "Microsoft.DigitalTwins/digitalTwinsInstances/endpoints/write",
};

/* Custom roles: a data part with a carve-out, or a control part; patterns of every shape. */
static const char *const c_data[] = {"Microsoft.DigitalTwins/*", "Microsoft.DigitalTwins/models/*",
                                     "*/read", "Microsoft.DigitalTwins/*/write"};
static const char *const c_not[] = {"Microsoft.DigitalTwins/models/delete",
                                    "Microsoft.DigitalTwins/digitaltwins/relationships/*"};
static const char *const c_act[] = {"Microsoft.DigitalTwins/digitalTwinsInstances/*", "*/read"};
static const char *const root[] = {"/"};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    rbac_role_def_t customs[CUSTOM_ROLES];
    for (uint32_t i = 0; i < CUSTOM_ROLES; i++) {
        char *name = malloc(32);
        snprintf(name, 32, "Custom %u", i);
        int data = i % 2 == 0;
        customs[i] =
            (rbac_role_def_t){guid(0xc0c0c0c0u, i),
                              name,
                              NULL,
                              RBAC_ROLE_CUSTOM,
                              data ? (rbac_strlist_t){0} : (rbac_strlist_t){c_act, 1 + i % 2},
                              {0},
                              data ? (rbac_strlist_t){c_data + i % 4, 1} : (rbac_strlist_t){0},
                              data ? (rbac_strlist_t){c_not, 1 + i % 2} : (rbac_strlist_t){0},
                              {root, 1}};
    }
    char **users = malloc(USERS * sizeof *users), **groups = malloc(GROUPS * sizeof *groups);
    for (uint32_t i = 0; i < USERS; i++)
        users[i] = guid(0xaaaa0000u, i);
    for (uint32_t i = 0; i < GROUPS; i++)
        groups[i] = guid(0x99990000u, i);

    rbac_assignment_t *as = malloc(ASSIGNMENTS * sizeof *as);
    for (uint32_t i = 0; i < ASSIGNMENTS; i++) {
        uint32_t level = next(10) < 1 ? 0 : next(10) < 3 ? 1 : 2; /* sub 10%, rg ~27%, inst rest */
        uint32_t sub = next(SUBS), rg = sub * RGS_PER_SUB + next(RGS_PER_SUB);
        int to_group = next(10) == 0;
        uint32_t r = next(rbac_builtin_count() + CUSTOM_ROLES);
        as[i] =
            (rbac_assignment_t){guid(0x0a550000u, i), scope_of(level, sub, rg, next(INST_PER_RG)),
                                to_group ? groups[next(GROUPS)] : users[next(USERS)],
                                to_group ? RBAC_PRINCIPAL_GROUP : RBAC_PRINCIPAL_USER,
                                r < rbac_builtin_count() ? rbac_builtin_at(r)->id
                                                         : customs[r - rbac_builtin_count()].id};
    }

    castor_err err;
    double t0 = now_s();
    rbac_index_t *ix = rbac_index_new(customs, CUSTOM_ROLES, as, ASSIGNMENTS, &err);
    double build_s = now_s() - t0;
    if (!ix) {
        fprintf(stderr, "rbac_bench: %s\n", err.message);
        return 1;
    }

    /* Requests: a random user in 0-5 groups, a data or control action, a random instance. */
    rbac_request_t *reqs = malloc(REQUESTS * sizeof *reqs);
    rbac_principal_t *ps = malloc(REQUESTS * sizeof *ps);
    for (uint32_t i = 0; i < REQUESTS; i++) {
        uint32_t ng = next(6);
        const char **g = malloc((ng ? ng : 1) * sizeof *g);
        for (uint32_t k = 0; k < ng; k++)
            g[k] = groups[next(GROUPS)];
        ps[i] = (rbac_principal_t){users[next(USERS)], {g, ng}};
        uint32_t sub = next(SUBS), rg = sub * RGS_PER_SUB + next(RGS_PER_SUB);
        int data = next(4) != 0;
        reqs[i] = (rbac_request_t){&ps[i], data ? data_actions[next(8)] : control_actions[next(4)],
                                   data, scope_of(2, sub, rg, next(INST_PER_RG))};
    }

    size_t samples = DECISIONS / BATCH, allowed = 0;
    double *lat = malloc(samples * sizeof *lat);
    t0 = now_s();
    for (size_t s = 0, i = 0; s < samples; s++) {
        double b0 = now_s();
        for (int k = 0; k < BATCH; k++, i++)
            allowed += rbac_check(ix, &reqs[i & (REQUESTS - 1)], NULL, NULL) == RBAC_ALLOW;
        lat[s] = (now_s() - b0) / BATCH;
    }
    double total_s = now_s() - t0;
    qsort(lat, samples, sizeof *lat, cmp_double);

    /* The slow path, as paid on each denial. */
    arena_t a;
    arena_init(&a, 0);
    size_t explains = 200000;
    double e0 = now_s();
    for (size_t i = 0; i < explains; i++) {
        rbac_explanation_t *e;
        rbac_explain(ix, &reqs[i & (REQUESTS - 1)], NULL, &a, &e, NULL);
        if ((i & 1023) == 1023) arena_free(&a);
    }
    double explain_s = now_s() - e0;
    arena_free(&a);

    printf("rbac_bench: %d users, %d groups, %d assignments, %zu roles\n", USERS, GROUPS,
           ASSIGNMENTS, rbac_index_role_count(ix));
    printf("  index build        %.1f ms\n", build_s * 1e3);
    printf("  decisions          %d in %.3f s on one thread = %.2f M/s (%.1f%% allowed)\n",
           DECISIONS, total_s, DECISIONS / total_s / 1e6, 100.0 * (double)allowed / DECISIONS);
    printf("  latency/decision   p50 %.0f ns, p99 %.0f ns, p99.9 %.0f ns (batches of %d)\n",
           lat[samples / 2] * 1e9, lat[samples * 99 / 100] * 1e9, lat[samples * 999 / 1000] * 1e9,
           BATCH);
    printf("  explain (slow)     %.0f /s, %.2f us each\n", explains / explain_s,
           explain_s / explains * 1e6);

    rbac_index_free(ix);
    return 0; /* the OS reclaims the generated inputs */
}
