/* sqlite_checkpoint.c — background checkpoints for the SQLite engine (see sqlite_engine.c).
 *
 * Checkpoints off the commit path. SQLite's autocheckpoint runs inside the COMMIT that crosses
 * the threshold, that is inside the writer lock: copying a thousand pages into the database and
 * syncing both files stalled every writer for 5-75 ms (measured) every few hundred writes. Each
 * pool connection's WAL hook only wakes this thread, which copies the WAL into the database
 * on its own connection while writers go on appending (a PASSIVE checkpoint takes no writer
 * lock), then holds the writer lock just long enough to copy the few pages committed
 * meanwhile, so that the WAL is wholly backfilled and the next writer restarts it from the
 * start instead of growing it. */
#include "store/sqlite/sqlite_engine_int.h"

#include <fcntl.h>
#include <unistd.h>

static int sq_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    sq_engine_t *e = arg;
    if (pages < SQLITE_CHECKPOINT_PAGES) return SQLITE_OK;
    pthread_mutex_lock(&e->ckpt_lock);
    if (!e->ckpt_wanted) {
        e->ckpt_wanted = 1;
        pthread_cond_signal(&e->ckpt_wake);
    }
    pthread_mutex_unlock(&e->ckpt_lock);
    return SQLITE_OK;
}

static void *sq_checkpointer(void *arg)
{
    sq_engine_t *e = arg;
    pthread_setname_np(pthread_self(), "castor-ckpt");
    pthread_mutex_lock(&e->ckpt_lock);
    for (;;) {
        while (!e->ckpt_wanted && !e->ckpt_stop)
            pthread_cond_wait(&e->ckpt_wake, &e->ckpt_lock);
        if (e->ckpt_stop) break;
        e->ckpt_wanted = 0;
        pthread_mutex_unlock(&e->ckpt_lock);
        /* Failures (a reader holding an old snapshot, a full disk) leave the WAL longer; the
         * next wake-up tries again, and committed data stays safe in the WAL meanwhile. */
        /* Unlocked passes until the frames committed meanwhile are few: the locked pass
         * below stalls every writer for as long as it copies. While writes outpace the
         * copying, it waits for a later wake-up, unless the WAL has grown to
         * SQLITE_CHECKPOINT_MAX_PAGES. */
        int log = 0, done = 0, tail = 0;
        for (int pass = 0; pass < 8; pass++) {
            tail = 0;
            if (sqlite3_wal_checkpoint_v2(e->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log,
                                          &done) != SQLITE_OK)
                break;
            tail = log - done;
            if (tail <= SQLITE_CHECKPOINT_TAIL) break;
        }
        /* The copies are in the OS's cache; the locked pass ends with an fsync of the database
         * file, which would write them all out while every writer waits (~60 ms for 20,000
         * pages, measured). Written out here first, that fsync has only the tail left. */
        if (e->db_fd >= 0) fdatasync(e->db_fd);
        if (tail <= SQLITE_CHECKPOINT_TAIL || log >= SQLITE_CHECKPOINT_MAX_PAGES) {
            pthread_mutex_lock(&e->write_lock);
            /* An open batch's members are waiting for its COMMIT anyway; committing it here
             * lets the checkpoint take the WAL up to its end. */
            if (e->batch) sq_batch_flush(e);
            sqlite3_wal_checkpoint_v2(e->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
            pthread_mutex_unlock(&e->write_lock);
        }
        pthread_mutex_lock(&e->ckpt_lock);
    }
    pthread_mutex_unlock(&e->ckpt_lock);
    return NULL;
}

/* Starts the checkpointer; without it (no connection, no thread) SQLite's autocheckpoint
 * stays in charge. */
void sq_checkpointer_start(sq_engine_t *e, const char *target)
{
    /* Closed only in sq_close after every SQLite connection: closing any descriptor of the
     * file drops the process's POSIX locks on it, SQLite's included. */
    e->db_fd = open(target, O_RDWR | O_CLOEXEC);
    sq_conn_t c;
    castor_err ignored;
    if (sq_conn_open(target, &c, &ignored) < 0) return;
    if (e->wal_fd >= 0) sqlite3_exec(c.db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    e->ckpt_db = c.db;
    if (pthread_create(&e->ckpt_thread, NULL, sq_checkpointer, e) != 0) {
        sqlite3_close(e->ckpt_db);
        e->ckpt_db = NULL;
        return;
    }
    for (unsigned i = 0; i < e->nconns; i++)
        sqlite3_wal_hook(e->conns[i].db, sq_wal_hook, e);
}

void sq_checkpointer_stop(sq_engine_t *e)
{
    if (!e->ckpt_db) return;
    pthread_mutex_lock(&e->ckpt_lock);
    e->ckpt_stop = 1;
    pthread_cond_signal(&e->ckpt_wake);
    pthread_mutex_unlock(&e->ckpt_lock);
    pthread_join(e->ckpt_thread, NULL);
    sqlite3_close(e->ckpt_db);
    e->ckpt_db = NULL;
}
