/* rbac_builtin.c — Azure's built-in roles castor ships, role ids, and role lookup by name.
 *
 * GUIDs and permission arrays are verbatim from ../shared/reference/security.md §2 (and
 * security-examples/role-adt-*.json); keep them so, since automation refers to roles by GUID
 * and users compare castor's role JSON with Azure's. */
#include "rbac/rbac_internal.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define LIST(a)                                                                                    \
    {                                                                                              \
        a, sizeof a / sizeof a[0]                                                                  \
    }
#define NONE                                                                                       \
    {                                                                                              \
        NULL, 0                                                                                    \
    }
#define ROLEDEF_PREFIX "/providers/Microsoft.Authorization/roleDefinitions/"

static const char *const root_scope[] = {"/"};
static const char *const all[] = {"*"};
static const char *const read_all[] = {"*/read"};

static const char *const contributor_not[] = {
    "Microsoft.Authorization/*/Delete",
    "Microsoft.Authorization/*/Write",
    "Microsoft.Authorization/elevateAccess/Action",
    "Microsoft.Blueprint/blueprintAssignments/write",
    "Microsoft.Blueprint/blueprintAssignments/delete",
    "Microsoft.Compute/galleries/share/action",
    "Microsoft.Purview/consents/write",
    "Microsoft.Purview/consents/delete",
    "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
    "Microsoft.Subscription/cancel/action",
    "Microsoft.Subscription/enable/action",
};
static const char *const uaa_actions[] = {"*/read", "Microsoft.Authorization/*",
                                          "Microsoft.Support/*"};
static const char *const rbac_admin_actions[] = {
    "Microsoft.Authorization/roleAssignments/write",
    "Microsoft.Authorization/roleAssignments/delete",
    "*/read",
    "Microsoft.Support/*",
};
static const char *const adt_owner_data[] = {
    "Microsoft.DigitalTwins/digitaltwins/*",
    "Microsoft.DigitalTwins/digitaltwins/commands/*",
    "Microsoft.DigitalTwins/digitaltwins/relationships/*",
    "Microsoft.DigitalTwins/eventroutes/*",
    "Microsoft.DigitalTwins/jobs/*",
    "Microsoft.DigitalTwins/models/*",
    "Microsoft.DigitalTwins/query/*",
};
/* Keeps Azure's quirk: the legacy jobs/import/read but not jobs/delete/read (security.md §3.1). */
static const char *const adt_reader_data[] = {
    "Microsoft.DigitalTwins/digitaltwins/read",
    "Microsoft.DigitalTwins/digitaltwins/relationships/read",
    "Microsoft.DigitalTwins/eventroutes/read",
    "Microsoft.DigitalTwins/jobs/import/read",
    "Microsoft.DigitalTwins/jobs/imports/read",
    "Microsoft.DigitalTwins/jobs/deletions/read",
    "Microsoft.DigitalTwins/models/read",
    "Microsoft.DigitalTwins/query/action",
};

/* Ordered from least to most privileged so rbac_builtin_suggest_for can take the first that
 * grants. Descriptions of the control-plane roles are Azure's wording (not in security.md). */
