/* test_rbac_threads.c — one snapshot shared by several threads gives every thread the same
 * answers as a single thread (the server shares a snapshot between request threads). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "rbac/rbac.h"

#define THREADS 4
#define ROUNDS 200
#define N_ASG 64
#define N_REQ 64
#define SUB "/subscriptions/11111111-2222-3333-4444-555555555555"

static rbac_index_t *ix;
static rbac_request_t reqs[N_REQ];
static int expected[N_REQ];
static char scopes[N_REQ][160];
static const char *const actions[] = {"Microsoft.DigitalTwins/digitaltwins/read",
                                      "Microsoft.DigitalTwins/models/write",
                                      "Microsoft.DigitalTwins/digitalTwinsInstances/write"};
static const rbac_principal_t users[] = {{"aaaaaaaa-0000-0000-0000-000000000001", {0}},
                                         {"aaaaaaaa-0000-0000-0000-000000000002", {0}}};

static void *worker(void *arg)
{
    size_t *mismatches = arg;
    for (int r = 0; r < ROUNDS; r++)
        for (size_t i = 0; i < N_REQ; i++)
            *mismatches += rbac_check(ix, &reqs[i], NULL, NULL) != expected[i];
    return NULL;
}

static void shared_snapshot_agrees_across_threads(void **state)
{
    (void)state;
    static char names[N_ASG][40], asg_scopes[N_ASG][160];
    rbac_assignment_t as[N_ASG];
    const char *roles[] = {RBAC_ROLE_ADT_DATA_READER, RBAC_ROLE_ADT_DATA_OWNER, RBAC_ROLE_OWNER};
    for (size_t i = 0; i < N_ASG; i++) {
        snprintf(names[i], sizeof names[i], "00000000-0000-0000-0000-%012zx", i);
        snprintf(
            asg_scopes[i], sizeof asg_scopes[i],
            SUB
            "/resourceGroups/rg%zu/providers/Microsoft.DigitalTwins/digitalTwinsInstances/adt%zu",
            i % 4, i % 8);
        as[i] = (rbac_assignment_t){names[i], asg_scopes[i], users[i % 2].object_id,
                                    RBAC_PRINCIPAL_USER, roles[i % 3]};
    }
    castor_err err;
    ix = rbac_index_new(NULL, 0, as, N_ASG, &err);
    assert_non_null(ix);
    int allowed = 0;
    for (size_t i = 0; i < N_REQ; i++) {
        snprintf(
            scopes[i], sizeof scopes[i],
            SUB
            "/resourceGroups/rg%zu/providers/Microsoft.DigitalTwins/digitalTwinsInstances/adt%zu",
            i % 5, i % 9);
        reqs[i] = (rbac_request_t){&users[i % 2], actions[i % 3], i % 3 != 2, scopes[i]};
        expected[i] = rbac_check(ix, &reqs[i], NULL, NULL);
        allowed += expected[i] == RBAC_ALLOW;
    }
    assert_true(allowed > 0 && allowed < N_REQ);
    pthread_t t[THREADS];
    size_t mismatches[THREADS] = {0};
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, &mismatches[i]), 0);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(mismatches[i], 0);
    }
    rbac_index_free(ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shared_snapshot_agrees_across_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
