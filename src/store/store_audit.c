/* store_audit.c — the audit log (see store_audit.h). */
#include "store/store_audit.h"
#include "store/store_engine.h"

#include <string.h>

int store_audit_add(store_txn_t *t, const store_audit_event_t *e, castor_err *err)
{
    store_param_t p[] = {SP_I(e->time),
                         SP_T(e->request_id),
                         SP_T(e->kind),
                         SP_I(e->status),
                         SP_T(e->cause ? e->cause : ""),
                         SP_T(e->principal_id ? e->principal_id : ""),
                         SP_T(e->principal_name ? e->principal_name : ""),
                         SP_T(e->app_id ? e->app_id : ""),
                         SP_T(e->action ? e->action : ""),
                         SP_T(e->scope ? e->scope : ""),
                         SP_T(e->detail)};
    return store_exec(t,
                      "INSERT INTO audit_events (time, request_id, kind, status, cause, "
                      "principal_id, principal_name, app_id, action, scope, detail) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      p, 11, NULL, NULL, NULL, err);
}

typedef struct audit_walk {
    int (*fn)(const store_audit_event_t *e, void *ctx);
    void *ctx;
} audit_walk_t;

static int audit_row(const store_row_t *row, void *ctx)
{
    audit_walk_t *w = ctx;
    store_audit_event_t e = {
        .time = store_row_int(row, 0),
        .request_id = store_row_text(row, 1),
        .kind = store_row_text(row, 2),
        .status = (int)store_row_int(row, 3),
        .cause = store_row_text(row, 4),
        .principal_id = store_row_text(row, 5),
        .principal_name = store_row_text(row, 6),
        .app_id = store_row_text(row, 7),
        .action = store_row_text(row, 8),
        .scope = store_row_text(row, 9),
        .detail = store_row_is_null(row, 10) ? NULL : store_row_text(row, 10),
    };
    return w->fn(&e, w->ctx);
}

int store_audit_each(store_txn_t *t, const char *request_id, const char *scope_prefix, int limit,
                     int (*fn)(const store_audit_event_t *e, void *ctx), void *ctx, castor_err *err)
{
    audit_walk_t w = {fn, ctx};
    /* The prefix test is a range on the lower-cased scope plus an exact match, so it stays a
     * plain comparison both engines index; '/' + 1 is '0'. */
    store_param_t p[] = {SP_T(request_id),   SP_T(request_id),   SP_T(scope_prefix),
                         SP_T(scope_prefix), SP_T(scope_prefix), SP_I(limit > 0 ? limit : 100)};
    return store_exec(
        t,
        "SELECT time, request_id, kind, status, cause, principal_id, "
        "principal_name, app_id, action, scope, detail FROM audit_events "
        "WHERE (CAST(? AS TEXT) IS NULL OR request_id = ?) "
        "AND (CAST(? AS TEXT) IS NULL OR lower(scope) = lower(?) OR lower(scope) LIKE "
        "lower(?) || '/%') ORDER BY seq DESC LIMIT ?",
        p, 6, audit_row, &w, NULL, err);
}
