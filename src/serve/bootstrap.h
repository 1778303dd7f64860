/* bootstrap.h — what the first start creates, and the connection file every start writes.
 *
 * The contract tests and users rely on: a tenant with domain castor.local; a user
 * admin@castor.local (password from CASTOR_ADMIN_PASSWORD, else generated and shown once); a
 * subscription "castor-default" in which that user is Owner — a control-plane role only, so,
 * as in Azure, it grants no data-plane access. Later starts reuse all of it. */
#ifndef CASTOR_SERVE_BOOTSTRAP_H
#define CASTOR_SERVE_BOOTSTRAP_H

#include "serve/config.h"
#include "store/store_arm.h"
#include "store/store_directory.h"

#define BOOTSTRAP_DOMAIN "castor.local"
#define BOOTSTRAP_ADMIN_UPN "admin@castor.local"
#define BOOTSTRAP_SUBSCRIPTION_NAME "castor-default"
/* Azure's built-in Owner role. */
#define BOOTSTRAP_OWNER_ROLE_ID "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"

typedef struct bootstrap_result {
    char tenant_id[37];
    char subscription_id[37];
    char admin_id[37];
    char admin_upn[256];
    char generated_password[64]; /* set only when this start generated it; print once */
    int first_start;
    int password_reset; /* CASTOR_ADMIN_PASSWORD replaced the admin's password */
} bootstrap_result_t;

/* Creates the bootstrap objects on first start (one transaction: all or nothing) or reads
 * them back. admin_password may be NULL (generate one). */
int bootstrap_run(store_t *store, const char *admin_password, bootstrap_result_t *out,
                  castor_err *err);

/* Writes DIR/connection.json: authority, tenantId, subscriptionId, resourceManager, graph,
 * caFile, adminUser. */
int bootstrap_write_connection(const serve_config_t *cfg, const bootstrap_result_t *boot,
                               const char *ca_path, castor_err *err);

/* argon2id hash of password into out (STORE_HASH_MAX bytes). */
int bootstrap_hash_password(const char *password, char *out, castor_err *err);

#endif
