/* cmd_ad.c — `castor ad user|group|app|sp …`: the directory through castor's Microsoft Graph
 * subset, with az's flags and the requests az sends
 * (../shared/reference/real-clients-cli-python.md §6). Objects are named the way az accepts
 * them: an app or service principal by appId, object id or identifier URI; a user by id or
 * UPN; a group by id or display name. */
#include "cli/cli_internal.h"

#include "core/ids.h"
#include "core/timeutil.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* --- Graph helpers --------------------------------------------------------------------- */

static const char *graph_url(cli_ctx_t *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *graph_url(cli_ctx_t *ctx, const char *fmt, ...)
{
    char path[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    if (cli_server_load(ctx) < 0) return NULL;
    return cli_arena_printf(ctx, "%sv1.0/%s", ctx->server.graph, path);
}

static json_t *graph(cli_ctx_t *ctx, const char *method, const char *url, const json_t *body)
{
    if (!url) return NULL;
    return cli_call(ctx, method, url, CLI_RESOURCE_GRAPH, body);
}

/* An OData string literal's content: ' doubled. */
static const char *odata_quote(cli_ctx_t *ctx, const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += *p == '\'' ? 2 : 1;
    char *out = arena_alloc(&ctx->arena, n + 1);
    if (!out) return "";
    char *o = out;
    for (const char *p = s; *p; p++) {
        *o++ = *p;
        if (*p == '\'') *o++ = '\'';
    }
    *o = '\0';
    return out;
}

/* GET collection?$filter=… (the whole collection for a NULL filter) and return its value
 * array (new reference) or NULL. */
static json_t *graph_filter(cli_ctx_t *ctx, const char *collection, const char *filter)
{
    json_t *page =
        graph(ctx, "GET",
              filter ? graph_url(ctx, "%s?$filter=%s", collection, cli_escape(ctx, filter))
                     : graph_url(ctx, "%s", collection),
              NULL);
    if (!page) return NULL;
    json_t *value = json_incref(json_object_get(page, "value"));
    json_decref(page);
    if (!json_is_array(value)) {
        json_decref(value);
        cli_fail(ctx, CASTOR_EIO, "the Graph answer for %s has no value array", collection);
        return NULL;
    }
    return value;
}

/* The one object the filter finds; else the object at collection/{id}. */
static json_t *graph_find(cli_ctx_t *ctx, const char *collection, const char *filter,
                          const char *id)
{
    json_t *found = graph_filter(ctx, collection, filter);
    if (!found) return NULL;
    if (json_array_size(found) == 1) {
        json_t *one = json_incref(json_array_get(found, 0));
        json_decref(found);
        return one;
    }
    json_decref(found);
    return graph(ctx, "GET", graph_url(ctx, "%s/%s", collection, cli_escape(ctx, id)), NULL);
}

static json_t *app_find(cli_ctx_t *ctx, const char *id)
{
    const char *q = odata_quote(ctx, id);
    const char *filter = ids_is_guid(id)
                             ? cli_arena_printf(ctx, "appId eq '%s'", q)
                             : cli_arena_printf(ctx, "identifierUris/any(s:s eq '%s')", q);
    return graph_find(ctx, "applications", filter, id);
}

static json_t *sp_find(cli_ctx_t *ctx, const char *id)
{
    const char *filter =
        cli_arena_printf(ctx, "servicePrincipalNames/any(c:c eq '%s')", odata_quote(ctx, id));
    return graph_find(ctx, "servicePrincipals", filter, id);
}

static json_t *group_find(cli_ctx_t *ctx, const char *id)
{
    if (ids_is_guid(id))
        return graph(ctx, "GET", graph_url(ctx, "groups/%s", cli_escape(ctx, id)), NULL);
    json_t *found = graph_filter(
        ctx, "groups", cli_arena_printf(ctx, "displayName eq '%s'", odata_quote(ctx, id)));
    if (!found) return NULL;
    size_t n = json_array_size(found);
    json_t *one = n == 1 ? json_incref(json_array_get(found, 0)) : NULL;
    json_decref(found);
    if (n == 0) cli_fail(ctx, CASTOR_ENOTFOUND, "No group matches the name of '%s'", id);
    if (n > 1)
        cli_fail(
            ctx, CASTOR_ECONFLICT,
            "More than one group match the name of '%s', please use --group with the object id",
            id);
    return one;
}

static const char *obj_id(const json_t *o)
{
    return json_string_value(json_object_get(o, "id"));
}

/* "a" "b" … → ["a","b"] */
static json_t *list_of(cli_ctx_t *ctx, const char *flag)
{
    const char **v;
    int n = cli_arg_list(ctx, flag, &v);
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* "true"/"false" of az's three-state flags; -1 when absent. */
static int tri_bool(cli_ctx_t *ctx, const char *flag, int *out)
{
    const char *v = cli_arg(ctx, flag);
    *out = -1;
    if (!v) return 0;
    if (strcasecmp(v, "true") == 0)
        *out = 1;
    else if (strcasecmp(v, "false") == 0)
        *out = 0;
    else
        return cli_usage(ctx, "argument %s: expected true or false, not '%s'", flag, v);
    return 0;
}

/* --- users ----------------------------------------------------------------------------- */

static int user_create(cli_ctx_t *ctx)
{
    const char *upn = cli_arg(ctx, "--user-principal-name");
    const char *nick = cli_arg(ctx, "--mail-nickname");
    char nickbuf[256];
    if (!nick) {
        snprintf(nickbuf, sizeof nickbuf, "%.*s", (int)strcspn(upn, "@"), upn);
        nick = nickbuf;
    }
    int force;
    if (tri_bool(ctx, "--force-change-password-next-sign-in", &force) < 0) return ctx->err.rc;
    json_t *body = json_pack(
        "{s:s, s:s, s:{s:s, s:b}, s:s, s:b}", "userPrincipalName", upn, "displayName",
        cli_arg(ctx, "--display-name"), "passwordProfile", "password", cli_arg(ctx, "--password"),
        "forceChangePasswordNextSignIn", force == 1, "mailNickname", nick, "accountEnabled", 1);
    json_t *out = graph(ctx, "POST", graph_url(ctx, "users"), body);
    json_decref(body);
    return cli_result_answer(ctx, out);
}

static int user_list(cli_ctx_t *ctx)
{
    const char *upn = cli_arg(ctx, "--upn");
    const char *name = cli_arg(ctx, "--display-name");
    const char *filter = cli_arg(ctx, "--filter");
    if (upn)
        filter = cli_arena_printf(ctx, "userPrincipalName eq '%s'", odata_quote(ctx, upn));
    else if (name)
        filter = cli_arena_printf(ctx, "startswith(displayName,'%s')", odata_quote(ctx, name));
    return cli_result_answer(ctx, graph_filter(ctx, "users", filter));
}

static int user_show(cli_ctx_t *ctx)
{
    return cli_result_answer(
        ctx,
        graph(ctx, "GET", graph_url(ctx, "users/%s", cli_escape(ctx, cli_arg(ctx, "--id"))), NULL));
}

/* --- groups ---------------------------------------------------------------------------- */

static int group_create(cli_ctx_t *ctx)
{
    const char *name = cli_arg(ctx, "--display-name");
    const char *nick = cli_arg(ctx, "--mail-nickname");
    /* As az: an existing group with this name and nickname is returned, not duplicated. */
    json_t *same =
        graph_filter(ctx, "groups",
                     cli_arena_printf(ctx, "displayName eq '%s' and mailNickname eq '%s'",
                                      odata_quote(ctx, name), odata_quote(ctx, nick)));
    if (!same) return ctx->err.rc;
    if (json_array_size(same) > 0) {
        json_t *one = json_incref(json_array_get(same, 0));
        json_decref(same);
        return cli_result(ctx, one);
    }
    json_decref(same);
    json_t *body = json_pack("{s:s, s:s, s:b, s:b}", "displayName", name, "mailNickname", nick,
                             "mailEnabled", 0, "securityEnabled", 1);
    const char *desc = cli_arg(ctx, "--description");
    if (desc) json_object_set_new(body, "description", json_string(desc));
    json_t *out = graph(ctx, "POST", graph_url(ctx, "groups"), body);
    json_decref(body);
    return cli_result_answer(ctx, out);
}

static int group_member_add(cli_ctx_t *ctx)
{
    json_t *g = group_find(ctx, cli_arg(ctx, "--group"));
    if (!g) return ctx->err.rc;
    const char *member = cli_arg(ctx, "--member-id");
    json_t *body =
        json_pack("{s:s}", "@odata.id",
                  cli_arena_printf(ctx, "%sv1.0/directoryObjects/%s", ctx->server.graph, member));
    json_t *out = graph(ctx, "POST", graph_url(ctx, "groups/%s/members/$ref", obj_id(g)), body);
    json_decref(body);
    json_decref(g);
    if (!out) return ctx->err.rc;
    json_decref(out);
    return 0;
}

/* --- applications ---------------------------------------------------------------------- */

/* The application properties create and update share, as a Graph PATCH/POST body. */
static json_t *app_properties(cli_ctx_t *ctx)
{
    json_t *body = json_object();
    const char *name = cli_arg(ctx, "--display-name");
    if (name) json_object_set_new(body, "displayName", json_string(name));
    const char *aud = cli_arg(ctx, "--sign-in-audience");
    if (aud) json_object_set_new(body, "signInAudience", json_string(aud));
    if (cli_arg(ctx, "--identifier-uris"))
        json_object_set_new(body, "identifierUris", list_of(ctx, "--identifier-uris"));
    if (cli_arg(ctx, "--web-redirect-uris"))
        json_object_set_new(
            body, "web", json_pack("{s:o}", "redirectUris", list_of(ctx, "--web-redirect-uris")));
    if (cli_arg(ctx, "--public-client-redirect-uris"))
        json_object_set_new(
            body, "publicClient",
            json_pack("{s:o}", "redirectUris", list_of(ctx, "--public-client-redirect-uris")));
    int fallback;
    if (tri_bool(ctx, "--is-fallback-public-client", &fallback) < 0) {
        json_decref(body);
        return NULL;
    }
    if (fallback >= 0) json_object_set_new(body, "isFallbackPublicClient", json_boolean(fallback));
    if (cli_arg(ctx, "--required-resource-accesses")) {
        json_t *rra = cli_arg_json(ctx, "--required-resource-accesses");
        if (!rra || !json_is_array(rra)) {
            json_decref(rra);
            json_decref(body);
            if (ctx->err.rc == 0)
                cli_usage(ctx, "argument --required-resource-accesses: expected a JSON array");
            return NULL;
        }
        json_object_set_new(body, "requiredResourceAccess", rra);
    }
    return body;
}

static int app_create(cli_ctx_t *ctx)
{
    json_t *body = app_properties(ctx);
    if (!body) return ctx->err.rc;
    const char *name = cli_arg(ctx, "--display-name");
    /* As az: one existing application of exactly this name is updated, not duplicated. */
    json_t *similar =
        graph_filter(ctx, "applications",
                     cli_arena_printf(ctx, "startswith(displayName,'%s')", odata_quote(ctx, name)));
    if (!similar) {
        json_decref(body);
        return ctx->err.rc;
    }
    json_t *existing = NULL;
    size_t i, same = 0;
    json_t *a;
    json_array_foreach(similar, i, a)
    {
        const char *dn = json_string_value(json_object_get(a, "displayName"));
        if (dn && strcmp(dn, name) == 0) {
            existing = a;
            same++;
        }
    }
    json_t *out;
    if (same == 1) {
        cli_warn(ctx, "Found an existing application instance: (id) %s. We will patch it.",
                 obj_id(existing));
        json_t *r = graph(ctx, "PATCH", graph_url(ctx, "applications/%s", obj_id(existing)), body);
        out =
            r ? graph(ctx, "GET", graph_url(ctx, "applications/%s", obj_id(existing)), NULL) : NULL;
        json_decref(r);
    } else {
        json_object_set_new(body, "keyCredentials", json_array());
        out = graph(ctx, "POST", graph_url(ctx, "applications"), body);
    }
    json_decref(similar);
    json_decref(body);
    return cli_result_answer(ctx, out);
}

static int app_show(cli_ctx_t *ctx)
{
    json_t *app = app_find(ctx, cli_arg(ctx, "--id"));
    return cli_result_answer(ctx, app);
}

static int app_list(cli_ctx_t *ctx)
{
    const char *name = cli_arg(ctx, "--display-name");
    const char *app_id = cli_arg(ctx, "--app-id");
    const char *uri = cli_arg(ctx, "--identifier-uri");
    const char *filter = cli_arg(ctx, "--filter");
    if (app_id)
        filter = cli_arena_printf(ctx, "appId eq '%s'", odata_quote(ctx, app_id));
    else if (uri)
        filter = cli_arena_printf(ctx, "identifierUris/any(s:s eq '%s')", odata_quote(ctx, uri));
    else if (name)
        filter = cli_arena_printf(ctx, "startswith(displayName,'%s')", odata_quote(ctx, name));
    return cli_result_answer(ctx, graph_filter(ctx, "applications", filter));
}

static int app_update(cli_ctx_t *ctx)
{
    json_t *body = app_properties(ctx);
    if (!body) return ctx->err.rc;
    if (json_object_size(body) == 0) {
        json_decref(body);
        return cli_usage(ctx, "nothing to update: give at least one property flag");
    }
    json_t *app = app_find(ctx, cli_arg(ctx, "--id"));
    json_t *r =
        app ? graph(ctx, "PATCH", graph_url(ctx, "applications/%s", obj_id(app)), body) : NULL;
    json_decref(body);
    json_decref(app);
    if (!r) return ctx->err.rc;
    json_decref(r);
    return 0;
}

static int app_credential_reset(cli_ctx_t *ctx)
{
    json_t *app = app_find(ctx, cli_arg(ctx, "--id"));
    if (!app) return ctx->err.rc;
    const char *years_s = cli_arg(ctx, "--years");
    long years = years_s ? strtol(years_s, NULL, 10) : 1;
    if (years < 1 || years > 100) {
        json_decref(app);
        return cli_usage(ctx, "argument --years: expected a whole number of years from 1 to 100");
    }
    /* Without --append the old secrets go, as with az. */
    if (!cli_arg_bool(ctx, "--append")) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(app, "passwordCredentials"), i, c)
        {
            json_t *body = json_pack("{s:O}", "keyId", json_object_get(c, "keyId"));
            json_t *r = graph(ctx, "POST",
                              graph_url(ctx, "applications/%s/removePassword", obj_id(app)), body);
            json_decref(body);
            if (!r) {
                json_decref(app);
                return ctx->err.rc;
            }
            json_decref(r);
        }
    }
    char start[40], end[40];
    int64_t now = time_now_s();
    time_format_rfc3339(now, 0, start, sizeof start);
    time_format_rfc3339(now + (int64_t)years * 365 * 24 * 3600, 0, end, sizeof end);
    json_t *body =
        json_pack("{s:{s:s?, s:s, s:s}}", "passwordCredential", "displayName",
                  cli_arg(ctx, "--display-name"), "startDateTime", start, "endDateTime", end);
    json_t *cred =
        graph(ctx, "POST", graph_url(ctx, "applications/%s/addPassword", obj_id(app)), body);
    json_decref(body);
    json_t *out = NULL;
    if (cred) {
        json_t *session = cli_session_load(ctx);
        const char *tenant = ctx->server.tenant[0]
                                 ? ctx->server.tenant
                                 : json_string_value(json_object_get(session, "tenant"));
        out = json_pack("{s:O, s:O, s:s?}", "appId", json_object_get(app, "appId"), "password",
                        json_object_get(cred, "secretText"), "tenant", tenant);
        json_decref(session);
        json_decref(cred);
        cli_warn(ctx, "The output includes credentials that you must protect. Be sure that you do "
                      "not include these credentials in your code or check the credentials into "
                      "your source control.");
    }
    json_decref(app);
    return cli_result_answer(ctx, out);
}

static int app_permission_add(cli_ctx_t *ctx)
{
    const char *api = cli_arg(ctx, "--api");
    const char **perms;
    int n = cli_arg_list(ctx, "--api-permissions", &perms);
    json_t *accesses = json_array();
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(perms[i], '=');
        if (!eq || (strcmp(eq + 1, "Scope") != 0 && strcmp(eq + 1, "Role") != 0)) {
            json_decref(accesses);
            return cli_usage(ctx, "argument --api-permissions: '%s' is not ID=Scope or ID=Role",
                             perms[i]);
        }
        json_array_append_new(accesses, json_pack("{s:s%, s:s}", "id", perms[i],
                                                  (size_t)(eq - perms[i]), "type", eq + 1));
    }
    json_t *app = app_find(ctx, cli_arg(ctx, "--id"));
    if (!app) {
        json_decref(accesses);
        return ctx->err.rc;
    }
    /* Merge into the existing list: one entry per resource, each permission once. */
    json_t *rra = json_deep_copy(json_object_get(app, "requiredResourceAccess"));
    if (!json_is_array(rra)) {
        json_decref(rra);
        rra = json_array();
    }
    json_t *entry = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(rra, i, e)
    {
        const char *rid = json_string_value(json_object_get(e, "resourceAppId"));
        if (rid && strcasecmp(rid, api) == 0) entry = e;
    }
    if (!entry) {
        entry = json_pack("{s:s, s:[]}", "resourceAppId", api, "resourceAccess");
        json_array_append_new(rra, entry);
    }
    json_t *list = json_object_get(entry, "resourceAccess");
    json_array_foreach(accesses, i, e)
    {
        int dup = 0;
        size_t k;
        json_t *x;
        json_array_foreach(list, k, x) if (json_equal(x, e)) dup = 1;
        if (!dup) json_array_append(list, e);
    }
    json_t *body = json_pack("{s:o}", "requiredResourceAccess", rra);
    json_t *r = graph(ctx, "PATCH", graph_url(ctx, "applications/%s", obj_id(app)), body);
    json_decref(body);
    json_decref(accesses);
    if (r)
        cli_warn(ctx,
                 "Invoking `castor ad app permission grant --id %s --api %s` is needed to make the "
                 "change effective",
                 cli_arg(ctx, "--id"), api);
    json_decref(app);
    if (!r) return ctx->err.rc;
    json_decref(r);
    return 0;
}

