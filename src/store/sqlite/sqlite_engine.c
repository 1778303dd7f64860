/* sqlite_engine.c — the embedded SQLite engine behind store.h.
 *
 * A fixed pool of connections to one database file in WAL mode. Any number of read
 * transactions run at once, each on its own connection; write transactions are serialized by
 * a mutex on the writer's connection (batched, see below) and BEGIN IMMEDIATE, so SQLITE_BUSY
 * never reaches a caller. synchronous=FULL makes a commit durable against power loss, not only
 * against a process crash. Statements are prepared once per connection and cached by the
 * address of their SQL text, which is always a string literal in src/store/.
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
#include "store/sqlite/sqlite_migrations.h"
#include "store/sqlite/sqlite_query.h"
#include "store/store_engine.h"

#include "core/timeutil.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prepared statements per connection, hashed by the address of their SQL literal. Sized well
 * above the number of statements castor has (about 100 now), so every statement is prepared
 * once per connection; a full table only means a statement is prepared for each use. */
#define SQLITE_STMT_SLOTS 1024

/* Write transactions committed together at most (see the banner): bounds how long the first
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
    /* group commit (see the banner); wal_fd < 0: every COMMIT syncs itself */
    int wal_fd;
    int db_fd; /* the database file, for the checkpointer's own sync; -1 when not open */
    pthread_mutex_t sync_lock;
    pthread_cond_t synced;    /* a batch ended or a sync finished */
    pthread_cond_t sync_wake; /* the syncer has commits to sync, or must stop */
    pthread_t syncer;
    int syncer_running, sync_stop;
    int commit_wanted;       /* the open batch waits for the syncer to commit it */
    uint64_t committed;      /* batches committed (to the OS) so far */
    uint64_t writes_committed; /* write transactions in those batches */
    uint64_t sync_upto;      /* of those, how many an fdatasync has been tried for */
    uint64_t durable;        /* of those, how many an fdatasync has covered */
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

struct store_row {
    sqlite3_stmt *stmt;
};

const char *store_row_text(const store_row_t *row, int col)
{
    const unsigned char *s = sqlite3_column_text(row->stmt, col);
    return s ? (const char *)s : "";
}

int64_t store_row_int(const store_row_t *row, int col)
{
    return sqlite3_column_int64(row->stmt, col);
}

int store_row_is_null(const store_row_t *row, int col)
{
    return sqlite3_column_type(row->stmt, col) == SQLITE_NULL;
}

static int sq_fail(sqlite3 *db, int code, const char *what, castor_err *err)
{
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(code);
    int prim = code & 0xff;
    if (prim == SQLITE_CONSTRAINT)
        return castor_err_set(err, CASTOR_ECONFLICT, "%s: %s", what, msg);
    if (prim == SQLITE_FULL)
        return castor_err_set(err, CASTOR_EIO, "%s: the disk is full (%s)", what, msg);
    if (prim == SQLITE_READONLY || prim == SQLITE_CANTOPEN || prim == SQLITE_PERM)
        return castor_err_set(err, CASTOR_EIO,
                              "%s: %s (check that the data folder is writable by this user)", what,
                              msg);
    if (prim == SQLITE_NOTADB || prim == SQLITE_CORRUPT)
        return castor_err_set(err, CASTOR_EIO,
                              "%s: %s (the file is not a castor database or is damaged)", what,
                              msg);
    return castor_err_set(err, CASTOR_EIO, "%s: %s", what, msg);
}

static int sq_exec_plain(sqlite3 *db, const char *sql, castor_err *err)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK) return CASTOR_OK;
    char what[96];
    snprintf(what, sizeof what, "running '%.60s'", sql);
    return sq_fail(db, rc, what, err);
}

static int sq_conn_open(const char *path, sq_conn_t *c, castor_err *err)
{
    memset(c, 0, sizeof *c);
    int rc = sqlite3_open_v2(path, &c->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        sq_fail(c->db, rc, "opening the database", err);
        castor_err_prefix(err, "%s", path);
        sqlite3_close(c->db);
        c->db = NULL;
        return CASTOR_EIO;
    }
    sqlite3_extended_result_codes(c->db, 1);
    /* Writers are serialized above SQLite, but a checkpoint or another process can still hold
     * the lock briefly. */
    sqlite3_busy_timeout(c->db, 10000);
    static const char *const pragmas =
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=FULL;"
        "PRAGMA foreign_keys=ON;"
        "PRAGMA temp_store=MEMORY;";
    rc = sq_exec_plain(c->db, pragmas, err);
    if (rc < 0) {
        castor_err_prefix(err, "%s", path);
        sqlite3_close(c->db);
        c->db = NULL;
    }
    return rc;
}

