/* access_explain.c — turning a data-plane denial into its cause, a message a user can act on,
 * and a structured innererror (see access_explain.h). Pure: no I/O. */
#include "access/access_explain.h"

#include <string.h>

const char *access_cause_name(access_cause_t cause)
{
    switch (cause) {
    case ACCESS_ALLOWED:
        return "allowed";
    case ACCESS_NO_INSTANCE:
        return "no-instance";
    case ACCESS_UNAUTHENTICATED:
        return "unauthenticated";
    case ACCESS_MISSING_SCOPE:
        return "missing-api-permission";
    case ACCESS_NO_ASSIGNMENT:
        return "no-role-assignment";
    case ACCESS_CONTROL_PLANE_ONLY:
        return "control-plane-role-only";
    case ACCESS_ROLE_LACKS_ACTION:
        return "role-lacks-data-action";
    case ACCESS_SCOPE_ELSEWHERE:
        return "assignment-on-another-scope";
    case ACCESS_CARVED_OUT:
        return "removed-by-not-data-actions";
    }
    return "unknown";
}

int access_seed_cause(access_cause_t cause)
{
    if (cause == ACCESS_MISSING_SCOPE) return 2;
    if (cause >= ACCESS_NO_ASSIGNMENT) return 1;
    return 0;
}

/* Which of the caller's assignments says most about the denial, strongest first. */
access_cause_t access_classify(const access_denial_t *d)
{
    if (!d->rbac) return ACCESS_MISSING_SCOPE;
    int carved = 0, elsewhere_right_role = 0, lacks = 0, control = 0;
    for (size_t i = 0; i < d->rbac->n_items; i++) {
        const rbac_considered_t *c = &d->rbac->items[i];
        switch (c->why) {
        case RBAC_WHY_NOT_ACTION_CARVEOUT:
            carved = 1;
            break;
        case RBAC_WHY_SCOPE_ELSEWHERE:
            elsewhere_right_role |= c->role_grants_action;
            break;
        case RBAC_WHY_NO_MATCHING_DATA_ACTION:
            lacks = 1;
            break;
        case RBAC_WHY_CONTROL_PLANE_ONLY:
            control = 1;
            break;
        default:
            break;
        }
    }
    if (carved) return ACCESS_CARVED_OUT;
    if (lacks) return ACCESS_ROLE_LACKS_ACTION;
    /* "You hold the right role, on another instance" says more than "Owner is not enough". */
    if (elsewhere_right_role) return ACCESS_SCOPE_ELSEWHERE;
    if (control) return ACCESS_CONTROL_PLANE_ONLY;
    return ACCESS_NO_ASSIGNMENT;
}

/* How castor and az name the caller in --assignee: UPN for users, appId for applications. */
static const char *assignee_of(const access_principal_t *who)
{
    if (who->kind == ACCESS_KIND_USER && who->upn[0]) return who->upn;
    return who->kind == ACCESS_KIND_APP && who->appid[0] ? who->appid : who->oid;
}

static const char *who_text(const access_principal_t *who, arena_t *a)
{
    if (who->kind == ACCESS_KIND_USER)
        return arena_sprintf(a, "User %s (object id %s, signed in through client app %s)",
                             who->upn[0] ? who->upn : who->name, who->oid, who->appid);
    return arena_sprintf(a, "Application %s (service principal object id %s)",
                         who->name[0] ? who->name : who->appid, who->oid);
}

static const char *reason_text(const rbac_considered_t *c, arena_t *a)
{
    const char *role = c->role_name ? c->role_name : c->role_definition_id;
    const char *via = c->via_group ? arena_sprintf(a, " (through group %s)", c->via_group) : "";
    switch (c->why) {
    case RBAC_WHY_CONTROL_PLANE_ONLY:
        return arena_sprintf(a,
                             "'%s' at %s%s is a control-plane role: it manages the instance but "
                             "grants no data actions",
                             role, c->scope, via);
    case RBAC_WHY_SCOPE_ELSEWHERE:
        return arena_sprintf(a, "'%s' at %s%s does not cover this instance%s", role, c->scope, via,
                             c->role_grants_action ? " (the right role, on another scope)" : "");
    case RBAC_WHY_NO_MATCHING_DATA_ACTION:
        return arena_sprintf(a, "'%s' at %s%s does not include this data action", role, c->scope,
                             via);
    case RBAC_WHY_NOT_ACTION_CARVEOUT:
        return arena_sprintf(a,
                             "'%s' at %s%s grants it but removes it again with NotDataActions "
                             "'%s'",
                             role, c->scope, via, c->pattern ? c->pattern : "");
    default:
        return arena_sprintf(a, "'%s' at %s%s: %s", role, c->scope, via, rbac_why_text(c->why));
    }
}

static json_t *principal_json(const access_principal_t *who)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind",
                     who->kind == ACCESS_KIND_USER ? "user" : "application", "objectId", who->oid,
                     "appId", who->appid, "upn", who->upn, "name", who->name, "scopes", who->scp);
}

