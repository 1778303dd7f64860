/* test_store_pg.c — the PostgreSQL engine behind store.h: the contract every engine keeps
 * (test_store_common.h, SQLite's meanings), and what is PostgreSQL's own: migrations (the same
 * step counts as SQLite's), writers serialized across two stores (two castor nodes) on one
 * database, losing and regaining the server, and refusing a newer castor's schema. Runs on a
 * throwaway cluster (test_pg.h); prints "skipped: no PostgreSQL" when none can be started. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <unistd.h>

#include "store/sqlite/sqlite_migrations.h"
#include "store/store_arm.h"
#include "store/store_directory.h"
#include "store/store_events.h"
#include "store/store_twins.h"
#include "test_pg.h"
#include "test_store_common.h"
#include "test_util.h"

int pg_schema_latest(void); /* pg_engine_int.h needs libpq's headers; this is all we use */

static int setup(void **state)
{
    static int n;
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->db, sizeof f->db, "unit_%d_%d", (int)getpid(), ++n);
    if (test_pg_createdb(f->db, f->url, sizeof f->url) < 0) {
        fprintf(stderr, "could not create database %s\n", f->db);
        return -1;
    }
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
    free(f);
    return 0;
}

static void migrates_to_latest_and_pings(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    assert_string_equal(store_engine_name(f->store), "postgres");
    /* Same modules, same step counts: one schema version means one schema on both engines. */
    assert_int_equal(store_schema_version(f->store), pg_schema_latest());
    assert_int_equal(pg_schema_latest(), sqlite_schema_latest());
    assert_int_equal(store_ping(f->store, &err), 0);
    /* A second open (a second node, or a restart) finds the schema done. */
    store_t *again;
    assert_int_equal(store_open(f->url, 1, &again, &err), 0);
    assert_int_equal(store_schema_version(again), pg_schema_latest());
    store_close(again);
}

/* Read, add one, write back: exact only if writers take turns, here across two stores on one
 * database (two castor nodes), two threads each. */
typedef struct counter_arg {
    store_t *store;
    int ok;
} counter_arg_t;

static void *incrementer(void *p)
{
    counter_arg_t *a = p;
    for (int i = 0; i < 25; i++) {
        castor_err err;
        store_txn_t *t;
        if (store_begin(a->store, STORE_WRITE, &t, &err) < 0) return NULL;
        char *v = NULL;
        int n = 0;
        if (store_meta_get(t, "counter", &v, &err) == 0) n = atoi(v);
        free(v);
        char next[16];
        snprintf(next, sizeof next, "%d", n + 1);
        if (store_meta_put(t, "counter", next, &err) < 0 || store_commit(t, &err) < 0) return NULL;
        a->ok++;
    }
    return NULL;
}

static void writers_take_turns_across_nodes(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    store_t *node_b;
    assert_int_equal(store_open(f->url, 4, &node_b, &err), 0);
    counter_arg_t args[4] = {{f->store, 0}, {node_b, 0}, {f->store, 0}, {node_b, 0}};
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, incrementer, &args[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        assert_int_equal(args[i].ok, 25);
    store_txn_t *t;
    assert_int_equal(store_begin(node_b, STORE_LATEST, &t, &err), 0);
    char *v = NULL;
    assert_int_equal(store_meta_get(t, "counter", &v, &err), 0);
    assert_string_equal(v, "100");
    free(v);
    /* STORE_LATEST is read-only, as on SQLite. */
    assert_true(store_meta_put(t, "x", "y", &err) < 0);
    store_rollback(t);
    store_close(node_b);
}

/* The server drops every connection (a restart, a failover): the transaction at hand fails
 * with a 503-class error naming the cause, and the next one reconnects by itself. */
static void lost_connections_fail_then_recover(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    /* A first statement: the transaction's BEGIN travels with it, so from here on a lost
     * connection loses the transaction (before it, the engine re-opens and goes on). */
    char *v = NULL;
    assert_int_equal(store_meta_get(t, "k", &v, &err), CASTOR_ENOTFOUND);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' "
             "AND pid <> pg_backend_pid()",
             f->db);
    assert_int_equal(test_pg_psql(f->db, sql), 0);
    int rc = store_meta_get(t, "k", &v, &err);
    assert_int_equal(rc, CASTOR_EIO);
    assert_int_equal(castor_rc_status(rc), 503);
    assert_non_null(strstr(err.message, "connection to PostgreSQL was lost"));
    store_rollback(t);
    for (int i = 0; i < 6; i++) { /* every pooled connection, the writer's too */
        assert_int_equal(store_begin(f->store, i % 2 ? STORE_WRITE : STORE_READ, &t, &err), 0);
        if (i % 2) assert_int_equal(store_meta_put(t, "k", "v", &err), 0);
        assert_int_equal(store_commit(t, &err), 0);
    }
    assert_int_equal(store_ping(f->store, &err), 0);
}