static const rbac_role_def_t builtins[] = {
    {ROLEDEF_PREFIX RBAC_ROLE_ADT_DATA_READER, "Azure Digital Twins Data Reader",
     "Read-only role for Digital Twins data-plane properties", RBAC_ROLE_BUILTIN, NONE, NONE,
     LIST(adt_reader_data), NONE, LIST(root_scope)},
    {ROLEDEF_PREFIX RBAC_ROLE_ADT_DATA_OWNER, "Azure Digital Twins Data Owner",
     "Full access role for Digital Twins data-plane", RBAC_ROLE_BUILTIN, NONE, NONE,
     LIST(adt_owner_data), NONE, LIST(root_scope)},
    {ROLEDEF_PREFIX RBAC_ROLE_READER, "Reader",
     "View all resources, but does not allow you to make any changes.", RBAC_ROLE_BUILTIN,
     LIST(read_all), NONE, NONE, NONE, LIST(root_scope)},
    {ROLEDEF_PREFIX RBAC_ROLE_RBAC_ADMIN, "Role Based Access Control Administrator",
     "Manage access to Azure resources by assigning roles using Azure RBAC.", RBAC_ROLE_BUILTIN,
     LIST(rbac_admin_actions), NONE, NONE, NONE, LIST(root_scope)},
    {ROLEDEF_PREFIX RBAC_ROLE_USER_ACCESS_ADMIN, "User Access Administrator",
     "Lets you manage user access to Azure resources.", RBAC_ROLE_BUILTIN, LIST(uaa_actions), NONE,
     NONE, NONE, LIST(root_scope)},
    {ROLEDEF_PREFIX RBAC_ROLE_CONTRIBUTOR, "Contributor",
     "Grants full access to manage all resources, but does not allow you to assign roles in Azure "
     "RBAC.",
     RBAC_ROLE_BUILTIN, LIST(all), LIST(contributor_not), NONE, NONE, LIST(root_scope)},
    {ROLEDEF_PREFIX RBAC_ROLE_OWNER, "Owner",
     "Grants full access to manage all resources, including the ability to assign roles in Azure "
     "RBAC.",
     RBAC_ROLE_BUILTIN, LIST(all), NONE, NONE, NONE, LIST(root_scope)},
};

/* Preview-era names still found in scripts and old docs (security.md §1). */
static const struct {
    const char *legacy;
    const char *guid;
} legacy_names[] = {
    {"Azure Digital Twins Owner (Preview)", RBAC_ROLE_ADT_DATA_OWNER},
    {"Azure Digital Twins Reader (Preview)", RBAC_ROLE_ADT_DATA_READER},
};

size_t rbac_builtin_count(void)
{
    return sizeof builtins / sizeof builtins[0];
}

const rbac_role_def_t *rbac_builtin_at(size_t i)
{
    return i < rbac_builtin_count() ? &builtins[i] : NULL;
}

