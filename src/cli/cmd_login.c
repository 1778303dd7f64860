/* cmd_login.c — `castor login` (password, device code, service principal) and `castor logout`.
 *
 * A sign-in asks the identity plane for a resource-manager token, as az does, keeps the
 * refresh token (or a service principal's secret) in ~/.castor/tokens.json (0600) so that
 * cli_token_get can get tokens for other resources later, records the server in
 * ~/.castor/config.json, and prints the subscriptions the account sees, shaped like az login. */
#include "cli/cli_internal.h"

#include "core/timeutil.h"

#include <string.h>
#include <time.h>

#define CLI_DEVICE_POLL_MIN_S 1
#define CLI_DEVICE_WAIT_MAX_S 900

static const cli_flag_t login_flags[] = {
    {"--username", "-u", "USER",
     "User name (e.g. admin@castor.local), or the application (client) id with "
     "--service-principal.",
     0},
    {"--password", "-p", "PASSWORD",
     "The user's password, or the client secret with --service-principal.", CLI_SECRET},
    {"--service-principal", NULL, NULL, "Sign in as an application with its client secret.", 0},
    {"--use-device-code", NULL, NULL,
     "Sign in on the server's web page with a one-time code (the default without --username).", 0},
    {"--tenant", "-t", "TENANT",
     "Tenant id or domain (default: the server's tenant, else the domain of --username).", 0},
    {0}};

static const char *user_from_claims(const json_t *claims)
{
    static const char *const keys[] = {"upn", "preferred_username", "unique_name", "email", NULL};
    for (size_t i = 0; keys[i]; i++) {
        const char *v = json_string_value(json_object_get(claims, keys[i]));
        if (v && *v) return v;
    }
    return NULL;
}

/* Device authorization grant: show the code, then poll until the user finishes or it ends. */
static json_t *device_code_flow(cli_ctx_t *ctx, const char *tenant, const char *scope)
{
    char *form = cli_form(ctx, "client_id", cli_client_id(), "scope", scope, NULL);
    json_t *start = cli_oauth_post(ctx, cli_arena_printf(ctx, "/%s/oauth2/v2.0/devicecode", tenant),
                                   form, NULL, 0);
    if (!start) return NULL;
    const char *device_code = json_string_value(json_object_get(start, "device_code"));
    const char *user_code = json_string_value(json_object_get(start, "user_code"));
    const char *uri = json_string_value(json_object_get(start, "verification_uri"));
    if (!uri) uri = json_string_value(json_object_get(start, "verification_url"));
    const char *message = json_string_value(json_object_get(start, "message"));
    json_int_t interval = json_integer_value(json_object_get(start, "interval"));
    json_int_t expires_in = json_integer_value(json_object_get(start, "expires_in"));
    if (!device_code || !user_code || !uri) {
        json_decref(start);
        cli_fail(ctx, CASTOR_EIO,
                 "the device code answer lacks device_code, user_code or verification_uri");
        return NULL;
    }
    if (message)
        fprintf(ctx->errout, "%s\n", message);
    else
        fprintf(ctx->errout,
                "To sign in, use a web browser to open the page %s and enter the code %s to "
                "authenticate.\n",
                uri, user_code);
    fflush(ctx->errout);
    char *poll =
        cli_form(ctx, "grant_type", "urn:ietf:params:oauth:grant-type:device_code", "client_id",
                 cli_client_id(), "device_code", device_code, "code", device_code, NULL);
    json_decref(start);
    if (interval < CLI_DEVICE_POLL_MIN_S) interval = CLI_DEVICE_POLL_MIN_S;
    if (expires_in <= 0 || expires_in > CLI_DEVICE_WAIT_MAX_S) expires_in = CLI_DEVICE_WAIT_MAX_S;
    int64_t deadline = time_now_s() + expires_in;
    const char *path = cli_arena_printf(ctx, "/%s/oauth2/v2.0/token", tenant);
    for (;;) {
        struct timespec ts = {.tv_sec = (time_t)interval, .tv_nsec = 0};
        nanosleep(&ts, NULL);
        char code[64];
        json_t *tok = cli_oauth_post(ctx, path, poll, code, sizeof code);
        if (tok) return tok;
        if (strcmp(code, "authorization_pending") == 0 && time_now_s() < deadline) continue;
        if (strcmp(code, "slow_down") == 0 && time_now_s() < deadline) {
            interval += 5;
            continue;
        }
        return NULL; /* declined, expired, or a transport error: ctx->err says which */
    }
}