/* Adds scopes to the client SP's AllPrincipals (or one principal's) grant on the resource SP:
 * an existing grant is widened (PATCH), else a new one made. Returns the grant. */
static json_t *grant_scopes(cli_ctx_t *ctx, const json_t *client_sp, const json_t *resource_sp,
                            const char *scope, const char *consent_type, const char *principal)
{
    json_t *grants = graph_filter(ctx, "oauth2PermissionGrants",
                                  cli_arena_printf(ctx, "clientId eq '%s'", obj_id(client_sp)));
    if (!grants) return NULL;
    json_t *existing = NULL;
    size_t i;
    json_t *g;
    json_array_foreach(grants, i, g)
    {
        const char *rid = json_string_value(json_object_get(g, "resourceId"));
        const char *ct = json_string_value(json_object_get(g, "consentType"));
        const char *pid = json_string_value(json_object_get(g, "principalId"));
        if (rid && strcmp(rid, obj_id(resource_sp)) == 0 && ct && strcmp(ct, consent_type) == 0 &&
            ((!principal && !pid) || (principal && pid && strcmp(principal, pid) == 0)))
            existing = g;
    }
    json_t *out = NULL;
    if (existing) {
        const char *have = json_string_value(json_object_get(existing, "scope"));
        char merged[2048];
        snprintf(merged, sizeof merged, "%s", have ? have : "");
        char want[2048];
        snprintf(want, sizeof want, "%s", scope);
        for (char *save = NULL, *w = strtok_r(want, " ", &save); w;
             w = strtok_r(NULL, " ", &save)) {
            char padded[2100];
            snprintf(padded, sizeof padded, " %s ", merged);
            char needle[300];
            snprintf(needle, sizeof needle, " %s ", w);
            if (!strstr(padded, needle))
                snprintf(merged + strlen(merged), sizeof merged - strlen(merged), "%s%s",
                         merged[0] ? " " : "", w);
        }
        json_t *body = json_pack("{s:s}", "scope", merged);
        json_t *r = graph(ctx, "PATCH",
                          graph_url(ctx, "oauth2PermissionGrants/%s", obj_id(existing)), body);
        json_decref(body);
        if (r) {
            out = json_deep_copy(existing);
            json_object_set_new(out, "scope", json_string(merged));
            json_decref(r);
        }
    } else {
        json_t *body = json_pack("{s:s, s:s, s:s?, s:s, s:s}", "clientId", obj_id(client_sp),
                                 "consentType", consent_type, "principalId", principal,
                                 "resourceId", obj_id(resource_sp), "scope", scope);
        if (!principal) json_object_set_new(body, "principalId", json_null());
        out = graph(ctx, "POST", graph_url(ctx, "oauth2PermissionGrants"), body);
        json_decref(body);
    }
    json_decref(grants);
    return out;
}

