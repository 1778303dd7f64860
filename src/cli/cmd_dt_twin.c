/* cmd_dt_twin.c — `castor dt twin create|show|update|delete|list`, `dt twin relationship …`,
 * `dt twin component show|update` and `dt twin telemetry send`, shaped like az's `az dt twin`
 * (flags -n, -t/--twin-id, -m/--dtmi, -p/--properties, --json-patch, --etag, --if-none-match,
 * -r/--relationship-id, --target, --kind, --incoming). The instance is reached at /dt/{name}.
 * The commands join the `dt` group's table (cmd_dt.c) through CLI_DT_TWIN_COMMANDS. */
#include "cli/cmd_dt_twin.h"

#include <stdio.h>
#include <string.h>

#define DT_API_VERSION "2023-10-31"

static const char *dt_url(cli_ctx_t *ctx, const char *fmt_path)
{
    return cli_arena_printf(ctx, "/dt/%s%s%sapi-version=" DT_API_VERSION,
                            cli_escape(ctx, cli_arg(ctx, "--dt-name")), fmt_path,
                            strchr(fmt_path, '?') ? "&" : "?");
}

static const char *twin_path(cli_ctx_t *ctx, const char *suffix)
{
    return cli_arena_printf(ctx, "/digitaltwins/%s%s", cli_escape(ctx, cli_arg(ctx, "--twin-id")),
                            suffix ? suffix : "");
}

/* --json-patch as an array of operations (az accepts one operation as an object). */
static json_t *patch_arg(cli_ctx_t *ctx)
{
    json_t *patch = cli_arg_json(ctx, "--json-patch");
    if (!patch) {
        if (!ctx->err.rc) cli_usage(ctx, "--json-patch is required");
        return NULL;
    }
    if (json_is_object(patch)) {
        json_t *a = json_array();
        json_array_append_new(a, patch);
        patch = a;
    }
    return patch;
}

/* A request with extra headers (If-Match / If-None-Match / Message-Id). Returns the body on
 * 2xx (json null when empty), else NULL with ctx->err filled. */
static json_t *call_h(cli_ctx_t *ctx, const char *method, const char *url, const json_t *body,
                      const char *const *headers)
{
    cli_http_req_t req = {.method = method,
                          .url = url,
                          .resource = CLI_RESOURCE_ADT,
                          .json = body,
                          .headers = headers};
    return cli_call_req(ctx, &req, NULL);
}

static const char *if_match(cli_ctx_t *ctx)
{
    const char *e = cli_arg(ctx, "--etag");
    return e ? cli_arena_printf(ctx, "If-Match: %s", e) : NULL;
}

/* GET of the twin after a write that answers 204, so update prints the twin as az does. */
static int show_after(cli_ctx_t *ctx, json_t *out, const char *path)
{
    if (!out) return ctx->err.rc ? ctx->err.rc : CASTOR_EIO;
    json_decref(out);
    return cli_result_answer(ctx, cli_call(ctx, "GET", dt_url(ctx, path), CLI_RESOURCE_ADT, NULL));
}

/* ---- twins ---- */

int dt_twin_create(cli_ctx_t *ctx)
{
    json_t *props = cli_arg_json(ctx, "--properties");
    if (cli_arg(ctx, "--properties") && !props) return ctx->err.rc;
    json_t *body = props && json_is_object(props) ? json_incref(props) : json_object();
    json_decref(props);
    json_object_set_new(body, "$dtId", json_string(cli_arg(ctx, "--twin-id")));
    json_t *md = json_object_get(body, "$metadata");
    if (!json_is_object(md)) {
        md = json_object();
        json_object_set_new(body, "$metadata", md);
    }
    json_object_set_new(md, "$model", json_string(cli_arg(ctx, "--dtmi")));
    const char *h[] = {cli_arg_bool(ctx, "--if-none-match") ? "If-None-Match: *" : NULL, NULL};
    json_t *out = call_h(ctx, "PUT", dt_url(ctx, twin_path(ctx, NULL)), body, h);
    json_decref(body);
    return cli_result_answer(ctx, out);
}

int dt_twin_show(cli_ctx_t *ctx)
{
    return cli_result_answer(
        ctx, cli_call(ctx, "GET", dt_url(ctx, twin_path(ctx, NULL)), CLI_RESOURCE_ADT, NULL));
}

int dt_twin_update(cli_ctx_t *ctx)
{
    json_t *patch = patch_arg(ctx);
    if (!patch) return ctx->err.rc;
    const char *h[] = {if_match(ctx), NULL};
    json_t *out = call_h(ctx, "PATCH", dt_url(ctx, twin_path(ctx, NULL)), patch, h);
    json_decref(patch);
    return show_after(ctx, out, twin_path(ctx, NULL));
}

