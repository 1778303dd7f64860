/* models_change.c — PATCH /models/{id} (decommission) and DELETE /models/{id}.
 *
 * Models are immutable; the only change ADT accepts is the JSON patch
 * [{"op":"replace","path":"/decommissioned","value":true}]. Decommissioning twice is not an
 * error (the SDK's own test does it). DELETE is refused while another model extends the
 * model, uses it as a component schema or references it otherwise — naming those models —
 * or while the twins hook reports twins using it. */
#include "twins/models_api.h"
#include "twins/twins_routes.h"

#include "store/store_models.h"
#include "twins/models_cache.h"

#include <stdio.h>
#include <string.h>

static const char *const json_patch_ops[] = {"add",  "remove", "replace", "move",
                                             "copy", "test",   NULL};

static int patch_invalid(castor_err *err, const char *path, const char *fmt, const char *arg)
{
    castor_err_http(err, CASTOR_EINVAL, 400, "JsonPatchInvalid", fmt, arg);
    castor_err_at(err, path);
    return CASTOR_EINVAL;
}

/* Checks the patch; fills *decommission with the value the patch sets. */
static int check_patch(const json_t *patch, castor_err *err)
{
    if (!json_is_array(patch) || json_array_size(patch) == 0)
        return patch_invalid(err, "$",
                             "%sThe body must be a JSON patch: a non-empty array such as "
                             "[{\"op\":\"replace\",\"path\":\"/decommissioned\",\"value\":true}].",
                             "");
    for (size_t i = 0; i < json_array_size(patch); i++) {
        const json_t *op = json_array_get(patch, i);
        char at[48];
        snprintf(at, sizeof at, "$[%zu]", i);
        if (!json_is_object(op))
            return patch_invalid(err, at, "%s: each patch operation must be a JSON object.", at);
        const char *name = json_string_value(json_object_get(op, "op"));
        const char *path = json_string_value(json_object_get(op, "path"));
        if (!name || !path)
            return patch_invalid(err, at, "%s: a patch operation needs the strings op and path.",
                                 at);
        int known = 0;
        for (const char *const *k = json_patch_ops; *k; k++)
            known |= strcmp(*k, name) == 0;
        if (!known)
            return patch_invalid(err, at,
                                 "'%s' is not a JSON patch operation (add, remove, replace, "
                                 "move, copy, test).",
                                 name);
        if (strcmp(name, "replace") != 0 || strcmp(path, "/decommissioned") != 0) {
            castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                            "%s: '%s %s' cannot be applied to a model. Models are immutable; the "
                            "only change allowed is replace /decommissioned with true.",
                            at, name, path);
            castor_err_at(err, at);
            return CASTOR_EINVAL;
        }
        const json_t *v = json_object_get(op, "value");
        if (!v) return patch_invalid(err, at, "%s: replace needs a value.", at);
        if (!json_is_true(v)) {
            castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                            "%s: /decommissioned can only be set to true; a decommissioned model "
                            "cannot be recommissioned.",
                            at);
            castor_err_at(err, at);
            return CASTOR_EINVAL;
        }
    }
    return CASTOR_OK;
}

int models_update(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const twins_deps_t *deps = twins_deps(req);
    const char *id = http_request_param(req, "id");
    int rc = check_patch(req->json, err);
    if (rc < 0) return rc;
    const char *key = models_instance_key(req);
    store_txn_t *t = NULL;
    rc = store_begin(deps->store, STORE_WRITE, &t, err);
    if (rc < 0) return rc;
    rc = store_model_set_decommissioned(t, key, id, 1, err);
    if (rc == 0) rc = store_change_bump(t, STORE_CHANGE_MODELS, err);
    if (rc < 0) {
        store_rollback(t);
        return rc == CASTOR_ENOTFOUND ? models_not_found(err, id) : rc;
    }
    rc = store_commit(t, err);
    if (rc < 0) return rc;
    models_cache_invalidate(deps->models, deps->store, key);
    resp->status = 204;
    return CASTOR_OK;
}

typedef struct dependents {
    arena_t *arena;
    char *list;
    int count;
} dependents_t;

static int dependent(const char *model_id, const char *kind, void *ctx)
{
    dependents_t *d = ctx;
    if (strcmp(kind, STORE_MODEL_REF_TARGET) == 0) return 0; /* a target is not a dependency */
    if (d->list && strstr(d->list, model_id)) return 0;      /* one name per model */
    d->count++;
    d->list = arena_sprintf(d->arena, "%s%s%s (%s)", d->list ? d->list : "", d->list ? ", " : "",
                            model_id, kind);
    return 0;
}

#define MODELS_TWINS_NAMED 10

int models_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const twins_deps_t *deps = twins_deps(req);
    const char *id = http_request_param(req, "id");
    const char *key = models_instance_key(req);
    store_txn_t *t = NULL;
    int rc = store_begin(deps->store, STORE_WRITE, &t, err);
    if (rc < 0) return rc;
    int ex = store_model_exists(t, key, id, err);
    if (ex <= 0) {
        store_rollback(t);
        return ex < 0 ? ex : models_not_found(err, id);
    }
    dependents_t d = {&req->arena, NULL, 0};
    rc = store_model_dependents(t, key, id, dependent, &d, err);
    if (rc == 0 && d.count)
        rc = castor_err_http(err, CASTOR_ECONFLICT, 409, "ModelReferencesNotDeleted",
                             "This model is currently being referenced by %d other model(s): %s. "
                             "Delete those models first.",
                             d.count, d.list);
    const char *twins[MODELS_TWINS_NAMED];
    int ntwins = 0;
    if (rc == 0)
        rc = models_hook_twins_using(t, key, id, &req->arena, twins, MODELS_TWINS_NAMED, &ntwins,
                                     err);
    if (rc == 0 && ntwins > 0) {
        char *names = NULL;
        for (int i = 0; i < ntwins && i < MODELS_TWINS_NAMED; i++)
            names = arena_sprintf(&req->arena, "%s%s%s", names ? names : "", names ? ", " : "",
                                  twins[i]);
        rc = castor_err_http(err, CASTOR_ECONFLICT, 409, "ModelReferencesNotDeleted",
                             "This model is currently being used by %d twin(s)%s%s%s. Delete "
                             "those twins or move them to another model first.",
                             ntwins, names ? ": " : "", names ? names : "",
                             ntwins > MODELS_TWINS_NAMED ? ", ..." : "");
    }
    if (rc == 0) rc = store_model_delete(t, key, id, err);
    if (rc == 0) rc = store_change_bump(t, STORE_CHANGE_MODELS, err);
    if (rc < 0) {
        store_rollback(t);
        return rc;
    }
    rc = store_commit(t, err);
    if (rc < 0) return rc;
    models_cache_invalidate(deps->models, deps->store, key);
    resp->status = 204;
    return CASTOR_OK;
}
