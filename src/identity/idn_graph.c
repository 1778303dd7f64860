/* idn_graph.c — the Microsoft Graph v1.0 subset that `az ad`, `az role assignment --assignee`
 * and a portal-like UI use: /me, /users, /groups (+ members/$ref), /applications (+
 * addPassword, removePassword, PATCH), /servicePrincipals, /oauth2PermissionGrants,
 * /directoryObjects/getByIds, with the $filter forms those clients send
 * (real-clients-cli-python.md §6). Errors in the OData shape (errors.c).
 *
 * Who may do what: a directory administrator (the bootstrap admin) or a service principal
 * holding Graph's Application.ReadWrite.All / Directory.ReadWrite.All app role manages
 * everything; any signed-in user reads users, groups and service principals (as Entra's
 * default user permissions allow), registers applications, and manages what it owns.
 *
 * This file holds what every resource shares (idn_graph.h) and the route table; each
 * resource's handlers are in idn_graph_{users,groups,apps,sps,grants}.c. */
#include "identity/idn_graph.h"

#include "core/ids.h"
#include "core/timeutil.h"
#include "identity/idn_crypto.h"
#include "serve/bootstrap.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int idn_graph_denied(castor_err *err)
{
    return castor_err_http(err, CASTOR_EPERM, 403, "Authorization_RequestDenied",
                           "Insufficient privileges to complete the operation.");
}

int idn_graph_not_found(castor_err *err, const char *id)
{
    return castor_err_http(err, CASTOR_ENOTFOUND, 404, "Request_ResourceNotFound",
                           "Resource '%s' does not exist or one of its queried reference-property "
                           "objects are not present.",
                           id ? id : "");
}

int idn_graph_bad_request(castor_err *err, const char *msg)
{
    return castor_err_http(err, CASTOR_EINVAL, 400, "Request_BadRequest", "%s", msg);
}

int idn_graph_too_long(castor_err *err, const char *resource, const char *prop, const char *value,
                       size_t cap)
{
    size_t n = value ? strlen(value) : 0;
    if (n < cap) return 0;
    return castor_err_http(err, CASTOR_EINVAL, 400, "Request_BadRequest",
                           "Invalid value specified for property '%s' of resource '%s': it is "
                           "%zu bytes long, and at most %zu are allowed.",
                           prop, resource, n, cap - 1);
}

typedef struct role_ctx {
    const char *graph_sp;
    int admin;
} role_ctx_t;

static int graph_role(const store_app_role_assignment_t *a, void *ctx)
{
    role_ctx_t *r = ctx;
    if (strcmp(a->resource_id, r->graph_sp) == 0 &&
        (strcmp(a->app_role_id, "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9") == 0 ||
         strcmp(a->app_role_id, "19dbc75e-c2e2-444c-a770-ec69d8559fc7") == 0))
        r->admin = 1;
    return 0;
}

/* Opens a transaction for the caller access_guard_graph authenticated and works out whether
 * it administers the directory. */
int idn_graph_begin(http_request_t *req, idn_gctx_t *g, store_mode_t mode, castor_err *err)
{
    memset(g, 0, sizeof *g);
    g->req = req;
    g->who = req->caller;
    if (!g->who)
        return castor_err_set(err, CASTOR_EINTERNAL, "Graph route %s ran without its guard",
                              req->route_name ? req->route_name : "?");
    g->base = arena_sprintf(&req->arena, "%s/v1.0", idn_base_url(req));
    int rc = store_begin(idn_store(req), mode, &g->t, err);
    if (rc < 0) return rc;
    castor_err e;
    castor_err_clear(&e);
    if (g->who->kind == ACCESS_KIND_USER) {
        store_user_t u;
        if (store_user_get(g->t, g->who->oid, &u, &e) == 0) g->admin = u.directory_admin;
        sodium_memzero(&u, sizeof u);
    } else {
        store_sp_t gsp;
        if (store_sp_get_by_app_id(g->t, g->who->tenant_id, IDN_APP_GRAPH, &gsp, &e) == 0) {
            role_ctx_t r = {gsp.id, 0};
            store_app_role_assignment_each(g->t, g->who->oid, graph_role, &r, &e);
            g->admin = r.admin;
            store_sp_release(&gsp);
        }
    }
    return CASTOR_OK;
}

