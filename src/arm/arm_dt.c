/* arm_dt.c — Microsoft.DigitalTwins/digitalTwinsInstances: create (long-running), get, list,
 * tags, delete (with the instance's data), name checks, operations, and the data plane's
 * lookup by name.
 *
 * Creation commits at once (an acknowledged write is on disk), so the operation a client polls
 * through Azure-AsyncOperation is already Succeeded; the polling protocol is still the one the
 * SDKs and az expect, and the operation record is durable, so any castor node can answer it. */
#include "arm/arm_internal.h"

#include "core/ids.h"
#include "core/timeutil.h"
#include "store/store_directory.h"

#include <ctype.h>
#include <stdlib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#define DT_TYPE "Microsoft.DigitalTwins/digitalTwinsInstances"

int arm_dt_name_check(const char *name, castor_err *err)
{
    size_t n = name ? strlen(name) : 0;
    int ok = n >= 3 && n <= 63 && name[0] != '-' && name[n - 1] != '-';
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)name[i]) || name[i] == '-';
    if (ok) return CASTOR_OK;
    return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidResourceName",
                           "The resource name '%s' is invalid: an Azure Digital Twins instance "
                           "name is 3 to 63 letters, digits or hyphens and does not start or "
                           "end with a hyphen (^(?!-)[A-Za-z0-9-]{3,63}(?<!-)$).",
                           name ? name : "");
}

static json_t *instance_json(http_request_t *req, const store_dt_instance_t *d)
{
    arena_t *a = &req->arena;
    const char *created = arm_time(a, d->created), *updated = arm_time(a, d->updated);
    /* Instances that a PATCH or an update PUT saved before pna_set hold "": the spec allows
     * only Enabled or Disabled, and "" only ever came from that bug, never from a request
     * to disable access. */
    const char *pna = d->public_network_access[0] ? d->public_network_access : "Enabled";
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:s, s:s, s:s, s:s, s:s, s:s},"
                     " s:{s:s, s:s, s:s, s:s, s:s, s:[]}}",
                     "id", arm_instance_id(a, d->subscription_id, d->resource_group, d->name),
                     "name", d->name, "type", DT_TYPE, "location", d->location, "tags",
                     arm_tags_load(d->tags), "systemData", "createdBy", d->created_by,
                     "createdByType", "User", "createdAt", created, "lastModifiedBy", d->created_by,
                     "lastModifiedByType", "User", "lastModifiedAt", updated, "properties",
                     "createdTime", created, "lastUpdatedTime", updated, "provisioningState",
                     d->provisioning_state, "hostName", arm_host_name(req, d->name),
                     "publicNetworkAccess", pna, "privateEndpointConnections");
}

int arm_dt_load(http_request_t *req, store_txn_t *t, store_dt_instance_t *d, castor_err *err)
{
    const char *sub = http_request_param(req, "subscriptionId");
    const char *group = http_request_param(req, "resourceGroupName");
    const char *name = http_request_param(req, "resourceName");
    int rc = arm_group_check(t, sub, group, err);
    if (rc < 0) return rc;
    castor_err e;
    castor_err_clear(&e);
    rc = store_dt_instance_get(t, name, d, &e);
    if (rc == 0 &&
        (strcasecmp(d->subscription_id, sub) != 0 || strcasecmp(d->resource_group, group) != 0))
        rc = CASTOR_ENOTFOUND;
    if (rc == CASTOR_ENOTFOUND)
        return castor_err_http(err, rc, 404, "ResourceNotFound",
                               "The Resource '" DT_TYPE "/%s' under resource group '%s' was not "
                               "found. For more details please go to "
                               "https://aka.ms/ARMResourceNotFoundFix",
                               name, group);
    if (rc < 0) *err = e;
    return rc;
}

