/* authz.h — data-plane access control: who may call an instance's data plane, and why not.
 *
 * The data plane's guard runs after the shared checks (route, body, api-version, JSON) and
 * before any handler, in this order — the first failure answers:
 *   1. the instance named in /dt/{name} exists                          else 404
 *   2. a valid ADT bearer token (auth_bearer, audience DATA)            else 401
 *   3. a delegated (user) token carries the ADT scope Read.Write        else 403, seed cause #2
 *   4. RBAC grants the route's data action at the instance's scope      else 403, seed cause #1
 * Every refusal explains itself: ADT's status and code (SDKs behave the same), a message that
 * names the cause and the one command that fixes it, and a structured "innererror" with the
 * principal as castor saw it, the data action, the scope, and each of the caller's own
 * assignments near it with why it did not grant. Only the caller's own assignments (and their
 * groups') are ever shown. `castor serve --compat-empty-403` answers 403s with Azure's empty
 * body instead. */
#ifndef CASTOR_AUTHZ_AUTHZ_H
#define CASTOR_AUTHZ_AUTHZ_H

#include "auth/auth.h"
#include "http/router.h"
#include "rbac/rbac.h"

/* The cause of a refusal, as doctor, tests and the audit log name it. */
typedef enum authz_cause {
    AUTHZ_ALLOWED = 0,
    AUTHZ_NO_INSTANCE,        /* 404: no such instance */
    AUTHZ_UNAUTHENTICATED,    /* 401: see auth_reason for which check failed */
    AUTHZ_MISSING_SCOPE,      /* 403, cause #2: delegated token without Read.Write */
    AUTHZ_NO_ASSIGNMENT,      /* 403, cause #1: the principal has no role assignment at all */
    AUTHZ_CONTROL_PLANE_ONLY, /* 403, cause #1: only control-plane roles (e.g. Owner) cover it */
    AUTHZ_ROLE_LACKS_ACTION,  /* 403: a data role covers the instance but not this action */
    AUTHZ_SCOPE_ELSEWHERE,    /* 403: a role that would grant it is assigned elsewhere */
    AUTHZ_CARVED_OUT          /* 403: granted, then removed by the role's NotDataActions */
} authz_cause_t;

/* A short stable name ("control-plane-only") and the seed cause number (1, 2, or 0). */
const char *authz_cause_name(authz_cause_t cause);
int authz_seed_cause(authz_cause_t cause);

/* The guard serve.c installs for HTTP_PLANE_DATA. */
int authz_data_guard(http_request_t *req, const http_route_t *route, castor_err *err);

/* What authz_explain_denial works from (all borrowed). */
typedef struct authz_denial {
    const char *instance;       /* the instance's name */
    const char *instance_scope; /* its ARM id */
    const char *data_action;
    const auth_principal_t *who;
    const rbac_explanation_t *rbac; /* NULL for the scope cause */
} authz_denial_t;

/* Classifies a denial (scope cause, or the strongest RBAC reason among the caller's
 * assignments). */
authz_cause_t authz_classify(const authz_denial_t *d);

/* Writes the message a user reads and the structured innererror (a new reference the caller
 * owns) for a 403; strings in arena. */
int authz_explain_denial(const authz_denial_t *d, authz_cause_t cause, arena_t *arena,
                         const char **message_out, json_t **inner_out, castor_err *err);

/* The Azure Digital Twins first-party application and its delegated scope. */
#define AUTHZ_ADT_APP_ID "0b07f429-9f4b-4714-9392-cc5e8e80c8b0"
#define AUTHZ_ADT_SCOPE "Read.Write"
#define AUTHZ_ADT_SCOPE_ID "4589bd03-58cb-4e6c-b17f-b580e39652f8"

#endif