/* The subscriptions the account sees, from the resource manager; when that plane does not
 * answer the list, the one subscription the server's connection file names. */
static json_t *subscriptions_list(cli_ctx_t *ctx)
{
    const char *url =
        cli_arena_printf(ctx, "%ssubscriptions?api-version=2022-12-01", ctx->server.arm);
    json_t *answer = cli_call(ctx, "GET", url, CLI_RESOURCE_ARM, NULL);
    json_t *out = json_array();
    json_t *value = json_object_get(answer, "value");
    size_t i;
    json_t *s;
    json_array_foreach(value, i, s)
    {
        const char *id = json_string_value(json_object_get(s, "subscriptionId"));
        if (!id) continue;
        const char *name = json_string_value(json_object_get(s, "displayName"));
        const char *state = json_string_value(json_object_get(s, "state"));
        json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "id", id, "name", name ? name : id,
                                             "state", state ? state : "Enabled"));
    }
    if (!answer && ctx->debug)
        fprintf(ctx->errout, "DEBUG: listing subscriptions failed (%s); using connection.json's\n",
                ctx->err.message);
    json_decref(answer);
    castor_err_clear(&ctx->err);
    if (json_array_size(out) == 0 && ctx->server.subscription[0])
        json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "id", ctx->server.subscription,
                                             "name", "castor-default", "state", "Enabled"));
    return out;
}

json_t *cli_account_object(const json_t *session, const json_t *sub, int is_default)
{
    const char *tenant = json_string_value(json_object_get(session, "tenant"));
    json_t *account = json_object_get(session, "account");
    return json_pack("{s:s, s:s?, s:O?, s:b, s:[], s:O?, s:O?, s:s?, s:{s:O?, s:O?}}",
                     "environmentName", "castor", "homeTenantId", tenant, "id",
                     json_object_get(sub, "id"), "isDefault", is_default, "managedByTenants",
                     "name", json_object_get(sub, "name"), "state", json_object_get(sub, "state"),
                     "tenantId", tenant, "user", "name", json_object_get(account, "name"), "type",
                     json_object_get(account, "type"));
}

