/* arm_authz.c — Microsoft.Authorization: role definitions (built-in and custom), role
 * assignments and the caller's effective permissions, as ARM answers them (security.md §4.6).
 *
 * Every change is one store transaction, committed before the RBAC snapshot is rebuilt and
 * before the answer goes out, so a client that gets 201 sees the assignment on its next call.
 * Validation is the engine's (rbac_assignment_validate, rbac_role_def_validate) against the
 * snapshot; the store's unique constraints catch a concurrent duplicate. */
#include "arm/arm_internal.h"

#include "core/ids.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "store/store_audit.h"
#include "store/store_directory.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RA_WRITE "Microsoft.Authorization/roleAssignments/write"
#define RA_DELETE "Microsoft.Authorization/roleAssignments/delete"

#define RA_TYPE "Microsoft.Authorization/roleAssignments"

/* ---- principals, from the directory ---- */

/* Finds a user, service principal or group by object id. *type_out gets its kind and
 * name_out (may be NULL) its UPN / appId / display name. CASTOR_ENOTFOUND when none. */
static int principal_lookup(store_txn_t *t, const char *id, rbac_principal_type_t *type_out,
                            char *name_out, size_t name_size, castor_err *err)
{
    castor_err e;
    castor_err_clear(&e);
    store_user_t *u = malloc(sizeof *u);
    if (!u) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    int rc = store_user_get(t, id, u, &e);
    if (rc == 0) {
        *type_out = RBAC_PRINCIPAL_USER;
        if (name_out) snprintf(name_out, name_size, "%s", u->upn);
    }
    free(u);
    if (rc != CASTOR_ENOTFOUND) return rc < 0 ? (*err = e, rc) : rc;
    store_sp_t sp;
    memset(&sp, 0, sizeof sp);
    rc = store_sp_get(t, id, &sp, &e);
    if (rc == 0) {
        *type_out = RBAC_PRINCIPAL_SERVICE_PRINCIPAL;
        if (name_out) snprintf(name_out, name_size, "%s", sp.app_id);
    }
    store_sp_release(&sp);
    if (rc != CASTOR_ENOTFOUND) return rc < 0 ? (*err = e, rc) : rc;
    store_group_t g;
    rc = store_group_get(t, id, &g, &e);
    if (rc == 0) {
        *type_out = RBAC_PRINCIPAL_GROUP;
        if (name_out) snprintf(name_out, name_size, "%s", g.display_name);
    }
    if (rc < 0 && rc != CASTOR_ENOTFOUND) *err = e;
    return rc;
}

/* ---- shapes ---- */

/* "/subscriptions/{sub}" of a scope, or NULL at root and management groups. */
static const char *scope_subscription(arena_t *a, const char *scope)
{
    if (strncasecmp(scope, "/subscriptions/", 15) != 0) return NULL;
    const char *s = scope + 15;
    size_t n = strcspn(s, "/");
    return n ? arena_strndup(a, s, n) : NULL;
}

static json_t *ra_json(http_request_t *req, const store_role_assignment_t *ra)
{
    arena_t *a = &req->arena;
    const char *sub = scope_subscription(a, ra->scope);
    const char *rd = sub ? arena_sprintf(a,
                                         "/subscriptions/%s/providers/Microsoft.Authorization/"
                                         "roleDefinitions/%s",
                                         sub, ra->role_definition_id)
                         : arena_sprintf(a, "/providers/Microsoft.Authorization/roleDefinitions/%s",
                                         ra->role_definition_id);
    const char *id = strcmp(ra->scope, "/") == 0
                         ? arena_sprintf(a, "/providers/" RA_TYPE "/%s", ra->id)
                         : arena_sprintf(a, "%s/providers/" RA_TYPE "/%s", ra->scope, ra->id);
    const char *when = arm_time(a, ra->created);
    json_t *props = json_pack(
        "{s:s, s:s, s:s, s:s, s:n, s:n, s:s, s:s, s:s, s:s, s:n}", "roleDefinitionId", rd,
        "principalId", ra->principal_id, "principalType", ra->principal_type, "scope", ra->scope,
        "condition", "conditionVersion", "createdOn", when, "updatedOn", when, "createdBy",
        ra->created_by, "updatedBy", ra->created_by, "delegatedManagedIdentityResourceId");
    if (props)
        json_object_set_new(props, "description",
                            ra->description[0] ? json_string(ra->description) : json_null());
    return json_pack("{s:s, s:s, s:s, s:o}", "id", id, "name", ra->id, "type", RA_TYPE,
                     "properties", props);
}

