/* idn_graph.c — the Microsoft Graph v1.0 subset that `az ad`, `az role assignment --assignee`
 * and a portal-like UI use: /me, /users, /groups (+ members/$ref), /applications (+
 * addPassword, removePassword, PATCH), /servicePrincipals, /oauth2PermissionGrants,
 * /directoryObjects/getByIds, with the $filter forms those clients send
 * (real-clients-cli-python.md §6). Errors in the OData shape (errors.c).
 *
 * Who may do what: a directory administrator (the bootstrap admin) or a service principal
 * holding Graph's Application.ReadWrite.All / Directory.ReadWrite.All app role manages
 * everything; any signed-in user reads users, groups and service principals (as Entra's
 * default user permissions allow), registers applications, and manages what it owns. */
#include "identity/idn_internal.h"

#include "access/access.h"
#include "core/ids.h"
#include "core/timeutil.h"
#include "identity/idn_crypto.h"
#include "serve/bootstrap.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct gctx {
    http_request_t *req;
    const access_principal_t *who; /* req->caller, as access_guard_graph authenticated it */
    int admin;
    store_txn_t *t;
    const char *base; /* https://host/v1.0 */
} gctx_t;

static int denied(castor_err *err)
{
    return castor_err_http(err, CASTOR_EPERM, 403, "Authorization_RequestDenied",
                           "Insufficient privileges to complete the operation.");
}

static int not_found(castor_err *err, const char *id)
{
    return castor_err_http(err, CASTOR_ENOTFOUND, 404, "Request_ResourceNotFound",
                           "Resource '%s' does not exist or one of its queried reference-property "
                           "objects are not present.",
                           id ? id : "");
}