int idn_graph_end(idn_gctx_t *g, int rc, castor_err *err)
{
    if (!g->t) return rc;
    if (rc == 0) return store_commit(g->t, err);
    store_rollback(g->t);
    return rc;
}

void idn_graph_iso(int64_t s, char out[32])
{
    char full[40];
    time_format_rfc3339(s, 0, full, sizeof full);
    snprintf(out, 32, "%.19sZ", full);
}

int64_t idn_graph_parse_iso(const char *s, int64_t dflt)
{
    if (!s) return dflt;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (sscanf(s, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) < 3)
        return dflt;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

/* ---- $filter (http/odata.h): x eq 'v', startswith(x,'v'), x/any(c:c eq 'v'), by and ---- */

/* 1 when every term is a form Graph serves (its only call is startswith(x,'v')). */
static int filter_ok(const http_filter_t *f)
{
    for (int i = 0; i < f->n; i++) {
        const http_filter_term_t *t = &f->t[i];
        if (!t->value) return 0;
        if (t->kind == HTTP_FILTER_CALL && (strcasecmp(t->name, "startswith") != 0 || !t->arg))
            return 0;
    }
    return 1;
}

static int filter_match(const http_filter_t *f, const json_t *obj)
{
    for (int i = 0; i < f->n; i++) {
        const http_filter_term_t *c = &f->t[i];
        const char *field = c->kind == HTTP_FILTER_CALL ? c->arg : c->name;
        const json_t *v = json_object_get(obj, field);
        if (c->kind == HTTP_FILTER_ANY) {
            int any = 0;
            size_t k;
            const json_t *e;
            json_array_foreach(v, k, e)
            {
                if (json_is_string(e) && strcasecmp(json_string_value(e), c->value) == 0) any = 1;
            }
            if (!any) return 0;
        } else if (json_is_string(v)) {
            const char *s = json_string_value(v);
            if (c->kind == HTTP_FILTER_EQ ? strcasecmp(s, c->value) != 0
                                          : strncasecmp(s, c->value, strlen(c->value)) != 0)
                return 0;
        } else if (json_is_boolean(v)) {
            if ((strcasecmp(c->value, "true") == 0) != json_is_true(v)) return 0;
        } else {
            return 0;
        }
    }
    return 1;
}

/* ---- representations ---- */

json_t *idn_graph_user_json(const store_user_t *u)
{
    char when[32];
    idn_graph_iso(u->created, when);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:n, s:b, s:[], s:n, s:n, s:n, s:n, s:n, s:n, "
                     "s:s}",
                     "@odata.type", "#microsoft.graph.user", "id", u->id, "userPrincipalName",
                     u->upn, "displayName", u->display_name, "mailNickname", u->mail_nickname,
                     "mail", "accountEnabled", u->enabled, "businessPhones", "givenName", "surname",
                     "jobTitle", "mobilePhone", "officeLocation", "preferredLanguage",
                     "createdDateTime", when);
}

json_t *idn_graph_group_json(const store_group_t *g)
{
    char when[32];
    idn_graph_iso(g->created, when);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:[], s:s}", "@odata.type",
                     "#microsoft.graph.group", "id", g->id, "displayName", g->display_name,
                     "mailNickname", g->mail_nickname, "description", g->description, "mailEnabled",
                     0, "securityEnabled", 1, "groupTypes", "createdDateTime", when);
}

typedef struct pw_ctx {
    json_t *list;
} pw_ctx_t;

