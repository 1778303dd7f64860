/* test_cli_args.c — command selection, flag parsing, usage errors and generated help of the
 * client framework, on a test command table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static char seen[1024];

static int t_show(cli_ctx_t *ctx)
{
    const char **list;
    int n = cli_arg_list(ctx, "--perms", &list);
    snprintf(seen, sizeof seen, "show name=%s sw=%d n=%d first=%s out=%d",
             cli_arg(ctx, "--name") ? cli_arg(ctx, "--name") : "-", cli_arg_bool(ctx, "--switch"),
             n, n ? list[0] : "-", (int)ctx->output);
    for (int i = 1; i < n; i++) {
        strncat(seen, ",", sizeof seen - strlen(seen) - 1);
        strncat(seen, list[i], sizeof seen - strlen(seen) - 1);
    }
    return cli_result(
        ctx, json_pack("{s:s}", "name", cli_arg(ctx, "--name") ? cli_arg(ctx, "--name") : ""));
}

static int t_fail(cli_ctx_t *ctx)
{
    return cli_fail(ctx, CASTOR_ENOTFOUND, "no such %s", "thing");
}

static int t_usage(cli_ctx_t *ctx)
{
    return cli_usage(ctx, "bad combination");
}

static const cli_flag_t show_flags[] = {{"--name", "-n", "NAME", "The name.", CLI_REQUIRED},
                                        {"--switch", NULL, NULL, "A switch.", 0},
                                        {"--perms", NULL, "P", "Many values.", CLI_MULTI},
                                        {"--secret", "-p", "SECRET", "A secret.", CLI_SECRET},
                                        {0}};

static int t_files(cli_ctx_t *ctx)
{
    const char **list;
    int n = cli_arg_list(ctx, "--files", &list);
    snprintf(seen, sizeof seen, "files n=%d each=%d:", n, cli_arg_bool(ctx, "--each"));
    for (int i = 0; i < n; i++) {
        strncat(seen, " ", sizeof seen - strlen(seen) - 1);
        strncat(seen, list[i], sizeof seen - strlen(seen) - 1);
    }
    return 0;
}

static const cli_flag_t files_flags[] = {{"--files", NULL, "FILE", "Files, or give them bare.",
                                          CLI_REQUIRED | CLI_MULTI | CLI_POSITIONAL},
                                         {"--each", NULL, NULL, "A switch.", 0},
                                         {0}};

static const cli_command_t t_commands[] = {
    {"tg sub show", "Show a thing.", "castor tg sub show -n x", show_flags, t_show, NULL},
    {"tg sub deep verb", "A deep command.", NULL, NULL, t_fail, NULL},
    {"tg fail", "Fails.", NULL, NULL, t_fail, NULL},
    {"tg usage", "Usage error.", NULL, NULL, t_usage, NULL},
    {"tg files", "Takes files positionally.", "castor tg files a b", files_flags, t_files, NULL},
    {0}};
static const cli_topic_t t_topics[] = {{"tg", "The test group."}, {"tg sub", "A subgroup."}, {0}};
static const cli_group_t t_group = {"tg", t_topics, t_commands};
static const cli_command_t solo_commands[] = {
    {"solo", "One command.", "castor solo", NULL, t_fail, NULL}, {0}};
static const cli_group_t solo_group = {"solo", NULL, solo_commands};
static const cli_group_t *const groups[] = {&t_group, &solo_group, NULL};

typedef struct run_out {
    int code;
    char *out, *err;
} run_out_t;

static run_out_t run(const char *line)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "castor %s", line);
    char *argv[64];
    int argc = 0;
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w && argc < 63;
         w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    argv[argc] = NULL;
    run_out_t r = {0};
    size_t no, ne;
    FILE *o = open_memstream(&r.out, &no), *e = open_memstream(&r.err, &ne);
    seen[0] = '\0';
    r.code = cli_run(groups, argc, argv, o, e);
    fclose(o);
    fclose(e);
    return r;
}

static void run_free(run_out_t *r)
{
    free(r->out);
    free(r->err);
}

static void long_short_and_inline_values(void **state)
{
    (void)state;
    run_out_t r = run("tg sub show --name a");
    assert_int_equal(r.code, 0);
    assert_string_equal(seen, "show name=a sw=0 n=0 first=- out=0");
    assert_non_null(strstr(r.out, "\"name\": \"a\""));
    run_free(&r);
    r = run("tg sub show -n b --switch");
    assert_int_equal(r.code, 0);
    assert_string_equal(seen, "show name=b sw=1 n=0 first=- out=0");
    run_free(&r);
    r = run("tg sub show --name=c --switch=false -o tsv");
    assert_int_equal(r.code, 0);
    assert_string_equal(seen, "show name=c sw=0 n=0 first=- out=3");
    assert_string_equal(r.out, "c\n");
    run_free(&r);
}

static void multi_values_stop_at_next_flag(void **state)
{
    (void)state;
    run_out_t r = run("tg sub show --perms x=Scope y=Role -n d");
    assert_int_equal(r.code, 0);
    assert_string_equal(seen, "show name=d sw=0 n=2 first=x=Scope out=0,y=Role");
    run_free(&r);
}

static void value_may_start_with_dash(void **state)
{
    (void)state;
    run_out_t r = run("tg sub show -n x -p -secret-");
    assert_int_equal(r.code, 0);
    run_free(&r);
}

static void unknown_flag_is_usage_error(void **state)
{
    (void)state;
    run_out_t r = run("tg sub show -n a --bogus 1");
    assert_int_equal(r.code, 2);
    assert_string_equal(
        r.err,
        "castor tg sub show: unrecognized argument '--bogus'. See 'castor tg sub show --help'.\n");
    assert_string_equal(seen, "");
    run_free(&r);
    r = run("tg sub show -n a stray");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "unrecognized argument 'stray'"));
    run_free(&r);
}

static void missing_required_and_missing_value(void **state)
{
    (void)state;
    run_out_t r = run("tg sub show");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "the following arguments are required: --name"));
    run_free(&r);
    r = run("tg sub show --name");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "argument --name: expected one argument (NAME)"));
    run_free(&r);
    r = run("tg sub show -n a --switch=maybe");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "--switch: takes no value"));
    run_free(&r);
    r = run("tg sub show -n a -o xml");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "invalid choice: 'xml'"));
    run_free(&r);
}

static void unknown_words(void **state)
{
    (void)state;
    run_out_t r = run("nope");
    assert_int_equal(r.code, 2);
    assert_string_equal(r.err, "castor: 'nope' is not a castor command. See 'castor --help'.\n");
    run_free(&r);
    r = run("tg sub nope");
    assert_int_equal(r.code, 2);
    assert_string_equal(r.err, "castor tg sub: 'nope' is not in the 'castor tg sub' command group. "
                               "See 'castor tg sub --help'.\n");
    run_free(&r);
    r = run("tg sub --name x");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "a command is needed before '--name'"));
    run_free(&r);
}

static void help_at_every_level(void **state)
{
    (void)state;
    run_out_t r = run("--help");
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "    tg             : The test group.\n"));
    assert_non_null(strstr(r.out, "    solo           : One command.\n"));
    assert_non_null(strstr(r.out, "serve"));
    run_free(&r);
    r = run("");
    assert_int_equal(r.code, 2); /* no command at all: help on stderr */
    assert_non_null(strstr(r.err, "Client commands:"));
    run_free(&r);
    r = run("tg");
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "Group\n    castor tg : The test group.\n"));
    assert_non_null(strstr(r.out, "Subgroups:\n    sub                    : A subgroup.\n"));
    assert_non_null(strstr(r.out, "Commands:\n    fail                   : Fails.\n"));
    run_free(&r);
    r = run("tg sub --help");
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "castor tg sub : A subgroup."));
    assert_non_null(strstr(r.out, "Subgroups:\n    deep "));
    assert_non_null(strstr(r.out, "Commands:\n    show "));
    run_free(&r);
    r = run("tg sub show --help");
    assert_int_equal(r.code, 0);
    assert_string_equal(seen, ""); /* help does not run the command, nor check required flags */
    assert_non_null(strstr(r.out, "Command\n    castor tg sub show : Show a thing.\n"));
    assert_non_null(strstr(r.out, "    --name -n NAME     [Required] : The name.\n"));
    assert_non_null(strstr(r.out, "    --switch           : A switch.\n"));
    assert_non_null(strstr(r.out, "Global Arguments"));
    assert_non_null(strstr(r.out, "--output -o FORMAT"));
    assert_non_null(strstr(r.out, "Examples\n    castor tg sub show -n x\n"));
    run_free(&r);
    r = run("solo -h");
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "castor solo : One command."));
    run_free(&r);
}

