/* cmd_dt_route.h — `castor dt route …` (cmd_dt_route.c), as entries for the `dt` group's
 * command table in cmd_dt.c. */
#ifndef CASTOR_CLI_CMD_DT_ROUTE_H
#define CASTOR_CLI_CMD_DT_ROUTE_H

#include "cli/cli.h"

int dt_route_create(cli_ctx_t *ctx);
int dt_route_show(cli_ctx_t *ctx);
int dt_route_list(cli_ctx_t *ctx);
int dt_route_delete(cli_ctx_t *ctx);
extern const cli_flag_t dt_route_create_flags[], dt_route_show_flags[], dt_route_list_flags[],
    dt_route_delete_flags[];

#define CLI_DT_ROUTE_TOPICS {"dt route", "Manage event routes: which events go to which endpoint."},

#define CLI_DT_ROUTE_COMMANDS                                                                        \
    {"dt route create",                                                                              \
     "Create or replace an event route.",                                                            \
     "castor dt route create -n my-dt --rn r1 --en hook1 --filter "                                  \
     "\"type = 'Microsoft.DigitalTwins.Twin.Create'\"",                                              \
     dt_route_create_flags,                                                                          \
     dt_route_create,                                                                                \
     "id,endpointName,filter"},                                                                      \
        {"dt route show",     "Show an event route.", "castor dt route show -n my-dt --rn r1",       \
         dt_route_show_flags, dt_route_show,          "id,endpointName,filter"},                     \
        {"dt route list",                                                                            \
         "List an instance's event routes (every page).",                                            \
         "castor dt route list -n my-dt -o table",                                                   \
         dt_route_list_flags,                                                                        \
         dt_route_list,                                                                              \
         "id,endpointName,filter"},                                                                  \
        {"dt route delete",     "Delete an event route.", "castor dt route delete -n my-dt --rn r1", \
         dt_route_delete_flags, dt_route_delete,          NULL},

#endif