static int pw_one(const store_app_secret_t *s, void *ctx)
{
    char a[32], b[32];
    idn_graph_iso(s->start_s, a);
    idn_graph_iso(s->end_s, b);
    json_array_append_new(((pw_ctx_t *)ctx)->list,
                          json_pack("{s:s, s:s, s:s, s:s, s:s, s:n, s:n}", "keyId", s->key_id,
                                    "displayName", s->display_name, "hint", s->hint,
                                    "startDateTime", a, "endDateTime", b, "customKeyIdentifier",
                                    "secretText"));
    return 0;
}

static void defaults(json_t *o, const char *key, json_t *v)
{
    if (!json_object_get(o, key)) json_object_set(o, key, v);
    json_decref(v);
}

json_t *idn_graph_app_json(store_txn_t *t, const store_app_t *a)
{
    json_t *o = json_loads(a->doc ? a->doc : "{}", 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    char when[32];
    idn_graph_iso(a->created, when);
    json_object_set_new(o, "@odata.type", json_string("#microsoft.graph.application"));
    json_object_set_new(o, "id", json_string(a->id));
    json_object_set_new(o, "appId", json_string(a->app_id));
    json_object_set_new(o, "displayName", json_string(a->display_name));
    json_object_set_new(o, "createdDateTime", json_string(when));
    defaults(o, "signInAudience", json_string("AzureADMyOrg"));
    defaults(o, "requiredResourceAccess", json_array());
    defaults(o, "identifierUris", json_array());
    defaults(o, "keyCredentials", json_array());
    defaults(o, "appRoles", json_array());
    defaults(o, "isFallbackPublicClient", json_null());
    defaults(o, "api",
             json_pack("{s:[], s:n}", "oauth2PermissionScopes", "requestedAccessTokenVersion"));
    defaults(o, "web", json_pack("{s:[]}", "redirectUris"));
    defaults(o, "publicClient", json_pack("{s:[]}", "redirectUris"));
    defaults(o, "spa", json_pack("{s:[]}", "redirectUris"));
    pw_ctx_t pc = {json_array()};
    castor_err e;
    store_app_secret_each(t, a->id, pw_one, &pc, &e);
    json_object_set_new(o, "passwordCredentials", pc.list);
    /* Certificates are returned without their key material, as Graph does on reads. */
    size_t i;
    json_t *kc;
    json_array_foreach(json_object_get(o, "keyCredentials"), i, kc)
        json_object_set_new(kc, "key", json_null());
    return o;
}

json_t *idn_graph_sp_json(const store_sp_t *s, const char *tenant_id)
{
    json_t *o = json_loads(s->doc ? s->doc : "{}", 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    json_object_set_new(o, "@odata.type", json_string("#microsoft.graph.servicePrincipal"));
    json_object_set_new(o, "id", json_string(s->id));
    json_object_set_new(o, "appId", json_string(s->app_id));
    json_object_set_new(o, "displayName", json_string(s->display_name));
    json_object_set_new(o, "appDisplayName", json_string(s->display_name));
    json_object_set_new(o, "accountEnabled", json_boolean(s->enabled));
    json_object_set_new(o, "servicePrincipalType", json_string("Application"));
    json_object_set_new(
        o, "appOwnerOrganizationId",
        json_string(s->first_party ? "f8cdef31-a31e-4b4a-93e4-5f571e91255a" : tenant_id));
    defaults(o, "oauth2PermissionScopes", json_array());
    defaults(o, "appRoles", json_array());
    defaults(o, "servicePrincipalNames", json_pack("[s]", s->app_id));
    defaults(o, "tags", json_array());
    return o;
}

json_t *idn_graph_grant_json(const store_grant_t *g)
{
    return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s}", "id", g->id, "clientId", g->client_id,
                     "consentType", g->consent_type, "principalId",
                     g->principal_id[0] ? g->principal_id : NULL, "resourceId", g->resource_id,
                     "scope", g->scope);
}

