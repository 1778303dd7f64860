/* cmd_dtdl.c — `castor dtdl validate`: the server's own DTDL parser run offline on files, a
 * folder or JSON text, with no server and no sign-in.
 *
 * Sources come with --models or positionally (`castor dtdl validate a.json models/`); both
 * add up. By default every model found is one set (as one upload would be: references
 * resolve across files). --each validates every file on its own, printing one verdict per
 * file (the differential test against the official parser uses it). Exit 1 when any set is
 * invalid. */
#include "cli/cli.h"

#include "cli/cli_models_files.h"
#include "dtdl/dtdl.h"

#include <string.h>

static json_t *verdict(const char *name, const json_t *set)
{
    dtdl_graph_t *g = NULL;
    dtdl_errors_t errs;
    dtdl_errors_init(&errs);
    castor_err err;
    castor_err_clear(&err);
    int rc = dtdl_parse_batch(set, NULL, NULL, NULL, &g, &errs, &err);
    json_t *v = json_pack("{s:s, s:b, s:I}", "source", name, "valid", rc == 0, "models",
                          (json_int_t)json_array_size(set));
    if (rc == 0) {
        json_object_set_new(v, "interfaces", json_integer((json_int_t)dtdl_graph_count(g)));
    } else {
        json_t *list = json_array();
        for (size_t i = 0; i < errs.count; i++) {
            const dtdl_error_t *e = &errs.items[i];
            json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "code", e->validation_id,
                                                  "path", e->path, "message", e->message));
        }
        if (!errs.count) /* not a language error: memory, or a limit */
            json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "code", castor_rc_name(rc),
                                                  "path", err.path, "message", err.message));
        json_object_set_new(v, "errors", list);
    }
    dtdl_graph_free(g);
    dtdl_errors_free(&errs);
    return v;
}

static int dtdl_validate(cli_ctx_t *ctx)
{
    const char **args = NULL;
    int nargs = cli_arg_list(ctx, "--models", &args);
    cli_model_source_t *src = NULL;
    size_t nsrc = 0;
    for (int i = 0; i < nargs; i++)
        if (cli_model_sources_read(args[i], &src, &nsrc, &ctx->err) < 0) {
            cli_model_sources_free(src, nsrc);
            return ctx->err.rc;
        }
    json_t *out = json_array();
    int invalid = 0;
    if (cli_arg_bool(ctx, "--each")) {
        for (size_t i = 0; i < nsrc; i++) {
            json_t *v = verdict(src[i].name, src[i].set);
            invalid += !json_is_true(json_object_get(v, "valid"));
            json_array_append_new(out, v);
        }
    } else {
        json_t *all = json_array();
        for (size_t i = 0; i < nsrc; i++)
            json_array_extend(all, src[i].set);
        json_t *v = verdict(nsrc == 1 ? src[0].name : "(all files)", all);
        invalid += !json_is_true(json_object_get(v, "valid"));
        json_array_append_new(out, v);
        json_decref(all);
    }
    cli_model_sources_free(src, nsrc);
    if (!invalid) return cli_result(ctx, out);
    /* The verdicts are the output even when some are invalid, so scripts can read them. */
    cli_format(ctx->out, out, ctx->output, ctx->cmd->table);
    json_decref(out);
    return cli_fail(ctx, CASTOR_EINVAL, "%d of the model sets %s invalid", invalid,
                    invalid == 1 ? "is" : "are");
}

static const cli_flag_t validate_flags[] = {
    {"--models", NULL, "FILE|DIR|JSON",
     "DTDL files, folders (every *.json under them) or inline JSON. The flag may be left out: "
     "`castor dtdl validate FILE|DIR ...`.",
     CLI_REQUIRED | CLI_MULTI | CLI_POSITIONAL},
    {"--each", NULL, NULL, "Validate each file on its own instead of all together.", 0},
    {0}};

static const cli_command_t dtdl_commands[] = {
    {"dtdl validate", "Validate DTDL models offline, with the parser the server uses.",
     "castor dtdl validate ./ontology", validate_flags, dtdl_validate, "source,valid,models"},
    {0}};

static const cli_topic_t dtdl_topics[] = {{"dtdl", "Work with DTDL models offline."}, {0}};

const cli_group_t cli_group_dtdl = {"dtdl", dtdl_topics, dtdl_commands};
