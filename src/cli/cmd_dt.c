/* cmd_dt.c — `castor dt create|show|list|delete` (Microsoft.DigitalTwins/digitalTwinsInstances
 * through the resource manager) and `castor dt role-assignment create|list|delete`, the seed's
 * fix for a 403, with az dt's flags and az's output (the instance flattened as az dt prints it).
 * An instance is found by name through the subscription's list when -g is not given, as az dt
 * does (real-clients-cli-python.md §8). */
#include "cli/cmd_role.h"

#include "cli/cli_internal.h"
#include "cli/cmd_dt_doctor.h"
#include "cli/cmd_dt_endpoint.h"
#include "cli/cmd_dt_model.h"
#include "cli/cmd_dt_route.h"
#include "cli/cmd_dt_twin.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DT_VERSION "2023-01-31"
#define DT_POLL_MAX 60

static json_t *call(cli_ctx_t *ctx, const char *method, const char *path, const json_t *body)
{
    const char *url = path ? role_arm_url(ctx, path) : NULL;
    return url ? cli_call(ctx, method, url, CLI_RESOURCE_ARM, body) : NULL;
}

static const char *instance_path(cli_ctx_t *ctx, const char *group, const char *name)
{
    if (cli_server_load(ctx) < 0) return NULL;
    return cli_arena_printf(ctx,
                            "/subscriptions/%s/resourceGroups/%s/providers/"
                            "Microsoft.DigitalTwins/digitalTwinsInstances/%s",
                            ctx->server.subscription, cli_escape(ctx, group),
                            cli_escape(ctx, name));
}

/* The instances of the subscription, or of its group when one is given (ARM list path). */
static const char *instances_path(cli_ctx_t *ctx, const char *group)
{
    return group ? cli_arena_printf(ctx,
                                    "/subscriptions/%s/resourceGroups/%s/providers/"
                                    "Microsoft.DigitalTwins/digitalTwinsInstances"
                                    "?api-version=" DT_VERSION,
                                    ctx->server.subscription, cli_escape(ctx, group))
                 : cli_arena_printf(ctx,
                                    "/subscriptions/%s/providers/Microsoft.DigitalTwins/"
                                    "digitalTwinsInstances?api-version=" DT_VERSION,
                                    ctx->server.subscription);
}

/* az dt's shape: properties lifted to the top, resourceGroup added. */
static json_t *flatten(cli_ctx_t *ctx, const json_t *inst)
{
    json_t *out = json_deep_copy(inst);
    json_t *props = json_object_get(out, "properties");
    const char *k;
    json_t *v;
    json_object_foreach(props, k, v) json_object_set(out, k, v);
    json_object_del(out, "properties");
    const char *id = json_string_value(json_object_get(out, "id"));
    const char *g = id ? strcasestr(id, "/resourceGroups/") : NULL;
    if (g) {
        g += strlen("/resourceGroups/");
        json_object_set_new(out, "resourceGroup",
                            json_string(cli_arena_printf(ctx, "%.*s", (int)strcspn(g, "/"), g)));
    }
    return out;
}

/* The instance named by --dt-name (and -g when given). New reference or NULL. */
static json_t *instance_find(cli_ctx_t *ctx)
{
    const char *name = cli_arg(ctx, "--dt-name");
    const char *group = cli_arg(ctx, "--resource-group");
    if (group) {
        const char *p = instance_path(ctx, group, name);
        return p ? call(ctx, "GET", cli_arena_printf(ctx, "%s?api-version=" DT_VERSION, p), NULL)
                 : NULL;
    }
    if (cli_server_load(ctx) < 0) return NULL;
    json_t *all = cli_get_all(ctx, role_arm_url(ctx, instances_path(ctx, NULL)), CLI_RESOURCE_ARM);
    json_t *found = NULL;
    size_t i;
    json_t *inst;
    json_array_foreach(all, i, inst)
    {
        const char *n = json_string_value(json_object_get(inst, "name"));
        if (n && strcasecmp(n, name) == 0) {
            found = json_incref(inst);
            break;
        }
    }
    json_decref(all);
    if (!found && ctx->err.rc == 0)
        cli_fail(ctx, CASTOR_ENOTFOUND,
                 "Digital Twins instance '%s' was not found in subscription %s (give -g to "
                 "name its resource group).",
                 name, ctx->server.subscription);
    return found;
}