int idn_graph_reply(idn_gctx_t *g, http_response_t *resp, int status, json_t *body, castor_err *err)
{
    int rc = http_response_json(g->req, resp, status, body, err);
    json_decref(body);
    return rc;
}

json_t *idn_graph_collection(idn_gctx_t *g, const char *what, json_t *value)
{
    return json_pack("{s:s, s:o}", "@odata.context",
                     arena_sprintf(&g->req->arena, "%s/$metadata#%s", g->base, what), "value",
                     value);
}

/* ---- idn_graph_collection walkers ---- */

/* Keeps o in the listing when it passes $filter; takes o's reference. */
int idn_graph_list_add(idn_glist_t *l, json_t *o)
{
    if (filter_match(&l->f, o)) json_array_append(l->out, o);
    json_decref(o);
    return 0;
}

/* Answers GET on a idn_graph_collection: a read transaction, $filter parsed, walk run, and the
 * idn_graph_collection named what in idn_graph_reply, or the store's failure. */
int idn_graph_list_reply(http_request_t *req, http_response_t *resp, const char *what,
                         idn_glist_walk_fn walk, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_READ, err);
    if (rc < 0) return rc;
    idn_glist_t l = {.g = &g, .out = json_array()};
    castor_err_clear(&l.e);
    castor_err perr;
    if (http_filter_parse(&req->arena, http_request_query(req, "$filter"), &l.f, &perr) < 0 ||
        !filter_ok(&l.f)) {
        json_decref(l.out);
        return idn_graph_end(
            &g,
            idn_graph_bad_request(err, "Invalid filter clause: castor understands x eq 'v', "
                                       "startswith(x,'v'), x/any(c:c eq 'v') joined by and."),
            err);
    }
    rc = walk(&l);
    if (rc < 0) {
        json_decref(l.out);
        return idn_graph_end(&g, castor_err_set(err, rc, "%s", l.e.message), err);
    }
    return idn_graph_end(
        &g, idn_graph_reply(&g, resp, 200, idn_graph_collection(&g, what, l.out), err), err);
}

/* ---- lookups by id ---- */

/* An object of another tenant does not exist for the caller. */
int idn_graph_in_tenant(const idn_gctx_t *g, const char *tenant_id)
{
    return strcmp(tenant_id, g->who->tenant_id) == 0;
}

/* Ends a store lookup of id as Graph answers it: 404 when absent, else the store's cause. */
int idn_graph_found(int rc, const castor_err *e, const char *id, castor_err *err)
{
    if (rc == CASTOR_ENOTFOUND) return idn_graph_not_found(err, id);
    return rc < 0 ? castor_err_set(err, rc, "%s", e->message) : CASTOR_OK;
}

int idn_graph_owns_or_admin(const idn_gctx_t *g, const char *owner)
{
    return g->admin || strcmp(owner, g->who->oid) == 0;
}

/* Every Graph route is behind access_guard_graph (a Graph token); what a caller may do to
 * which object is decided in the handlers (owner or directory administrator). */
#define R(m, p, h, n)                                                                              \
    {                                                                                              \
        m, p, h, n, NULL, NULL, 0, 0, access_guard_graph                                           \
    }
#define J(m, p, h, n)                                                                              \
    {                                                                                              \
        m, p, h, n, NULL, NULL, 0, 1, access_guard_graph                                           \
    }

