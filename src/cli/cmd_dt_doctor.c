/* cmd_dt_doctor.c — `castor dt doctor`: the seed's troubleshooting page, automated for the
 * signed-in principal. It looks at what castor would look at, in the same order as the data
 * plane's guard (src/access/access.h): the token (audience, tenant, delegated scope), the
 * instance, the caller's effective data actions there (the resource manager's
 * Microsoft.Authorization/permissions), and finally a real data-plane call, whose refusal
 * carries castor's own explanation. With --request-id it also fetches what castor recorded
 * about an earlier refusal. The verdict names seed cause #1 or #2 (or the 401 cause) and the
 * one command that fixes it, or says access is fine. */
#include "cli/cmd_dt_doctor.h"

#include "cli/cli_internal.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

#define ADT_APP_ID "0b07f429-9f4b-4714-9392-cc5e8e80c8b0"
#define ADT_SCOPE_ID "4589bd03-58cb-4e6c-b17f-b580e39652f8"

const cli_flag_t dt_doctor_flags[] = {
    {"--dt-name", "-n", "NAME", "The instance's name.", CLI_REQUIRED},
    {"--resource-group", "-g", "GROUP", "Its resource group (found by name when omitted).", 0},
    {"--request-id", NULL, "ID",
     "The x-ms-request-id of a refused request: show what castor recorded about it.", 0},
    {0}};

