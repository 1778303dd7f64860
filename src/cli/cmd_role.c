/* cmd_role.c — `castor role definition list|create` and `castor role assignment
 * create|list|delete`: Microsoft.Authorization through the resource manager, with az's flags,
 * the requests az sends (real-clients-cli-python.md §5) and az's output (properties flattened,
 * principalName / roleDefinitionName added to lists). Role names resolve like the server's:
 * case-insensitive, legacy "(Preview)" names to the Data roles (said so on stderr), and an
 * unknown name lists the close ones. */
#include "cli/cmd_role.h"

#include "cli/cli_internal.h"
#include "core/ids.h"
#include "rbac/rbac.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RA_VERSION "2022-04-01"
#define RD_VERSION "2022-04-01"

const char *role_arm_url(cli_ctx_t *ctx, const char *path)
{
    if (cli_server_load(ctx) < 0) return NULL;
    size_t n = strlen(ctx->server.arm);
    while (n && ctx->server.arm[n - 1] == '/')
        n--;
    return cli_arena_printf(ctx, "%.*s%s", (int)n, ctx->server.arm, path);
}

static json_t *arm(cli_ctx_t *ctx, const char *method, const char *path, const json_t *body)
{
    const char *url = role_arm_url(ctx, path);
    return url ? cli_call(ctx, method, url, CLI_RESOURCE_ARM, body) : NULL;
}

static const char *odata(cli_ctx_t *ctx, const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += *p == '\'' ? 2 : 1;
    char *out = arena_alloc(&ctx->arena, n + 1), *o = out;
    if (!out) return "";
    for (const char *p = s; *p; p++) {
        *o++ = *p;
        if (*p == '\'') *o++ = '\'';
    }
    *o = '\0';
    return out;
}

/* The default scope: -g's group or --scope, else the subscription. */
static const char *scope_of(cli_ctx_t *ctx, const char *scope, const char *group)
{
    if (scope && scope[0]) return scope;
    if (cli_server_load(ctx) < 0) return NULL;
    if (group && group[0])
        return cli_arena_printf(ctx, "/subscriptions/%s/resourceGroups/%s",
                                ctx->server.subscription, group);
    return cli_arena_printf(ctx, "/subscriptions/%s", ctx->server.subscription);
}

/* --- assignee and role resolution ------------------------------------------------------- */

typedef struct principal {
    const char *id;
    const char *type; /* User | ServicePrincipal | Group */
    const char *name;
} principal_t;

static int graph_first(cli_ctx_t *ctx, const char *collection, const char *filter, json_t **one)
{
    if (cli_server_load(ctx) < 0) return ctx->err.rc;
    const char *url = cli_arena_printf(ctx, "%sv1.0/%s?$filter=%s", ctx->server.graph, collection,
                                       cli_escape(ctx, filter));
    json_t *page = cli_call(ctx, "GET", url, CLI_RESOURCE_GRAPH, NULL);
    if (!page) return ctx->err.rc;
    json_t *v = json_object_get(page, "value");
    *one = json_array_size(v) ? json_incref(json_array_get(v, 0)) : NULL;
    json_decref(page);
    return 0;
}

/* As az: a UPN looks up users, anything else first service principals by name (an appId),
 * then directoryObjects/getByIds (an object id of a user, group or service principal). */
