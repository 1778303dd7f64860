/* store_audit.h — the audit log: every data-plane refusal and every role change, with who,
 * what, where and why (see store.h for the rules every accessor follows). */
#ifndef CASTOR_STORE_AUDIT_H
#define CASTOR_STORE_AUDIT_H

#include "store/store.h"

typedef struct store_audit_event {
    int64_t time;             /* epoch seconds */
    const char *request_id;   /* x-ms-request-id of the request */
    const char *kind;         /* "denied", "roleAssignment/write", "roleAssignment/delete", ... */
    int status;               /* HTTP status answered (403, 401, 200, 201...) */
    const char *cause;        /* authz cause name, or "" */
    const char *principal_id; /* object id of the caller, or "" when unknown */
    const char *principal_name;
    const char *app_id;
    const char *action; /* the data action or control-plane action */
    const char *scope;  /* the resource scope */
    const char *detail; /* JSON text: the explanation or the change; may be NULL */
} store_audit_event_t;

/* Appends one event. */
int store_audit_add(store_txn_t *t, const store_audit_event_t *e, castor_err *err);

/* Calls fn for events matching the filters (NULL = any), newest first, at most limit.
 * scope_prefix matches the event's scope at or below it (case-insensitive). The strings in
 * *e are valid only during the call. */
int store_audit_each(store_txn_t *t, const char *request_id, const char *scope_prefix, int limit,
                     int (*fn)(const store_audit_event_t *e, void *ctx), void *ctx,
                     castor_err *err);

#endif
