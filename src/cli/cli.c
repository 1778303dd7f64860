/* cli.c — command selection, flag parsing and help for the az-shaped client (see cli.h).
 *
 * Invariant: everything a command allocates outside jansson lives in ctx->arena, and
 * cli_run frees it, the result and the curl handle on every path out. */
#include "cli/cli.h"

#include "cli/cli_internal.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CLI_ARENA_MAX (64u * 1024u * 1024u) /* responses are capped well below this */
#define CLI_WORDS_MAX 8

static const cli_flag_t global_flags[] = {
    {"--output", "-o", "FORMAT", "Output format: json (default), jsonc, table, tsv, none.", 0},
    {"--server", NULL, "URL",
     "The castor server, e.g. https://localhost:8443 (default: CASTOR_URL, then "
     "~/.castor/config.json, then ./castor-data/connection.json).",
     0},
    {"--ca-file", NULL, "FILE",
     "PEM file of the CA that signed the server's certificate (default: CASTOR_CA_FILE, "
     "then the one `castor login` saved, then connection.json's caFile).",
     0},
    {"--debug", NULL, NULL, "Print every HTTP request and response on stderr (secrets redacted).",
     0},
    {"--help", "-h", NULL, "Show this help message and exit.", 0},
    {0}};

static const char top_usage[] =
    "usage: castor <command> [<subcommand>...] [--flag VALUE...]\n"
    "\n"
    "castor: an Azure-Digital-Twins-compatible server (`castor serve`) and its az-shaped\n"
    "client (every other command). `castor <command> --help` describes each one.\n"
    "\n"
    "Server:\n"
    "    serve          : Run the server (castor serve --help).\n"
    "    version        : Print the version.\n"
    "\n"
    "Client commands:\n";

/* --- small helpers --------------------------------------------------------------------- */

char *cli_arena_printf(cli_ctx_t *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? arena_alloc(&ctx->arena, (size_t)n + 1) : NULL;
    if (s) vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}

char *cli_arena_strdup(cli_ctx_t *ctx, const char *s)
{
    return arena_strdup(&ctx->arena, s);
}

int cli_fail(cli_ctx_t *ctx, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    castor_err_clear(&ctx->err);
    vsnprintf(ctx->err.message, sizeof ctx->err.message, fmt, ap);
    va_end(ap);
    ctx->err.rc = rc < 0 ? rc : CASTOR_EINVAL;
    return ctx->err.rc;
}

int cli_usage(cli_ctx_t *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    castor_err_clear(&ctx->err);
    vsnprintf(ctx->err.message, sizeof ctx->err.message, fmt, ap);
    va_end(ap);
    ctx->err.rc = CLI_EUSAGE;
    return CLI_EUSAGE;
}

void cli_warn(cli_ctx_t *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("WARNING: ", ctx->errout);
    vfprintf(ctx->errout, fmt, ap);
    fputc('\n', ctx->errout);
    va_end(ap);
}

int cli_result(cli_ctx_t *ctx, json_t *value)
{
    json_decref(ctx->result);
    ctx->result = value;
    return 0;
}

int cli_result_answer(cli_ctx_t *ctx, json_t *answer)
{
    if (!answer) return ctx->err.rc ? ctx->err.rc : CASTOR_EIO;
    if (json_is_null(answer)) {
        json_decref(answer);
        answer = NULL;
    }
    return cli_result(ctx, answer);
}

/* --- flags ----------------------------------------------------------------------------- */

static size_t flag_count(const cli_flag_t *f)
{
    size_t n = 0;
    while (f && f[n].name)
        n++;
    return n;
}

/* Index into ctx->values of a flag: command flags first, then the globals; -1 if unknown. */
static int flag_index(const cli_command_t *cmd, const char *name, int is_short)
{
    size_t nc = flag_count(cmd->flags);
    for (size_t i = 0; i < nc; i++) {
        const char *n = is_short ? cmd->flags[i].short_name : cmd->flags[i].name;
        if (n && strcmp(n, name) == 0) return (int)i;
    }
    for (size_t i = 0; global_flags[i].name; i++) {
        const char *n = is_short ? global_flags[i].short_name : global_flags[i].name;
        if (n && strcmp(n, name) == 0) return (int)(nc + i);
    }
    return -1;
}

