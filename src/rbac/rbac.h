/* rbac.h — castor's Azure RBAC engine: role definitions, assignments, decisions, explanations.
 *
 * Pure: no I/O, no store, no HTTP. The server builds an immutable rbac_index_t snapshot from the
 * role definitions and assignments it holds, shares it between threads, and swaps in a new
 * snapshot whenever an assignment or custom role changes. Semantics are Azure's
 * (../shared/reference/security.md §2–§4): case-insensitive `*` wildcards, NotActions subtract
 * within one role only, control-plane actions and data actions never satisfy each other,
 * scopes inherit downward on segment boundaries, several assignments are a union.
 *
 * Ownership in one line: inputs are borrowed for the duration of a call (the index copies what
 * it keeps); rbac_index_new/rbac_index_free pair; everything else that returns memory takes a
 * caller's arena_t and allocates only from it, so the result dies with that arena and never
 * points into the index (a snapshot may be swapped and freed while an explanation lives on). */
#ifndef CASTOR_RBAC_RBAC_H
#define CASTOR_RBAC_RBAC_H

#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/limits.h"

/* Caps on inputs. They belong in core/limits.h; they live here until the lead moves them. */
#define RBAC_SCOPE_MAX CASTOR_SCOPE_MAX /* one scope string (core/limits.h) */
#define RBAC_ACTION_MAX 512u            /* one action or pattern such as Microsoft.X/a/b/read */
#define RBAC_ROLE_NAME_MAX CASTOR_ROLE_NAME_MAX /* a role's display name */
#define RBAC_PERMISSIONS_MAX 512u  /* entries in one Actions/NotActions/... list of a role */
#define RBAC_GUID_LEN 36u          /* 8-4-4-4-12 hex digits with dashes */
#define RBAC_PRINCIPAL_ID_MAX 128u /* an object id is a GUID; room for other directories' ids */

/* A borrowed list of strings (role permission lists, assignable scopes, group ids). */
typedef struct rbac_strlist {
    const char *const *v;
    size_t n;
} rbac_strlist_t;

typedef enum rbac_role_type {
    RBAC_ROLE_BUILTIN = 0, /* "BuiltInRole" */
    RBAC_ROLE_CUSTOM = 1   /* "CustomRole" */
} rbac_role_type_t;

/* A role definition: one permission block, as every built-in and every custom role has. */
typedef struct rbac_role_def {
    const char *id; /* the GUID, or an ARM id ending in /roleDefinitions/{guid} */
    const char *role_name;
    const char *description; /* may be NULL */
    rbac_role_type_t type;
    rbac_strlist_t actions;
    rbac_strlist_t not_actions;
    rbac_strlist_t data_actions;
    rbac_strlist_t not_data_actions;
    rbac_strlist_t assignable_scopes;
} rbac_role_def_t;

typedef enum rbac_principal_type {
    RBAC_PRINCIPAL_USER = 0,
    RBAC_PRINCIPAL_GROUP = 1,
    RBAC_PRINCIPAL_SERVICE_PRINCIPAL = 2,
    RBAC_PRINCIPAL_FOREIGN_GROUP = 3
} rbac_principal_type_t;

/* A role assignment as ARM stores it. */
typedef struct rbac_assignment {
    const char *name;         /* the assignment GUID */
    const char *scope;        /* where it applies, and below */
    const char *principal_id; /* user, group or service principal object id */
    rbac_principal_type_t principal_type;
    const char *role_definition_id; /* GUID or ARM id of the role definition */
} rbac_assignment_t;

/* Who is asking: the object id plus every group it belongs to, transitively (the caller
 * expands membership; the engine does not know the directory). */
typedef struct rbac_principal {
    const char *object_id;
    rbac_strlist_t group_ids;
} rbac_principal_t;

/* One authorization question. */
typedef struct rbac_request {
    const rbac_principal_t *principal;
    const char *action; /* a concrete action, no wildcards: Microsoft.DigitalTwins/models/read */
    int data_action;    /* 1 = data plane (DataActions), 0 = control plane (Actions) */
    const char *scope;  /* the target resource scope */
} rbac_request_t;

