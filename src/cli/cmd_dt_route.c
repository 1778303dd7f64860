/* cmd_dt_route.c — `castor dt route create|show|list|delete`, shaped like az's `az dt route`
 * (-n, --rn/--route-name, --en/--endpoint-name, --filter): event routes are data-plane
 * resources of the instance, {instance}/eventroutes/{id} at api-version 2023-10-31, with ADT's
 * shapes (body {endpointName, filter}; GET {id, endpointName, filter}; list {value, nextLink}).
 * The commands join the `dt` group's table (cmd_dt.c) through CLI_DT_ROUTE_COMMANDS. */
#include "cli/cmd_dt_route.h"

#include <stdio.h>
#include <string.h>

#define ROUTE_API_VERSION "2023-10-31"

static const char *route_url(cli_ctx_t *ctx, int with_id)
{
    const char *id = with_id ? cli_arg(ctx, "--route-name") : NULL;
    return cli_arena_printf(ctx, "/dt/%s/eventroutes%s%s?api-version=" ROUTE_API_VERSION,
                            cli_escape(ctx, cli_arg(ctx, "--dt-name")), id ? "/" : "",
                            id ? cli_escape(ctx, id) : "");
}

/* ADT answers the PUT with 204 and no body; az prints the route, so it is read back. */
int dt_route_create(cli_ctx_t *ctx)
{
    const char *filter = cli_arg(ctx, "--filter");
    json_t *body = json_pack("{s:s, s:s}", "endpointName", cli_arg(ctx, "--endpoint-name"),
                             "filter", filter ? filter : "true");
    json_t *r = cli_call(ctx, "PUT", route_url(ctx, 1), CLI_RESOURCE_ADT, body);
    json_decref(body);
    if (!r) return ctx->err.rc ? ctx->err.rc : CASTOR_EIO;
    json_decref(r);
    return cli_result_answer(ctx, cli_call(ctx, "GET", route_url(ctx, 1), CLI_RESOURCE_ADT, NULL));
}

int dt_route_show(cli_ctx_t *ctx)
{
    return cli_result_answer(ctx, cli_call(ctx, "GET", route_url(ctx, 1), CLI_RESOURCE_ADT, NULL));
}

/* Every page, following the server's nextLink. */
int dt_route_list(cli_ctx_t *ctx)
{
    json_t *all = cli_get_all(ctx, route_url(ctx, 0), CLI_RESOURCE_ADT);
    return cli_result_answer(ctx, all);
}

int dt_route_delete(cli_ctx_t *ctx)
{
    return cli_result_answer(ctx,
                             cli_call(ctx, "DELETE", route_url(ctx, 1), CLI_RESOURCE_ADT, NULL));
}

#define RT_NAME                                                                                    \
    {                                                                                              \
        "--route-name", "--rn", "NAME", "The event route id.", CLI_REQUIRED                        \
    }

const cli_flag_t dt_route_create_flags[] = {
    CLI_FLAG_DT_NAME,
    RT_NAME,
    {"--endpoint-name", "--en", "NAME", "The endpoint the route delivers to.", CLI_REQUIRED},
    {"--filter", NULL, "FILTER",
     "Which events the route takes, e.g. \"type = 'Microsoft.DigitalTwins.Twin.Create'\" "
     "(default \"true\": every event).",
     0},
    {0}};
const cli_flag_t dt_route_show_flags[] = {CLI_FLAG_DT_NAME, RT_NAME, {0}};
const cli_flag_t dt_route_list_flags[] = {CLI_FLAG_DT_NAME, {0}};
const cli_flag_t dt_route_delete_flags[] = {
    CLI_FLAG_DT_NAME,
    RT_NAME,
    {"--yes", "-y", NULL, "Do not prompt (castor never prompts).", 0},
    {0}};
