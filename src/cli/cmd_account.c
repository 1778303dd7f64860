/* cmd_account.c — `castor account show` and `castor account get-access-token`, shaped like
 * az's: the signed-in account and subscription, and a bearer token for any resource. */
#include "cli/cli_internal.h"

#include <string.h>
#include <time.h>

static int account_show(cli_ctx_t *ctx)
{
    if (cli_server_load(ctx) < 0) return ctx->err.rc;
    json_t *session = cli_session_load(ctx);
    if (!session) return cli_fail(ctx, CASTOR_EAUTH, "Please run 'castor login' to setup account.");
    json_t *subs = json_object_get(session, "subscriptions");
    json_t *chosen = NULL;
    size_t i;
    json_t *s;
    json_array_foreach(subs, i, s)
    {
        const char *id = json_string_value(json_object_get(s, "id"));
        if (!chosen || (id && strcmp(id, ctx->server.subscription) == 0)) chosen = s;
    }
    json_t *empty = json_object();
    json_t *out = cli_account_object(session, chosen ? chosen : empty, 1);
    json_object_set_new(out, "server",
                        json_string(json_string_value(json_object_get(session, "server"))));
    json_decref(empty);
    json_decref(session);
    return cli_result(ctx, out);
}

static const struct {
    const char *type, *resource;
} resource_types[] = {{"arm", CLI_RESOURCE_ARM},
                      {"ms-graph", CLI_RESOURCE_GRAPH},
                      {"digital-twins", CLI_RESOURCE_ADT},
                      {NULL, NULL}};

static int account_token(cli_ctx_t *ctx)
{
    const char *resource = cli_arg(ctx, "--resource");
    const char *scope = cli_arg(ctx, "--scope");
    const char *type = cli_arg(ctx, "--resource-type");
    if (!!resource + !!scope + !!type > 1)
        return cli_usage(ctx, "give only one of --resource, --scope and --resource-type");
    if (type) {
        for (size_t i = 0; resource_types[i].type; i++)
            if (strcmp(type, resource_types[i].type) == 0) resource = resource_types[i].resource;
        if (!resource)
            return cli_usage(ctx,
                             "argument --resource-type: invalid choice: '%s' (choose from 'arm', "
                             "'ms-graph', 'digital-twins')",
                             type);
    }
    const char *want = scope ? scope : resource ? resource : CLI_RESOURCE_ARM;
    int64_t expires_on = 0;
    const char *token = cli_token_get(ctx, want, &expires_on);
    if (!token) return ctx->err.rc;
    json_t *session = cli_session_load(ctx);
    char local[64] = "";
    time_t t = (time_t)expires_on;
    struct tm tm;
    if (localtime_r(&t, &tm)) strftime(local, sizeof local, "%Y-%m-%d %H:%M:%S.000000", &tm);
    json_t *out =
        json_pack("{s:s, s:s, s:I, s:s?, s:s?, s:s}", "accessToken", token, "expiresOn", local,
                  "expires_on", (json_int_t)expires_on, "subscription",
                  ctx->server.subscription[0] ? ctx->server.subscription : NULL, "tenant",
                  json_string_value(json_object_get(session, "tenant")), "tokenType", "Bearer");
    json_decref(session);
    return cli_result(ctx, out);
}

static const cli_flag_t token_flags[] = {
    {"--resource", NULL, "RESOURCE",
     "The resource the token is for, e.g. https://digitaltwins.azure.net (default: the resource "
     "manager, https://management.azure.com/).",
     0},
    {"--scope", NULL, "SCOPE", "The scope instead, e.g. https://digitaltwins.azure.net/.default.",
     0},
    {"--resource-type", NULL, "TYPE", "A known resource: arm, ms-graph, digital-twins.", 0},
    {0}};

static const cli_command_t account_commands[] = {
    {"account show", "Show the signed-in account and its subscription.", "castor account show",
     NULL, account_show, "name,id,tenantId,environmentName"},
    {"account get-access-token", "Get a bearer token for a resource, for use with other tools.",
     "castor account get-access-token --resource https://digitaltwins.azure.net", token_flags,
     account_token, "expiresOn,tenant,tokenType"},
    {0}};

static const cli_topic_t account_topics[] = {
    {"account", "The signed-in account, its subscription and its tokens."}, {0}};

const cli_group_t cli_group_account = {"account", account_topics, account_commands};
