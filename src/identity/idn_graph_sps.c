/* idn_graph_sps.c — Microsoft Graph /servicePrincipals and their appRoleAssignments /
 * appRoleAssignedTo. See idn_graph.h. */
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

/* ---- service principals ---- */

int idn_graph_find_sp(idn_gctx_t *g, const char *id, store_sp_t *out, castor_err *err)
{
    castor_err e;
    int rc = store_sp_get(g->t, id, out, &e);
    if (rc == 0 && !idn_graph_in_tenant(g, out->tenant_id)) {
        store_sp_release(out);
        rc = CASTOR_ENOTFOUND;
    }
    return idn_graph_found(rc, &e, id, err);
}

/* Opens a write transaction on the service principal named by the {id} path parameter, for
 * its owner or an administrator; castor's first-party principals are no one's to change. On
 * success the caller releases *sp and ends with idn_graph_end; on failure the transaction has
 * ended. */
static int sp_begin_owned(http_request_t *req, idn_gctx_t *g, store_sp_t *sp, castor_err *err)
{
    int rc = idn_graph_begin(req, g, STORE_WRITE, err);
    if (rc < 0) return rc;
    rc = idn_graph_find_sp(g, http_request_param(req, "id"), sp, err);
    if (rc == 0 && (!idn_graph_owns_or_admin(g, sp->owner_id) || sp->first_party)) {
        store_sp_release(sp);
        rc = idn_graph_denied(err);
    }
    return rc < 0 ? idn_graph_end(g, rc, err) : CASTOR_OK;
}

static int sp_list_one(const store_sp_t *s, void *ctx)
{
    idn_glist_t *l = ctx;
    return idn_graph_list_add(l, idn_graph_sp_json(s, l->g->who->tenant_id));
}

static int sps_walk(idn_glist_t *l)
{
    return store_sp_each(l->g->t, l->g->who->tenant_id, sp_list_one, l, &l->e);
}

int idn_graph_h_sps_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    return idn_graph_list_reply(req, resp, "servicePrincipals", sps_walk, err);
}

int idn_graph_h_sp_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_READ, err);
    if (rc < 0) return rc;
    store_sp_t sp;
    rc = idn_graph_find_sp(&g, http_request_param(req, "id"), &sp, err);
    if (rc == 0) {
        rc = idn_graph_reply(&g, resp, 200, idn_graph_sp_json(&sp, g.who->tenant_id), err);
        store_sp_release(&sp);
    }
    return idn_graph_end(&g, rc, err);
}

int idn_graph_h_sp_create(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    const char *app_id = json_string_value(json_object_get(req->json, "appId"));
    if (!app_id) return idn_graph_end(&g, idn_graph_bad_request(err, "appId is required."), err);
    store_app_t a;
    rc = idn_graph_find_app_owned(&g, app_id, &a, err);
    if (rc < 0) return idn_graph_end(&g, rc, err);
    json_t *adoc = json_loads(a.doc, 0, NULL);
    json_t *spdoc = json_object();
    json_t *names = json_pack("[s]", a.app_id);
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(adoc, "identifierUris"), i, u) json_array_append(names, u);
    json_object_set_new(spdoc, "servicePrincipalNames", names);
    json_t *scopes = json_object_get(json_object_get(adoc, "api"), "oauth2PermissionScopes");
    json_object_set_new(spdoc, "oauth2PermissionScopes",
                        scopes ? json_deep_copy(scopes) : json_array());
    json_t *roles = json_object_get(adoc, "appRoles");
    json_object_set_new(spdoc, "appRoles", roles ? json_deep_copy(roles) : json_array());
    json_t *api = json_object_get(adoc, "api");
    if (api) json_object_set_new(spdoc, "api", json_deep_copy(api));
    store_sp_t sp = {.enabled = 1, .created = time_now_s()};
    ids_guid(sp.id);
    snprintf(sp.tenant_id, sizeof sp.tenant_id, "%s", a.tenant_id);
    snprintf(sp.app_id, sizeof sp.app_id, "%s", a.app_id);
    snprintf(sp.display_name, sizeof sp.display_name, "%s", a.display_name);
    snprintf(sp.owner_id, sizeof sp.owner_id, "%s", a.owner_id);
    sp.public_client = json_is_true(json_object_get(adoc, "isFallbackPublicClient"));
    sp.doc = json_dumps(spdoc, JSON_COMPACT);
    rc = store_sp_create(g.t, &sp, err);
    if (rc == CASTOR_ECONFLICT)
        rc = castor_err_http(err, rc, 409, "Request_MultipleObjectsWithSameKeyValue",
                             "The service principal for application %s already exists.", a.app_id);
    json_array_foreach(json_object_get(adoc, "identifierUris"), i, u)
    {
        char key[512];
        snprintf(key, sizeof key, "%s", json_string_value(u) ? json_string_value(u) : "");
        size_t n = strlen(key);
        while (n > 1 && key[n - 1] == '/')
            key[--n] = '\0';
        if (rc == 0 && key[0]) rc = store_sp_add_name(g.t, sp.tenant_id, sp.id, key, err);
    }
    if (rc == 0) rc = idn_graph_reply(&g, resp, 201, idn_graph_sp_json(&sp, g.who->tenant_id), err);
    json_decref(adoc);
    json_decref(spdoc);
    free(sp.doc);
    store_app_release(&a);
    return idn_graph_end(&g, rc, err);
}

