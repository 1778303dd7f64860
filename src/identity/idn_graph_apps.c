/* idn_graph_apps.c — Microsoft Graph /applications: registration, PATCH of the manifest,
 * addPassword, removePassword. See idn_graph.h. */
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

/* ---- applications ---- */

int idn_graph_find_app(idn_gctx_t *g, const char *id, store_app_t *out, castor_err *err)
{
    castor_err e;
    int rc = store_app_get(g->t, id, out, &e);
    if (rc == CASTOR_ENOTFOUND) rc = store_app_get_by_app_id(g->t, g->who->tenant_id, id, out, &e);
    if (rc == 0 && !idn_graph_in_tenant(g, out->tenant_id)) {
        store_app_release(out);
        rc = CASTOR_ENOTFOUND;
    }
    return idn_graph_found(rc, &e, id, err);
}

/* idn_graph_find_app for the application's owner or an administrator; *out is released on denial.
 */
int idn_graph_find_app_owned(idn_gctx_t *g, const char *id, store_app_t *out, castor_err *err)
{
    int rc = idn_graph_find_app(g, id, out, err);
    if (rc == 0 && !idn_graph_owns_or_admin(g, out->owner_id)) {
        store_app_release(out);
        rc = idn_graph_denied(err);
    }
    return rc;
}

/* Opens a write transaction on the application named by the {id} path parameter, for its
 * owner or an administrator. On success the caller releases *a and ends with idn_graph_end; on
 * failure the transaction has ended and the caller only returns. */
static int app_begin_owned(http_request_t *req, idn_gctx_t *g, store_app_t *a, castor_err *err)
{
    int rc = idn_graph_begin(req, g, STORE_WRITE, err);
    if (rc < 0) return rc;
    rc = idn_graph_find_app_owned(g, http_request_param(req, "id"), a, err);
    return rc < 0 ? idn_graph_end(g, rc, err) : CASTOR_OK;
}

static int app_list_one(const store_app_t *a, void *ctx)
{
    idn_glist_t *l = ctx;
    return idn_graph_list_add(l, idn_graph_app_json(l->g->t, a));
}

static int apps_walk(idn_glist_t *l)
{
    return store_app_each(l->g->t, l->g->who->tenant_id, app_list_one, l, &l->e);
}

int idn_graph_h_apps_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    return idn_graph_list_reply(req, resp, "applications", apps_walk, err);
}

int idn_graph_h_app_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_READ, err);
    if (rc < 0) return rc;
    store_app_t a;
    rc = idn_graph_find_app(&g, http_request_param(req, "id"), &a, err);
    if (rc == 0) {
        rc = idn_graph_reply(&g, resp, 200, idn_graph_app_json(g.t, &a), err);
        store_app_release(&a);
    }
    return idn_graph_end(&g, rc, err);
}

/* Checks and normalizes the writable attributes of body into doc; CASTOR_EINVAL names the
 * first bad one. keyCredentials must hold X.509 certificates (base64 DER). */
