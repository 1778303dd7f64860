/* idn_graph_grants.c — Microsoft Graph /oauth2PermissionGrants: delegated consent, admin or self.
 * See idn_graph.h. */
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

/* ---- oauth2PermissionGrants ---- */

static int grant_list_one(const store_grant_t *gr, void *ctx)
{
    return idn_graph_list_add(ctx, idn_graph_grant_json(gr));
}

static int grants_walk(idn_glist_t *l)
{
    return store_grant_each(l->g->t, l->g->who->tenant_id, NULL, grant_list_one, l, &l->e);
}

int idn_graph_h_grants_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    return idn_graph_list_reply(req, resp, "oauth2PermissionGrants", grants_walk, err);
}

int idn_graph_h_grant_create(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    const json_t *b = req->json;
    const char *client = json_string_value(json_object_get(b, "clientId"));
    const char *type = json_string_value(json_object_get(b, "consentType"));
    const char *principal = json_string_value(json_object_get(b, "principalId"));
    const char *resource = json_string_value(json_object_get(b, "resourceId"));
    const char *scope = json_string_value(json_object_get(b, "scope"));
    if (!client || !resource || !type || !scope ||
        (strcmp(type, "AllPrincipals") != 0 && strcmp(type, "Principal") != 0))
        return idn_graph_end(&g,
                             idn_graph_bad_request(err,
                                                   "clientId, resourceId, scope and consentType "
                                                   "(AllPrincipals or Principal) are required."),
                             err);
    if (strcmp(type, "Principal") == 0 && !principal)
        return idn_graph_end(
            &g, idn_graph_bad_request(err, "principalId is required for consentType Principal."),
            err);
    /* Tenant-wide consent is an administrator's; a user may consent for itself only. */
    if (!g.admin && (strcmp(type, "AllPrincipals") == 0 || strcmp(principal, g.who->oid) != 0))
        return idn_graph_end(&g, idn_graph_denied(err), err);
    store_sp_t c, r;
    rc = idn_graph_find_sp(&g, client, &c, err);
    if (rc < 0) return idn_graph_end(&g, rc, err);
    rc = idn_graph_find_sp(&g, resource, &r, err);
    if (rc < 0) {
        store_sp_release(&c);
        return idn_graph_end(&g, rc, err);
    }
    /* Every scope must be one the resource publishes, and the list fit its record whole. */
    rc = idn_graph_too_long(err, "OAuth2PermissionGrant", "scope", scope, STORE_OAUTH_SCOPES_MAX);
    json_t *rdoc = json_loads(r.doc, 0, NULL);
    char copy[STORE_SCOPE_MAX], *save = NULL;
    snprintf(copy, sizeof copy, "%s", scope);
    for (char *w = strtok_r(copy, " ", &save); w && rc == 0; w = strtok_r(NULL, " ", &save)) {
        int known = 0;
        size_t i;
        const json_t *sc;
        json_array_foreach(json_object_get(rdoc, "oauth2PermissionScopes"), i, sc)
        {
            const char *v = json_string_value(json_object_get(sc, "value"));
            if (v && strcmp(v, w) == 0) known = 1;
        }
        if (!known)
            rc = castor_err_http(err, CASTOR_EINVAL, 400, "Request_BadRequest",
                                 "Permission entry '%s' does not exist on the resource %s.", w,
                                 r.display_name);
    }
    json_decref(rdoc);
    store_grant_t gr = {.created = time_now_s()};
    ids_guid(gr.id);
    snprintf(gr.tenant_id, sizeof gr.tenant_id, "%s", g.who->tenant_id);
    snprintf(gr.client_id, sizeof gr.client_id, "%s", c.id);
    snprintf(gr.consent_type, sizeof gr.consent_type, "%s", type);
    snprintf(gr.principal_id, sizeof gr.principal_id, "%s",
             principal && strcmp(type, "Principal") == 0 ? principal : "");
    snprintf(gr.resource_id, sizeof gr.resource_id, "%s", r.id);
    snprintf(gr.scope, sizeof gr.scope, "%s", scope);
    store_sp_release(&c);
    store_sp_release(&r);
    if (rc == 0) rc = store_grant_create(g.t, &gr, err);
    if (rc == 0) rc = idn_graph_reply(&g, resp, 201, idn_graph_grant_json(&gr), err);
    return idn_graph_end(&g, rc, err);
}

int idn_graph_h_grant_patch(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    if (!g.admin) return idn_graph_end(&g, idn_graph_denied(err), err);
    const char *scope = json_string_value(json_object_get(req->json, "scope"));
    if (!scope) return idn_graph_end(&g, idn_graph_bad_request(err, "scope is required."), err);
    rc = store_grant_update_scope(g.t, http_request_param(req, "id"), scope, err);
    if (rc == CASTOR_ENOTFOUND) rc = idn_graph_not_found(err, http_request_param(req, "id"));
    resp->status = 204;
    return idn_graph_end(&g, rc, err);
}

int idn_graph_h_grant_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    store_grant_t gr;
    castor_err e;
    rc = store_grant_get(g.t, http_request_param(req, "id"), &gr, &e);
    if (rc < 0 || strcmp(gr.tenant_id, g.who->tenant_id) != 0)
        return idn_graph_end(&g, idn_graph_not_found(err, http_request_param(req, "id")), err);
    if (!g.admin && strcmp(gr.principal_id, g.who->oid) != 0)
        return idn_graph_end(&g, idn_graph_denied(err), err);
    rc = store_grant_delete(g.t, gr.id, err);
    resp->status = 204;
    return idn_graph_end(&g, rc, err);
}