/* ---- scopes (rbac_scope.c) ---- */

typedef enum rbac_scope_kind {
    RBAC_SCOPE_ROOT = 0,             /* "/" */
    RBAC_SCOPE_MANAGEMENT_GROUP = 1, /* /providers/Microsoft.Management/managementGroups/{mg} */
    RBAC_SCOPE_SUBSCRIPTION = 2,     /* /subscriptions/{sub} */
    RBAC_SCOPE_RESOURCE_GROUP = 3,   /* /subscriptions/{sub}/resourceGroups/{rg} */
    RBAC_SCOPE_RESOURCE = 4 /* .../providers/{namespace}/{type}/{name}[/{type}/{name}...] */
} rbac_scope_kind_t;

/* A parsed scope. Parts keep the caller's case; `norm` is the comparison form (lower case, no
 * trailing slash, "/" for root). For a nested or extension resource, provider is the innermost
 * namespace and type/name join its type and name segments with '/', as ARM does. */
typedef struct rbac_scope {
    rbac_scope_kind_t kind;
    char norm[RBAC_SCOPE_MAX];
    char management_group[128];
    char subscription[64];
    char resource_group[96];
    char provider[128];
    char type[256];
    char name[256];
} rbac_scope_t;

/* Parses and normalizes a scope; on a malformed scope returns CASTOR_EINVAL and says which
 * segment is wrong and what shapes are allowed. Subscription ids must be GUIDs. */
int rbac_scope_parse(const char *scope, rbac_scope_t *out, castor_err *err);

/* 1 when an assignment at `outer` applies to `inner`: same scope or a descendant, compared
 * case-insensitively on segment boundaries, trailing slashes ignored. "/" covers everything.
 * Pure string rule; neither argument needs to be parsed first. */
int rbac_scope_covers(const char *outer, const char *inner);

/* ---- actions (rbac_match.c) ---- */

/* 1 when the permission pattern (with `*` wildcards) matches the concrete action, ignoring
 * case. `*` matches any run of characters, '/' included. */
int rbac_action_matches(const char *pattern, const char *action);

/* Checks one permission string's syntax: `Company.Provider/type/.../verb` with optional `*`. */
int rbac_action_validate(const char *pattern, castor_err *err);

/* ---- role definition ids and built-in roles (rbac_builtin.c) ---- */

/* Extracts the role GUID (lower case) from a bare GUID or an ARM id such as
 * /subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}. */
int rbac_roledef_guid(const char *id, char out[RBAC_GUID_LEN + 1], castor_err *err);

/* 1 when two role definition ids (either form) name the same GUID; 0 otherwise or if either
 * is malformed. */
int rbac_roledef_id_equal(const char *a, const char *b);

/* 1 when s is a GUID (8-4-4-4-12 hex, any case). */
int rbac_is_guid(const char *s);

/* The built-in roles castor ships (static, immutable; never free). */
size_t rbac_builtin_count(void);
const rbac_role_def_t *rbac_builtin_at(size_t i);

/* Well-known built-in GUIDs. */
#define RBAC_ROLE_OWNER "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
#define RBAC_ROLE_CONTRIBUTOR "b24988ac-6180-42a0-ab88-20f7382dd24c"
#define RBAC_ROLE_READER "acdd72a7-3385-48ef-bd42-f606fba81ae7"
#define RBAC_ROLE_USER_ACCESS_ADMIN "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
#define RBAC_ROLE_RBAC_ADMIN "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
#define RBAC_ROLE_ADT_DATA_OWNER "bcd981a7-7f74-457b-83e1-cceb9e632ffe"
#define RBAC_ROLE_ADT_DATA_READER "d57506d4-4c8d-48b1-8587-93c323f6a5a3"

/* ---- the index snapshot (rbac_index.c) ---- */

typedef struct rbac_index rbac_index_t;

