/* cli.h — the framework of the az-shaped client: every `castor` subcommand but `serve`.
 *
 * HOW TO ADD A COMMAND GROUP (e.g. `castor dt …`)
 *   1. Write src/cli/cmd_dt.c with a command table and one handler per command:
 *
 *        static const cli_flag_t show_flags[] = {
 *            {"--dt-name", "-n", "NAME", "The instance name.", CLI_REQUIRED},
 *            {"--twin-id", "-t", "ID", "The twin id.", CLI_REQUIRED},
 *            {0}};
 *        static int dt_twin_show(cli_ctx_t *ctx)
 *        {
 *            const char *url = cli_arena_printf(ctx, "%s/digitaltwins/%s?api-version=2023-10-31",
 *                                               base, cli_escape(ctx, cli_arg(ctx, "--twin-id")));
 *            json_t *twin = cli_call(ctx, "GET", url, CLI_RESOURCE_ADT, NULL);
 *            if (!twin) return ctx->err.rc;          // the server's message is in ctx->err
 *            return cli_result(ctx, twin);           // printed as -o json|table|tsv|none
 *        }
 *        static const cli_command_t dt_commands[] = {
 *            {"dt twin show", "Show a digital twin.", "castor dt twin show -n my-dt -t room1",
 *             show_flags, dt_twin_show, "$dtId,$etag"},
 *            {0}};
 *        static const cli_topic_t dt_topics[] = {{"dt", "Manage Azure Digital Twins."},
 *                                                {"dt twin", "Manage twins."}, {0}};
 *        const cli_group_t cli_group_dt = {"dt", dt_topics, dt_commands};
 *
 *   2. Add two lines to src/cli/cli_groups.c: `extern const cli_group_t cli_group_dt;` and
 *      `&cli_group_dt,` in the table. `castor --help`, `castor dt --help`,
 *      `castor dt twin --help` and `castor dt twin show --help` are then generated.
 *   3. Document every command in docs/cli.md under a `### \`castor dt twin show\`` heading
 *      with an example (tests/integration/cli_framework.test.mjs walks the help tree and
 *      checks that docs/cli.md has exactly those commands).
 *   Base URLs: ctx->server.arm (resource manager, ends in '/'), ctx->server.graph, or a path
 *   ("/dt/x/models") resolved against ctx->server.url. For ETag, Location or
 *   Azure-AsyncOperation use cli_http() and cli_http_header(); cli_call() covers plain JSON;
 *   a list command takes every page at once with cli_get_all() (cli_list_all() for POST
 *   /query), never a paging loop of its own.
 *
 * PARSING. `castor <words…> [flags]`: the leading words select the command (the longest
 * match of a command path); flags are `--long VALUE`, `--long=VALUE`, `-s VALUE`; a switch
 * (metavar NULL) takes no value; CLI_MULTI takes every following value up to the next flag
 * (az's nargs='+'); a CLI_POSITIONAL flag also takes the bare words after the command, its
 * values, bare or flagged, adding up. An unknown flag, a missing value or a missing required
 * flag is a usage error: a message naming it and `castor … --help`, exit 2. Global flags on
 * every command:
 * --output/-o json|jsonc|table|tsv|none, --debug, --server URL, --ca-file FILE, --help/-h.
 *
 * HANDLERS return 0, or a negative code with ctx->err filled (cli_fail / cli_call do that);
 * the framework prints `ERROR: <message>` on stderr and exits 1 (2 for CLI_EUSAGE).
 * A handler hands its output over with cli_result(); it never prints results itself.
 * Everything allocated through cli_arena_* dies at the end of the command.
 *
 * SERVER AND TOKENS. cli_call() resolves a path ("/v1.0/users") against the server URL, adds
 * `Authorization: Bearer` for the given resource via cli_token_get() (cached in
 * ~/.castor/tokens.json, refreshed before expiry), sends JSON, and turns a non-2xx answer into
 * ctx->err carrying the server's own message (ADT/ARM/OData `error.message`, OAuth
 * `error_description`). Where the server is: --server/--ca-file, then CASTOR_URL /
 * CASTOR_CA_FILE, then ~/.castor/config.json (written by `castor login`), then
 * ./castor-data/connection.json. ~/.castor is $CASTOR_CONFIG_DIR, else $HOME/.castor. */
#ifndef CASTOR_CLI_CLI_H
#define CASTOR_CLI_CLI_H

#include "core/arena.h"
#include "core/err.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

/* Resources (token audiences) as the real clients name them. */
#define CLI_RESOURCE_ARM "https://management.azure.com/"
#define CLI_RESOURCE_ADT "https://digitaltwins.azure.net"
#define CLI_RESOURCE_GRAPH "https://graph.microsoft.com"

/* A handler's return for a usage mistake found after parsing: exit 2, not 1. */
#define CLI_EUSAGE (-100)

