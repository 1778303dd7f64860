/* idn_pages.c — the pages a person sees: the device-code verification page (enter the code,
 * sign in, or decline) and the authorize endpoint (sign in, consent, then a redirect carrying
 * an authorization code bound to the PKCE challenge). Plain HTML forms, so tests and people
 * complete them the same way: over HTTP, no JavaScript. */
#include "identity/idn_internal.h"

#include "access/access.h"
#include "core/ids.h"
#include "core/timeutil.h"
#include "identity/idn_crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *page(http_request_t *req, const char *title, const char *body)
{
    return arena_sprintf(&req->arena,
                         "<!doctype html><html><head><meta charset=\"utf-8\"><title>%s</title>"
                         "<style>body{font-family:sans-serif;max-width:32em;margin:4em auto}"
                         "input{display:block;margin:.5em 0;padding:.4em;width:100%%}"
                         ".error{color:#a00}</style></head><body><h1>%s</h1>%s</body></html>",
                         title, title, body);
}

static int send_page(http_request_t *req, http_response_t *resp, int status, const char *title,
                     const char *body)
{
    http_response_header(req, resp, "Cache-Control", "no-store");
    http_response_header(req, resp, "X-Frame-Options", "DENY");
    http_response_text(req, resp, status, "text/html; charset=utf-8", page(req, title, body));
    return CASTOR_OK;
}

/* ---- device code ---- */

static const char *code_form(http_request_t *req, const char *error)
{
    return arena_sprintf(&req->arena,
                         "%s<form method=\"post\" action=\"devicelogin\"><label>Enter the code "
                         "shown on your device<input name=\"code\" autofocus></label>"
                         "<button type=\"submit\">Next</button></form>",
                         error ? arena_sprintf(&req->arena, "<p class=\"error\">%s</p>",
                                               idn_html(&req->arena, error))
                               : "");
}

int idn_h_devicelogin_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    (void)err;
    return send_page(req, resp, 200, "Enter code", code_form(req, NULL));
}

static const char *signin_form(http_request_t *req, const char *action, const char *hidden,
                               const char *app_name, const char *error, int decline)
{
    arena_t *a = &req->arena;
    return arena_sprintf(
        a,
        "<p>Sign in to <b>%s</b>.</p>%s<form method=\"post\" action=\"%s\">%s"
        "<label>User name<input name=\"username\" autocomplete=\"username\"></label>"
        "<label>Password<input name=\"password\" type=\"password\" "
        "autocomplete=\"current-password\"></label>"
        "<button type=\"submit\" name=\"action\" value=\"signin\">Sign in</button>%s</form>",
        idn_html(a, app_name),
        error ? arena_sprintf(a, "<p class=\"error\">%s</p>", idn_html(a, error)) : "", action,
        hidden,
        decline ? "<button type=\"submit\" name=\"action\" value=\"decline\">Cancel</button>" : "");
}

/* The human part of an OAuth error message (without the AADSTS prefix the renderer adds). */
static const char *err_text(const castor_err *e)
{
    return e->message;
}

