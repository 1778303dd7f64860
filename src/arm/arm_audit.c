/* arm_audit.c — the audit log as the resource manager shows it: role changes are written in
 * the same transaction as the change, and `GET {scope}/providers/Microsoft.Authorization/
 * castorDenials` lists refusals and changes at or below a scope. A caller sees its own
 * entries, and everyone's where it may read role assignments
 * (Microsoft.Authorization/roleAssignments/read), so an explanation never shows a principal's
 * assignments to someone who could not list them anyway. */
#include "arm/arm_internal.h"

#include "core/timeutil.h"
#include "store/store_audit.h"

#include <string.h>
#include <strings.h>

int arm_audit_change(store_txn_t *t, http_request_t *req, const char *action,
                     const store_role_assignment_t *ra, castor_err *err)
{
    const access_principal_t *caller = req->caller;
    json_t *detail = json_pack("{s:s, s:s, s:s, s:s, s:s}", "roleAssignment", ra->id, "principalId",
                               ra->principal_id, "principalType", ra->principal_type,
                               "roleDefinitionId", ra->role_definition_id, "scope", ra->scope);
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    store_audit_event_t e = {
        .time = time_now_s(),
        .request_id = req->request_id,
        .kind = action,
        .status = 200,
        .cause = "",
        .principal_id = caller ? caller->oid : "",
        .principal_name = access_caller_name(caller),
        .app_id = caller ? caller->appid : "",
        .action = action,
        .scope = ra->scope,
        .detail = text,
    };
    int rc = store_audit_add(t, &e, err);
    free(text);
    return rc;
}

typedef struct denial_list {
    json_t *value;
    const char *caller;
    int may_read_all;
} denial_list_t;

static int denial_one(const store_audit_event_t *e, void *ctx)
{
    denial_list_t *l = ctx;
    if (!l->may_read_all && strcasecmp(e->principal_id, l->caller) != 0) return 0;
    char when[40];
    time_format_rfc3339(e->time, 0, when, sizeof when);
    json_t *detail = e->detail ? json_loads(e->detail, 0, NULL) : NULL;
    json_array_append_new(
        l->value, json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "time", when,
                            "requestId", e->request_id, "kind", e->kind, "status", e->status,
                            "cause", e->cause, "principalId", e->principal_id, "principalName",
                            e->principal_name, "appId", e->app_id, "action", e->action, "scope",
                            e->scope, "detail", detail ? detail : json_null()));
    return 0;
}

int arm_h_denials_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const access_principal_t *caller = req->caller;
    const char *scope = access_request_scope(req);
    denial_list_t l = {
        .value = json_array(),
        .caller = caller ? caller->oid : "",
        .may_read_all = access_can(req, "Microsoft.Authorization/roleAssignments/read", scope),
    };
    store_txn_t *t;
    int rc = store_begin(arm_deps(req)->store, STORE_READ, &t, err);
    if (rc == 0) {
        rc = store_audit_each(t, http_request_query(req, "requestId"),
                              strcmp(scope, "/") == 0 ? NULL : scope, 200, denial_one, &l, err);
        store_rollback(t);
    }
    if (rc == 0)
        rc = arm_send(req, resp, 200, json_pack("{s:o}", "value", l.value), err);
    else
        json_decref(l.value);
    return rc;
}
