/* rbac_explain.c — the slow path: why a request was allowed or denied, and what a principal
 * may do at a scope (ARM's Microsoft.Authorization/permissions).
 *
 * Runs on denials and check-access calls only, so it may allocate; everything it returns is
 * copied into the caller's arena, never pointing into the snapshot, which may be swapped out
 * and freed while the explanation is still being written to the audit log. */
#include "rbac/rbac_internal.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name, *text;
} whys[] = {
    [RBAC_WHY_GRANTED] = {"granted", "grants the action at this scope"},
    [RBAC_WHY_SCOPE_ELSEWHERE] = {"scope-elsewhere",
                                  "is assigned at a scope that does not include the target"},
    [RBAC_WHY_NO_MATCHING_DATA_ACTION] = {"no-matching-data-action",
                                          "the role's DataActions do not include this data action"},
    [RBAC_WHY_CONTROL_PLANE_ONLY] = {"control-plane-only",
                                     "the role has only control-plane Actions, which never grant "
                                     "data actions"},
    [RBAC_WHY_NOT_ACTION_CARVEOUT] = {"not-action-carveout",
                                      "the role grants it but removes it again with "
                                      "NotActions/NotDataActions"},
    [RBAC_WHY_NO_MATCHING_ACTION] = {"no-matching-action",
                                     "the role's Actions do not include this action"},
    [RBAC_WHY_DATA_PLANE_ONLY] = {"data-plane-only",
                                  "the role has only DataActions, which never grant control-plane "
                                  "actions"},
    [RBAC_WHY_ROLE_NOT_FOUND] = {"role-not-found", "the role definition it names does not exist"},
};

const char *rbac_why_name(rbac_why_t why)
{
    return (unsigned)why < sizeof whys / sizeof whys[0] ? whys[why].name : "unknown";
}

const char *rbac_why_text(rbac_why_t why)
{
    return (unsigned)why < sizeof whys / sizeof whys[0] ? whys[why].text : "unknown reason";
}

/* The i-th id of the principal (0 = object id), or NULL when it repeats an earlier one: a
 * principal listed among its own groups must not have its assignments explained twice. */
static const char *distinct_id(const rbac_principal_t *p, size_t i)
{
    const char *id = i == 0 ? p->object_id : p->group_ids.v[i - 1];
    if (!id) return NULL;
    for (size_t k = 0; k < i; k++) {
        const char *prev = k == 0 ? p->object_id : p->group_ids.v[k - 1];
        if (prev && rbac_streq_ci(prev, id)) return NULL;
    }
    return id;
}

/* Assignments of the principal and its distinct groups, to size the answer before filling it. */
static size_t count_assignments(const rbac_index_t *ix, const rbac_principal_t *p)
{
    size_t total = 0;
    for (size_t i = 0; i <= p->group_ids.n; i++) {
        const char *id = distinct_id(p, i);
        const rbac_bucket_t *b = id ? rbac_index_bucket(ix, id) : NULL;
        total += b ? b->count : 0;
    }
    return total;
}

static int fill_item(const rbac_index_t *ix, const rbac_asg_t *h, const char *via, arena_t *a,
                     const rbac_query_t *q, rbac_considered_t *it)
{
    const rbac_assignment_t *o = &ix->orig[h->orig];
    const rbac_pat_t *pat = NULL;
    rbac_why_t verdict = h->role ? rbac_role_verdict(h->role, q->action, q->alen, q->data, &pat)
                                 : RBAC_WHY_ROLE_NOT_FOUND;
    int covers = rbac_query_covered(q, h);
    it->why = !h->role ? RBAC_WHY_ROLE_NOT_FOUND : !covers ? RBAC_WHY_SCOPE_ELSEWHERE : verdict;
    it->role_grants_action = verdict == RBAC_WHY_GRANTED;
    it->assignment_name = arena_strdup(a, o->name);
    it->scope = arena_strdup(a, o->scope);
    it->role_definition_id = arena_strdup(a, o->role_definition_id);
    it->role_name = h->role ? arena_strdup(a, h->role->def.role_name) : NULL;
    it->principal_id = arena_strdup(a, o->principal_id);
    it->via_group = via ? arena_strdup(a, via) : NULL;
    it->pattern = pat && (it->why == RBAC_WHY_GRANTED || it->why == RBAC_WHY_NOT_ACTION_CARVEOUT)
                      ? arena_strdup(a, pat->orig)
                      : NULL;
    int missing = !it->assignment_name || !it->scope || !it->role_definition_id ||
                  !it->principal_id || (h->role && !it->role_name) || (via && !it->via_group) ||
                  (it->why == RBAC_WHY_GRANTED && !it->pattern);
    return missing ? CASTOR_ELIMIT : 0;
}