static const cli_flag_t *flag_at(const cli_command_t *cmd, int idx)
{
    size_t nc = flag_count(cmd->flags);
    return (size_t)idx < nc ? &cmd->flags[idx] : &global_flags[(size_t)idx - nc];
}

/* values[i] holds a NULL-terminated array of the values given for flag i (NULL = absent). */
const char *cli_arg(cli_ctx_t *ctx, const char *name)
{
    int i = flag_index(ctx->cmd, name, 0);
    if (i < 0 || !ctx->values[i]) return NULL;
    const char **v = (const char **)ctx->values[i];
    return v[0];
}

int cli_arg_bool(cli_ctx_t *ctx, const char *name)
{
    const char *v = cli_arg(ctx, name);
    return v && strcmp(v, "false") != 0;
}

int cli_arg_list(cli_ctx_t *ctx, const char *name, const char ***values)
{
    int i = flag_index(ctx->cmd, name, 0);
    *values = NULL;
    if (i < 0 || !ctx->values[i]) return 0;
    *values = (const char **)ctx->values[i];
    return ctx->counts[i];
}

json_t *cli_arg_json(cli_ctx_t *ctx, const char *name)
{
    const char *v = cli_arg(ctx, name);
    if (!v) return NULL;
    json_error_t jerr;
    json_t *j = v[0] == '@' ? json_load_file(v + 1, JSON_DECODE_ANY, &jerr)
                            : json_loads(v, JSON_DECODE_ANY, &jerr);
    if (!j)
        cli_fail(ctx, CASTOR_EINVAL, "argument %s: not valid JSON%s%s: %s (line %d, column %d)",
                 name, v[0] == '@' ? " in " : "", v[0] == '@' ? v + 1 : "", jerr.text, jerr.line,
                 jerr.column);
    return j;
}

/* The index of the command's CLI_POSITIONAL flag, or -1. */
static int positional_index(const cli_command_t *cmd)
{
    for (size_t i = 0; cmd->flags && cmd->flags[i].name; i++)
        if (cmd->flags[i].props & CLI_POSITIONAL) return (int)i;
    return -1;
}

