/* idn_graph.h — what the Microsoft Graph files share (not for other modules): the request
 * context every handler opens, errors in Graph's words, object representations, collection
 * listing with $filter (http/odata.h), lookups, and the handlers the route table names
 * (idn_graph.c). One file per resource: users, groups (+ members, getByIds), applications,
 * service principals (+ app role assignments), oauth2PermissionGrants. */
#ifndef CASTOR_IDENTITY_IDN_GRAPH_H
#define CASTOR_IDENTITY_IDN_GRAPH_H

#include "access/access.h"
#include "http/odata.h"
#include "identity/idn_internal.h"

#include <jansson.h>

typedef struct idn_gctx {
    http_request_t *req;
    const access_principal_t *who; /* req->caller, as access_guard_graph authenticated it */
    int admin;
    store_txn_t *t;
    const char *base; /* https://host/v1.0 */
} idn_gctx_t;

typedef struct idn_glist {
    idn_gctx_t *g;
    http_filter_t f;
    json_t *out;
    castor_err e; /* the store's failure when a walk fails */
} idn_glist_t;

/* Feeds every object of the caller's tenant to idn_graph_list_add; fills l->e on failure. */
typedef int (*idn_glist_walk_fn)(idn_glist_t *l);

/* ---- shared (idn_graph.c) ---- */
int idn_graph_denied(castor_err *err);
int idn_graph_not_found(castor_err *err, const char *id);
int idn_graph_bad_request(castor_err *err, const char *msg);
/* Refuses a property longer than the record field it is kept in (cap bytes with the NUL, a
 * core/limits.h cap) in Graph's 400 shape: a value is stored whole or not at all. NULL and
 * values that fit pass (0). */
int idn_graph_too_long(castor_err *err, const char *resource, const char *prop, const char *value,
                       size_t cap);
int idn_graph_begin(http_request_t *req, idn_gctx_t *g, store_mode_t mode, castor_err *err);
int idn_graph_end(idn_gctx_t *g, int rc, castor_err *err);
void idn_graph_iso(int64_t s, char out[32]);
int64_t idn_graph_parse_iso(const char *s, int64_t dflt);
json_t *idn_graph_user_json(const store_user_t *u);
json_t *idn_graph_group_json(const store_group_t *g);
json_t *idn_graph_app_json(store_txn_t *t, const store_app_t *a);
json_t *idn_graph_sp_json(const store_sp_t *s, const char *tenant_id);
json_t *idn_graph_grant_json(const store_grant_t *g);
int idn_graph_reply(idn_gctx_t *g, http_response_t *resp, int status, json_t *body,
                    castor_err *err);
json_t *idn_graph_collection(idn_gctx_t *g, const char *what, json_t *value);
int idn_graph_list_add(idn_glist_t *l, json_t *o);
int idn_graph_list_reply(http_request_t *req, http_response_t *resp, const char *what,
                         idn_glist_walk_fn walk, castor_err *err);
int idn_graph_in_tenant(const idn_gctx_t *g, const char *tenant_id);
int idn_graph_found(int rc, const castor_err *e, const char *id, castor_err *err);
int idn_graph_owns_or_admin(const idn_gctx_t *g, const char *owner);

/* ---- users (idn_graph_users.c) ---- */
int idn_graph_find_user(idn_gctx_t *g, const char *key, store_user_t *u, castor_err *err);
int idn_graph_h_me(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_users_list(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_user_get(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_user_create(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_user_patch(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_user_delete(http_request_t *req, http_response_t *resp, castor_err *err);

/* ---- groups, members, getByIds (idn_graph_groups.c) ---- */
int idn_graph_h_groups_list(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_find_group(idn_gctx_t *g, const char *id, store_group_t *out, castor_err *err);
int idn_graph_h_group_get(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_group_create(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_group_delete(http_request_t *req, http_response_t *resp, castor_err *err);
const char *idn_graph_object_type(idn_gctx_t *g, const char *id);
int idn_graph_h_member_add(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_member_remove(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_members(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_get_by_ids(http_request_t *req, http_response_t *resp, castor_err *err);

/* ---- applications (idn_graph_apps.c) ---- */
int idn_graph_find_app(idn_gctx_t *g, const char *id, store_app_t *out, castor_err *err);
int idn_graph_find_app_owned(idn_gctx_t *g, const char *id, store_app_t *out, castor_err *err);
int idn_graph_h_apps_list(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_app_get(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_app_create(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_app_patch(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_app_delete(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_add_password(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_remove_password(http_request_t *req, http_response_t *resp, castor_err *err);

/* ---- service principals (idn_graph_sps.c) ---- */
int idn_graph_find_sp(idn_gctx_t *g, const char *id, store_sp_t *out, castor_err *err);
int idn_graph_h_sps_list(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_sp_get(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_sp_create(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_sp_patch(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_sp_delete(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_app_role_assign(http_request_t *req, http_response_t *resp, castor_err *err);

/* ---- oauth2PermissionGrants (idn_graph_grants.c) ---- */
int idn_graph_h_grants_list(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_grant_create(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_grant_patch(http_request_t *req, http_response_t *resp, castor_err *err);
int idn_graph_h_grant_delete(http_request_t *req, http_response_t *resp, castor_err *err);

#endif
