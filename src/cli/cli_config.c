/* cli_config.c — where the server is (flags, environment, ~/.castor/config.json,
 * ./castor-data/connection.json) and the 0600 JSON files under ~/.castor. */
#include "cli/cli_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLI_CONNECTION_FILE "castor-data/connection.json"

int cli_config_dir(char *buf, size_t size, castor_err *err)
{
    const char *dir = getenv("CASTOR_CONFIG_DIR");
    if (dir && *dir) {
        snprintf(buf, size, "%s", dir);
        return 0;
    }
    const char *home = getenv("HOME");
    if (!home || !*home)
        return castor_err_set(err, CASTOR_EINVAL,
                              "neither CASTOR_CONFIG_DIR nor HOME is set, so castor has nowhere "
                              "to keep its configuration and tokens");
    snprintf(buf, size, "%s/.castor", home);
    return 0;
}

int cli_config_path(const char *name, char *buf, size_t size, castor_err *err)
{
    char dir[1024];
    int rc = cli_config_dir(dir, sizeof dir, err);
    if (rc < 0) return rc;
    snprintf(buf, size, "%s/%s", dir, name);
    return 0;
}

json_t *cli_json_file_read(const char *path)
{
    json_error_t jerr;
    json_t *v = json_load_file(path, 0, &jerr);
    if (v && !json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

int cli_json_file_write(const char *path, const json_t *value, castor_err *err)
{
    char dir[1100];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            return castor_err_set(err, CASTOR_EIO, "cannot create %s: %s", dir, strerror(errno));
    }
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return castor_err_set(err, CASTOR_EIO, "cannot write %s: %s", tmp, strerror(errno));
    char *text = json_dumps(value, JSON_INDENT(2) | JSON_SORT_KEYS);
    size_t len = text ? strlen(text) : 0;
    int ok = text && write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
    free(text);
    ok = fchmod(fd, 0600) == 0 && ok; /* an existing file keeps its mode otherwise */
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return castor_err_set(err, CASTOR_EIO, "cannot write %s: %s", path, strerror(e));
    }
    return 0;
}

static const char *str_member(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : NULL;
}

/* Copies url without its trailing slashes; a URL too long for dst is refused, not cut. */
static int copy_url(char *dst, size_t size, const char *url, castor_err *err)
{
    if (snprintf(dst, size, "%s", url) >= (int)size)
        return castor_err_set(err, CASTOR_EINVAL,
                              "the server address '%.64s...' is %zu characters long; castor "
                              "accepts at most %zu",
                              url, strlen(url), size - 1);
    size_t n = strlen(dst);
    while (n > 0 && dst[n - 1] == '/')
        dst[--n] = '\0';
    return 0;
}

static int same_url(const char *a, const char *b)
{
    if (!a || !b) return 0;
    size_t la = strlen(a), lb = strlen(b);
    while (la > 0 && a[la - 1] == '/')
        la--;
    while (lb > 0 && b[lb - 1] == '/')
        lb--;
    return la == lb && strncmp(a, b, la) == 0;
}

