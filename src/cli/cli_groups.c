/* cli_groups.c — the command groups of the client, in the order `castor --help` lists them.
 * A new group is one extern and one table line here (see cli.h). */
#include "cli/cli_internal.h"

extern const cli_group_t cli_group_login;
extern const cli_group_t cli_group_logout;
extern const cli_group_t cli_group_account;
extern const cli_group_t cli_group_ad;
extern const cli_group_t cli_group_cloud_config;
extern const cli_group_t cli_group_group;
extern const cli_group_t cli_group_dt;
extern const cli_group_t cli_group_role;
extern const cli_group_t cli_group_dtdl;

const cli_group_t *const cli_groups[] = {
    &cli_group_login,        &cli_group_logout,
    &cli_group_account,      &cli_group_ad,
    &cli_group_cloud_config, &cli_group_group,
    &cli_group_dt,           &cli_group_role,
    &cli_group_dtdl,         NULL,
};
