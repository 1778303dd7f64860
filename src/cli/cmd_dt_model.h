/* cmd_dt_model.h — `castor dt model …` (cmd_dt_model.c), as entries for the `dt` group's
 * command table in cmd_dt.c: one group per first word is how the framework finds commands. */
#ifndef CASTOR_CLI_CMD_DT_MODEL_H
#define CASTOR_CLI_CMD_DT_MODEL_H

#include "cli/cli.h"

int dt_model_create(cli_ctx_t *ctx);
int dt_model_list(cli_ctx_t *ctx);
int dt_model_show(cli_ctx_t *ctx);
int dt_model_update(cli_ctx_t *ctx);
int dt_model_delete(cli_ctx_t *ctx);
extern const cli_flag_t dt_model_create_flags[];
extern const cli_flag_t dt_model_list_flags[];
extern const cli_flag_t dt_model_show_flags[];
extern const cli_flag_t dt_model_update_flags[];
extern const cli_flag_t dt_model_delete_flags[];

#define CLI_DT_MODEL_TOPICS {"dt model", "Manage the DTDL models of an instance."},

#define CLI_DT_MODEL_COMMANDS                                                                      \
    {"dt model create",                                                                            \
     "Upload DTDL models (a file, a folder or JSON) to an instance.",                              \
     "castor dt model create -n my-dt --models ./ontology",                                        \
     dt_model_create_flags,                                                                        \
     dt_model_create,                                                                              \
     "id,decommissioned,uploadTime"},                                                              \
        {"dt model list",                                                                          \
         "List an instance's models (every page).",                                                \
         "castor dt model list -n my-dt --dependencies-for dtmi:com:example:Room;1",               \
         dt_model_list_flags,                                                                      \
         dt_model_list,                                                                            \
         "id,decommissioned,uploadTime"},                                                          \
        {"dt model show",                                                                          \
         "Show one model.",                                                                        \
         "castor dt model show -n my-dt --dtmi dtmi:com:example:Room;1 --definition",              \
         dt_model_show_flags,                                                                      \
         dt_model_show,                                                                            \
         "id,decommissioned,uploadTime"},                                                          \
        {"dt model update",                                                                        \
         "Decommission a model.",                                                                  \
         "castor dt model update -n my-dt --dtmi dtmi:com:example:Room;1 --decommission",          \
         dt_model_update_flags,                                                                    \
         dt_model_update,                                                                          \
         "id,decommissioned,uploadTime"},                                                          \
        {"dt model delete",                                                                        \
         "Delete a model no other model depends on.",                                              \
         "castor dt model delete -n my-dt --dtmi dtmi:com:example:Room;1",                         \
         dt_model_delete_flags,                                                                    \
         dt_model_delete,                                                                          \
         NULL},

#endif