/* Parses argv[0..argc) (the part after the command words) into ctx->values. */
static int parse_flags(cli_ctx_t *ctx, const char *cmdline)
{
    const cli_command_t *cmd = ctx->cmd;
    size_t total = flag_count(cmd->flags) + flag_count(global_flags);
    ctx->values = arena_calloc(&ctx->arena, total, sizeof *ctx->values);
    ctx->counts = arena_calloc(&ctx->arena, total, sizeof *ctx->counts);
    if (!ctx->values || !ctx->counts) return cli_fail(ctx, CASTOR_ENOMEM, "out of memory");
    for (int i = 0; i < ctx->argc; i++) {
        const char *arg = ctx->argv[i];
        int idx = -1;
        bool bare = false;
        const char *inline_value = NULL;
        if (strncmp(arg, "--", 2) == 0 && arg[2]) {
            const char *eq = strchr(arg, '=');
            char *name = eq ? arena_strndup(&ctx->arena, arg, (size_t)(eq - arg))
                            : arena_strdup(&ctx->arena, arg);
            if (!name) return cli_fail(ctx, CASTOR_ENOMEM, "out of memory");
            idx = flag_index(cmd, name, 0);
            /* A flag's second name may itself be long (--tst for --telemetry-source-time). */
            if (idx < 0) idx = flag_index(cmd, name, 1);
            if (eq) inline_value = eq + 1;
        } else if (arg[0] == '-' && arg[1] && !arg[2]) {
            idx = flag_index(cmd, arg, 1);
        } else if ((idx = positional_index(cmd)) >= 0) {
            bare = true; /* this word is itself the first value */
        } else {
            return cli_usage(ctx, "unrecognized argument '%s'. See 'castor %s --help'.", arg,
                             cmdline);
        }
        if (idx < 0)
            return cli_usage(ctx, "unrecognized argument '%s'. See 'castor %s --help'.", arg,
                             cmdline);
        const cli_flag_t *f = flag_at(cmd, idx);
        const char **vals;
        int n = 0;
        if (!f->metavar) { /* a switch */
            if (inline_value && strcmp(inline_value, "true") != 0 &&
                strcmp(inline_value, "false") != 0)
                return cli_usage(ctx, "argument %s: takes no value, or =true / =false", f->name);
            vals = arena_calloc(&ctx->arena, 2, sizeof *vals);
            if (!vals) return cli_fail(ctx, CASTOR_ENOMEM, "out of memory");
            vals[0] = inline_value ? inline_value : "true";
            n = 1;
        } else if (f->props & CLI_MULTI) {
            vals = arena_calloc(&ctx->arena, (size_t)ctx->argc + 1, sizeof *vals);
            if (!vals) return cli_fail(ctx, CASTOR_ENOMEM, "out of memory");
            if (inline_value) vals[n++] = inline_value;
            if (bare) vals[n++] = arg;
            while (i + 1 < ctx->argc && ctx->argv[i + 1][0] != '-')
                vals[n++] = ctx->argv[++i];
            if (n == 0)
                return cli_usage(ctx, "argument %s: expected at least one argument", f->name);
            /* A positional flag's values add up: `a.json --each --models b.json` is both.
             * At most argc values in all, so the array sized argc + 1 holds them. */
            if ((f->props & CLI_POSITIONAL) && ctx->values[idx]) {
                const char **old = (const char **)ctx->values[idx];
                memmove(vals + ctx->counts[idx], vals, (size_t)n * sizeof *vals);
                memcpy(vals, old, (size_t)ctx->counts[idx] * sizeof *vals);
                n += ctx->counts[idx];
            }
        } else {
            vals = arena_calloc(&ctx->arena, 2, sizeof *vals);
            if (!vals) return cli_fail(ctx, CASTOR_ENOMEM, "out of memory");
            if (inline_value)
                vals[0] = inline_value;
            else if (i + 1 < ctx->argc)
                vals[0] = ctx->argv[++i];
            else
                return cli_usage(ctx, "argument %s: expected one argument (%s)", f->name,
                                 f->metavar);
            n = 1;
        }
        ctx->values[idx] = (const char *)vals;
        ctx->counts[idx] = n;
    }
    return 0;
}

/* --- command tree ---------------------------------------------------------------------- */

static int path_has_prefix(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == ' ');
}

static const cli_group_t *group_find(const cli_group_t *const *groups, const char *name)
{
    for (size_t i = 0; groups[i]; i++)
        if (strcmp(groups[i]->name, name) == 0) return groups[i];
    return NULL;
}

static const cli_command_t *command_find(const cli_group_t *g, const char *path)
{
    for (const cli_command_t *c = g->commands; c && c->path; c++)
        if (strcmp(c->path, path) == 0) return c;
    return NULL;
}

static int level_exists(const cli_group_t *g, const char *path)
{
    for (const cli_command_t *c = g->commands; c && c->path; c++)
        if (path_has_prefix(c->path, path)) return 1;
    return 0;
}

static const char *topic_summary(const cli_group_t *g, const char *path)
{
    for (const cli_topic_t *t = g->topics; t && t->path; t++)
        if (strcmp(t->path, path) == 0) return t->summary;
    const cli_command_t *c = command_find(g, path);
    return c ? c->summary : "";
}

/* --- help ------------------------------------------------------------------------------ */