/* Flag properties. */
#define CLI_REQUIRED 0x1u /* must be given */
#define CLI_SECRET 0x2u   /* its value never appears in --debug output */
#define CLI_MULTI 0x4u    /* takes one or more values (az's nargs='+') */
/* With CLI_MULTI: words after the command that are no flag's value are this flag's values
 * too (`castor dtdl validate a.json models/` as well as `--models a.json models/`). At most
 * one flag of a command has it. */
#define CLI_POSITIONAL 0x8u

typedef struct cli_ctx cli_ctx_t;

typedef struct cli_flag {
    const char *name;       /* "--display-name" */
    const char *short_name; /* "-n" or NULL */
    const char *metavar;    /* "NAME"; NULL makes it a switch that takes no value */
    const char *help;
    unsigned props; /* CLI_REQUIRED | CLI_SECRET | CLI_MULTI | CLI_POSITIONAL */
} cli_flag_t;

typedef int (*cli_handler_fn)(cli_ctx_t *ctx);

typedef struct cli_command {
    const char *path;        /* the words after `castor`: "ad app permission add" */
    const char *summary;     /* one sentence, shown in help */
    const char *example;     /* one full command line, shown in help and docs */
    const cli_flag_t *flags; /* terminated by {0}; may be NULL */
    cli_handler_fn run;
    const char *table; /* -o table columns, "appId,displayName,id"; NULL = every scalar */
} cli_command_t;

/* A help entry for a level that is not a command ("ad", "ad app", "ad app permission"). */
typedef struct cli_topic {
    const char *path;
    const char *summary;
} cli_topic_t;

typedef struct cli_group {
    const char *name;              /* first word: "ad" */
    const cli_topic_t *topics;     /* terminated by {0}; may be NULL for one-command groups */
    const cli_command_t *commands; /* terminated by {0} */
} cli_group_t;

typedef enum cli_output {
    CLI_OUT_JSON = 0, /* pretty, keys sorted, like az */
    CLI_OUT_JSONC,    /* the same (no colour is ever added; accepted for az muscle memory) */
    CLI_OUT_TABLE,
    CLI_OUT_TSV,
    CLI_OUT_NONE
} cli_output_t;

/* Where the server is and how to trust it, after precedence (cli_config.c). */
typedef struct cli_server {
    char url[1024];     /* "https://localhost:8443", no trailing slash */
    char ca_file[1024]; /* "" = the system trust store */
    char tenant[256];   /* tenant id or domain; "" unknown */
    char subscription[64];
    char graph[1024];     /* Graph base URL with trailing slash */
    char arm[1024];       /* resource-manager base URL with trailing slash */
    const char *url_from; /* "--server", "CASTOR_URL", "~/.castor/config.json", "connection.json" */
} cli_server_t;

/* An HTTP exchange (cli_http.c). Bodies live in the command's arena. */
typedef struct cli_http_req {
    const char *method;
    const char *url;            /* absolute, or a path resolved against ctx->server.url */
    const char *resource;       /* add a bearer token for this resource or scope; NULL = none */
    const json_t *json;         /* JSON body, or */
    const char *form;           /* an application/x-www-form-urlencoded body, or NULL */
    const char *const *headers; /* extra "Name: value" lines, NULL-terminated; may be NULL */
} cli_http_req_t;

typedef struct cli_http_resp {
    long status;
    char *body; /* NUL-terminated */
    size_t len;
    json_t *json;    /* the body parsed, when it is JSON; owned by the response */
    json_t *headers; /* lower-cased name -> last value */
} cli_http_resp_t;

struct cli_ctx {
    const cli_command_t *cmd;
    cli_output_t output;
    int debug;
    cli_server_t server;
    castor_err err;
    arena_t arena;
    FILE *out;      /* results (stdout) */
    FILE *errout;   /* errors, warnings, prompts, --debug (stderr) */
    json_t *result; /* set by cli_result */
    /* private to the framework */
    int argc;
    char **argv;         /* the flag part of the command line, after the command words */
    const char **values; /* per flag of cmd (then globals): value or NULL */
    int *counts;
    void *curl;
    int server_loaded;
};

/* --- entry ----------------------------------------------------------------------------- */

/* Runs `castor <argv[1]…>` against the built-in groups; returns the process exit code. */
int cli_main(int argc, char **argv);

/* The same against any group table (unit tests); writes to out/errout. */
int cli_run(const cli_group_t *const *groups, int argc, char **argv, FILE *out, FILE *errout);

/* --- arguments ------------------------------------------------------------------------- */

/* The value of a flag by long name, or NULL when not given. For CLI_MULTI the first value. */
const char *cli_arg(cli_ctx_t *ctx, const char *name);
/* 1 when a switch was given (or --flag=true), else 0. */
int cli_arg_bool(cli_ctx_t *ctx, const char *name);
/* The values of a CLI_MULTI flag; returns their count (0 when not given). */
int cli_arg_list(cli_ctx_t *ctx, const char *name, const char ***values);
/* A JSON flag given inline or as @FILE (az's convention): a new reference; NULL when it was not
 * given (ctx->err untouched) or is not JSON (ctx->err says where, exit 1 as az's CLIError). */