static int assignee_resolve(cli_ctx_t *ctx, const char *assignee, principal_t *p)
{
    json_t *one = NULL;
    if (strchr(assignee, '@')) {
        if (graph_first(ctx, "users",
                        cli_arena_printf(ctx, "userPrincipalName eq '%s'", odata(ctx, assignee)),
                        &one) < 0)
            return ctx->err.rc;
        if (one) p->type = "User";
    } else {
        if (graph_first(ctx, "servicePrincipals",
                        cli_arena_printf(ctx, "servicePrincipalNames/any(c:c eq '%s')",
                                         odata(ctx, assignee)),
                        &one) < 0)
            return ctx->err.rc;
        if (one) p->type = "ServicePrincipal";
        if (!one && ids_is_guid(assignee)) {
            json_t *body = json_pack("{s:[s], s:[s,s,s]}", "ids", assignee, "types", "user",
                                     "group", "servicePrincipal");
            const char *url =
                cli_arena_printf(ctx, "%sv1.0/directoryObjects/getByIds", ctx->server.graph);
            json_t *page = cli_call(ctx, "POST", url, CLI_RESOURCE_GRAPH, body);
            json_decref(body);
            if (!page) return ctx->err.rc;
            json_t *v = json_array_get(json_object_get(page, "value"), 0);
            if (v) {
                one = json_incref(v);
                const char *odt = json_string_value(json_object_get(v, "@odata.type"));
                p->type = odt && strstr(odt, "group")              ? "Group"
                          : odt && strstr(odt, "servicePrincipal") ? "ServicePrincipal"
                                                                   : "User";
            }
            json_decref(page);
        }
    }
    if (!one)
        return cli_fail(ctx, CASTOR_ENOTFOUND,
                        "Cannot find user or service principal in graph database for '%s'. If "
                        "the assignee is an appId, make sure the corresponding service principal "
                        "is created with 'castor ad sp create --id %s'.",
                        assignee, assignee);
    p->id = cli_arena_strdup(ctx, json_string_value(json_object_get(one, "id")));
    const char *name = json_string_value(json_object_get(one, "userPrincipalName"));
    if (!name) name = json_string_value(json_object_get(one, "appId"));
    if (!name) name = json_string_value(json_object_get(one, "displayName"));
    p->name = cli_arena_strdup(ctx, name ? name : p->id);
    json_decref(one);
    return p->id ? 0 : cli_fail(ctx, CASTOR_EIO, "the directory answered without an id");
}

/* Role name, legacy name or GUID -> the role definition's ARM id at scope. */
static const char *role_resolve(cli_ctx_t *ctx, const char *scope, const char *role,
                                const char **name_out)
{
    if (ids_is_guid(role)) {
        if (cli_server_load(ctx) < 0) return NULL;
        if (name_out) *name_out = role;
        return cli_arena_printf(ctx,
                                "/subscriptions/%s/providers/Microsoft.Authorization/"
                                "roleDefinitions/%s",
                                ctx->server.subscription, role);
    }
    int legacy = 0;
    const rbac_role_def_t *builtin = rbac_role_find(NULL, role, &legacy, NULL);
    if (builtin && legacy)
        cli_warn(ctx,
                 "'%s' is the former name of the built-in role '%s'; assigning '%s' (its "
                 "permissions are the same).",
                 role, builtin->role_name, builtin->role_name);
    const char *path = cli_arena_printf(
        ctx, "%s/providers/Microsoft.Authorization/roleDefinitions?$filter=%s&api-version=%s",
        scope, cli_escape(ctx, cli_arena_printf(ctx, "roleName eq '%s'", odata(ctx, role))),
        RD_VERSION);
    json_t *page = arm(ctx, "GET", path, NULL);
    if (!page) return NULL;
    json_t *first = json_array_get(json_object_get(page, "value"), 0);
    const char *id =
        first ? cli_arena_strdup(ctx, json_string_value(json_object_get(first, "id"))) : NULL;
    if (first && name_out)
        *name_out = cli_arena_strdup(ctx, json_string_value(json_object_get(
                                              json_object_get(first, "properties"), "roleName")));
    json_decref(page);
    if (id) return id;
    const char *close[3];
    size_t n = rbac_role_suggest(NULL, role, close, 3);
    char hint[1024] = "";
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(hint);
        snprintf(hint + l, sizeof hint - l, "%s'%s'", i ? ", " : "", close[i]);
    }
    cli_fail(ctx, CASTOR_ENOTFOUND, "Role '%s' doesn't exist.%s%s%s", role,
             n ? " Did you mean " : "", hint, n ? "?" : "");
    return NULL;
}