int idn_h_devicelogin_post(http_request_t *req, http_response_t *resp, castor_err *err)
{
    arena_t *a = &req->arena;
    idn_form_t f;
    if (idn_form_parse(a, req->body, req->body_len, &f) < 0)
        return send_page(req, resp, 400, "Enter code", code_form(req, "The form is malformed."));
    const char *code = idn_form_get(&f, "code");
    char uc[16] = "";
    for (size_t i = 0, o = 0; code && code[i] && o < sizeof uc - 1; i++)
        if (code[i] != '-' && code[i] != ' ')
            uc[o++] = (char)(code[i] >= 'a' && code[i] <= 'z' ? code[i] - 32 : code[i]);
    store_txn_t *t;
    int rc = store_begin(idn_store(req), STORE_READ, &t, err);
    if (rc < 0) return rc;
    store_device_code_t d;
    castor_err e;
    castor_err_clear(&e);
    rc = store_device_code_get_by_user_code(t, uc, &d, &e);
    store_sp_t sp;
    int has_sp = rc == 0 && store_sp_get_by_app_id(t, d.tenant_id, d.client_id, &sp, &e) == 0;
    store_tenant_t tn;
    if (rc == 0) rc = store_tenant_get(t, d.tenant_id, &tn, &e);
    store_rollback(t);
    if (rc < 0 || strcmp(d.state, "pending") != 0 || d.expires < time_now_s()) {
        if (has_sp) store_sp_release(&sp);
        return send_page(req, resp, 400, "Enter code",
                         code_form(req, rc < 0 ? "That code is not valid. Check it and try again."
                                        : d.expires < time_now_s()
                                            ? "That code has expired. Start the sign-in again on "
                                              "your device."
                                            : "That code has already been used."));
    }
    const char *app_name = arena_strdup(a, has_sp ? sp.display_name : d.client_id);
    if (has_sp) store_sp_release(&sp);
    const char *hidden =
        arena_sprintf(a, "<input type=\"hidden\" name=\"code\" value=\"%s\">", idn_html(a, uc));
    const char *action = idn_form_get(&f, "action");
    const char *username = idn_form_get(&f, "username");
    int decline = action && strcmp(action, "decline") == 0;
    if (!decline && (!username || !username[0]))
        return send_page(req, resp, 200, "Sign in",
                         signin_form(req, "devicelogin", hidden, app_name, NULL, 1));
    store_user_t u;
    memset(&u, 0, sizeof u);
    if (!decline) {
        castor_err se;
        castor_err_clear(&se);
        if (idn_password_signin(idn_store(req), &tn, username, idn_form_get(&f, "password"), &u,
                                &se) < 0)
            return send_page(req, resp, 400, "Sign in",
                             signin_form(req, "devicelogin", hidden, app_name, err_text(&se), 1));
    }
    rc = store_begin(idn_store(req), STORE_WRITE, &t, err);
    if (rc < 0) return rc;
    rc = store_device_code_set(t, d.device_hash, decline ? "declined" : "approved",
                               decline ? "" : u.id, err);
    if (rc == 0)
        rc = store_commit(t, err);
    else
        store_rollback(t);
    if (rc < 0) return rc;
    if (decline)
        return send_page(req, resp, 200, "Sign-in cancelled",
                         "<p>You declined to sign in on the other device. You can close this "
                         "window.</p>");
    return send_page(req, resp, 200, "Signed in",
                     arena_sprintf(a,
                                   "<p>You have signed in to the <b>%s</b> application on your "
                                   "device as %s. You may now close this window.</p>",
                                   idn_html(a, app_name), idn_html(a, u.upn)));
}

/* ---- authorize ---- */

static int redirect_allowed(const idn_client_t *c, const char *uri)
{
    if (!uri || !uri[0]) return 0;
    if (c->sp.first_party && c->public_client)
        return strncmp(uri, "http://localhost", 16) == 0 ||
               strncmp(uri, "http://127.0.0.1", 16) == 0 ||
               strstr(uri, "/oauth2/nativeclient") != NULL;
    static const char *const groups[] = {"web", "publicClient", "spa"};
    for (int g = 0; g < 3; g++) {
        const json_t *list = json_object_get(json_object_get(c->doc, groups[g]), "redirectUris");
        size_t i;
        const json_t *v;
        json_array_foreach(list, i, v)
        {
            const char *s = json_string_value(v);
            if (s && strcmp(s, uri) == 0) return 1;
            /* RFC 8252: loopback redirects may use any port. */
            if (s && strncmp(s, "http://localhost", 16) == 0 &&
                strncmp(uri, "http://localhost", 16) == 0)
                return 1;
        }
    }
    return 0;
}

static const char *param(http_request_t *req, const idn_form_t *f, const char *name)
{
    const char *v = f ? idn_form_get(f, name) : NULL;
    return v ? v : http_request_query(req, name);
}

static int redirect_with(http_request_t *req, http_response_t *resp, const char *uri,
                         const char *query)
{
    const char *loc =
        arena_sprintf(&req->arena, "%s%s%s", uri, strchr(uri, '?') ? "&" : "?", query);
    http_response_header(req, resp, "Location", loc);
    http_response_header(req, resp, "Cache-Control", "no-store");
    resp->status = 302;
    return CASTOR_OK;
}