static void help_level(FILE *f, const cli_group_t *g, const char *path)
{
    fprintf(f, "Group\n    castor %s : %s\n", path, topic_summary(g, path));
    size_t plen = strlen(path);
    for (int pass = 0; pass < 2; pass++) { /* subgroups first, then commands, like az */
        int printed = 0;
        const char *seen[128];
        size_t nseen = 0;
        for (const cli_command_t *c = g->commands; c && c->path; c++) {
            if (!path_has_prefix(c->path, path) || c->path[plen] != ' ') continue;
            const char *word = c->path + plen + 1;
            size_t wlen = strcspn(word, " ");
            int is_command = word[wlen] == '\0';
            if (is_command != pass) continue;
            int dup = 0;
            for (size_t k = 0; k < nseen; k++)
                if (strncmp(seen[k], word, wlen) == 0 && (seen[k][wlen] == ' ' || !seen[k][wlen]))
                    dup = 1;
            if (dup) continue;
            if (nseen < 128) seen[nseen++] = word;
            if (!printed) fputs(pass ? "\nCommands:\n" : "\nSubgroups:\n", f);
            printed = 1;
            char sub[1024];
            int sn = snprintf(sub, sizeof sub, "%s %.*s", path, (int)wlen, word);
            if (sn < 0 || (size_t)sn >= sizeof sub) continue; /* no command path is that long */
            fprintf(f, "    %-22.*s : %s\n", (int)wlen, word, topic_summary(g, sub));
        }
    }
    fprintf(f, "\nRun 'castor %s <command> --help' for a command's arguments.\n", path);
}

static void flag_left(const cli_flag_t *fl, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s%s%s", fl->name, fl->short_name ? " " : "",
             fl->short_name ? fl->short_name : "", fl->metavar ? " " : "",
             fl->metavar ? fl->metavar : "");
}

static void help_flags(FILE *f, const cli_flag_t *flags)
{
    size_t width = 0;
    char left[160];
    for (size_t i = 0; flags && flags[i].name; i++) {
        flag_left(&flags[i], left, sizeof left);
        if (strlen(left) > width) width = strlen(left);
    }
    for (size_t i = 0; flags && flags[i].name; i++) {
        flag_left(&flags[i], left, sizeof left);
        fprintf(f, "    %-*s %s: %s\n", (int)width, left,
                (flags[i].props & CLI_REQUIRED) ? "[Required] " : "", flags[i].help);
    }
}

static void help_command(FILE *f, const cli_command_t *c)
{
    fprintf(f, "Command\n    castor %s : %s\n", c->path, c->summary);
    if (c->flags && c->flags[0].name) {
        fputs("\nArguments\n", f);
        help_flags(f, c->flags);
    }
    fputs("\nGlobal Arguments\n", f);
    help_flags(f, global_flags);
    if (c->example) fprintf(f, "\nExamples\n    %s\n", c->example);
}

static void help_top(FILE *f, const cli_group_t *const *groups)
{
    fputs(top_usage, f);
    for (size_t i = 0; groups[i]; i++)
        fprintf(f, "    %-14s : %s\n", groups[i]->name, topic_summary(groups[i], groups[i]->name));
    fputs(
        "\nGlobal flags on every client command: --output/-o json|jsonc|table|tsv|none, --debug,\n"
        "--server URL, --ca-file FILE, --help/-h.\n",
        f);
}

/* --- run ------------------------------------------------------------------------------- */

static int is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

static int run_command(cli_ctx_t *ctx, const char *cmdline)
{
    int rc = parse_flags(ctx, cmdline);
    if (rc < 0) return rc;
    if (cli_arg(ctx, "--help")) {
        help_command(ctx->out, ctx->cmd);
        return 0;
    }
    for (const cli_flag_t *fl = ctx->cmd->flags; fl && fl->name; fl++)
        if ((fl->props & CLI_REQUIRED) && !cli_arg(ctx, fl->name))
            return cli_usage(ctx,
                             "the following arguments are required: %s%s%s%s. See 'castor %s "
                             "--help'.",
                             fl->name, (fl->props & CLI_POSITIONAL) ? " (or " : "",
                             (fl->props & CLI_POSITIONAL) ? fl->metavar : "",
                             (fl->props & CLI_POSITIONAL) ? " without the flag)" : "", cmdline);
    const char *o = cli_arg(ctx, "--output");
    if (o) {
        int fmt = cli_output_parse(o);
        if (fmt < 0)
            return cli_usage(ctx,
                             "argument --output/-o: invalid choice: '%s' (choose from 'json', "
                             "'jsonc', 'none', 'table', 'tsv')",
                             o);
        ctx->output = (cli_output_t)fmt;
    }
    ctx->debug = cli_arg_bool(ctx, "--debug");
    rc = ctx->cmd->run(ctx);
    if (rc < 0 && ctx->err.rc == 0) ctx->err.rc = rc; /* a handler that forgot the message */
    if (rc < 0 && !ctx->err.message[0])
        snprintf(ctx->err.message, sizeof ctx->err.message, "the command failed (%s)",
                 castor_rc_name(rc));
    if (rc == 0 && ctx->result && ctx->output != CLI_OUT_NONE)
        cli_format(ctx->out, ctx->result, ctx->output, ctx->cmd->table);
    return rc;
}

