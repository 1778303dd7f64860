/* cli_token.c — the signed-in session and its token cache (~/.castor/tokens.json, 0600),
 * and cli_token_get: a cached access token while it has more than CLI_TOKEN_SKEW_S to live,
 * else a new one through the refresh_token grant (users) or client_credentials (service
 * principals, whose secret is kept in the same 0600 file as az keeps it in ~/.azure). */
#include "cli/cli_internal.h"

#include "core/timeutil.h"
#include "identity/idn.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* castor's own CLI: a first-party public client the identity plane seeds, pre-authorized
 * for ARM, ADT and Graph like the Azure CLI's. */
const char *cli_client_id(void)
{
    const char *env = getenv("CASTOR_CLIENT_ID"); /* to sign in as another public client */
    return env && *env ? env : IDN_APP_CASTOR_CLI;
}

int cli_token_fresh(int64_t expires_on, int64_t now)
{
    return expires_on - now > CLI_TOKEN_SKEW_S;
}

/* A scope ends in "/.default" or names a permission after the host ("…/Read.Write"); a
 * resource is a URL with no path ("https://management.azure.com/"), a GUID or an api:// URI. */
static int is_scope(const char *s)
{
    size_t n = strlen(s);
    if (n >= 9 && strcmp(s + n - 9, "/.default") == 0) return 1;
    const char *scheme = strstr(s, "://");
    if (!scheme || strncmp(s, "https://", 8) != 0) return 0;
    const char *slash = strchr(scheme + 3, '/');
    return slash && slash[1] != '\0';
}

const char *cli_scope_of(cli_ctx_t *ctx, const char *resource_or_scope)
{
    if (is_scope(resource_or_scope)) return cli_arena_strdup(ctx, resource_or_scope);
    return cli_arena_printf(ctx, "%s/.default", resource_or_scope);
}

/* client_credentials accepts only "<resource>/.default". */
static const char *default_scope_of(cli_ctx_t *ctx, const char *scope)
{
    size_t n = strlen(scope);
    if (n >= 9 && strcmp(scope + n - 9, "/.default") == 0) return scope;
    const char *slash = strrchr(scope, '/');
    return cli_arena_printf(ctx, "%.*s/.default", (int)(slash - scope), scope);
}

char *cli_form(cli_ctx_t *ctx, ...)
{
    va_list ap;
    va_start(ap, ctx);
    size_t cap = 256, len = 0;
    char *out = malloc(cap);
    if (!out) {
        va_end(ap);
        return NULL;
    }
    out[0] = '\0';
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k) break;
        const char *v = va_arg(ap, const char *);
        if (!v) continue;
        char *ek = curl_easy_escape(NULL, k, 0), *ev = curl_easy_escape(NULL, v, 0);
        size_t need = len + (ek ? strlen(ek) : 0) + (ev ? strlen(ev) : 0) + 3;
        if (need > cap) {
            while (cap < need)
                cap *= 2;
            char *o = realloc(out, cap);
            if (!o) {
                curl_free(ek);
                curl_free(ev);
                free(out);
                va_end(ap);
                return NULL;
            }
            out = o;
        }
        len += (size_t)snprintf(out + len, cap - len, "%s%s=%s", len ? "&" : "", ek ? ek : "",
                                ev ? ev : "");
        curl_free(ek);
        curl_free(ev);
    }
    va_end(ap);
    char *a = arena_strdup(&ctx->arena, out);
    free(out);
    return a;
}

static int b64url_value(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-' || c == '+') return 62;
    if (c == '_' || c == '/') return 63;
    return -1;
}

