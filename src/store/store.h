/* store.h — the only way castor's modules touch persistent data.
 *
 * Every read and write happens inside a transaction (store_txn_t) taken from a store_t. The
 * typed accessors (store_directory.h, store_arm.h, ... one header per plane) carry no SQL into
 * the caller; the SQL lives in src/store/ and is
 * written once, in a dialect both engines accept (SQLite now, PostgreSQL behind the same
 * interface later). A write transaction is durable when store_commit returns 0: it survives
 * kill -9 and power loss.
 *
 * Threading: a store_t is shared by all request threads; a store_txn_t belongs to the thread
 * that began it until it is committed or rolled back. Write transactions are serialized;
 * read transactions run concurrently with them and see the last committed state. */
#ifndef CASTOR_STORE_STORE_H
#define CASTOR_STORE_STORE_H

#include "core/err.h"
#include "core/limits.h"

#include <stdint.h>

typedef struct store store_t;
typedef struct store_txn store_txn_t;

/* STORE_LATEST: a read-only transaction that sees every write made so far, committed or
 * about to be (a write's outcome is still reported by its own commit). It runs on the writer's
 * connection, whose cache no other writer empties, and holds the writer lock, so keep it to a
 * lookup or two: a compare-and-swap write (store_twin_replace_if) reads with it first. */
typedef enum store_mode { STORE_READ = 0, STORE_WRITE = 1, STORE_LATEST = 2 } store_mode_t;

/* Opens (creating if needed) the store named by url:
 *   "sqlite:PATH"     an SQLite database file (created, then migrated to the current schema)
 *   "postgres://..."  a PostgreSQL database (libpq URL; "postgresql://" too), which must exist;
 *                     its schema is migrated like SQLite's. Several castor nodes may share it.
 * connections is how many transactions may be open at once (one per request thread, plus
 * one). A schema newer than this build knows is refused with a message saying so. */
int store_open(const char *url, unsigned connections, store_t **out, castor_err *err);

/* Closes every connection. Every transaction must have ended before this is called. */
void store_close(store_t *s);

/* Answers whether the store can run a query now (for /readyz). */
int store_ping(store_t *s, castor_err *err);

/* "sqlite" or "postgres". */
const char *store_engine_name(store_t *s);

/* Whether other castor nodes may write this store (PostgreSQL): what a node caches from it
 * must then be checked against the store's change numbers before use (store_changes_poll). */
int store_shared(store_t *s);

/* The schema version the store is at (after migrations). */
int store_schema_version(store_t *s);

int store_begin(store_t *s, store_mode_t mode, store_txn_t **out, castor_err *err);
/* Commits and ends the transaction (t is invalid afterwards, whatever the result). */
int store_commit(store_txn_t *t, castor_err *err);
/* Abandons and ends the transaction. Safe on NULL. */
void store_rollback(store_txn_t *t);

/* A committed write whose durability is not yet known (see store_commit_deferred). */
typedef struct store_pending store_pending_t;

/* Commits and ends t like store_commit, but without waiting for the write to reach the disk:
 * on 0, *pending (owned by the caller; NULL when the outcome is already final) must be
 * finished with store_pending_finish, which says whether the write is durable. Until then the
 * write is visible to others but must not be acknowledged. Lets a request thread serve other
 * requests while the disk syncs (see http_deferred_t). */
int store_commit_deferred(store_txn_t *t, store_pending_t **pending, castor_err *err);
/* Calls fn(arg) once, from any thread (possibly at once, from this one), when the outcome of
 * p is known; store_pending_finish then returns without blocking. */
void store_pending_notify(store_pending_t *p, void (*fn)(void *), void *arg);
/* The outcome: 0 when the write is durable, else the error (it may be lost). Blocks until it
 * is known. Frees p. */
int store_pending_finish(store_pending_t *p, castor_err *err);
/* Blocks until every write visible to a reader at the time of the call is on disk: a reader
 * that acts outside castor on what it read (the event dispatcher sends events) reads first,
 * then waits, so it never acts on a write that a power loss could still undo (a committed
 * write is visible before its group's sync). A write whose sync failed is not waited for
 * again: its writer was told it may be lost. */
int store_wait_durable(store_t *s, castor_err *err);

/* ---- key/value settings of the server itself (bootstrap state, key ids) ---- */

/* *value_out is malloc'ed; caller frees. CASTOR_ENOTFOUND when the key is absent. */
int store_meta_get(store_txn_t *t, const char *key, char **value_out, castor_err *err);
int store_meta_put(store_txn_t *t, const char *key, const char *value, castor_err *err);

/* ---- change numbers: what a node may cache, and when it must drop it (store_changes.c) ----
 *
 * Each kind of data a castor node caches has a counter in `meta`, counted up in the very
 * transaction that changes such data, so the count and the change commit together. On a store
 * other nodes write (store_shared), a node reads every counter in one statement once per
 * request (store_changes_poll) and each cache compares the count it was built at with the
 * newest one seen (store_change_seen) before use. Alone on its store (SQLite), a node reads
 * nothing: it drops its caches itself after its own commits. */
typedef enum store_change {
    STORE_CHANGE_RBAC = 0,  /* role assignments and custom role definitions */
    STORE_CHANGE_DIRECTORY, /* users, groups, memberships, apps, service principals, grants,
                             * app role assignments: what verified tokens and issued ones hold */
    STORE_CHANGE_MODELS,    /* any instance's models (added, deleted, decommissioned) */
    STORE_CHANGE_KEYS,      /* the token signing keys */
    STORE_CHANGE_INSTANCES, /* Digital Twins instances deleted (by name, or with their group) */
    STORE_CHANGE_ROUTES,    /* event routes and endpoints (what every node's dispatcher runs) */
    STORE_CHANGE_KINDS
} store_change_t;

/* Counts kind up by one inside t (a write transaction). */
int store_change_bump(store_txn_t *t, store_change_t kind, castor_err *err);
/* Every counter as of t's snapshot (0 for a kind never changed). */
int store_changes_read(store_txn_t *t, int64_t out[STORE_CHANGE_KINDS], castor_err *err);
/* On a shared store: reads every counter in one short read and records them as seen (each
 * only ever moves up). Alone on its store: does nothing. A store that cannot answer leaves
 * the numbers seen as they were (the caches then serve what they hold). */
int store_changes_poll(store_t *s, castor_err *err);
/* The newest count of kind a poll has seen; 0 before any poll, and always 0 on SQLite. */
int64_t store_change_seen(store_t *s, store_change_t kind);
/* Records counts as seen (what store_changes_poll does after its read). */
void store_changes_observe(store_t *s, const int64_t n[STORE_CHANGE_KINDS]);

/* Sizes of the fixed fields in the typed records of store_*.h. Those that hold input are the
 * caps of core/limits.h, which the planes enforce where input enters. */
#define STORE_ID_MAX 37                /* a GUID and its NUL */
#define STORE_NAME_MAX CASTOR_NAME_MAX /* UPNs, domains, display names */
#define STORE_HASH_MAX 160             /* argon2id encoded hashes (crypto_pwhash_STRBYTES = 128) */
#define STORE_SCOPE_MAX CASTOR_SCOPE_MAX               /* ARM scopes and resource ids */
#define STORE_OAUTH_SCOPES_MAX CASTOR_OAUTH_SCOPES_MAX /* OAuth scope lists */

#endif
