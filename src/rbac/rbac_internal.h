/* rbac_internal.h — the compiled forms the rbac_*.c files share; not part of the public API.
 *
 * Everything here is built once by rbac_index_new and read-only afterwards. Strings used for
 * comparison are stored lower case so that a decision compares bytes, not characters. */
#ifndef CASTOR_RBAC_INTERNAL_H
#define CASTOR_RBAC_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "rbac/rbac.h"

/* How a pattern is matched; chosen at compile time so the common shapes skip the glob. */
typedef enum rbac_pat_kind {
    RBAC_PAT_EXACT = 0, /* no '*' */
    RBAC_PAT_ANY,       /* "*" */
    RBAC_PAT_PREFIX,    /* one '*', at the end: "prefix*" */
    RBAC_PAT_SUFFIX,    /* one '*', at the start: "*suffix" */
    RBAC_PAT_GLOB       /* anything else */
} rbac_pat_kind_t;

typedef struct rbac_pat {
    const char *s; /* lower case */
    uint32_t len;
    uint32_t kind;    /* rbac_pat_kind_t */
    const char *orig; /* as written in the role, for explanations */
} rbac_pat_t;

typedef struct rbac_patlist {
    rbac_pat_t *v;
    uint32_t n;
} rbac_patlist_t;

/* Plane indices into rbac_role_t's lists. */
enum { RBAC_PLANE_CONTROL = 0, RBAC_PLANE_DATA = 1 };

typedef struct rbac_role {
    rbac_patlist_t grant[2]; /* Actions, DataActions */
    rbac_patlist_t deny[2];  /* NotActions, NotDataActions: subtract from grant[] only */
    char guid[RBAC_GUID_LEN + 1];
    rbac_role_def_t def;      /* deep copy with original case, for lookups and permissions */
    const char **scopes_norm; /* assignable scopes in comparison form */
} rbac_role_t;

/* The hot part of an assignment, kept small so a principal's assignments share cache lines:
 * a decision rejects an assignment elsewhere by its scope's length and hash alone, without
 * touching the scope string (which the 100,000-assignment benchmark showed to be the cost). */
typedef struct rbac_asg {
    uint64_t scope_hash; /* FNV-1a of `scope` */
    uint32_t scope_len;
    uint32_t orig;           /* index into rbac_index.orig */
    const rbac_role_t *role; /* NULL when the role definition does not exist */
    const char *scope;       /* comparison form: lower case, no trailing '/', "" for root */
} rbac_asg_t;

/* One principal id's run of assignments in rbac_index.asg. */
typedef struct rbac_bucket {
    uint64_t hash;
    const char *key; /* lower case principal id; NULL = empty slot */
    uint32_t key_len;
    uint32_t first;
    uint32_t count;
} rbac_bucket_t;

struct rbac_index {
    arena_t arena;      /* owns every byte below */
    rbac_role_t *roles; /* sorted by guid */
    size_t n_roles;
    rbac_asg_t *asg;         /* grouped by principal */
    rbac_assignment_t *orig; /* deep copies, in asg[] order; role_definition_id is the GUID */
    size_t n_asg;
    rbac_bucket_t *buckets; /* open addressing, power-of-two size */
    size_t bucket_mask;
};

/* rbac_match.c */
int rbac_pat_compile(arena_t *a, const char *pattern, rbac_pat_t *out);
int rbac_pat_match(const rbac_pat_t *p, const char *action, size_t len);
/* The first pattern of the list matching the action, or NULL. */
const rbac_pat_t *rbac_patlist_find(const rbac_patlist_t *l, const char *action, size_t len);

/* rbac_scope.c: the comparison form of a scope ("" for root) into buf; -1 when too long or not
 * starting with '/'. */
long rbac_scope_norm(char *buf, size_t cap, const char *scope);
/* Segment-boundary prefix test on comparison forms. */
static inline int rbac_scope_norm_covers(const char *outer, size_t olen, const char *inner,
                                         size_t ilen)
{
    if (olen > ilen) return 0;
    for (size_t i = 0; i < olen; i++)
        if (outer[i] != inner[i]) return 0;
    return olen == ilen || inner[olen] == '/';
}

#define RBAC_HASH_BASIS 1469598103934665603ull
/* Ancestors of a target worth recording: scopes have at most 64 segments (rbac_scope.c), plus root.
 */
#define RBAC_TARGET_DEPTH 66

/* A request made ready for matching: the action lower-cased, the target scope in comparison
 * form, and the length and hash of every ancestor of the target (root, subscription, resource
 * group, ...) so an assignment is tested for coverage by two integer compares. */
typedef struct rbac_query {
    char action[RBAC_ACTION_MAX];
    size_t alen;
    int data;
    char scope[RBAC_SCOPE_MAX];
    size_t slen;
    uint32_t n_anc;
    uint32_t anc_len[RBAC_TARGET_DEPTH]; /* increasing; anc_len[0] = 0 (root) */
    uint64_t anc_hash[RBAC_TARGET_DEPTH];
} rbac_query_t;

/* rbac_hash.c */
/* Copies s lower-cased (ASCII) into buf (cap bytes, NUL included); its length, or -1 if too long.
 */
long rbac_lower_copy(char *buf, size_t cap, const char *s);
/* Case-insensitive hash of a principal id of len bytes; writes the lower-cased id to `lower`
 * (len bytes, no NUL) unless it is NULL. */
uint64_t rbac_hash_id(const char *s, size_t len, char *lower);
/* For a scope in comparison form, the length and hash of root and of each prefix ending before
 * a '/' or at the end (every ancestor and the scope itself), at most max; returns how many. */
size_t rbac_scope_prefix_hashes(const char *norm, size_t len, uint32_t *lens, uint64_t *hashes,
                                size_t max);

/* Checks a request and fills q (rbac_index.c). */
int rbac_query_init(rbac_query_t *q, const rbac_index_t *ix, const rbac_request_t *req,
                    castor_err *err);

/* 1 when the assignment's scope is the target or one of its ancestors. The hash only filters:
 * bytes are compared before saying yes, so a collision can never grant. */
static inline int rbac_query_covered(const rbac_query_t *q, const rbac_asg_t *a)
{
    for (uint32_t i = 0; i < q->n_anc && q->anc_len[i] <= a->scope_len; i++)
        if (q->anc_len[i] == a->scope_len)
            return q->anc_hash[i] == a->scope_hash && memcmp(a->scope, q->scope, a->scope_len) == 0;
    return 0;
}

/* rbac_index.c */
const rbac_bucket_t *rbac_index_bucket(const rbac_index_t *ix, const char *principal_id);
const rbac_role_t *rbac_index_role(const rbac_index_t *ix, const char *guid);
int rbac_role_cmp(const void *a, const void *b); /* by guid, for qsort/bsearch */

/* rbac_index_build.c: deep copy of a string list into the arena. */
int rbac_strlist_copy(arena_t *a, const rbac_strlist_t *src, rbac_strlist_t *dst);

/* Verdict of one role for one action on one plane (scope aside); fills *pat with the deciding
 * pattern (the grant, or the carve-out) when there is one. */
rbac_why_t rbac_role_verdict(const rbac_role_t *r, const char *action, size_t len, int data,
                             const rbac_pat_t **pat);

/* rbac_builtin.c: ASCII case-insensitive equality. */
int rbac_streq_ci(const char *a, const char *b);

#endif