static int app_doc_apply(idn_gctx_t *g, json_t *doc, const json_t *body, castor_err *err)
{
    static const char *const keys[] = {"signInAudience",
                                       "requiredResourceAccess",
                                       "identifierUris",
                                       "api",
                                       "appRoles",
                                       "web",
                                       "publicClient",
                                       "spa",
                                       "isFallbackPublicClient",
                                       "keyCredentials",
                                       "groupMembershipClaims",
                                       "tags",
                                       "notes",
                                       "description"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const json_t *v = json_object_get(body, keys[i]);
        if (!v) continue;
        if (strcmp(keys[i], "requiredResourceAccess") == 0) {
            if (!json_is_array(v))
                return idn_graph_bad_request(err, "requiredResourceAccess must be an array.");
            size_t k, m;
            const json_t *e, *ra;
            json_array_foreach(v, k, e)
            {
                if (!ids_is_guid(json_string_value(json_object_get(e, "resourceAppId"))))
                    return idn_graph_bad_request(
                        err, "requiredResourceAccess[].resourceAppId must be a GUID.");
                json_array_foreach(json_object_get(e, "resourceAccess"), m, ra)
                {
                    const char *type = json_string_value(json_object_get(ra, "type"));
                    if (!ids_is_guid(json_string_value(json_object_get(ra, "id"))) || !type ||
                        (strcmp(type, "Scope") != 0 && strcmp(type, "Role") != 0))
                        return idn_graph_bad_request(
                            err, "resourceAccess entries need a GUID id and type "
                                 "Scope or Role.");
                }
            }
        }
        json_t *copy = json_deep_copy(v);
        if (strcmp(keys[i], "keyCredentials") == 0) {
            size_t k;
            json_t *kc;
            json_array_foreach(copy, k, kc)
            {
                const char *key = json_string_value(json_object_get(kc, "key"));
                size_t n = 0;
                unsigned char *der =
                    key ? idn_b64_decode(&g->req->arena, key, strlen(key), &n) : NULL;
                idn_cert_info_t ci;
                castor_err e;
                if (!der || idn_cert_info(der, n, &ci, &e) < 0) {
                    json_decref(copy);
                    return idn_graph_bad_request(err, "keyCredentials[].key must be a base64 X.509 "
                                                      "certificate (DER).");
                }
                if (!json_string_value(json_object_get(kc, "keyId"))) {
                    char kid[37];
                    ids_guid(kid);
                    json_object_set_new(kc, "keyId", json_string(kid));
                }
                char a[32], b[32];
                idn_graph_iso(ci.not_before, a);
                idn_graph_iso(ci.not_after, b);
                json_object_set_new(kc, "customKeyIdentifier", json_string(ci.thumb_hex));
                json_object_set_new(kc, "startDateTime", json_string(a));
                json_object_set_new(kc, "endDateTime", json_string(b));
                if (!json_object_get(kc, "type"))
                    json_object_set_new(kc, "type", json_string("AsymmetricX509Cert"));
                if (!json_object_get(kc, "usage"))
                    json_object_set_new(kc, "usage", json_string("Verify"));
            }
        }
        if (strcmp(keys[i], "api") == 0 && json_is_object(copy)) {
            size_t k;
            json_t *sc;
            json_array_foreach(json_object_get(copy, "oauth2PermissionScopes"), k, sc)
            {
                if (!json_object_get(sc, "id")) {
                    char id[37];
                    ids_guid(id);
                    json_object_set_new(sc, "id", json_string(id));
                }
            }
        }
        json_object_set_new(doc, keys[i], copy);
    }
    return CASTOR_OK;
}

int idn_graph_h_app_create(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    int rc = idn_graph_begin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    const char *name = json_string_value(json_object_get(req->json, "displayName"));
    if (!name || !name[0])
        return idn_graph_end(&g, idn_graph_bad_request(err, "displayName is required."), err);
    if ((rc = idn_graph_too_long(err, "Application", "displayName", name, CASTOR_NAME_MAX)) < 0)
        return idn_graph_end(&g, rc, err);
    json_t *doc = json_object();
    rc = app_doc_apply(&g, doc, req->json, err);
    store_app_t a = {.created = time_now_s()};
    ids_guid(a.id);
    ids_guid(a.app_id);
    snprintf(a.tenant_id, sizeof a.tenant_id, "%s", g.who->tenant_id);
    snprintf(a.display_name, sizeof a.display_name, "%s", name);
    snprintf(a.owner_id, sizeof a.owner_id, "%s", g.who->oid);
    a.doc = rc == 0 ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (rc == 0) rc = store_app_create(g.t, &a, err);
    if (rc == 0) rc = idn_graph_reply(&g, resp, 201, idn_graph_app_json(g.t, &a), err);
    free(a.doc);
    return idn_graph_end(&g, rc, err);
}

