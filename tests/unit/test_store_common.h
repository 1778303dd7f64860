/* test_store_common.h — the store tests whose meaning is store.h's and not an engine's:
 * transactions, conflicts that leave a transaction usable, foreign keys, readers beside
 * writers, change numbers. test_store_sqlite.c and test_store_pg.c each include it once, give
 * setup/teardown for the fixture below, and list TEST_STORE_COMMON(setup, teardown) among their
 * tests, so one set of assertions holds both engines to the same contract. Include after cmocka.h.
 */
#ifndef CASTOR_TEST_STORE_COMMON_H
#define CASTOR_TEST_STORE_COMMON_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_arm.h"
#include "store/store_directory.h"

typedef struct fixture {
    store_t *store;
    char url[512]; /* what store_open took: opening it again is a restart or a second node */
    char *dir;     /* SQLite: the store's temporary folder (malloc'ed) */
    char db[64];   /* PostgreSQL: the database's name */
} fixture_t;

static void seed_tenant(store_t *s, const char *id)
{
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(s, STORE_WRITE, &t, &err), 0);
    store_tenant_t tenant = {.created = 1};
    snprintf(tenant.id, sizeof tenant.id, "%s", id);
    snprintf(tenant.domain, sizeof tenant.domain, "%s.example", id);
    snprintf(tenant.display_name, sizeof tenant.display_name, "T %s", id);
    assert_int_equal(store_tenant_create(t, &tenant, &err), 0);
    assert_int_equal(store_commit(t, &err), 0);
}

static void meta_roundtrip_and_missing(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_meta_put(t, "k", "v1", &err), 0);
    assert_int_equal(store_meta_put(t, "k", "v2", &err), 0); /* upsert */
    assert_int_equal(store_commit(t, &err), 0);
    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    char *v = NULL;
    assert_int_equal(store_meta_get(t, "k", &v, &err), 0);
    assert_string_equal(v, "v2");
    free(v);
    assert_int_equal(store_meta_get(t, "absent", &v, &err), CASTOR_ENOTFOUND);
    assert_null(v);
    store_rollback(t);
}

static void rollback_discards_writes(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_meta_put(t, "gone", "x", &err), 0);
    store_rollback(t);
    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    char *v = NULL;
    assert_int_equal(store_meta_get(t, "gone", &v, &err), CASTOR_ENOTFOUND);
    store_rollback(t);
}

/* A refused insert fails alone: the transaction goes on and commits the rest. */
static void users_are_unique_per_tenant_case_insensitively(void **state)
{
    fixture_t *f = *state;
    seed_tenant(f->store, "t1");
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    store_user_t u = {.enabled = 1, .created = 2};
    snprintf(u.id, sizeof u.id, "u1");
    snprintf(u.tenant_id, sizeof u.tenant_id, "t1");
    snprintf(u.upn, sizeof u.upn, "Alice@t1.example");
    snprintf(u.display_name, sizeof u.display_name, "Alice");
    snprintf(u.password_hash, sizeof u.password_hash, "$argon2id$fake");
    assert_int_equal(store_user_create(t, &u, &err), 0);
    snprintf(u.id, sizeof u.id, "u2");
    snprintf(u.upn, sizeof u.upn, "alice@T1.EXAMPLE"); /* case-insensitively the same UPN */
    assert_int_equal(store_user_create(t, &u, &err), CASTOR_ECONFLICT);
    assert_non_null(strstr(err.message, "exists already"));
    assert_int_equal(store_meta_put(t, "after", "conflict", &err), 0);
    assert_int_equal(store_commit(t, &err), 0);

    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    store_user_t got;
    assert_int_equal(store_user_get_by_upn(t, "t1", "ALICE@t1.example", &got, &err), 0);
    assert_string_equal(got.id, "u1");
    assert_string_equal(got.display_name, "Alice");
    assert_int_equal(got.enabled, 1);
    assert_int_equal(store_user_get(t, "u2", &got, &err), CASTOR_ENOTFOUND);
    char *v = NULL;
    assert_int_equal(store_meta_get(t, "after", &v, &err), 0);
    assert_string_equal(v, "conflict");
    free(v);
    store_rollback(t);

    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_user_set_password(t, "u1", "$argon2id$new", &err), 0);
    assert_int_equal(store_user_set_password(t, "nobody", "$x", &err), CASTOR_ENOTFOUND);
    assert_int_equal(store_commit(t, &err), 0);
}

