/* cmd_dt_model.c — `castor dt model create|list|show|update|delete`, shaped like az's `az dt
 * model`.
 *
 * The instance is reached at /dt/{name} on the server (castor's data-plane prefix). create
 * reads a file, a folder or JSON text, orders the models so each batch's dependencies are
 * stored before it or travel with it, and uploads in batches of at most 250 (ADT's limit).
 * The commands join the `dt` group's table (cmd_dt.c) through CLI_DT_MODEL_COMMANDS. */
#include "cli/cmd_dt_model.h"

#include "cli/cli_models_files.h"
#include "core/limits.h"
#include "dtdl/dtdl.h"

#include <string.h>

#define DT_API_VERSION "2023-10-31"

static const char *models_base(cli_ctx_t *ctx)
{
    return cli_arena_printf(ctx, "/dt/%s/models", cli_escape(ctx, cli_arg(ctx, "--dt-name")));
}

int dt_model_create(cli_ctx_t *ctx)
{
    cli_model_source_t *src = NULL;
    size_t nsrc = 0;
    if (cli_model_sources_read(cli_arg(ctx, "--models"), &src, &nsrc, &ctx->err) < 0) {
        cli_model_sources_free(src, nsrc);
        return ctx->err.rc;
    }
    json_t *all = json_array();
    for (size_t i = 0; i < nsrc; i++)
        json_array_extend(all, src[i].set);
    cli_model_sources_free(src, nsrc);
    if (json_array_size(all) == 0) {
        json_decref(all);
        return cli_fail(ctx, CASTOR_EINVAL, "no models found in %s", cli_arg(ctx, "--models"));
    }
    json_t *batches = dtdl_upload_order(all, CASTOR_MODELS_PER_UPLOAD_MAX);
    json_decref(all);
    const char *url = cli_arena_printf(ctx, "%s?api-version=%s", models_base(ctx), DT_API_VERSION);
    json_t *created = json_array();
    int rc = 0;
    for (size_t b = 0; rc == 0 && b < json_array_size(batches); b++) {
        json_t *out = cli_call(ctx, "POST", url, CLI_RESOURCE_ADT, json_array_get(batches, b));
        if (!out) {
            rc = ctx->err.rc ? ctx->err.rc : CASTOR_EIO;
            if (json_array_size(batches) > 1)
                castor_err_prefix(&ctx->err, "batch %zu of %zu (%zu models uploaded before it)",
                                  b + 1, json_array_size(batches), json_array_size(created));
            break;
        }
        json_array_extend(created, out);
        json_decref(out);
    }
    json_decref(batches);
    if (rc < 0) {
        json_decref(created);
        return rc;
    }
    return cli_result(ctx, created);
}

int dt_model_list(cli_ctx_t *ctx)
{
    const char *url =
        cli_arena_printf(ctx, "%s?api-version=%s%s", models_base(ctx), DT_API_VERSION,
                         cli_arg_bool(ctx, "--definition") ? "&includeModelDefinition=true" : "");
    const char **deps = NULL;
    int ndeps = cli_arg_list(ctx, "--dependencies-for", &deps);
    for (int i = 0; i < ndeps; i++)
        url = cli_arena_printf(ctx, "%s&dependenciesFor=%s", url, cli_escape(ctx, deps[i]));
    json_t *all = cli_get_all(ctx, url, CLI_RESOURCE_ADT);
    return cli_result_answer(ctx, all);
}

static const char *model_url(cli_ctx_t *ctx, const char *query)
{
    return cli_arena_printf(ctx, "%s/%s?api-version=%s%s", models_base(ctx),
                            cli_escape(ctx, cli_arg(ctx, "--dtmi")), DT_API_VERSION, query);
}

int dt_model_show(cli_ctx_t *ctx)
{
    json_t *m = cli_call(
        ctx, "GET",
        model_url(ctx, cli_arg_bool(ctx, "--definition") ? "&includeModelDefinition=true" : ""),
        CLI_RESOURCE_ADT, NULL);
    return cli_result_answer(ctx, m);
}

int dt_model_update(cli_ctx_t *ctx)
{
    if (!cli_arg_bool(ctx, "--decommission"))
        return cli_usage(ctx, "nothing to update: the only change a model takes is "
                              "--decommission");
    json_t *patch =
        json_pack("[{s:s, s:s, s:b}]", "op", "replace", "path", "/decommissioned", "value", 1);
    json_t *r = cli_call(ctx, "PATCH", model_url(ctx, ""), CLI_RESOURCE_ADT, patch);
    json_decref(patch);
    if (!r) return ctx->err.rc;
    json_decref(r);
    /* az answers with the model as it now is. */
    json_t *m = cli_call(ctx, "GET", model_url(ctx, ""), CLI_RESOURCE_ADT, NULL);
    return cli_result_answer(ctx, m);
}

int dt_model_delete(cli_ctx_t *ctx)
{
    json_t *r = cli_call(ctx, "DELETE", model_url(ctx, ""), CLI_RESOURCE_ADT, NULL);
    if (!r) return ctx->err.rc;
    json_decref(r);
    return cli_result(ctx, NULL);
}

#define DTMI                                                                                       \
    {                                                                                              \
        "--dtmi", "-m", "DTMI", "The model id, e.g. dtmi:com:example:Room;1.", CLI_REQUIRED        \
    }

const cli_flag_t dt_model_create_flags[] = {
    CLI_FLAG_DT_NAME,
    {"--models", NULL, "FILE|DIR|JSON",
     "A DTDL file, a folder (every *.json under it) or inline JSON; uploaded in dependency "
     "order, 250 models per request.",
     CLI_REQUIRED},
    {0}};
const cli_flag_t dt_model_list_flags[] = {
    CLI_FLAG_DT_NAME,
    {"--definition", NULL, NULL, "Include each model's DTDL definition.", 0},
    {"--dependencies-for", NULL, "DTMI",
     "Only these models and every model they depend on (extends, components).", CLI_MULTI},
    {0}};
const cli_flag_t dt_model_show_flags[] = {
    CLI_FLAG_DT_NAME, DTMI, {"--definition", NULL, NULL, "Include the DTDL definition.", 0}, {0}};
const cli_flag_t dt_model_update_flags[] = {
    CLI_FLAG_DT_NAME,
    DTMI,
    {"--decommission", NULL, NULL, "Decommission the model (no new twins may use it).", 0},
    {0}};
const cli_flag_t dt_model_delete_flags[] = {CLI_FLAG_DT_NAME, DTMI, {0}};
