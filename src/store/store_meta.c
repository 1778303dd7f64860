/* store_meta.c — the server's own key/value settings (see store.h). */
#include "store/store_engine.h"

#include <stdlib.h>
#include <string.h>

static int meta_row(const store_row_t *row, void *ctx)
{
    char **out = ctx;
    *out = strdup(store_row_text(row, 0));
    return 1;
}

int store_meta_get(store_txn_t *t, const char *key, char **value_out, castor_err *err)
{
    *value_out = NULL;
    store_param_t p[] = {SP_T(key)};
    int rc =
        store_exec(t, "SELECT value FROM meta WHERE key = ?", p, 1, meta_row, value_out, NULL, err);
    if (rc < 0) return rc;
    if (!*value_out) return castor_err_set(err, CASTOR_ENOTFOUND, "no setting '%s'", key);
    return CASTOR_OK;
}

int store_meta_put(store_txn_t *t, const char *key, const char *value, castor_err *err)
{
    store_param_t p[] = {SP_T(key), SP_T(value)};
    return store_exec(t,
                      "INSERT INTO meta (key, value) VALUES (?, ?) "
                      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                      p, 2, NULL, NULL, NULL, err);
}