static int bad_request(castor_err *err, const char *msg)
{
    return castor_err_http(err, CASTOR_EINVAL, 400, "Request_BadRequest", "%s", msg);
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
static int gbegin(http_request_t *req, gctx_t *g, store_mode_t mode, castor_err *err)
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

static int gend(gctx_t *g, int rc, castor_err *err)
{
    if (!g->t) return rc;
    if (rc == 0) return store_commit(g->t, err);
    store_rollback(g->t);
    return rc;
}

static void iso(int64_t s, char out[32])
{
    char full[40];
    time_format_rfc3339(s, 0, full, sizeof full);
    snprintf(out, 32, "%.19sZ", full);
}

static int64_t parse_iso(const char *s, int64_t dflt)
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

/* ---- $filter: x eq 'v' [and ...], startswith(x,'v'), x/any(c:c eq 'v') ---- */

typedef struct cond {
    char field[64];
    char value[512];
    int op; /* 0 eq, 1 startswith, 2 any */
} cond_t;

typedef struct filter {
    int n;
    cond_t c[4];
} filter_t;

static const char *quoted(const char *p, char *out, size_t size)
{
    while (*p == ' ')
        p++;
    if (*p != '\'') return NULL;
    p++;
    size_t o = 0;
    while (*p) {
        if (*p == '\'' && p[1] == '\'') {
            if (o < size - 1) out[o++] = '\'';
            p += 2;
            continue;
        }
        if (*p == '\'') break;
        if (o < size - 1) out[o++] = *p;
        p++;
    }
    out[o] = '\0';
    return *p == '\'' ? p + 1 : NULL;
}

static int filter_parse(const char *s, filter_t *f)
{
    f->n = 0;
    if (!s) return 0;
    const char *p = s;
    while (*p && f->n < 4) {
        while (*p == ' ')
            p++;
        cond_t *c = &f->c[f->n];
        memset(c, 0, sizeof *c);
        if (strncasecmp(p, "startswith(", 11) == 0) {
            p += 11;
            size_t n = strcspn(p, ",");
            snprintf(c->field, sizeof c->field, "%.*s", (int)n, p);
            p += n;
            if (*p != ',') return -1;
            p = quoted(p + 1, c->value, sizeof c->value);
            if (!p || *p != ')') return -1;
            p++;
            c->op = 1;
        } else {
            size_t n = strcspn(p, " /");
            snprintf(c->field, sizeof c->field, "%.*s", (int)n, p);
            p += n;
            if (strncasecmp(p, "/any(", 5) == 0) {
                const char *eq = strstr(p, " eq ");
                if (!eq) return -1;
                p = quoted(eq + 4, c->value, sizeof c->value);
                if (!p || *p != ')') return -1;
                p++;
                c->op = 2;
            } else {
                while (*p == ' ')
                    p++;
                if (strncasecmp(p, "eq ", 3) != 0) return -1;
                p = quoted(p + 3, c->value, sizeof c->value);
                if (!p) return -1;
            }
        }
        f->n++;
        while (*p == ' ')
            p++;
        if (!*p) break;
        if (strncasecmp(p, "and ", 4) != 0) return -1;
        p += 4;
    }
    return 0;
}

static int filter_match(const filter_t *f, const json_t *obj)
{
    for (int i = 0; i < f->n; i++) {
        const cond_t *c = &f->c[i];
        const json_t *v = json_object_get(obj, c->field);
        if (c->op == 2) {
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
            if (c->op == 0 ? strcasecmp(s, c->value) != 0
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

static json_t *user_json(const store_user_t *u)
{
    char when[32];
    iso(u->created, when);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:n, s:b, s:[], s:n, s:n, s:n, s:n, s:n, s:n, "
                     "s:s}",
                     "@odata.type", "#microsoft.graph.user", "id", u->id, "userPrincipalName",
                     u->upn, "displayName", u->display_name, "mailNickname", u->mail_nickname,
                     "mail", "accountEnabled", u->enabled, "businessPhones", "givenName", "surname",
                     "jobTitle", "mobilePhone", "officeLocation", "preferredLanguage",
                     "createdDateTime", when);
}

static json_t *group_json(const store_group_t *g)
{
    char when[32];
    iso(g->created, when);
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
    iso(s->start_s, a);
    iso(s->end_s, b);
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

static json_t *app_json(store_txn_t *t, const store_app_t *a)
{
    json_t *o = json_loads(a->doc ? a->doc : "{}", 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    char when[32];
    iso(a->created, when);
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

static json_t *sp_json(const store_sp_t *s, const char *tenant_id)
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

static json_t *grant_json(const store_grant_t *g)
{
    return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s}", "id", g->id, "clientId", g->client_id,
                     "consentType", g->consent_type, "principalId",
                     g->principal_id[0] ? g->principal_id : NULL, "resourceId", g->resource_id,
                     "scope", g->scope);
}

static int reply(gctx_t *g, http_response_t *resp, int status, json_t *body, castor_err *err)
{
    int rc = http_response_json(g->req, resp, status, body, err);
    json_decref(body);
    return rc;
}

static json_t *collection(gctx_t *g, const char *what, json_t *value)
{
    return json_pack("{s:s, s:o}", "@odata.context",
                     arena_sprintf(&g->req->arena, "%s/$metadata#%s", g->base, what), "value",
                     value);
}

/* ---- collection walkers ---- */

typedef struct list_ctx {
    gctx_t *g;
    filter_t f;
    json_t *out;
    castor_err e; /* the store's failure when a walk fails */
} list_ctx_t;

/* Keeps o in the listing when it passes $filter; takes o's reference. */
static int list_add(list_ctx_t *l, json_t *o)
{
    if (filter_match(&l->f, o)) json_array_append(l->out, o);
    json_decref(o);
    return 0;
}

static int user_list_one(const store_user_t *u, void *ctx)
{
    return list_add(ctx, user_json(u));
}

static int group_list_one(const store_group_t *gr, void *ctx)
{
    return list_add(ctx, group_json(gr));
}

static int app_list_one(const store_app_t *a, void *ctx)
{
    list_ctx_t *l = ctx;
    return list_add(l, app_json(l->g->t, a));
}

static int sp_list_one(const store_sp_t *s, void *ctx)
{
    list_ctx_t *l = ctx;
    return list_add(l, sp_json(s, l->g->who->tenant_id));
}

static int grant_list_one(const store_grant_t *gr, void *ctx)
{
    return list_add(ctx, grant_json(gr));
}

/* Feeds every object of the caller's tenant to list_add; fills l->e on failure. */
typedef int (*list_walk_fn)(list_ctx_t *l);

/* Answers GET on a collection: a read transaction, $filter parsed, walk run, and the
 * collection named what in reply, or the store's failure. */
static int list_reply(http_request_t *req, http_response_t *resp, const char *what,
                      list_walk_fn walk, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_READ, err);
    if (rc < 0) return rc;
    list_ctx_t l = {.g = &g, .out = json_array()};
    castor_err_clear(&l.e);
    if (filter_parse(http_request_query(req, "$filter"), &l.f) < 0) {
        json_decref(l.out);
        return gend(&g,
                    bad_request(err, "Invalid filter clause: castor understands x eq 'v', "
                                     "startswith(x,'v'), x/any(c:c eq 'v') joined by and."),
                    err);
    }
    rc = walk(&l);
    if (rc < 0) {
        json_decref(l.out);
        return gend(&g, castor_err_set(err, rc, "%s", l.e.message), err);
    }
    return gend(&g, reply(&g, resp, 200, collection(&g, what, l.out), err), err);
}

/* ---- lookups by id ---- */

/* An object of another tenant does not exist for the caller. */
static int in_tenant(const gctx_t *g, const char *tenant_id)
{
    return strcmp(tenant_id, g->who->tenant_id) == 0;
}

/* Ends a store lookup of id as Graph answers it: 404 when absent, else the store's cause. */
static int found(int rc, const castor_err *e, const char *id, castor_err *err)
{
    if (rc == CASTOR_ENOTFOUND) return not_found(err, id);
    return rc < 0 ? castor_err_set(err, rc, "%s", e->message) : CASTOR_OK;
}

static int owns_or_admin(const gctx_t *g, const char *owner)
{
    return g->admin || strcmp(owner, g->who->oid) == 0;
}

/* ---- users ---- */

static int find_user(gctx_t *g, const char *key, store_user_t *u, castor_err *err)
{
    castor_err e;
    castor_err_clear(&e);
    int rc = strchr(key, '@') ? store_user_get_by_upn(g->t, g->who->tenant_id, key, u, &e)
                              : store_user_get(g->t, key, u, &e);
    if (rc == 0 && !in_tenant(g, u->tenant_id)) rc = CASTOR_ENOTFOUND;
    rc = found(rc, &e, key, err);
    if (rc < 0) return rc;
    sodium_memzero(u->password_hash, sizeof u->password_hash);
    return CASTOR_OK;
}

static int h_me(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_READ, err);
    if (rc < 0) return rc;
    if (g.who->kind != ACCESS_KIND_USER)
        return gend(&g,
                    bad_request(err, "/me request is only valid with delegated "
                                     "authentication flow."),
                    err);
    store_user_t u;
    rc = find_user(&g, g.who->oid, &u, err);
    if (rc == 0) rc = reply(&g, resp, 200, user_json(&u), err);
    return gend(&g, rc, err);
}

static int users_walk(list_ctx_t *l)
{
    return store_user_each(l->g->t, l->g->who->tenant_id, user_list_one, l, &l->e);
}

static int h_users_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    return list_reply(req, resp, "users", users_walk, err);
}

static int h_user_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_READ, err);
    if (rc < 0) return rc;
    store_user_t u;
    rc = find_user(&g, http_request_param(req, "id"), &u, err);
    if (rc == 0) rc = reply(&g, resp, 200, user_json(&u), err);
    return gend(&g, rc, err);
}

