/* rbac_index_build.c — building an rbac_index_t snapshot from definitions and assignments.
 *
 * All the work a decision should not do happens here once: role ids reduced to GUIDs, patterns
 * lower-cased and classified, scopes validated and normalized, assignments grouped by principal
 * and a hash table laid over the groups. Everything lands in the index's own arena. */
#include "rbac/rbac_internal.h"

#include <stdlib.h>
#include <string.h>

int rbac_strlist_copy(arena_t *a, const rbac_strlist_t *src, rbac_strlist_t *dst)
{
    dst->n = src->n;
    dst->v = NULL;
    if (src->n == 0) return 0;
    const char **v = arena_alloc(a, src->n * sizeof *v);
    if (!v) return CASTOR_ENOMEM;
    for (size_t i = 0; i < src->n; i++)
        if (!(v[i] = arena_strdup(a, src->v[i] ? src->v[i] : ""))) return CASTOR_ENOMEM;
    dst->v = v;
    return 0;
}

static int compile_list(arena_t *a, const rbac_strlist_t *src, rbac_patlist_t *dst)
{
    dst->n = (uint32_t)src->n;
    dst->v = src->n ? arena_alloc(a, src->n * sizeof *dst->v) : NULL;
    if (src->n && !dst->v) return CASTOR_ENOMEM;
    for (size_t i = 0; i < src->n; i++)
        if (rbac_pat_compile(a, src->v[i], &dst->v[i]) < 0) return CASTOR_ENOMEM;
    return 0;
}

static int compile_role(arena_t *a, const rbac_role_def_t *src, rbac_role_t *r, castor_err *err)
{
    if (rbac_roledef_guid(src->id, r->guid, err) < 0) return CASTOR_EINVAL;
    rbac_role_def_t *d = &r->def;
    *d = *src;
    d->id = arena_sprintf(a, "/providers/Microsoft.Authorization/roleDefinitions/%s", r->guid);
    d->role_name = arena_strdup(a, src->role_name ? src->role_name : "");
    d->description = src->description ? arena_strdup(a, src->description) : NULL;
    if (!d->id || !d->role_name || (src->description && !d->description) ||
        rbac_strlist_copy(a, &src->actions, &d->actions) ||
        rbac_strlist_copy(a, &src->not_actions, &d->not_actions) ||
        rbac_strlist_copy(a, &src->data_actions, &d->data_actions) ||
        rbac_strlist_copy(a, &src->not_data_actions, &d->not_data_actions) ||
        rbac_strlist_copy(a, &src->assignable_scopes, &d->assignable_scopes))
        return castor_err_set(err, CASTOR_ENOMEM, "out of memory building the RBAC index");
    if (compile_list(a, &d->actions, &r->grant[RBAC_PLANE_CONTROL]) ||
        compile_list(a, &d->not_actions, &r->deny[RBAC_PLANE_CONTROL]) ||
        compile_list(a, &d->data_actions, &r->grant[RBAC_PLANE_DATA]) ||
        compile_list(a, &d->not_data_actions, &r->deny[RBAC_PLANE_DATA]))
        return castor_err_set(err, CASTOR_ENOMEM, "out of memory building the RBAC index");
    size_t ns = d->assignable_scopes.n;
    r->scopes_norm = ns ? arena_alloc(a, ns * sizeof *r->scopes_norm) : NULL;
    if (ns && !r->scopes_norm)
        return castor_err_set(err, CASTOR_ENOMEM, "out of memory building the RBAC index");
    for (size_t i = 0; i < ns; i++) {
        char buf[RBAC_SCOPE_MAX];
        long len = rbac_scope_norm(buf, sizeof buf, d->assignable_scopes.v[i]);
        /* A malformed assignable scope can never cover anything: "\x01" matches no scope. */
        r->scopes_norm[i] = arena_strdup(a, len < 0 ? "\x01" : buf);
        if (!r->scopes_norm[i])
            return castor_err_set(err, CASTOR_ENOMEM, "out of memory building the RBAC index");
    }
    return 0;
}