static int dt_create(cli_ctx_t *ctx)
{
    const char *p = instance_path(ctx, cli_arg(ctx, "--resource-group"), cli_arg(ctx, "--dt-name"));
    if (!p) return ctx->err.rc;
    json_t *tags = json_object();
    const char **tv;
    int nt = cli_arg_list(ctx, "--tags", &tv);
    for (int i = 0; i < nt; i++) {
        const char *eq = strchr(tv[i], '=');
        json_object_set_new(tags,
                            eq ? cli_arena_printf(ctx, "%.*s", (int)(eq - tv[i]), tv[i]) : tv[i],
                            json_string(eq ? eq + 1 : ""));
    }
    const char *loc = cli_arg(ctx, "--location");
    json_t *body =
        json_pack("{s:s, s:o, s:{s:s}}", "location", loc ? loc : "westus2", "tags", tags,
                  "properties", "publicNetworkAccess",
                  cli_arg(ctx, "--public-network-access") ? cli_arg(ctx, "--public-network-access")
                                                          : "Enabled");
    const char *url = cli_arena_printf(ctx, "%s?api-version=" DT_VERSION, p);
    json_t *inst = call(ctx, "PUT", url, body);
    json_decref(body);
    /* Long-running: poll the resource until its provisioningState is terminal. */
    for (int i = 0; inst && i < DT_POLL_MAX; i++) {
        const char *st = json_string_value(
            json_object_get(json_object_get(inst, "properties"), "provisioningState"));
        if (!st || strcmp(st, "Succeeded") == 0 || strcmp(st, "Failed") == 0 ||
            strcmp(st, "Canceled") == 0)
            break;
        sleep(1);
        json_decref(inst);
        inst = call(ctx, "GET", url, NULL);
    }
    if (!inst) return ctx->err.rc;
    json_t *out = flatten(ctx, inst);
    json_decref(inst);
    return cli_result(ctx, out);
}

static int dt_show(cli_ctx_t *ctx)
{
    json_t *inst = instance_find(ctx);
    if (!inst) return ctx->err.rc;
    json_t *out = flatten(ctx, inst);
    json_decref(inst);
    return cli_result(ctx, out);
}

static int dt_list(cli_ctx_t *ctx)
{
    if (cli_server_load(ctx) < 0) return ctx->err.rc;
    const char *path = instances_path(ctx, cli_arg(ctx, "--resource-group"));
    json_t *all = cli_get_all(ctx, role_arm_url(ctx, path), CLI_RESOURCE_ARM);
    if (!all) return ctx->err.rc;
    json_t *list = json_array();
    size_t i;
    json_t *inst;
    json_array_foreach(all, i, inst) json_array_append_new(list, flatten(ctx, inst));
    json_decref(all);
    return cli_result(ctx, list);
}

static int dt_delete(cli_ctx_t *ctx)
{
    json_t *inst = instance_find(ctx);
    if (!inst) return ctx->err.rc;
    const char *id = cli_arena_strdup(ctx, json_string_value(json_object_get(inst, "id")));
    json_decref(inst);
    json_t *r = call(ctx, "DELETE", cli_arena_printf(ctx, "%s?api-version=" DT_VERSION, id), NULL);
    if (!r) return ctx->err.rc;
    json_decref(r);
    return cli_result(ctx, NULL);
}

json_t *cli_dt_instance(cli_ctx_t *ctx)
{
    return instance_find(ctx);
}

/* The instance's ARM id, the scope of its role assignments. */
static const char *instance_scope(cli_ctx_t *ctx)
{
    json_t *inst = instance_find(ctx);
    if (!inst) return NULL;
    const char *id = cli_arena_strdup(ctx, json_string_value(json_object_get(inst, "id")));
    json_decref(inst);
    return id;
}