/* az's shape: properties flattened, resourceGroup parsed from the id. */
static json_t *flatten(cli_ctx_t *ctx, const json_t *ra)
{
    json_t *out = json_deep_copy(json_object_get(ra, "properties"));
    if (!out) out = json_object();
    json_object_set(out, "id", json_object_get(ra, "id"));
    json_object_set(out, "name", json_object_get(ra, "name"));
    json_object_set(out, "type", json_object_get(ra, "type"));
    const char *id = json_string_value(json_object_get(ra, "id"));
    const char *g = id ? strcasestr(id, "/resourceGroups/") : NULL;
    if (g) {
        g += strlen("/resourceGroups/");
        json_object_set_new(out, "resourceGroup",
                            json_string(cli_arena_printf(ctx, "%.*s", (int)strcspn(g, "/"), g)));
    } else {
        json_object_set_new(out, "resourceGroup", json_null());
    }
    json_object_set_new(out, "canDelegate", json_null());
    return out;
}

int role_assignment_create_at(cli_ctx_t *ctx, const char *scope, const char *assignee,
                              const char *role)
{
    principal_t p = {0};
    const char *type = cli_arg(ctx, "--assignee-principal-type");
    const char *oid = cli_arg(ctx, "--assignee-object-id");
    if (oid) {
        p.id = oid;
        p.type = type ? type : "User";
    } else if (!assignee) {
        return cli_usage(ctx, "--assignee or --assignee-object-id is required");
    } else if (assignee_resolve(ctx, assignee, &p) < 0) {
        return ctx->err.rc;
    }
    const char *rd = role_resolve(ctx, scope, role, NULL);
    if (!rd) return ctx->err.rc;
    char name[CASTOR_GUID_LEN + 1];
    ids_guid(name);
    json_t *body = json_pack("{s:{s:s, s:s, s:s}}", "properties", "roleDefinitionId", rd,
                             "principalId", p.id, "principalType", p.type);
    const char *desc = cli_arg(ctx, "--description");
    if (body && desc)
        json_object_set_new(json_object_get(body, "properties"), "description", json_string(desc));
    json_t *ra = arm(ctx, "PUT",
                     cli_arena_printf(ctx,
                                      "%s/providers/Microsoft.Authorization/roleAssignments/%s"
                                      "?api-version=%s",
                                      scope, name, RA_VERSION),
                     body);
    json_decref(body);
    if (!ra) return ctx->err.rc;
    json_t *out = flatten(ctx, ra);
    json_decref(ra);
    return cli_result(ctx, out);
}

typedef struct rolemap {
    json_t *by_guid; /* guid -> roleName */
} rolemap_t;

static int rolemap_load(cli_ctx_t *ctx, const char *scope, rolemap_t *m)
{
    m->by_guid = json_object();
    json_t *page = arm(ctx, "GET",
                       cli_arena_printf(ctx,
                                        "%s/providers/Microsoft.Authorization/roleDefinitions"
                                        "?api-version=%s",
                                        scope, RD_VERSION),
                       NULL);
    if (!page) return ctx->err.rc;
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(page, "value"), i, d)
    {
        const char *guid = json_string_value(json_object_get(d, "name"));
        const char *rn =
            json_string_value(json_object_get(json_object_get(d, "properties"), "roleName"));
        if (guid && rn) json_object_set_new(m->by_guid, guid, json_string(rn));
    }
    json_decref(page);
    return 0;
}

static const char *guid_tail(const char *id)
{
    const char *s = id ? strrchr(id, '/') : NULL;
    return s ? s + 1 : (id ? id : "");
}

static int scope_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/')
        la--;
    while (lb > 1 && b[lb - 1] == '/')
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

/* Every role assignment a list path answers, across its nextLinks, flattened as az shows
 * them and with roleDefinitionName from m. NULL with ctx->err on failure; caller decrefs. */
static json_t *assignments_all(cli_ctx_t *ctx, const char *path, const rolemap_t *m)
{
    json_t *all = cli_get_all(ctx, role_arm_url(ctx, path), CLI_RESOURCE_ARM);
    if (!all) return NULL;
    json_t *list = json_array();
    size_t i;
    json_t *ra;
    json_array_foreach(all, i, ra)
    {
        json_t *f = flatten(ctx, ra);
        const char *rg = guid_tail(json_string_value(json_object_get(f, "roleDefinitionId")));
        json_t *rn = json_object_get(m->by_guid, rg);
        json_object_set(f, "roleDefinitionName", rn ? rn : json_null());
        json_array_append_new(list, f);
    }
    json_decref(all);
    return list;
}