/* The scope a request addresses, normalized for comparisons ("" never: "/" at root). */
static const char *request_scope(http_request_t *req)
{
    return access_request_scope(req);
}

/* The resource a scope names must exist: a group, or an instance (the only resource type). */
static int scope_exists(http_request_t *req, store_txn_t *t, castor_err *err)
{
    const char *sub = http_request_param(req, "subscriptionId");
    const char *group = http_request_param(req, "resourceGroupName");
    const char *name = http_request_param(req, "resourceName");
    if (!group) return CASTOR_OK;
    int rc = arm_group_check(t, sub, group, err);
    if (rc < 0 || !name) return rc;
    const char *ns = http_request_param(req, "providerNamespace");
    const char *type = http_request_param(req, "resourceType");
    store_dt_instance_t *d = malloc(sizeof *d);
    if (!d) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    castor_err e;
    castor_err_clear(&e);
    int found = ns && type && strcasecmp(ns, "Microsoft.DigitalTwins") == 0 &&
                strcasecmp(type, "digitalTwinsInstances") == 0 &&
                store_dt_instance_get(t, name, d, &e) == 0 &&
                strcasecmp(d->subscription_id, sub) == 0 &&
                strcasecmp(d->resource_group, group) == 0;
    free(d);
    if (found) return CASTOR_OK;
    return castor_err_http(err, CASTOR_ENOTFOUND, 404, "ResourceNotFound",
                           "The Resource '%s/%s/%s' under resource group '%s' was not found. For "
                           "more details please go to https://aka.ms/ARMResourceNotFoundFix",
                           ns ? ns : "", type ? type : "", name, group);
}

/* ---- role definitions ---- */

typedef struct rd_ctx {
    http_request_t *req;
    const char *sub;   /* id prefix */
    const char *scope; /* list: roles assignable at, above or below it */
    const char *guid;  /* get/delete: one role */
    json_t *items;
    store_role_definition_t *found; /* copy of the matching row's metadata */
    castor_err *err;
    int rc;
} rd_ctx_t;

static int rd_relevant(const rbac_role_def_t *def, const char *scope)
{
    for (size_t i = 0; i < def->assignable_scopes.n; i++)
        if (rbac_scope_covers(def->assignable_scopes.v[i], scope) ||
            rbac_scope_covers(scope, def->assignable_scopes.v[i]))
            return 1;
    return 0;
}

static int rd_one(const store_role_definition_t *d, void *ctx)
{
    rd_ctx_t *c = ctx;
    rbac_role_def_t def;
    if (access_roledef_from_store(&c->req->arena, d, &def, c->err) < 0) {
        c->rc = c->err->rc;
        return 1;
    }
    if (c->guid) {
        if (strcasecmp(d->id, c->guid) != 0) return 0;
        json_array_append_new(c->items, arm_roledef_json(&c->req->arena, &def, c->sub, d));
        if (c->found) {
            *c->found = *d;
            c->found->permissions = strdup(d->permissions);
            c->found->assignable_scopes = strdup(d->assignable_scopes);
        }
        return 1;
    }
    if (rd_relevant(&def, c->scope))
        json_array_append_new(c->items, arm_roledef_json(&c->req->arena, &def, c->sub, d));
    return 0;
}