/* The claims of a JWT, not verified: the server verifies; the doctor only reads. */
static json_t *jwt_claims(const char *token)
{
    const char *dot = strchr(token, '.');
    const char *end = dot ? strchr(dot + 1, '.') : NULL;
    if (!end) return NULL;
    size_t n = (size_t)(end - dot - 1);
    unsigned char *bin = malloc(n + 1);
    size_t len = 0;
    json_t *out = NULL;
    if (bin && sodium_base642bin(bin, n, dot + 1, n, NULL, &len, NULL,
                                 sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0)
        out = json_loadb((const char *)bin, len, 0, NULL);
    free(bin);
    return out;
}

static const char *claim(const json_t *claims, const char *name)
{
    const char *v = json_string_value(json_object_get(claims, name));
    return v ? v : "";
}

static void check(json_t *checks, const char *name, int ok, const char *detail)
{
    json_array_append_new(checks, json_pack("{s:s, s:s, s:s}", "check", name, "result",
                                            ok ? "ok" : "problem", "detail", detail));
}

static int has_word(const char *words, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = words; (p = strcasestr(p, word)); p += n)
        if ((p == words || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ')) return 1;
    return 0;
}

static int finish(cli_ctx_t *ctx, json_t *report, const char *verdict, const char *cause,
                  json_t *fix)
{
    json_object_set_new(report, "verdict", json_string(verdict));
    json_object_set_new(report, "cause", cause ? json_string(cause) : json_null());
    json_object_set_new(report, "fix", fix ? fix : json_null());
    return cli_result(ctx, report);
}

/* What castor recorded about an earlier refusal (the resource manager's audit listing). */
static void add_recorded(cli_ctx_t *ctx, json_t *report, const char *scope, const char *request_id)
{
    const char *url = cli_arena_printf(
        ctx,
        "%s%s/providers/Microsoft.Authorization/castorDenials?api-version=2022-04-01&requestId=%s",
        ctx->server.arm, scope + 1, cli_escape(ctx, request_id));
    long status = 0;
    json_t *r = cli_call_status(ctx, "GET", url, CLI_RESOURCE_ARM, NULL, &status);
    json_t *hit = r ? json_array_get(json_object_get(r, "value"), 0) : NULL;
    if (hit)
        json_object_set(report, "recordedDenial", hit);
    else
        json_object_set_new(report, "recordedDenial",
                            json_string(r ? "castor has no refusal with that request id that you "
                                            "may read (only your own, or any with "
                                            "Microsoft.Authorization/roleAssignments/read)"
                                          : ctx->err.message));
    json_decref(r);
    castor_err_clear(&ctx->err);
}

/* Event routes and endpoints (docs/events.md): a route whose endpoint is gone, an endpoint
 * failing now, events dead-lettered. Adds report.events and a check per finding; returns the
 * first problem (arena text) or NULL when delivery is healthy or there is none. */
static const char *check_events(cli_ctx_t *ctx, json_t *report, json_t *checks, const char *scope,
                                const char *name)
{
    json_t *eps = cli_call(
        ctx, "GET",
        cli_arena_printf(ctx, "%s%s/endpoints?api-version=2023-01-31", ctx->server.arm, scope + 1),
        CLI_RESOURCE_ARM, NULL);
    json_t *routes =
        eps ? cli_call(ctx, "GET",
                       cli_arena_printf(ctx, "/dt/%s/eventroutes?api-version=2023-10-31",
                                        cli_escape(ctx, name)),
                       CLI_RESOURCE_ADT, NULL)
            : NULL;
    if (!eps || !routes) {
        check(checks, "event delivery", 0,
              cli_arena_printf(ctx, "could not list endpoints and routes: %s", ctx->err.message));
        castor_err_clear(&ctx->err);
        json_decref(eps);
        return NULL; /* an answer about access stands; this is only a warning */
    }
    const char *first = NULL;
    json_t *ep_report = json_array(), *rt_report = json_array();
    size_t i;
    json_t *ep, *rt;
    json_array_foreach(json_object_get(routes, "value"), i, rt)
    {
        const char *en = json_string_value(json_object_get(rt, "endpointName"));
        int found = 0;
        size_t j;
        json_array_foreach(json_object_get(eps, "value"), j, ep)
        {
            const char *n = json_string_value(json_object_get(ep, "name"));
            if (en && n && strcasecmp(en, n) == 0) found = 1;
        }
        json_array_append(rt_report, rt);
        if (!found) {
            const char *msg = cli_arena_printf(
                ctx,
                "route %s delivers to endpoint %s, which does not exist: events for it are kept "
                "until it does (castor dt endpoint create ... --en %s) or the route goes "
                "(castor dt route delete -n %s --rn %s)",
                json_string_value(json_object_get(rt, "id")), en ? en : "?", en ? en : "?", name,
                json_string_value(json_object_get(rt, "id")));
            check(checks, "event route", 0, msg);
            first = first ? first : msg;
        }
    }
    json_array_foreach(json_object_get(eps, "value"), i, ep)
    {
        const char *en = json_string_value(json_object_get(ep, "name"));
        json_t *props = json_object_get(ep, "properties");
        json_t *d = json_object_get(props, "delivery");
        json_int_t dead = json_integer_value(json_object_get(d, "deadLettered"));
        json_int_t lag = json_integer_value(json_object_get(d, "outboxLag"));
        const char *lerr = json_string_value(json_object_get(d, "lastError"));
        const char *where = json_string_value(json_object_get(props, "deadLetterEndpoint"));
        if (!where) where = json_string_value(json_object_get(props, "deadLetterFolder"));
        json_array_append_new(ep_report,
                              json_pack("{s:s?, s:s?, s:O?, s:s?}", "name", en, "endpointType",
                                        json_string_value(json_object_get(props, "endpointType")),
                                        "delivery", d, "deadLettersIn", where));
        if (json_is_true(json_object_get(d, "failing"))) {
            const char *msg = cli_arena_printf(
                ctx,
                "endpoint %s is failing (%lld failures in a row, %lld events waiting): %s. castor "
                "keeps retrying; events past the endpoint's TTL go to %s",
                en, (long long)json_integer_value(json_object_get(d, "failuresInARow")),
                (long long)lag, lerr ? lerr : "no error recorded",
                where ? where : "its dead letters");
            check(checks, "event endpoint", 0, msg);
            first = first ? first : msg;
        } else {
            check(checks, "event endpoint", 1,
                  cli_arena_printf(ctx, "endpoint %s: %lld delivered, %lld waiting", en,
                                   (long long)json_integer_value(json_object_get(d, "delivered")),
                                   (long long)lag));
        }
        if (dead > 0) {
            const char *msg =
                cli_arena_printf(ctx, "endpoint %s dead-lettered %lld events: they are in %s", en,
                                 (long long)dead, where ? where : "its dead letters");
            check(checks, "dead letters", 0, msg);
            first = first ? first : msg;
        }
    }
    json_object_set_new(report, "events",
                        json_pack("{s:o, s:o}", "endpoints", ep_report, "routes", rt_report));
    json_decref(eps);
    json_decref(routes);
    return first;
}

int dt_doctor(cli_ctx_t *ctx)
{
    const char *name = cli_arg(ctx, "--dt-name");
    json_t *report = json_pack("{s:s}", "instance", name);
    json_t *checks = json_array();
    json_object_set_new(report, "checks", checks);

    /* 1. A token for the data plane, as the signed-in account would use it. */
    const char *token = cli_token_get(ctx, CLI_RESOURCE_ADT, NULL);
    if (!token) {
        check(checks, "signed in", 0, ctx->err.message);
        castor_err_clear(&ctx->err);
        return finish(ctx, report, "No token for Azure Digital Twins: sign in first.", "401",
                      json_pack("{s:s}", "castor", "castor login"));
    }
    json_t *claims = jwt_claims(token);
    if (!claims) {
        check(checks, "token", 0, "the cached token is not a JWT");
        return finish(ctx, report, "The cached token cannot be read; sign in again.", "401",
                      json_pack("{s:s}", "castor", "castor login"));
    }
    /* A user's token: scp (possibly lacking what is needed), a upn, or idtyp "user". An app-only
     * token has none of them (idtyp "app"). */
    int delegated = strcmp(claim(claims, "idtyp"), "app") != 0 &&
                    (json_object_get(claims, "scp") || claim(claims, "upn")[0] ||
                     strcmp(claim(claims, "idtyp"), "user") == 0);
    /* Copies: claims is released before the verdict is written. */
    const char *who = cli_arena_strdup(
        ctx, delegated ? (claim(claims, "upn")[0] ? claim(claims, "upn") : claim(claims, "oid"))
                       : claim(claims, "appid"));
    json_object_set_new(
        report, "principal",
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind", delegated ? "user" : "application",
                  "name", who, "objectId", claim(claims, "oid"), "clientAppId",
                  json_string_value(json_object_get(claims, "appid")) ? claim(claims, "appid")
                                                                      : claim(claims, "azp"),
                  "tenantId", claim(claims, "tid"), "scopes", claim(claims, "scp")));
    const char *aud = claim(claims, "aud");
    int aud_ok =
        strncmp(aud, "https://digitaltwins.azure.net", 30) == 0 || strcmp(aud, ADT_APP_ID) == 0;
    check(checks, "token audience", aud_ok,
          cli_arena_printf(ctx, "aud is %s%s", aud,
                           aud_ok ? "" : "; the data plane needs https://digitaltwins.azure.net"));
    int scope_ok = !delegated || has_word(claim(claims, "scp"), "Read.Write");
    const char *client = cli_arena_strdup(
        ctx,
        json_string_value(json_object_get(json_object_get(report, "principal"), "clientAppId")));
    check(checks, "API permission (seed cause #2)", scope_ok,
          !delegated ? "an application token: judged by its roles alone"
          : scope_ok ? "the token carries the Azure Digital Twins scope Read.Write"
                     : cli_arena_printf(ctx,
                                        "the token's scopes '%s' lack Read.Write: client app %s "
                                        "has no consented Azure Digital Twins API permission",
                                        claim(claims, "scp"), client));

    /* 2. The instance, through the resource manager. */
    json_t *inst = cli_dt_instance(ctx);
    if (!inst) {
        check(checks, "instance", 0, ctx->err.message);
        castor_err_clear(&ctx->err);
        json_decref(claims);
        return finish(ctx, report,
                      cli_arena_printf(ctx, "No instance named '%s' that you can see.", name), NULL,
                      json_pack("{s:s}", "castor", "castor dt list -o table"));
    }
    const char *scope = cli_arena_strdup(ctx, json_string_value(json_object_get(inst, "id")));
    json_decref(inst);
    check(checks, "instance", 1, scope);
    json_object_set_new(report, "scope", json_string(scope));

    /* 3. The caller's effective data actions there (Microsoft.Authorization/permissions). */
    json_t *perms = cli_call(ctx, "GET",
                             cli_arena_printf(ctx,
                                              "%s%s/providers/Microsoft.Authorization/"
                                              "permissions?api-version=2022-04-01",
                                              ctx->server.arm, scope + 1),
                             CLI_RESOURCE_ARM, NULL);
    json_t *data_actions = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(perms, "value"), i, p)
    {
        size_t j;
        json_t *a;
        json_array_foreach(json_object_get(p, "dataActions"), j, a)
            json_array_append(data_actions, a);
    }
    json_decref(perms);
    if (!perms) castor_err_clear(&ctx->err);
    json_object_set_new(report, "effectiveDataActions", data_actions);
    check(checks, "data-plane role (seed cause #1)", json_array_size(data_actions) > 0,
          json_array_size(data_actions) ? "roles at or above the instance grant data actions"
                                        : "no role at or above the instance grants any data "
                                          "action (control-plane roles such as Owner grant none)");

    /* 4. A real call, which castor explains if it refuses. */
    if (cli_arg(ctx, "--request-id"))
        add_recorded(ctx, report, scope, cli_arg(ctx, "--request-id"));
    long status = 0;
    json_t *models = cli_call_status(
        ctx, "GET",
        cli_arena_printf(ctx, "/dt/%s/models?api-version=2022-05-31", cli_escape(ctx, name)),
        CLI_RESOURCE_ADT, NULL, &status);
    json_decref(claims);
    if (models) {
        json_decref(models);
        check(checks, "data-plane call", 1, "GET /models answered 200");
        const char *trouble = check_events(ctx, report, checks, scope, name);
        if (trouble)
            return finish(ctx, report,
                          cli_arena_printf(ctx,
                                           "Access is fine, but event delivery needs attention: "
                                           "%s",
                                           trouble),
                          "event delivery", NULL);
        return finish(ctx, report,
                      "Access is fine: this account may use the instance's data plane.", NULL,
                      NULL);
    }
    check(checks, "data-plane call", 0,
          cli_arena_printf(ctx, "GET /models answered %ld: %s", status, ctx->err.message));
    const char *message = cli_arena_strdup(ctx, ctx->err.message);
    castor_err_clear(&ctx->err);
    if (status == 401)
        return finish(ctx, report,
                      cli_arena_printf(ctx, "The token was refused (401): %s", message), "401",
                      json_pack("{s:s}", "castor", "castor login"));
    if (status == 403 && !scope_ok) {
        json_t *fix =
            json_pack("{s:s, s:s}", "castor",
                      cli_arena_printf(ctx,
                                       "castor ad app permission add --id %s --api " ADT_APP_ID
                                       " --api-permissions " ADT_SCOPE_ID
                                       "=Scope && castor ad app permission admin-consent --id %s",
                                       client, client),
                      "az",
                      cli_arena_printf(ctx,
                                       "az ad app permission add --id %s --api " ADT_APP_ID
                                       " --api-permissions " ADT_SCOPE_ID
                                       "=Scope && az ad app permission admin-consent --id %s",
                                       client, client));
        return finish(ctx, report,
                      "Seed cause #2: the client app's registration lacks the Azure Digital Twins "
                      "API permission (Read.Write). Add it, grant consent, then sign in again.",
                      "seed cause #2", fix);
    }
    if (status == 403) {
        const char *role = strstr(message, "\"Azure Digital Twins Data Reader\"")
                               ? "Azure Digital Twins Data Reader"
                               : "Azure Digital Twins Data Owner";
        json_t *fix = json_pack(
            "{s:s, s:s}", "castor",
            cli_arena_printf(
                ctx, "castor dt role-assignment create --dt-name %s --assignee %s --role \"%s\"",
                name, who, role),
            "az",
            cli_arena_printf(
                ctx, "az dt role-assignment create --dt-name %s --assignee %s --role \"%s\"", name,
                who, role));
        return finish(ctx, report,
                      cli_arena_printf(ctx,
                                       "Seed cause #1: %s has no data-plane role on '%s' that "
                                       "allows this. Someone who may assign roles there (a "
                                       "subscription Owner, say) must assign one.",
                                       who, name),
                      "seed cause #1", fix);
    }
    return finish(ctx, report,
                  cli_arena_printf(ctx, "The data plane answered %ld: %s", status, message), NULL,
                  NULL);
}