static const char *pna_value(const json_t *body, const char *dflt, castor_err *err, int *bad)
{
    const json_t *props = json_object_get(body, "properties");
    const json_t *v = json_object_get(props, "publicNetworkAccess");
    if (!v || json_is_null(v)) return dflt;
    const char *s = json_string_value(v);
    if (s && strcasecmp(s, "Enabled") == 0) return "Enabled";
    if (s && strcasecmp(s, "Disabled") == 0) return "Disabled";
    *bad = castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRequestContent",
                           "properties.publicNetworkAccess must be 'Enabled' or 'Disabled'.");
    return NULL;
}

/* pna_value answers the instance's own buffer when the body leaves the setting alone; copying
 * a buffer onto itself with snprintf is undefined (glibc wrote "" and stored it). */
static void pna_set(store_dt_instance_t *d, const char *pna)
{
    if (pna != d->public_network_access)
        snprintf(d->public_network_access, sizeof d->public_network_access, "%s", pna);
}

int arm_h_dt_put(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *sub = http_request_param(req, "subscriptionId");
    const char *group = http_request_param(req, "resourceGroupName");
    const char *name = http_request_param(req, "resourceName");
    int rc = arm_dt_name_check(name, err);
    if (rc < 0) return rc;
    const json_t *loc;
    const char *tags;
    rc = arm_body_location_tags(req, &loc, &tags, err);
    if (rc < 0) return rc;
    store_dt_instance_t *d = calloc(1, sizeof *d);
    if (!d) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    int bad = 0, created = 0;
    char op_id[CASTOR_GUID_LEN + 1] = "";
    store_txn_t *t;
    rc = arm_begin(req, STORE_WRITE, &t, err);
    if (rc < 0) goto out;
    rc = arm_group_check(t, sub, group, err);
    castor_err e;
    castor_err_clear(&e);
    int have = rc == 0 ? store_dt_instance_get(t, name, d, &e) : rc;
    if (rc == 0 && have == 0) {
        if (strcasecmp(d->subscription_id, sub) != 0 || strcasecmp(d->resource_group, group) != 0)
            rc = castor_err_http(err, CASTOR_ECONFLICT, 409, "NameUnavailable",
                                 "The name '%s' is already in use: instance names are global, "
                                 "because the name is the instance's data-plane host.",
                                 name);
        else if (strcasecmp(d->location, json_string_value(loc)) != 0)
            rc = castor_err_http(err, CASTOR_EINVAL, 400, "InvalidResourceLocation",
                                 "The resource '%s' already exists in location '%s' in resource "
                                 "group '%s'. A resource with the same name cannot be created in "
                                 "location '%s'. Please select a new resource name.",
                                 name, d->location, group, json_string_value(loc));
        if (rc == 0) {
            const char *pna = pna_value(req->json, d->public_network_access, err, &bad);
            if (bad) rc = bad;
            if (rc == 0) {
                snprintf(d->tags, sizeof d->tags, "%s", tags);
                pna_set(d, pna);
                d->updated = time_now_s();
                rc = store_dt_instance_update(t, d, err);
            }
        }
    } else if (rc == 0 && have == CASTOR_ENOTFOUND) {
        const char *pna = pna_value(req->json, "Enabled", err, &bad);
        if (bad) rc = bad;
        const access_principal_t *c = req->caller;
        memset(d, 0, sizeof *d);
        ids_guid(d->id);
        snprintf(d->name, sizeof d->name, "%s", name);
        snprintf(d->subscription_id, sizeof d->subscription_id, "%s", sub);
        /* Keep the group's own spelling, so ids match what the group list shows. */
        store_resource_group_t *rg = malloc(sizeof *rg);
        if (rg && store_resource_group_get(t, sub, group, rg, &e) == 0)
            snprintf(d->resource_group, sizeof d->resource_group, "%s", rg->name);
        else
            snprintf(d->resource_group, sizeof d->resource_group, "%s", group);
        free(rg);
        snprintf(d->location, sizeof d->location, "%s", json_string_value(loc));
        snprintf(d->tags, sizeof d->tags, "%s", tags);
        snprintf(d->public_network_access, sizeof d->public_network_access, "%s",
                 pna ? pna : "Enabled");
        snprintf(d->provisioning_state, sizeof d->provisioning_state, "Succeeded");
        snprintf(d->created_by, sizeof d->created_by, "%s", access_caller_name(c));
        d->created = d->updated = time_now_s();
        if (rc == 0) rc = store_dt_instance_create(t, d, err);
        if (rc == 0) {
            ids_guid(op_id);
            rc = arm_operation_record(t, op_id, sub,
                                      arm_instance_id(&req->arena, sub, d->resource_group, name),
                                      d->created, err);
        }
        created = 1;
    } else if (rc == 0) {
        *err = e;
        rc = have;
    }
    if (rc < 0) {
        store_rollback(t);
        goto out;
    }
    rc = store_commit(t, err);
    if (rc < 0) goto out;
    if (created)
        http_response_header(req, resp, "Azure-AsyncOperation",
                             arm_operation_url(req, sub, d->location, "operationsStatuses", op_id));
    rc = arm_send(req, resp, created ? 201 : 200, instance_json(req, d), err);
out:
    free(d);
    return rc;
}