/* Fills each listed assignment's missing principalName as az does: one
 * directoryObjects/getByIds for all their principal ids; a user shows its UPN, a service
 * principal its first servicePrincipalName (its appId), a group its displayName. Names are a
 * courtesy: a directory that cannot answer (a caller who may not read it) leaves them null. */
static void principal_names_fill(cli_ctx_t *ctx, json_t *list)
{
    json_t *ids = json_array();
    size_t i;
    json_t *ra;
    json_array_foreach(list, i, ra)
    {
        json_t *pid = json_object_get(ra, "principalId");
        if (!json_is_string(pid) || json_is_string(json_object_get(ra, "principalName"))) continue;
        int seen = 0;
        for (size_t k = 0; !seen && k < json_array_size(ids); k++)
            seen = json_equal(json_array_get(ids, k), pid);
        if (!seen) json_array_append(ids, pid);
    }
    if (!json_array_size(ids)) {
        json_decref(ids);
        return;
    }
    json_t *body =
        json_pack("{s:o, s:[s,s,s]}", "ids", ids, "types", "user", "group", "servicePrincipal");
    castor_err saved = ctx->err;
    json_t *page =
        body
            ? cli_call(ctx, "POST",
                       cli_arena_printf(ctx, "%sv1.0/directoryObjects/getByIds", ctx->server.graph),
                       CLI_RESOURCE_GRAPH, body)
            : NULL;
    json_decref(body);
    ctx->err = saved;
    json_t *obj;
    size_t j;
    json_array_foreach(json_object_get(page, "value"), j, obj)
    {
        const char *id = json_string_value(json_object_get(obj, "id"));
        const char *name = json_string_value(json_object_get(obj, "userPrincipalName"));
        json_t *spns = json_object_get(obj, "servicePrincipalNames");
        if (!name) name = json_string_value(json_array_get(spns, 0));
        if (!name) name = json_string_value(json_object_get(obj, "displayName"));
        if (!id || !name) continue;
        json_array_foreach(list, i, ra)
        {
            const char *pid = json_string_value(json_object_get(ra, "principalId"));
            if (pid && strcasecmp(pid, id) == 0)
                json_object_set_new(ra, "principalName", json_string(name));
        }
    }
    json_decref(page);
}

int role_assignment_list_at(cli_ctx_t *ctx, const char *scope, const char *assignee,
                            const char *role, int inherited, json_t **out)
{
    *out = NULL;
    principal_t p = {0};
    if (assignee && assignee_resolve(ctx, assignee, &p) < 0) return ctx->err.rc;
    const char *role_guid = NULL;
    if (role) {
        const char *rd = role_resolve(ctx, scope, role, NULL);
        if (!rd) return ctx->err.rc;
        role_guid = guid_tail(rd);
    }
    rolemap_t m;
    if (rolemap_load(ctx, scope, &m) < 0) {
        json_decref(m.by_guid);
        return ctx->err.rc;
    }
    const char *path = cli_arena_printf(ctx,
                                        "%s/providers/Microsoft.Authorization/roleAssignments"
                                        "?$filter=atScope()&api-version=%s",
                                        scope, RA_VERSION);
    json_t *all = assignments_all(ctx, path, &m);
    json_decref(m.by_guid);
    if (!all) return ctx->err.rc;
    json_t *list = json_array();
    size_t i;
    json_t *f;
    json_array_foreach(all, i, f)
    {
        const char *s = json_string_value(json_object_get(f, "scope"));
        const char *pid = json_string_value(json_object_get(f, "principalId"));
        const char *rg = guid_tail(json_string_value(json_object_get(f, "roleDefinitionId")));
        int keep = (inherited || (s && scope_equal(s, scope))) &&
                   (!p.id || (pid && strcasecmp(pid, p.id) == 0)) &&
                   (!role_guid || strcasecmp(rg, role_guid) == 0);
        if (!keep) continue;
        json_object_set_new(f, "principalName", p.id ? json_string(p.name) : json_null());
        json_array_append(list, f);
    }
    json_decref(all);
    principal_names_fill(ctx, list);
    *out = list;
    return 0;
}