int cli_run(const cli_group_t *const *groups, int argc, char **argv, FILE *out, FILE *errout)
{
    if (argc < 2 || is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        help_top(argc < 2 ? errout : out, groups);
        return argc < 2 ? 2 : 0;
    }
    const cli_group_t *g = group_find(groups, argv[1]);
    if (!g) {
        fprintf(errout, "castor: '%s' is not a castor command. See 'castor --help'.\n", argv[1]);
        return 2;
    }
    int nwords = 0;
    while (1 + nwords < argc && argv[1 + nwords][0] != '-' && nwords < CLI_WORDS_MAX)
        nwords++;
    /* The longest run of words that names a command wins. */
    char path[512] = "";
    const cli_command_t *cmd = NULL;
    int used = 0;
    for (int k = nwords; k >= 1 && !cmd; k--) {
        path[0] = '\0';
        for (int w = 0; w < k; w++) {
            if (w) strncat(path, " ", sizeof path - strlen(path) - 1);
            strncat(path, argv[1 + w], sizeof path - strlen(path) - 1);
        }
        cmd = command_find(g, path);
        if (cmd) used = k;
    }
    if (!cmd) {
        /* A level (group or subgroup): show its help, or say which word is not known. */
        char level[512] = "";
        int k = 0;
        for (; k < nwords; k++) {
            char next[512];
            int nn = snprintf(next, sizeof next, "%s%s%s", level, k ? " " : "", argv[1 + k]);
            /* Words too long to be a level are not one: said below like any unknown word. */
            if (nn < 0 || (size_t)nn >= sizeof next || !level_exists(g, next)) break;
            snprintf(level, sizeof level, "%s", next);
        }
        if (k < nwords) {
            fprintf(errout,
                    "castor %s: '%s' is not in the 'castor %s' command group. See 'castor %s "
                    "--help'.\n",
                    level, argv[1 + k], level, level);
            return 2;
        }
        int want_help = 1 + nwords < argc && is_help(argv[1 + nwords]);
        if (!want_help && 1 + nwords < argc) {
            fprintf(errout, "castor %s: a command is needed before '%s'. See 'castor %s --help'.\n",
                    level, argv[1 + nwords], level);
            return 2;
        }
        help_level(out, g, level);
        return 0;
    }
    if (used < nwords && positional_index(cmd) < 0) {
        fprintf(errout, "castor %s: unrecognized argument '%s'. See 'castor %s --help'.\n", path,
                argv[1 + used], path);
        return 2;
    }

    cli_ctx_t ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.cmd = cmd;
    ctx.out = out;
    ctx.errout = errout;
    ctx.argc = argc - 1 - used;
    ctx.argv = argv + 1 + used;
    arena_init(&ctx.arena, CLI_ARENA_MAX);
    castor_err_clear(&ctx.err);
    int rc = run_command(&ctx, path);
    int code = 0;
    if (rc < 0) {
        if (rc == CLI_EUSAGE) {
            fprintf(errout, "castor %s: %s\n", path, ctx.err.message);
            code = 2;
        } else {
            fprintf(errout, "ERROR: %s\n", ctx.err.message);
            code = 1;
        }
    }
    fflush(out);
    json_decref(ctx.result);
    cli_http_cleanup(&ctx);
    arena_free(&ctx.arena);
    return code;
}

int cli_main(int argc, char **argv)
{
    return cli_run(cli_groups, argc, argv, stdout, stderr);
}