static const char *enc(arena_t *a, const char *s)
{
    if (!s) return "";
    char *out = arena_alloc(a, strlen(s) * 3 + 1), *o = out;
    if (!out) return "";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p))
            *o++ = (char)*p;
        else
            o += sprintf(o, "%%%02X", *p);
    }
    *o = '\0';
    return out;
}

static int redirect_error(http_request_t *req, http_response_t *resp, const char *uri,
                          const char *state, const char *error, const char *desc)
{
    arena_t *a = &req->arena;
    return redirect_with(req, resp, uri,
                         arena_sprintf(a, "error=%s&error_description=%s%s%s", error, enc(a, desc),
                                       state ? "&state=" : "", state ? enc(a, state) : ""));
}

/* A signed note that the user signed in, carried between the sign-in and consent forms so
 * the password is not. */
static const char *session_token(http_request_t *req, const store_user_t *u)
{
    int64_t now = time_now_s();
    json_t *p = json_pack("{s:s, s:s, s:s, s:I}", "aud", "urn:castor:signin", "sub", u->id, "tid",
                          u->tenant_id, "exp", (json_int_t)(now + 300));
    castor_err e;
    char *tok = idn_jwt_sign(&req->arena, p, &e);
    json_decref(p);
    return tok;
}

static int session_user(http_request_t *req, const char *tok, store_user_t *out)
{
    idn_jws_t j;
    castor_err e;
    if (!tok || idn_jws_parse(&req->arena, tok, &j, &e) < 0) return -1;
    const char *kid = json_string_value(json_object_get(j.header, "kid"));
    const idn_key_t *k = idn_keys_find(idn_keys(), kid);
    const char *aud = json_string_value(json_object_get(j.payload, "aud"));
    const char *sub = json_string_value(json_object_get(j.payload, "sub"));
    json_int_t exp = json_integer_value(json_object_get(j.payload, "exp"));
    int ok = k && idn_key_verify_rs256(k, &j) == 0 && aud &&
             strcmp(aud, "urn:castor:signin") == 0 && sub && exp > time_now_s();
    char id[STORE_ID_MAX];
    snprintf(id, sizeof id, "%s", ok ? sub : "");
    idn_jws_release(&j);
    if (!ok) return -1;
    store_txn_t *t;
    if (store_begin(idn_store(req), STORE_READ, &t, &e) < 0) return -1;
    int rc = store_user_get(t, id, out, &e);
    store_rollback(t);
    return rc < 0 || !out->enabled ? -1 : 0;
}

static const char *hidden_params(http_request_t *req, const idn_form_t *f)
{
    static const char *const names[] = {
        "client_id", "redirect_uri",   "response_type",         "scope",         "state",
        "nonce",     "code_challenge", "code_challenge_method", "response_mode", "resource"};
    arena_t *a = &req->arena;
    const char *out = "";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = param(req, f, names[i]);
        if (v)
            out = arena_sprintf(a, "%s<input type=\"hidden\" name=\"%s\" value=\"%s\">", out,
                                names[i], idn_html(a, v));
    }
    return out;
}