static int app_permission_grant(cli_ctx_t *ctx)
{
    const char *consent = cli_arg(ctx, "--consent-type");
    const char *principal = cli_arg(ctx, "--principal-id");
    if (!consent) consent = "AllPrincipals";
    if (strcmp(consent, "AllPrincipals") != 0 && strcmp(consent, "Principal") != 0)
        return cli_usage(ctx,
                         "argument --consent-type: invalid choice: '%s' (choose from "
                         "'AllPrincipals', 'Principal')",
                         consent);
    if (strcmp(consent, "Principal") == 0 && !principal)
        return cli_usage(ctx, "--consent-type Principal needs --principal-id");
    json_t *client = sp_find(ctx, cli_arg(ctx, "--id"));
    json_t *resource = client ? sp_find(ctx, cli_arg(ctx, "--api")) : NULL;
    json_t *out = resource ? grant_scopes(ctx, client, resource, cli_arg(ctx, "--scope"), consent,
                                          strcmp(consent, "Principal") == 0 ? principal : NULL)
                           : NULL;
    json_decref(client);
    json_decref(resource);
    return cli_result_answer(ctx, out);
}

/* The service principal of an app, created when it has none (as admin consent does). */
static json_t *sp_ensure(cli_ctx_t *ctx, const char *app_id)
{
    json_t *found = graph_filter(ctx, "servicePrincipals",
                                 cli_arena_printf(ctx, "appId eq '%s'", odata_quote(ctx, app_id)));
    if (!found) return NULL;
    json_t *sp = json_array_size(found) ? json_incref(json_array_get(found, 0)) : NULL;
    json_decref(found);
    if (sp) return sp;
    json_t *body = json_pack("{s:s, s:b}", "appId", app_id, "accountEnabled", 1);
    sp = graph(ctx, "POST", graph_url(ctx, "servicePrincipals"), body);
    json_decref(body);
    return sp;
}