static int login_run(cli_ctx_t *ctx)
{
    const char *user = cli_arg(ctx, "--username");
    const char *password = cli_arg(ctx, "--password");
    int sp = cli_arg_bool(ctx, "--service-principal");
    int device = cli_arg_bool(ctx, "--use-device-code");
    if (sp && (!user || !password))
        return cli_usage(ctx, "--service-principal needs --username APP_ID and --password SECRET");
    if (device && (user || password))
        return cli_usage(ctx, "--use-device-code cannot be combined with --username/--password");
    if (!sp && user && !password)
        return cli_usage(ctx, "--username needs --password (or use --use-device-code)");
    if (!user && password) return cli_usage(ctx, "--password needs --username");
    if (cli_server_load(ctx) < 0) return ctx->err.rc;

    const char *tenant = cli_arg(ctx, "--tenant");
    if (!tenant && ctx->server.tenant[0]) tenant = ctx->server.tenant;
    if (!tenant && user && !sp && strchr(user, '@')) tenant = strchr(user, '@') + 1;
    if (!tenant) tenant = "organizations";
    const char *arm_scope = cli_scope_of(ctx, CLI_RESOURCE_ARM);
    const char *user_scope = cli_arena_printf(ctx, "%s offline_access openid profile", arm_scope);
    const char *token_path = cli_arena_printf(ctx, "/%s/oauth2/v2.0/token", tenant);

    json_t *answer;
    const char *client_id = sp ? user : cli_client_id();
    if (sp) {
        answer = cli_oauth_post(ctx, token_path,
                                cli_form(ctx, "grant_type", "client_credentials", "client_id", user,
                                         "client_secret", password, "scope", arm_scope, NULL),
                                NULL, 0);
    } else if (user) {
        answer = cli_oauth_post(ctx, token_path,
                                cli_form(ctx, "grant_type", "password", "client_id", client_id,
                                         "username", user, "password", password, "scope",
                                         user_scope, NULL),
                                NULL, 0);
    } else {
        answer = device_code_flow(ctx, tenant, user_scope);
    }
    if (!answer) return ctx->err.rc;

    json_t *claims = cli_jwt_claims(json_string_value(json_object_get(answer, "access_token")));
    json_t *id_claims = cli_jwt_claims(json_string_value(json_object_get(answer, "id_token")));
    const char *tid = json_string_value(json_object_get(claims, "tid"));
    if (tid)
        snprintf(ctx->server.tenant, sizeof ctx->server.tenant, "%s", tid);
    else
        snprintf(ctx->server.tenant, sizeof ctx->server.tenant, "%s", tenant);
    const char *name = sp ? user : user_from_claims(id_claims);
    if (!name) name = user_from_claims(claims);
    if (!name) name = user ? user : "";
    json_t *session = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:O?}}", "server", ctx->server.url,
                                "tenant", ctx->server.tenant, "clientId", client_id, "account",
                                "type", sp ? "servicePrincipal" : "user", "name", name, "oid",
                                json_object_get(claims, "oid"));
    json_decref(claims);
    json_decref(id_claims);
    if (sp) json_object_set_new(session, "clientSecret", json_string(password));
    int rc = cli_session_store_token(ctx, session, arm_scope, answer);
    json_decref(answer);
    if (rc == 0) rc = cli_session_save(ctx, session);
    json_t *subs = rc == 0 ? subscriptions_list(ctx) : NULL;
    if (rc == 0 && json_array_size(subs) && !ctx->server.subscription[0])
        snprintf(ctx->server.subscription, sizeof ctx->server.subscription, "%s",
                 json_string_value(json_object_get(json_array_get(subs, 0), "id")));
    if (rc == 0) {
        json_object_set(session, "subscriptions", subs);
        rc = cli_session_save(ctx, session);
    }
    if (rc == 0) rc = cli_config_save(ctx);
    if (rc < 0) {
        json_decref(subs);
        json_decref(session);
        return rc;
    }
    json_t *out = json_array();
    size_t i;
    json_t *s;
    json_array_foreach(subs, i, s)
    {
        const char *id = json_string_value(json_object_get(s, "id"));
        json_array_append_new(
            out, cli_account_object(session, s, id && strcmp(id, ctx->server.subscription) == 0));
    }
    if (json_array_size(subs) == 0)
        cli_warn(ctx, "signed in, but the account sees no subscription on %s", ctx->server.url);
    json_decref(subs);
    json_decref(session);
    return cli_result(ctx, out);
}

static int logout_run(cli_ctx_t *ctx)
{
    int had = cli_session_remove(ctx);
    if (had < 0) return had;
    if (!had) return cli_fail(ctx, CASTOR_ENOTFOUND, "There are no active accounts.");
    return 0;
}

static const cli_command_t login_commands[] = {
    {"login", "Sign in to castor: with a password, a device code, or as a service principal.",
     "castor login -u admin@castor.local -p 'Castor-Pw-1' --server https://localhost:8443 "
     "--ca-file castor-data/ca.pem",
     login_flags, login_run, "name,id,tenantId,isDefault"},
    {0}};

static const cli_command_t logout_commands[] = {{"logout",
                                                 "Sign out: forget the tokens kept in ~/.castor.",
                                                 "castor logout", NULL, logout_run, NULL},
                                                {0}};

const cli_group_t cli_group_login = {"login", NULL, login_commands};
const cli_group_t cli_group_logout = {"logout", NULL, logout_commands};