int idn_h_authorize(http_request_t *req, http_response_t *resp, castor_err *err)
{
    arena_t *a = &req->arena;
    idn_form_t form, *f = NULL;
    if (strcmp(req->method, "POST") == 0) {
        if (idn_form_parse(a, req->body, req->body_len, &form) < 0)
            return idn_oauth_fail(err, 400, "invalid_request", 900144, "The form is malformed.");
        f = &form;
    }
    const char *client_id = param(req, f, "client_id");
    const char *redirect = param(req, f, "redirect_uri");
    const char *state = param(req, f, "state");
    const char *scope = param(req, f, "scope");
    const char *resource = param(req, f, "resource");
    const char *challenge = param(req, f, "code_challenge");
    const char *method = param(req, f, "code_challenge_method");
    const char *tname = http_request_param(req, "tenant");
    store_txn_t *t;
    int rc = store_begin(idn_store(req), STORE_READ, &t, err);
    if (rc < 0) return rc;
    store_tenant_t tn;
    idn_client_t c;
    memset(&c, 0, sizeof c);
    rc = idn_tenant_resolve(t, tname ? tname : "adfs", NULL, &tn, err);
    if (rc == 0) rc = idn_client_load(t, &tn, client_id, &c, err);
    store_rollback(t);
    if (rc < 0) return rc;
    /* Until the redirect URI is known good, errors are pages, never redirects. */
    if (!redirect_allowed(&c, redirect)) {
        idn_client_release(&c);
        return idn_oauth_fail(err, 400, "invalid_request", 50011,
                              "The redirect URI '%s' specified in the request does not match the "
                              "redirect URIs configured for the application '%s'.",
                              redirect ? redirect : "", client_id);
    }
    const char *rt = param(req, f, "response_type");
    if (!rt || strcmp(rt, "code") != 0) {
        idn_client_release(&c);
        return redirect_error(req, resp, redirect, state, "unsupported_response_type",
                              "AADSTS700054: response_type must be 'code'.");
    }
    if (c.public_client &&
        (!challenge || !challenge[0] || !method || strcmp(method, "S256") != 0)) {
        idn_client_release(&c);
        return redirect_error(req, resp, redirect, state, "invalid_request",
                              "AADSTS9002325: Proof Key for Code Exchange is required for "
                              "public clients: send code_challenge with "
                              "code_challenge_method=S256.");
    }
    if (challenge && method && strcmp(method, "S256") != 0) {
        idn_client_release(&c);
        return redirect_error(req, resp, redirect, state, "invalid_request",
                              "AADSTS50125: code_challenge_method must be S256.");
    }
    /* What the authorization code keeps must fit its record whole (RFC 7636: a challenge is
     * 43-128 characters); a cut redirect, challenge or nonce would fail later, less clearly. */
    const char *nonce_in = param(req, f, "nonce");
    if ((redirect && strlen(redirect) >= sizeof((store_auth_code_t *)0)->redirect_uri) ||
        (challenge && strlen(challenge) >= sizeof((store_auth_code_t *)0)->challenge) ||
        (nonce_in && strlen(nonce_in) >= sizeof((store_auth_code_t *)0)->nonce)) {
        idn_client_release(&c);
        return redirect_error(req, resp, redirect, state, "invalid_request",
                              "AADSTS90100: redirect_uri, code_challenge or nonce is too long "
                              "(at most 1,023, 127 and 255 characters).");
    }
    const char *hidden = hidden_params(req, f);
    const char *action = arena_sprintf(a, "%s", req->path);
    store_user_t u;
    int signed_in = 0;
    const char *sess = f ? idn_form_get(f, "session") : NULL;
    if (sess && session_user(req, sess, &u) == 0) signed_in = 1;
    const char *username = f ? idn_form_get(f, "username") : NULL;
    if (!signed_in && username && username[0]) {
        castor_err se;
        castor_err_clear(&se);
        if (idn_password_signin(idn_store(req), &tn, username, idn_form_get(f, "password"), &u,
                                &se) < 0) {
            idn_client_release(&c);
            return send_page(req, resp, 400, "Sign in",
                             signin_form(req, action, hidden, c.sp.display_name, err_text(&se), 0));
        }
        signed_in = 1;
    }
    if (!signed_in) {
        const char *name = arena_strdup(a, c.sp.display_name);
        idn_client_release(&c);
        return send_page(req, resp, 200, "Sign in",
                         signin_form(req, action, hidden, name, NULL, 0));
    }
    /* Consent: what would the token carry? */
    rc = store_begin(idn_store(req), STORE_WRITE, &t, err);
    if (rc < 0) {
        idn_client_release(&c);
        return rc;
    }
    idn_target_t tg;
    memset(&tg, 0, sizeof tg);
    char scp[STORE_SCOPE_MAX];
    castor_err ce;
    castor_err_clear(&ce);
    rc = idn_target_resolve(req, t, &tn, scope, resource, 0, &tg, &ce);
    if (rc == 0) rc = idn_delegated_scopes(t, &c, &tg, u.id, scp, sizeof scp, &ce);
    const char *consent = f ? idn_form_get(f, "consent") : NULL;
    if (rc < 0 && strstr(ce.code, "65001") && consent && strcmp(consent, "accept") == 0) {
        /* Record the user's consent for what the registration declares (or what was asked). */
        store_grant_t g = {.created = time_now_s()};
        ids_guid(g.id);
        snprintf(g.tenant_id, sizeof g.tenant_id, "%s", tn.id);
        snprintf(g.client_id, sizeof g.client_id, "%s", c.sp.id);
        snprintf(g.consent_type, sizeof g.consent_type, "Principal");
        snprintf(g.principal_id, sizeof g.principal_id, "%s", u.id);
        snprintf(g.resource_id, sizeof g.resource_id, "%s", tg.sp.id);
        const json_t *scopes = json_object_get(tg.sp_doc, "oauth2PermissionScopes");
        size_t i;
        const json_t *sc;
        json_array_foreach(scopes, i, sc)
        {
            const char *v = json_string_value(json_object_get(sc, "value"));
            size_t n = strlen(g.scope);
            if (v) snprintf(g.scope + n, sizeof g.scope - n, "%s%s", n ? " " : "", v);
        }
        castor_err_clear(&ce);
        rc = store_grant_create(t, &g, &ce);
        if (rc == 0) rc = idn_delegated_scopes(t, &c, &tg, u.id, scp, sizeof scp, &ce);
    } else if (rc < 0 && strstr(ce.code, "65001") && consent && strcmp(consent, "decline") == 0) {
        idn_target_release(&tg);
        idn_client_release(&c);
        store_rollback(t);
        return redirect_error(req, resp, redirect, state, "access_denied",
                              "AADSTS65004: User declined to consent to access the app.");
    } else if (rc < 0 && strstr(ce.code, "65001")) {
        const char *name = arena_strdup(a, c.sp.display_name);
        const char *res_name = arena_strdup(a, tg.sp.display_name);
        idn_target_release(&tg);
        idn_client_release(&c);
        store_rollback(t);
        const char *body = arena_sprintf(
            a,
            "<p><b>%s</b> wants to access <b>%s</b> on your behalf.</p><form method=\"post\" "
            "action=\"%s\">%s<input type=\"hidden\" name=\"session\" value=\"%s\">"
            "<button type=\"submit\" name=\"consent\" value=\"accept\">Accept</button>"
            "<button type=\"submit\" name=\"consent\" value=\"decline\">Cancel</button></form>",
            idn_html(a, name), idn_html(a, res_name), action, hidden,
            idn_html(a, session_token(req, &u)));
        return send_page(req, resp, 200, "Permissions requested", body);
    }
    if (rc < 0) {
        idn_target_release(&tg);
        idn_client_release(&c);
        store_rollback(t);
        const char *colon = strchr(ce.code, ':');
        return redirect_error(
            req, resp, redirect, state,
            arena_strndup(a, ce.code, colon ? (size_t)(colon - ce.code) : strlen(ce.code)),
            arena_sprintf(a, "AADSTS%s: %s", colon ? colon + 1 : "", ce.message));
    }
    char *code = idn_random_token(a, 32);
    store_auth_code_t ac = {.expires = time_now_s() + IDN_AUTH_CODE_TTL_S};
    idn_secret_hash(code, ac.code_hash);
    snprintf(ac.tenant_id, sizeof ac.tenant_id, "%s", tn.id);
    snprintf(ac.client_id, sizeof ac.client_id, "%s", c.sp.app_id);
    snprintf(ac.user_id, sizeof ac.user_id, "%s", u.id);
    snprintf(ac.redirect_uri, sizeof ac.redirect_uri, "%s", redirect);
    if (scope)
        snprintf(ac.scope, sizeof ac.scope, "%s", scope);
    else
        snprintf(ac.scope, sizeof ac.scope, "%s/.default", tg.resource);
    snprintf(ac.challenge, sizeof ac.challenge, "%s", challenge ? challenge : "");
    snprintf(ac.challenge_method, sizeof ac.challenge_method, "%s", method ? method : "");
    const char *nonce = param(req, f, "nonce");
    snprintf(ac.nonce, sizeof ac.nonce, "%s", nonce ? nonce : "");
    idn_target_release(&tg);
    idn_client_release(&c);
    rc = store_auth_code_add(t, &ac, err);
    if (rc == 0)
        rc = store_commit(t, err);
    else
        store_rollback(t);
    if (rc < 0) return rc;
    return redirect_with(
        req, resp, redirect,
        arena_sprintf(a, "code=%s%s%s", code, state ? "&state=" : "", state ? enc(a, state) : ""));
}