static int app_permission_admin_consent(cli_ctx_t *ctx)
{
    json_t *app = app_find(ctx, cli_arg(ctx, "--id"));
    if (!app) return ctx->err.rc;
    const char *app_id = json_string_value(json_object_get(app, "appId"));
    json_t *client = app_id ? sp_ensure(ctx, app_id) : NULL;
    int rc = client ? 0 : ctx->err.rc;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(app, "requiredResourceAccess"), i, e)
    {
        if (rc < 0) break;
        const char *rid = json_string_value(json_object_get(e, "resourceAppId"));
        json_t *resource = rid ? sp_ensure(ctx, rid) : NULL;
        if (!resource) {
            rc = ctx->err.rc ? ctx->err.rc
                             : cli_fail(ctx, CASTOR_EINVAL,
                                        "a requiredResourceAccess entry lacks resourceAppId");
            break;
        }
        /* Scope ids become the scope values the resource publishes. */
        char scopes[2048] = "";
        size_t k;
        json_t *ra;
        json_array_foreach(json_object_get(e, "resourceAccess"), k, ra)
        {
            const char *type = json_string_value(json_object_get(ra, "type"));
            const char *pid = json_string_value(json_object_get(ra, "id"));
            if (!type || !pid) continue;
            if (strcmp(type, "Role") == 0) {
                cli_warn(ctx,
                         "application permission %s of %s is not granted: castor grants "
                         "delegated (Scope) permissions only",
                         pid, rid);
                continue;
            }
            const char *value = NULL;
            size_t m;
            json_t *ps;
            json_array_foreach(json_object_get(resource, "oauth2PermissionScopes"), m, ps)
            {
                const char *id = json_string_value(json_object_get(ps, "id"));
                if (id && strcasecmp(id, pid) == 0)
                    value = json_string_value(json_object_get(ps, "value"));
            }
            if (!value) {
                cli_warn(ctx, "the API %s publishes no delegated permission %s; skipped", rid, pid);
                continue;
            }
            snprintf(scopes + strlen(scopes), sizeof scopes - strlen(scopes), "%s%s",
                     scopes[0] ? " " : "", value);
        }
        if (scopes[0]) {
            json_t *g = grant_scopes(ctx, client, resource, scopes, "AllPrincipals", NULL);
            if (!g) rc = ctx->err.rc;
            json_decref(g);
        }
        json_decref(resource);
    }
    json_decref(client);
    json_decref(app);
    return rc;
}

