/* sqlite_engine_int.h — what the SQLite engine's files share (internal to src/store/sqlite/):
 * the engine and connection structures, the transaction-control statements, and the functions
 * sqlite_engine.c (pool, statements, begin/commit), sqlite_commit.c (batches, syncer, deferred
 * outcomes) and sqlite_checkpoint.c (background checkpoints) call across. */
#ifndef CASTOR_STORE_SQLITE_ENGINE_INT_H
#define CASTOR_STORE_SQLITE_ENGINE_INT_H

#include "core/err.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

/* Prepared statements per connection, hashed by the address of their SQL literal. Sized well
 * above the number of statements castor has (about 100 now), so every statement is prepared
 * once per connection; a full table only means a statement is prepared for each use. */
#define SQLITE_STMT_SLOTS 1024

/* Write transactions committed together at most (see sqlite_commit.c): bounds how long the first
 * member of a busy run waits for its acknowledgement. */
#define SQLITE_BATCH_MAX 64

/* Frames a checkpoint may leave for its pass under the writer lock, and the WAL size at which
 * that pass runs whatever is left (see sq_checkpointer). */
#define SQLITE_CHECKPOINT_TAIL 256
#define SQLITE_CHECKPOINT_MAX_PAGES (4 * SQLITE_CHECKPOINT_PAGES)

/* Under concurrent writes, the syncer starts an fdatasync at most this often: each costs ~45 us
 * of CPU on a virtio disk besides its wait, and a longer gap lets more writes share one (PATCH
 * on 2 cores, 100,000 twins, 2 threads: 15.6-16.1k/s without, 19.0-19.4k/s with 1 ms, p99
 * alike; with 8 threads the same either way). */
#define SQLITE_SYNC_PERIOD_US 1000u

/* WAL pages after which a checkpoint is due (SQLite's own default is 1,000). A checkpoint copies
 * each page once however often the WAL holds it, and its reads and writes compete with the
 * commits: at 20,000 pages (~80 MB of WAL, replayed in well under a second after a crash)
 * PATCH went 21.2k -> 24.0k/s and PUT relationship 11.0k -> 13.0k/s on 2 cores with p99
 * alike (once the checkpointer syncs the database before its locked pass), GET unchanged. */
#define SQLITE_CHECKPOINT_PAGES 20000

typedef struct sq_stmt {
    const char *sql; /* cache key: the literal's address */
    sqlite3_stmt *stmt;
} sq_stmt_t;

typedef struct sq_conn {
    sqlite3 *db;
    int busy;
    int writing;
    int latest; /* a STORE_LATEST read on the writer's connection (read-only) */
    sq_stmt_t cache[SQLITE_STMT_SLOTS]; /* open addressing; sql == NULL is empty */
    int ncache;
    struct sq_qcache *qcache; /* compiled ADT queries' statements, by text (sqlite_query.c) */
} sq_conn_t;

/* One batch of write transactions sharing a SQLite transaction. Owned by its references: the
 * engine's while the batch is open, and each member's until it has read the outcome. Fields
 * below `refs` are written under sync_lock. */
typedef struct sq_batch {
    int refs;
    int done;           /* committed or failed */
    int failed;         /* the COMMIT failed, or SQLite rolled the whole transaction back */
    uint64_t commit_no; /* its number among commits (for the durable wait) */
    char why[160];      /* what failed, for every member's error */
} sq_batch_t;

typedef struct sq_engine {
    sq_conn_t *conns; /* conns[0] is the writer's (batched transactions); the rest, readers' */
    unsigned nconns;
    pthread_mutex_t pool_lock;
    pthread_cond_t pool_free;
    pthread_mutex_t write_lock; /* held for the whole of a write transaction */
    sq_batch_t *batch;          /* the open batch (under write_lock), NULL when none */
    unsigned batch_n;           /* members of the open batch that have finished their writes */
    int schema_version;
    /* group commit (sqlite_commit.c); wal_fd < 0: every COMMIT syncs itself */
    int wal_fd;
    int db_fd; /* the database file, for the checkpointer's own sync; -1 when not open */
    pthread_mutex_t sync_lock;
    pthread_cond_t synced;    /* a batch ended or a sync finished */
    pthread_cond_t sync_wake; /* the syncer has commits to sync, or must stop */
    pthread_t syncer;
    int syncer_running, sync_stop;
    int commit_wanted;         /* the open batch waits for the syncer to commit it */
    uint64_t committed;        /* batches committed (to the OS) so far */
    uint64_t writes_committed; /* write transactions in those batches */
    uint64_t sync_upto;        /* of those, how many an fdatasync has been tried for */
    uint64_t durable;          /* of those, how many an fdatasync has covered */
    uint64_t fail_lo, fail_hi; /* commits in (fail_lo, fail_hi] were in a failed fdatasync */
    struct sq_waiter *waiters; /* callbacks for pending outcomes (store_commit_deferred) */
    /* background checkpoints (see sq_checkpointer); ckpt_db NULL: SQLite's own autocheckpoint */
    sqlite3 *ckpt_db;
    pthread_t ckpt_thread;
    pthread_mutex_t ckpt_lock;
    pthread_cond_t ckpt_wake;
    int ckpt_wanted; /* the WAL has grown past SQLITE_CHECKPOINT_PAGES */
    int ckpt_stop;
} sq_engine_t;

/* Transaction control, prepared once per connection and cached by these arrays' addresses
 * (sqlite_engine.c). */
extern const char SQL_BEGIN[], SQL_BEGIN_IMMEDIATE[], SQL_COMMIT[], SQL_ROLLBACK[];
extern const char SQL_SAVEPOINT[], SQL_RELEASE[], SQL_ROLLBACK_TO[];

/* sqlite_engine.c */
int sq_conn_open(const char *path, sq_conn_t *c, castor_err *err);
/* Runs one transaction-control statement (one of the SQL_ arrays) on c. */
int sq_control(sq_conn_t *c, const char *sql, castor_err *err);

/* sqlite_commit.c (all with write_lock held, except the start/stop, finish and notify) */
void sq_syncer_start(sq_engine_t *e);
void sq_syncer_stop(sq_engine_t *e);
int sq_begin_write(sq_engine_t *e, void **conn, castor_err *err);
int sq_commit_write(sq_engine_t *e, sq_conn_t *w, sq_batch_t **batch_out, castor_err *err);
void sq_write_undo(sq_engine_t *e, sq_conn_t *w);
void sq_writer_leave(sq_engine_t *e);
void sq_batch_end(sq_engine_t *e, int rollback, const char *why);
void sq_batch_flush(sq_engine_t *e);
void sq_batch_check_alive(sq_engine_t *e);
int sq_batch_finish(sq_engine_t *e, sq_batch_t *b, castor_err *err);
void sq_pending_notify(void *engine, void *pending, void (*fn)(void *), void *arg);
int sq_pending_finish(void *engine, void *pending, castor_err *err);
int sq_wait_durable(void *engine, castor_err *err);
/* Calls back the waiters whose outcome is known (sync_lock held; released meanwhile). */
void sq_fire_ready(sq_engine_t *e);

/* sqlite_checkpoint.c */
void sq_checkpointer_start(sq_engine_t *e, const char *target);
void sq_checkpointer_stop(sq_engine_t *e);

#endif