static int dt_ra_create(cli_ctx_t *ctx)
{
    const char *scope = instance_scope(ctx);
    if (!scope) return ctx->err.rc;
    return role_assignment_create_at(ctx, scope, cli_arg(ctx, "--assignee"),
                                     cli_arg(ctx, "--role"));
}

static int dt_ra_list(cli_ctx_t *ctx)
{
    const char *scope = instance_scope(ctx);
    if (!scope) return ctx->err.rc;
    json_t *list;
    if (role_assignment_list_at(ctx, scope, cli_arg(ctx, "--assignee"), cli_arg(ctx, "--role"),
                                cli_arg_bool(ctx, "--include-inherited"), &list) < 0)
        return ctx->err.rc;
    return cli_result(ctx, list);
}

static int dt_ra_delete(cli_ctx_t *ctx)
{
    const char *scope = instance_scope(ctx);
    if (!scope) return ctx->err.rc;
    return role_assignment_delete_at(ctx, scope, cli_arg(ctx, "--assignee"),
                                     cli_arg(ctx, "--role"));
}

/* `castor dt twin query`: POST {hostName}/query page after page (continuationToken) until the
 * last; -o json prints az dt's {"result": [...]} (with "cost", the summed query-charge, under
 * --show-cost), -o table one row per result. */
static int dt_twin_query(cli_ctx_t *ctx)
{
    json_t *inst = instance_find(ctx);
    if (!inst) return ctx->err.rc;
    const char *host =
        json_string_value(json_object_get(json_object_get(inst, "properties"), "hostName"));
    const char *url =
        host ? cli_arena_printf(ctx, "https://%s/query?api-version=2023-10-31", host) : NULL;
    json_decref(inst);
    if (!url) return cli_fail(ctx, CASTOR_EIO, "the instance has no hostName yet");
    const char *size = cli_arg(ctx, "--page-size");
    const char *hdr[] = {size ? cli_arena_printf(ctx, "max-items-per-page: %s", size) : NULL, NULL};
    json_t *body = json_pack("{s:s}", "query", cli_arg(ctx, "--query-command"));
    cli_http_req_t req = {.method = "POST",
                          .url = url,
                          .resource = CLI_RESOURCE_ADT,
                          .json = body,
                          .headers = size ? hdr : NULL};
    double cost;
    json_t *rows = cli_list_all(ctx, &req, &cost);
    json_decref(body);
    if (!rows) return ctx->err.rc;
    if (ctx->output == CLI_OUT_TABLE || ctx->output == CLI_OUT_TSV) return cli_result(ctx, rows);
    json_t *out = json_pack("{s:o}", "result", rows);
    if (cli_arg_bool(ctx, "--show-cost")) json_object_set_new(out, "cost", json_real(cost));
    return cli_result(ctx, out);
}

#define DT_GROUP                                                                                   \
    {                                                                                              \
        "--resource-group", "-g", "GROUP", "Its resource group.", 0                                \
    }

static const cli_flag_t create_flags[] = {
    CLI_FLAG_DT_NAME,
    {"--resource-group", "-g", "GROUP", "Its resource group.", CLI_REQUIRED},
    {"--location", "-l", "LOCATION", "Its location (default westus2).", 0},
    {"--tags", NULL, "KEY=VALUE", "Tags, space-separated.", CLI_MULTI},
    {"--public-network-access", "--pna", "Enabled|Disabled", "Public network access.", 0},
    {0}};
static const cli_flag_t show_flags[] = {CLI_FLAG_DT_NAME, DT_GROUP, {0}};
static const cli_flag_t query_flags[] = {
    CLI_FLAG_DT_NAME,
    DT_GROUP,
    {"--query-command", "-q", "QUERY", "The ADT query, e.g. \"SELECT * FROM DIGITALTWINS\".",
     CLI_REQUIRED},
    {"--page-size", NULL, "N", "Rows per request (max-items-per-page, at most 1000).", 0},
    {"--show-cost", "--cost", NULL, "Add the summed query-charge as \"cost\".", 0},
    {0}};