int role_assignment_delete_at(cli_ctx_t *ctx, const char *scope, const char *assignee,
                              const char *role)
{
    json_t *list = NULL;
    if (role_assignment_list_at(ctx, scope, assignee, role, 0, &list) < 0) return ctx->err.rc;
    size_t i, deleted = 0;
    json_t *ra;
    json_array_foreach(list, i, ra)
    {
        const char *id = json_string_value(json_object_get(ra, "id"));
        json_t *r = id ? arm(ctx, "DELETE",
                             cli_arena_printf(ctx, "%s?api-version=%s", id, RA_VERSION), NULL)
                       : NULL;
        if (!r) {
            json_decref(list);
            return ctx->err.rc;
        }
        json_decref(r);
        deleted++;
    }
    json_decref(list);
    if (!deleted) cli_warn(ctx, "No matched assignments were found to delete at %s.", scope);
    return cli_result(ctx, NULL);
}

/* --- commands ------------------------------------------------------------------------ */

static int role_assignment_create(cli_ctx_t *ctx)
{
    const char *scope = scope_of(ctx, cli_arg(ctx, "--scope"), cli_arg(ctx, "--resource-group"));
    if (!scope) return ctx->err.rc;
    return role_assignment_create_at(ctx, scope, cli_arg(ctx, "--assignee"),
                                     cli_arg(ctx, "--role"));
}

static int role_assignment_list(cli_ctx_t *ctx)
{
    if (cli_arg_bool(ctx, "--all")) {
        if (cli_server_load(ctx) < 0) return ctx->err.rc;
        /* As az: role names from the subscription's definitions, principal names from Graph,
         * every page. */
        rolemap_t m;
        const char *sub = cli_arena_printf(ctx, "/subscriptions/%s", ctx->server.subscription);
        if (rolemap_load(ctx, sub, &m) < 0) {
            json_decref(m.by_guid);
            return ctx->err.rc;
        }
        const char *path = cli_arena_printf(
            ctx, "%s/providers/Microsoft.Authorization/roleAssignments?api-version=%s", sub,
            RA_VERSION);
        json_t *list = assignments_all(ctx, path, &m);
        json_decref(m.by_guid);
        if (!list) return ctx->err.rc;
        principal_names_fill(ctx, list);
        return cli_result(ctx, list);
    }
    const char *scope = scope_of(ctx, cli_arg(ctx, "--scope"), cli_arg(ctx, "--resource-group"));
    if (!scope) return ctx->err.rc;
    json_t *list;
    if (role_assignment_list_at(ctx, scope, cli_arg(ctx, "--assignee"), cli_arg(ctx, "--role"),
                                cli_arg_bool(ctx, "--include-inherited"), &list) < 0)
        return ctx->err.rc;
    return cli_result(ctx, list);
}

static int role_assignment_delete(cli_ctx_t *ctx)
{
    const char **ids;
    int n = cli_arg_list(ctx, "--ids", &ids);
    for (int i = 0; i < n; i++) {
        json_t *r = arm(ctx, "DELETE",
                        cli_arena_printf(ctx, "%s?api-version=%s", ids[i], RA_VERSION), NULL);
        if (!r) return ctx->err.rc;
        json_decref(r);
    }
    if (n) return cli_result(ctx, NULL);
    const char *assignee = cli_arg(ctx, "--assignee");
    if (!assignee) return cli_usage(ctx, "give --ids, or --assignee (with --role and --scope)");
    const char *scope = scope_of(ctx, cli_arg(ctx, "--scope"), cli_arg(ctx, "--resource-group"));
    if (!scope) return ctx->err.rc;
    return role_assignment_delete_at(ctx, scope, assignee, cli_arg(ctx, "--role"));
}

