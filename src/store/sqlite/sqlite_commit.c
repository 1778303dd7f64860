/* sqlite_commit.c — batched write transactions, group commit and deferred outcomes (the SQLite
 * engine, see sqlite_engine.c).
 *
 * Group commit: an fdatasync costs ~280 us here, so one per write transaction caps writes at a
 * few thousand a second. Connections therefore run synchronous=NORMAL (COMMIT appends to the
 * WAL without syncing; checkpoints still sync the WAL before copying it), and a syncer thread
 * (sq_syncer) commits and syncs on behalf of every writer, as below. When the WAL file cannot
 * be opened the engine falls back to synchronous=FULL, each writer committing its own batch.
 * Reads never wait. Checkpoints run on their own thread, not inside the COMMIT that crosses
 * the threshold (see sq_checkpointer).
 *
 * Batched write transactions: BEGIN and COMMIT cost more than a typical request's writes (the
 * COMMIT writes every page it changed to the WAL, and the outbox and sequence pages change in
 * every write), and they run inside the writer lock, which serializes writes. So write
 * transactions share one SQLite transaction (a batch) on a dedicated connection (conns[0]):
 * each caller's transaction is a SAVEPOINT inside it, rolled back alone on failure. A caller
 * that finishes leaves the batch open and wakes the syncer, which commits it (taking the
 * writer lock between two writers) and then syncs the WAL; writes that arrive while a sync
 * runs form the next batch. A busy store thus commits and syncs one batch per fdatasync, an
 * idle one a lone write at once. A caller learns its outcome only once its batch is committed
 * and on disk: store_commit blocks until then; store_commit_deferred returns at once and its
 * pending outcome calls back (the HTTP listener suspends the connection meanwhile, so no
 * thread waits for the disk). Callers thus see the one-transaction-each behaviour, in the
 * same serial order; if a batch's COMMIT fails, or SQLite rolls it back after an error, every
 * member gets the error and none of them is acknowledged. */
#include "store/sqlite/sqlite_engine_int.h"

#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A callback waiting for a batch's outcome (store_commit_deferred). */
typedef struct sq_waiter {
    sq_batch_t *b;
    void (*fn)(void *);
    void *arg;
    struct sq_waiter *next;
} sq_waiter_t;

/* What is known of batch b's outcome (sync_lock held): 1 committed and on disk, -1 failed,
 * 0 not yet. commit_no is 0 when COMMIT syncs itself (no group commit). */
static int sq_batch_state(const sq_engine_t *e, const sq_batch_t *b)
{
    if (!b->done) return 0;
    if (b->failed) return -1;
    if (b->commit_no > e->fail_lo && b->commit_no <= e->fail_hi) return -1;
    return b->commit_no <= e->durable ? 1 : 0;
}

/* Calls back every waiter whose outcome is now known (sync_lock held; released meanwhile, so
 * a callback may take other locks). */
void sq_fire_ready(sq_engine_t *e)
{
    sq_waiter_t *ready = NULL, **pp = &e->waiters;
    while (*pp) {
        sq_waiter_t *w = *pp;
        if (sq_batch_state(e, w->b)) {
            *pp = w->next;
            w->next = ready;
            ready = w;
        } else {
            pp = &w->next;
        }
    }
    if (!ready) return;
    pthread_mutex_unlock(&e->sync_lock);
    while (ready) {
        sq_waiter_t *w = ready;
        ready = w->next;
        w->fn(w->arg);
        free(w);
    }
    pthread_mutex_lock(&e->sync_lock);
}

/* The syncer commits the open batch and syncs the WAL, over and over while there are writes:
 * every write made while one fdatasync runs joins the batch committed and synced after it, so
 * a busy store commits and syncs large batches, and an idle one commits a lone write at once.
 * No request thread ever waits inside COMMIT's page writes or fdatasync. */
