/* cmd_dt_endpoint.h — `castor dt endpoint …` (cmd_dt_endpoint.c), as entries for the `dt`
 * group's command table in cmd_dt.c. */
#ifndef CASTOR_CLI_CMD_DT_ENDPOINT_H
#define CASTOR_CLI_CMD_DT_ENDPOINT_H

#include "cli/cli.h"

int dt_endpoint_create_eventgrid(cli_ctx_t *ctx);
int dt_endpoint_create_webhook(cli_ctx_t *ctx);
int dt_endpoint_create_mqtt(cli_ctx_t *ctx);
int dt_endpoint_show(cli_ctx_t *ctx);
int dt_endpoint_list(cli_ctx_t *ctx);
int dt_endpoint_delete(cli_ctx_t *ctx);
extern const cli_flag_t dt_endpoint_eventgrid_flags[], dt_endpoint_webhook_flags[],
    dt_endpoint_mqtt_flags[], dt_endpoint_show_flags[], dt_endpoint_list_flags[],
    dt_endpoint_delete_flags[];

#define CLI_DT_ENDPOINT_TOPICS                                                                     \
    {"dt endpoint", "Manage the endpoints event routes deliver to."},                              \
        {"dt endpoint create", "Create or replace an endpoint of one type."},

#define CLI_DT_ENDPOINT_COMMANDS                                                                   \
    {"dt endpoint create eventgrid",                                                               \
     "Create or replace an Event Grid endpoint (delivered as a CloudEvents webhook).",             \
     "castor dt endpoint create eventgrid -n my-dt --en eg1 --endpoint-uri "                       \
     "https://topic.example/api/events --access-key KEY",                                          \
     dt_endpoint_eventgrid_flags,                                                                  \
     dt_endpoint_create_eventgrid,                                                                 \
     NULL},                                                                                        \
        {"dt endpoint create webhook",                                                             \
         "Create or replace a webhook endpoint (CloudEvents 1.0 POST).",                           \
         "castor dt endpoint create webhook -n my-dt --en hook1 --endpoint-uri "                   \
         "https://hooks.example/adt --access-key KEY",                                             \
         dt_endpoint_webhook_flags,                                                                \
         dt_endpoint_create_webhook,                                                               \
         NULL},                                                                                    \
        {"dt endpoint create mqtt",                                                                \
         "Create or replace an MQTT endpoint (publish, QoS 1).",                                   \
         "castor dt endpoint create mqtt -n my-dt --en mq1 --endpoint-uri mqtt://broker:1883 "     \
         "--topic 'site/{twinId}/{type}' --username adt --password PW",                            \
         dt_endpoint_mqtt_flags,                                                                   \
         dt_endpoint_create_mqtt,                                                                  \
         NULL},                                                                                    \
        {"dt endpoint show",                                                                       \
         "Show an endpoint (secrets read as null).",                                               \
         "castor dt endpoint show -n my-dt --en hook1",                                            \
         dt_endpoint_show_flags,                                                                   \
         dt_endpoint_show,                                                                         \
         NULL},                                                                                    \
        {"dt endpoint list",                                                                       \
         "List an instance's endpoints.",                                                          \
         "castor dt endpoint list -n my-dt -o table",                                              \
         dt_endpoint_list_flags,                                                                   \
         dt_endpoint_list,                                                                         \
         NULL},                                                                                    \
        {"dt endpoint delete",                                                                     \
         "Delete an endpoint (no route may use it).",                                              \
         "castor dt endpoint delete -n my-dt --en hook1 -y",                                       \
         dt_endpoint_delete_flags,                                                                 \
         dt_endpoint_delete,                                                                       \
         NULL},

#endif
