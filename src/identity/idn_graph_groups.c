/* idn_graph_groups.c — Microsoft Graph /groups with members/$ref, and /directoryObjects/getByIds.
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

/* ---- groups ---- */

static int group_list_one(const store_group_t *gr, void *ctx)
{
    return idn_graph_list_add(ctx, idn_graph_group_json(gr));
}

static int groups_walk(idn_glist_t *l)
{
    return store_group_each(l->g->t, l->g->who->tenant_id, group_list_one, l, &l->e);
}

int idn_graph_h_groups_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    return idn_graph_list_reply(req, resp, "groups", groups_walk, err);
}

int idn_graph_find_group(idn_gctx_t *g, const char *id, store_group_t *out, castor_err *err)
{
    castor_err e;
    int rc = store_group_get(g->t, id, out, &e);
    if (rc == 0 && !idn_graph_in_tenant(g, out->tenant_id)) rc = CASTOR_ENOTFOUND;
    return idn_graph_found(rc, &e, id, err);
}

/* Opens a write transaction on the group named by the {id} path parameter, for its owner or
 * an administrator. On failure the transaction has ended and the caller only returns. */
static int group_begin_owned(http_request_t *req, idn_gctx_t *g, store_group_t *gr, castor_err *err)
{
    int rc = idn_graph_begin(req, g, STORE_WRITE, err);
    if (rc < 0) return rc;
    rc = idn_graph_find_group(g, http_request_param(req, "id"), gr, err);
    if (rc == 0 && !idn_graph_owns_or_admin(g, gr->owner_id)) rc = idn_graph_denied(err);
    return rc < 0 ? idn_graph_end(g, rc, err) : CASTOR_OK;
}

int idn_graph_h_group_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_READ, err);
    if (rc < 0) return rc;
    store_group_t gr;
    rc = idn_graph_find_group(&g, http_request_param(req, "id"), &gr, err);
    if (rc == 0) rc = idn_graph_reply(&g, resp, 200, idn_graph_group_json(&gr), err);
    return idn_graph_end(&g, rc, err);
}

int idn_graph_h_group_create(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    const char *name = json_string_value(json_object_get(req->json, "displayName"));
    const char *nick = json_string_value(json_object_get(req->json, "mailNickname"));
    const char *desc = json_string_value(json_object_get(req->json, "description"));
    if (!name)
        return idn_graph_end(&g, idn_graph_bad_request(err, "displayName is required."), err);
    if ((rc = idn_graph_too_long(err, "Group", "displayName", name, CASTOR_NAME_MAX)) < 0 ||
        (rc = idn_graph_too_long(err, "Group", "mailNickname", nick, CASTOR_NAME_MAX)) < 0 ||
        (rc = idn_graph_too_long(err, "Group", "description", desc, CASTOR_DESCRIPTION_MAX)) < 0)
        return idn_graph_end(&g, rc, err);
    store_group_t gr = {.created = time_now_s()};
    ids_guid(gr.id);
    snprintf(gr.tenant_id, sizeof gr.tenant_id, "%s", g.who->tenant_id);
    snprintf(gr.display_name, sizeof gr.display_name, "%s", name);
    snprintf(gr.mail_nickname, sizeof gr.mail_nickname, "%s", nick ? nick : "");
    snprintf(gr.description, sizeof gr.description, "%s", desc ? desc : "");
    snprintf(gr.owner_id, sizeof gr.owner_id, "%s", g.who->oid);
    rc = store_group_create(g.t, &gr, err);
    if (rc == 0) rc = idn_graph_reply(&g, resp, 201, idn_graph_group_json(&gr), err);
    return idn_graph_end(&g, rc, err);
}

int idn_graph_h_group_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    store_group_t gr;
    int rc = group_begin_owned(req, &g, &gr, err);
    if (rc < 0) return rc;
    rc = store_group_delete(g.t, gr.id, err);
    access_directory_changed();
    resp->status = 204;
    return idn_graph_end(&g, rc, err);
}

/* The type of a directory object id, or NULL when there is none. */
const char *idn_graph_object_type(idn_gctx_t *g, const char *id)
{
    castor_err e;
    store_user_t u;
    store_group_t gr;
    store_sp_t sp;
    if (store_user_get(g->t, id, &u, &e) == 0 && strcmp(u.tenant_id, g->who->tenant_id) == 0)
        return "user";
    if (store_group_get(g->t, id, &gr, &e) == 0 && strcmp(gr.tenant_id, g->who->tenant_id) == 0)
        return "group";
    if (store_sp_get(g->t, id, &sp, &e) == 0) {
        int same = strcmp(sp.tenant_id, g->who->tenant_id) == 0;
        store_sp_release(&sp);
        if (same) return "servicePrincipal";
    }
    return NULL;
}