/* --- service principals ---------------------------------------------------------------- */

static int sp_create(cli_ctx_t *ctx)
{
    json_t *app = app_find(ctx, cli_arg(ctx, "--id"));
    if (!app) return ctx->err.rc;
    json_t *body =
        json_pack("{s:O, s:b}", "appId", json_object_get(app, "appId"), "accountEnabled", 1);
    json_t *out = graph(ctx, "POST", graph_url(ctx, "servicePrincipals"), body);
    json_decref(body);
    json_decref(app);
    return cli_result_answer(ctx, out);
}

static int sp_show(cli_ctx_t *ctx)
{
    json_t *sp = sp_find(ctx, cli_arg(ctx, "--id"));
    return cli_result_answer(ctx, sp);
}

/* --- tables ---------------------------------------------------------------------------- */

static const cli_flag_t user_create_flags[] = {
    {"--display-name", NULL, "NAME", "The user's display name.", CLI_REQUIRED},
    {"--user-principal-name", NULL, "UPN", "The sign-in name, e.g. bob@castor.local.",
     CLI_REQUIRED},
    {"--password", NULL, "PASSWORD", "The user's password.", CLI_REQUIRED | CLI_SECRET},
    {"--mail-nickname", NULL, "NICK", "Mail alias (default: the UPN's local part).", 0},
    {"--force-change-password-next-sign-in", NULL, "BOOL", "true or false (default false).", 0},
    {0}};