static void sq_conn_close(sq_conn_t *c)
{
    for (int i = 0; i < SQLITE_STMT_SLOTS; i++)
        if (c->cache[i].sql) sqlite3_finalize(c->cache[i].stmt);
    memset(c->cache, 0, sizeof c->cache);
    sqlite_query_cache_free(c->qcache);
    c->qcache = NULL;
    c->ncache = 0;
    if (c->db) sqlite3_close(c->db);
    c->db = NULL;
}

/* Opens the WAL file for group commit and lets COMMIT skip its own sync. Without the file
 * (an unusual filesystem, a special path) every COMMIT stays synchronous=FULL. */
static void sq_group_commit_start(sq_engine_t *e, const char *target)
{
    char wal[4096];
    if (snprintf(wal, sizeof wal, "%s-wal", target) >= (int)sizeof wal) return;
    int fd = open(wal, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    for (unsigned i = 0; i < e->nconns; i++) {
        if (sqlite3_exec(e->conns[i].db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) !=
            SQLITE_OK) {
            for (unsigned j = 0; j <= i; j++)
                sqlite3_exec(e->conns[j].db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
            close(fd);
            return;
        }
    }
    e->wal_fd = fd;
}

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
static void sq_fire_ready(sq_engine_t *e)
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

static void sq_batch_end(sq_engine_t *e, int rollback, const char *why);

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

static void sq_syncer_start(sq_engine_t *e)
{
    if (e->wal_fd >= 0 && pthread_create(&e->syncer, NULL, sq_syncer, e) == 0)
        e->syncer_running = 1;
}

/* Syncs what is left, then stops the syncer. */
static void sq_syncer_stop(sq_engine_t *e)
{
    if (!e->syncer_running) return;
    pthread_mutex_lock(&e->sync_lock);
    e->sync_stop = 1;
    pthread_cond_signal(&e->sync_wake);
    pthread_mutex_unlock(&e->sync_lock);
    pthread_join(e->syncer, NULL);
    e->syncer_running = 0;
}

static int sq_control(sq_conn_t *c, const char *sql, castor_err *err);

/* Transaction control runs on every request: prepared once per connection (by the address of
 * these literals), not parsed each time as sqlite3_exec would. */
static const char SQL_BEGIN[] = "BEGIN";
static const char SQL_BEGIN_IMMEDIATE[] = "BEGIN IMMEDIATE";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";
static const char SQL_SAVEPOINT[] = "SAVEPOINT castor_write";
static const char SQL_RELEASE[] = "RELEASE castor_write";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO castor_write";

/* Ends the open batch (write_lock held): commits it, or rolls it back when it has no finished
 * member or SQLite already rolled it back, and tells its members the outcome. */
static void sq_batch_end(sq_engine_t *e, int rollback, const char *why)
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
        snprintf(b->why, sizeof b->why, "%s", why ? why : "the transaction was rolled back");
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

static void sq_batch_flush(sq_engine_t *e)
{
    sq_batch_end(e, 0, NULL);
}

/* After a member's failure: when SQLite has rolled back the whole transaction (a full disk, an
 * I/O error), the batch's finished members are lost with it and must be told. */
static void sq_batch_check_alive(sq_engine_t *e)
{
    if (e->batch && sqlite3_get_autocommit(e->conns[0].db))
        sq_batch_end(e, 1, "the store rolled back the transaction after an error");
}

/* Releases the writer lock. An open batch with finished members is left for the syncer to
 * commit, unless it is full or there is no syncer; one without is rolled back. */
static void sq_writer_leave(sq_engine_t *e)
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

/* Checkpoints off the commit path. SQLite's autocheckpoint runs inside the COMMIT that crosses
 * the threshold, that is inside the writer lock: copying ~1,000 pages into the database and
 * syncing both files stalled every writer for 5-75 ms (measured) every few hundred writes. Each
 * pool connection's WAL hook only wakes this thread, which copies the WAL into the database
 * on its own connection while writers go on appending (a PASSIVE checkpoint takes no writer
 * lock), then holds the writer lock just long enough to copy the few pages committed
 * meanwhile, so that the WAL is wholly backfilled and the next writer restarts it from the
 * start instead of growing it. */
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
        while (!e->ckpt_wanted && !e->ckpt_stop) pthread_cond_wait(&e->ckpt_wake, &e->ckpt_lock);
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
static void sq_checkpointer_start(sq_engine_t *e, const char *target)
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
    for (unsigned i = 0; i < e->nconns; i++) sqlite3_wal_hook(e->conns[i].db, sq_wal_hook, e);
}

static void sq_checkpointer_stop(sq_engine_t *e)
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

static int sq_open(const char *target, unsigned connections, void **out, castor_err *err)
{
    *out = NULL;
    sq_engine_t *e = calloc(1, sizeof *e);
    if (!e) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    connections++; /* the writer's, besides `connections` for readers */
    e->conns = calloc(connections, sizeof *e->conns);
    if (!e->conns) {
        free(e);
        return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&e->pool_lock, NULL);
    pthread_cond_init(&e->pool_free, NULL);
    pthread_mutex_init(&e->write_lock, NULL);

    /* The first connection migrates the schema before the others open. */
    int rc = sq_conn_open(target, &e->conns[0], err);
    if (rc == 0) {
        e->nconns = 1;
        rc = sqlite_migrate(e->conns[0].db, &e->schema_version, err);
        if (rc < 0) castor_err_prefix(err, "%s", target);
    }
    for (unsigned i = 1; rc == 0 && i < connections; i++) {
        rc = sq_conn_open(target, &e->conns[i], err);
        if (rc == 0) e->nconns++;
    }
    e->wal_fd = -1;
    e->db_fd = -1;
    pthread_mutex_init(&e->sync_lock, NULL);
    pthread_cond_init(&e->synced, NULL);
    pthread_mutex_init(&e->ckpt_lock, NULL);
    pthread_cond_init(&e->ckpt_wake, NULL);
    pthread_cond_init(&e->sync_wake, NULL);
    /* Only the writer's page cache survives other connections' commits (a reader's is emptied
     * by every commit), so it gets room for the working set of a large graph. */
    if (rc == 0) sqlite3_exec(e->conns[0].db, "PRAGMA cache_size=-65536", NULL, NULL, NULL);
    if (rc == 0) sq_group_commit_start(e, target);
    if (rc == 0) sq_syncer_start(e);
    if (rc == 0) sq_checkpointer_start(e, target);
    if (rc < 0) {
        pthread_mutex_destroy(&e->ckpt_lock);
        pthread_cond_destroy(&e->ckpt_wake);
        sq_syncer_stop(e);
        pthread_mutex_destroy(&e->sync_lock);
        pthread_cond_destroy(&e->synced);
        pthread_cond_destroy(&e->sync_wake);
        for (unsigned i = 0; i < e->nconns; i++) sq_conn_close(&e->conns[i]);
        pthread_mutex_destroy(&e->pool_lock);
        pthread_cond_destroy(&e->pool_free);
        pthread_mutex_destroy(&e->write_lock);
        free(e->conns);
        free(e);
        return rc;
    }
    *out = e;
    return CASTOR_OK;
}

static void sq_close(void *engine)
{
    sq_engine_t *e = engine;
    if (!e) return;
    sq_checkpointer_stop(e);
    pthread_mutex_destroy(&e->ckpt_lock);
    pthread_cond_destroy(&e->ckpt_wake);
    /* Every batch has been committed before its members returned; this only guards against a
     * caller that never finished. */
    pthread_mutex_lock(&e->write_lock);
    if (e->batch) sq_batch_end(e, e->batch_n == 0, NULL);
    pthread_mutex_unlock(&e->write_lock);
    sq_syncer_stop(e);
    /* Left only if a caller never finished a pending commit; their outcome is known now. */
    pthread_mutex_lock(&e->sync_lock);
    sq_fire_ready(e);
    pthread_mutex_unlock(&e->sync_lock);
    /* A checkpoint at close keeps the WAL from growing across restarts. */
    if (e->nconns && e->conns[0].db)
        sqlite3_wal_checkpoint_v2(e->conns[0].db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    for (unsigned i = 0; i < e->nconns; i++) sq_conn_close(&e->conns[i]);
    if (e->wal_fd >= 0) close(e->wal_fd);
    if (e->db_fd >= 0) close(e->db_fd);
    pthread_mutex_destroy(&e->sync_lock);
    pthread_cond_destroy(&e->synced);
    pthread_cond_destroy(&e->sync_wake);
    pthread_mutex_destroy(&e->pool_lock);
    pthread_cond_destroy(&e->pool_free);
    pthread_mutex_destroy(&e->write_lock);
    free(e->conns);
    free(e);
}

/* A reader's connection: any but the writer's conns[0]. */
static sq_conn_t *sq_acquire(sq_engine_t *e)
{
    pthread_mutex_lock(&e->pool_lock);
    for (;;) {
        for (unsigned i = 1; i < e->nconns; i++) {
            if (!e->conns[i].busy) {
                e->conns[i].busy = 1;
                pthread_mutex_unlock(&e->pool_lock);
                return &e->conns[i];
            }
        }
        pthread_cond_wait(&e->pool_free, &e->pool_lock);
    }
}

static void sq_release(sq_engine_t *e, sq_conn_t *c)
{
    pthread_mutex_lock(&e->pool_lock);
    c->busy = 0;
    pthread_cond_signal(&e->pool_free);
    pthread_mutex_unlock(&e->pool_lock);
}

static sqlite3_stmt *sq_prepare(sq_conn_t *c, const char *sql, castor_err *err);

static int sq_control(sq_conn_t *c, const char *sql, castor_err *err)
{
    sqlite3_stmt *st = sq_prepare(c, sql, err);
    if (!st) return sq_exec_plain(c->db, sql, err);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) return CASTOR_OK;
    char what[64];
    snprintf(what, sizeof what, "running '%s'", sql);
    return sq_fail(c->db, rc, what, err);
}

/* A write transaction is a savepoint in the open batch, which the first writer of a run
 * begins. */
static int sq_begin_write(sq_engine_t *e, void **conn, castor_err *err)
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

static int sq_begin(void *engine, store_mode_t mode, void **conn, castor_err *err)
{
    sq_engine_t *e = engine;
    if (mode == STORE_WRITE) return sq_begin_write(e, conn, err);
    if (mode == STORE_LATEST) {
        /* No BEGIN, no savepoint: its statements read inside the open batch, or each in its
         * own implicit transaction when none is open. */
        pthread_mutex_lock(&e->write_lock);
        e->conns[0].latest = 1;
        *conn = &e->conns[0];
        return CASTOR_OK;
    }
    sq_conn_t *c = sq_acquire(e);
    int rc = sq_control(c, SQL_BEGIN, err);
    if (rc < 0) {
        sq_release(e, c);
        return rc;
    }
    *conn = c;
    return CASTOR_OK;
}

/* Undoes a write transaction's savepoint; the batch goes on without it. */
static void sq_write_undo(sq_engine_t *e, sq_conn_t *w)
{
    if (sq_control(w, SQL_ROLLBACK_TO, NULL) == 0) sq_control(w, SQL_RELEASE, NULL);
    sq_batch_check_alive(e);
}

/* The outcome of batch b, waiting for it when not yet known; drops the caller's reference. */
static int sq_batch_finish(sq_engine_t *e, sq_batch_t *b, castor_err *err)
{
    pthread_mutex_lock(&e->sync_lock);
    int state;
    while ((state = sq_batch_state(e, b)) == 0) pthread_cond_wait(&e->synced, &e->sync_lock);
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
static int sq_commit_write(sq_engine_t *e, sq_conn_t *w, sq_batch_t **batch_out,
                           castor_err *err)
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

static int sq_commit(void *engine, void *conn, castor_err *err)
{
    sq_engine_t *e = engine;
    sq_conn_t *c = conn;
    if (c->writing) {
        sq_batch_t *b = NULL;
        int rc = sq_commit_write(e, c, &b, err);
        return rc < 0 ? rc : sq_batch_finish(e, b, err);
    }
    if (c->latest) {
        c->latest = 0;
        sq_batch_check_alive(e); /* a failed read may have rolled back the open batch */
        pthread_mutex_unlock(&e->write_lock);
        return CASTOR_OK;
    }
    int rc = sq_control(c, SQL_COMMIT, err);
    if (rc < 0) sq_control(c, SQL_ROLLBACK, NULL);
    sq_release(e, c);
    return rc;
}

static int sq_commit_deferred(void *engine, void *conn, void **pending, castor_err *err)
{
    sq_engine_t *e = engine;
    sq_conn_t *c = conn;
    *pending = NULL;
    if (!c->writing) return sq_commit(engine, conn, err);
    sq_batch_t *b = NULL;
    int rc = sq_commit_write(e, c, &b, err);
    if (rc == 0) *pending = b;
    return rc;
}

static void sq_pending_notify(void *engine, void *pending, void (*fn)(void *), void *arg)
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

static int sq_pending_finish(void *engine, void *pending, castor_err *err)
{
    return sq_batch_finish(engine, pending, err);
}

static void sq_rollback(void *engine, void *conn)
{
    sq_engine_t *e = engine;
    sq_conn_t *c = conn;
    if (c->writing) {
        c->writing = 0;
        sq_write_undo(e, c);
        sq_writer_leave(e);
        return;
    }
    if (c->latest) {
        c->latest = 0;
        sq_batch_check_alive(e);
        pthread_mutex_unlock(&e->write_lock);
        return;
    }
    sq_control(c, SQL_ROLLBACK, NULL);
    sq_release(e, c);
}

static size_t sq_slot(const char *sql)
{
    uint64_t h = (uint64_t)(uintptr_t)sql;
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 40) & (SQLITE_STMT_SLOTS - 1);
}

/* The statement for sql, prepared once per connection. *cached says whether it stays in the
 * table (the caller finalizes it after use when not). */
static sqlite3_stmt *sq_prepare_ex(sq_conn_t *c, const char *sql, int *cached, castor_err *err)
{
    size_t i = sq_slot(sql);
    for (size_t n = 0; n < SQLITE_STMT_SLOTS && c->cache[i].sql; n++) {
        if (c->cache[i].sql == sql) {
            *cached = 1;
            return c->cache[i].stmt;
        }
        i = (i + 1) & (SQLITE_STMT_SLOTS - 1);
    }
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
    if (rc != SQLITE_OK) {
        sq_fail(c->db, rc, "preparing a statement", err);
        return NULL;
    }
    *cached = !c->cache[i].sql && c->ncache < SQLITE_STMT_SLOTS * 3 / 4;
    if (*cached) {
        c->cache[i].sql = sql;
        c->cache[i].stmt = stmt;
        c->ncache++;
    }
    return stmt;
}

static sqlite3_stmt *sq_prepare(sq_conn_t *c, const char *sql, castor_err *err)
{
    int cached;
    sqlite3_stmt *st = sq_prepare_ex(c, sql, &cached, err);
    /* Only transaction control uses this: it is prepared first, so it is always cached. */
    if (st && !cached) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static int sq_exec(void *conn, const char *sql, const store_param_t *params, int nparams,
                   store_row_fn fn, void *ctx, int64_t *changes_out, castor_err *err)
{
    sq_conn_t *c = conn;
    int cached = 0;
    sqlite3_stmt *stmt = sq_prepare_ex(c, sql, &cached, err);
    if (!stmt) return CASTOR_EIO;
    int rc = CASTOR_OK;
    if (c->latest && !sqlite3_stmt_readonly(stmt))
        rc = castor_err_set(err, CASTOR_EINTERNAL,
                            "a write inside a read-only (STORE_LATEST) transaction");
    for (int i = 0; i < nparams && rc == CASTOR_OK; i++) {
        int brc;
        switch (params[i].type) {
        case SP_TEXT: brc = sqlite3_bind_text(stmt, i + 1, params[i].text, -1, SQLITE_STATIC); break;
        case SP_INT: brc = sqlite3_bind_int64(stmt, i + 1, params[i].i); break;
        default: brc = sqlite3_bind_null(stmt, i + 1); break;
        }
        if (brc != SQLITE_OK) rc = sq_fail(c->db, brc, "binding a parameter", err);
    }
    while (rc == CASTOR_OK) {
        int step = sqlite3_step(stmt);
        if (step == SQLITE_ROW) {
            if (fn) {
                store_row_t row = {stmt};
                if (fn(&row, ctx)) break;
            }
            continue;
        }
        if (step != SQLITE_DONE) rc = sq_fail(c->db, step, "running a statement", err);
        break;
    }
    if (rc == CASTOR_OK && changes_out) *changes_out = sqlite3_changes64(c->db);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (!cached) sqlite3_finalize(stmt);
    return rc;
}

sqlite3 *sqlite_conn_db(void *conn)
{
    return ((sq_conn_t *)conn)->db;
}

struct sq_qcache **sqlite_conn_qcache(void *conn)
{
    return &((sq_conn_t *)conn)->qcache;
}

static int sq_schema_version(void *engine)
{
    return ((sq_engine_t *)engine)->schema_version;
}

const store_engine_ops_t store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .commit_deferred = sq_commit_deferred,
    .pending_notify = sq_pending_notify,
    .pending_finish = sq_pending_finish,
    .rollback = sq_rollback,
    .exec = sq_exec,
    .schema_version = sq_schema_version,
    .query = sqlite_query_exec,
};