/* The dispatcher's cursor (store_outbox_next): writers on two nodes add events, some roll
 * back, while a reader walks the outbox in small steps from its cursor. Every committed event
 * must be handed out exactly once: none may commit below a cursor already passed. */
typedef struct outbox_writer {
    store_t *store;
    int id;
    int committed;
} outbox_writer_t;

static void *outbox_writer(void *p)
{
    outbox_writer_t *a = p;
    for (int i = 0; i < 40; i++) {
        castor_err err;
        store_txn_t *t;
        if (store_begin(a->store, STORE_WRITE, &t, &err) < 0) return NULL;
        char subject[32];
        snprintf(subject, sizeof subject, "w%d-%d", a->id, i);
        if (store_outbox_add(t, "inst-1", "Microsoft.DigitalTwins.Twin.Update", subject, "{}",
                             &err) < 0)
            return NULL;
        usleep(200); /* a commit that takes a while: where a seq cursor would skip */
        if (i % 5 == 4) {
            store_rollback(t);
            continue;
        }
        if (store_commit(t, &err) < 0) return NULL;
        a->committed++;
    }
    return NULL;
}

typedef struct outbox_seen {
    int64_t seqs[512];
    int n;
    int dup;
} outbox_seen_t;

static int outbox_take(const store_outbox_row_t *row, void *ctx)
{
    outbox_seen_t *s = ctx;
    for (int i = 0; i < s->n; i++)
        if (s->seqs[i] == row->seq) s->dup++;
    if (s->n < 512) s->seqs[s->n++] = row->seq;
    return 0;
}

static int64_t outbox_walk(store_t *st, int64_t cursor, outbox_seen_t *seen)
{
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(st, STORE_READ, &t, &err), 0);
    int64_t next = cursor;
    assert_int_equal(store_outbox_next(t, cursor, 7, outbox_take, seen, &next, &err), 0);
    store_rollback(t);
    return next;
}

static void outbox_cursor_skips_nothing(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    assert_int_equal(
        test_pg_psql(f->db,
                     "INSERT INTO tenants VALUES ('t', 't.example', 'T', 1);"
                     "INSERT INTO subscriptions VALUES ('s', 't', 'S', 'Enabled', 1);"
                     "INSERT INTO resource_groups (subscription_id, name, location, created)"
                     "  VALUES ('s', 'rg', 'westus2', 1);"
                     "INSERT INTO dt_instances (id, name, subscription_id, resource_group,"
                     "  location, provisioning_state, created_by, created, updated)"
                     "  VALUES ('inst-1', 'dt1', 's', 'rg', 'westus2', 'Succeeded', 'x', 1, 1)"),
        0);
    store_t *node_b;
    assert_int_equal(store_open(f->url, 4, &node_b, &err), 0);
    outbox_writer_t w[4] = {{f->store, 0, 0}, {node_b, 1, 0}, {f->store, 2, 0}, {node_b, 3, 0}};
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, outbox_writer, &w[i]);
    outbox_seen_t *seen = calloc(1, sizeof *seen);
    int64_t cursor = 0;
    for (int i = 0; i < 400; i++) {
        cursor = outbox_walk(i % 2 ? node_b : f->store, cursor, seen);
        usleep(100);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 20; i++) /* drain */
        cursor = outbox_walk(f->store, cursor, seen);
    int committed = 0;
    for (int i = 0; i < 4; i++)
        committed += w[i].committed;
    assert_int_equal(committed, 4 * 32);
    assert_int_equal(seen->dup, 0);
    assert_int_equal(seen->n, committed);
    for (int i = 1; i < seen->n; i++)
        assert_true(seen->seqs[i] > seen->seqs[i - 1]);
    free(seen);
    store_close(node_b);
}