int dt_twin_delete(cli_ctx_t *ctx)
{
    const char *h[] = {if_match(ctx), NULL};
    return cli_result_answer(ctx,
                             call_h(ctx, "DELETE", dt_url(ctx, twin_path(ctx, NULL)), NULL, h));
}

/* Every twin, through POST /query (continuationToken paging), as az dt twin query does; until
 * the query module is merged the server answers 501 and the command prints that. */
int dt_twin_list(cli_ctx_t *ctx)
{
    json_t *q = json_pack("{s:s}", "query", "SELECT * FROM DIGITALTWINS");
    cli_http_req_t req = {
        .method = "POST", .url = dt_url(ctx, "/query"), .resource = CLI_RESOURCE_ADT, .json = q};
    json_t *all = cli_list_all(ctx, &req, NULL);
    json_decref(q);
    return cli_result_answer(ctx, all);
}

/* ---- relationships ---- */

static const char *rel_path(cli_ctx_t *ctx)
{
    return twin_path(ctx, cli_arena_printf(ctx, "/relationships/%s",
                                           cli_escape(ctx, cli_arg(ctx, "--relationship-id"))));
}

int dt_rel_create(cli_ctx_t *ctx)
{
    json_t *props = cli_arg_json(ctx, "--properties");
    if (cli_arg(ctx, "--properties") && !props) return ctx->err.rc;
    json_t *body = props && json_is_object(props) ? json_incref(props) : json_object();
    json_decref(props);
    json_object_set_new(body, "$targetId", json_string(cli_arg(ctx, "--target")));
    json_object_set_new(body, "$relationshipName", json_string(cli_arg(ctx, "--kind")));
    const char *h[] = {cli_arg_bool(ctx, "--if-none-match") ? "If-None-Match: *" : NULL, NULL};
    json_t *out = call_h(ctx, "PUT", dt_url(ctx, rel_path(ctx)), body, h);
    json_decref(body);
    return cli_result_answer(ctx, out);
}

int dt_rel_show(cli_ctx_t *ctx)
{
    return cli_result_answer(
        ctx, cli_call(ctx, "GET", dt_url(ctx, rel_path(ctx)), CLI_RESOURCE_ADT, NULL));
}

int dt_rel_update(cli_ctx_t *ctx)
{
    json_t *patch = patch_arg(ctx);
    if (!patch) return ctx->err.rc;
    const char *h[] = {if_match(ctx), NULL};
    json_t *out = call_h(ctx, "PATCH", dt_url(ctx, rel_path(ctx)), patch, h);
    json_decref(patch);
    return show_after(ctx, out, rel_path(ctx));
}

int dt_rel_delete(cli_ctx_t *ctx)
{
    const char *h[] = {if_match(ctx), NULL};
    return cli_result_answer(ctx, call_h(ctx, "DELETE", dt_url(ctx, rel_path(ctx)), NULL, h));
}

/* Every page, following the server's absolute nextLink. */
int dt_rel_list(cli_ctx_t *ctx)
{
    const char *kind = cli_arg(ctx, "--kind");
    const char *path =
        cli_arg_bool(ctx, "--incoming")
            ? twin_path(ctx, "/incomingrelationships")
            : twin_path(ctx, kind ? cli_arena_printf(ctx, "/relationships?relationshipName=%s",
                                                     cli_escape(ctx, kind))
                                  : "/relationships");
    json_t *all = cli_get_all(ctx, dt_url(ctx, path), CLI_RESOURCE_ADT);
    return cli_result_answer(ctx, all);
}

/* ---- components and telemetry ---- */

static const char *component_path(cli_ctx_t *ctx, const char *suffix)
{
    return twin_path(ctx, cli_arena_printf(ctx, "/components/%s%s",
                                           cli_escape(ctx, cli_arg(ctx, "--component")),
                                           suffix ? suffix : ""));
}

int dt_component_show(cli_ctx_t *ctx)
{
    return cli_result_answer(
        ctx, cli_call(ctx, "GET", dt_url(ctx, component_path(ctx, NULL)), CLI_RESOURCE_ADT, NULL));
}

int dt_component_update(cli_ctx_t *ctx)
{
    json_t *patch = patch_arg(ctx);
    if (!patch) return ctx->err.rc;
    const char *h[] = {if_match(ctx), NULL};
    json_t *out = call_h(ctx, "PATCH", dt_url(ctx, component_path(ctx, NULL)), patch, h);
    json_decref(patch);
    return show_after(ctx, out, component_path(ctx, NULL));
}