const http_route_t idn_graph_routes[] = {
    R("GET", "/v1.0/me", idn_graph_h_me, "Graph_Me"),
    R("GET", "/v1.0/users", idn_graph_h_users_list, "Graph_ListUsers"),
    J("POST", "/v1.0/users", idn_graph_h_user_create, "Graph_CreateUser"),
    R("GET", "/v1.0/users/{id}", idn_graph_h_user_get, "Graph_GetUser"),
    J("PATCH", "/v1.0/users/{id}", idn_graph_h_user_patch, "Graph_UpdateUser"),
    R("DELETE", "/v1.0/users/{id}", idn_graph_h_user_delete, "Graph_DeleteUser"),
    R("GET", "/v1.0/groups", idn_graph_h_groups_list, "Graph_ListGroups"),
    J("POST", "/v1.0/groups", idn_graph_h_group_create, "Graph_CreateGroup"),
    R("GET", "/v1.0/groups/{id}", idn_graph_h_group_get, "Graph_GetGroup"),
    R("DELETE", "/v1.0/groups/{id}", idn_graph_h_group_delete, "Graph_DeleteGroup"),
    R("GET", "/v1.0/groups/{id}/members", idn_graph_h_members, "Graph_ListMembers"),
    J("POST", "/v1.0/groups/{id}/members/$ref", idn_graph_h_member_add, "Graph_AddMember"),
    J("POST", "/v1.0/groups/{id}/members/%24ref", idn_graph_h_member_add, "Graph_AddMember"),
    R("DELETE", "/v1.0/groups/{id}/members/{mid}/$ref", idn_graph_h_member_remove,
      "Graph_RemoveMember"),
    R("DELETE", "/v1.0/groups/{id}/members/{mid}/%24ref", idn_graph_h_member_remove,
      "Graph_RemoveMember"),
    R("GET", "/v1.0/applications", idn_graph_h_apps_list, "Graph_ListApplications"),
    J("POST", "/v1.0/applications", idn_graph_h_app_create, "Graph_CreateApplication"),
    R("GET", "/v1.0/applications/{id}", idn_graph_h_app_get, "Graph_GetApplication"),
    J("PATCH", "/v1.0/applications/{id}", idn_graph_h_app_patch, "Graph_UpdateApplication"),
    R("DELETE", "/v1.0/applications/{id}", idn_graph_h_app_delete, "Graph_DeleteApplication"),
    J("POST", "/v1.0/applications/{id}/addPassword", idn_graph_h_add_password, "Graph_AddPassword"),
    J("POST", "/v1.0/applications/{id}/removePassword", idn_graph_h_remove_password,
      "Graph_RemovePassword"),
    R("GET", "/v1.0/servicePrincipals", idn_graph_h_sps_list, "Graph_ListServicePrincipals"),
    J("POST", "/v1.0/servicePrincipals", idn_graph_h_sp_create, "Graph_CreateServicePrincipal"),
    R("GET", "/v1.0/servicePrincipals/{id}", idn_graph_h_sp_get, "Graph_GetServicePrincipal"),
    J("PATCH", "/v1.0/servicePrincipals/{id}", idn_graph_h_sp_patch,
      "Graph_UpdateServicePrincipal"),
    R("DELETE", "/v1.0/servicePrincipals/{id}", idn_graph_h_sp_delete,
      "Graph_DeleteServicePrincipal"),
    J("POST", "/v1.0/servicePrincipals/{id}/appRoleAssignments", idn_graph_h_app_role_assign,
      "Graph_AssignAppRole"),
    J("POST", "/v1.0/servicePrincipals/{id}/appRoleAssignedTo", idn_graph_h_app_role_assign,
      "Graph_AssignAppRoleTo"),
    R("GET", "/v1.0/oauth2PermissionGrants", idn_graph_h_grants_list, "Graph_ListGrants"),
    J("POST", "/v1.0/oauth2PermissionGrants", idn_graph_h_grant_create, "Graph_CreateGrant"),
    J("PATCH", "/v1.0/oauth2PermissionGrants/{id}", idn_graph_h_grant_patch, "Graph_UpdateGrant"),
    R("DELETE", "/v1.0/oauth2PermissionGrants/{id}", idn_graph_h_grant_delete, "Graph_DeleteGrant"),
    J("POST", "/v1.0/directoryObjects/getByIds", idn_graph_h_get_by_ids, "Graph_GetByIds"),
    {0},
};
