/* cmd_dt_endpoint.c — `castor dt endpoint create eventgrid|webhook|mqtt`, `show`, `list` and
 * `delete`, shaped like az's `az dt endpoint` (-n, --en/--endpoint-name, -g, -y): the
 * endpoints are ARM sub-resources of the instance ({instance id}/endpoints/{name},
 * api-version 2023-01-31), found by name through the subscription when -g is not given. Keys
 * and passwords go in the request body only; --debug shows them redacted (cli_http.c).
 * The commands join the `dt` group's table (cmd_dt.c) through CLI_DT_ENDPOINT_COMMANDS. */
#include "cli/cmd_dt_endpoint.h"

#include "cli/cmd_dt_doctor.h"
#include "cli/cmd_role.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EP_API_VERSION "2023-01-31"
#define EP_POLL_MAX 60
#define EP_CA_FILE_MAX (64 * 1024) /* the server refuses larger caCertificate values */

/* "{instance id}/endpoints" plus "/{name}" when name is given (arena), or NULL with ctx->err. */
static const char *endpoints_path(cli_ctx_t *ctx, const char *name)
{
    json_t *inst = cli_dt_instance(ctx);
    if (!inst) return NULL;
    const char *id = json_string_value(json_object_get(inst, "id"));
    const char *p = id ? cli_arena_printf(ctx, "%s/endpoints%s%s", id, name ? "/" : "",
                                          name ? cli_escape(ctx, name) : "")
                       : NULL;
    json_decref(inst);
    if (!p) cli_fail(ctx, CASTOR_EIO, "the resource manager answered an instance without an id");
    return p;
}

static const char *arm_url(cli_ctx_t *ctx, const char *path)
{
    return role_arm_url(ctx, cli_arena_printf(ctx, "%s%sapi-version=" EP_API_VERSION, path,
                                              strchr(path, '?') ? "&" : "?"));
}

static json_t *arm_call(cli_ctx_t *ctx, const char *method, const char *path, const json_t *body,
                        long *status)
{
    const char *url = arm_url(ctx, path);
    return url ? cli_call_status(ctx, method, url, CLI_RESOURCE_ARM, body, status) : NULL;
}

/* As az prints an endpoint: the resource with its resourceGroup. */
static json_t *shaped(cli_ctx_t *ctx, const json_t *ep)
{
    json_t *out = json_deep_copy(ep);
    const char *id = json_string_value(json_object_get(out, "id"));
    const char *g = id ? strstr(id, "/resourceGroups/") : NULL;
    if (g) {
        g += strlen("/resourceGroups/");
        json_object_set_new(out, "resourceGroup",
                            json_string(cli_arena_printf(ctx, "%.*s", (int)strcspn(g, "/"), g)));
    }
    return out;
}

/* A PEM file's text for caCertificate. New reference or NULL with ctx->err. */
static json_t *pem_file(cli_ctx_t *ctx, const char *flag, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_fail(ctx, CASTOR_EINVAL, "%s %s: %s", flag, path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(EP_CA_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, EP_CA_FILE_MAX + 1, f) : 0;
    fclose(f);
    json_t *out = NULL;
    if (!buf)
        cli_fail(ctx, CASTOR_ENOMEM, "out of memory");
    else if (n > EP_CA_FILE_MAX)
        cli_fail(ctx, CASTOR_EINVAL, "%s %s is larger than %d bytes", flag, path, EP_CA_FILE_MAX);
    else if (!memmem(buf, n, "-----BEGIN CERTIFICATE-----", 27))
        cli_fail(ctx, CASTOR_EINVAL,
                 "%s %s is not a PEM certificate file (no -----BEGIN CERTIFICATE----- line)", flag,
                 path);
    else
        out = json_stringn(buf, n);
    free(buf);
    return out;
}

/* A positive integer flag, or 0 when not given; -1 (usage error in ctx) when not a number. */
static long int_flag(cli_ctx_t *ctx, const char *flag)
{
    const char *v = cli_arg(ctx, flag);
    if (!v) return 0;
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < 1) {
        cli_usage(ctx, "%s must be a positive integer, not '%s'", flag, v);
        return -1;
    }
    return n;
}

/* PUTs the endpoint with the type's properties plus the common flags, waits for a terminal
 * provisioningState (the create is long-running, as the instance's is) and prints it. */
