/* test_store_sqlite.c — the SQLite engine behind store.h: migrations, transactions, typed
 * accessors, conflicts, concurrency, and refusing another castor's data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>

#include "store/sqlite/sqlite_migrations.h"
#include "store/sqlite/sqlite_schema.h"
#include "store/store_arm.h"
#include "store/store_directory.h"
#include "test_util.h"

typedef struct fixture {
    char *dir;
    char url[512];
    store_t *store;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->dir = test_tmpdir();
    snprintf(f->url, sizeof f->url, "sqlite:%s/castor.db", f->dir);
    castor_err err;
    if (store_open(f->url, 4, &f->store, &err) < 0) {
        fprintf(stderr, "store_open: %s\n", err.message);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    store_close(f->store);
    test_rmdir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

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

static void migrates_to_latest_and_pings(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    assert_int_equal(store_schema_version(f->store), sqlite_schema_latest());
    assert_true(sqlite_schema_latest() >= 3);
    assert_int_equal(store_ping(f->store, &err), 0);
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
    snprintf(u.upn, sizeof u.upn, "alice@T1.EXAMPLE");
    assert_int_equal(store_user_create(t, &u, &err), CASTOR_ECONFLICT);
    assert_non_null(strstr(err.message, "exists already"));
    assert_int_equal(store_commit(t, &err), 0);

    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    store_user_t got;
    assert_int_equal(store_user_get_by_upn(t, "t1", "ALICE@t1.example", &got, &err), 0);
    assert_string_equal(got.id, "u1");
    assert_string_equal(got.display_name, "Alice");
    assert_int_equal(got.enabled, 1);
    assert_int_equal(store_user_get(t, "nobody", &got, &err), CASTOR_ENOTFOUND);
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

/* Writers share batches (one SQLite transaction, a savepoint each): one that fails and rolls
 * back in the middle of a batch loses only its own writes, and every other one lands, whether
 * it waited in store_commit or took the deferred path. */
typedef struct batch_arg {
    store_t *store;
    int id;
    int ok, refused, deferred;
} batch_arg_t;

typedef struct wake_flag {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int woken;
} wake_flag_t;