static int h_user_create(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    if (!g.admin) return gend(&g, denied(err), err);
    const json_t *b = req->json;
    const char *upn = json_string_value(json_object_get(b, "userPrincipalName"));
    const char *name = json_string_value(json_object_get(b, "displayName"));
    const char *nick = json_string_value(json_object_get(b, "mailNickname"));
    const char *pw =
        json_string_value(json_object_get(json_object_get(b, "passwordProfile"), "password"));
    const json_t *enabled = json_object_get(b, "accountEnabled");
    if (!upn || !strchr(upn, '@') || !name || !pw)
        return gend(&g,
                    bad_request(err, "userPrincipalName (user@domain), displayName and "
                                     "passwordProfile.password are required."),
                    err);
    store_tenant_t tn;
    castor_err e;
    castor_err_clear(&e);
    if (store_tenant_get(g.t, g.who->tenant_id, &tn, &e) < 0 ||
        strcasecmp(strrchr(upn, '@') + 1, tn.domain) != 0)
        return gend(&g,
                    bad_request(err, "Property userPrincipalName is invalid: its domain must be "
                                     "a verified domain of the tenant."),
                    err);
    if (strlen(pw) < 8)
        return gend(&g,
                    bad_request(err, "The specified password does not comply with password "
                                     "complexity requirements (at least 8 characters)."),
                    err);
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
    if (rc == 0) rc = reply(&g, resp, 201, user_json(&u), err);
    return gend(&g, rc, err);
}

static int h_user_patch(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    store_user_t u;
    rc = find_user(&g, http_request_param(req, "id"), &u, err);
    if (rc < 0) return gend(&g, rc, err);
    if (!g.admin && strcmp(u.id, g.who->oid) != 0) return gend(&g, denied(err), err);
    const json_t *b = req->json;
    const char *name = json_string_value(json_object_get(b, "displayName"));
    const json_t *en = json_object_get(b, "accountEnabled");
    if (name) snprintf(u.display_name, sizeof u.display_name, "%s", name);
    if (json_is_boolean(en)) {
        if (!g.admin) return gend(&g, denied(err), err);
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
    return gend(&g, rc, err);
}

static int h_user_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    if (!g.admin) return gend(&g, denied(err), err);
    store_user_t u;
    rc = find_user(&g, http_request_param(req, "id"), &u, err);
    if (rc == 0) rc = store_user_delete(g.t, u.id, err);
    access_directory_changed();
    resp->status = 204;
    return gend(&g, rc, err);
}

/* ---- groups ---- */

static int groups_walk(list_ctx_t *l)
{
    return store_group_each(l->g->t, l->g->who->tenant_id, group_list_one, l, &l->e);
}

static int h_groups_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    return list_reply(req, resp, "groups", groups_walk, err);
}

