/* rbac_validate.c — checks before a custom role or a role assignment is created.
 *
 * The REST plane calls these before it writes anything, so the messages are what the user reads
 * in the 400/404/409 body: each says what is wrong, in which field (err->path), and what would be
 * accepted. */
#include "rbac/rbac_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int blank(const char *s)
{
    for (; s && *s; s++)
        if (!isspace((unsigned char)*s)) return 0;
    return 1;
}

static int validate_list(const rbac_strlist_t *l, const char *field, castor_err *err)
{
    char path[CASTOR_ERR_PATH_MAX];
    if (l->n > RBAC_PERMISSIONS_MAX) {
        castor_err_set(err, CASTOR_ELIMIT, "%s has %zu entries; at most %u are allowed", field,
                       l->n, RBAC_PERMISSIONS_MAX);
        castor_err_at(err, field);
        return CASTOR_ELIMIT;
    }
    for (size_t i = 0; i < l->n; i++) {
        if (rbac_action_validate(l->v[i], err) == 0) continue;
        snprintf(path, sizeof path, "%s[%zu]", field, i);
        castor_err_at(err, path);
        return CASTOR_EINVAL;
    }
    return 0;
}

/* A role name must not shadow another role: a built-in, a legacy preview name, or a custom role
 * with another GUID (Azure requires unique role names per directory). */
static int check_name_free(const rbac_index_t *ix, const rbac_role_def_t *def, const char *guid,
                           castor_err *err)
{
    int legacy = 0;
    const rbac_role_def_t *other = rbac_role_find(ix, def->role_name, &legacy, NULL);
    if (!other || rbac_roledef_id_equal(other->id, guid)) return 0;
    castor_err_http(err, CASTOR_ECONFLICT, 409, "RoleDefinitionWithSameNameExists",
                    "a role named '%s' already exists (%s role %s%s); choose another roleName",
                    def->role_name, other->type == RBAC_ROLE_BUILTIN ? "built-in" : "custom",
                    other->id, legacy ? ", by its legacy preview name" : "");
    castor_err_at(err, "properties.roleName");
    return CASTOR_ECONFLICT;
}

static int validate_scopes(const rbac_role_def_t *def, castor_err *err)
{
    char path[CASTOR_ERR_PATH_MAX];
    if (def->assignable_scopes.n == 0) {
        castor_err_set(err, CASTOR_EINVAL,
                       "a custom role needs at least one assignable scope, such as "
                       "'/subscriptions/{subscriptionId}'");
        castor_err_at(err, "properties.assignableScopes");
        return CASTOR_EINVAL;
    }
    for (size_t i = 0; i < def->assignable_scopes.n; i++) {
        rbac_scope_t sc;
        snprintf(path, sizeof path, "properties.assignableScopes[%zu]", i);
        if (rbac_scope_parse(def->assignable_scopes.v[i], &sc, err) < 0) {
            castor_err_at(err, path);
            return CASTOR_EINVAL;
        }
        if (sc.kind == RBAC_SCOPE_MANAGEMENT_GROUP && def->data_actions.n > 0) {
            castor_err_set(err, CASTOR_EINVAL,
                           "assignable scope '%s' is a management group, and a custom role with "
                           "DataActions cannot be assignable at a management group; use "
                           "subscriptions or resource groups instead",
                           def->assignable_scopes.v[i]);
            castor_err_at(err, path);
            return CASTOR_EINVAL;
        }
    }
    return 0;
}

int rbac_role_def_validate(const rbac_index_t *ix, const rbac_role_def_t *def, castor_err *err)
{
    char guid[RBAC_GUID_LEN + 1];
    if (rbac_roledef_guid(def->id, guid, err) < 0) {
        castor_err_at(err, "name");
        return CASTOR_EINVAL;
    }
    if (def->type != RBAC_ROLE_CUSTOM) {
        castor_err_set(err, CASTOR_EINVAL,
                       "only custom roles can be created or changed; set properties.type to "
                       "'CustomRole'");
        castor_err_at(err, "properties.type");
        return CASTOR_EINVAL;
    }
    if (blank(def->role_name) || strlen(def->role_name) >= RBAC_ROLE_NAME_MAX) {
        castor_err_set(err, CASTOR_EINVAL, "roleName must be 1 to %u characters, not blank",
                       RBAC_ROLE_NAME_MAX - 1);
        castor_err_at(err, "properties.roleName");
        return CASTOR_EINVAL;
    }
    if (def->actions.n == 0 && def->data_actions.n == 0) {
        castor_err_set(err, CASTOR_EINVAL,
                       "role '%s' grants nothing: give it at least one entry in actions or "
                       "dataActions (notActions and notDataActions only subtract from those)",
                       def->role_name);
        castor_err_at(err, "properties.permissions[0]");
        return CASTOR_EINVAL;
    }
    if (validate_list(&def->actions, "properties.permissions[0].actions", err) ||
        validate_list(&def->not_actions, "properties.permissions[0].notActions", err) ||
        validate_list(&def->data_actions, "properties.permissions[0].dataActions", err) ||
        validate_list(&def->not_data_actions, "properties.permissions[0].notDataActions", err))
        return err ? err->rc : CASTOR_EINVAL;
    if (validate_scopes(def, err) < 0) return CASTOR_EINVAL;
    return ix ? check_name_free(ix, def, guid, err) : 0;
}