int arm_h_roledef_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    arm_filter_t f;
    int rc = arm_filter_parse(&req->arena, http_request_query(req, "$filter"), &f, err);
    if (rc < 0) return rc;
    int by_name = 0, by_type = 0;
    const char *name = arm_filter_get(&f, "roleName", &by_name);
    const char *type = arm_filter_get(&f, "type", &by_type);
    for (int i = 0; i < f.n; i++)
        if (strcasecmp(f.t[i].name, "roleName") != 0 && strcasecmp(f.t[i].name, "type") != 0)
            return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidFilterInQueryString",
                                   "The $filter term '%s' is not supported for role definitions: "
                                   "use roleName eq '...' or type eq 'BuiltInRole|CustomRole'.",
                                   f.t[i].name);
    int want_builtin = !by_type || (type && strcasecmp(type, "BuiltInRole") == 0);
    int want_custom = !by_type || (type && strcasecmp(type, "CustomRole") == 0);
    const char *scope = request_scope(req);
    rd_ctx_t c = {
        req, http_request_param(req, "subscriptionId"), scope, NULL, json_array(), NULL, err, 0};
    if (by_name) {
        /* Names resolve like everywhere else: case-insensitively, legacy preview names to the
         * roles that replaced them. */
        access_rbac_ref_t *ref;
        const rbac_index_t *ix = access_rbac_acquire(arm_deps(req)->rbac, &ref);
        int legacy = 0;
        const rbac_role_def_t *r = rbac_role_find(ix, name ? name : "", &legacy, NULL);
        char guid[RBAC_GUID_LEN + 1] = "";
        if (r && rbac_roledef_guid(r->id, guid, NULL) == 0) {
            if (r->type == RBAC_ROLE_BUILTIN && want_builtin)
                json_array_append_new(c.items, arm_roledef_json(&req->arena, r, c.sub, NULL));
            else if (r->type == RBAC_ROLE_CUSTOM && want_custom)
                c.guid = arena_strdup(&req->arena, guid);
        }
        access_rbac_release(ref);
        if (!c.guid) return arm_send_page(req, resp, c.items, err);
    } else if (want_builtin) {
        for (size_t i = 0; i < rbac_builtin_count(); i++)
            json_array_append_new(c.items,
                                  arm_roledef_json(&req->arena, rbac_builtin_at(i), c.sub, NULL));
    }
    if (want_custom) {
        store_txn_t *t;
        rc = arm_begin(req, STORE_READ, &t, err);
        if (rc == 0) {
            rc = store_role_definition_each(t, rd_one, &c, err);
            store_rollback(t);
        }
        if (rc == 0) rc = c.rc;
    }
    if (rc < 0) {
        json_decref(c.items);
        return rc;
    }
    return arm_send_page(req, resp, c.items, err);
}

static int roledef_guid_param(http_request_t *req, char guid[RBAC_GUID_LEN + 1], castor_err *err)
{
    const char *id = http_request_param(req, "roleDefinitionId");
    if (!id || !ids_is_guid(id))
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRoleDefinitionId",
                               "The role definition ID '%s' is not valid: it must be a GUID.",
                               id ? id : "");
    for (size_t i = 0; i <= RBAC_GUID_LEN; i++)
        guid[i] = (char)tolower((unsigned char)id[i]);
    return CASTOR_OK;
}

/* The role definition with that GUID as JSON (built-in or custom), or NULL with err filled. */
static json_t *roledef_load(http_request_t *req, const char *guid, store_role_definition_t *meta,
                            castor_err *err)
{
    const char *sub = http_request_param(req, "subscriptionId");
    for (size_t i = 0; i < rbac_builtin_count(); i++)
        if (rbac_roledef_id_equal(rbac_builtin_at(i)->id, guid))
            return arm_roledef_json(&req->arena, rbac_builtin_at(i), sub, NULL);
    rd_ctx_t c = {req, sub, "/", guid, json_array(), meta, err, 0};
    store_txn_t *t;
    int rc = arm_begin(req, STORE_READ, &t, err);
    if (rc == 0) {
        rc = store_role_definition_each(t, rd_one, &c, err);
        store_rollback(t);
    }
    json_t *one = rc == 0 && c.rc == 0 ? json_incref(json_array_get(c.items, 0)) : NULL;
    json_decref(c.items);
    if (!one && rc == 0 && c.rc == 0)
        castor_err_http(err, CASTOR_ENOTFOUND, 404, "RoleDefinitionDoesNotExist",
                        "The specified role definition with ID '%s' does not exist.", guid);
    return one;
}

int arm_h_roledef_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    char guid[RBAC_GUID_LEN + 1];
    int rc = roledef_guid_param(req, guid, err);
    if (rc < 0) return rc;
    json_t *one = roledef_load(req, guid, NULL, err);
    if (!one) return err->rc ? err->rc : CASTOR_ENOTFOUND;
    return arm_send(req, resp, 200, one, err);
}