static int find_group(gctx_t *g, const char *id, store_group_t *out, castor_err *err)
{
    castor_err e;
    int rc = store_group_get(g->t, id, out, &e);
    if (rc == 0 && !in_tenant(g, out->tenant_id)) rc = CASTOR_ENOTFOUND;
    return found(rc, &e, id, err);
}

/* Opens a write transaction on the group named by the {id} path parameter, for its owner or
 * an administrator. On failure the transaction has ended and the caller only returns. */
static int group_begin_owned(http_request_t *req, gctx_t *g, store_group_t *gr, castor_err *err)
{
    int rc = gbegin(req, g, STORE_WRITE, err);
    if (rc < 0) return rc;
    rc = find_group(g, http_request_param(req, "id"), gr, err);
    if (rc == 0 && !owns_or_admin(g, gr->owner_id)) rc = denied(err);
    return rc < 0 ? gend(g, rc, err) : CASTOR_OK;
}

static int h_group_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_READ, err);
    if (rc < 0) return rc;
    store_group_t gr;
    rc = find_group(&g, http_request_param(req, "id"), &gr, err);
    if (rc == 0) rc = reply(&g, resp, 200, group_json(&gr), err);
    return gend(&g, rc, err);
}

static int h_group_create(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    const char *name = json_string_value(json_object_get(req->json, "displayName"));
    const char *nick = json_string_value(json_object_get(req->json, "mailNickname"));
    const char *desc = json_string_value(json_object_get(req->json, "description"));
    if (!name) return gend(&g, bad_request(err, "displayName is required."), err);
    store_group_t gr = {.created = time_now_s()};
    ids_guid(gr.id);
    snprintf(gr.tenant_id, sizeof gr.tenant_id, "%s", g.who->tenant_id);
    snprintf(gr.display_name, sizeof gr.display_name, "%s", name);
    snprintf(gr.mail_nickname, sizeof gr.mail_nickname, "%s", nick ? nick : "");
    snprintf(gr.description, sizeof gr.description, "%s", desc ? desc : "");
    snprintf(gr.owner_id, sizeof gr.owner_id, "%s", g.who->oid);
    rc = store_group_create(g.t, &gr, err);
    if (rc == 0) rc = reply(&g, resp, 201, group_json(&gr), err);
    return gend(&g, rc, err);
}

static int h_group_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    store_group_t gr;
    int rc = group_begin_owned(req, &g, &gr, err);
    if (rc < 0) return rc;
    rc = store_group_delete(g.t, gr.id, err);
    access_directory_changed();
    resp->status = 204;
    return gend(&g, rc, err);
}

/* The type of a directory object id, or NULL when there is none. */
static const char *object_type(gctx_t *g, const char *id)
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

static int h_member_add(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    store_group_t gr;
    int rc = group_begin_owned(req, &g, &gr, err);
    if (rc < 0) return rc;
    const char *ref = json_string_value(json_object_get(req->json, "@odata.id"));
    const char *mid = ref ? strrchr(ref, '/') : NULL;
    mid = mid ? mid + 1 : ref;
    if (!mid || !ids_is_guid(mid))
        rc = bad_request(err, "@odata.id must name a directory object: "
                              "https://{host}/v1.0/directoryObjects/{id}.");
    const char *type = rc == 0 ? object_type(&g, mid) : NULL;
    if (rc == 0 && !type) rc = not_found(err, mid);
    if (rc == 0 && strcmp(mid, gr.id) == 0)
        rc = bad_request(err, "A group cannot be a member of itself.");
    if (rc == 0) {
        rc = store_group_member_add(g.t, gr.id, mid, type, err);
        if (rc == CASTOR_ECONFLICT)
            rc = castor_err_http(err, rc, 400, "Request_BadRequest",
                                 "One or more added object references already exist for the "
                                 "following modified properties: 'members'.");
    }
    access_directory_changed();
    resp->status = 204;
    return gend(&g, rc, err);
}

static int h_member_remove(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    store_group_t gr;
    rc = find_group(&g, http_request_param(req, "id"), &gr, err);
    if (rc == 0 && !owns_or_admin(&g, gr.owner_id)) rc = denied(err);
    if (rc == 0) {
        /* Only a missing membership names the member; a missing group keeps find_group's
         * message naming the group. */
        rc = store_group_member_remove(g.t, gr.id, http_request_param(req, "mid"), err);
        if (rc == CASTOR_ENOTFOUND) rc = not_found(err, http_request_param(req, "mid"));
    }
    if (rc == 0) access_directory_changed();
    resp->status = 204;
    return gend(&g, rc, err);
}

typedef struct members_ctx {
    gctx_t *g;
    json_t *out;
} members_ctx_t;

