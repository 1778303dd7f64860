/* arm_internal.h — what the resource manager's files share (not for other modules). */
#ifndef CASTOR_ARM_INTERNAL_H
#define CASTOR_ARM_INTERNAL_H

#include "arm/arm.h"
#include "http/http.h"
#include "http/odata.h"
#include "store/store_arm.h"

#include <jansson.h>

/* ---- helpers (arm_util.c) ---- */

/* The dependencies serve.c registered arm_routes with. */
static inline const arm_deps_t *arm_deps(const http_request_t *req)
{
    return req->deps;
}
/* The public base URL without a trailing slash, e.g. "https://localhost:8443". */
const char *arm_base_url(const http_request_t *req);
/* The instance's hostName: "{public host}:{port}/dt/{name}" (the base URL minus https://). */
const char *arm_host_name(http_request_t *req, const char *name);
/* The instance ARM id. */
const char *arm_instance_id(arena_t *a, const char *sub, const char *group, const char *name);
/* Records long-running operation op_id on resource_id as Succeeded (castor finishes a PUT or
 * DELETE at once), in the change's transaction, for the URL below to answer. */
int arm_operation_record(store_txn_t *t, const char *op_id, const char *sub,
                         const char *resource_id, int64_t created, castor_err *err);
/* The URL of operation op_id: kind "operationsStatuses" (a PUT's Azure-AsyncOperation) or
 * "operationResults" (a DELETE's Location), at the resource's location. Arena memory. */
const char *arm_operation_url(http_request_t *req, const char *sub, const char *location,
                              const char *kind, const char *op_id);

/* ---- audit (arm_audit.c) ---- */

/* Records a role-assignment change in the audit log, inside the change's transaction. */
int arm_audit_change(store_txn_t *t, http_request_t *req, const char *action,
                     const store_role_assignment_t *ra, castor_err *err);
int arm_h_denials_list(http_request_t *req, http_response_t *resp, castor_err *err);

/* Sends value (consumed) as JSON with status. */
int arm_send(http_request_t *req, http_response_t *resp, int status, json_t *value,
             castor_err *err);
/* Sends {"value": page, "nextLink": absolute} from all items (consumed), $skipToken-paged. */
int arm_send_page(http_request_t *req, http_response_t *resp, json_t *items, castor_err *err);

/* $filter as ARM clients send it (http/odata.h): terms joined by 'and', each
 * `name eq 'value'` or `fn()` / `fn('value')`. Names compare case-insensitively. Graph's forms
 * (startswith(x,'v'), x/any(...)) and parse failures are 400 InvalidFilterInQueryString. */
typedef http_filter_t arm_filter_t;
int arm_filter_parse(arena_t *a, const char *text, arm_filter_t *out, castor_err *err);
/* The value of a term (NULL when absent); *present says whether it is there at all. */
const char *arm_filter_get(const arm_filter_t *f, const char *name, int *present);

/* RFC 3339 of epoch seconds, arena memory. */
const char *arm_time(arena_t *a, int64_t epoch_s);
/* Tags: a JSON object of strings; parsed from text ("{}" when empty or broken). New ref. */
json_t *arm_tags_load(const char *text);
/* Validates tags from a body (object of up to 50 string values) into text (arena). */
int arm_tags_check(http_request_t *req, const json_t *tags, const char **text_out, castor_err *err);

/* A PUT body's required "location" (LocationRequired when absent) and checked "tags". */
int arm_body_location_tags(http_request_t *req, const json_t **loc, const char **tags,
                           castor_err *err);

/* A role definition in ARM's shape; id prefixed with /subscriptions/{sub} when sub != NULL. */
json_t *arm_roledef_json(arena_t *a, const rbac_role_def_t *def, const char *sub,
                         const store_role_definition_t *meta);

/* Gives err (filled by a pure module, which knows no HTTP) ARM's status and wire code,
 * keeping its message and JSON path. Returns err->rc. (castor_err_http(err, ..., "%s",
 * err->message) would clear the message before formatting it.) */
int arm_err_recode(castor_err *err, int status, const char *code);

/* Rolls t back and returns rc (for one-line failure paths). */
int arm_fail(store_txn_t *t, int rc);
/* Begins a transaction for the request's store. */
int arm_begin(http_request_t *req, store_mode_t mode, store_txn_t **t, castor_err *err);
/* Subscription/group existence with ARM's 404s (SubscriptionNotFound, ResourceGroupNotFound). */
int arm_subscription_check(store_txn_t *t, const char *sub, castor_err *err);
int arm_group_check(store_txn_t *t, const char *sub, const char *group, castor_err *err);

/* ---- handlers ---- */
int arm_h_tenants_list(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_subscriptions_list(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_subscription_get(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_group_put(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_group_get(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_group_head(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_group_delete(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_groups_list(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_resources_list(http_request_t *req, http_response_t *resp, castor_err *err);

int arm_h_dt_put(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_dt_get(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_dt_patch(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_dt_delete(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_dt_list(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_dt_check_name(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_dt_operations(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_dt_op_status(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_dt_op_result(http_request_t *req, http_response_t *resp, castor_err *err);

int arm_h_roledef_list(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_roledef_get(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_roledef_put(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_roledef_delete(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_ra_put(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_ra_get(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_ra_delete(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_ra_list(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_permissions(http_request_t *req, http_response_t *resp, castor_err *err);

/* Loads the instance the path names (subscriptionId, resourceGroupName, resourceName), checking
 * that it is in that subscription and group: ARM's 404s (ResourceGroupNotFound,
 * ResourceNotFound) otherwise (arm_dt.c). */
int arm_dt_load(http_request_t *req, store_txn_t *t, store_dt_instance_t *d, castor_err *err);

/* Microsoft.DigitalTwins/digitalTwinsInstances/endpoints (arm_endpoints.c). */
int arm_h_endpoint_put(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_endpoint_get(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_endpoint_delete(http_request_t *req, http_response_t *resp, castor_err *err);
int arm_h_endpoint_list(http_request_t *req, http_response_t *resp, castor_err *err);

/* Validates an instance name against ^(?!-)[A-Za-z0-9-]{3,63}(?<!-)$; fills err. */
int arm_dt_name_check(const char *name, castor_err *err);

#endif