json_t *cli_arg_json(cli_ctx_t *ctx, const char *name);

/* The flag naming the instance of every `castor dt …` command (as az dt names it). */
#define CLI_FLAG_DT_NAME                                                                           \
    {                                                                                              \
        "--dt-name", "-n", "NAME", "The Digital Twins instance name.", CLI_REQUIRED                \
    }

/* --- results and errors ---------------------------------------------------------------- */

/* Hands the command's output (steals the reference; NULL = no output). Returns 0. */
int cli_result(cli_ctx_t *ctx, json_t *value);
/* Hands over what cli_call answered: NULL (ctx->err says why) returns the error; json null
 * (an empty 2xx body) prints nothing; any other value is the output (reference stolen). */
int cli_result_answer(cli_ctx_t *ctx, json_t *answer);
/* Fills ctx->err (rc CASTOR_EINVAL unless given) and returns its rc. */
int cli_fail(cli_ctx_t *ctx, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A usage error found by a handler: message + exit 2. */
int cli_usage(cli_ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "WARNING: …" on stderr, as az prints them. */
void cli_warn(cli_ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes value in a format (cli_output.c); columns as cli_command_t.table. */
void cli_format(FILE *f, const json_t *value, cli_output_t fmt, const char *columns);
/* "json" -> CLI_OUT_JSON…; -1 for an unknown name. */
int cli_output_parse(const char *name);

/* --- memory ---------------------------------------------------------------------------- */

char *cli_arena_printf(cli_ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *cli_arena_strdup(cli_ctx_t *ctx, const char *s);
/* Percent-encodes s for a URL path segment or query value (arena). */
char *cli_escape(cli_ctx_t *ctx, const char *s);

/* --- server, HTTP ---------------------------------------------------------------------- */

/* Resolves ctx->server by precedence (once). Fails when no source names a server. */
int cli_server_load(cli_ctx_t *ctx);

/* One request. Fails (ctx->err) only when no HTTP answer came (connection, TLS, token);
 * any status is returned in resp. Free resp with cli_http_resp_free. */
int cli_http(cli_ctx_t *ctx, const cli_http_req_t *req, cli_http_resp_t *resp);
void cli_http_resp_free(cli_http_resp_t *resp);
const char *cli_http_header(const cli_http_resp_t *resp, const char *lower_name);

/* JSON request with a bearer token for resource (NULL = none). Returns the body on 2xx (new
 * reference; json null for an empty body), else NULL with ctx->err holding the server's
 * message. *status (may be NULL) receives the HTTP status. */
json_t *cli_call_status(cli_ctx_t *ctx, const char *method, const char *url, const char *resource,
                        const json_t *body, long *status);
json_t *cli_call(cli_ctx_t *ctx, const char *method, const char *url, const char *resource,
                 const json_t *body);
/* The same for a whole request (extra headers, a form body) (cli_list.c). */
json_t *cli_call_req(cli_ctx_t *ctx, const cli_http_req_t *req, long *status);

/* Every item of a paged list, in order, as one array (new reference), or NULL with ctx->err
 * (cli_list.c). req is the first request; after it each page's absolute "nextLink" (ARM, the
 * ADT data plane) is fetched with GET, or, on a page with none, its "continuationToken" (POST
 * /query) goes back in a copy of req's JSON body. req's resource and headers go with every
 * page. *charge (may be NULL) receives the sum of the pages' query-charge headers. A NULL
 * req->url (an earlier step failed and filled ctx->err) gives NULL. */
json_t *cli_list_all(cli_ctx_t *ctx, const cli_http_req_t *req, double *charge);
/* cli_list_all of a GET. */
json_t *cli_get_all(cli_ctx_t *ctx, const char *url, const char *resource);

/* Fills ctx->err from an error answer in any of the planes' shapes. Returns ctx->err.rc. */
int cli_error_from_response(cli_ctx_t *ctx, const cli_http_resp_t *resp);

/* --- tokens (cli_token.c) -------------------------------------------------------------- */

/* A bearer token for a resource ("https://digitaltwins.azure.net") or a scope
 * (".../.default", ".../Read.Write") for the signed-in account: from the cache when it is
 * valid for at least CLI_TOKEN_SKEW_S more seconds, else through the refresh_token grant (or,
 * for a service principal, client_credentials again). Returns the token (arena) or NULL with
 * ctx->err ("run castor login" when nobody is signed in). expires_on may be NULL. */
const char *cli_token_get(cli_ctx_t *ctx, const char *resource_or_scope, int64_t *expires_on);

#define CLI_TOKEN_SKEW_S 300

#endif