int dt_telemetry_send(cli_ctx_t *ctx)
{
    json_t *data = cli_arg_json(ctx, "--telemetry");
    if (cli_arg(ctx, "--telemetry") && !data) return ctx->err.rc;
    if (!data) data = json_object();
    char guid[40];
    const char *mid = cli_arg(ctx, "--message-id");
    if (!mid) {
        /* az generates one when none is given. */
        FILE *f = fopen("/proc/sys/kernel/random/uuid", "r");
        if (!f || !fgets(guid, sizeof guid, f)) snprintf(guid, sizeof guid, "castor-cli");
        if (f) fclose(f);
        guid[strcspn(guid, "\n")] = '\0';
        mid = guid;
    }
    const char *st = cli_arg(ctx, "--telemetry-source-time");
    const char *h[] = {cli_arena_printf(ctx, "Message-Id: %s", mid),
                       st ? cli_arena_printf(ctx, "Telemetry-Source-Time: %s", st) : NULL, NULL};
    const char *path = cli_arg(ctx, "--component") ? component_path(ctx, "/telemetry")
                                                   : twin_path(ctx, "/telemetry");
    json_t *out = call_h(ctx, "POST", dt_url(ctx, path), data, h);
    json_decref(data);
    return cli_result_answer(ctx, out);
}

#define TWIN_ID                                                                                    \
    {                                                                                              \
        "--twin-id", "-t", "ID", "The digital twin id.", CLI_REQUIRED                              \
    }
#define ETAG                                                                                       \
    {                                                                                              \
        "--etag", "-e", "ETAG", "Act only if the entity still has this ETag (If-Match).", 0        \
    }
#define PATCH                                                                                      \
    {                                                                                              \
        "--json-patch", "--patch", "JSON", "JSON Patch operations (inline or @file).",             \
            CLI_REQUIRED                                                                           \
    }
#define REL_ID                                                                                     \
    {                                                                                              \
        "--relationship-id", "-r", "ID", "The relationship id.", CLI_REQUIRED                      \
    }
#define COMPONENT                                                                                  \
    {                                                                                              \
        "--component", NULL, "NAME", "The component name.", CLI_REQUIRED                           \
    }
#define IF_NONE                                                                                    \
    {                                                                                              \
        "--if-none-match", NULL, NULL, "Only create: fail if it exists already.", 0                \
    }

const cli_flag_t dt_twin_create_flags[] = {
    CLI_FLAG_DT_NAME,
    TWIN_ID,
    {"--dtmi", "-m", "DTMI", "The twin's model id.", CLI_REQUIRED},
    {"--properties", "-p", "JSON", "Initial property values (inline or @file).", 0},
    IF_NONE,
    {0}};
const cli_flag_t dt_twin_show_flags[] = {CLI_FLAG_DT_NAME, TWIN_ID, {0}};
const cli_flag_t dt_twin_update_flags[] = {CLI_FLAG_DT_NAME, TWIN_ID, PATCH, ETAG, {0}};
const cli_flag_t dt_twin_delete_flags[] = {CLI_FLAG_DT_NAME, TWIN_ID, ETAG, {0}};
const cli_flag_t dt_twin_list_flags[] = {CLI_FLAG_DT_NAME, {0}};
const cli_flag_t dt_rel_create_flags[] = {
    CLI_FLAG_DT_NAME,
    TWIN_ID,
    REL_ID,
    {"--target", NULL, "ID", "The target twin id.", CLI_REQUIRED},
    {"--kind", "--relationship", "NAME", "The relationship name in the source's model.",
     CLI_REQUIRED},
    {"--properties", "-p", "JSON", "Relationship property values (inline or @file).", 0},
    IF_NONE,
    {0}};
const cli_flag_t dt_rel_show_flags[] = {CLI_FLAG_DT_NAME, TWIN_ID, REL_ID, {0}};
const cli_flag_t dt_rel_update_flags[] = {CLI_FLAG_DT_NAME, TWIN_ID, REL_ID, PATCH, ETAG, {0}};
const cli_flag_t dt_rel_delete_flags[] = {CLI_FLAG_DT_NAME, TWIN_ID, REL_ID, ETAG, {0}};
const cli_flag_t dt_rel_list_flags[] = {
    CLI_FLAG_DT_NAME,
    TWIN_ID,
    {"--kind", "--relationship", "NAME", "Only relationships of this name.", 0},
    {"--incoming", NULL, NULL, "List the relationships pointing at the twin.", 0},
    {0}};
const cli_flag_t dt_component_show_flags[] = {CLI_FLAG_DT_NAME, TWIN_ID, COMPONENT, {0}};
const cli_flag_t dt_component_update_flags[] = {
    CLI_FLAG_DT_NAME, TWIN_ID, COMPONENT, PATCH, ETAG, {0}};
const cli_flag_t dt_telemetry_send_flags[] = {
    CLI_FLAG_DT_NAME,
    TWIN_ID,
    {"--component", NULL, "NAME", "Send as this component's telemetry.", 0},
    {"--telemetry", NULL, "JSON", "The telemetry (inline or @file); default {}.", 0},
    {"--message-id", "--mid", "ID", "The message id (default: a new GUID).", 0},
    {"--telemetry-source-time", "--tst", "TIME", "When it was observed (RFC 3339).", 0},
    {0}};