static int build_roles(rbac_index_t *ix, const rbac_role_def_t *defs, size_t n_defs,
                       castor_err *err)
{
    size_t nb = rbac_builtin_count();
    ix->n_roles = nb + n_defs;
    ix->roles = arena_calloc(&ix->arena, ix->n_roles, sizeof *ix->roles);
    if (!ix->roles)
        return castor_err_set(err, CASTOR_ENOMEM, "out of memory building the RBAC index");
    for (size_t i = 0; i < ix->n_roles; i++) {
        const rbac_role_def_t *src = i < nb ? rbac_builtin_at(i) : &defs[i - nb];
        if (compile_role(&ix->arena, src, &ix->roles[i], err) < 0) {
            castor_err_prefix(err, "role definition %zu ('%s')", i - nb,
                              src->role_name ? src->role_name : "");
            return err ? err->rc : CASTOR_EINVAL;
        }
    }
    qsort(ix->roles, ix->n_roles, sizeof *ix->roles, rbac_role_cmp);
    for (size_t i = 1; i < ix->n_roles; i++)
        if (strcmp(ix->roles[i - 1].guid, ix->roles[i].guid) == 0)
            return castor_err_set(
                err, CASTOR_ECONFLICT, "role definition id %s is used by both '%s' and '%s'",
                ix->roles[i].guid, ix->roles[i - 1].def.role_name, ix->roles[i].def.role_name);
    return 0;
}

/* A lower-cased principal id and original position, sorted to group each principal's run. */
typedef struct asg_key {
    const char *principal;
    size_t pos;
} asg_key_t;