static const cli_flag_t user_list_flags[] = {
    {"--upn", NULL, "UPN", "Only the user with this user principal name.", 0},
    {"--display-name", NULL, "NAME", "Only users whose display name starts with this.", 0},
    {"--filter", NULL, "ODATA", "An OData $filter, e.g. \"accountEnabled eq true\".", 0},
    {0}};
static const cli_flag_t user_show_flags[] = {
    {"--id", NULL, "ID", "The user's object id or user principal name.", CLI_REQUIRED}, {0}};
static const cli_flag_t group_create_flags[] = {
    {"--display-name", NULL, "NAME", "The group's display name.", CLI_REQUIRED},
    {"--mail-nickname", NULL, "NICK", "The group's mail alias.", CLI_REQUIRED},
    {"--description", NULL, "TEXT", "What the group is for.", 0},
    {0}};
static const cli_flag_t group_member_add_flags[] = {
    {"--group", "-g", "GROUP", "The group's object id or display name.", CLI_REQUIRED},
    {"--member-id", NULL, "ID", "The object id of the user, group or service principal to add.",
     CLI_REQUIRED},
    {0}};

#define APP_PROPERTY_FLAGS                                                                         \
    {"--sign-in-audience", NULL, "AUDIENCE",                                                       \
     "AzureADMyOrg, AzureADMultipleOrgs, AzureADandPersonalMicrosoftAccount or "                   \
     "PersonalMicrosoftAccount.",                                                                  \
     0},                                                                                           \
        {"--identifier-uris", NULL, "URI", "Space-separated identifier URIs (api://…).",           \
         CLI_MULTI},                                                                               \
        {"--web-redirect-uris", NULL, "URI", "Space-separated web redirect URIs.", CLI_MULTI},     \
        {"--public-client-redirect-uris", NULL, "URI",                                             \
         "Space-separated public-client redirect URIs (e.g. http://localhost).", CLI_MULTI},       \
        {"--is-fallback-public-client", NULL, "BOOL",                                              \
         "true lets the app use public-client flows (device code, password).", 0},                 \
    {                                                                                              \
        "--required-resource-accesses", NULL, "JSON",                                              \
            "requiredResourceAccess as JSON or @manifest.json.", 0                                 \
    }

