/* test_store_sqlite.c — the SQLite engine behind store.h: the contract every engine keeps
 * (test_store_common.h), and what is SQLite's own: migrations, batched group commits, durable
 * waits, and refusing another castor's data. */
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
#include "test_seed.h"
#include "test_store_common.h"
#include "test_util.h"

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (test_store_open_tmp(4, &f->dir, &f->store) < 0) return -1;
    snprintf(f->url, sizeof f->url, "sqlite:%s/castor.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    test_store_close_tmp(f->store, f->dir);
    free(f);
    return 0;
}

static void migrates_to_latest_and_pings(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    assert_int_equal(store_schema_version(f->store), sqlite_schema_latest());
    assert_true(sqlite_schema_latest() >= 3);
    assert_int_equal(store_ping(f->store, &err), 0);
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

/* A newer castor advanced a module's schema, or added a module: this build must refuse the
 * folder, and take it again once it is as this build left it. */
static void refuses_a_newer_schema(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    store_close(f->store);
    f->store = NULL;

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

/* Alone on its store, a poll reads nothing: only the store's own commits move what it has seen,
 * and another store on the same file learns nothing from them. */
static void polls_read_nothing_alone(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_change_bump(t, STORE_CHANGE_MODELS, &err), 0);
    assert_int_equal(store_commit(t, &err), 0);
    store_t *other;
    assert_int_equal(store_open(f->url, 2, &other, &err), 0);
    assert_int_equal(store_changes_poll(other, &err), 0);
    assert_int_equal(store_change_seen(other, STORE_CHANGE_MODELS), 0);
    store_close(other);
    assert_int_equal(store_change_seen(f->store, STORE_CHANGE_MODELS), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(migrates_to_latest_and_pings, setup, teardown),
        TEST_STORE_COMMON(setup, teardown),
        cmocka_unit_test_setup_teardown(batched_writers_fail_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(wait_durable_covers_what_readers_saw, setup, teardown),
        cmocka_unit_test_setup_teardown(polls_read_nothing_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_a_newer_schema, setup, teardown),
        cmocka_unit_test(not_a_database_and_bad_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