json_t *cli_jwt_claims(const char *jwt)
{
    if (!jwt) return NULL;
    const char *p = strchr(jwt, '.');
    if (!p) return NULL;
    p++;
    size_t n = strcspn(p, ".");
    unsigned char *out = malloc(n + 1);
    if (!out) return NULL;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_value((unsigned char)p[i]);
        if (v < 0) {
            if (p[i] == '=') break;
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    json_error_t jerr;
    json_t *claims = json_loadb((const char *)out, o, 0, &jerr);
    free(out);
    if (claims && !json_is_object(claims)) {
        json_decref(claims);
        return NULL;
    }
    return claims;
}

json_t *cli_session_load(cli_ctx_t *ctx)
{
    (void)ctx;
    char path[1100];
    castor_err ignored;
    if (cli_config_path("tokens.json", path, sizeof path, &ignored) < 0) return NULL;
    return cli_json_file_read(path);
}

int cli_session_save(cli_ctx_t *ctx, const json_t *session)
{
    char path[1100];
    int rc = cli_config_path("tokens.json", path, sizeof path, &ctx->err);
    if (rc < 0) return rc;
    return cli_json_file_write(path, session, &ctx->err);
}

int cli_session_remove(cli_ctx_t *ctx)
{
    char path[1100];
    int rc = cli_config_path("tokens.json", path, sizeof path, &ctx->err);
    if (rc < 0) return rc;
    if (unlink(path) == 0) return 1;
    if (errno == ENOENT) return 0;
    return cli_fail(ctx, CASTOR_EIO, "cannot remove %s: %s", path, strerror(errno));
}

static int64_t number_member(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (json_is_integer(v)) return json_integer_value(v);
    if (json_is_real(v)) return (int64_t)json_real_value(v);
    if (json_is_string(v)) return strtoll(json_string_value(v), NULL, 10); /* v1 tokens */
    return 0;
}

int cli_session_store_token(cli_ctx_t *ctx, json_t *session, const char *scope,
                            const json_t *token_response)
{
    const char *at = json_string_value(json_object_get(token_response, "access_token"));
    if (!at)
        return cli_fail(ctx, CASTOR_EIO, "the token endpoint answered without an access_token");
    int64_t expires_in = number_member(token_response, "expires_in");
    int64_t expires_on = number_member(token_response, "expires_on");
    if (!expires_on) expires_on = time_now_s() + (expires_in > 0 ? expires_in : 3599);
    json_t *tokens = json_object_get(session, "tokens");
    if (!json_is_object(tokens)) {
        tokens = json_object();
        json_object_set_new(session, "tokens", tokens);
    }
    json_object_set_new(
        tokens, scope,
        json_pack("{s:s, s:I}", "accessToken", at, "expiresOn", (json_int_t)expires_on));
    const char *rt = json_string_value(json_object_get(token_response, "refresh_token"));
    if (rt) json_object_set_new(session, "refreshToken", json_string(rt)); /* rotated */
    return 0;
}

json_t *cli_oauth_post(cli_ctx_t *ctx, const char *path, const char *form, char *oauth_error,
                       size_t oauth_error_size)
{
    if (oauth_error && oauth_error_size) oauth_error[0] = '\0';
    cli_http_req_t req = {.method = "POST", .url = path, .form = form};
    cli_http_resp_t resp;
    if (cli_http(ctx, &req, &resp) < 0) return NULL;
    json_t *out = NULL;
    if (resp.status == 200 && json_is_object(resp.json)) {
        out = json_incref(resp.json);
    } else {
        cli_error_from_response(ctx, &resp);
        const char *code = json_string_value(json_object_get(resp.json, "error"));
        if (code && oauth_error) snprintf(oauth_error, oauth_error_size, "%s", code);
    }
    cli_http_resp_free(&resp);
    return out;
}

/* A new token for scope from the session's long-lived credential; stores and saves it. */
static const char *token_renew(cli_ctx_t *ctx, json_t *session, const char *scope,
                               int64_t *expires_on)
{
    const char *tenant = json_string_value(json_object_get(session, "tenant"));
    const char *client = json_string_value(json_object_get(session, "clientId"));
    const char *type =
        json_string_value(json_object_get(json_object_get(session, "account"), "type"));
    const char *path =
        cli_arena_printf(ctx, "/%s/oauth2/v2.0/token", tenant ? tenant : "organizations");
    char *form;
    if (type && strcmp(type, "servicePrincipal") == 0) {
        form =
            cli_form(ctx, "grant_type", "client_credentials", "client_id", client, "client_secret",
                     json_string_value(json_object_get(session, "clientSecret")), "scope",
                     default_scope_of(ctx, scope), NULL);
    } else {
        const char *rt = json_string_value(json_object_get(session, "refreshToken"));
        if (!rt) {
            cli_fail(ctx, CASTOR_EAUTH,
                     "the session has no refresh token. Please run 'castor login'.");
            return NULL;
        }
        form = cli_form(ctx, "grant_type", "refresh_token", "client_id", client, "refresh_token",
                        rt, "scope",
                        cli_arena_printf(ctx, "%s offline_access openid profile", scope), NULL);
    }
    if (!form) {
        cli_fail(ctx, CASTOR_ENOMEM, "out of memory");
        return NULL;
    }
    json_t *answer = cli_oauth_post(ctx, path, form, NULL, 0);
    if (!answer) {
        if (ctx->err.status == 400 || ctx->err.status == 401)
            castor_err_prefix(&ctx->err, "could not get a token for %s; run 'castor login' again",
                              scope);
        return NULL;
    }
    int rc = cli_session_store_token(ctx, session, scope, answer);
    json_decref(answer);
    if (rc < 0 || cli_session_save(ctx, session) < 0) return NULL;
    json_t *t = json_object_get(json_object_get(session, "tokens"), scope);
    if (expires_on) *expires_on = number_member(t, "expiresOn");
    return cli_arena_strdup(ctx, json_string_value(json_object_get(t, "accessToken")));
}

const char *cli_token_get(cli_ctx_t *ctx, const char *resource_or_scope, int64_t *expires_on)
{
    if (cli_server_load(ctx) < 0) return NULL;
    json_t *session = cli_session_load(ctx);
    if (!session) {
        cli_fail(ctx, CASTOR_EAUTH, "Please run 'castor login' to setup account.");
        return NULL;
    }
    const char *server = json_string_value(json_object_get(session, "server"));
    if (!server || strcmp(server, ctx->server.url) != 0) {
        cli_fail(ctx, CASTOR_EAUTH,
                 "you are signed in to %s, not to %s. Run 'castor login --server %s'.",
                 server ? server : "another server", ctx->server.url, ctx->server.url);
        json_decref(session);
        return NULL;
    }
    const char *scope = cli_scope_of(ctx, resource_or_scope);
    json_t *t = json_object_get(json_object_get(session, "tokens"), scope);
    const char *out = NULL;
    int64_t exp = number_member(t, "expiresOn");
    if (t && cli_token_fresh(exp, time_now_s())) {
        out = cli_arena_strdup(ctx, json_string_value(json_object_get(t, "accessToken")));
        if (expires_on) *expires_on = exp;
        if (ctx->debug) fprintf(ctx->errout, "DEBUG: token for %s from the cache\n", scope);
    } else {
        if (ctx->debug) fprintf(ctx->errout, "DEBUG: token for %s: asking the server\n", scope);
        out = token_renew(ctx, session, scope, expires_on);
    }
    json_decref(session);
    return out;
}