int idn_graph_h_app_patch(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    store_app_t a;
    int rc = app_begin_owned(req, &g, &a, err);
    if (rc < 0) return rc;
    json_t *doc = json_loads(a.doc, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        doc = json_object();
    }
    rc = app_doc_apply(&g, doc, req->json, err);
    const char *name = json_string_value(json_object_get(req->json, "displayName"));
    if (rc == 0) rc = idn_graph_too_long(err, "Application", "displayName", name, CASTOR_NAME_MAX);
    if (name) snprintf(a.display_name, sizeof a.display_name, "%s", name);
    if (rc == 0) {
        free(a.doc);
        a.doc = json_dumps(doc, JSON_COMPACT);
        rc = store_app_update(g.t, &a, err);
    }
    json_decref(doc);
    store_app_release(&a);
    resp->status = 204;
    return idn_graph_end(&g, rc, err);
}

int idn_graph_h_app_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    store_app_t a;
    int rc = app_begin_owned(req, &g, &a, err);
    if (rc < 0) return rc;
    store_sp_t sp;
    castor_err e;
    if (store_sp_get_by_app_id(g.t, a.tenant_id, a.app_id, &sp, &e) == 0) {
        rc = store_sp_delete(g.t, sp.id, err);
        store_sp_release(&sp);
    }
    if (rc == 0) rc = store_app_delete(g.t, a.id, err);
    store_app_release(&a);
    access_directory_changed();
    resp->status = 204;
    return idn_graph_end(&g, rc, err);
}

int idn_graph_h_add_password(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    store_app_t a;
    int rc = app_begin_owned(req, &g, &a, err);
    if (rc < 0) return rc;
    const json_t *pc = json_object_get(req->json, "passwordCredential");
    const char *dn = json_string_value(json_object_get(pc, "displayName"));
    if ((rc = idn_graph_too_long(err, "PasswordCredential", "displayName", dn, CASTOR_NAME_MAX)) <
        0) {
        store_app_release(&a);
        return idn_graph_end(&g, rc, err);
    }
    int64_t now = time_now_s();
    store_app_secret_t s = {.start_s = idn_graph_parse_iso(
                                json_string_value(json_object_get(pc, "startDateTime")), now)};
    s.end_s = idn_graph_parse_iso(json_string_value(json_object_get(pc, "endDateTime")),
                                  now + 2 * 365 * 24 * 3600);
    ids_guid(s.key_id);
    snprintf(s.app_object_id, sizeof s.app_object_id, "%s", a.id);
    snprintf(s.display_name, sizeof s.display_name, "%s", dn ? dn : "");
    /* 40 characters like Entra's secrets; shown once, only its hash is kept. */
    char *secret = idn_random_token(&req->arena, 30);
    idn_secret_hash(secret, s.secret_hash);
    snprintf(s.hint, sizeof s.hint, "%.3s", secret);
    rc = store_app_secret_add(g.t, &s, err);
    store_app_release(&a);
    if (rc == 0) {
        char st[32], en[32];
        idn_graph_iso(s.start_s, st);
        idn_graph_iso(s.end_s, en);
        rc = idn_graph_reply(&g, resp, 200,
                             json_pack("{s:n, s:s, s:s, s:s, s:s, s:s, s:s}", "customKeyIdentifier",
                                       "displayName", s.display_name, "endDateTime", en, "hint",
                                       s.hint, "keyId", s.key_id, "secretText", secret,
                                       "startDateTime", st),
                             err);
    }
    return idn_graph_end(&g, rc, err);
}

int idn_graph_h_remove_password(http_request_t *req, http_response_t *resp, castor_err *err)
{
    idn_gctx_t g;
    store_app_t a;
    int rc = app_begin_owned(req, &g, &a, err);
    if (rc < 0) return rc;
    const char *kid = json_string_value(json_object_get(req->json, "keyId"));
    if (!kid) rc = idn_graph_bad_request(err, "keyId is required.");
    if (rc == 0) rc = store_app_secret_remove(g.t, a.id, kid, err);
    if (rc == CASTOR_ENOTFOUND) rc = idn_graph_not_found(err, kid);
    store_app_release(&a);
    resp->status = 204;
    return idn_graph_end(&g, rc, err);
}