int arm_h_roledef_put(http_request_t *req, http_response_t *resp, castor_err *err)
{
    char guid[RBAC_GUID_LEN + 1];
    int rc = roledef_guid_param(req, guid, err);
    if (rc < 0) return rc;
    const json_t *props = json_object_get(req->json, "properties");
    const json_t *name = json_object_get(props, "roleName");
    const json_t *desc = json_object_get(props, "description");
    const json_t *type = json_object_get(props, "type");
    if (!json_is_object(props) || !json_is_string(name))
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRoleDefinition",
                               "The body must be {\"properties\": {\"roleName\", \"description\", "
                               "\"type\": \"CustomRole\", \"permissions\": [...], "
                               "\"assignableScopes\": [...]}}.");
    if (type && (!json_is_string(type) || strcasecmp(json_string_value(type), "CustomRole") != 0))
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRoleDefinition",
                               "properties.type must be 'CustomRole': built-in roles are fixed.");
    if (json_is_string(desc) && strlen(json_string_value(desc)) >= CASTOR_DESCRIPTION_MAX)
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRoleDefinition",
                               "properties.description is %zu characters long; at most %u are "
                               "allowed.",
                               strlen(json_string_value(desc)), CASTOR_DESCRIPTION_MAX - 1);
    for (size_t i = 0; i < rbac_builtin_count(); i++)
        if (rbac_roledef_id_equal(rbac_builtin_at(i)->id, guid))
            return castor_err_http(err, CASTOR_EPERM, 403, "BuiltInRoleDefinitionCannotBeUpdated",
                                   "'%s' is a built-in role; built-in roles cannot be changed. "
                                   "Create a custom role with a new GUID instead.",
                                   rbac_builtin_at(i)->role_name);
    rbac_role_def_t def;
    memset(&def, 0, sizeof def);
    rc = access_roledef_from_json(&req->arena, json_object_get(props, "permissions"),
                                  json_object_get(props, "assignableScopes"), &def, err);
    if (rc < 0) return rc;
    def.id = guid;
    def.role_name = json_string_value(name);
    def.description = json_is_string(desc) ? json_string_value(desc) : "";
    def.type = RBAC_ROLE_CUSTOM;
    access_rbac_ref_t *ref;
    const rbac_index_t *ix = access_rbac_acquire(arm_deps(req)->rbac, &ref);
    rc = rbac_role_def_validate(ix, &def, err);
    access_rbac_release(ref);
    if (rc < 0) {
        if (!err->code[0]) arm_err_recode(err, 400, "InvalidRoleDefinition");
        return rc;
    }
    /* Whoever defines a role must be allowed to at every scope it can be assigned at, and
     * those scopes must exist. */
    store_txn_t *t;
    rc = arm_begin(req, STORE_WRITE, &t, err);
    if (rc < 0) return rc;
    for (size_t i = 0; rc == 0 && i < def.assignable_scopes.n; i++) {
        const char *s = def.assignable_scopes.v[i];
        rbac_scope_t sc;
        rc = rbac_scope_parse(s, &sc, err);
        if (rc == 0 && sc.subscription[0]) rc = arm_subscription_check(t, sc.subscription, err);
        if (rc == 0 && sc.resource_group[0])
            rc = arm_group_check(t, sc.subscription, sc.resource_group, err);
        if (rc == 0)
            rc = access_require(req, "Microsoft.Authorization/roleDefinitions/write", s, err);
    }
    store_role_definition_t rec;
    memset(&rec, 0, sizeof rec);
    json_t *ids = json_object_get(props, "assignableScopes");
    rec.permissions = json_dump_compact(json_object_get(props, "permissions"));
    rec.assignable_scopes = json_dump_compact(ids);
    snprintf(rec.id, sizeof rec.id, "%s", guid);
    snprintf(rec.role_name, sizeof rec.role_name, "%s", def.role_name);
    snprintf(rec.description, sizeof rec.description, "%s", def.description);
    const access_principal_t *c = req->caller;
    snprintf(rec.created_by, sizeof rec.created_by, "%s", c ? c->oid : "");
    rec.created = rec.updated = time_now_s();
    if (rc == 0 && (!rec.permissions || !rec.assignable_scopes))
        rc = castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    if (rc == 0) rc = store_role_definition_put(t, &rec, err);
    if (rc == CASTOR_ECONFLICT)
        castor_err_http(err, rc, 409, "RoleDefinitionWithSameNameExists",
                        "A custom role with the same name '%s' already exists.", def.role_name);
    rc = rc == 0 ? store_commit(t, err) : arm_fail(t, rc);
    if (rc == 0) rc = access_rbac_reload(arm_deps(req)->rbac, err);
    if (rc == 0) {
        rc = arm_send(
            req, resp, 201,
            arm_roledef_json(&req->arena, &def, http_request_param(req, "subscriptionId"), &rec),
            err);
    }
    store_role_definition_clear(&rec);
    return rc;
}