int arm_h_dt_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    store_dt_instance_t *d = malloc(sizeof *d);
    if (!d) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    store_txn_t *t;
    int rc = arm_begin(req, STORE_READ, &t, err);
    if (rc == 0) {
        rc = arm_dt_load(req, t, d, err);
        store_rollback(t);
    }
    json_t *body = rc == 0 ? instance_json(req, d) : NULL;
    free(d);
    return rc < 0 ? rc : arm_send(req, resp, 200, body, err);
}

int arm_h_dt_patch(http_request_t *req, http_response_t *resp, castor_err *err)
{
    if (!json_is_object(req->json))
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRequestContent",
                               "The body must be an object {tags, properties}.");
    const char *tags = NULL;
    const json_t *jt = json_object_get(req->json, "tags");
    int rc = jt ? arm_tags_check(req, jt, &tags, err) : 0;
    if (rc < 0) return rc;
    store_dt_instance_t *d = malloc(sizeof *d);
    if (!d) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    store_txn_t *t;
    rc = arm_begin(req, STORE_WRITE, &t, err);
    if (rc == 0) {
        rc = arm_dt_load(req, t, d, err);
        int bad = 0;
        const char *pna = rc == 0 ? pna_value(req->json, d->public_network_access, err, &bad) : 0;
        if (bad) rc = bad;
        if (rc == 0) {
            if (tags) snprintf(d->tags, sizeof d->tags, "%s", tags);
            pna_set(d, pna);
            d->updated = time_now_s();
            rc = store_dt_instance_update(t, d, err);
        }
        rc = rc == 0 ? store_commit(t, err) : arm_fail(t, rc);
    }
    json_t *body = rc == 0 ? instance_json(req, d) : NULL;
    free(d);
    return rc < 0 ? rc : arm_send(req, resp, 200, body, err);
}

