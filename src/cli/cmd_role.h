/* cmd_role.h — what `castor role …` shares with `castor dt role-assignment …`: resolving an
 * assignee and a role the way az does, and creating/listing/deleting assignments at a scope. */
#ifndef CASTOR_CLI_CMD_ROLE_H
#define CASTOR_CLI_CMD_ROLE_H

#include "cli/cli.h"

/* ARM URL for a path ("/subscriptions/..."), arena memory; NULL with ctx->err. */
const char *role_arm_url(cli_ctx_t *ctx, const char *path);
/* Creates an assignment of role (name, legacy name or GUID) to assignee (UPN, appId or object
 * id) at scope; hands az's flattened shape to cli_result. */
int role_assignment_create_at(cli_ctx_t *ctx, const char *scope, const char *assignee,
                              const char *role);
/* Lists assignments at scope (atScope(); only those exactly at scope unless inherited),
 * optionally of one assignee and one role, in az's shape. *out gets the array. */
int role_assignment_list_at(cli_ctx_t *ctx, const char *scope, const char *assignee,
                            const char *role, int inherited, json_t **out);
/* Deletes the assignments of assignee (and role, when given) at scope. */
int role_assignment_delete_at(cli_ctx_t *ctx, const char *scope, const char *assignee,
                              const char *role);

#endif
