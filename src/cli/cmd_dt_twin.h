/* cmd_dt_twin.h — `castor dt twin …` (cmd_dt_twin.c), as entries for the `dt` group's command
 * table in cmd_dt.c: one group per first word is how the framework finds commands. */
#ifndef CASTOR_CLI_CMD_DT_TWIN_H
#define CASTOR_CLI_CMD_DT_TWIN_H

#include "cli/cli.h"

int dt_twin_create(cli_ctx_t *ctx);
int dt_twin_show(cli_ctx_t *ctx);
int dt_twin_update(cli_ctx_t *ctx);
int dt_twin_delete(cli_ctx_t *ctx);
int dt_twin_list(cli_ctx_t *ctx);
int dt_rel_create(cli_ctx_t *ctx);
int dt_rel_show(cli_ctx_t *ctx);
int dt_rel_update(cli_ctx_t *ctx);
int dt_rel_delete(cli_ctx_t *ctx);
int dt_rel_list(cli_ctx_t *ctx);
int dt_component_show(cli_ctx_t *ctx);
int dt_component_update(cli_ctx_t *ctx);
int dt_telemetry_send(cli_ctx_t *ctx);
extern const cli_flag_t dt_twin_create_flags[], dt_twin_show_flags[], dt_twin_update_flags[],
    dt_twin_delete_flags[], dt_twin_list_flags[], dt_rel_create_flags[], dt_rel_show_flags[],
    dt_rel_update_flags[], dt_rel_delete_flags[], dt_rel_list_flags[], dt_component_show_flags[],
    dt_component_update_flags[], dt_telemetry_send_flags[];

#define CLI_DT_TWIN_TOPICS                                                                         \
    {"dt twin", "Manage digital twins, their relationships, components and telemetry."},           \
        {"dt twin relationship", "Manage a twin's relationships."},                                \
        {"dt twin component", "Read and update a twin's components."},                             \
        {"dt twin telemetry", "Send telemetry on behalf of a twin."},

#define CLI_DT_TWIN_COMMANDS                                                                       \
    {"dt twin create",                                                                             \
     "Create or replace a digital twin.",                                                          \
     "castor dt twin create -n my-dt -m dtmi:ex:Room;1 -t room1 -p '{\"temp\":21}'",               \
     dt_twin_create_flags,                                                                         \
     dt_twin_create,                                                                               \
     "$dtId,$etag"},                                                                               \
        {"dt twin show",     "Show a digital twin.", "castor dt twin show -n my-dt -t room1",      \
         dt_twin_show_flags, dt_twin_show,           "$dtId,$etag"},                               \
        {"dt twin update",                                                                         \
         "Apply a JSON Patch to a twin and print it.",                                             \
         "castor dt twin update -n my-dt -t room1 --json-patch "                                   \
         "'[{\"op\":\"replace\",\"path\":\"/temp\",\"value\":22}]'",                               \
         dt_twin_update_flags,                                                                     \
         dt_twin_update,                                                                           \
         "$dtId,$etag"},                                                                           \
        {"dt twin delete",                                                                         \
         "Delete a twin (it must have no relationships).",                                         \
         "castor dt twin delete -n my-dt -t room1",                                                \
         dt_twin_delete_flags,                                                                     \
         dt_twin_delete,                                                                           \
         NULL},                                                                                    \
        {"dt twin list",                                                                           \
         "List every twin (through the query API).",                                               \
         "castor dt twin list -n my-dt -o table",                                                  \
         dt_twin_list_flags,                                                                       \
         dt_twin_list,                                                                             \
         "$dtId,$etag"},                                                                           \
        {"dt twin relationship create",                                                            \
         "Create or replace a relationship.",                                                      \
         "castor dt twin relationship create -n my-dt -t floor1 -r r1 --target room1 "             \
         "--kind contains",                                                                        \
         dt_rel_create_flags,                                                                      \
         dt_rel_create,                                                                            \
         "$relationshipId,$sourceId,$targetId"},                                                   \
        {"dt twin relationship show",                                                              \
         "Show a relationship.",                                                                   \
         "castor dt twin relationship show -n my-dt -t floor1 -r r1",                              \
         dt_rel_show_flags,                                                                        \
         dt_rel_show,                                                                              \
         "$relationshipId,$sourceId,$targetId"},                                                   \
        {"dt twin relationship update",                                                            \
         "Apply a JSON Patch to a relationship's properties.",                                     \
         "castor dt twin relationship update -n my-dt -t floor1 -r r1 --json-patch "               \
         "'[{\"op\":\"add\",\"path\":\"/since\",\"value\":\"2024\"}]'",                            \
         dt_rel_update_flags,                                                                      \
         dt_rel_update,                                                                            \
         "$relationshipId,$sourceId,$targetId"},                                                   \
        {"dt twin relationship delete",                                                            \
         "Delete a relationship.",                                                                 \
         "castor dt twin relationship delete -n my-dt -t floor1 -r r1",                            \
         dt_rel_delete_flags,                                                                      \
         dt_rel_delete,                                                                            \
         NULL},                                                                                    \
        {"dt twin relationship list",                                                              \
         "List a twin's relationships (every page).",                                              \
         "castor dt twin relationship list -n my-dt -t floor1 --kind contains",                    \
         dt_rel_list_flags,                                                                        \
         dt_rel_list,                                                                              \
         "$relationshipId,$sourceId,$targetId"},                                                   \
        {"dt twin component show",                                                                 \
         "Show one component of a twin.",                                                          \
         "castor dt twin component show -n my-dt -t room1 --component thermostat",                 \
         dt_component_show_flags,                                                                  \
         dt_component_show,                                                                        \
         NULL},                                                                                    \
        {"dt twin component update",                                                               \
         "Apply a JSON Patch to a component and print it.",                                        \
         "castor dt twin component update -n my-dt -t room1 --component thermostat "               \
         "--json-patch '[{\"op\":\"add\",\"path\":\"/target\",\"value\":20}]'",                    \
         dt_component_update_flags,                                                                \
         dt_component_update,                                                                      \
         NULL},                                                                                    \
        {"dt twin telemetry send",                                                                 \
         "Send telemetry as a twin (or one of its components).",                                   \
         "castor dt twin telemetry send -n my-dt -t room1 --telemetry '{\"temp\":21.5}'",          \
         dt_telemetry_send_flags,                                                                  \
         dt_telemetry_send,                                                                        \
         NULL},

#endif
