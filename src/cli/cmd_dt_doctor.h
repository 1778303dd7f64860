/* cmd_dt_doctor.h — `castor dt doctor` (cmd_dt_doctor.c), an entry of the dt group's table. */
#ifndef CASTOR_CLI_CMD_DT_DOCTOR_H
#define CASTOR_CLI_CMD_DT_DOCTOR_H

#include "cli/cli.h"

int dt_doctor(cli_ctx_t *ctx);
extern const cli_flag_t dt_doctor_flags[];

/* The instance named by --dt-name (and -g) through the resource manager (cmd_dt.c). New
 * reference, or NULL with ctx->err. */
json_t *cli_dt_instance(cli_ctx_t *ctx);

#define CLI_DT_DOCTOR_COMMANDS                                                                     \
    {"dt doctor",                                                                                  \
     "Find out why the signed-in account gets 401/403 from an instance, and how to fix it.",       \
     "castor dt doctor -n my-dt",                                                                  \
     dt_doctor_flags,                                                                              \
     dt_doctor,                                                                                    \
     "check,result,detail"},

#endif