int arm_h_dt_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    store_dt_instance_t *d = malloc(sizeof *d);
    if (!d) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    const char *sub = http_request_param(req, "subscriptionId");
    char op_id[CASTOR_GUID_LEN + 1];
    ids_guid(op_id);
    store_txn_t *t;
    int rc = arm_begin(req, STORE_WRITE, &t, err);
    if (rc < 0) goto out;
    castor_err e;
    castor_err_clear(&e);
    rc = arm_dt_load(req, t, d, &e);
    if (rc == CASTOR_ENOTFOUND && strcmp(e.code, "ResourceNotFound") == 0) {
        /* ARM: deleting what is not there is 204. A missing group stays a 404. */
        store_rollback(t);
        resp->status = 204;
        rc = CASTOR_OK;
        goto out;
    }
    if (rc < 0) {
        *err = e;
        store_rollback(t);
        goto out;
    }
    /* One transaction: the instance row, its data (ON DELETE CASCADE), its assignments. */
    rc = store_dt_instance_delete(t, d->id, err);
    if (rc == 0)
        rc = arm_operation_record(t, op_id, sub,
                                  arm_instance_id(&req->arena, sub, d->resource_group, d->name),
                                  time_now_s(), err);
    rc = rc == 0 ? store_commit(t, err) : arm_fail(t, rc);
    if (rc == 0) access_instance_cache_clear();
    if (rc == 0) rc = access_rbac_reload(arm_deps(req)->rbac, err);
    if (rc < 0) goto out;
    http_response_header(req, resp, "Location",
                         arm_operation_url(req, sub, d->location, "operationResults", op_id));
    http_response_header(req, resp, "Retry-After", "1");
    /* The body ARM returns with 202 shows the instance as Deleting. */
    json_t *body = instance_json(req, d);
    if (body)
        json_object_set_new(json_object_get(body, "properties"), "provisioningState",
                            json_string("Deleting"));
    rc = arm_send(req, resp, 202, body, err);
out:
    free(d);
    return rc;
}

typedef struct dt_walk {
    http_request_t *req;
    json_t *items;
} dt_walk_t;

static int dt_one(const store_dt_instance_t *d, void *ctx)
{
    dt_walk_t *w = ctx;
    const char *id =
        arm_instance_id(&w->req->arena, d->subscription_id, d->resource_group, d->name);
    if (id && access_can(w->req, DT_TYPE "/read", id))
        json_array_append_new(w->items, instance_json(w->req, d));
    return 0;
}

int arm_h_dt_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *sub = http_request_param(req, "subscriptionId");
    const char *group = http_request_param(req, "resourceGroupName");
    dt_walk_t w = {req, json_array()};
    store_txn_t *t;
    int rc = arm_begin(req, STORE_READ, &t, err);
    if (rc == 0 && group) rc = arm_group_check(t, sub, group, err);
    if (rc == 0) rc = store_dt_instance_each(t, sub, group, dt_one, &w, err);
    if (t) store_rollback(t);
    if (rc < 0) {
        json_decref(w.items);
        return rc;
    }
    return arm_send_page(req, resp, w.items, err);
}

int arm_h_dt_check_name(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const json_t *name = json_object_get(req->json, "name");
    const json_t *type = json_object_get(req->json, "type");
    if (!json_is_string(name))
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRequestContent",
                               "The body must be {\"name\": \"...\", \"type\": \"" DT_TYPE "\"}.");
    if (type && (!json_is_string(type) || strcasecmp(json_string_value(type), DT_TYPE) != 0))
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRequestContent",
                               "type must be '" DT_TYPE "'.");
    castor_err e;
    castor_err_clear(&e);
    const char *n = json_string_value(name);
    if (arm_dt_name_check(n, &e) < 0)
        return arm_send(req, resp, 200,
                        json_pack("{s:b, s:s, s:s}", "nameAvailable", 0, "message", e.message,
                                  "reason", "Invalid"),
                        err);
    store_dt_instance_t *d = malloc(sizeof *d);
    if (!d) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    store_txn_t *t;
    int rc = arm_begin(req, STORE_READ, &t, err);
    int have = rc == 0 ? store_dt_instance_get(t, n, d, &e) : rc;
    if (t) store_rollback(t);
    free(d);
    if (rc < 0) return rc;
    if (have == 0)
        return arm_send(
            req, resp, 200,
            json_pack("{s:b, s:s, s:s}", "nameAvailable", 0, "message",
                      arena_sprintf(&req->arena, "'%s' is an already existing name.", n), "reason",
                      "AlreadyExists"),
            err);
    if (have != CASTOR_ENOTFOUND) {
        *err = e;
        return have;
    }
    return arm_send(req, resp, 200,
                    json_pack("{s:b, s:n, s:n}", "nameAvailable", 1, "message", "reason"), err);
}