int rbac_explain(const rbac_index_t *ix, const rbac_request_t *req, const rbac_decision_t *decision,
                 arena_t *a, rbac_explanation_t **out, castor_err *err)
{
    *out = NULL;
    rbac_decision_t made;
    if (!decision) {
        int drc = rbac_check(ix, req, &made, err);
        if (drc < 0) return drc;
        decision = &made;
    }
    rbac_query_t q;
    int rc = rbac_query_init(&q, ix, req, err);
    if (rc < 0) return rc;
    const rbac_principal_t *p = req->principal;
    size_t total = count_assignments(ix, p);
    rbac_explanation_t *e = arena_calloc(a, 1, sizeof *e);
    rbac_considered_t *items = arena_calloc(a, total ? total : 1, sizeof *items);
    if (!e || !items) goto full;
    e->action = arena_strdup(a, req->action);
    e->scope = arena_strdup(a, req->scope);
    e->principal_id = arena_strdup(a, p->object_id);
    e->data_action = req->data_action ? 1 : 0;
    e->items = items;
    if (!e->action || !e->scope || !e->principal_id) goto full;
    for (size_t i = 0; i <= p->group_ids.n; i++) {
        const char *id = distinct_id(p, i);
        const rbac_bucket_t *b = id ? rbac_index_bucket(ix, id) : NULL;
        for (uint32_t k = 0; b && k < b->count; k++) {
            rbac_considered_t *it = &items[e->n_items++];
            if (fill_item(ix, &ix->asg[b->first + k], i ? id : NULL, a, &q, it) < 0) goto full;
            /* The item the decision names is the one that granted (the first of its run that
             * grants, as rbac_check takes them; a group listed twice is explained once). */
            if (decision->allowed && !e->granted_by && it->why == RBAC_WHY_GRANTED &&
                rbac_streq_ci(it->assignment_name, decision->assignment_name))
                e->granted_by = it;
            if (!decision->allowed && it->why == RBAC_WHY_GRANTED)
                return castor_err_set(err, CASTOR_EINTERNAL,
                                      "RBAC: assignment '%s' grants '%s' at '%s' but the decision "
                                      "was a denial",
                                      it->assignment_name, req->action, req->scope);
        }
    }
    if (decision->allowed && !e->granted_by)
        return castor_err_set(err, CASTOR_EINTERNAL,
                              "RBAC: the decision names assignment '%s' as granting '%s' at '%s', "
                              "but its explanation does not grant",
                              decision->assignment_name ? decision->assignment_name : "?",
                              req->action, req->scope);
    e->allowed = decision->allowed;
    *out = e;
    return 0;
full:
    return castor_err_set(err, CASTOR_ELIMIT, "the explanation does not fit in the request arena");
}

char *rbac_explanation_format(const rbac_explanation_t *e, arena_t *a)
{
    char buf[CASTOR_ERR_MESSAGE_MAX * 2];
    size_t off = 0;
#define OUT(...)                                                                                   \
    do {                                                                                           \
        if (off < sizeof buf) off += (size_t)snprintf(buf + off, sizeof buf - off, __VA_ARGS__);   \
    } while (0)
    OUT("%s: principal '%s' %s '%s' (%s) at scope '%s'", e->allowed ? "allowed" : "denied",
        e->principal_id, e->allowed ? "may perform" : "may not perform", e->action,
        e->data_action ? "data action" : "control-plane action", e->scope);
    if (e->n_items == 0) OUT("; neither it nor its groups have any role assignment");
    for (size_t i = 0; i < e->n_items; i++) {
        const rbac_considered_t *it = &e->items[i];
        if (e->allowed && it != e->granted_by) continue;
        OUT("; assignment '%s' of role '%s' at '%s'%s%s%s: %s", it->assignment_name,
            it->role_name ? it->role_name : it->role_definition_id, it->scope,
            it->via_group ? " via group '" : "", it->via_group ? it->via_group : "",
            it->via_group ? "'" : "", rbac_why_text(it->why));
        if (it->pattern) OUT(" ('%s')", it->pattern);
        if (it->why == RBAC_WHY_SCOPE_ELSEWHERE && it->role_grants_action)
            OUT(" (the role would grant it at the target scope)");
    }
    const rbac_role_def_t *fix =
        e->allowed ? NULL : rbac_builtin_suggest_for(e->action, e->data_action);
    if (fix)
        OUT("; the built-in role '%s' at '%s' or above would grant it", fix->role_name, e->scope);
#undef OUT
    if (off >= sizeof buf) memcpy(buf + sizeof buf - 4, "...", 4);
    return arena_strdup(a, buf);
}

int rbac_permissions(const rbac_index_t *ix, const rbac_principal_t *p, const char *scope,
                     arena_t *a, rbac_permission_t **out, size_t *n_out, castor_err *err)
{
    *out = NULL;
    *n_out = 0;
    rbac_request_t req = {p, "", 0, scope};
    rbac_query_t q;
    int rc = rbac_query_init(&q, ix, &req, err);
    if (rc < 0) return rc;
    size_t total = count_assignments(ix, p);
    rbac_permission_t *v = arena_calloc(a, total ? total : 1, sizeof *v);
    if (!v) goto full;
    size_t n = 0;
    for (size_t i = 0; i <= p->group_ids.n; i++) {
        const char *id = distinct_id(p, i);
        const rbac_bucket_t *b = id ? rbac_index_bucket(ix, id) : NULL;
        for (uint32_t k = 0; b && k < b->count; k++) {
            const rbac_asg_t *h = &ix->asg[b->first + k];
            if (!h->role || !rbac_query_covered(&q, h)) continue;
            const rbac_role_def_t *d = &h->role->def;
            rbac_permission_t *pm = &v[n++];
            pm->assignment_name = arena_strdup(a, ix->orig[h->orig].name);
            pm->role_definition_id = arena_strdup(a, h->role->guid);
            if (!pm->assignment_name || !pm->role_definition_id ||
                rbac_strlist_copy(a, &d->actions, &pm->actions) ||
                rbac_strlist_copy(a, &d->not_actions, &pm->not_actions) ||
                rbac_strlist_copy(a, &d->data_actions, &pm->data_actions) ||
                rbac_strlist_copy(a, &d->not_data_actions, &pm->not_data_actions))
                goto full;
        }
    }
    *out = v;
    *n_out = n;
    return 0;
full:
    return castor_err_set(err, CASTOR_ELIMIT,
                          "the permission list does not fit in the request arena");
}