int rbac_streq_ci(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

int rbac_is_guid(const char *s)
{
    if (!s) return 0;
    for (size_t i = 0; i < RBAC_GUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return s[RBAC_GUID_LEN] == '\0';
}

int rbac_roledef_guid(const char *id, char out[RBAC_GUID_LEN + 1], castor_err *err)
{
    const char *g = id;
    if (id && !rbac_is_guid(id)) {
        const char *slash = strrchr(id, '/');
        static const char seg[] = "/roleDefinitions/";
        size_t sl = sizeof seg - 1;
        g = slash && (size_t)(slash + 1 - id) >= sl && strncasecmp(slash + 1 - sl, seg, sl) == 0
                ? slash + 1
                : NULL;
    }
    if (!g || !rbac_is_guid(g))
        return castor_err_set(err, CASTOR_EINVAL,
                              "role definition id '%s' is neither a GUID nor "
                              "'/subscriptions/{subscriptionId}/providers/"
                              "Microsoft.Authorization/roleDefinitions/{guid}'",
                              id ? id : "");
    for (size_t i = 0; i <= RBAC_GUID_LEN; i++)
        out[i] = (char)tolower((unsigned char)g[i]);
    return 0;
}

int rbac_roledef_id_equal(const char *a, const char *b)
{
    char ga[RBAC_GUID_LEN + 1], gb[RBAC_GUID_LEN + 1];
    if (rbac_roledef_guid(a, ga, NULL) < 0 || rbac_roledef_guid(b, gb, NULL) < 0) return 0;
    return memcmp(ga, gb, sizeof ga) == 0;
}

/* The roles to search: the index's (built-ins included) or, without one, the static table. */
static size_t roles_count(const rbac_index_t *ix)
{
    return ix ? ix->n_roles : rbac_builtin_count();
}

static const rbac_role_def_t *roles_at(const rbac_index_t *ix, size_t i)
{
    return ix ? &ix->roles[i].def : &builtins[i];
}

const rbac_role_def_t *rbac_role_find(const rbac_index_t *ix, const char *name_or_id,
                                      int *legacy_name, castor_err *err)
{
    if (legacy_name) *legacy_name = 0;
    if (!name_or_id || !*name_or_id)
        return castor_err_set(err, CASTOR_EINVAL, "no role name or id given"), NULL;
    char guid[RBAC_GUID_LEN + 1];
    int by_id = rbac_roledef_guid(name_or_id, guid, NULL) == 0;
    for (size_t i = 0; !by_id && i < sizeof legacy_names / sizeof legacy_names[0]; i++) {
        if (!rbac_streq_ci(name_or_id, legacy_names[i].legacy)) continue;
        memcpy(guid, legacy_names[i].guid, sizeof guid);
        by_id = 1;
        if (legacy_name) *legacy_name = 1;
    }
    for (size_t i = 0; i < roles_count(ix); i++) {
        const rbac_role_def_t *d = roles_at(ix, i);
        if (by_id ? rbac_roledef_id_equal(d->id, guid) : rbac_streq_ci(d->role_name, name_or_id))
            return d;
    }
    castor_err_http(err, CASTOR_ENOTFOUND, 404, "RoleDefinitionDoesNotExist",
                    "The specified role definition with %s '%s' does not exist.",
                    by_id ? "ID" : "name", name_or_id);
    return NULL;
}

/* Case-insensitive Levenshtein distance, two rows; names are capped at RBAC_ROLE_NAME_MAX. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la >= RBAC_ROLE_NAME_MAX || lb >= RBAC_ROLE_NAME_MAX) return (size_t)-1;
    size_t rows[2][RBAC_ROLE_NAME_MAX + 1];
    size_t *prev = rows[0], *cur = rows[1];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] +
                         (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        size_t *t = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

#define SUGGEST_MAX 16

/* Lower is closer; SIZE_MAX means not close enough to suggest. A substring either way ranks
 * ahead of any edit distance ("Data Owner" → "Azure Digital Twins Data Owner"). */
static size_t suggest_score(const char *query, const char *name)
{
    if (strcasestr(name, query) || strcasestr(query, name)) return 0;
    size_t d = edit_distance(query, name);
    size_t ql = strlen(query), limit = ql / 3 > 2 ? ql / 3 : 2;
    return d <= limit ? d + 1 : (size_t)-1;
}

size_t rbac_role_suggest(const rbac_index_t *ix, const char *name, const char **out, size_t max)
{
    if (!name || !*name || max == 0) return 0;
    if (max > SUGGEST_MAX) max = SUGGEST_MAX;
    size_t scores[SUGGEST_MAX] = {0}, n = 0;
    size_t total = roles_count(ix) + sizeof legacy_names / sizeof legacy_names[0];
    for (size_t i = 0; i < total; i++) {
        const char *cand = i < roles_count(ix) ? roles_at(ix, i)->role_name
                                               : legacy_names[i - roles_count(ix)].legacy;
        size_t s = suggest_score(name, cand);
        if (s == (size_t)-1) continue;
        /* Insertion into the sorted top `max`; ties keep table order. */
        size_t at = n;
        while (at > 0 && scores[at - 1] > s)
            at--;
        if (at >= max) continue;
        size_t last = n < max ? n : max - 1;
        for (size_t k = last; k > at; k--) {
            scores[k] = scores[k - 1];
            out[k] = out[k - 1];
        }
        scores[at] = s;
        out[at] = cand;
        if (n < max) n++;
    }
    return n;
}

/* Slow-path check on an uncompiled definition: some grant matches and no carve-out does. */
static int def_grants(const rbac_role_def_t *d, const char *action, int data)
{
    const rbac_strlist_t *grant = data ? &d->data_actions : &d->actions;
    const rbac_strlist_t *deny = data ? &d->not_data_actions : &d->not_actions;
    int hit = 0;
    for (size_t i = 0; i < grant->n && !hit; i++)
        hit = rbac_action_matches(grant->v[i], action);
    for (size_t i = 0; i < deny->n && hit; i++)
        hit = !rbac_action_matches(deny->v[i], action);
    return hit;
}

const rbac_role_def_t *rbac_builtin_suggest_for(const char *action, int data_action)
{
    if (!action) return NULL;
    for (size_t i = 0; i < rbac_builtin_count(); i++)
        if (def_grants(&builtins[i], action, data_action)) return &builtins[i];
    return NULL;
}