int cli_server_resolve(const cli_server_sources_t *src, cli_server_t *out, castor_err *err)
{
    memset(out, 0, sizeof *out);
    const char *cfg_url = str_member(src->config, "server");
    const char *conn_url = str_member(src->connection, "authority");
    const char *url = NULL;
    if (src->flag_url && *src->flag_url) {
        url = src->flag_url;
        out->url_from = "--server";
    } else if (src->env_url && *src->env_url) {
        url = src->env_url;
        out->url_from = "CASTOR_URL";
    } else if (cfg_url) {
        url = cfg_url;
        out->url_from = "~/.castor/config.json";
    } else if (conn_url) {
        url = conn_url;
        out->url_from = "./" CLI_CONNECTION_FILE;
    }
    if (!url)
        return castor_err_set(err, CASTOR_EINVAL,
                              "no castor server is configured: pass --server https://HOST:PORT "
                              "(and --ca-file), set CASTOR_URL, run `castor login --server …`, or "
                              "run this from the folder holding castor-data/");
    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
        return castor_err_set(err, CASTOR_EINVAL,
                              "the server address '%s' (from %s) is not a URL: use "
                              "https://HOST:PORT",
                              url, out->url_from);
    int rc = copy_url(out->url, sizeof out->url, url, err);
    if (rc < 0) return rc;

    /* Lower sources count only when they describe this same server. */
    const json_t *cfg = same_url(cfg_url, out->url) ? src->config : NULL;
    const json_t *conn = same_url(conn_url, out->url) ? src->connection : NULL;
    const char *ca = NULL;
    if (src->flag_ca && *src->flag_ca)
        ca = src->flag_ca;
    else if (src->env_ca && *src->env_ca)
        ca = src->env_ca;
    else if (str_member(cfg, "caFile"))
        ca = str_member(cfg, "caFile");
    else if (str_member(conn, "caFile"))
        ca = str_member(conn, "caFile");
    if (snprintf(out->ca_file, sizeof out->ca_file, "%s", ca ? ca : "") >= (int)sizeof out->ca_file)
        return castor_err_set(err, CASTOR_EINVAL, "the CA file path '%.64s...' is too long", ca);

    const char *tenant =
        str_member(cfg, "tenantId") ? str_member(cfg, "tenantId") : str_member(conn, "tenantId");
    snprintf(out->tenant, sizeof out->tenant, "%s", tenant ? tenant : "");
    const char *sub = str_member(cfg, "subscriptionId") ? str_member(cfg, "subscriptionId")
                                                        : str_member(conn, "subscriptionId");
    snprintf(out->subscription, sizeof out->subscription, "%s", sub ? sub : "");
    const char *graph =
        str_member(cfg, "graph") ? str_member(cfg, "graph") : str_member(conn, "graph");
    const char *arm = str_member(cfg, "resourceManager") ? str_member(cfg, "resourceManager")
                                                         : str_member(conn, "resourceManager");
    char base[1100];
    snprintf(base, sizeof base, "%s/", out->url);
    if ((rc = copy_url(out->graph, sizeof out->graph - 1, graph ? graph : base, err)) < 0 ||
        (rc = copy_url(out->arm, sizeof out->arm - 1, arm ? arm : base, err)) < 0)
        return rc;
    strcat(out->graph, "/");
    strcat(out->arm, "/");
    return 0;
}

int cli_server_load(cli_ctx_t *ctx)
{
    if (ctx->server_loaded) return 0;
    char cfg_path[1100];
    json_t *config = NULL;
    castor_err ignored;
    if (cli_config_path("config.json", cfg_path, sizeof cfg_path, &ignored) == 0)
        config = cli_json_file_read(cfg_path);
    json_t *connection = cli_json_file_read(CLI_CONNECTION_FILE);
    cli_server_sources_t src = {
        .flag_url = cli_arg(ctx, "--server"),
        .flag_ca = cli_arg(ctx, "--ca-file"),
        .env_url = getenv("CASTOR_URL"),
        .env_ca = getenv("CASTOR_CA_FILE"),
        .config = config,
        .connection = connection,
    };
    int rc = cli_server_resolve(&src, &ctx->server, &ctx->err);
    json_decref(config);
    json_decref(connection);
    if (rc < 0) return rc;
    if (ctx->server.ca_file[0] && access(ctx->server.ca_file, R_OK) < 0)
        return cli_fail(ctx, CASTOR_EIO, "cannot read the CA file %s: %s", ctx->server.ca_file,
                        strerror(errno));
    ctx->server_loaded = 1;
    return 0;
}

int cli_config_save(cli_ctx_t *ctx)
{
    char path[1100];
    int rc = cli_config_path("config.json", path, sizeof path, &ctx->err);
    if (rc < 0) return rc;
    char ca_abs[4096] = "";
    if (ctx->server.ca_file[0] && !realpath(ctx->server.ca_file, ca_abs))
        snprintf(ca_abs, sizeof ca_abs, "%s", ctx->server.ca_file);
    json_t *doc =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "server", ctx->server.url, "caFile", ca_abs,
                  "tenantId", ctx->server.tenant, "subscriptionId", ctx->server.subscription,
                  "graph", ctx->server.graph, "resourceManager", ctx->server.arm);
    if (!doc) return cli_fail(ctx, CASTOR_ENOMEM, "out of memory");
    rc = cli_json_file_write(path, doc, &ctx->err);
    json_decref(doc);
    return rc;
}