static int asg_key_cmp(const void *a, const void *b)
{
    const asg_key_t *x = a, *y = b;
    int c = strcmp(x->principal, y->principal);
    return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* sc is scratch space for the parse, passed in so 100,000 rows cost one allocation. */
static int fill_assignment(rbac_index_t *ix, const rbac_assignment_t *src, const char *principal_lc,
                           size_t at, rbac_scope_t *sc, castor_err *err)
{
    arena_t *a = &ix->arena;
    int rc = rbac_scope_parse(src->scope, sc, err);
    char guid[RBAC_GUID_LEN + 1];
    if (rc == 0) rc = rbac_roledef_guid(src->role_definition_id, guid, err);
    const char *norm = strcmp(sc->norm, "/") == 0 ? "" : sc->norm;
    rbac_asg_t *h = &ix->asg[at];
    rbac_assignment_t *o = &ix->orig[at];
    if (rc == 0) {
        h->scope = arena_strdup(a, norm);
        h->scope_len = (uint32_t)strlen(norm);
        uint32_t lens[RBAC_TARGET_DEPTH];
        uint64_t hashes[RBAC_TARGET_DEPTH];
        size_t n = rbac_scope_prefix_hashes(norm, h->scope_len, lens, hashes, RBAC_TARGET_DEPTH);
        h->scope_hash = hashes[n - 1];
        h->orig = (uint32_t)at;
        h->role = rbac_index_role(ix, guid);
        o->name = arena_strdup(a, src->name ? src->name : "");
        o->scope = arena_strdup(a, src->scope);
        o->principal_id = principal_lc;
        o->principal_type = src->principal_type;
        o->role_definition_id = arena_strdup(a, guid);
        if (!h->scope || !o->name || !o->scope || !o->role_definition_id)
            rc = castor_err_set(err, CASTOR_ENOMEM, "out of memory building the RBAC index");
    }
    return rc;
}

static int build_buckets(rbac_index_t *ix, asg_key_t *keys, castor_err *err)
{
    size_t distinct = 0;
    for (size_t i = 0; i < ix->n_asg; i++)
        distinct += i == 0 || strcmp(keys[i - 1].principal, keys[i].principal) != 0;
    size_t cap = 16;
    while (cap < distinct * 2)
        cap *= 2;
    ix->buckets = arena_calloc(&ix->arena, cap, sizeof *ix->buckets);
    if (!ix->buckets)
        return castor_err_set(err, CASTOR_ENOMEM, "out of memory building the RBAC index");
    ix->bucket_mask = cap - 1;
    for (size_t i = 0; i < ix->n_asg;) {
        size_t j = i;
        while (j < ix->n_asg && strcmp(keys[j].principal, keys[i].principal) == 0)
            j++;
        size_t klen = strlen(keys[i].principal);
        uint64_t h = rbac_hash_id(keys[i].principal, klen, NULL);
        size_t s = (size_t)h & ix->bucket_mask;
        while (ix->buckets[s].key)
            s = (s + 1) & ix->bucket_mask;
        ix->buckets[s] = (rbac_bucket_t){h, ix->orig[i].principal_id, (uint32_t)klen, (uint32_t)i,
                                         (uint32_t)(j - i)};
        i = j;
    }
    return 0;
}

static int build_assignments(rbac_index_t *ix, const rbac_assignment_t *as, size_t n,
                             castor_err *err)
{
    arena_t *a = &ix->arena;
    ix->n_asg = n;
    ix->asg = arena_calloc(a, n ? n : 1, sizeof *ix->asg);
    ix->orig = arena_calloc(a, n ? n : 1, sizeof *ix->orig);
    asg_key_t *keys = calloc(n ? n : 1, sizeof *keys);
    rbac_scope_t *sc = malloc(sizeof *sc);
    int rc = 0;
    if (!ix->asg || !ix->orig || !keys || !sc)
        rc = castor_err_set(err, CASTOR_ENOMEM, "out of memory building the RBAC index");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *id = as[i].principal_id ? as[i].principal_id : "";
        char *p = arena_alloc(a, strlen(id) + 1);
        if (!p)
            rc = castor_err_set(err, CASTOR_ENOMEM, "out of memory building the RBAC index");
        else if (rbac_lower_copy(p, RBAC_PRINCIPAL_ID_MAX, id) < 0)
            rc = castor_err_set(err, CASTOR_EINVAL,
                                "role assignment '%s': principal id '%.64s...' is longer than %u "
                                "characters",
                                as[i].name ? as[i].name : "", id, RBAC_PRINCIPAL_ID_MAX - 1);
        keys[i] = (asg_key_t){p, i};
    }
    if (rc == 0) qsort(keys, n, sizeof *keys, asg_key_cmp);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const rbac_assignment_t *src = &as[keys[i].pos];
        if (fill_assignment(ix, src, keys[i].principal, i, sc, err) < 0) {
            castor_err_prefix(err, "role assignment '%s'", src->name ? src->name : "");
            rc = err ? err->rc : CASTOR_EINVAL;
        }
    }
    if (rc == 0) rc = build_buckets(ix, keys, err);
    free(keys);
    free(sc);
    return rc;
}

rbac_index_t *rbac_index_new(const rbac_role_def_t *defs, size_t n_defs,
                             const rbac_assignment_t *assignments, size_t n_assignments,
                             castor_err *err)
{
    if ((n_defs && !defs) || (n_assignments && !assignments)) {
        castor_err_set(err, CASTOR_EINVAL, "rbac_index_new: NULL list with a non-zero count");
        return NULL;
    }
    if (n_assignments > UINT32_MAX) {
        castor_err_set(err, CASTOR_ELIMIT, "too many role assignments (%zu)", n_assignments);
        return NULL;
    }
    rbac_index_t *ix = calloc(1, sizeof *ix);
    if (!ix) {
        castor_err_set(err, CASTOR_ENOMEM, "out of memory building the RBAC index");
        return NULL;
    }
    arena_init(&ix->arena, 0);
    if (build_roles(ix, defs, n_defs, err) < 0 ||
        build_assignments(ix, assignments, n_assignments, err) < 0) {
        rbac_index_free(ix);
        return NULL;
    }
    return ix;
}