int idn_graph_h_member_add(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    store_group_t gr;
    int rc = group_begin_owned(req, &g, &gr, err);
    if (rc < 0) return rc;
    const char *ref = json_string_value(json_object_get(req->json, "@odata.id"));
    const char *mid = ref ? strrchr(ref, '/') : NULL;
    mid = mid ? mid + 1 : ref;
    if (!mid || !ids_is_guid(mid))
        rc = idn_graph_bad_request(err, "@odata.id must name a directory object: "
                                        "https://{host}/v1.0/directoryObjects/{id}.");
    const char *type = rc == 0 ? idn_graph_object_type(&g, mid) : NULL;
    if (rc == 0 && !type) rc = idn_graph_not_found(err, mid);
    if (rc == 0 && strcmp(mid, gr.id) == 0)
        rc = idn_graph_bad_request(err, "A group cannot be a member of itself.");
    if (rc == 0) {
        rc = store_group_member_add(g.t, gr.id, mid, type, err);
        if (rc == CASTOR_ECONFLICT)
            rc = castor_err_http(err, rc, 400, "Request_BadRequest",
                                 "One or more added object references already exist for the "
                                 "following modified properties: 'members'.");
    }
    access_directory_changed();
    resp->status = 204;
    return idn_graph_end(&g, rc, err);
}

int idn_graph_h_member_remove(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    store_group_t gr;
    rc = idn_graph_find_group(&g, http_request_param(req, "id"), &gr, err);
    if (rc == 0 && !idn_graph_owns_or_admin(&g, gr.owner_id)) rc = idn_graph_denied(err);
    if (rc == 0) {
        /* Only a missing membership names the member; a missing group keeps idn_graph_find_group's
         * message naming the group. */
        rc = store_group_member_remove(g.t, gr.id, http_request_param(req, "mid"), err);
        if (rc == CASTOR_ENOTFOUND) rc = idn_graph_not_found(err, http_request_param(req, "mid"));
    }
    if (rc == 0) access_directory_changed();
    resp->status = 204;
    return idn_graph_end(&g, rc, err);
}

typedef struct members_ctx {
    idn_gctx_t *g;
    json_t *out;
} members_ctx_t;

static int member_one(const char *id, const char *type, void *ctx)
{
    members_ctx_t *m = ctx;
    castor_err e;
    json_t *o = NULL;
    if (strcmp(type, "user") == 0) {
        store_user_t u;
        if (store_user_get(m->g->t, id, &u, &e) == 0) o = idn_graph_user_json(&u);
    } else if (strcmp(type, "group") == 0) {
        store_group_t gr;
        if (store_group_get(m->g->t, id, &gr, &e) == 0) o = idn_graph_group_json(&gr);
    } else {
        store_sp_t sp;
        if (store_sp_get(m->g->t, id, &sp, &e) == 0) {
            o = idn_graph_sp_json(&sp, m->g->who->tenant_id);
            store_sp_release(&sp);
        }
    }
    if (o) json_array_append_new(m->out, o);
    return 0;
}

int idn_graph_h_members(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_READ, err);
    if (rc < 0) return rc;
    store_group_t gr;
    rc = idn_graph_find_group(&g, http_request_param(req, "id"), &gr, err);
    members_ctx_t m = {&g, json_array()};
    castor_err e;
    if (rc == 0) rc = store_group_member_each(g.t, gr.id, member_one, &m, &e);
    if (rc == 0)
        return idn_graph_end(&g,
                             idn_graph_reply(&g, resp, 200,
                                             idn_graph_collection(&g, "directoryObjects", m.out),
                                             err),
                             err);
    json_decref(m.out);
    return idn_graph_end(&g, rc, err);
}

/* ---- directoryObjects/getByIds ---- */

int idn_graph_h_get_by_ids(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_READ, err);
    if (rc < 0) return rc;
    const json_t *ids = json_object_get(req->json, "ids");
    if (!json_is_array(ids) || json_array_size(ids) > 1000)
        return idn_graph_end(
            &g, idn_graph_bad_request(err, "ids must be an array of at most 1000 object ids."),
            err);
    json_t *out = json_array();
    size_t i;
    const json_t *v;
    members_ctx_t m = {&g, out};
    json_array_foreach(ids, i, v)
    {
        const char *id = json_string_value(v);
        const char *type = id && ids_is_guid(id) ? idn_graph_object_type(&g, id) : NULL;
        if (type) member_one(id, type, &m);
    }
    return idn_graph_end(
        &g, idn_graph_reply(&g, resp, 200, idn_graph_collection(&g, "directoryObjects", out), err),
        err);
}
