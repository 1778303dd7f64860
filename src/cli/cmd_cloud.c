/* cmd_cloud.c — `castor cloud-config`: the file for `az cloud register --cloud-config @file`
 * that points the real Azure CLI (2.45) at this castor.
 *
 * activeDirectory ends in /adfs because MSAL skips instance discovery (which would go to
 * login.microsoftonline.com) and the userrealm call only for an ADFS-style authority
 * (../shared/reference/real-clients-cli-python.md §1). microsoftGraphResourceId is both
 * Graph's base URL and its token resource for az (§3), so it is castor's own URL. */
#include "cli/cli_internal.h"

#include "identity/idn.h"

/* The document comes from the identity plane's own definition, so what az is told and what
 * the server serves cannot drift apart; only the server's URL is needed. */
static int cloud_config_run(cli_ctx_t *ctx)
{
    if (cli_server_load(ctx) < 0) return ctx->err.rc;
    json_t *doc = idn_cloud_config(ctx->server.url);
    if (!doc) return cli_fail(ctx, CASTOR_ENOMEM, "out of memory");
    return cli_result(ctx, doc);
}

static const cli_command_t cloud_commands[] = {
    {"cloud-config",
     "Print the JSON for `az cloud register --cloud-config @file` that points az at this castor.",
     "castor cloud-config > castor-cloud.json && az cloud register -n castor --cloud-config "
     "@castor-cloud.json && az cloud set -n castor",
     NULL, cloud_config_run, NULL},
    {0}};

const cli_group_t cli_group_cloud_config = {"cloud-config", NULL, cloud_commands};