static const cli_flag_t app_create_flags[] = {
    {"--display-name", NULL, "NAME", "The application's display name.", CLI_REQUIRED},
    APP_PROPERTY_FLAGS,
    {0}};
static const cli_flag_t app_update_flags[] = {
    {"--id", NULL, "ID", "The application's appId, object id or identifier URI.", CLI_REQUIRED},
    {"--display-name", NULL, "NAME", "A new display name.", 0},
    APP_PROPERTY_FLAGS,
    {0}};
static const cli_flag_t app_id_flags[] = {
    {"--id", NULL, "ID", "The application's appId, object id or identifier URI.", CLI_REQUIRED},
    {0}};
static const cli_flag_t app_list_flags[] = {
    {"--display-name", NULL, "NAME", "Only applications whose display name starts with this.", 0},
    {"--app-id", NULL, "APP_ID", "Only the application with this appId.", 0},
    {"--identifier-uri", NULL, "URI", "Only the application with this identifier URI.", 0},
    {"--filter", NULL, "ODATA", "An OData $filter.", 0},
    {0}};
static const cli_flag_t app_credential_flags[] = {
    {"--id", NULL, "ID", "The application's appId, object id or identifier URI.", CLI_REQUIRED},
    {"--append", NULL, NULL, "Keep the existing secrets (default: they are removed).", 0},
    {"--years", NULL, "N", "How many years the secret is valid (default 1).", 0},
    {"--display-name", NULL, "NAME", "A name for the secret.", 0},
    {0}};
static const cli_flag_t app_permission_add_flags[] = {
    {"--id", NULL, "ID", "The client application's appId or object id.", CLI_REQUIRED},
    {"--api", NULL, "API_APP_ID",
     "The API's appId, e.g. 0b07f429-9f4b-4714-9392-cc5e8e80c8b0 (Azure Digital Twins).",
     CLI_REQUIRED},
    {"--api-permissions", NULL, "ID=TYPE",
     "Space-separated permission ids with their type, e.g. "
     "4589bd03-58cb-4e6c-b17f-b580e39652f8=Scope.",
     CLI_REQUIRED | CLI_MULTI},
    {0}};
