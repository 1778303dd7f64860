/* idn_graph_users.c — Microsoft Graph /me and /users: the caller, listing, create, patch (password,
 * enabled), delete. See idn_graph.h. */
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

/* ---- users ---- */

int idn_graph_find_user(idn_gctx_t *g, const char *key, store_user_t *u, castor_err *err)
{
    castor_err e;
    castor_err_clear(&e);
    int rc = strchr(key, '@') ? store_user_get_by_upn(g->t, g->who->tenant_id, key, u, &e)
                              : store_user_get(g->t, key, u, &e);
    if (rc == 0 && !idn_graph_in_tenant(g, u->tenant_id)) rc = CASTOR_ENOTFOUND;
    rc = idn_graph_found(rc, &e, key, err);
    if (rc < 0) return rc;
    sodium_memzero(u->password_hash, sizeof u->password_hash);
    return CASTOR_OK;
}

int idn_graph_h_me(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_READ, err);
    if (rc < 0) return rc;
    if (g.who->kind != ACCESS_KIND_USER)
        return idn_graph_end(&g,
                             idn_graph_bad_request(err, "/me request is only valid with delegated "
                                                        "authentication flow."),
                             err);
    store_user_t u;
    rc = idn_graph_find_user(&g, g.who->oid, &u, err);
    if (rc == 0) rc = idn_graph_reply(&g, resp, 200, idn_graph_user_json(&u), err);
    return idn_graph_end(&g, rc, err);
}

static int user_list_one(const store_user_t *u, void *ctx)
{
    return idn_graph_list_add(ctx, idn_graph_user_json(u));
}

static int users_walk(idn_glist_t *l)
{
    return store_user_each(l->g->t, l->g->who->tenant_id, user_list_one, l, &l->e);
}

int idn_graph_h_users_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    return idn_graph_list_reply(req, resp, "users", users_walk, err);
}

int idn_graph_h_user_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_READ, err);
    if (rc < 0) return rc;
    store_user_t u;
    rc = idn_graph_find_user(&g, http_request_param(req, "id"), &u, err);
    if (rc == 0) rc = idn_graph_reply(&g, resp, 200, idn_graph_user_json(&u), err);
    return idn_graph_end(&g, rc, err);
}

int idn_graph_h_user_create(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    if (!g.admin) return idn_graph_end(&g, idn_graph_denied(err), err);
    const json_t *b = req->json;
    const char *upn = json_string_value(json_object_get(b, "userPrincipalName"));
    const char *name = json_string_value(json_object_get(b, "displayName"));
    const char *nick = json_string_value(json_object_get(b, "mailNickname"));
    const char *pw =
        json_string_value(json_object_get(json_object_get(b, "passwordProfile"), "password"));
    const json_t *enabled = json_object_get(b, "accountEnabled");
    if (!upn || !strchr(upn, '@') || !name || !pw)
        return idn_graph_end(
            &g,
            idn_graph_bad_request(err, "userPrincipalName (user@domain), displayName and "
                                       "passwordProfile.password are required."),
            err);
    store_tenant_t tn;
    castor_err e;
    castor_err_clear(&e);
    if (store_tenant_get(g.t, g.who->tenant_id, &tn, &e) < 0 ||
        strcasecmp(strrchr(upn, '@') + 1, tn.domain) != 0)
        return idn_graph_end(
            &g,
            idn_graph_bad_request(err, "Property userPrincipalName is invalid: its domain must be "
                                       "a verified domain of the tenant."),
            err);
    if (strlen(pw) < 8)
        return idn_graph_end(
            &g,
            idn_graph_bad_request(err, "The specified password does not comply with password "
                                       "complexity requirements (at least 8 characters)."),
            err);
    if ((rc = idn_graph_too_long(err, "User", "userPrincipalName", upn, CASTOR_NAME_MAX)) < 0 ||
        (rc = idn_graph_too_long(err, "User", "displayName", name, CASTOR_NAME_MAX)) < 0 ||
        (rc = idn_graph_too_long(err, "User", "mailNickname", nick, CASTOR_NAME_MAX)) < 0)
        return idn_graph_end(&g, rc, err);
    store_user_t u = {.enabled = enabled ? json_is_true(enabled) : 1, .created = time_now_s()};
    ids_guid(u.id);
    snprintf(u.tenant_id, sizeof u.tenant_id, "%s", g.who->tenant_id);
    snprintf(u.upn, sizeof u.upn, "%s", upn);
    snprintf(u.display_name, sizeof u.display_name, "%s", name);
    snprintf(u.mail_nickname, sizeof u.mail_nickname, "%s", nick ? nick : "");
    rc = bootstrap_hash_password(pw, u.password_hash, err);
    if (rc == 0) rc = store_user_create(g.t, &u, err);
    if (rc == CASTOR_ECONFLICT)
        rc = castor_err_http(err, rc, 400, "Request_BadRequest",
                             "Another object with the same value for property userPrincipalName "
                             "already exists.");
    sodium_memzero(u.password_hash, sizeof u.password_hash);
    if (rc == 0) rc = idn_graph_reply(&g, resp, 201, idn_graph_user_json(&u), err);
    return idn_graph_end(&g, rc, err);
}

int idn_graph_h_user_patch(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    store_user_t u;
    rc = idn_graph_find_user(&g, http_request_param(req, "id"), &u, err);
    if (rc < 0) return idn_graph_end(&g, rc, err);
    if (!g.admin && strcmp(u.id, g.who->oid) != 0)
        return idn_graph_end(&g, idn_graph_denied(err), err);
    const json_t *b = req->json;
    const char *name = json_string_value(json_object_get(b, "displayName"));
    const json_t *en = json_object_get(b, "accountEnabled");
    if ((rc = idn_graph_too_long(err, "User", "displayName", name, CASTOR_NAME_MAX)) < 0)
        return idn_graph_end(&g, rc, err);
    if (name) snprintf(u.display_name, sizeof u.display_name, "%s", name);
    if (json_is_boolean(en)) {
        if (!g.admin) return idn_graph_end(&g, idn_graph_denied(err), err);
        u.enabled = json_is_true(en);
    }
    rc = store_user_update(g.t, &u, err);
    const char *pw =
        json_string_value(json_object_get(json_object_get(b, "passwordProfile"), "password"));
    if (rc == 0 && pw) {
        char hash[STORE_HASH_MAX];
        rc = bootstrap_hash_password(pw, hash, err);
        if (rc == 0) rc = store_user_set_password(g.t, u.id, hash, err);
        if (rc == 0) rc = store_refresh_revoke(g.t, NULL, u.id, err);
    }
    if (rc == 0 && json_is_false(en)) rc = store_refresh_revoke(g.t, NULL, u.id, err);
    access_directory_changed();
    resp->status = 204;
    return idn_graph_end(&g, rc, err);
}

int idn_graph_h_user_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    if (!g.admin) return idn_graph_end(&g, idn_graph_denied(err), err);
    store_user_t u;
    rc = idn_graph_find_user(&g, http_request_param(req, "id"), &u, err);
    if (rc == 0) rc = store_user_delete(g.t, u.id, err);
    access_directory_changed();
    resp->status = 204;
    return idn_graph_end(&g, rc, err);
}