static void refuses_a_newer_schema_and_bad_urls(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    store_close(f->store);
    f->store = NULL;
    assert_int_equal(
        test_pg_psql(f->db, "UPDATE schema_versions SET version = 99 WHERE module = 'twins'"), 0);
    store_t *s = NULL;
    assert_int_equal(store_open(f->url, 1, &s, &err), CASTOR_EINVAL);
    assert_non_null(strstr(err.message, "newer castor"));
    assert_int_equal(test_pg_psql(f->db,
                                  "UPDATE schema_versions SET version = 6 WHERE module = 'twins';"
                                  "INSERT INTO schema_versions VALUES ('future', 1)"),
                     0);
    assert_int_equal(store_open(f->url, 1, &s, &err), CASTOR_EINVAL);
    assert_non_null(strstr(err.message, "'future'"));
    assert_int_equal(test_pg_psql(f->db, "DELETE FROM schema_versions WHERE module = 'future'"), 0);
    assert_int_equal(store_open(f->url, 1, &f->store, &err), 0);

    assert_int_equal(store_open("postgres://castor@127.0.0.1:1/nothing", 1, &s, &err), CASTOR_EIO);
    assert_non_null(strstr(err.message, "could not connect to PostgreSQL at 127.0.0.1:1/nothing"));
    assert_int_equal(store_open("postgres://castor@127.0.0.1:1/x?nonsense=1", 1, &s, &err),
                     CASTOR_EINVAL);
    assert_non_null(strstr(err.message, "malformed"));
}

/* A second node learns another's change numbers only by polling, all kinds in one read; each
 * node knows its own commits' at once. */
static void changes_seen_across_nodes(void **state)
{
    fixture_t *f = *state;
    store_t *a = f->store, *b;
    castor_err err;
    assert_int_equal(store_open(f->url, 4, &b, &err), 0);
    store_txn_t *t;
    int64_t n0[STORE_CHANGE_KINDS];
    read_changes(a, n0);
    assert_int_equal(store_begin(a, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_change_bump(t, STORE_CHANGE_DIRECTORY, &err), 0);
    assert_int_equal(store_change_bump(t, STORE_CHANGE_MODELS, &err), 0);
    assert_int_equal(store_commit(t, &err), 0);
    assert_int_equal(store_change_seen(a, STORE_CHANGE_DIRECTORY), n0[STORE_CHANGE_DIRECTORY] + 1);
    assert_int_equal(store_change_seen(b, STORE_CHANGE_DIRECTORY), 0);
    assert_int_equal(store_changes_poll(b, &err), 0);
    assert_int_equal(store_change_seen(b, STORE_CHANGE_DIRECTORY), n0[STORE_CHANGE_DIRECTORY] + 1);
    assert_int_equal(store_change_seen(b, STORE_CHANGE_MODELS), n0[STORE_CHANGE_MODELS] + 1);
    assert_int_equal(store_change_seen(b, STORE_CHANGE_KEYS), n0[STORE_CHANGE_KEYS]);
    /* B's own change numbers on from A's (writers take turns); A sees it on its next poll. */
    assert_int_equal(store_begin(b, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_change_bump(t, STORE_CHANGE_MODELS, &err), 0);
    assert_int_equal(store_commit(t, &err), 0);
    assert_int_equal(store_change_seen(b, STORE_CHANGE_MODELS), n0[STORE_CHANGE_MODELS] + 2);
    assert_int_equal(store_change_seen(a, STORE_CHANGE_MODELS), n0[STORE_CHANGE_MODELS] + 1);
    assert_int_equal(store_changes_poll(a, &err), 0);
    assert_int_equal(store_change_seen(a, STORE_CHANGE_MODELS), n0[STORE_CHANGE_MODELS] + 2);
    store_close(b);
}

int main(void)
{
    if (test_pg_start() < 0) {
        printf("skipped: no PostgreSQL (install postgresql; scripts/pg-tmp starts a cluster)\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(migrates_to_latest_and_pings, setup, teardown),
        TEST_STORE_COMMON(setup, teardown),
        cmocka_unit_test_setup_teardown(writers_take_turns_across_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(changes_seen_across_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(lost_connections_fail_then_recover, setup, teardown),
        cmocka_unit_test_setup_teardown(outbox_cursor_skips_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_a_newer_schema_and_bad_urls, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