static const cli_flag_t list_flags[] = {DT_GROUP, {0}};
static const cli_flag_t delete_flags[] = {
    CLI_FLAG_DT_NAME,
    DT_GROUP,
    {"--yes", "-y", NULL, "Do not prompt (castor never prompts).", 0},
    {"--no-wait", NULL, NULL, "Accepted for az compatibility; deletion is immediate.", 0},
    {0}};
static const cli_flag_t ra_create_flags[] = {
    CLI_FLAG_DT_NAME,
    DT_GROUP,
    {"--assignee", NULL, "ID", "The user (UPN), service principal (appId) or object id.",
     CLI_REQUIRED},
    {"--role", NULL, "ROLE", "Role name or id, e.g. \"Azure Digital Twins Data Owner\".",
     CLI_REQUIRED},
    {0}};
static const cli_flag_t ra_list_flags[] = {
    CLI_FLAG_DT_NAME,
    DT_GROUP,
    {"--assignee", NULL, "ID", "Only this principal's assignments.", 0},
    {"--role", NULL, "ROLE", "Only this role's assignments.", 0},
    {"--include-inherited", NULL, NULL, "Also assignments at the group and subscription.", 0},
    {0}};
static const cli_flag_t ra_delete_flags[] = {
    CLI_FLAG_DT_NAME,
    DT_GROUP,
    {"--assignee", NULL, "ID", "The principal whose assignments go.", CLI_REQUIRED},
    {"--role", NULL, "ROLE", "Only this role (default: every role of the assignee).", 0},
    {0}};

static const cli_command_t dt_commands[] = {
    {"dt create", "Create or update a Digital Twins instance.",
     "castor dt create -n my-dt -g rg1 -l westus2", create_flags, dt_create,
     "name,location,hostName,provisioningState"},
    {"dt show", "Show a Digital Twins instance.", "castor dt show -n my-dt", show_flags, dt_show,
     "name,location,hostName,provisioningState"},
    {"dt list", "List Digital Twins instances.", "castor dt list -g rg1", list_flags, dt_list,
     "name,resourceGroup,location,hostName"},
    {"dt delete", "Delete a Digital Twins instance and all its data.",
     "castor dt delete -n my-dt --yes", delete_flags, dt_delete, NULL},
    {"dt role-assignment create", "Assign a role on a Digital Twins instance.",
     "castor dt role-assignment create -n my-dt --assignee alice@castor.local --role "
     "\"Azure Digital Twins Data Owner\"",
     ra_create_flags, dt_ra_create, "principalId,roleDefinitionId,scope"},
    {"dt role-assignment list", "List role assignments on a Digital Twins instance.",
     "castor dt role-assignment list -n my-dt --include-inherited", ra_list_flags, dt_ra_list,
     "principalName,roleDefinitionName,scope"},
    {"dt role-assignment delete", "Remove role assignments from a Digital Twins instance.",
     "castor dt role-assignment delete -n my-dt --assignee alice@castor.local", ra_delete_flags,
     dt_ra_delete, NULL},
    CLI_DT_MODEL_COMMANDS CLI_DT_TWIN_COMMANDS CLI_DT_DOCTOR_COMMANDS CLI_DT_ENDPOINT_COMMANDS
        CLI_DT_ROUTE_COMMANDS{"dt twin query", "Query the twin graph (every page).",
                              "castor dt twin query -n my-dt -q \"SELECT * FROM DIGITALTWINS T "
                              "WHERE T.$dtId = 'room1'\" "
                              "-o table",
                              query_flags, dt_twin_query, NULL},
    {0}};

static const cli_topic_t dt_topics[] = {
    {"dt", "Manage Azure Digital Twins instances and their data."},
    {"dt role-assignment", "Manage role assignments on a Digital Twins instance."},
    CLI_DT_MODEL_TOPICS CLI_DT_TWIN_TOPICS CLI_DT_ENDPOINT_TOPICS CLI_DT_ROUTE_TOPICS{0}};

const cli_group_t cli_group_dt = {"dt", dt_topics, dt_commands};
