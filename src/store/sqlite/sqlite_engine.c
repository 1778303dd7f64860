/* sqlite_engine.c — the embedded SQLite engine behind store.h.
 *
 * A fixed pool of connections to one database file in WAL mode. Any number of read
 * transactions run at once, each on its own connection; write transactions are serialized by
 * a mutex on the writer's connection (batched, see below) and BEGIN IMMEDIATE, so SQLITE_BUSY
 * never reaches a caller. synchronous=FULL makes a commit durable against power loss, not only
 * against a process crash. Statements are prepared once per connection and cached by the
 * address of their SQL text, which is always a string literal in src/store/.
 *
 * Write transactions are batched and synced by a syncer thread (sqlite_commit.c); checkpoints
 * run on their own thread (sqlite_checkpoint.c); what the three files share is in
 * sqlite_engine_int.h. */
#include "store/sqlite/sqlite_engine_int.h"
#include "store/sqlite/sqlite_migrations.h"
#include "store/sqlite/sqlite_query.h"
#include "store/store_engine.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *sq_row_text(const store_row_t *row, int col)
{
    const unsigned char *s = sqlite3_column_text(row->h, col);
    return s ? (const char *)s : "";
}

static int64_t sq_row_int(const store_row_t *row, int col)
{
    return sqlite3_column_int64(row->h, col);
}

static int sq_row_is_null(const store_row_t *row, int col)
{
    return sqlite3_column_type(row->h, col) == SQLITE_NULL;
}

static const store_row_ops_t sq_row_ops = {sq_row_text, sq_row_int, sq_row_is_null};

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
        return castor_err_set(
            err, CASTOR_EIO, "%s: %s (the file is not a castor database or is damaged)", what, msg);
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

int sq_conn_open(const char *path, sq_conn_t *c, castor_err *err)
{
    memset(c, 0, sizeof *c);
    int rc = sqlite3_open_v2(
        path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
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
    static const char *const pragmas = "PRAGMA journal_mode=WAL;"
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
        for (unsigned i = 0; i < e->nconns; i++)
            sq_conn_close(&e->conns[i]);
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
    for (unsigned i = 0; i < e->nconns; i++)
        sq_conn_close(&e->conns[i]);
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

/* Transaction control runs on every request: prepared once per connection (by the address of
 * these literals), not parsed each time as sqlite3_exec would. */
const char SQL_BEGIN[] = "BEGIN";
const char SQL_BEGIN_IMMEDIATE[] = "BEGIN IMMEDIATE";
const char SQL_COMMIT[] = "COMMIT";
const char SQL_ROLLBACK[] = "ROLLBACK";
const char SQL_SAVEPOINT[] = "SAVEPOINT castor_write";
const char SQL_RELEASE[] = "RELEASE castor_write";
const char SQL_ROLLBACK_TO[] = "ROLLBACK TO castor_write";

int sq_control(sq_conn_t *c, const char *sql, castor_err *err)
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
        case SP_TEXT:
            brc = sqlite3_bind_text(stmt, i + 1, params[i].text, -1, SQLITE_STATIC);
            break;
        case SP_INT:
            brc = sqlite3_bind_int64(stmt, i + 1, params[i].i);
            break;
        default:
            brc = sqlite3_bind_null(stmt, i + 1);
            break;
        }
        if (brc != SQLITE_OK) rc = sq_fail(c->db, brc, "binding a parameter", err);
    }
    while (rc == CASTOR_OK) {
        int step = sqlite3_step(stmt);
        if (step == SQLITE_ROW) {
            if (fn) {
                store_row_t row = {&sq_row_ops, stmt, 0, -1, 0, 0};
                int stop = fn(&row, ctx);
                if (row.too_long_col >= 0) {
                    rc = store_row_too_long(&row, sqlite3_column_name(stmt, row.too_long_col), err);
                    break;
                }
                if (stop) break;
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
    .wait_durable = sq_wait_durable,
    .rollback = sq_rollback,
    .exec = sq_exec,
    .schema_version = sq_schema_version,
    .query = sqlite_query_exec,
};