/* A CLI_POSITIONAL flag takes the bare words after the command, alone or mixed with the
 * flag itself and other flags; the values add up in the order given. */
static void positional_values(void **state)
{
    (void)state;
    run_out_t r = run("tg files a.json dir");
    assert_int_equal(r.code, 0);
    assert_string_equal(seen, "files n=2 each=0: a.json dir");
    run_free(&r);
    r = run("tg files --files a.json dir");
    assert_int_equal(r.code, 0);
    assert_string_equal(seen, "files n=2 each=0: a.json dir");
    run_free(&r);
    r = run("tg files a.json --each b.json");
    assert_int_equal(r.code, 0);
    assert_string_equal(seen, "files n=2 each=1: a.json b.json");
    run_free(&r);
    r = run("tg files a.json --files b.json c --each d");
    assert_int_equal(r.code, 0);
    assert_string_equal(seen, "files n=4 each=1: a.json b.json c d");
    run_free(&r);
    r = run("tg files --each");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "the following arguments are required: --files (or FILE "
                                  "without the flag)"));
    run_free(&r);
    r = run("tg files a --bogus");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "unrecognized argument '--bogus'"));
    run_free(&r);
    /* Commands without a positional flag still refuse bare words. */
    r = run("tg sub show -n a stray");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "unrecognized argument 'stray'"));
    run_free(&r);
}

static void handler_errors_exit_codes(void **state)
{
    (void)state;
    run_out_t r = run("tg fail");
    assert_int_equal(r.code, 1);
    assert_string_equal(r.err, "ERROR: no such thing\n");
    assert_string_equal(r.out, "");
    run_free(&r);
    r = run("tg usage");
    assert_int_equal(r.code, 2);
    assert_string_equal(r.err, "castor tg usage: bad combination\n");
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(long_short_and_inline_values),
        cmocka_unit_test(multi_values_stop_at_next_flag),
        cmocka_unit_test(value_may_start_with_dash),
        cmocka_unit_test(unknown_flag_is_usage_error),
        cmocka_unit_test(missing_required_and_missing_value),
        cmocka_unit_test(unknown_words),
        cmocka_unit_test(help_at_every_level),
        cmocka_unit_test(positional_values),
        cmocka_unit_test(handler_errors_exit_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
