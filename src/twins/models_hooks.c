/* models_hooks.c — the points where the Models API asks other data-plane modules about
 * their data. Twins do not exist yet: the twins module fills models_hook_twins_using. */
#include "twins/models_api.h"

int models_hook_twins_using(store_txn_t *t, const char *instance_key, const char *model_id,
                            arena_t *arena, const char **names, int max, int *count_out,
                            castor_err *err)
{
    (void)t;
    (void)instance_key;
    (void)model_id;
    (void)arena;
    (void)names;
    (void)max;
    (void)err;
    *count_out = 0;
    return CASTOR_OK;
}