static int member_one(const char *id, const char *type, void *ctx)
{
    members_ctx_t *m = ctx;
    castor_err e;
    json_t *o = NULL;
    if (strcmp(type, "user") == 0) {
        store_user_t u;
        if (store_user_get(m->g->t, id, &u, &e) == 0) o = user_json(&u);
    } else if (strcmp(type, "group") == 0) {
        store_group_t gr;
        if (store_group_get(m->g->t, id, &gr, &e) == 0) o = group_json(&gr);
    } else {
        store_sp_t sp;
        if (store_sp_get(m->g->t, id, &sp, &e) == 0) {
            o = sp_json(&sp, m->g->who->tenant_id);
            store_sp_release(&sp);
        }
    }
    if (o) json_array_append_new(m->out, o);
    return 0;
}

static int h_members(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_READ, err);
    if (rc < 0) return rc;
    store_group_t gr;
    rc = find_group(&g, http_request_param(req, "id"), &gr, err);
    members_ctx_t m = {&g, json_array()};
    castor_err e;
    if (rc == 0) rc = store_group_member_each(g.t, gr.id, member_one, &m, &e);
    if (rc == 0)
        return gend(&g, reply(&g, resp, 200, collection(&g, "directoryObjects", m.out), err), err);
    json_decref(m.out);
    return gend(&g, rc, err);
}

/* ---- applications ---- */

static int find_app(gctx_t *g, const char *id, store_app_t *out, castor_err *err)
{
    castor_err e;
    int rc = store_app_get(g->t, id, out, &e);
    if (rc == CASTOR_ENOTFOUND) rc = store_app_get_by_app_id(g->t, g->who->tenant_id, id, out, &e);
    if (rc == 0 && !in_tenant(g, out->tenant_id)) {
        store_app_release(out);
        rc = CASTOR_ENOTFOUND;
    }
    return found(rc, &e, id, err);
}

/* find_app for the application's owner or an administrator; *out is released on denial. */
static int find_app_owned(gctx_t *g, const char *id, store_app_t *out, castor_err *err)
{
    int rc = find_app(g, id, out, err);
    if (rc == 0 && !owns_or_admin(g, out->owner_id)) {
        store_app_release(out);
        rc = denied(err);
    }
    return rc;
}

/* Opens a write transaction on the application named by the {id} path parameter, for its
 * owner or an administrator. On success the caller releases *a and ends with gend; on failure
 * the transaction has ended and the caller only returns. */
static int app_begin_owned(http_request_t *req, gctx_t *g, store_app_t *a, castor_err *err)
{
    int rc = gbegin(req, g, STORE_WRITE, err);
    if (rc < 0) return rc;
    rc = find_app_owned(g, http_request_param(req, "id"), a, err);
    return rc < 0 ? gend(g, rc, err) : CASTOR_OK;
}

static int apps_walk(list_ctx_t *l)
{
    return store_app_each(l->g->t, l->g->who->tenant_id, app_list_one, l, &l->e);
}

static int h_apps_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    return list_reply(req, resp, "applications", apps_walk, err);
}

static int h_app_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_READ, err);
    if (rc < 0) return rc;
    store_app_t a;
    rc = find_app(&g, http_request_param(req, "id"), &a, err);
    if (rc == 0) {
        rc = reply(&g, resp, 200, app_json(g.t, &a), err);
        store_app_release(&a);
    }
    return gend(&g, rc, err);
}

/* Checks and normalizes the writable attributes of body into doc; CASTOR_EINVAL names the
 * first bad one. keyCredentials must hold X.509 certificates (base64 DER). */