static const cli_flag_t app_permission_grant_flags[] = {
    {"--id", NULL, "ID", "The client application's appId (its service principal must exist).",
     CLI_REQUIRED},
    {"--api", NULL, "API_APP_ID", "The API's appId.", CLI_REQUIRED},
    {"--scope", NULL, "SCOPES", "Space-separated delegated permissions, e.g. \"Read.Write\".",
     CLI_REQUIRED},
    {"--consent-type", NULL, "TYPE", "AllPrincipals (default) or Principal.", 0},
    {"--principal-id", NULL, "ID", "The user the grant is for, with --consent-type Principal.", 0},
    {0}};
static const cli_flag_t sp_id_flags[] = {
    {"--id", NULL, "ID", "The application's appId (or, for show, the SP's object id).",
     CLI_REQUIRED},
    {0}};

#define DT "0b07f429-9f4b-4714-9392-cc5e8e80c8b0"
static const cli_command_t ad_commands[] = {
    {"ad user create", "Create a user.",
     "castor ad user create --display-name Bob --user-principal-name bob@castor.local --password "
     "'Bob-Pw-12345'",
     user_create_flags, user_create, "displayName,id,userPrincipalName"},
    {"ad user list", "List users.", "castor ad user list --display-name Bob -o table",
     user_list_flags, user_list, "displayName,id,userPrincipalName"},
    {"ad user show", "Show a user.", "castor ad user show --id bob@castor.local", user_show_flags,
     user_show, "displayName,id,userPrincipalName"},
    {"ad group create", "Create a security group (or return the one of that name and nickname).",
     "castor ad group create --display-name twins-ops --mail-nickname twinsops", group_create_flags,
     group_create, "displayName,id,mailNickname"},
    {"ad group member add", "Add a user, group or service principal to a group.",
     "castor ad group member add --group twins-ops --member-id <object-id>", group_member_add_flags,
     group_member_add, NULL},
    {"ad app create", "Register an application (an existing one of that name is updated).",
     "castor ad app create --display-name twins-client --is-fallback-public-client true",
     app_create_flags, app_create, "displayName,appId,id,signInAudience"},
    {"ad app show", "Show an application.", "castor ad app show --id <appId>", app_id_flags,
     app_show, "displayName,appId,id,signInAudience"},
    {"ad app list", "List applications.", "castor ad app list --display-name twins -o table",
     app_list_flags, app_list, "displayName,appId,id,signInAudience"},
    {"ad app update", "Change an application's properties.",
     "castor ad app update --id <appId> --public-client-redirect-uris http://localhost",
     app_update_flags, app_update, NULL},
    {"ad app credential reset",
     "Create a new client secret (shown once); old ones go unless --append.",
     "castor ad app credential reset --id <appId> --append", app_credential_flags,
     app_credential_reset, "appId,tenant"},
    {"ad app permission add", "Declare an API permission the application needs.",
     "castor ad app permission add --id <appId> --api " DT
     " --api-permissions 4589bd03-58cb-4e6c-b17f-b580e39652f8=Scope",
     app_permission_add_flags, app_permission_add, NULL},
    {"ad app permission grant", "Grant delegated permissions of an API to an application.",
     "castor ad app permission grant --id <appId> --api " DT " --scope Read.Write",
     app_permission_grant_flags, app_permission_grant, "clientId,consentType,resourceId,scope"},
    {"ad app permission admin-consent",
     "Grant, for every user, all the delegated permissions the application declares.",
     "castor ad app permission admin-consent --id <appId>", app_id_flags,
     app_permission_admin_consent, NULL},
    {"ad sp create", "Create the service principal of an application.",
     "castor ad sp create --id <appId>", sp_id_flags, sp_create, "displayName,appId,id"},
    {"ad sp show", "Show a service principal.", "castor ad sp show --id <appId>", sp_id_flags,
     sp_show, "displayName,appId,id"},
    {0}};

static const cli_topic_t ad_topics[] = {
    {"ad", "Manage the directory: users, groups, applications and service principals."},
    {"ad user", "Manage users."},
    {"ad group", "Manage security groups."},
    {"ad group member", "Manage group membership."},
    {"ad app", "Manage application registrations."},
    {"ad app credential", "Manage an application's client secrets."},
    {"ad app permission", "Manage the API permissions an application asks for and is granted."},
    {"ad sp", "Manage service principals."},
    {0}};

const cli_group_t cli_group_ad = {"ad", ad_topics, ad_commands};