/* Builds an immutable snapshot from custom role definitions and assignments (built-in roles are
 * always included; a definition reusing a built-in GUID is refused). Inputs are copied, so the
 * caller may free them afterwards. An assignment naming an unknown role is kept and never
 * grants (explained as RBAC_WHY_ROLE_NOT_FOUND); a malformed assignment scope or role id is
 * refused with CASTOR_EINVAL, so a bad row fails closed rather than granting by accident.
 * Returns NULL and fills err on failure. The snapshot is read-only and safe to share between
 * threads; free it with rbac_index_free once no reader holds it. */
rbac_index_t *rbac_index_new(const rbac_role_def_t *defs, size_t n_defs,
                             const rbac_assignment_t *assignments, size_t n_assignments,
                             castor_err *err);
void rbac_index_free(rbac_index_t *ix);

size_t rbac_index_role_count(const rbac_index_t *ix);
size_t rbac_index_assignment_count(const rbac_index_t *ix);

/* Finds a role by GUID, ARM id or name (case-insensitive; built-in or custom). The legacy
 * preview names "Azure Digital Twins Owner (Preview)" / "... Reader (Preview)" resolve to the
 * Data Owner / Data Reader roles with *legacy_name set to 1 (so the caller can say the name
 * changed). ix may be NULL to search the built-ins only. The result is the index's (or the
 * static built-in) copy: valid while the index lives. NULL and CASTOR_ENOTFOUND if unknown. */
const rbac_role_def_t *rbac_role_find(const rbac_index_t *ix, const char *name_or_id,
                                      int *legacy_name, castor_err *err);

/* "Did you mean": up to `max` role names closest to an unknown name (substring matches first,
 * then by edit distance), best first, written to out[] as pointers to the index's or the
 * built-ins' names. Returns how many were written (0 when nothing is close). */
size_t rbac_role_suggest(const rbac_index_t *ix, const char *name, const char **out, size_t max);

/* ---- decisions (rbac_index.c) ---- */

enum { RBAC_DENY = 0, RBAC_ALLOW = 1 };

/* The fast path's answer. Strings point into the index (assignment name) or into the request
 * (via_group): valid while both live. */
typedef struct rbac_decision {
    int allowed;
    const char *assignment_name; /* the assignment that granted; NULL when denied */
    const char *via_group;       /* the group id it was assigned to; NULL when direct or denied */
} rbac_decision_t;

/* Decides one request without allocating. Returns RBAC_ALLOW or RBAC_DENY (and fills *out if
 * not NULL), or a negative castor_rc when the request itself is malformed (missing principal
 * or action, over-long action or scope, scope not starting with '/'). */
int rbac_check(const rbac_index_t *ix, const rbac_request_t *req, rbac_decision_t *out,
               castor_err *err);

/* ---- explanations and effective permissions (rbac_explain.c) ---- */

/* Why one assignment did or did not grant. */
typedef enum rbac_why {
    RBAC_WHY_GRANTED = 0,
    RBAC_WHY_SCOPE_ELSEWHERE,         /* assigned at a scope that does not cover the target */
    RBAC_WHY_NO_MATCHING_DATA_ACTION, /* role has DataActions, none matches */
    RBAC_WHY_CONTROL_PLANE_ONLY,      /* role has Actions but no DataActions; a data action asked */
    RBAC_WHY_NOT_ACTION_CARVEOUT, /* granted, then removed by the same role's Not(Data)Actions */
    RBAC_WHY_NO_MATCHING_ACTION,  /* role has Actions, none matches */
    RBAC_WHY_DATA_PLANE_ONLY,     /* role has DataActions but no Actions; a control action asked */
    RBAC_WHY_ROLE_NOT_FOUND       /* the assignment names a role definition that does not exist */
} rbac_why_t;

/* A short stable name ("scope-elsewhere") and a sentence for people. Never NULL. */
const char *rbac_why_name(rbac_why_t why);
const char *rbac_why_text(rbac_why_t why);

/* One assignment of the principal (or of one of its groups) and its verdict. All strings are
 * copies in the caller's arena. */
