/* rbac_index.c — the immutable snapshot of roles and assignments, and the fast decision.
 *
 * Built once per change of the assignment set, then only read, so any number of threads may
 * decide against it without locks. A decision hashes each of the principal's ids (object id and
 * groups) to its run of assignments, tests each run member's scope by prefix on a segment
 * boundary and the role's pre-lowercased patterns by byte comparison: no allocation, no I/O. */
#include "rbac/rbac_internal.h"

#include <stdlib.h>
#include <string.h>

static inline unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* FNV-1a over the lower-cased bytes, so ids hash alike whatever their case. */
uint64_t rbac_hash_ci(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= ascii_lower((unsigned char)*s);
        h *= 1099511628211ull;
    }
    return h;
}

/* key is lower case; s is any case. */
static int key_equal(const char *key, const char *s)
{
    for (; *key && ascii_lower((unsigned char)*s) == (unsigned char)*key; key++, s++)
        ;
    return *key == '\0' && *s == '\0';
}

const rbac_bucket_t *rbac_index_bucket(const rbac_index_t *ix, const char *principal_id)
{
    uint64_t h = rbac_hash_ci(principal_id);
    for (size_t i = (size_t)h & ix->bucket_mask;; i = (i + 1) & ix->bucket_mask) {
        const rbac_bucket_t *b = &ix->buckets[i];
        if (!b->key) return NULL;
        if (b->hash == h && key_equal(b->key, principal_id)) return b;
    }
}

int rbac_role_cmp(const void *a, const void *b)
{
    return strcmp(((const rbac_role_t *)a)->guid, ((const rbac_role_t *)b)->guid);
}

const rbac_role_t *rbac_index_role(const rbac_index_t *ix, const char *guid)
{
    rbac_role_t key;
    memcpy(key.guid, guid, sizeof key.guid);
    return bsearch(&key, ix->roles, ix->n_roles, sizeof *ix->roles, rbac_role_cmp);
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
static const rbac_asg_t *run_grants(const rbac_index_t *ix, const char *id, const char *action,
                                    size_t alen, int plane, const char *scope, size_t slen)
{
    const rbac_bucket_t *b = rbac_index_bucket(ix, id);
    if (!b) return NULL;
    const rbac_asg_t *a = &ix->asg[b->first], *end = a + b->count;
    for (; a < end; a++)
        if (a->role && rbac_scope_norm_covers(a->scope, a->scope_len, scope, slen) &&
            role_grants(a->role, action, alen, plane))
            return a;
    return NULL;
}

int rbac_req_norm(const rbac_index_t *ix, const rbac_request_t *req, char *action, long *alen,
                  char *scope, long *slen, castor_err *err)
{
    if (!ix || !req || !req->principal || !req->principal->object_id || !req->action)
        return castor_err_set(err, CASTOR_EINVAL, "authorization request lacks %s",
                              !ix ? "an index"
                              : !req || !req->principal || !req->principal->object_id
                                  ? "a principal"
                                  : "an action");
    *alen = rbac_lower_copy(action, RBAC_ACTION_MAX, req->action);
    if (*alen < 0)
        return castor_err_set(err, CASTOR_EINVAL, "action '%.64s...' is longer than %u characters",
                              req->action, RBAC_ACTION_MAX - 1);
    *slen = rbac_scope_norm(scope, RBAC_SCOPE_MAX, req->scope);
    if (*slen < 0)
        return castor_err_set(
            err, CASTOR_EINVAL,
            "scope '%.64s' does not start with '/' or is longer than %u characters",
            req->scope ? req->scope : "", RBAC_SCOPE_MAX - 1);
    return 0;
}

int rbac_check(const rbac_index_t *ix, const rbac_request_t *req, rbac_decision_t *out,
               castor_err *err)
{
    if (out) *out = (rbac_decision_t){0};
    char action[RBAC_ACTION_MAX], scope[RBAC_SCOPE_MAX];
    long alen, slen;
    int rc = rbac_req_norm(ix, req, action, &alen, scope, &slen, err);
    if (rc < 0) return rc;
    int plane = req->data_action ? RBAC_PLANE_DATA : RBAC_PLANE_CONTROL;
    const rbac_principal_t *p = req->principal;
    for (size_t i = 0; i <= p->group_ids.n; i++) {
        const char *id = i == 0 ? p->object_id : p->group_ids.v[i - 1];
        if (!id) continue;
        const rbac_asg_t *a = run_grants(ix, id, action, (size_t)alen, plane, scope, (size_t)slen);
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
