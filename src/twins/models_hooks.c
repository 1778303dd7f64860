/* models_hooks.c — the points where the Models API asks other data-plane modules about
 * their data: DELETE /models/{id} is refused while twins use the model (twins_*.c). */
#include "twins/models_api.h"

#include "store/store_twins.h"

int models_hook_twins_using(store_txn_t *t, const char *instance_key, const char *model_id,
                            arena_t *arena, const char **names, int max, int *count_out,
                            castor_err *err)
{
    *count_out = 0;
    return store_twins_using_model(t, instance_key, model_id, arena, names, max, count_out, err);
}