static int app_doc_apply(gctx_t *g, json_t *doc, const json_t *body, castor_err *err)
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
                return bad_request(err, "requiredResourceAccess must be an array.");
            size_t k, m;
            const json_t *e, *ra;
            json_array_foreach(v, k, e)
            {
                if (!ids_is_guid(json_string_value(json_object_get(e, "resourceAppId"))))
                    return bad_request(err,
                                       "requiredResourceAccess[].resourceAppId must be a GUID.");
                json_array_foreach(json_object_get(e, "resourceAccess"), m, ra)
                {
                    const char *type = json_string_value(json_object_get(ra, "type"));
                    if (!ids_is_guid(json_string_value(json_object_get(ra, "id"))) || !type ||
                        (strcmp(type, "Scope") != 0 && strcmp(type, "Role") != 0))
                        return bad_request(err, "resourceAccess entries need a GUID id and type "
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
                    return bad_request(err, "keyCredentials[].key must be a base64 X.509 "
                                            "certificate (DER).");
                }
                if (!json_string_value(json_object_get(kc, "keyId"))) {
                    char kid[37];
                    ids_guid(kid);
                    json_object_set_new(kc, "keyId", json_string(kid));
                }
                char a[32], b[32];
                iso(ci.not_before, a);
                iso(ci.not_after, b);
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

static int h_app_create(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    const char *name = json_string_value(json_object_get(req->json, "displayName"));
    if (!name || !name[0]) return gend(&g, bad_request(err, "displayName is required."), err);
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
    if (rc == 0) rc = reply(&g, resp, 201, app_json(g.t, &a), err);
    free(a.doc);
    return gend(&g, rc, err);
}

static int h_app_patch(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
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
    if (name) snprintf(a.display_name, sizeof a.display_name, "%s", name);
    if (rc == 0) {
        free(a.doc);
        a.doc = json_dumps(doc, JSON_COMPACT);
        rc = store_app_update(g.t, &a, err);
    }
    json_decref(doc);
    store_app_release(&a);
    resp->status = 204;
    return gend(&g, rc, err);
}

static int h_app_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
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
    return gend(&g, rc, err);
}

static int h_add_password(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    store_app_t a;
    int rc = app_begin_owned(req, &g, &a, err);
    if (rc < 0) return rc;
    const json_t *pc = json_object_get(req->json, "passwordCredential");
    const char *dn = json_string_value(json_object_get(pc, "displayName"));
    int64_t now = time_now_s();
    store_app_secret_t s = {
        .start_s = parse_iso(json_string_value(json_object_get(pc, "startDateTime")), now)};
    s.end_s =
        parse_iso(json_string_value(json_object_get(pc, "endDateTime")), now + 2 * 365 * 24 * 3600);
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
        iso(s.start_s, st);
        iso(s.end_s, en);
        rc = reply(&g, resp, 200,
                   json_pack("{s:n, s:s, s:s, s:s, s:s, s:s, s:s}", "customKeyIdentifier",
                             "displayName", s.display_name, "endDateTime", en, "hint", s.hint,
                             "keyId", s.key_id, "secretText", secret, "startDateTime", st),
                   err);
    }
    return gend(&g, rc, err);
}

static int h_remove_password(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    store_app_t a;
    int rc = app_begin_owned(req, &g, &a, err);
    if (rc < 0) return rc;
    const char *kid = json_string_value(json_object_get(req->json, "keyId"));
    if (!kid) rc = bad_request(err, "keyId is required.");
    if (rc == 0) rc = store_app_secret_remove(g.t, a.id, kid, err);
    if (rc == CASTOR_ENOTFOUND) rc = not_found(err, kid);
    store_app_release(&a);
    resp->status = 204;
    return gend(&g, rc, err);
}

/* ---- service principals ---- */

static int find_sp(gctx_t *g, const char *id, store_sp_t *out, castor_err *err)
{
    castor_err e;
    int rc = store_sp_get(g->t, id, out, &e);
    if (rc == 0 && !in_tenant(g, out->tenant_id)) {
        store_sp_release(out);
        rc = CASTOR_ENOTFOUND;
    }
    return found(rc, &e, id, err);
}

/* Opens a write transaction on the service principal named by the {id} path parameter, for
 * its owner or an administrator; castor's first-party principals are no one's to change. On
 * success the caller releases *sp and ends with gend; on failure the transaction has ended. */
static int sp_begin_owned(http_request_t *req, gctx_t *g, store_sp_t *sp, castor_err *err)
{
    int rc = gbegin(req, g, STORE_WRITE, err);
    if (rc < 0) return rc;
    rc = find_sp(g, http_request_param(req, "id"), sp, err);
    if (rc == 0 && (!owns_or_admin(g, sp->owner_id) || sp->first_party)) {
        store_sp_release(sp);
        rc = denied(err);
    }
    return rc < 0 ? gend(g, rc, err) : CASTOR_OK;
}

static int sps_walk(list_ctx_t *l)
{
    return store_sp_each(l->g->t, l->g->who->tenant_id, sp_list_one, l, &l->e);
}

static int h_sps_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    return list_reply(req, resp, "servicePrincipals", sps_walk, err);
}

static int h_sp_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_READ, err);
    if (rc < 0) return rc;
    store_sp_t sp;
    rc = find_sp(&g, http_request_param(req, "id"), &sp, err);
    if (rc == 0) {
        rc = reply(&g, resp, 200, sp_json(&sp, g.who->tenant_id), err);
        store_sp_release(&sp);
    }
    return gend(&g, rc, err);
}

static int h_sp_create(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    const char *app_id = json_string_value(json_object_get(req->json, "appId"));
    if (!app_id) return gend(&g, bad_request(err, "appId is required."), err);
    store_app_t a;
    rc = find_app_owned(&g, app_id, &a, err);
    if (rc < 0) return gend(&g, rc, err);
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
    if (rc == 0) rc = reply(&g, resp, 201, sp_json(&sp, g.who->tenant_id), err);
    json_decref(adoc);
    json_decref(spdoc);
    free(sp.doc);
    store_app_release(&a);
    return gend(&g, rc, err);
}

