/* access_explain.h — why the data plane refused: the cause, and what a user reads about it.
 *
 * The data plane's guard runs after the shared checks (route, body, api-version, JSON) and
 * before any handler, in this order — the first failure answers:
 *   1. the instance named in /dt/{name} exists                          else 404
 *   2. a valid ADT bearer token (access_bearer, audience DATA)            else 401
 *   3. a delegated (user) token carries the ADT scope Read.Write        else 403, seed cause #2
 *   4. RBAC grants the route's data action at the instance's scope      else 403, seed cause #1
 * Every refusal explains itself: ADT's status and code (SDKs behave the same), a message that
 * names the cause and the one command that fixes it, and a structured "innererror" with the
 * principal as castor saw it, the data action, the scope, and each of the caller's own
 * assignments near it with why it did not grant. Only the caller's own assignments (and their
 * groups') are ever shown. `castor serve --compat-empty-403` answers 403s with Azure's empty
 * body instead. */
#ifndef CASTOR_ACCESS_EXPLAIN_H
#define CASTOR_ACCESS_EXPLAIN_H

#include "access/access.h"
#include "http/router.h"
#include "rbac/rbac.h"

/* The cause of a refusal, as doctor, tests and the audit log name it. */
typedef enum access_cause {
    ACCESS_ALLOWED = 0,
    ACCESS_NO_INSTANCE,        /* 404: no such instance */
    ACCESS_UNAUTHENTICATED,    /* 401: see access_reason_t for which check failed */
    ACCESS_MISSING_SCOPE,      /* 403, cause #2: delegated token without Read.Write */
    ACCESS_NO_ASSIGNMENT,      /* 403, cause #1: the principal has no role assignment at all */
    ACCESS_CONTROL_PLANE_ONLY, /* 403, cause #1: only control-plane roles (e.g. Owner) cover it */
    ACCESS_ROLE_LACKS_ACTION,  /* 403: a data role covers the instance but not this action */
    ACCESS_SCOPE_ELSEWHERE,    /* 403: a role that would grant it is assigned elsewhere */
    ACCESS_CARVED_OUT          /* 403: granted, then removed by the role's NotDataActions */
} access_cause_t;

/* A short stable name ("control-plane-only") and the seed cause number (1, 2, or 0). */
const char *access_cause_name(access_cause_t cause);
int access_seed_cause(access_cause_t cause);

/* What access_explain_denial works from (all borrowed). */
typedef struct access_denial {
    const char *instance;       /* the instance's name */
    const char *instance_scope; /* its ARM id */
    const char *data_action;
    const access_principal_t *who;
    const rbac_explanation_t *rbac; /* NULL for the scope cause */
} access_denial_t;

/* Classifies a denial (scope cause, or the strongest RBAC reason among the caller's
 * assignments). */
access_cause_t access_classify(const access_denial_t *d);

/* Writes the message a user reads and the structured innererror (a new reference the caller
 * owns) for a 403; strings in arena. */
int access_explain_denial(const access_denial_t *d, access_cause_t cause, arena_t *arena,
                          const char **message_out, json_t **inner_out, castor_err *err);

/* The Azure Digital Twins first-party application and its delegated scope. */
#define ACCESS_ADT_APP_ID "0b07f429-9f4b-4714-9392-cc5e8e80c8b0"
#define ACCESS_ADT_SCOPE "Read.Write"
#define ACCESS_ADT_SCOPE_ID "4589bd03-58cb-4e6c-b17f-b580e39652f8"

#endif