static int create(cli_ctx_t *ctx, json_t *props)
{
    const char *dl = cli_arg(ctx, "--dead-letter-endpoint");
    if (dl) json_object_set_new(props, "deadLetterEndpoint", json_string(dl));
    long attempts = int_flag(ctx, "--max-attempts"), ttl = int_flag(ctx, "--ttl-minutes");
    if (attempts < 0 || ttl < 0) {
        json_decref(props);
        return ctx->err.rc;
    }
    if (attempts || ttl) {
        json_t *rp = json_object();
        if (attempts) json_object_set_new(rp, "maxDeliveryAttempts", json_integer(attempts));
        if (ttl) json_object_set_new(rp, "eventTimeToLiveInMinutes", json_integer(ttl));
        json_object_set_new(props, "retryPolicy", rp);
    }
    json_t *body = json_pack("{s:o}", "properties", props);
    const char *path = endpoints_path(ctx, cli_arg(ctx, "--endpoint-name"));
    json_t *ep = path ? arm_call(ctx, "PUT", path, body, NULL) : NULL;
    json_decref(body);
    for (int i = 0; ep && i < EP_POLL_MAX; i++) {
        const char *st = json_string_value(
            json_object_get(json_object_get(ep, "properties"), "provisioningState"));
        if (!st || strcmp(st, "Succeeded") == 0 || strcmp(st, "Failed") == 0 ||
            strcmp(st, "Canceled") == 0)
            break;
        sleep(1);
        json_decref(ep);
        ep = arm_call(ctx, "GET", path, NULL, NULL);
    }
    if (!ep) return ctx->err.rc ? ctx->err.rc : CASTOR_EIO;
    json_t *out = shaped(ctx, ep);
    json_decref(ep);
    return cli_result(ctx, out);
}

static void opt(cli_ctx_t *ctx, json_t *props, const char *key, const char *flag)
{
    const char *v = cli_arg(ctx, flag);
    if (v) json_object_set_new(props, key, json_string(v));
}

/* --endpoint-ca FILE into props.caCertificate; 0, or ctx->err.rc. */
static int ca_opt(cli_ctx_t *ctx, json_t *props)
{
    const char *file = cli_arg(ctx, "--endpoint-ca");
    if (!file) return 0;
    json_t *pem = pem_file(ctx, "--endpoint-ca", file);
    if (!pem) return ctx->err.rc;
    json_object_set_new(props, "caCertificate", pem);
    return 0;
}

int dt_endpoint_create_eventgrid(cli_ctx_t *ctx)
{
    json_t *props =
        json_pack("{s:s, s:s, s:s}", "endpointType", "EventGrid", "TopicEndpoint",
                  cli_arg(ctx, "--endpoint-uri"), "accessKey1", cli_arg(ctx, "--access-key"));
    opt(ctx, props, "accessKey2", "--access-key2");
    return create(ctx, props);
}

int dt_endpoint_create_webhook(cli_ctx_t *ctx)
{
    json_t *props = json_pack("{s:s, s:s}", "endpointType", "webhook", "endpointUri",
                              cli_arg(ctx, "--endpoint-uri"));
    opt(ctx, props, "accessKey", "--access-key");
    if (ca_opt(ctx, props) < 0) {
        json_decref(props);
        return ctx->err.rc;
    }
    return create(ctx, props);
}

int dt_endpoint_create_mqtt(cli_ctx_t *ctx)
{
    json_t *props = json_pack("{s:s, s:s}", "endpointType", "mqtt", "endpointUri",
                              cli_arg(ctx, "--endpoint-uri"));
    opt(ctx, props, "topic", "--topic");
    opt(ctx, props, "username", "--username");
    opt(ctx, props, "password", "--password");
    opt(ctx, props, "clientId", "--client-id");
    if (cli_arg(ctx, "--password") && !cli_arg(ctx, "--username")) {
        json_decref(props);
        return cli_usage(ctx, "--password needs --username (MQTT sends a password only with a "
                              "user name)");
    }
    if (ca_opt(ctx, props) < 0) {
        json_decref(props);
        return ctx->err.rc;
    }
    return create(ctx, props);
}

int dt_endpoint_show(cli_ctx_t *ctx)
{
    const char *path = endpoints_path(ctx, cli_arg(ctx, "--endpoint-name"));
    json_t *ep = path ? arm_call(ctx, "GET", path, NULL, NULL) : NULL;
    if (!ep) return ctx->err.rc ? ctx->err.rc : CASTOR_EIO;
    json_t *out = shaped(ctx, ep);
    json_decref(ep);
    return cli_result(ctx, out);
}

int dt_endpoint_list(cli_ctx_t *ctx)
{
    const char *path = endpoints_path(ctx, NULL);
    if (!path) return ctx->err.rc;
    json_t *all = cli_get_all(ctx, arm_url(ctx, path), CLI_RESOURCE_ARM);
    if (!all) return ctx->err.rc;
    json_t *out = json_array();
    size_t i;
    json_t *ep;
    json_array_foreach(all, i, ep) json_array_append_new(out, shaped(ctx, ep));
    json_decref(all);
    return cli_result(ctx, out);
}

