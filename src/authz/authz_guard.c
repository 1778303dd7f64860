/* authz_guard.c — the data plane's guard: instance, token, API permission, role (authz.h). */
#include "authz/authz.h"

#include "arm/arm.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "serve/app.h"
#include "store/store_audit.h"

#include <stdlib.h>

#include <string.h>

/* A refusal is an audit record: a log line always, and a row in the audit log (what
 * `castor dt doctor --request-id` and the resource manager's castorDenials listing read) for
 * every refusal of a caller who presented a token. Requests with no token at all are only
 * logged: anyone can send those, and they must not cost a disk write each. */
static void audit_denial(http_request_t *req, int status, const char *cause,
                         const auth_principal_t *who, const char *scope, const json_t *detail)
{
    log_json(LOG_WARN, "data-plane request refused",
             json_pack("{s:s, s:i, s:s, s:s?, s:s?, s:s?, s:s?, s:s?}", "requestId",
                       req->request_id, "status", status, "cause", cause, "dataAction",
                       req->data_action, "instance", req->instance, "scope", scope, "principal",
                       who && who->oid[0] ? who->oid : NULL, "appId",
                       who && who->appid[0] ? who->appid : NULL));
    if (!who || who->reason == AUTH_REASON_MISSING) return;
    castor_app_t *app = req->app;
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    store_audit_event_t e = {
        .time = time_now_s(),
        .request_id = req->request_id,
        .kind = "denied",
        .status = status,
        .cause = cause,
        .principal_id = who->oid,
        .principal_name = who->upn[0] ? who->upn : who->name,
        .app_id = who->appid,
        .action = req->data_action,
        .scope = scope ? scope : "",
        .detail = text,
    };
    castor_err err;
    store_txn_t *t;
    if (store_begin(app->store, STORE_WRITE, &t, &err) == 0) {
        if (store_audit_add(t, &e, &err) == 0)
            store_commit(t, &err);
        else
            store_rollback(t);
    }
    free(text);
}

static int refuse_401(http_request_t *req, const auth_principal_t *who, castor_err *err)
{
    http_request_error_header(req, "WWW-Authenticate", auth_challenge(req, who));
    req->error_inner = json_pack("{s:s, s:s, s:i}", "code", "unauthenticated", "tokenProblem",
                                 auth_reason_name(who->reason), "seedCause", 0);
    audit_denial(req, 401, auth_reason_name(who->reason), who, req->instance_scope,
                 req->error_inner);
    return err->rc;
}

static int refuse_403(http_request_t *req, const authz_denial_t *d, authz_cause_t cause,
                      castor_err *err)
{
    castor_app_t *app = req->app;
    const char *message = NULL;
    json_t *inner = NULL;
    int rc = authz_explain_denial(d, cause, &req->arena, &message, &inner, err);
    if (rc < 0) return rc;
    req->error_inner = inner;
    if (app->cfg.compat_empty_403) req->error_body_empty = 1;
    int64_t due;
    if (cause != AUTHZ_MISSING_SCOPE && arm_rbac_pending(app->rbac, &due)) {
        /* The fix may already be made and still propagating: say so, and when it lands. */
        char when[40];
        time_format_rfc3339(due, 0, when, sizeof when);
        long left = (long)(due - time_now_s());
        message = arena_sprintf(&req->arena,
                                "%s A role change is still propagating (castor serve "
                                "--rbac-propagation-delay): it takes effect at %s, in %lds; "
                                "retry then.",
                                message, when, left > 0 ? left : 0);
        json_object_set_new(inner, "roleChangePendingUntil", json_string(when));
    }
    audit_denial(req, 403, authz_cause_name(cause), d->who, d->instance_scope, inner);
    return castor_err_http(err, CASTOR_EPERM, 403, "Forbidden", "%s", message);
}

int authz_data_guard(http_request_t *req, const http_route_t *route, castor_err *err)
{
    castor_app_t *app = req->app;
    arm_instance_t inst;
    int rc = arm_instance_lookup(app->store, req->instance, &inst, err);
    if (rc < 0) return rc;
    req->instance_id = arena_strdup(&req->arena, inst.id);
    req->instance_scope = arena_strdup(&req->arena, inst.resource_id);

    auth_principal_t *who = arena_calloc(&req->arena, 1, sizeof *who);
    if (!who) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    if (auth_bearer(req, AUTH_AUDIENCE_DATA, who, err) < 0) return refuse_401(req, who, err);
    req->caller_oid = arena_strdup(&req->arena, who->oid);

    authz_denial_t d = {
        .instance = inst.name,
        .instance_scope = inst.resource_id,
        .data_action = route->data_action,
        .who = who,
    };
    /* Seed cause #2: a user's token must carry the ADT API permission the client app was
     * granted; app-only tokens have no scp and are judged by RBAC alone. */
    if (who->kind == AUTH_KIND_USER && !auth_has_scope(who, AUTHZ_ADT_SCOPE))
        return refuse_403(req, &d, AUTHZ_MISSING_SCOPE, err);

    rbac_principal_t principal = {
        .object_id = who->oid,
        .group_ids = {.v = who->groups, .n = who->ngroups},
    };
    rbac_request_t q = {
        .principal = &principal,
        .action = route->data_action,
        .data_action = 1,
        .scope = inst.resource_id,
    };
    arm_rbac_ref_t *ref;
    const rbac_index_t *ix = arm_rbac_acquire(app->rbac, &ref);
    rbac_decision_t decision;
    rc = rbac_check(ix, &q, &decision, err);
    if (rc == RBAC_ALLOW) {
        arm_rbac_release(ref);
        return CASTOR_OK;
    }
    if (rc < 0) {
        arm_rbac_release(ref);
        return rc;
    }
    rbac_explanation_t *e = NULL;
    rc = rbac_explain(ix, &q, &req->arena, &e, err);
    arm_rbac_release(ref);
    if (rc < 0) return rc;
    d.rbac = e;
    return refuse_403(req, &d, authz_classify(&d), err);
}
