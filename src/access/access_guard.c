/* access_guard.c — the guards route tables name (access.h): the data plane's (instance,
 * token, API permission, data action, each refusal explained and audited), the resource
 * manager's (token, subscription, control-plane action) and Graph's (token), and the
 * control-plane checks handlers make with the same caller and snapshot. */
#include "access/access_explain.h"

#include "core/ids.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "store/store_audit.h"

#include <stdlib.h>
#include <string.h>

/* A refusal is an audit record: a log line always, and a row in the audit log (what
 * `castor dt doctor --request-id` and the resource manager's castorDenials listing read) for
 * every refusal of a caller who presented a token. Requests with no token at all are only
 * logged: anyone can send those, and they must not cost a disk write each. */
static void audit_denial(http_request_t *req, int status, const char *cause,
                         const access_principal_t *who, const char *scope, const json_t *detail)
{
    log_json(LOG_WARN, "data-plane request refused",
             json_pack("{s:s, s:i, s:s, s:s?, s:s?, s:s?, s:s?, s:s?}", "requestId",
                       req->request_id, "status", status, "cause", cause, "dataAction", req->action,
                       "instance", req->instance, "scope", scope, "principal",
                       who && who->oid[0] ? who->oid : NULL, "appId",
                       who && who->appid[0] ? who->appid : NULL));
    if (!who || who->reason == ACCESS_REASON_MISSING) return;
    const access_t *ax = req->access;
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
        .action = req->action,
        .scope = scope ? scope : "",
        .detail = text,
    };
    castor_err err;
    store_txn_t *t;
    if (store_begin(ax->store, STORE_WRITE, &t, &err) == 0) {
        if (store_audit_add(t, &e, &err) == 0)
            store_commit(t, &err);
        else
            store_rollback(t);
    }
    free(text);
}

static int refuse_401(http_request_t *req, const access_principal_t *who, castor_err *err)
{
    http_request_error_header(req, "WWW-Authenticate", access_challenge(req, who));
    req->error_inner = json_pack("{s:s, s:s, s:i}", "code", "unauthenticated", "tokenProblem",
                                 access_reason_name(who->reason), "seedCause", 0);
    audit_denial(req, 401, access_reason_name(who->reason), who, req->instance_scope,
                 req->error_inner);
    return err->rc;
}

static int refuse_403(http_request_t *req, const access_denial_t *d, access_cause_t cause,
                      castor_err *err)
{
    const access_t *ax = req->access;
    const char *message = NULL;
    json_t *inner = NULL;
    int rc = access_explain_denial(d, cause, &req->arena, &message, &inner, err);
    if (rc < 0) return rc;
    req->error_inner = inner;
    if (ax->compat_empty_403) req->error_body_empty = 1;
    int64_t due;
    if (cause != ACCESS_MISSING_SCOPE && access_rbac_pending(ax->rbac, &due)) {
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
    audit_denial(req, 403, access_cause_name(cause), d->who, d->instance_scope, inner);
    return castor_err_http(err, CASTOR_EPERM, 403, "Forbidden", "%s", message);
}

/* Authenticates req's token for audience and leaves the caller in req->caller. */
static int authenticate(http_request_t *req, access_audience_t audience, access_principal_t **who,
                        castor_err *err)
{
    *who = arena_calloc(&req->arena, 1, sizeof **who);
    if (!*who) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    int rc = access_bearer(req, audience, *who, err);
    if (rc == 0) req->caller = *who;
    return rc;
}

int access_guard_data(http_request_t *req, const http_route_t *route, castor_err *err)
{
    const access_t *ax = req->access;
    access_sync(ax->store);
    access_instance_t inst;
    int rc = access_instance_lookup(ax->store, req->instance, &inst, err);
    if (rc < 0) return rc;
    req->instance_id = arena_strdup(&req->arena, inst.id);
    req->instance_scope = arena_strdup(&req->arena, inst.resource_id);

    access_principal_t *who;
    if (authenticate(req, ACCESS_AUDIENCE_DATA, &who, err) < 0) return refuse_401(req, who, err);

    access_denial_t d = {
        .instance = inst.name,
        .instance_scope = inst.resource_id,
        .data_action = route->action,
        .who = who,
    };
    /* Seed cause #2: a user's token must carry the ADT API permission the client app was
     * granted; app-only tokens have no scp and are judged by RBAC alone. */
    if (who->kind == ACCESS_KIND_USER && !access_has_scope(who, ACCESS_ADT_SCOPE))
        return refuse_403(req, &d, ACCESS_MISSING_SCOPE, err);

    rbac_principal_t principal = {
        .object_id = who->oid,
        .group_ids = {.v = who->groups, .n = who->ngroups},
    };
    rbac_request_t q = {
        .principal = &principal,
        .action = route->action,
        .data_action = 1,
        .scope = inst.resource_id,
    };
    access_rbac_ref_t *ref;
    const rbac_index_t *ix = access_rbac_acquire(ax->rbac, &ref);
    rbac_decision_t decision;
    rc = rbac_check(ix, &q, &decision, err);
    if (rc == RBAC_ALLOW) {
        access_rbac_release(ref);
        return CASTOR_OK;
    }
    if (rc < 0) {
        access_rbac_release(ref);
        return rc;
    }
    rbac_explanation_t *e = NULL;
    rc = rbac_explain(ix, &q, &decision, &req->arena, &e, err); /* derived, not decided again */
    access_rbac_release(ref);
    if (rc < 0) return rc;
    d.rbac = e;
    return refuse_403(req, &d, access_classify(&d), err);
}

int access_guard_arm(http_request_t *req, const http_route_t *route, castor_err *err)
{
    access_sync(req->access->store);
    access_principal_t *who;
    int rc = authenticate(req, ACCESS_AUDIENCE_ARM, &who, err);
    if (rc < 0) return rc;
    return access_authorize_arm(req, route, err);
}

int access_guard_graph(http_request_t *req, const http_route_t *route, castor_err *err)
{
    (void)route; /* Graph decides per object (owner or directory administrator): handlers do */
    access_sync(req->access->store);
    access_principal_t *who;
    return authenticate(req, ACCESS_AUDIENCE_GRAPH, &who, err);
}

/* ARM's 404 for a subscription that is not there, before any 403 about it. */
static int subscription_check(const access_t *ax, const char *sub, castor_err *err)
{
    if (!ids_is_guid(sub))
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidSubscriptionId",
                               "The provided subscription identifier '%s' is malformed or "
                               "invalid.",
                               sub);
    store_txn_t *t;
    int rc = store_begin(ax->store, STORE_READ, &t, err);
    if (rc < 0) return rc;
    store_subscription_t s;
    castor_err e;
    castor_err_clear(&e);
    rc = store_subscription_get(t, sub, &s, &e);
    store_rollback(t);
    if (rc == CASTOR_ENOTFOUND)
        return castor_err_http(err, rc, 404, "SubscriptionNotFound",
                               "The subscription '%s' could not be found.", sub);
    if (rc < 0) *err = e;
    return rc;
}