typedef struct uses {
    const char *guid;
    int count;
} uses_t;

static int uses_one(const store_role_assignment_t *ra, void *ctx)
{
    uses_t *u = ctx;
    if (strcasecmp(ra->role_definition_id, u->guid) == 0) u->count++;
    return 0;
}

int arm_h_roledef_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    char guid[RBAC_GUID_LEN + 1];
    int rc = roledef_guid_param(req, guid, err);
    if (rc < 0) return rc;
    for (size_t i = 0; i < rbac_builtin_count(); i++)
        if (rbac_roledef_id_equal(rbac_builtin_at(i)->id, guid))
            return castor_err_http(err, CASTOR_EPERM, 403, "BuiltInRoleDefinitionCannotBeDeleted",
                                   "'%s' is a built-in role; built-in roles cannot be deleted.",
                                   rbac_builtin_at(i)->role_name);
    castor_err e;
    castor_err_clear(&e);
    json_t *body = roledef_load(req, guid, NULL, &e);
    if (!body) {
        if (e.rc != CASTOR_ENOTFOUND) {
            *err = e;
            return e.rc;
        }
        resp->status = 204;
        return CASTOR_OK;
    }
    store_txn_t *t;
    rc = arm_begin(req, STORE_WRITE, &t, err);
    uses_t u = {guid, 0};
    if (rc == 0) rc = store_role_assignment_each(t, uses_one, &u, err);
    if (rc == 0 && u.count)
        rc = castor_err_http(err, CASTOR_ECONFLICT, 409, "RoleDefinitionHasAssignments",
                             "There are existing role assignments referencing role '%s' (%d). "
                             "Delete them first.",
                             guid, u.count);
    if (rc == 0) rc = store_role_definition_delete(t, guid, err);
    if (t) rc = rc == 0 ? store_commit(t, err) : arm_fail(t, rc);
    if (rc == 0) rc = access_rbac_reload(arm_deps(req)->rbac, err);
    if (rc < 0) {
        json_decref(body);
        return rc;
    }
    return arm_send(req, resp, 200, body, err);
}

/* ---- role assignments ---- */

static const char *ra_name_param(http_request_t *req, castor_err *err)
{
    const char *name = http_request_param(req, "roleAssignmentName");
    if (name && ids_is_guid(name)) return name;
    castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRoleAssignmentId",
                    "The role assignment ID '%s' is not valid. The role assignment ID must be a "
                    "GUID.",
                    name ? name : "");
    return NULL;
}

