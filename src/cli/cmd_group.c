/* cmd_group.c — `castor group create|list|delete`: resource groups through the resource
 * manager, with az's flags, requests (lower-case `resourcegroups`, api-version 2021-04-01,
 * real-clients-cli-python.md §4) and output. */
#include "cli/cmd_role.h"

#include "cli/cli_internal.h"

#include <string.h>

#define RG_VERSION "2021-04-01"

static const char *group_path(cli_ctx_t *ctx, const char *name)
{
    if (cli_server_load(ctx) < 0) return NULL;
    return cli_arena_printf(ctx, "/subscriptions/%s/resourcegroups%s%s?api-version=" RG_VERSION,
                            ctx->server.subscription, name ? "/" : "",
                            name ? cli_escape(ctx, name) : "");
}

static json_t *call(cli_ctx_t *ctx, const char *method, const char *path, const json_t *body)
{
    const char *url = path ? role_arm_url(ctx, path) : NULL;
    return url ? cli_call(ctx, method, url, CLI_RESOURCE_ARM, body) : NULL;
}

/* "a=b c=d" (az's --tags) into an object. */
static json_t *tags_parse(cli_ctx_t *ctx)
{
    const char **v;
    int n = cli_arg_list(ctx, "--tags", &v);
    json_t *tags = json_object();
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(v[i], '=');
        json_object_set_new(tags, eq ? cli_arena_printf(ctx, "%.*s", (int)(eq - v[i]), v[i]) : v[i],
                            json_string(eq ? eq + 1 : ""));
    }
    return tags;
}

static int group_create(cli_ctx_t *ctx)
{
    json_t *body =
        json_pack("{s:s, s:o}", "location", cli_arg(ctx, "--location"), "tags", tags_parse(ctx));
    json_t *rg = call(ctx, "PUT", group_path(ctx, cli_arg(ctx, "--name")), body);
    json_decref(body);
    if (!rg) return ctx->err.rc;
    json_object_set_new(rg, "managedBy", json_null());
    return cli_result(ctx, rg);
}

static int group_list(cli_ctx_t *ctx)
{
    const char *path = group_path(ctx, NULL);
    json_t *list = cli_get_all(ctx, path ? role_arm_url(ctx, path) : NULL, CLI_RESOURCE_ARM);
    return cli_result_answer(ctx, list);
}

static int group_delete(cli_ctx_t *ctx)
{
    json_t *r = call(ctx, "DELETE", group_path(ctx, cli_arg(ctx, "--name")), NULL);
    if (!r) return ctx->err.rc;
    json_decref(r);
    return cli_result(ctx, NULL);
}

static const cli_flag_t create_flags[] = {
    {"--name", "-n", "NAME", "The resource group's name.", CLI_REQUIRED},
    {"--location", "-l", "LOCATION", "Its location, e.g. westus2.", CLI_REQUIRED},
    {"--tags", NULL, "KEY=VALUE", "Tags, space-separated.", CLI_MULTI},
    {0}};
static const cli_flag_t delete_flags[] = {
    {"--name", "-n", "NAME", "The resource group's name.", CLI_REQUIRED},
    {"--yes", "-y", NULL, "Do not prompt (castor never prompts).", 0},
    {"--no-wait", NULL, NULL, "Accepted for az compatibility; deletion is immediate.", 0},
    {0}};

static const cli_command_t group_commands[] = {
    {"group create", "Create or update a resource group.", "castor group create -n rg1 -l westus2",
     create_flags, group_create, "name,location,properties.provisioningState"},
    {"group list", "List resource groups.", "castor group list", NULL, group_list, "name,location"},
    {"group delete", "Delete a resource group and every instance in it.",
     "castor group delete -n rg1 --yes", delete_flags, group_delete, NULL},
    {0}};

static const cli_topic_t group_topics[] = {{"group", "Manage resource groups."}, {0}};

const cli_group_t cli_group_group = {"group", group_topics, group_commands};