static void wake(void *p)
{
    wake_flag_t *w = p;
    pthread_mutex_lock(&w->lock);
    w->woken++;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static void *batch_writer(void *p)
{
    batch_arg_t *a = p;
    for (int i = 0; i < 60; i++) {
        castor_err err;
        store_txn_t *t;
        if (store_begin(a->store, STORE_WRITE, &t, &err) < 0) return NULL;
        char key[64];
        snprintf(key, sizeof key, "b%d-%d", a->id, i);
        if (store_meta_put(t, key, "x", &err) < 0) return NULL;
        if (i % 3 == 1) {
            /* A tenant that exists already: the write fails after writing its key. */
            store_tenant_t tenant = {.created = 1};
            snprintf(tenant.id, sizeof tenant.id, "batch-seed");
            snprintf(tenant.domain, sizeof tenant.domain, "seed.example");
            if (store_tenant_create(t, &tenant, &err) == CASTOR_ECONFLICT) a->refused++;
            store_rollback(t);
            continue;
        }
        if (i % 3 == 2) {
            store_pending_t *pending = NULL;
            if (store_commit_deferred(t, &pending, &err) < 0) return NULL;
            if (pending) {
                wake_flag_t w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
                store_pending_notify(pending, wake, &w);
                pthread_mutex_lock(&w.lock);
                while (!w.woken)
                    pthread_cond_wait(&w.cond, &w.lock);
                pthread_mutex_unlock(&w.lock);
                if (w.woken != 1 || store_pending_finish(pending, &err) < 0) return NULL;
                a->deferred++;
            }
            a->ok++;
            continue;
        }
        if (store_commit(t, &err) < 0) return NULL;
        a->ok++;
    }
    return NULL;
}

static void batched_writers_fail_alone(void **state)
{
    fixture_t *f = *state;
    seed_tenant(f->store, "batch-seed");
    enum { N = 8 };
    batch_arg_t args[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        args[i] = (batch_arg_t){f->store, i, 0, 0, 0};
        pthread_create(&th[i], NULL, batch_writer, &args[i]);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    int deferred = 0;
    for (int i = 0; i < N; i++) {
        assert_int_equal(args[i].ok, 40);
        assert_int_equal(args[i].refused, 20);
        deferred += args[i].deferred;
    }
    /* On a normal file system group commit is on, so deferred commits really waited. */
    assert_true(deferred > 0);
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    for (int id = 0; id < N; id++)
        for (int i = 0; i < 60; i++) {
            char key[64], *v = NULL;
            snprintf(key, sizeof key, "b%d-%d", id, i);
            int rc = store_meta_get(t, key, &v, &err);
            if (i % 3 == 1) {
                assert_int_equal(rc, CASTOR_ENOTFOUND);
            } else {
                assert_int_equal(rc, 0);
                assert_string_equal(v, "x");
            }
            free(v);
        }
    store_rollback(t);
}

/* A reader sees a write once its batch is committed, before the group's fdatasync; after
 * store_wait_durable that write's outcome is known (durable), so notify calls back at once.
 * The event dispatcher relies on this to send only events whose change a power loss keeps. */
static void wait_durable_covers_what_readers_saw(void **state)
{
    fixture_t *f = *state;
    int waited = 0;
    for (int i = 0; i < 50; i++) {
        castor_err err;
        store_txn_t *t;
        char key[32];
        snprintf(key, sizeof key, "d%d", i);
        assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
        assert_int_equal(store_meta_put(t, key, "x", &err), 0);
        store_pending_t *pending = NULL;
        assert_int_equal(store_commit_deferred(t, &pending, &err), 0);
        for (char *v = NULL; !v;) {
            assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
            int rc = store_meta_get(t, key, &v, &err);
            store_rollback(t);
            assert_true(rc == 0 || rc == CASTOR_ENOTFOUND);
            free(v);
            if (rc == 0) break;
        }
        assert_int_equal(store_wait_durable(f->store, &err), 0);
        if (!pending) continue; /* no group commit here: every COMMIT synced itself */
        waited++;
        wake_flag_t w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
        store_pending_notify(pending, wake, &w);
        assert_int_equal(w.woken, 1); /* called back from within notify: already durable */
        assert_int_equal(store_pending_finish(pending, &err), 0);
    }
    assert_true(waited > 0);
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
static void *latest_reader(void *p)
{
    batch_arg_t *a = p;
    for (int i = 0; i < 200; i++) {
        castor_err err;
        store_txn_t *t;
        if (store_begin(a->store, STORE_LATEST, &t, &err) < 0) return NULL;
        char *v = NULL;
        int rc = store_meta_get(t, "latest-key", &v, &err);
        store_rollback(t);
        free(v);
        if (rc == 0) a->ok++;
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
    batch_arg_t readers[2];
    writer_arg_t writers[2];
    pthread_t th[4];
    for (int i = 0; i < 2; i++) {
        readers[i] = (batch_arg_t){f->store, i, 0, 0, 0};
        writers[i] = (writer_arg_t){f->store, 10 + i, 0};
        pthread_create(&th[2 * i], NULL, latest_reader, &readers[i]);
        pthread_create(&th[2 * i + 1], NULL, writer, &writers[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(readers[i].ok, 200);
        assert_int_equal(writers[i].ok, 50);
    }
}

static void reopen_keeps_data_and_refuses_newer_schema(void **state)
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
    store_close(f->store);
    f->store = NULL;

    /* A newer castor advanced a module's schema: this build must refuse the folder. */
    char path[512];
    snprintf(path, sizeof path, "%s/castor.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE schema_versions SET version = 999 WHERE module = 'arm'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(f->url, 2, &f->store, &err), CASTOR_EINVAL);
    assert_non_null(strstr(err.message, "written by a newer castor"));
    assert_non_null(strstr(err.message, "'arm'"));
    assert_null(f->store);

    /* ... or added a module this build lacks. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char restore[160];
    snprintf(restore, sizeof restore,
             "UPDATE schema_versions SET version = %d WHERE module = 'arm';"
             "INSERT INTO schema_versions VALUES ('future', 1)",
             sqlite_schema_arm.nsteps);
    sqlite3_exec(db, restore, NULL, NULL, NULL);
    sqlite3_close(db);
    assert_int_equal(store_open(f->url, 2, &f->store, &err), CASTOR_EINVAL);
    assert_non_null(strstr(err.message, "'future'"));
    assert_null(f->store);
    /* teardown closes NULL safely; reopen for it anyway after restoring. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_exec(db, "DELETE FROM schema_versions WHERE module = 'future'", NULL, NULL, NULL);
    sqlite3_close(db);
    assert_int_equal(store_open(f->url, 2, &f->store, &err), 0);
}

static void not_a_database_and_bad_urls(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    char path[512], url[600];
    snprintf(path, sizeof path, "%s/castor.db", dir);
    FILE *fp = fopen(path, "w");
    fputs("this is not a database, it is a text file that is long enough to have a header...\n",
          fp);
    fclose(fp);
    snprintf(url, sizeof url, "sqlite:%s", path);
    store_t *s = NULL;
    castor_err err;
    assert_true(store_open(url, 1, &s, &err) < 0);
    assert_null(s);
    assert_non_null(strstr(err.message, "not a castor database"));
    assert_int_equal(store_open("mysql://x", 1, &s, &err), CASTOR_EINVAL);
    assert_non_null(strstr(err.message, "unknown store"));
    snprintf(url, sizeof url, "sqlite:%s/no/such/folder/castor.db", dir);
    assert_true(store_open(url, 1, &s, &err) < 0);
    test_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(migrates_to_latest_and_pings, setup, teardown),
        cmocka_unit_test_setup_teardown(meta_roundtrip_and_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(rollback_discards_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(users_are_unique_per_tenant_case_insensitively, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(foreign_keys_are_enforced, setup, teardown),
        cmocka_unit_test_setup_teardown(role_assignments_refuse_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(readers_do_not_wait_for_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_writers_all_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(batched_writers_fail_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(lone_rollbacks_release_the_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(wait_durable_covers_what_readers_saw, setup, teardown),
        cmocka_unit_test_setup_teardown(latest_reads_see_writes_and_cannot_write, setup, teardown),
        cmocka_unit_test_setup_teardown(reopen_keeps_data_and_refuses_newer_schema, setup,
                                        teardown),
        cmocka_unit_test(not_a_database_and_bad_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