static int field_error(castor_err *err, const char *path, const char *what, const char *value)
{
    castor_err_set(err, CASTOR_EINVAL,
                   "%s '%s' is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", what,
                   value ? value : "");
    castor_err_at(err, path);
    return CASTOR_EINVAL;
}

/* The role's assignable scopes must cover the assignment's scope. */
static int check_assignable(const rbac_role_t *r, const char *norm, const char *scope,
                            castor_err *err)
{
    size_t len = strlen(norm);
    for (size_t i = 0; i < r->def.assignable_scopes.n; i++)
        if (rbac_scope_norm_covers(r->scopes_norm[i], strlen(r->scopes_norm[i]), norm, len))
            return 0;
    char list[512] = "";
    for (size_t i = 0, off = 0; i < r->def.assignable_scopes.n && off < sizeof list; i++)
        off += (size_t)snprintf(list + off, sizeof list - off, "%s'%s'", i ? ", " : "",
                                r->def.assignable_scopes.v[i]);
    castor_err_set(err, CASTOR_EINVAL,
                   "role '%s' can be assigned only at or below its assignable scopes (%s); scope "
                   "'%s' is outside them",
                   r->def.role_name, list, scope);
    castor_err_at(err, "scope");
    return CASTOR_EINVAL;
}

/* ARM's rules for a name already in use and for the same grant under another name. */
static int check_existing(const rbac_index_t *ix, const rbac_assignment_t *as, const char *guid,
                          const char *norm, castor_err *err)
{
    for (size_t i = 0; i < ix->n_asg; i++) {
        const rbac_assignment_t *o = &ix->orig[i];
        if (!rbac_streq_ci(o->name, as->name)) continue;
        const rbac_asg_t *h = &ix->asg[i];
        if (rbac_streq_ci(o->principal_id, as->principal_id) &&
            strcmp(o->role_definition_id, guid) == 0 && strcmp(h->scope, norm) == 0)
            return 1;
        return castor_err_http(
            err, CASTOR_EINVAL, 400, "RoleAssignmentUpdateNotPermitted",
            "Tenant ID, application ID, principal ID, and scope are not allowed "
            "to be updated. (assignment '%s' exists with other values; delete it "
            "first or use a new name)",
            as->name);
    }
    const rbac_bucket_t *b = rbac_index_bucket(ix, as->principal_id);
    for (uint32_t k = 0; b && k < b->count; k++) {
        const rbac_asg_t *h = &ix->asg[b->first + k];
        if (strcmp(h->scope, norm) == 0 && strcmp(ix->orig[h->orig].role_definition_id, guid) == 0)
            return castor_err_http(err, CASTOR_ECONFLICT, 409, "RoleAssignmentExists",
                                   "The role assignment already exists. (as '%s')",
                                   ix->orig[h->orig].name);
    }
    return 0;
}

int rbac_assignment_validate(const rbac_index_t *ix, const rbac_assignment_t *as, castor_err *err)
{
    if (!rbac_is_guid(as->name)) return field_error(err, "name", "role assignment name", as->name);
    if (!rbac_is_guid(as->principal_id))
        return field_error(err, "properties.principalId", "principalId", as->principal_id);
    if ((unsigned)as->principal_type > RBAC_PRINCIPAL_FOREIGN_GROUP) {
        castor_err_set(err, CASTOR_EINVAL,
                       "principalType must be User, Group, ServicePrincipal or ForeignGroup");
        castor_err_at(err, "properties.principalType");
        return CASTOR_EINVAL;
    }
    rbac_scope_t sc;
    if (rbac_scope_parse(as->scope, &sc, err) < 0) {
        castor_err_at(err, "scope");
        return CASTOR_EINVAL;
    }
    char guid[RBAC_GUID_LEN + 1];
    if (rbac_roledef_guid(as->role_definition_id, guid, err) < 0) {
        castor_err_at(err, "properties.roleDefinitionId");
        return CASTOR_EINVAL;
    }
    const rbac_role_t *r = rbac_index_role(ix, guid);
    if (!r) {
        castor_err_http(err, CASTOR_ENOTFOUND, 404, "RoleDefinitionDoesNotExist",
                        "The specified role definition with ID '%s' does not exist.", guid);
        castor_err_at(err, "properties.roleDefinitionId");
        return CASTOR_ENOTFOUND;
    }
    const char *norm = sc.kind == RBAC_SCOPE_ROOT ? "" : sc.norm;
    if (check_assignable(r, norm, as->scope, err) < 0) return CASTOR_EINVAL;
    return check_existing(ix, as, guid, norm, err);
}
