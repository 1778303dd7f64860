/* store_changes.c — the change numbers of what nodes cache (see store.h): one `meta` row per
 * kind, counted up in the changing transaction, and read all together in one statement. */
#include "store/store_engine.h"

#include <string.h>

/* The keys of the counters, by store_change_t. "rbac.generation" predates the others (stores
 * written by an older castor have it already). */
static const char *const change_keys[STORE_CHANGE_KINDS] = {
    [STORE_CHANGE_RBAC] = "rbac.generation",
    [STORE_CHANGE_DIRECTORY] = "directory.generation",
    [STORE_CHANGE_MODELS] = "models.generation",
    [STORE_CHANGE_KEYS] = "keys.generation",
    [STORE_CHANGE_INSTANCES] = "instances.generation",
    [STORE_CHANGE_ROUTES] = "routes.generation",
};

static int bumped_row(const store_row_t *row, void *ctx)
{
    *(int64_t *)ctx = store_row_int(row, 0);
    return 0;
}

int store_change_bump(store_txn_t *t, store_change_t kind, castor_err *err)
{
    store_param_t p[] = {SP_T(change_keys[kind])};
    int64_t n = 0;
    /* Writers are serialized (on PostgreSQL across nodes too), so the count read back is the
     * exact number this change will have once committed. */
    int rc = store_exec(t,
                        "INSERT INTO meta (key, value) VALUES (?, '1') "
                        "ON CONFLICT (key) DO UPDATE SET "
                        "value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT) "
                        "RETURNING CAST(value AS INTEGER)",
                        p, (int)(sizeof p / sizeof p[0]), bumped_row, &n, NULL, err);
    if (rc == 0) store_txn_changed(t, kind, n);
    return rc;
}

static int change_row(const store_row_t *row, void *ctx)
{
    int64_t *out = ctx;
    const char *key = store_row_text(row, 0);
    for (int k = 0; k < STORE_CHANGE_KINDS; k++)
        if (strcmp(key, change_keys[k]) == 0) out[k] = store_row_int(row, 1);
    return 0;
}

int store_changes_read(store_txn_t *t, int64_t out[STORE_CHANGE_KINDS], castor_err *err)
{
    for (int k = 0; k < STORE_CHANGE_KINDS; k++)
        out[k] = 0;
    /* The keys are literals, not parameters: one statement text, prepared once per connection,
     * a primary-key probe per kind. */
    return store_exec(t,
                      "SELECT key, CAST(value AS INTEGER) FROM meta WHERE key IN "
                      "('rbac.generation', 'directory.generation', 'models.generation', "
                      "'keys.generation', 'instances.generation', 'routes.generation')",
                      NULL, 0, change_row, out, NULL, err);
}

int store_changes_poll(store_t *s, castor_err *err)
{
    if (!store_shared(s)) return CASTOR_OK;
    store_txn_t *t;
    int rc = store_begin(s, STORE_READ, &t, err);
    if (rc < 0) return rc;
    int64_t n[STORE_CHANGE_KINDS];
    rc = store_changes_read(t, n, err);
    store_rollback(t);
    if (rc == 0) store_changes_observe(s, n);
    return rc;
}