static int role_definition_list(cli_ctx_t *ctx)
{
    const char *scope = scope_of(ctx, cli_arg(ctx, "--scope"), NULL);
    if (!scope) return ctx->err.rc;
    const char *name = cli_arg(ctx, "--name");
    const char *filter = name ? cli_arena_printf(ctx, "roleName eq '%s'", odata(ctx, name))
                         : cli_arg_bool(ctx, "--custom-role-only") ? "type eq 'CustomRole'"
                                                                   : NULL;
    if (name) {
        int legacy = 0;
        const rbac_role_def_t *r = rbac_role_find(NULL, name, &legacy, NULL);
        if (r && legacy)
            cli_warn(ctx, "'%s' is the former name of the built-in role '%s'.", name, r->role_name);
    }
    json_t *page =
        arm(ctx, "GET",
            cli_arena_printf(ctx,
                             "%s/providers/Microsoft.Authorization/roleDefinitions"
                             "?%s%s%sapi-version=%s",
                             scope, filter ? "$filter=" : "", filter ? cli_escape(ctx, filter) : "",
                             filter ? "&" : "", RD_VERSION),
            NULL);
    if (!page) return ctx->err.rc;
    /* az flattens: roleName, roleType, permissions, assignableScopes at the top level. */
    json_t *list = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(page, "value"), i, d)
    {
        json_t *f = json_deep_copy(json_object_get(d, "properties"));
        if (!f) continue;
        json_object_set(f, "roleType", json_object_get(f, "type"));
        json_object_set(f, "id", json_object_get(d, "id"));
        json_object_set(f, "name", json_object_get(d, "name"));
        json_object_set(f, "type", json_object_get(d, "type"));
        json_array_append_new(list, f);
    }
    json_decref(page);
    return cli_result(ctx, list);
}

/* --role-definition takes JSON inline or @file, in az's form: {Name, Description, Actions,
 * NotActions, DataActions, NotDataActions, AssignableScopes} (either case). */
static int role_definition_create(cli_ctx_t *ctx)
{
    const char *arg = cli_arg(ctx, "--role-definition");
    json_error_t jerr;
    json_t *def = arg[0] == '@' ? json_load_file(arg + 1, 0, &jerr) : json_loads(arg, 0, &jerr);
    if (!json_is_object(def)) {
        json_decref(def);
        return cli_usage(ctx, "--role-definition is not a JSON object: %s", jerr.text);
    }
#define GET(k1, k2) (json_object_get(def, k1) ? json_object_get(def, k1) : json_object_get(def, k2))
    const json_t *name = GET("Name", "name");
    const json_t *scopes = GET("AssignableScopes", "assignableScopes");
    if (!json_is_string(name) || !json_is_array(scopes) || !json_array_size(scopes)) {
        json_decref(def);
        return cli_usage(ctx, "--role-definition needs Name and AssignableScopes");
    }
    json_t *perm = json_object();
    json_object_set(perm, "actions",
                    GET("Actions", "actions") ? GET("Actions", "actions") : json_array());
    json_object_set(perm, "notActions",
                    GET("NotActions", "notActions") ? GET("NotActions", "notActions")
                                                    : json_array());
    json_object_set(perm, "dataActions",
                    GET("DataActions", "dataActions") ? GET("DataActions", "dataActions")
                                                      : json_array());
    json_object_set(perm, "notDataActions",
                    GET("NotDataActions", "notDataActions")
                        ? GET("NotDataActions", "notDataActions")
                        : json_array());
    const json_t *desc = GET("Description", "description");
    char id[CASTOR_GUID_LEN + 1];
    ids_guid(id);
    json_t *body = json_pack("{s:{s:O, s:s, s:s, s:[o], s:O}}", "properties", "roleName", name,
                             "description", json_is_string(desc) ? json_string_value(desc) : "",
                             "type", "CustomRole", "permissions", perm, "assignableScopes", scopes);
#undef GET
    const char *scope = json_string_value(json_array_get(scopes, 0));
    json_t *r = arm(ctx, "PUT",
                    cli_arena_printf(ctx,
                                     "%s/providers/Microsoft.Authorization/roleDefinitions/%s"
                                     "?api-version=%s",
                                     scope ? scope : "", id, RD_VERSION),
                    body);
    json_decref(body);
    json_decref(def);
    if (!r) return ctx->err.rc;
    json_t *f = json_deep_copy(json_object_get(r, "properties"));
    json_object_set(f, "roleType", json_object_get(f, "type"));
    json_object_set(f, "id", json_object_get(r, "id"));
    json_object_set(f, "name", json_object_get(r, "name"));
    json_object_set(f, "type", json_object_get(r, "type"));
    json_decref(r);
    return cli_result(ctx, f);
}