typedef struct rbac_considered {
    const char *assignment_name;
    const char *scope;              /* the assignment's scope, as it was created */
    const char *role_definition_id; /* GUID, lower case */
    const char *role_name;          /* NULL when the role is not found */
    const char *principal_id;       /* the id the assignment names, lower case */
    const char *via_group; /* that id when it is one of the principal's groups; else NULL */
    rbac_why_t why;
    int role_grants_action; /* 1 when the role would grant the action at a covering scope:
                             * "right role, wrong scope" when why is SCOPE_ELSEWHERE */
    const char *pattern;    /* the matching grant pattern (GRANTED) or the carve-out
                             * pattern (NOT_ACTION_CARVEOUT); else NULL */
} rbac_considered_t;

typedef struct rbac_explanation {
    int allowed;
    const char *action;
    int data_action;
    const char *scope;
    const char *principal_id;
    const rbac_considered_t *granted_by; /* one of items[] when allowed; else NULL */
    rbac_considered_t *items;            /* every assignment of the principal and its groups */
    size_t n_items;
} rbac_explanation_t;

/* The slow path, for denials and check-access: explains the decision rbac_check made for req
 * (pass it as decision; NULL makes it here) through every assignment of the principal and its
 * groups. The decision is not made again: allowed and granted_by are the decision's, and each
 * item's verdict must agree with it (CASTOR_EINTERNAL when one does not: the fast and slow
 * paths disagree, a bug). Allocates only from `a`; the result lives as long as the arena.
 * CASTOR_ELIMIT when the arena's cap is reached. */
int rbac_explain(const rbac_index_t *ix, const rbac_request_t *req, const rbac_decision_t *decision,
                 arena_t *a, rbac_explanation_t **out, castor_err *err);

/* One line for people (a 403 reason header, the audit log), written into the arena, e.g.
 * "denied: Microsoft.DigitalTwins/digitaltwins/read (data action) at /subscriptions/...: 1
 * assignment considered: Owner at /subscriptions/... — role has only control-plane Actions ...".
 * Returns NULL when the arena is full. */
char *rbac_explanation_format(const rbac_explanation_t *e, arena_t *a);

/* The least-privileged built-in role that grants the action (Data Reader before Data Owner,
 * Reader before Contributor before Owner), for the "one command that fixes it". NULL if no
 * built-in grants it. */
const rbac_role_def_t *rbac_builtin_suggest_for(const char *action, int data_action);

/* One entry of ARM's Microsoft.Authorization/permissions answer: the permission lists of one
 * assignment that applies at the scope. Strings are copies in the caller's arena. */
typedef struct rbac_permission {
    const char *assignment_name;
    const char *role_definition_id;
    rbac_strlist_t actions, not_actions, data_actions, not_data_actions;
} rbac_permission_t;

/* Lists the permissions of every assignment of the principal and its groups whose scope covers
 * `scope` (assignments naming an unknown role are skipped: they grant nothing). */
int rbac_permissions(const rbac_index_t *ix, const rbac_principal_t *p, const char *scope,
                     arena_t *a, rbac_permission_t **out, size_t *n_out, castor_err *err);

/* ---- validation before create (rbac_validate.c) ---- */

/* Checks a custom role definition: GUID id, non-empty name that no other role (built-in, or a
 * custom one with another GUID in ix) uses, at least one Action or DataAction, every permission
 * string well-formed, at least one well-formed assignable scope, and no management-group
 * assignable scope when the role has DataActions (Azure refuses those). ix may be NULL to skip
 * the name check. err->path points at the offending field, e.g. "properties.dataActions[2]". */
int rbac_role_def_validate(const rbac_index_t *ix, const rbac_role_def_t *def, castor_err *err);

/* Checks an assignment about to be created against the current snapshot: GUID name and
 * principal id, well-formed scope, a role that exists (CASTOR_ENOTFOUND,
 * RoleDefinitionDoesNotExist), a scope inside one of the role's assignable scopes, the same
 * principal+role+scope not assigned under another name (CASTOR_ECONFLICT, RoleAssignmentExists),
 * and the name not already used by a different assignment (RoleAssignmentUpdateNotPermitted).
 * Returns 0 for a new assignment and 1 when an identical one already exists under the same
 * name (ARM then answers 200 instead of 201). */
int rbac_assignment_validate(const rbac_index_t *ix, const rbac_assignment_t *as, castor_err *err);

#endif