static void *sq_syncer(void *arg)
{
    sq_engine_t *e = arg;
    pthread_setname_np(pthread_self(), "castor-sync");
    uint64_t last_sync = 0, last_group = 0, writes_synced = 0;
    pthread_mutex_lock(&e->sync_lock);
    for (;;) {
        while (!e->commit_wanted && e->committed == e->sync_upto && !e->sync_stop)
            pthread_cond_wait(&e->sync_wake, &e->sync_lock);
        uint64_t since = time_mono_us() - last_sync;
        if (!e->sync_stop && last_group > 1 && since < SQLITE_SYNC_PERIOD_US) {
            /* Writers overlap: let the batch grow until a period after the last sync began (a
             * lone writer, whose last sync covered only its own write, never waits here). A
             * sleep, not a timed wait: the writers' signals would wake it for nothing. */
            pthread_mutex_unlock(&e->sync_lock);
            usleep((useconds_t)(SQLITE_SYNC_PERIOD_US - since));
            pthread_mutex_lock(&e->sync_lock);
        }
        if (e->commit_wanted) {
            e->commit_wanted = 0;
            pthread_mutex_unlock(&e->sync_lock);
            pthread_mutex_lock(&e->write_lock);
            if (e->batch && e->batch_n) sq_batch_end(e, 0, NULL);
            pthread_mutex_unlock(&e->write_lock);
            pthread_mutex_lock(&e->sync_lock);
        }
        if (e->committed == e->sync_upto) {
            if (e->sync_stop) break; /* stopping, and nothing left to sync */
            continue;
        }
        uint64_t upto = e->committed; /* every commit so far is in the WAL already */
        last_group = e->writes_committed - writes_synced;
        writes_synced = e->writes_committed;
        pthread_mutex_unlock(&e->sync_lock);
        last_sync = time_mono_us();
        int failed = fdatasync(e->wal_fd) != 0;
        pthread_mutex_lock(&e->sync_lock);
        if (failed) {
            e->fail_lo = e->durable;
            e->fail_hi = upto;
        } else {
            e->durable = upto;
        }
        e->sync_upto = upto;
        pthread_cond_broadcast(&e->synced);
        sq_fire_ready(e);
    }
    pthread_mutex_unlock(&e->sync_lock);
    return NULL;
}

void sq_syncer_start(sq_engine_t *e)
{
    if (e->wal_fd >= 0 && pthread_create(&e->syncer, NULL, sq_syncer, e) == 0)
        e->syncer_running = 1;
}

/* Syncs what is left, then stops the syncer. */
void sq_syncer_stop(sq_engine_t *e)
{
    if (!e->syncer_running) return;
    pthread_mutex_lock(&e->sync_lock);
    e->sync_stop = 1;
    pthread_cond_signal(&e->sync_wake);
    pthread_mutex_unlock(&e->sync_lock);
    pthread_join(e->syncer, NULL);
    e->syncer_running = 0;
}

/* Ends the open batch (write_lock held): commits it, or rolls it back when it has no finished
 * member or SQLite already rolled it back, and tells its members the outcome. */
void sq_batch_end(sq_engine_t *e, int rollback, const char *why)
{
    sq_conn_t *w = &e->conns[0];
    sq_batch_t *b = e->batch;
    castor_err err;
    int failed = rollback;
    if (!sqlite3_get_autocommit(w->db)) {
        if (!rollback && sq_control(w, SQL_COMMIT, &err) < 0) {
            failed = 1;
            why = err.message;
        }
        if (failed) sq_control(w, SQL_ROLLBACK, NULL);
    } else if (e->batch_n) {
        /* No transaction left to commit: SQLite rolled it back after an error. */
        failed = 1;
        why = "the store rolled back the transaction after an error";
    }
    pthread_mutex_lock(&e->sync_lock);
    b->done = 1;
    b->failed = failed;
    if (failed) {
        castor_text_cut(
            b->why, sizeof b->why,
            snprintf(b->why, sizeof b->why, "%s", why ? why : "the transaction was rolled back"));
    } else if (e->syncer_running) {
        b->commit_no = ++e->committed; /* numbered in WAL order: under the writer lock */
        e->writes_committed += e->batch_n;
        pthread_cond_signal(&e->sync_wake);
    }
    int last = --b->refs == 0;
    pthread_cond_broadcast(&e->synced);
    sq_fire_ready(e);
    pthread_mutex_unlock(&e->sync_lock);
    if (last) free(b);
    e->batch = NULL;
    e->batch_n = 0;
}

void sq_batch_flush(sq_engine_t *e)
{
    sq_batch_end(e, 0, NULL);
}

/* After a member's failure: when SQLite has rolled back the whole transaction (a full disk, an
 * I/O error), the batch's finished members are lost with it and must be told. */
void sq_batch_check_alive(sq_engine_t *e)
{
    if (e->batch && sqlite3_get_autocommit(e->conns[0].db))
        sq_batch_end(e, 1, "the store rolled back the transaction after an error");
}

/* Releases the writer lock. An open batch with finished members is left for the syncer to
 * commit, unless it is full or there is no syncer; one without is rolled back. */
void sq_writer_leave(sq_engine_t *e)
{
    if (e->batch && e->batch_n == 0) {
        sq_batch_end(e, 1, NULL);
    } else if (e->batch && (!e->syncer_running || e->batch_n >= SQLITE_BATCH_MAX)) {
        sq_batch_end(e, 0, NULL);
    } else if (e->batch) {
        pthread_mutex_lock(&e->sync_lock);
        e->commit_wanted = 1;
        pthread_cond_signal(&e->sync_wake);
        pthread_mutex_unlock(&e->sync_lock);
    }
    pthread_mutex_unlock(&e->write_lock);
}

