/* rbac_index.c — the immutable snapshot of roles and assignments, and the fast decision.
 *
 * Built once per change of the assignment set, then only read, so any number of threads may
 * decide against it without locks. A decision hashes each of the principal's ids (object id and
 * groups) to its run of assignments, tests each run member's scope by prefix on a segment
 * boundary and the role's pre-lowercased patterns by byte comparison: no allocation, no I/O. */
#include "rbac/rbac_internal.h"

#include <stdlib.h>
#include <string.h>

const rbac_bucket_t *rbac_index_bucket(const rbac_index_t *ix, const char *principal_id)
{
    char lower[RBAC_PRINCIPAL_ID_MAX];
    size_t len = strlen(principal_id);
    if (len >= sizeof lower) return NULL; /* the index holds none this long */
    uint64_t h = rbac_hash_id(principal_id, len, lower);
    for (size_t i = (size_t)h & ix->bucket_mask;; i = (i + 1) & ix->bucket_mask) {
        const rbac_bucket_t *b = &ix->buckets[i];
        if (!b->key) return NULL;
        if (b->hash == h && b->key_len == len && memcmp(b->key, lower, len) == 0) return b;
    }
}

int rbac_role_cmp(const void *a, const void *b)
{
    return strcmp(((const rbac_role_t *)a)->guid, ((const rbac_role_t *)b)->guid);
}

static int guid_vs_role(const void *key, const void *elem)
{
    return strcmp(key, ((const rbac_role_t *)elem)->guid);
}

const rbac_role_t *rbac_index_role(const rbac_index_t *ix, const char *guid)
{
    return bsearch(guid, ix->roles, ix->n_roles, sizeof *ix->roles, guid_vs_role);
}

rbac_why_t rbac_role_verdict(const rbac_role_t *r, const char *action, size_t len, int data,
                             const rbac_pat_t **pat)
{
    int plane = data ? RBAC_PLANE_DATA : RBAC_PLANE_CONTROL;
    rbac_why_t none = data ? RBAC_WHY_NO_MATCHING_DATA_ACTION : RBAC_WHY_NO_MATCHING_ACTION;
    *pat = NULL;
    if (r->grant[plane].n == 0 && r->grant[!plane].n > 0)
        return data ? RBAC_WHY_CONTROL_PLANE_ONLY : RBAC_WHY_DATA_PLANE_ONLY;
    const rbac_pat_t *g = rbac_patlist_find(&r->grant[plane], action, len);
    if (!g) return none;
    const rbac_pat_t *d = rbac_patlist_find(&r->deny[plane], action, len);
    *pat = d ? d : g;
    return d ? RBAC_WHY_NOT_ACTION_CARVEOUT : RBAC_WHY_GRANTED;
}

static inline int role_grants(const rbac_role_t *r, const char *action, size_t len, int plane)
{
    return rbac_patlist_find(&r->grant[plane], action, len) &&
           !rbac_patlist_find(&r->deny[plane], action, len);
}

/* Searches one principal id's assignments; returns the granting one or NULL. */
static const rbac_asg_t *run_grants(const rbac_index_t *ix, const char *id, const rbac_query_t *q)
{
    const rbac_bucket_t *b = rbac_index_bucket(ix, id);
    if (!b) return NULL;
    int plane = q->data ? RBAC_PLANE_DATA : RBAC_PLANE_CONTROL;
    const rbac_asg_t *a = &ix->asg[b->first], *end = a + b->count;
    for (; a < end; a++)
        if (a->role && rbac_query_covered(q, a) && role_grants(a->role, q->action, q->alen, plane))
            return a;
    return NULL;
}

/* Lower-cases the target, drops trailing slashes ("/" becomes "", root) and records the hash of
 * each ancestor prefix. */
static long norm_target(rbac_query_t *q, const char *scope)
{
    if (!scope || scope[0] != '/') return -1;
    long len = rbac_lower_copy(q->scope, sizeof q->scope, scope);
    if (len < 0) return -1;
    while (len > 0 && q->scope[len - 1] == '/')
        q->scope[--len] = '\0';
    q->n_anc = (uint32_t)rbac_scope_prefix_hashes(q->scope, (size_t)len, q->anc_len, q->anc_hash,
                                                  RBAC_TARGET_DEPTH);
    return len;
}

int rbac_query_init(rbac_query_t *q, const rbac_index_t *ix, const rbac_request_t *req,
                    castor_err *err)
{
    if (!ix || !req || !req->principal || !req->principal->object_id || !req->action)
        return castor_err_set(err, CASTOR_EINVAL, "authorization request lacks %s",
                              !ix ? "an index"
                              : !req || !req->principal || !req->principal->object_id
                                  ? "a principal"
                                  : "an action");
    long alen = rbac_lower_copy(q->action, sizeof q->action, req->action);
    if (alen < 0)
        return castor_err_set(err, CASTOR_EINVAL, "action '%.64s...' is longer than %u characters",
                              req->action, RBAC_ACTION_MAX - 1);
    long slen = norm_target(q, req->scope);
    if (slen < 0)
        return castor_err_set(
            err, CASTOR_EINVAL,
            "scope '%.64s' does not start with '/' or is longer than %u characters",
            req->scope ? req->scope : "", RBAC_SCOPE_MAX - 1);
    q->alen = (size_t)alen;
    q->slen = (size_t)slen;
    q->data = req->data_action ? 1 : 0;
    return 0;
}

int rbac_check(const rbac_index_t *ix, const rbac_request_t *req, rbac_decision_t *out,
               castor_err *err)
{
    if (out) *out = (rbac_decision_t){0};
    rbac_query_t q;
    int rc = rbac_query_init(&q, ix, req, err);
    if (rc < 0) return rc;
    const rbac_principal_t *p = req->principal;
    for (size_t i = 0; i <= p->group_ids.n; i++) {
        const char *id = i == 0 ? p->object_id : p->group_ids.v[i - 1];
        if (!id) continue;
        const rbac_asg_t *a = run_grants(ix, id, &q);
        if (!a) continue;
        if (out) {
            out->allowed = 1;
            out->assignment_name = ix->orig[a->orig].name;
            out->via_group = i == 0 ? NULL : id;
        }
        return RBAC_ALLOW;
    }
    return RBAC_DENY;
}

size_t rbac_index_role_count(const rbac_index_t *ix)
{
    return ix ? ix->n_roles : 0;
}

size_t rbac_index_assignment_count(const rbac_index_t *ix)
{
    return ix ? ix->n_asg : 0;
}

void rbac_index_free(rbac_index_t *ix)
{
    if (!ix) return;
    arena_free(&ix->arena);
    free(ix);
}