static int explain_scope(const access_denial_t *d, arena_t *a, const char **msg, json_t *inner)
{
    const access_principal_t *who = d->who;
    const char *fix = arena_sprintf(a,
                                    "castor ad app permission add --id %s --api " ACCESS_ADT_APP_ID
                                    " --api-permissions " ACCESS_ADT_SCOPE_ID
                                    "=Scope && castor ad app permission "
                                    "admin-consent --id %s",
                                    who->appid, who->appid);
    const char *az = arena_sprintf(a,
                                   "az ad app permission add --id %s --api " ACCESS_ADT_APP_ID
                                   " --api-permissions " ACCESS_ADT_SCOPE_ID
                                   "=Scope && az ad app permission admin-consent "
                                   "--id %s",
                                   who->appid, who->appid);
    *msg = arena_sprintf(
        a,
        "Forbidden (castor: seed cause #2, the app registration lacks the Azure Digital Twins API "
        "permission). The token of %s carries the delegated scopes '%s' but not '" ACCESS_ADT_SCOPE
        "' of Azure Digital Twins (" ACCESS_ADT_APP_ID
        "), so it may not call the data plane of '%s', whatever roles the user holds. Fix: add "
        "the permission to app %s and grant consent — %s (az: %s) — then sign in again for a "
        "fresh token.",
        who_text(who, a), who->scp, d->instance, who->appid, fix, az);
    json_object_set_new(inner, "fix", json_pack("{s:s, s:s}", "castor", fix, "az", az));
    return *msg ? CASTOR_OK : CASTOR_ENOMEM;
}

static int explain_rbac(const access_denial_t *d, access_cause_t cause, arena_t *a,
                        const char **msg, json_t *inner)
{
    const access_principal_t *who = d->who;
    const rbac_explanation_t *e = d->rbac;
    const rbac_role_def_t *role = rbac_builtin_suggest_for(d->data_action, 1);
    const char *role_name = role ? role->role_name : "Azure Digital Twins Data Owner";
    const char *fix = arena_sprintf(a,
                                    "castor dt role-assignment create --dt-name %s --assignee %s "
                                    "--role \"%s\"",
                                    d->instance, assignee_of(who), role_name);
    const char *az = arena_sprintf(a,
                                   "az dt role-assignment create --dt-name %s --assignee %s "
                                   "--role \"%s\"",
                                   d->instance, assignee_of(who), role_name);
    const char *considered = "";
    json_t *items = json_array();
    for (size_t i = 0; i < e->n_items; i++) {
        const rbac_considered_t *c = &e->items[i];
        const char *r = reason_text(c, a);
        considered = arena_sprintf(a, "%s%s%s", considered, i ? "; " : "", r ? r : "");
        json_array_append_new(items, json_pack("{s:s, s:s?, s:s, s:s, s:s?, s:s, s:s?}", "name",
                                               c->assignment_name, "role", c->role_name,
                                               "roleDefinitionId", c->role_definition_id, "scope",
                                               c->scope, "viaGroup", c->via_group, "reason",
                                               rbac_why_name(c->why), "detail", r));
    }
    json_object_set_new(inner, "assignments", items);
    const char *headline;
    switch (cause) {
    case ACCESS_CONTROL_PLANE_ONLY:
        headline = "has only control-plane roles here: a subscription or resource Owner can "
                   "manage the instance and assign roles, but reading or changing its data needs "
                   "an Azure Digital Twins data role";
        break;
    case ACCESS_ROLE_LACKS_ACTION:
        headline = "holds a data role on this instance that does not include this action (Data "
                   "Reader cannot write)";
        break;
    case ACCESS_SCOPE_ELSEWHERE:
        headline = "holds a role that would allow this, but on another scope, not on this "
                   "instance, its resource group or its subscription";
        break;
    case ACCESS_CARVED_OUT:
        headline = "holds a role whose NotDataActions remove this action";
        break;
    default:
        headline = "has no role assignment that covers this instance";
        break;
    }
    *msg = arena_sprintf(
        a,
        "Forbidden (castor: seed cause #1, no data-plane role). %s %s, so it may not perform %s "
        "on the Azure Digital Twins instance '%s' (scope %s). Assignments considered: %s. Fix: "
        "someone allowed to assign roles on the instance (for example a subscription Owner) "
        "runs: %s (az: %s). The change applies to the next request.",
        who_text(who, a), headline, d->data_action, d->instance, d->instance_scope,
        e->n_items ? considered : "none", fix, az);
    json_object_set_new(inner, "suggestedRole", json_string(role_name));
    json_object_set_new(inner, "fix", json_pack("{s:s, s:s}", "castor", fix, "az", az));
    return *msg ? CASTOR_OK : CASTOR_ENOMEM;
}

int access_explain_denial(const access_denial_t *d, access_cause_t cause, arena_t *arena,
                          const char **message_out, json_t **inner_out, castor_err *err)
{
    *message_out = NULL;
    *inner_out = NULL;
    json_t *inner =
        json_pack("{s:s, s:s, s:i, s:o, s:s, s:s, s:s}", "code", access_cause_name(cause),
                  "castorCause", access_cause_name(cause), "seedCause", access_seed_cause(cause),
                  "principal", principal_json(d->who), "dataAction", d->data_action, "instance",
                  d->instance, "scope", d->instance_scope);
    if (!inner) return castor_err_set(err, CASTOR_ENOMEM, "out of memory explaining a denial");
    int rc = cause == ACCESS_MISSING_SCOPE ? explain_scope(d, arena, message_out, inner)
                                           : explain_rbac(d, cause, arena, message_out, inner);
    if (rc < 0) {
        json_decref(inner);
        return castor_err_set(err, rc, "out of memory explaining a denial");
    }
    *inner_out = inner;
    return CASTOR_OK;
}