int access_authorize_arm(http_request_t *req, const http_route_t *route, castor_err *err)
{
    const char *action = route ? route->action : NULL;
    if (!action)
        return castor_err_set(err, CASTOR_EINTERNAL, "route %s declares no control-plane action",
                              route && route->name ? route->name : "?");
    const char *sub = http_request_param(req, "subscriptionId");
    if (sub) {
        int rc = subscription_check(req->access, sub, err);
        if (rc < 0) return rc;
    }
    if (!action[0]) return CASTOR_OK;
    return access_require(req, action, access_request_scope(req), err);
}

int access_can(http_request_t *req, const char *action, const char *scope)
{
    const access_principal_t *c = req->caller;
    const access_t *ax = req->access;
    if (!c || !ax || !ax->rbac) return 0;
    rbac_principal_t p = {.object_id = c->oid, .group_ids = {c->groups, c->ngroups}};
    rbac_request_t q = {.principal = &p, .action = action, .data_action = 0, .scope = scope};
    access_rbac_ref_t *ref;
    const rbac_index_t *ix = access_rbac_acquire(ax->rbac, &ref);
    int rc = rbac_check(ix, &q, NULL, NULL);
    access_rbac_release(ref);
    return rc == RBAC_ALLOW;
}

int access_require(http_request_t *req, const char *action, const char *scope, castor_err *err)
{
    if (access_can(req, action, scope)) return CASTOR_OK;
    const access_principal_t *c = req->caller;
    /* ARM's exact form (security.md §4.7). */
    return castor_err_http(err, CASTOR_EPERM, 403, "AuthorizationFailed",
                           "The client '%s' with object id '%s' does not have authorization to "
                           "perform action '%s' over scope '%s' or the scope is invalid. If "
                           "access was recently granted, please refresh your credentials.",
                           access_caller_name(c), c ? c->oid : "", action, scope);
}

const char *access_request_scope(http_request_t *req)
{
    const char *sub = http_request_param(req, "subscriptionId");
    const char *rg = http_request_param(req, "resourceGroupName");
    const char *ns = http_request_param(req, "providerNamespace");
    const char *type = http_request_param(req, "resourceType");
    const char *name = http_request_param(req, "resourceName");
    if (!sub) return "/";
    if (!rg) return arena_sprintf(&req->arena, "/subscriptions/%s", sub);
    if (!name) return arena_sprintf(&req->arena, "/subscriptions/%s/resourceGroups/%s", sub, rg);
    return arena_sprintf(&req->arena, "/subscriptions/%s/resourceGroups/%s/providers/%s/%s/%s", sub,
                         rg, ns ? ns : "Microsoft.DigitalTwins",
                         type ? type : "digitalTwinsInstances", name);
}
