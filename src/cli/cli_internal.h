/* cli_internal.h — what the framework's own files share, and the pure pieces the unit tests
 * call directly (precedence, expiry, redaction). Command files need only cli.h. */
#ifndef CASTOR_CLI_INTERNAL_H
#define CASTOR_CLI_INTERNAL_H

#include "cli/cli.h"

/* The group table (cli_groups.c), NULL-terminated. */
extern const cli_group_t *const cli_groups[];

/* Frees the curl handle of a command, if one was made. */
void cli_http_cleanup(cli_ctx_t *ctx);

/* --- config (cli_config.c) ------------------------------------------------------------- */

/* $CASTOR_CONFIG_DIR, else $HOME/.castor. Fails when neither is set. */
int cli_config_dir(char *buf, size_t size, castor_err *err);
/* cli_config_dir + "/" + name. */
int cli_config_path(const char *name, char *buf, size_t size, castor_err *err);
/* A JSON file, or NULL when it is absent or not JSON. New reference. */
json_t *cli_json_file_read(const char *path);
/* Writes a JSON file with mode 0600 (atomically, via a temporary file in the same folder),
 * creating its folder with mode 0700. */
int cli_json_file_write(const char *path, const json_t *value, castor_err *err);

/* The sources of the server address, highest precedence first; any may be NULL. */
typedef struct cli_server_sources {
    const char *flag_url, *flag_ca;
    const char *env_url, *env_ca;
    const json_t *config;     /* ~/.castor/config.json: server, caFile, tenantId, … */
    const json_t *connection; /* ./castor-data/connection.json: authority, caFile, tenantId, … */
} cli_server_sources_t;

/* Picks each field by precedence (see cli.h). A CA, tenant or subscription from a lower
 * source is used only when that source describes the same server URL. Pure. */
int cli_server_resolve(const cli_server_sources_t *src, cli_server_t *out, castor_err *err);

/* Saves the server (and tenant, subscription) `castor login` used to ~/.castor/config.json. */
int cli_config_save(cli_ctx_t *ctx);

/* --- tokens (cli_token.c) -------------------------------------------------------------- */

/* 1 when a token expiring at expires_on is still good at now (more than CLI_TOKEN_SKEW_S). */
int cli_token_fresh(int64_t expires_on, int64_t now);

/* The scope to ask for: a resource gets "/.default" appended (not trimming a trailing slash,
 * as az does); a scope (".../.default", ".../Read.Write") is kept. Arena. */
const char *cli_scope_of(cli_ctx_t *ctx, const char *resource_or_scope);

/* The signed-in session, ~/.castor/tokens.json (0600), or NULL. New reference. */
json_t *cli_session_load(cli_ctx_t *ctx);
int cli_session_save(cli_ctx_t *ctx, const json_t *session);
/* Removes tokens.json; 1 when there was one. */
int cli_session_remove(cli_ctx_t *ctx);

/* Records a token response for scope in session.tokens (and a rotated refresh token). */
int cli_session_store_token(cli_ctx_t *ctx, json_t *session, const char *scope,
                            const json_t *token_response);

/* POSTs a form to the identity plane (path like "/TENANT/oauth2/v2.0/token"). Returns the
 * parsed answer on 200; otherwise NULL with ctx->err filled from the OAuth error, and, when
 * oauth_error is not NULL, the `error` code copied there (e.g. "authorization_pending"). */
json_t *cli_oauth_post(cli_ctx_t *ctx, const char *path, const char *form, char *oauth_error,
                       size_t oauth_error_size);

/* Builds "k1=v1&k2=v2" with percent-encoding from NULL-terminated key, value pairs; a NULL
 * value skips its key. Arena. */
char *cli_form(cli_ctx_t *ctx, ...);

/* The claims of a JWT (payload only, not verified). New reference or NULL. */
json_t *cli_jwt_claims(const char *jwt);

/* The client id castor's CLI signs in with. */
const char *cli_client_id(void);

/* az's account object ({environmentName, id, name, tenantId, user{name,type}, …}) for one
 * subscription {id, name, state} of the session. New reference. */
json_t *cli_account_object(const json_t *session, const json_t *sub, int is_default);

/* --- redaction (cli_http.c) ------------------------------------------------------------ */

/* 1 when a form field or JSON member of this name holds a secret. */
int cli_is_secret_name(const char *name);
/* A copy of a form body with secret values replaced by "<redacted>". Arena. */
char *cli_redact_form(cli_ctx_t *ctx, const char *form);
/* A deep copy of a JSON value with secret members replaced. New reference. */
json_t *cli_redact_json(const json_t *value);

#endif