int arm_h_ra_put(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *name = ra_name_param(req, err);
    if (!name) return CASTOR_EINVAL;
    const json_t *props = json_object_get(req->json, "properties");
    const json_t *rd = json_object_get(props, "roleDefinitionId");
    const json_t *pid = json_object_get(props, "principalId");
    const json_t *ptype = json_object_get(props, "principalType");
    const json_t *desc = json_object_get(props, "description");
    const json_t *cond = json_object_get(props, "condition");
    if (!json_is_object(props) || !json_is_string(rd) || !json_is_string(pid))
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRoleAssignmentRequest",
                               "The body must be {\"properties\": {\"roleDefinitionId\", "
                               "\"principalId\", \"principalType\"?, \"description\"?}}.");
    if (cond && !json_is_null(cond))
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRoleAssignmentRequest",
                               "castor does not evaluate ABAC conditions; an assignment with a "
                               "condition would fail closed, so it is refused.");
    if (ptype && !json_is_null(ptype) && !json_is_string(ptype))
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRoleAssignmentRequest",
                               "properties.principalType must be a string.");
    if (json_is_string(desc) && strlen(json_string_value(desc)) >= CASTOR_DESCRIPTION_MAX)
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRoleAssignmentRequest",
                               "properties.description is %zu characters long; at most %u are "
                               "allowed.",
                               strlen(json_string_value(desc)), CASTOR_DESCRIPTION_MAX - 1);
    const char *scope = request_scope(req);
    const char *principal = json_string_value(pid);
    const access_principal_t *caller = req->caller;
    const char *tenant =
        caller && caller->tenant_id[0] ? caller->tenant_id : arm_deps(req)->tenant_id;
    store_role_assignment_t *ra = calloc(1, sizeof *ra);
    if (!ra) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    store_txn_t *t;
    int rc = arm_begin(req, STORE_WRITE, &t, err);
    if (rc < 0) goto out;
    rc = scope_exists(req, t, err);
    rbac_principal_type_t actual = RBAC_PRINCIPAL_USER;
    if (rc == 0) {
        castor_err e;
        castor_err_clear(&e);
        int prc = ids_is_guid(principal) ? principal_lookup(t, principal, &actual, NULL, 0, &e)
                                         : CASTOR_ENOTFOUND;
        if (prc == CASTOR_ENOTFOUND)
            rc = castor_err_http(
                err, prc, 400, "PrincipalNotFound",
                "Principal %s does not exist in the directory %s. Check that you have the "
                "correct principal ID. If you are creating this principal and then immediately "
                "assigning a role, this error might be related to a replication delay. In this "
                "case, set the role assignment principalType property to a value, such as "
                "ServicePrincipal, User, or Group. See https://aka.ms/docs-principaltype",
                principal, tenant);
        else if (prc < 0) {
            *err = e;
            rc = prc;
        }
    }
    if (rc == 0 && ptype && json_is_string(ptype) &&
        strcasecmp(json_string_value(ptype), access_principal_type_name(actual)) != 0)
        rc = castor_err_http(err, CASTOR_EINVAL, 400, "UnmatchedPrincipalType",
                             "The PrincipalId '%s' has type '%s' , which is different from "
                             "specified PrincipalType '%s'.",
                             principal, access_principal_type_name(actual),
                             json_string_value(ptype));
    rbac_assignment_t as = {.name = name,
                            .scope = scope,
                            .principal_id = principal,
                            .principal_type = actual,
                            .role_definition_id = json_string_value(rd)};
    int same = 0;
    if (rc == 0) {
        access_rbac_ref_t *ref;
        const rbac_index_t *ix = access_rbac_acquire(arm_deps(req)->rbac, &ref);
        same = rbac_assignment_validate(ix, &as, err);
        access_rbac_release(ref);
        if (same < 0) {
            rc = same;
            if (!err->code[0]) arm_err_recode(err, 400, "InvalidRoleAssignmentRequest");
        }
    }
    if (rc == 0 && same == 1) {
        /* Identical to an existing assignment of that name: ARM answers 200 with it. */
        rc = store_role_assignment_get(t, name, ra, err);
        store_rollback(t);
        if (rc == 0) rc = arm_send(req, resp, 200, ra_json(req, ra), err);
        goto out;
    }
    if (rc == 0) {
        char guid[RBAC_GUID_LEN + 1];
        rbac_roledef_guid(as.role_definition_id, guid, NULL);
        snprintf(ra->id, sizeof ra->id, "%s", name);
        for (char *p = ra->id; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        snprintf(ra->scope, sizeof ra->scope, "%s", scope);
        snprintf(ra->principal_id, sizeof ra->principal_id, "%s", principal);
        for (char *p = ra->principal_id; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        snprintf(ra->principal_type, sizeof ra->principal_type, "%s",
                 access_principal_type_name(actual));
        snprintf(ra->role_definition_id, sizeof ra->role_definition_id, "%s", guid);
        snprintf(ra->created_by, sizeof ra->created_by, "%s", caller ? caller->oid : "");
        if (json_is_string(desc))
            snprintf(ra->description, sizeof ra->description, "%s", json_string_value(desc));
        ra->created = time_now_s();
        rc = store_role_assignment_create(t, ra, err);
        if (rc == CASTOR_ECONFLICT)
            castor_err_http(err, rc, 409, "RoleAssignmentExists",
                            "The role assignment already exists.");
        if (rc == 0) rc = arm_audit_change(t, req, RA_WRITE, ra, err);
    }
    rc = rc == 0 ? store_commit(t, err) : arm_fail(t, rc);
    if (rc == 0) rc = access_rbac_reload(arm_deps(req)->rbac, err);
    if (rc == 0) rc = arm_send(req, resp, 201, ra_json(req, ra), err);
out:
    free(ra);
    return rc;
}

/* Loads the named assignment when it is at exactly the request's scope. */
static int ra_load(http_request_t *req, store_txn_t *t, const char *name,
                   store_role_assignment_t *ra, castor_err *err)
{
    castor_err e;
    castor_err_clear(&e);
    int rc = store_role_assignment_get(t, name, ra, &e);
    if (rc == 0) {
        rbac_scope_t a, b;
        if (rbac_scope_parse(ra->scope, &a, NULL) < 0 ||
            rbac_scope_parse(request_scope(req), &b, NULL) < 0 || strcmp(a.norm, b.norm) != 0)
            rc = CASTOR_ENOTFOUND;
    }
    if (rc == CASTOR_ENOTFOUND)
        return castor_err_http(err, rc, 404, "RoleAssignmentNotFound",
                               "The role assignment '%s' is not found.", name);
    if (rc < 0) *err = e;
    return rc;
}

int arm_h_ra_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *name = ra_name_param(req, err);
    if (!name) return CASTOR_EINVAL;
    store_role_assignment_t *ra = malloc(sizeof *ra);
    if (!ra) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    store_txn_t *t;
    int rc = arm_begin(req, STORE_READ, &t, err);
    if (rc == 0) {
        rc = ra_load(req, t, name, ra, err);
        store_rollback(t);
    }
    json_t *body = rc == 0 ? ra_json(req, ra) : NULL;
    free(ra);
    return rc < 0 ? rc : arm_send(req, resp, 200, body, err);
}