/* A write transaction is a savepoint in the open batch, which the first writer of a run
 * begins. */
int sq_begin_write(sq_engine_t *e, void **conn, castor_err *err)
{
    sq_conn_t *w = &e->conns[0];
    pthread_mutex_lock(&e->write_lock);
    int rc = CASTOR_OK;
    if (!e->batch) {
        e->batch = calloc(1, sizeof *e->batch);
        if (!e->batch)
            rc = castor_err_set(err, CASTOR_ENOMEM, "out of memory starting a transaction");
        else
            e->batch->refs = 1;
        if (rc == 0) rc = sq_control(w, SQL_BEGIN_IMMEDIATE, err);
        if (rc < 0 && e->batch) {
            free(e->batch);
            e->batch = NULL;
        }
    }
    if (rc == 0) rc = sq_control(w, SQL_SAVEPOINT, err);
    if (rc < 0) {
        sq_batch_check_alive(e);
        sq_writer_leave(e);
        return rc;
    }
    w->writing = 1;
    *conn = w;
    return CASTOR_OK;
}

/* Undoes a write transaction's savepoint; the batch goes on without it. */
void sq_write_undo(sq_engine_t *e, sq_conn_t *w)
{
    if (sq_control(w, SQL_ROLLBACK_TO, NULL) == 0) sq_control(w, SQL_RELEASE, NULL);
    sq_batch_check_alive(e);
}

/* The outcome of batch b, waiting for it when not yet known; drops the caller's reference. */
int sq_batch_finish(sq_engine_t *e, sq_batch_t *b, castor_err *err)
{
    pthread_mutex_lock(&e->sync_lock);
    int state;
    while ((state = sq_batch_state(e, b)) == 0)
        pthread_cond_wait(&e->synced, &e->sync_lock);
    int rc = CASTOR_OK;
    if (b->failed)
        rc = castor_err_set(err, CASTOR_EIO, "committing to the store: %s", b->why);
    else if (state < 0)
        rc = castor_err_set(err, CASTOR_EIO,
                            "syncing the write-ahead log to disk failed: the write may be lost "
                            "(check the disk holding the data folder)");
    int last = --b->refs == 0;
    pthread_mutex_unlock(&e->sync_lock);
    if (last) free(b);
    return rc;
}

/* Ends a write transaction's savepoint and leaves the batch; *batch_out gets a reference to
 * the batch, whose outcome is the transaction's. */
int sq_commit_write(sq_engine_t *e, sq_conn_t *w, sq_batch_t **batch_out, castor_err *err)
{
    w->writing = 0;
    int rc = sq_control(w, SQL_RELEASE, err);
    if (rc < 0) {
        sq_write_undo(e, w);
        sq_writer_leave(e);
        return rc;
    }
    sq_batch_t *b = e->batch;
    pthread_mutex_lock(&e->sync_lock);
    b->refs++;
    pthread_mutex_unlock(&e->sync_lock);
    e->batch_n++;
    *batch_out = b;
    sq_writer_leave(e);
    return CASTOR_OK;
}

void sq_pending_notify(void *engine, void *pending, void (*fn)(void *), void *arg)
{
    sq_engine_t *e = engine;
    sq_waiter_t *w = malloc(sizeof *w);
    pthread_mutex_lock(&e->sync_lock);
    if (w && !sq_batch_state(e, pending)) {
        *w = (sq_waiter_t){pending, fn, arg, e->waiters};
        e->waiters = w;
        pthread_mutex_unlock(&e->sync_lock);
        return;
    }
    pthread_mutex_unlock(&e->sync_lock);
    free(w);
    fn(arg); /* known already, or no memory to wait with: the finish call will block instead */
}

int sq_pending_finish(void *engine, void *pending, castor_err *err)
{
    return sq_batch_finish(engine, pending, err);
}

/* Readers see a batch once its COMMIT is in the WAL, before the syncer's fdatasync. So a
 * caller waits for every batch committed so far to be synced. The writer lock is taken and
 * dropped first: sq_batch_end numbers a batch after its COMMIT, both under that lock, so a
 * batch the caller's read already saw is numbered once the lock is free. */
int sq_wait_durable(void *engine, castor_err *err)
{
    (void)err;
    sq_engine_t *e = engine;
    if (!e->syncer_running) return CASTOR_OK; /* every COMMIT synced itself */
    pthread_mutex_lock(&e->write_lock);
    pthread_mutex_unlock(&e->write_lock);
    pthread_mutex_lock(&e->sync_lock);
    uint64_t target = e->committed;
    while (e->sync_upto < target)
        pthread_cond_wait(&e->synced, &e->sync_lock);
    pthread_mutex_unlock(&e->sync_lock);
    return CASTOR_OK;
}