int arm_h_dt_operations(http_request_t *req, http_response_t *resp, castor_err *err)
{
    static const char *const ops[][3] = {
        {DT_TYPE "/read", "Read Digital Twins resource", "digitalTwinsInstances"},
        {DT_TYPE "/write", "Create or update Digital Twins resource", "digitalTwinsInstances"},
        {DT_TYPE "/delete", "Delete Digital Twins resource", "digitalTwinsInstances"},
        {DT_TYPE "/endpoints/read", "Read Digital Twins endpoint", "endpoints"},
        {DT_TYPE "/endpoints/write", "Create or update Digital Twins endpoint", "endpoints"},
        {DT_TYPE "/endpoints/delete", "Delete Digital Twins endpoint", "endpoints"},
        {"Microsoft.DigitalTwins/locations/checkNameAvailability/action", "Check name availability",
         "locations"},
        {"Microsoft.DigitalTwins/locations/operationsStatuses/read", "Read operation status",
         "locations"},
        {"Microsoft.DigitalTwins/locations/operationResults/read", "Read operation result",
         "locations"},
        {"Microsoft.DigitalTwins/operations/read", "List operations", "operations"},
    };
    json_t *items = json_array();
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        json_array_append_new(items, json_pack("{s:s, s:{s:s, s:s, s:s, s:s}, s:s, s:b}", "name",
                                               ops[i][0], "display", "provider",
                                               "Microsoft.DigitalTwins", "resource", ops[i][2],
                                               "operation", ops[i][1], "description", ops[i][1],
                                               "origin", "user,system", "isDataAction", 0));
    return arm_send_page(req, resp, items, err);
}

static int op_load(http_request_t *req, store_arm_operation_t *op, castor_err *err)
{
    const char *sub = http_request_param(req, "subscriptionId");
    const char *id = http_request_param(req, "operationId");
    store_txn_t *t;
    int rc = arm_begin(req, STORE_READ, &t, err);
    if (rc < 0) return rc;
    rc = store_arm_operation_get(t, id, op, err);
    store_rollback(t);
    if (rc == 0 && strcasecmp(op->subscription_id, sub) != 0) rc = CASTOR_ENOTFOUND;
    if (rc == CASTOR_ENOTFOUND)
        return castor_err_http(err, rc, 404, "OperationNotFound",
                               "The operation '%s' could not be found.", id);
    return rc;
}

int arm_h_dt_op_status(http_request_t *req, http_response_t *resp, castor_err *err)
{
    store_arm_operation_t op;
    int rc = op_load(req, &op, err);
    if (rc < 0) return rc;
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", arena_sprintf(&req->arena, "%s", req->path),
                  "name", op.id, "status", op.status, "startTime",
                  arm_time(&req->arena, op.created), "endTime", arm_time(&req->arena, op.created));
    if (body && op.error_code[0])
        json_object_set_new(
            body, "error",
            json_pack("{s:s, s:s}", "code", op.error_code, "message", op.error_message));
    return arm_send(req, resp, 200, body, err);
}

int arm_h_dt_op_result(http_request_t *req, http_response_t *resp, castor_err *err)
{
    store_arm_operation_t op;
    int rc = op_load(req, &op, err);
    if (rc < 0) return rc;
    if (strcmp(op.status, "InProgress") == 0) {
        http_response_header(
            req, resp, "Location",
            arena_sprintf(&req->arena, "%s%s?%s", arm_base_url(req), req->path, req->query));
        resp->status = 202;
        return CASTOR_OK;
    }
    if (op.error_code[0])
        return castor_err_http(err, CASTOR_EINTERNAL, 500, op.error_code, "%s", op.error_message);
    resp->status = 204;
    return CASTOR_OK;
}