int arm_h_ra_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *name = ra_name_param(req, err);
    if (!name) return CASTOR_EINVAL;
    store_role_assignment_t *ra = malloc(sizeof *ra);
    if (!ra) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    store_txn_t *t;
    json_t *body = NULL;
    int rc = arm_begin(req, STORE_WRITE, &t, err);
    if (rc < 0) goto out;
    castor_err e;
    castor_err_clear(&e);
    rc = ra_load(req, t, name, ra, &e);
    if (rc == CASTOR_ENOTFOUND) {
        store_rollback(t);
        resp->status = 204;
        rc = CASTOR_OK;
        goto out;
    }
    if (rc < 0) {
        *err = e;
        store_rollback(t);
        goto out;
    }
    /* A subscription keeps at least one Owner: without one, nobody could ever assign roles in
     * it again. */
    rbac_scope_t sc;
    if (strcasecmp(ra->role_definition_id, RBAC_ROLE_OWNER) == 0 &&
        rbac_scope_parse(ra->scope, &sc, NULL) == 0 && sc.kind == RBAC_SCOPE_SUBSCRIPTION) {
        int owners = 0;
        rc = store_role_assignment_count(t, ra->scope, RBAC_ROLE_OWNER, &owners, err);
        if (rc == 0 && owners <= 1)
            rc = castor_err_http(err, CASTOR_ECONFLICT, 409, "LastOwnerRoleAssignment",
                                 "Cannot delete the last RBAC admin assignment: %s is the only "
                                 "Owner of subscription %s. Assign Owner to another principal "
                                 "at /subscriptions/%s first, then delete this assignment.",
                                 ra->principal_id, sc.subscription, sc.subscription);
    }
    if (rc == 0) rc = store_role_assignment_delete(t, ra->id, err);
    if (rc == 0) rc = arm_audit_change(t, req, RA_DELETE, ra, err);
    rc = rc == 0 ? store_commit(t, err) : arm_fail(t, rc);
    if (rc == 0) rc = access_rbac_reload(arm_deps(req)->rbac, err);
    if (rc == 0) body = ra_json(req, ra);
    if (rc == 0) rc = arm_send(req, resp, 200, body, err);
out:
    free(ra);
    return rc;
}

typedef struct ra_list {
    http_request_t *req;
    const char *scope;
    int at_scope;           /* atScope(): at or above only */
    const char *principal;  /* principalId eq */
    const char *const *ids; /* assignedTo(): the principal and its groups */
    size_t nids;
    json_t *items;
} ra_list_t;