static const cli_flag_t ra_create_flags[] = {
    {"--assignee", NULL, "ID", "The user (UPN), service principal (appId) or object id.", 0},
    {"--assignee-object-id", NULL, "OID", "The object id, with no directory lookup.", 0},
    {"--assignee-principal-type", NULL, "TYPE",
     "User, Group or ServicePrincipal (with --assignee-object-id).", 0},
    {"--role", NULL, "ROLE", "Role name or id.", CLI_REQUIRED},
    {"--scope", NULL, "SCOPE",
     "Where the role applies, e.g. /subscriptions/{id}/resourceGroups/{rg}.", 0},
    {"--resource-group", "-g", "GROUP", "Scope to this resource group.", 0},
    {"--description", NULL, "TEXT", "A note on the assignment.", 0},
    {0}};
static const cli_flag_t ra_list_flags[] = {
    {"--assignee", NULL, "ID", "Only this principal's assignments.", 0},
    {"--role", NULL, "ROLE", "Only this role's assignments.", 0},
    {"--scope", NULL, "SCOPE", "The scope (default: the subscription).", 0},
    {"--resource-group", "-g", "GROUP", "Scope to this resource group.", 0},
    {"--all", NULL, NULL, "Every assignment in the subscription, at every scope.", 0},
    {"--include-inherited", NULL, NULL, "Also assignments at scopes above.", 0},
    {0}};
static const cli_flag_t ra_delete_flags[] = {
    {"--ids", NULL, "ID", "Full ids of assignments to delete.", CLI_MULTI},
    {"--assignee", NULL, "ID", "The principal whose assignments go.", 0},
    {"--role", NULL, "ROLE", "Only this role (default: every role of the assignee).", 0},
    {"--scope", NULL, "SCOPE", "The scope (default: the subscription).", 0},
    {"--resource-group", "-g", "GROUP", "Scope to this resource group.", 0},
    {"--yes", "-y", NULL, "Do not prompt (castor never prompts).", 0},
    {0}};
static const cli_flag_t rd_list_flags[] = {
    {"--name", "-n", "NAME", "A role name (legacy names resolve too).", 0},
    {"--custom-role-only", NULL, NULL, "Only custom roles.", 0},
    {"--scope", NULL, "SCOPE", "The scope (default: the subscription).", 0},
    {0}};
static const cli_flag_t rd_create_flags[] = {
    {"--role-definition", NULL, "JSON",
     "The role as JSON or @file: Name, Description, Actions, NotActions, DataActions, "
     "NotDataActions, AssignableScopes.",
     CLI_REQUIRED},
    {0}};

static const cli_command_t role_commands[] = {
    {"role assignment create", "Assign a role to a user, group or service principal at a scope.",
     "castor role assignment create --assignee alice@castor.local --role Reader -g rg1",
     ra_create_flags, role_assignment_create, "principalId,principalType,roleDefinitionId,scope"},
    {"role assignment list", "List role assignments.", "castor role assignment list --all",
     ra_list_flags, role_assignment_list, "principalName,roleDefinitionName,scope"},
    {"role assignment delete", "Delete role assignments.",
     "castor role assignment delete --assignee alice@castor.local --role Reader -g rg1",
     ra_delete_flags, role_assignment_delete, NULL},
    {"role definition list", "List role definitions, built-in and custom.",
     "castor role definition list --name \"Azure Digital Twins Data Owner\"", rd_list_flags,
     role_definition_list, "roleName,roleType,name"},
    {"role definition create", "Create a custom role.",
     "castor role definition create --role-definition @role.json", rd_create_flags,
     role_definition_create, "roleName,roleType,name"},
    {0}};

static const cli_topic_t role_topics[] = {{"role", "Manage Azure RBAC roles and role assignments."},
                                          {"role assignment", "Manage role assignments."},
                                          {"role definition", "Manage role definitions."},
                                          {0}};

const cli_group_t cli_group_role = {"role", role_topics, role_commands};