int idn_graph_h_sp_patch(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    store_sp_t sp;
    int rc = sp_begin_owned(req, &g, &sp, err);
    if (rc < 0) return rc;
    const json_t *en = json_object_get(req->json, "accountEnabled");
    if (json_is_boolean(en)) sp.enabled = json_is_true(en);
    rc = store_sp_update(g.t, &sp, err);
    store_sp_release(&sp);
    access_directory_changed();
    resp->status = 204;
    return idn_graph_end(&g, rc, err);
}

int idn_graph_h_sp_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    store_sp_t sp;
    int rc = sp_begin_owned(req, &g, &sp, err);
    if (rc < 0) return rc;
    rc = store_sp_delete(g.t, sp.id, err);
    store_sp_release(&sp);
    access_directory_changed();
    resp->status = 204;
    return idn_graph_end(&g, rc, err);
}

/* POST /servicePrincipals/{id}/appRoleAssignedTo and /appRoleAssignments: admin consent for
 * application permissions (roles in app-only tokens). */
int idn_graph_h_app_role_assign(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    if (!g.admin) return idn_graph_end(&g, idn_graph_denied(err), err);
    const char *pid = json_string_value(json_object_get(req->json, "principalId"));
    const char *rid = json_string_value(json_object_get(req->json, "resourceId"));
    const char *role = json_string_value(json_object_get(req->json, "appRoleId"));
    if (!pid || !rid || !role || !ids_is_guid(pid) || !ids_is_guid(rid) || !ids_is_guid(role))
        return idn_graph_end(
            &g,
            idn_graph_bad_request(err, "principalId, resourceId and appRoleId (GUIDs) are "
                                       "required."),
            err);
    const char *type = idn_graph_object_type(&g, pid);
    if (!type) return idn_graph_end(&g, idn_graph_not_found(err, pid), err);
    store_app_role_assignment_t a = {.created = time_now_s()};
    ids_guid(a.id);
    snprintf(a.tenant_id, sizeof a.tenant_id, "%s", g.who->tenant_id);
    snprintf(a.principal_id, sizeof a.principal_id, "%s", pid);
    snprintf(a.principal_type, sizeof a.principal_type, "%s",
             strcmp(type, "servicePrincipal") == 0 ? "ServicePrincipal"
             : strcmp(type, "user") == 0           ? "User"
                                                   : "Group");
    snprintf(a.resource_id, sizeof a.resource_id, "%s", rid);
    snprintf(a.app_role_id, sizeof a.app_role_id, "%s", role);
    rc = store_app_role_assignment_create(g.t, &a, err);
    if (rc == CASTOR_ECONFLICT)
        rc = castor_err_http(err, rc, 400, "Request_BadRequest",
                             "Permission being assigned already exists on the object");
    access_directory_changed();
    if (rc == 0)
        rc = idn_graph_reply(&g, resp, 201,
                             json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", a.id, "principalId", pid,
                                       "principalType", a.principal_type, "resourceId", rid,
                                       "appRoleId", role),
                             err);
    return idn_graph_end(&g, rc, err);
}