/* The server answers 202 (done at once; Location to poll) or 204 when there was no such
 * endpoint; az prints nothing either way. A route still using it is the server's 400. */
int dt_endpoint_delete(cli_ctx_t *ctx)
{
    const char *path = endpoints_path(ctx, cli_arg(ctx, "--endpoint-name"));
    json_t *r = path ? arm_call(ctx, "DELETE", path, NULL, NULL) : NULL;
    if (!r) return ctx->err.rc ? ctx->err.rc : CASTOR_EIO;
    json_decref(r);
    return cli_result(ctx, NULL);
}

#define EP_GROUP                                                                                   \
    {                                                                                              \
        "--resource-group", "-g", "GROUP", "The instance's resource group.", 0                     \
    }
#define EP_NAME(req)                                                                               \
    {                                                                                              \
        "--endpoint-name", "--en", "NAME", "The endpoint name (3-49 letters, digits, hyphens).",   \
            req                                                                                    \
    }
#define EP_COMMON                                                                                  \
    {"--dead-letter-endpoint", NULL, "NAME",                                                       \
     "Another endpoint of the instance for events this one cannot deliver (default: the "          \
     "folder deadletter/<instance>/<endpoint>/ in castor's data folder).",                         \
     0},                                                                                           \
        {"--max-attempts", NULL, "N", "Delivery attempts per event, 1-100 (default 30).", 0},      \
    {                                                                                              \
        "--ttl-minutes", NULL, "N",                                                                \
            "Minutes an event may wait for delivery, 1-1440 (default 1440).", 0                    \
    }

const cli_flag_t dt_endpoint_eventgrid_flags[] = {
    CLI_FLAG_DT_NAME,
    EP_GROUP,
    EP_NAME(CLI_REQUIRED),
    {"--endpoint-uri", NULL, "URL", "The Event Grid topic's endpoint (TopicEndpoint).",
     CLI_REQUIRED},
    {"--access-key", NULL, "KEY", "The topic's key (accessKey1, sent as aeg-sas-key).",
     CLI_REQUIRED | CLI_SECRET},
    {"--access-key2", NULL, "KEY", "The topic's second key (accessKey2).", CLI_SECRET},
    EP_COMMON,
    {0}};
const cli_flag_t dt_endpoint_webhook_flags[] = {
    CLI_FLAG_DT_NAME,
    EP_GROUP,
    EP_NAME(CLI_REQUIRED),
    {"--endpoint-uri", NULL, "URL", "Where events are POSTed (https://; http:// to localhost).",
     CLI_REQUIRED},
    {"--access-key", NULL, "KEY", "Sent as Authorization: Bearer KEY.", CLI_SECRET},
    {"--endpoint-ca", NULL, "PEM_FILE", "A CA to trust for the endpoint, besides the system store.",
     0},
    EP_COMMON,
    {0}};
const cli_flag_t dt_endpoint_mqtt_flags[] = {
    CLI_FLAG_DT_NAME,
    EP_GROUP,
    EP_NAME(CLI_REQUIRED),
    {"--endpoint-uri", NULL, "URL", "The broker: mqtt://host:port or mqtts://host:port.",
     CLI_REQUIRED},
    {"--topic", NULL, "TEMPLATE",
     "Topic with {instance}, {twinId}, {type} (default castor/{instance}/{twinId}/{type}).", 0},
    {"--username", NULL, "USER", "The broker user name.", 0},
    {"--password", NULL, "PASSWORD", "The broker password (needs --username).", CLI_SECRET},
    {"--client-id", NULL, "ID", "The MQTT client id.", 0},
    {"--endpoint-ca", NULL, "PEM_FILE", "A CA to trust for mqtts://, besides the system store.", 0},
    EP_COMMON,
    {0}};
const cli_flag_t dt_endpoint_show_flags[] = {
    CLI_FLAG_DT_NAME, EP_GROUP, EP_NAME(CLI_REQUIRED), {0}};
const cli_flag_t dt_endpoint_list_flags[] = {CLI_FLAG_DT_NAME, EP_GROUP, {0}};
const cli_flag_t dt_endpoint_delete_flags[] = {
    CLI_FLAG_DT_NAME,
    EP_GROUP,
    EP_NAME(CLI_REQUIRED),
    {"--yes", "-y", NULL, "Do not prompt (castor never prompts).", 0},
    {"--no-wait", NULL, NULL, "Accepted for az compatibility; deletion is immediate.", 0},
    {0}};