static int h_sp_patch(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    store_sp_t sp;
    int rc = sp_begin_owned(req, &g, &sp, err);
    if (rc < 0) return rc;
    const json_t *en = json_object_get(req->json, "accountEnabled");
    if (json_is_boolean(en)) sp.enabled = json_is_true(en);
    rc = store_sp_update(g.t, &sp, err);
    store_sp_release(&sp);
    access_directory_changed();
    resp->status = 204;
    return gend(&g, rc, err);
}

static int h_sp_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    store_sp_t sp;
    int rc = sp_begin_owned(req, &g, &sp, err);
    if (rc < 0) return rc;
    rc = store_sp_delete(g.t, sp.id, err);
    store_sp_release(&sp);
    access_directory_changed();
    resp->status = 204;
    return gend(&g, rc, err);
}

/* POST /servicePrincipals/{id}/appRoleAssignedTo and /appRoleAssignments: admin consent for
 * application permissions (roles in app-only tokens). */
static int h_app_role_assign(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    if (!g.admin) return gend(&g, denied(err), err);
    const char *pid = json_string_value(json_object_get(req->json, "principalId"));
    const char *rid = json_string_value(json_object_get(req->json, "resourceId"));
    const char *role = json_string_value(json_object_get(req->json, "appRoleId"));
    if (!pid || !rid || !role || !ids_is_guid(pid) || !ids_is_guid(rid) || !ids_is_guid(role))
        return gend(&g,
                    bad_request(err, "principalId, resourceId and appRoleId (GUIDs) are "
                                     "required."),
                    err);
    const char *type = object_type(&g, pid);
    if (!type) return gend(&g, not_found(err, pid), err);
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
        rc = reply(&g, resp, 201,
                   json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", a.id, "principalId", pid,
                             "principalType", a.principal_type, "resourceId", rid, "appRoleId",
                             role),
                   err);
    return gend(&g, rc, err);
}

/* ---- oauth2PermissionGrants ---- */

static int grants_walk(list_ctx_t *l)
{
    return store_grant_each(l->g->t, l->g->who->tenant_id, NULL, grant_list_one, l, &l->e);
}

static int h_grants_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    return list_reply(req, resp, "oauth2PermissionGrants", grants_walk, err);
}

static int h_grant_create(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    const json_t *b = req->json;
    const char *client = json_string_value(json_object_get(b, "clientId"));
    const char *type = json_string_value(json_object_get(b, "consentType"));
    const char *principal = json_string_value(json_object_get(b, "principalId"));
    const char *resource = json_string_value(json_object_get(b, "resourceId"));
    const char *scope = json_string_value(json_object_get(b, "scope"));
    if (!client || !resource || !type || !scope ||
        (strcmp(type, "AllPrincipals") != 0 && strcmp(type, "Principal") != 0))
        return gend(&g,
                    bad_request(err, "clientId, resourceId, scope and consentType "
                                     "(AllPrincipals or Principal) are required."),
                    err);
    if (strcmp(type, "Principal") == 0 && !principal)
        return gend(&g, bad_request(err, "principalId is required for consentType Principal."),
                    err);
    /* Tenant-wide consent is an administrator's; a user may consent for itself only. */
    if (!g.admin && (strcmp(type, "AllPrincipals") == 0 || strcmp(principal, g.who->oid) != 0))
        return gend(&g, denied(err), err);
    store_sp_t c, r;
    rc = find_sp(&g, client, &c, err);
    if (rc < 0) return gend(&g, rc, err);
    rc = find_sp(&g, resource, &r, err);
    if (rc < 0) {
        store_sp_release(&c);
        return gend(&g, rc, err);
    }
    /* Every scope must be one the resource publishes. */
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
    if (rc == 0) rc = reply(&g, resp, 201, grant_json(&gr), err);
    return gend(&g, rc, err);
}

static int h_grant_patch(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    if (!g.admin) return gend(&g, denied(err), err);
    const char *scope = json_string_value(json_object_get(req->json, "scope"));
    if (!scope) return gend(&g, bad_request(err, "scope is required."), err);
    rc = store_grant_update_scope(g.t, http_request_param(req, "id"), scope, err);
    if (rc == CASTOR_ENOTFOUND) rc = not_found(err, http_request_param(req, "id"));
    resp->status = 204;
    return gend(&g, rc, err);
}

static int h_grant_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_WRITE, err);
    if (rc < 0) return rc;
    store_grant_t gr;
    castor_err e;
    rc = store_grant_get(g.t, http_request_param(req, "id"), &gr, &e);
    if (rc < 0 || strcmp(gr.tenant_id, g.who->tenant_id) != 0)
        return gend(&g, not_found(err, http_request_param(req, "id")), err);
    if (!g.admin && strcmp(gr.principal_id, g.who->oid) != 0) return gend(&g, denied(err), err);
    rc = store_grant_delete(g.t, gr.id, err);
    resp->status = 204;
    return gend(&g, rc, err);
}