static void foreign_keys_are_enforced(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    store_subscription_t s = {.created = 1};
    snprintf(s.id, sizeof s.id, "s1");
    snprintf(s.tenant_id, sizeof s.tenant_id, "no-such-tenant");
    snprintf(s.display_name, sizeof s.display_name, "x");
    snprintf(s.state, sizeof s.state, "Enabled");
    assert_int_equal(store_subscription_create(t, &s, &err), CASTOR_ECONFLICT);
    store_rollback(t);
}

static int count_ra(const store_role_assignment_t *ra, void *ctx)
{
    (void)ra;
    (*(int *)ctx)++;
    return 0;
}

static void role_assignments_refuse_duplicates(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    store_role_assignment_t ra = {.created = 1};
    snprintf(ra.id, sizeof ra.id, "a1");
    snprintf(ra.scope, sizeof ra.scope, "/subscriptions/S");
    snprintf(ra.principal_id, sizeof ra.principal_id, "p");
    snprintf(ra.principal_type, sizeof ra.principal_type, "User");
    snprintf(ra.role_definition_id, sizeof ra.role_definition_id, "r");
    snprintf(ra.created_by, sizeof ra.created_by, "p");
    assert_int_equal(store_role_assignment_create(t, &ra, &err), 0);
    /* Same principal, role and scope (scope differs only in case) under another name. */
    snprintf(ra.id, sizeof ra.id, "a2");
    snprintf(ra.scope, sizeof ra.scope, "/SUBSCRIPTIONS/s");
    assert_int_equal(store_role_assignment_create(t, &ra, &err), CASTOR_ECONFLICT);
    assert_string_equal(err.message, "The role assignment already exists.");
    snprintf(ra.role_definition_id, sizeof ra.role_definition_id, "r2");
    assert_int_equal(store_role_assignment_create(t, &ra, &err), 0);
    int n = 0;
    assert_int_equal(store_role_assignment_each(t, count_ra, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(store_commit(t, &err), 0);
}

/* Readers run while a writer holds its transaction open, and see the last committed state. */
typedef struct reader_arg {
    store_t *store;
    int saw;
} reader_arg_t;

static void *reader(void *p)
{
    reader_arg_t *a = p;
    castor_err err;
    store_txn_t *t;
    if (store_begin(a->store, STORE_READ, &t, &err) < 0) return NULL;
    char *v = NULL;
    a->saw = store_meta_get(t, "w", &v, &err) == 0 && strcmp(v, "committed") == 0;
    free(v);
    store_rollback(t);
    return NULL;
}

static void readers_do_not_wait_for_writers(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_meta_put(t, "w", "committed", &err), 0);
    assert_int_equal(store_commit(t, &err), 0);

    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_meta_put(t, "w", "uncommitted", &err), 0);
    reader_arg_t args[2] = {{f->store, 0}, {f->store, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, reader, &args[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(args[0].saw, 1);
    assert_int_equal(args[1].saw, 1);
    store_rollback(t);
}

/* Many threads writing at once: every write lands, none is lost or refused as busy. */
typedef struct writer_arg {
    store_t *store;
    int id;
    int ok;
} writer_arg_t;

static void *writer(void *p)
{
    writer_arg_t *a = p;
    for (int i = 0; i < 50; i++) {
        castor_err err;
        store_txn_t *t;
        if (store_begin(a->store, STORE_WRITE, &t, &err) < 0) return NULL;
        char key[64];
        snprintf(key, sizeof key, "w%d-%d", a->id, i);
        if (store_meta_put(t, key, "x", &err) < 0 || store_commit(t, &err) < 0) return NULL;
        a->ok++;
    }
    return NULL;
}

static void concurrent_writers_all_commit(void **state)
{
    fixture_t *f = *state;
    writer_arg_t args[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (writer_arg_t){f->store, i, 0};
        pthread_create(&th[i], NULL, writer, &args[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        assert_int_equal(args[i].ok, 50);
}

/* A write transaction that only reads, or that rolls back alone, leaves nothing behind and
 * does not hold the writer lock: the next writer and the next commit go through. */
static void lone_rollbacks_release_the_writer(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    store_txn_t *t;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
        assert_int_equal(store_meta_put(t, "gone", "x", &err), 0);
        store_rollback(t);
    }
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_meta_put(t, "kept", "y", &err), 0);
    assert_int_equal(store_commit(t, &err), 0);
    char *v = NULL;
    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    assert_int_equal(store_meta_get(t, "gone", &v, &err), CASTOR_ENOTFOUND);
    assert_int_equal(store_meta_get(t, "kept", &v, &err), 0);
    assert_string_equal(v, "y");
    free(v);
    store_rollback(t);
}

/* STORE_LATEST reads what writers wrote, refuses to write, and interleaves with writers. */
typedef struct latest_arg {
    store_t *store;
    int found;
} latest_arg_t;

static void *latest_reader(void *p)
{
    latest_arg_t *a = p;
    for (int i = 0; i < 200; i++) {
        castor_err err;
        store_txn_t *t;
        if (store_begin(a->store, STORE_LATEST, &t, &err) < 0) return NULL;
        char *v = NULL;
        int rc = store_meta_get(t, "latest-key", &v, &err);
        store_rollback(t);
        free(v);
        if (rc == 0) a->found++;
    }
    return NULL;
}

static void latest_reads_see_writes_and_cannot_write(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_meta_put(t, "latest-key", "1", &err), 0);
    assert_int_equal(store_commit(t, &err), 0);

    char *v = NULL;
    assert_int_equal(store_begin(f->store, STORE_LATEST, &t, &err), 0);
    assert_int_equal(store_meta_get(t, "latest-key", &v, &err), 0);
    assert_string_equal(v, "1");
    free(v);
    assert_int_equal(store_meta_put(t, "latest-key", "2", &err), CASTOR_EINTERNAL);
    assert_non_null(strstr(err.message, "read-only"));
    store_rollback(t);
    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    assert_int_equal(store_meta_get(t, "latest-key", &v, &err), 0);
    assert_string_equal(v, "1");
    free(v);
    store_rollback(t);

    /* Readers of the latest state and writers at once: all finish, every read finds the key. */
    latest_arg_t readers[2];
    writer_arg_t writers[2];
    pthread_t th[4];
    for (int i = 0; i < 2; i++) {
        readers[i] = (latest_arg_t){f->store, 0};
        writers[i] = (writer_arg_t){f->store, 10 + i, 0};
        pthread_create(&th[2 * i], NULL, latest_reader, &readers[i]);
        pthread_create(&th[2 * i + 1], NULL, writer, &writers[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(readers[i].found, 200);
        assert_int_equal(writers[i].ok, 50);
    }
}

/* Closing and opening the same URL again (a restart) finds what was committed. */
static void reopen_keeps_data(void **state)
{
    fixture_t *f = *state;
    seed_tenant(f->store, "keep");
    store_close(f->store);
    f->store = NULL;
    castor_err err;
    assert_int_equal(store_open(f->url, 2, &f->store, &err), 0);
    store_txn_t *t;
    store_tenant_t got;
    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    assert_int_equal(store_tenant_get(t, "keep", &got, &err), 0);
    assert_string_equal(got.domain, "keep.example");
    store_rollback(t);
}

static void read_changes(store_t *s, int64_t n[STORE_CHANGE_KINDS])
{
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(s, STORE_READ, &t, &err), 0);
    assert_int_equal(store_changes_read(t, n, &err), 0);
    store_rollback(t);
}

/* Counted in the changing transaction, gone with its rollback, and known to the committing
 * store at once (no poll needed); the typed accessors that change cached data count. */
static void changes_counted_in_their_transaction(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    castor_err err;
    store_txn_t *t;
    int64_t n[STORE_CHANGE_KINDS];
    read_changes(s, n);
    for (int k = 0; k < STORE_CHANGE_KINDS; k++) {
        assert_int_equal(n[k], 0);
        assert_int_equal(store_change_seen(s, (store_change_t)k), 0);
    }

    assert_int_equal(store_begin(s, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_change_bump(t, STORE_CHANGE_MODELS, &err), 0);
    assert_int_equal(store_change_bump(t, STORE_CHANGE_MODELS, &err), 0);
    assert_int_equal(store_change_bump(t, STORE_CHANGE_INSTANCES, &err), 0);
    assert_int_equal(store_commit(t, &err), 0);
    read_changes(s, n);
    assert_int_equal(n[STORE_CHANGE_MODELS], 2);
    assert_int_equal(n[STORE_CHANGE_INSTANCES], 1);
    assert_int_equal(n[STORE_CHANGE_RBAC], 0);
    assert_int_equal(store_change_seen(s, STORE_CHANGE_MODELS), 2);
    assert_int_equal(store_change_seen(s, STORE_CHANGE_INSTANCES), 1);

    assert_int_equal(store_begin(s, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_change_bump(t, STORE_CHANGE_MODELS, &err), 0);
    store_rollback(t);
    read_changes(s, n);
    assert_int_equal(n[STORE_CHANGE_MODELS], 2);
    assert_int_equal(store_change_seen(s, STORE_CHANGE_MODELS), 2);

    /* The accessors: a signing key counts as keys, a role assignment as RBAC (the number
     * store_rbac_generation reads too). */
    assert_int_equal(store_begin(s, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_signing_key_add(t, "kid1", "pem", 1, "current", &err), 0);
    store_role_assignment_t ra = {.created = 1};
    snprintf(ra.id, sizeof ra.id, "a1");
    snprintf(ra.created_by, sizeof ra.created_by, "p1");
    snprintf(ra.scope, sizeof ra.scope, "/subscriptions/s1");
    snprintf(ra.principal_id, sizeof ra.principal_id, "p1");
    snprintf(ra.principal_type, sizeof ra.principal_type, "User");
    snprintf(ra.role_definition_id, sizeof ra.role_definition_id, "r1");
    int rc = store_role_assignment_create(t, &ra, &err);
    if (rc < 0) fprintf(stderr, "role assignment: %s\n", err.message);
    assert_int_equal(rc, 0);
    assert_int_equal(store_commit(t, &err), 0);
    read_changes(s, n);
    assert_int_equal(n[STORE_CHANGE_KEYS], 1);
    assert_int_equal(n[STORE_CHANGE_RBAC], 1);
    assert_int_equal(store_begin(s, STORE_READ, &t, &err), 0);
    int64_t gen = 0;
    assert_int_equal(store_rbac_generation(t, &gen, &err), 0);
    store_rollback(t);
    assert_int_equal(gen, 1);

    /* Seen numbers only move up. */
    int64_t low[STORE_CHANGE_KINDS] = {0};
    store_changes_observe(s, low);
    assert_int_equal(store_change_seen(s, STORE_CHANGE_MODELS), 2);
}

/* The tests above, each on a fresh store from the including file's setup. */
#define TEST_STORE_COMMON(setup, teardown)                                                         \
    cmocka_unit_test_setup_teardown(meta_roundtrip_and_missing, setup, teardown),                  \
        cmocka_unit_test_setup_teardown(rollback_discards_writes, setup, teardown),                \
        cmocka_unit_test_setup_teardown(users_are_unique_per_tenant_case_insensitively, setup,     \
                                        teardown),                                                 \
        cmocka_unit_test_setup_teardown(foreign_keys_are_enforced, setup, teardown),               \
        cmocka_unit_test_setup_teardown(role_assignments_refuse_duplicates, setup, teardown),      \
        cmocka_unit_test_setup_teardown(readers_do_not_wait_for_writers, setup, teardown),         \
        cmocka_unit_test_setup_teardown(concurrent_writers_all_commit, setup, teardown),           \
        cmocka_unit_test_setup_teardown(lone_rollbacks_release_the_writer, setup, teardown),       \
        cmocka_unit_test_setup_teardown(latest_reads_see_writes_and_cannot_write, setup,           \
                                        teardown),                                                 \
        cmocka_unit_test_setup_teardown(reopen_keeps_data, setup, teardown),                       \
        cmocka_unit_test_setup_teardown(changes_counted_in_their_transaction, setup, teardown)

#endif