static int ra_list_one(const store_role_assignment_t *ra, void *ctx)
{
    ra_list_t *l = ctx;
    int above = rbac_scope_covers(ra->scope, l->scope);
    int below = rbac_scope_covers(l->scope, ra->scope);
    if (!(above || (!l->at_scope && below))) return 0;
    if (l->principal && strcasecmp(ra->principal_id, l->principal) != 0) return 0;
    if (l->ids) {
        int hit = 0;
        for (size_t i = 0; !hit && i < l->nids; i++)
            hit = strcasecmp(ra->principal_id, l->ids[i]) == 0;
        if (!hit) return 0;
    }
    json_array_append_new(l->items, ra_json(l->req, ra));
    return 0;
}

typedef struct grp_collect {
    arena_t *a;
    const char **ids;
    size_t n, cap;
} grp_collect_t;

static int grp_one(const char *group_id, void *ctx)
{
    grp_collect_t *g = ctx;
    if (g->n == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 16;
        const char **nv = arena_alloc(g->a, nc * sizeof *nv);
        if (!nv) return 1;
        if (g->n) memcpy(nv, g->ids, g->n * sizeof *nv);
        g->ids = nv;
        g->cap = nc;
    }
    g->ids[g->n++] = arena_strdup(g->a, group_id);
    return 0;
}

int arm_h_ra_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    arm_filter_t f;
    int rc = arm_filter_parse(&req->arena, http_request_query(req, "$filter"), &f, err);
    if (rc < 0) return rc;
    ra_list_t l = {.req = req, .scope = request_scope(req), .items = json_array()};
    const char *assigned = NULL;
    int has_assigned = 0;
    for (int i = 0; i < f.n; i++) {
        if (strcasecmp(f.t[i].name, "atScope") == 0 && !f.t[i].value)
            l.at_scope = 1;
        else if (strcasecmp(f.t[i].name, "principalId") == 0 && f.t[i].value)
            l.principal = f.t[i].value;
        else if (strcasecmp(f.t[i].name, "assignedTo") == 0 && f.t[i].value) {
            assigned = f.t[i].value;
            has_assigned = 1;
        } else {
            json_decref(l.items);
            return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidFilterInQueryString",
                                   "The $filter term '%s' is not supported for role assignments: "
                                   "use atScope(), principalId eq '{id}' or assignedTo('{id}').",
                                   f.t[i].name);
        }
    }
    store_txn_t *t;
    rc = arm_begin(req, STORE_READ, &t, err);
    if (rc == 0) rc = scope_exists(req, t, err);
    if (rc == 0 && has_assigned) {
        grp_collect_t g = {&req->arena, NULL, 0, 0};
        grp_one(assigned, &g);
        rc = store_principal_groups(t, assigned, grp_one, &g, err);
        l.ids = g.ids;
        l.nids = g.n;
    }
    if (rc == 0) rc = store_role_assignment_each(t, ra_list_one, &l, err);
    if (t) store_rollback(t);
    if (rc < 0) {
        json_decref(l.items);
        return rc;
    }
    return arm_send_page(req, resp, l.items, err);
}

/* ---- Microsoft.Authorization/permissions ---- */

static json_t *strlist_json(const rbac_strlist_t *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < l->n; i++)
        json_array_append_new(arr, json_string(l->v[i]));
    return arr;
}

int arm_h_permissions(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const access_principal_t *c = req->caller;
    if (!c)
        return castor_err_http(err, CASTOR_EAUTH, 401, "AuthenticationFailed",
                               "Authentication failed.");
    store_txn_t *t;
    int rc = arm_begin(req, STORE_READ, &t, err);
    if (rc == 0) {
        rc = scope_exists(req, t, err);
        store_rollback(t);
    }
    if (rc < 0) return rc;
    rbac_principal_t p = {.object_id = c->oid, .group_ids = {c->groups, c->ngroups}};
    rbac_permission_t *perms = NULL;
    size_t n = 0;
    access_rbac_ref_t *ref;
    const rbac_index_t *ix = access_rbac_acquire(arm_deps(req)->rbac, &ref);
    rc = rbac_permissions(ix, &p, request_scope(req), &req->arena, &perms, &n, err);
    access_rbac_release(ref);
    if (rc < 0) return rc;
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            items, json_pack("{s:o, s:o, s:o, s:o}", "actions", strlist_json(&perms[i].actions),
                             "notActions", strlist_json(&perms[i].not_actions), "dataActions",
                             strlist_json(&perms[i].data_actions), "notDataActions",
                             strlist_json(&perms[i].not_data_actions)));
    return arm_send_page(req, resp, items, err);
}