/* ---- directoryObjects/getByIds ---- */

static int h_get_by_ids(http_request_t *req, http_response_t *resp, castor_err *err)
{
    gctx_t g;
    int rc = gbegin(req, &g, STORE_READ, err);
    if (rc < 0) return rc;
    const json_t *ids = json_object_get(req->json, "ids");
    if (!json_is_array(ids) || json_array_size(ids) > 1000)
        return gend(&g, bad_request(err, "ids must be an array of at most 1000 object ids."), err);
    json_t *out = json_array();
    size_t i;
    const json_t *v;
    members_ctx_t m = {&g, out};
    json_array_foreach(ids, i, v)
    {
        const char *id = json_string_value(v);
        const char *type = id && ids_is_guid(id) ? object_type(&g, id) : NULL;
        if (type) member_one(id, type, &m);
    }
    return gend(&g, reply(&g, resp, 200, collection(&g, "directoryObjects", out), err), err);
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
    R("GET", "/v1.0/me", h_me, "Graph_Me"),
    R("GET", "/v1.0/users", h_users_list, "Graph_ListUsers"),
    J("POST", "/v1.0/users", h_user_create, "Graph_CreateUser"),
    R("GET", "/v1.0/users/{id}", h_user_get, "Graph_GetUser"),
    J("PATCH", "/v1.0/users/{id}", h_user_patch, "Graph_UpdateUser"),
    R("DELETE", "/v1.0/users/{id}", h_user_delete, "Graph_DeleteUser"),
    R("GET", "/v1.0/groups", h_groups_list, "Graph_ListGroups"),
    J("POST", "/v1.0/groups", h_group_create, "Graph_CreateGroup"),
    R("GET", "/v1.0/groups/{id}", h_group_get, "Graph_GetGroup"),
    R("DELETE", "/v1.0/groups/{id}", h_group_delete, "Graph_DeleteGroup"),
    R("GET", "/v1.0/groups/{id}/members", h_members, "Graph_ListMembers"),
    J("POST", "/v1.0/groups/{id}/members/$ref", h_member_add, "Graph_AddMember"),
    J("POST", "/v1.0/groups/{id}/members/%24ref", h_member_add, "Graph_AddMember"),
    R("DELETE", "/v1.0/groups/{id}/members/{mid}/$ref", h_member_remove, "Graph_RemoveMember"),
    R("DELETE", "/v1.0/groups/{id}/members/{mid}/%24ref", h_member_remove, "Graph_RemoveMember"),
    R("GET", "/v1.0/applications", h_apps_list, "Graph_ListApplications"),
    J("POST", "/v1.0/applications", h_app_create, "Graph_CreateApplication"),
    R("GET", "/v1.0/applications/{id}", h_app_get, "Graph_GetApplication"),
    J("PATCH", "/v1.0/applications/{id}", h_app_patch, "Graph_UpdateApplication"),
    R("DELETE", "/v1.0/applications/{id}", h_app_delete, "Graph_DeleteApplication"),
    J("POST", "/v1.0/applications/{id}/addPassword", h_add_password, "Graph_AddPassword"),
    J("POST", "/v1.0/applications/{id}/removePassword", h_remove_password, "Graph_RemovePassword"),
    R("GET", "/v1.0/servicePrincipals", h_sps_list, "Graph_ListServicePrincipals"),
    J("POST", "/v1.0/servicePrincipals", h_sp_create, "Graph_CreateServicePrincipal"),
    R("GET", "/v1.0/servicePrincipals/{id}", h_sp_get, "Graph_GetServicePrincipal"),
    J("PATCH", "/v1.0/servicePrincipals/{id}", h_sp_patch, "Graph_UpdateServicePrincipal"),
    R("DELETE", "/v1.0/servicePrincipals/{id}", h_sp_delete, "Graph_DeleteServicePrincipal"),
    J("POST", "/v1.0/servicePrincipals/{id}/appRoleAssignments", h_app_role_assign,
      "Graph_AssignAppRole"),
    J("POST", "/v1.0/servicePrincipals/{id}/appRoleAssignedTo", h_app_role_assign,
      "Graph_AssignAppRoleTo"),
    R("GET", "/v1.0/oauth2PermissionGrants", h_grants_list, "Graph_ListGrants"),
    J("POST", "/v1.0/oauth2PermissionGrants", h_grant_create, "Graph_CreateGrant"),
    J("PATCH", "/v1.0/oauth2PermissionGrants/{id}", h_grant_patch, "Graph_UpdateGrant"),
    R("DELETE", "/v1.0/oauth2PermissionGrants/{id}", h_grant_delete, "Graph_DeleteGrant"),
    J("POST", "/v1.0/directoryObjects/getByIds", h_get_by_ids, "Graph_GetByIds"),
    {0},
};
