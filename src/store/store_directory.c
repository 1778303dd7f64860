/* store_directory.c — the identity plane's records (see store_directory.h). */
#include "store/store_copy.h"
#include "store/store_directory.h"
#include "store/store_engine.h"

#include <stdlib.h>
#include <string.h>

/* One-row lookups share this: run, then turn "no row" into CASTOR_ENOTFOUND with what. */
static int get_one(store_txn_t *t, const char *sql, const store_param_t *p, int np, store_row_fn fn,
                   void *out, const char *what, const char *key, castor_err *err)
{
    store_collect_t c = {out, 1, 0};
    int rc = store_exec(t, sql, p, np, fn, &c, NULL, err);
    if (rc < 0) return rc;
    if (!c.count) return castor_err_set(err, CASTOR_ENOTFOUND, "no %s %s", what, key);
    return CASTOR_OK;
}

/* A write that must touch one row, else CASTOR_ENOTFOUND. */
static int change_one(store_txn_t *t, const char *sql, const store_param_t *p, int np,
                      const char *what, const char *key, castor_err *err)
{
    int64_t changed = 0;
    int rc = store_exec(t, sql, p, np, NULL, NULL, &changed, err);
    if (rc == 0 && changed == 0)
        return castor_err_set(err, CASTOR_ENOTFOUND, "no %s %s", what, key);
    return rc;
}

/* ---- tenants ---- */

static int tenant_one(const store_row_t *row, void *ctx)
{
    store_collect_t *c = ctx;
    if (c->count < c->max) {
        store_tenant_t *t = (store_tenant_t *)c->out + c->count;
        memset(t, 0, sizeof *t);
        STORE_COPY(t->id, row, 0);
        STORE_COPY(t->domain, row, 1);
        STORE_COPY(t->display_name, row, 2);
        t->created = store_row_int(row, 3);
    }
    c->count++;
    return 0;
}

#define TENANT_COLS "SELECT id, domain, display_name, created FROM tenants "

int store_tenant_create(store_txn_t *t, const store_tenant_t *tenant, castor_err *err)
{
    store_param_t p[] = {SP_T(tenant->id), SP_T(tenant->domain), SP_T(tenant->display_name),
                         SP_I(tenant->created)};
    int rc = store_exec(t,
                        "INSERT INTO tenants (id, domain, display_name, created) "
                        "VALUES (?, ?, ?, ?)",
                        p, 4, NULL, NULL, NULL, err);
    if (rc == CASTOR_ECONFLICT)
        castor_err_set(err, rc, "a tenant with id %s or domain %s exists already", tenant->id,
                       tenant->domain);
    return rc;
}

int store_tenant_get(store_txn_t *t, const char *id, store_tenant_t *out, castor_err *err)
{
    store_param_t p[] = {SP_T(id)};
    return get_one(t, TENANT_COLS "WHERE id = ?", p, 1, tenant_one, out, "tenant", id, err);
}

int store_tenant_get_by_domain(store_txn_t *t, const char *domain, store_tenant_t *out,
                               castor_err *err)
{
    store_param_t p[] = {SP_T(domain)};
    return get_one(t, TENANT_COLS "WHERE domain = ?", p, 1, tenant_one, out, "tenant", domain, err);
}

int store_tenant_list(store_txn_t *t, store_tenant_t *out, int max, int *count_out, castor_err *err)
{
    store_collect_t c = {out, max, 0};
    int rc = store_exec(t, TENANT_COLS "ORDER BY created, id", NULL, 0, tenant_one, &c, NULL, err);
    *count_out = c.count;
    return rc;
}

/* ---- users ---- */

#define USER_COLS                                                                                  \
    "SELECT id, tenant_id, upn, display_name, password_hash, enabled, failed_signins, "            \
    "locked_until, created, mail_nickname, directory_admin FROM users "

static void user_from_row(const store_row_t *row, store_user_t *u)
{
    memset(u, 0, sizeof *u);
    STORE_COPY(u->id, row, 0);
    STORE_COPY(u->tenant_id, row, 1);
    STORE_COPY(u->upn, row, 2);
    STORE_COPY(u->display_name, row, 3);
    STORE_COPY(u->password_hash, row, 4);
    u->enabled = (int)store_row_int(row, 5);
    u->failed_signins = (int)store_row_int(row, 6);
    u->locked_until = store_row_int(row, 7);
    u->created = store_row_int(row, 8);
    STORE_COPY(u->mail_nickname, row, 9);
    u->directory_admin = (int)store_row_int(row, 10);
}

static int user_one(const store_row_t *row, void *ctx)
{
    store_collect_t *c = ctx;
    if (c->count < c->max) user_from_row(row, (store_user_t *)c->out + c->count);
    c->count++;
    return 0;
}

/* Every change that a verified or issued token may depend on (who exists and is enabled,
 * memberships, apps and their permissions, grants, app roles) counts up the directory change
 * number in its transaction, so every node drops what it cached of the directory
 * (store_changes_poll). Creations and secrets need not: nothing cached can contradict them. */
static int dir_bump(store_txn_t *t, int rc, castor_err *err)
{
    return rc < 0 ? rc : store_change_bump(t, STORE_CHANGE_DIRECTORY, err);
}

/* A new or demoted signing key: every node reloads its key set (idn_keys_sync). */
static int keys_bump(store_txn_t *t, int rc, castor_err *err)
{
    return rc < 0 ? rc : store_change_bump(t, STORE_CHANGE_KEYS, err);
}

int store_user_create(store_txn_t *t, const store_user_t *u, castor_err *err)
{
    store_param_t p[] = {SP_T(u->id),           SP_T(u->tenant_id),     SP_T(u->upn),
                         SP_T(u->display_name), SP_T(u->password_hash), SP_I(u->enabled),
                         SP_I(u->created),      SP_T(u->mail_nickname), SP_I(u->directory_admin)};
    int rc = store_exec(t,
                        "INSERT INTO users (id, tenant_id, upn, display_name, password_hash, "
                        "enabled, created, mail_nickname, directory_admin) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        p, 9, NULL, NULL, NULL, err);
    if (rc == CASTOR_ECONFLICT)
        castor_err_set(err, rc, "a user with user principal name %s exists already", u->upn);
    return rc;
}

int store_user_get(store_txn_t *t, const char *id, store_user_t *out, castor_err *err)
{
    store_param_t p[] = {SP_T(id)};
    return get_one(t, USER_COLS "WHERE id = ?", p, 1, user_one, out, "user with object id", id,
                   err);
}

int store_user_get_by_upn(store_txn_t *t, const char *tenant_id, const char *upn, store_user_t *out,
                          castor_err *err)
{
    store_param_t p[] = {SP_T(tenant_id), SP_T(upn)};
    return get_one(t, USER_COLS "WHERE tenant_id = ? AND upn = ?", p, 2, user_one, out, "user", upn,
                   err);
}

typedef struct each_ctx {
    void *fn;
    void *ctx;
} each_ctx_t;

static int user_each_row(const store_row_t *row, void *ctx)
{
    each_ctx_t *e = ctx;
    store_user_t u;
    user_from_row(row, &u);
    return ((int (*)(const store_user_t *, void *))e->fn)(&u, e->ctx);
}

int store_user_each(store_txn_t *t, const char *tenant_id,
                    int (*fn)(const store_user_t *u, void *ctx), void *ctx, castor_err *err)
{
    each_ctx_t e = {(void *)fn, ctx};
    store_param_t p[] = {SP_T(tenant_id)};
    return store_exec(t, USER_COLS "WHERE tenant_id = ? ORDER BY upn", p, 1, user_each_row, &e,
                      NULL, err);
}

int store_user_set_password(store_txn_t *t, const char *id, const char *password_hash,
                            castor_err *err)
{
    store_param_t p[] = {SP_T(password_hash), SP_T(id)};
    return change_one(t,
                      "UPDATE users SET password_hash = ?, failed_signins = 0, locked_until = 0 "
                      "WHERE id = ?",
                      p, 2, "user with object id", id, err);
}

int store_user_set_signin_state(store_txn_t *t, const char *id, int failed_signins,
                                int64_t locked_until, castor_err *err)
{
    store_param_t p[] = {SP_I(failed_signins), SP_I(locked_until), SP_T(id)};
    return change_one(t, "UPDATE users SET failed_signins = ?, locked_until = ? WHERE id = ?", p, 3,
                      "user with object id", id, err);
}

int store_user_update(store_txn_t *t, const store_user_t *u, castor_err *err)
{
    store_param_t p[] = {SP_T(u->display_name), SP_T(u->mail_nickname), SP_I(u->enabled),
                         SP_I(u->directory_admin), SP_T(u->id)};
    int rc = change_one(t,
                        "UPDATE users SET display_name = ?, mail_nickname = ?, enabled = ?, "
                        "directory_admin = ? WHERE id = ?",
                        p, 5, "user with object id", u->id, err);
    return dir_bump(t, rc, err);
}

int store_user_delete(store_txn_t *t, const char *id, castor_err *err)
{
    store_param_t p[] = {SP_T(id)};
    int rc =
        store_exec(t, "DELETE FROM memberships WHERE member_id = ?", p, 1, NULL, NULL, NULL, err);
    if (rc == 0)
        rc = store_exec(t, "DELETE FROM refresh_tokens WHERE user_id = ?", p, 1, NULL, NULL, NULL,
                        err);
    if (rc == 0)
        rc = change_one(t, "DELETE FROM users WHERE id = ?", p, 1, "user with object id", id, err);
    return dir_bump(t, rc, err);
}

/* ---- groups ---- */

#define GROUP_COLS                                                                                 \
    "SELECT id, tenant_id, display_name, mail_nickname, description, owner_id, created "           \
    "FROM groups_ "

static void group_from_row(const store_row_t *row, store_group_t *g)
{
    memset(g, 0, sizeof *g);
    STORE_COPY(g->id, row, 0);
    STORE_COPY(g->tenant_id, row, 1);
    STORE_COPY(g->display_name, row, 2);
    STORE_COPY(g->mail_nickname, row, 3);
    STORE_COPY(g->description, row, 4);
    STORE_COPY(g->owner_id, row, 5);
    g->created = store_row_int(row, 6);
}

static int group_one(const store_row_t *row, void *ctx)
{
    store_collect_t *c = ctx;
    if (c->count < c->max) group_from_row(row, (store_group_t *)c->out + c->count);
    c->count++;
    return 0;
}

static int group_each_row(const store_row_t *row, void *ctx)
{
    each_ctx_t *e = ctx;
    store_group_t g;
    group_from_row(row, &g);
    return ((int (*)(const store_group_t *, void *))e->fn)(&g, e->ctx);
}

int store_group_create(store_txn_t *t, const store_group_t *g, castor_err *err)
{
    store_param_t p[] = {
        SP_T(g->id),          SP_T(g->tenant_id), SP_T(g->display_name), SP_T(g->mail_nickname),
        SP_T(g->description), SP_T(g->owner_id),  SP_I(g->created)};
    return store_exec(t,
                      "INSERT INTO groups_ (id, tenant_id, display_name, mail_nickname, "
                      "description, owner_id, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      p, 7, NULL, NULL, NULL, err);
}

int store_group_get(store_txn_t *t, const char *id, store_group_t *out, castor_err *err)
{
    store_param_t p[] = {SP_T(id)};
    return get_one(t, GROUP_COLS "WHERE id = ?", p, 1, group_one, out, "group", id, err);
}

int store_group_each(store_txn_t *t, const char *tenant_id,
                     int (*fn)(const store_group_t *g, void *ctx), void *ctx, castor_err *err)
{
    each_ctx_t e = {(void *)fn, ctx};
    store_param_t p[] = {SP_T(tenant_id)};
    return store_exec(t, GROUP_COLS "WHERE tenant_id = ? ORDER BY display_name, id", p, 1,
                      group_each_row, &e, NULL, err);
}

int store_group_delete(store_txn_t *t, const char *id, castor_err *err)
{
    store_param_t p[] = {SP_T(id)};
    int rc =
        store_exec(t, "DELETE FROM memberships WHERE member_id = ?", p, 1, NULL, NULL, NULL, err);
    if (rc == 0) rc = change_one(t, "DELETE FROM groups_ WHERE id = ?", p, 1, "group", id, err);
    return dir_bump(t, rc, err);
}

int store_group_member_add(store_txn_t *t, const char *group_id, const char *member_id,
                           const char *member_type, castor_err *err)
{
    store_param_t p[] = {SP_T(group_id), SP_T(member_id), SP_T(member_type)};
    int rc = store_exec(t,
                        "INSERT INTO memberships (group_id, member_id, member_type) "
                        "VALUES (?, ?, ?)",
                        p, 3, NULL, NULL, NULL, err);
    if (rc == CASTOR_ECONFLICT)
        castor_err_set(err, rc, "%s is already a member of group %s", member_id, group_id);
    return dir_bump(t, rc, err);
}

int store_group_member_remove(store_txn_t *t, const char *group_id, const char *member_id,
                              castor_err *err)
{
    store_param_t p[] = {SP_T(group_id), SP_T(member_id)};
    int rc = change_one(t, "DELETE FROM memberships WHERE group_id = ? AND member_id = ?", p, 2,
                        "membership of", member_id, err);
    return dir_bump(t, rc, err);
}

static int member_row(const store_row_t *row, void *ctx)
{
    each_ctx_t *e = ctx;
    return ((int (*)(const char *, const char *, void *))e->fn)(store_row_text(row, 0),
                                                                store_row_text(row, 1), e->ctx);
}

int store_group_member_each(store_txn_t *t, const char *group_id,
                            int (*fn)(const char *member_id, const char *member_type, void *ctx),
                            void *ctx, castor_err *err)
{
    each_ctx_t e = {(void *)fn, ctx};
    store_param_t p[] = {SP_T(group_id)};
    return store_exec(t,
                      "SELECT member_id, member_type FROM memberships WHERE group_id = ? "
                      "ORDER BY member_id",
                      p, 1, member_row, &e, NULL, err);
}

static int group_id_row(const store_row_t *row, void *ctx)
{
    each_ctx_t *e = ctx;
    return ((int (*)(const char *, void *))e->fn)(store_row_text(row, 0), e->ctx);
}

int store_principal_groups(store_txn_t *t, const char *principal_id,
                           int (*fn)(const char *group_id, void *ctx), void *ctx, castor_err *err)
{
    each_ctx_t e = {(void *)fn, ctx};
    store_param_t p[] = {SP_T(principal_id)};
    /* UNION (not UNION ALL) makes the recursion stop on membership cycles. */
    return store_exec(
        t,
        "WITH RECURSIVE up(gid) AS ("
        "  SELECT group_id FROM memberships WHERE member_id = ?"
        "  UNION SELECT m.group_id FROM memberships m JOIN up ON m.member_id = up.gid)"
        " SELECT gid FROM up ORDER BY gid",
        p, 1, group_id_row, &e, NULL, err);
}

/* ---- applications ---- */

#define APP_COLS                                                                                   \
    "SELECT id, tenant_id, app_id, display_name, owner_id, doc, created FROM applications "

void store_app_release(store_app_t *a)
{
    if (!a) return;
    free(a->doc);
    a->doc = NULL;
}

static void app_from_row(const store_row_t *row, store_app_t *a, int dup_doc)
{
    memset(a, 0, sizeof *a);
    STORE_COPY(a->id, row, 0);
    STORE_COPY(a->tenant_id, row, 1);
    STORE_COPY(a->app_id, row, 2);
    STORE_COPY(a->display_name, row, 3);
    STORE_COPY(a->owner_id, row, 4);
    a->doc = dup_doc ? strdup(store_row_text(row, 5)) : (char *)store_row_text(row, 5);
    a->created = store_row_int(row, 6);
}

static int app_one(const store_row_t *row, void *ctx)
{
    store_collect_t *c = ctx;
    if (c->count < c->max) app_from_row(row, (store_app_t *)c->out + c->count, 1);
    c->count++;
    return 0;
}

static int app_each_row(const store_row_t *row, void *ctx)
{
    each_ctx_t *e = ctx;
    store_app_t a;
    app_from_row(row, &a, 0);
    return ((int (*)(const store_app_t *, void *))e->fn)(&a, e->ctx);
}

int store_app_create(store_txn_t *t, const store_app_t *a, castor_err *err)
{
    store_param_t p[] = {SP_T(a->id),           SP_T(a->tenant_id), SP_T(a->app_id),
                         SP_T(a->display_name), SP_T(a->owner_id),  SP_T(a->doc ? a->doc : "{}"),
                         SP_I(a->created)};
    int rc = store_exec(t,
                        "INSERT INTO applications (id, tenant_id, app_id, display_name, owner_id, "
                        "doc, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        p, 7, NULL, NULL, NULL, err);
    if (rc == CASTOR_ECONFLICT)
        castor_err_set(err, rc, "an application with appId %s exists already", a->app_id);
    return rc;
}

int store_app_get(store_txn_t *t, const char *id, store_app_t *out, castor_err *err)
{
    store_param_t p[] = {SP_T(id)};
    return get_one(t, APP_COLS "WHERE id = ?", p, 1, app_one, out, "application", id, err);
}

int store_app_get_by_app_id(store_txn_t *t, const char *tenant_id, const char *app_id,
                            store_app_t *out, castor_err *err)
{
    store_param_t p[] = {SP_T(tenant_id), SP_T(app_id)};
    return get_one(t, APP_COLS "WHERE tenant_id = ? AND app_id = ?", p, 2, app_one, out,
                   "application with appId", app_id, err);
}

int store_app_each(store_txn_t *t, const char *tenant_id,
                   int (*fn)(const store_app_t *a, void *ctx), void *ctx, castor_err *err)
{
    each_ctx_t e = {(void *)fn, ctx};
    store_param_t p[] = {SP_T(tenant_id)};
    return store_exec(t, APP_COLS "WHERE tenant_id = ? ORDER BY created, id", p, 1, app_each_row,
                      &e, NULL, err);
}

int store_app_update(store_txn_t *t, const store_app_t *a, castor_err *err)
{
    store_param_t p[] = {SP_T(a->display_name), SP_T(a->doc ? a->doc : "{}"), SP_T(a->id)};
    int rc = change_one(t, "UPDATE applications SET display_name = ?, doc = ? WHERE id = ?", p, 3,
                        "application", a->id, err);
    return dir_bump(t, rc, err);
}

int store_app_delete(store_txn_t *t, const char *id, castor_err *err)
{
    store_param_t p[] = {SP_T(id)};
    int rc = change_one(t, "DELETE FROM applications WHERE id = ?", p, 1, "application", id, err);
    return dir_bump(t, rc, err);
}

static int secret_each_row(const store_row_t *row, void *ctx)
{
    each_ctx_t *e = ctx;
    store_app_secret_t s;
    memset(&s, 0, sizeof s);
    STORE_COPY(s.key_id, row, 0);
    STORE_COPY(s.app_object_id, row, 1);
    STORE_COPY(s.secret_hash, row, 2);
    STORE_COPY(s.hint, row, 3);
    STORE_COPY(s.display_name, row, 4);
    s.start_s = store_row_int(row, 5);
    s.end_s = store_row_int(row, 6);
    return ((int (*)(const store_app_secret_t *, void *))e->fn)(&s, e->ctx);
}

int store_app_secret_add(store_txn_t *t, const store_app_secret_t *s, castor_err *err)
{
    store_param_t p[] = {SP_T(s->key_id), SP_T(s->app_object_id), SP_T(s->secret_hash),
                         SP_T(s->hint),   SP_T(s->display_name),  SP_I(s->start_s),
                         SP_I(s->end_s)};
    return store_exec(t,
                      "INSERT INTO app_secrets (key_id, app_object_id, secret_hash, hint, "
                      "display_name, start_s, end_s) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      p, 7, NULL, NULL, NULL, err);
}

int store_app_secret_each(store_txn_t *t, const char *app_object_id,
                          int (*fn)(const store_app_secret_t *s, void *ctx), void *ctx,
                          castor_err *err)
{
    each_ctx_t e = {(void *)fn, ctx};
    store_param_t p[] = {SP_T(app_object_id)};
    return store_exec(t,
                      "SELECT key_id, app_object_id, secret_hash, hint, display_name, start_s, "
                      "end_s FROM app_secrets WHERE app_object_id = ? ORDER BY start_s, key_id",
                      p, 1, secret_each_row, &e, NULL, err);
}

int store_app_secret_remove(store_txn_t *t, const char *app_object_id, const char *key_id,
                            castor_err *err)
{
    store_param_t p[] = {SP_T(app_object_id), SP_T(key_id)};
    return change_one(t, "DELETE FROM app_secrets WHERE app_object_id = ? AND key_id = ?", p, 2,
                      "password credential", key_id, err);
}

/* ---- service principals ---- */

#define SP_COLS                                                                                    \
    "SELECT s.id, s.tenant_id, s.app_id, s.display_name, s.enabled, s.first_party, "               \
    "s.public_client, s.owner_id, s.doc, s.created FROM service_principals s "

void store_sp_release(store_sp_t *s)
{
    if (!s) return;
    free(s->doc);
    s->doc = NULL;
}

static void sp_from_row(const store_row_t *row, store_sp_t *s, int dup_doc)
{
    memset(s, 0, sizeof *s);
    STORE_COPY(s->id, row, 0);
    STORE_COPY(s->tenant_id, row, 1);
    STORE_COPY(s->app_id, row, 2);
    STORE_COPY(s->display_name, row, 3);
    s->enabled = (int)store_row_int(row, 4);
    s->first_party = (int)store_row_int(row, 5);
    s->public_client = (int)store_row_int(row, 6);
    STORE_COPY(s->owner_id, row, 7);
    s->doc = dup_doc ? strdup(store_row_text(row, 8)) : (char *)store_row_text(row, 8);
    s->created = store_row_int(row, 9);
}

static int sp_one(const store_row_t *row, void *ctx)
{
    store_collect_t *c = ctx;
    if (c->count < c->max) sp_from_row(row, (store_sp_t *)c->out + c->count, 1);
    c->count++;
    return 0;
}

static int sp_each_row(const store_row_t *row, void *ctx)
{
    each_ctx_t *e = ctx;
    store_sp_t s;
    sp_from_row(row, &s, 0);
    return ((int (*)(const store_sp_t *, void *))e->fn)(&s, e->ctx);
}

int store_sp_add_name(store_txn_t *t, const char *tenant_id, const char *sp_id, const char *name,
                      castor_err *err)
{
    store_param_t p[] = {SP_T(tenant_id), SP_T(name), SP_T(sp_id)};
    int rc = store_exec(t, "INSERT INTO sp_names (tenant_id, name, sp_id) VALUES (?, ?, ?)", p, 3,
                        NULL, NULL, NULL, err);
    if (rc == CASTOR_ECONFLICT)
        castor_err_set(err, rc, "the service principal name %s is in use already", name);
    return rc;
}

int store_sp_create(store_txn_t *t, const store_sp_t *s, castor_err *err)
{
    store_param_t p[] = {SP_T(s->id),
                         SP_T(s->tenant_id),
                         SP_T(s->app_id),
                         SP_T(s->display_name),
                         SP_I(s->enabled),
                         SP_I(s->first_party),
                         SP_I(s->public_client),
                         SP_T(s->owner_id),
                         SP_T(s->doc ? s->doc : "{}"),
                         SP_I(s->created)};
    int rc = store_exec(t,
                        "INSERT INTO service_principals (id, tenant_id, app_id, display_name, "
                        "enabled, first_party, public_client, owner_id, doc, created) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        p, 10, NULL, NULL, NULL, err);
    if (rc == CASTOR_ECONFLICT)
        return castor_err_set(err, rc, "a service principal for appId %s exists already",
                              s->app_id);
    if (rc == 0) rc = store_sp_add_name(t, s->tenant_id, s->id, s->app_id, err);
    return rc;
}

int store_sp_get(store_txn_t *t, const char *id, store_sp_t *out, castor_err *err)
{
    store_param_t p[] = {SP_T(id)};
    return get_one(t, SP_COLS "WHERE s.id = ?", p, 1, sp_one, out, "service principal", id, err);
}

int store_sp_get_by_app_id(store_txn_t *t, const char *tenant_id, const char *app_id,
                           store_sp_t *out, castor_err *err)
{
    store_param_t p[] = {SP_T(tenant_id), SP_T(app_id)};
    return get_one(t, SP_COLS "WHERE s.tenant_id = ? AND s.app_id = ?", p, 2, sp_one, out,
                   "service principal for appId", app_id, err);
}

int store_sp_get_by_name(store_txn_t *t, const char *tenant_id, const char *name, store_sp_t *out,
                         castor_err *err)
{
    store_param_t p[] = {SP_T(tenant_id), SP_T(name)};
    return get_one(t,
                   SP_COLS "JOIN sp_names n ON n.sp_id = s.id WHERE n.tenant_id = ? AND n.name = ?",
                   p, 2, sp_one, out, "service principal named", name, err);
}

int store_sp_each(store_txn_t *t, const char *tenant_id, int (*fn)(const store_sp_t *s, void *ctx),
                  void *ctx, castor_err *err)
{
    each_ctx_t e = {(void *)fn, ctx};
    store_param_t p[] = {SP_T(tenant_id)};
    return store_exec(t, SP_COLS "WHERE s.tenant_id = ? ORDER BY s.created, s.id", p, 1,
                      sp_each_row, &e, NULL, err);
}

int store_sp_update(store_txn_t *t, const store_sp_t *s, castor_err *err)
{
    store_param_t p[] = {SP_T(s->display_name), SP_I(s->enabled), SP_T(s->doc ? s->doc : "{}"),
                         SP_T(s->id)};
    int rc = change_one(t,
                        "UPDATE service_principals SET display_name = ?, enabled = ?, doc = ? "
                        "WHERE id = ?",
                        p, 4, "service principal", s->id, err);
    return dir_bump(t, rc, err);
}

int store_sp_delete(store_txn_t *t, const char *id, castor_err *err)
{
    store_param_t p[] = {SP_T(id)};
    int rc =
        store_exec(t, "DELETE FROM memberships WHERE member_id = ?", p, 1, NULL, NULL, NULL, err);
    if (rc == 0)
        rc = store_exec(t, "DELETE FROM oauth2_grants WHERE client_id = ? OR resource_id = ?",
                        (store_param_t[]){SP_T(id), SP_T(id)}, 2, NULL, NULL, NULL, err);
    if (rc == 0)
        rc = change_one(t, "DELETE FROM service_principals WHERE id = ?", p, 1, "service principal",
                        id, err);
    return dir_bump(t, rc, err);
}

/* ---- grants ---- */

#define GRANT_COLS                                                                                 \
    "SELECT id, tenant_id, client_id, consent_type, principal_id, resource_id, scope, created "    \
    "FROM oauth2_grants "

static void grant_from_row(const store_row_t *row, store_grant_t *g)
{
    memset(g, 0, sizeof *g);
    STORE_COPY(g->id, row, 0);
    STORE_COPY(g->tenant_id, row, 1);
    STORE_COPY(g->client_id, row, 2);
    STORE_COPY(g->consent_type, row, 3);
    STORE_COPY(g->principal_id, row, 4);
    STORE_COPY(g->resource_id, row, 5);
    STORE_COPY(g->scope, row, 6);
    g->created = store_row_int(row, 7);
}

static int grant_one(const store_row_t *row, void *ctx)
{
    store_collect_t *c = ctx;
    if (c->count < c->max) grant_from_row(row, (store_grant_t *)c->out + c->count);
    c->count++;
    return 0;
}

static int grant_each_row(const store_row_t *row, void *ctx)
{
    each_ctx_t *e = ctx;
    store_grant_t g;
    grant_from_row(row, &g);
    return ((int (*)(const store_grant_t *, void *))e->fn)(&g, e->ctx);
}

int store_grant_create(store_txn_t *t, const store_grant_t *g, castor_err *err)
{
    store_param_t p[] = {SP_T(g->id),           SP_T(g->tenant_id),    SP_T(g->client_id),
                         SP_T(g->consent_type), SP_T(g->principal_id), SP_T(g->resource_id),
                         SP_T(g->scope),        SP_I(g->created)};
    int rc =
        store_exec(t,
                   "INSERT INTO oauth2_grants (id, tenant_id, client_id, consent_type, "
                   "principal_id, resource_id, scope, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   p, 8, NULL, NULL, NULL, err);
    return dir_bump(t, rc, err);
}

int store_grant_get(store_txn_t *t, const char *id, store_grant_t *out, castor_err *err)
{
    store_param_t p[] = {SP_T(id)};
    return get_one(t, GRANT_COLS "WHERE id = ?", p, 1, grant_one, out, "oauth2PermissionGrant", id,
                   err);
}

int store_grant_update_scope(store_txn_t *t, const char *id, const char *scope, castor_err *err)
{
    store_param_t p[] = {SP_T(scope), SP_T(id)};
    int rc = change_one(t, "UPDATE oauth2_grants SET scope = ? WHERE id = ?", p, 2,
                        "oauth2PermissionGrant", id, err);
    return dir_bump(t, rc, err);
}

int store_grant_delete(store_txn_t *t, const char *id, castor_err *err)
{
    store_param_t p[] = {SP_T(id)};
    int rc = change_one(t, "DELETE FROM oauth2_grants WHERE id = ?", p, 1, "oauth2PermissionGrant",
                        id, err);
    return dir_bump(t, rc, err);
}

int store_grant_each(store_txn_t *t, const char *tenant_id, const char *client_id,
                     int (*fn)(const store_grant_t *g, void *ctx), void *ctx, castor_err *err)
{
    each_ctx_t e = {(void *)fn, ctx};
    store_param_t p[] = {SP_T(tenant_id), SP_T(client_id)};
    if (client_id)
        return store_exec(t,
                          GRANT_COLS "WHERE tenant_id = ? AND client_id = ? ORDER BY created, id",
                          p, 2, grant_each_row, &e, NULL, err);
    return store_exec(t, GRANT_COLS "WHERE tenant_id = ? ORDER BY created, id", p, 1,
                      grant_each_row, &e, NULL, err);
}

static int ara_each_row(const store_row_t *row, void *ctx)
{
    each_ctx_t *e = ctx;
    store_app_role_assignment_t a;
    memset(&a, 0, sizeof a);
    STORE_COPY(a.id, row, 0);
    STORE_COPY(a.tenant_id, row, 1);
    STORE_COPY(a.principal_id, row, 2);
    STORE_COPY(a.principal_type, row, 3);
    STORE_COPY(a.resource_id, row, 4);
    STORE_COPY(a.app_role_id, row, 5);
    a.created = store_row_int(row, 6);
    return ((int (*)(const store_app_role_assignment_t *, void *))e->fn)(&a, e->ctx);
}

int store_app_role_assignment_create(store_txn_t *t, const store_app_role_assignment_t *a,
                                     castor_err *err)
{
    store_param_t p[] = {
        SP_T(a->id),          SP_T(a->tenant_id),   SP_T(a->principal_id), SP_T(a->principal_type),
        SP_T(a->resource_id), SP_T(a->app_role_id), SP_I(a->created)};
    int rc = store_exec(t,
                        "INSERT INTO app_role_assignments (id, tenant_id, principal_id, "
                        "principal_type, resource_id, app_role_id, created) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        p, 7, NULL, NULL, NULL, err);
    if (rc == CASTOR_ECONFLICT)
        castor_err_set(err, rc, "Permission being assigned already exists on the object");
    return dir_bump(t, rc, err);
}

int store_app_role_assignment_each(store_txn_t *t, const char *principal_id,
                                   int (*fn)(const store_app_role_assignment_t *a, void *ctx),
                                   void *ctx, castor_err *err)
{
    each_ctx_t e = {(void *)fn, ctx};
    store_param_t p[] = {SP_T(principal_id)};
    return store_exec(t,
                      "SELECT id, tenant_id, principal_id, principal_type, resource_id, "
                      "app_role_id, created FROM app_role_assignments WHERE principal_id = ? "
                      "ORDER BY created, id",
                      p, 1, ara_each_row, &e, NULL, err);
}

/* ---- signing keys ---- */

static int key_each_row(const store_row_t *row, void *ctx)
{
    each_ctx_t *e = ctx;
    store_signing_key_t k;
    memset(&k, 0, sizeof k);
    STORE_COPY(k.kid, row, 0);
    k.private_pem = (char *)store_row_text(row, 1);
    k.created = store_row_int(row, 2);
    STORE_COPY(k.state, row, 3);
    return ((int (*)(const store_signing_key_t *, void *))e->fn)(&k, e->ctx);
}

int store_signing_key_add(store_txn_t *t, const char *kid, const char *private_pem, int64_t created,
                          const char *state, castor_err *err)
{
    store_param_t p[] = {SP_T(kid), SP_T(private_pem), SP_I(created), SP_T(state)};
    int rc = store_exec(t,
                        "INSERT INTO signing_keys (kid, private_pem, created, state) "
                        "VALUES (?, ?, ?, ?)",
                        p, 4, NULL, NULL, NULL, err);
    return keys_bump(t, rc, err);
}

int store_signing_key_set_state(store_txn_t *t, const char *kid, const char *state, castor_err *err)
{
    store_param_t p[] = {SP_T(state), SP_T(kid)};
    int rc = change_one(t, "UPDATE signing_keys SET state = ? WHERE kid = ?", p, 2, "signing key",
                        kid, err);
    return keys_bump(t, rc, err);
}

int store_signing_key_each(store_txn_t *t, int (*fn)(const store_signing_key_t *k, void *ctx),
                           void *ctx, castor_err *err)
{
    each_ctx_t e = {(void *)fn, ctx};
    return store_exec(t,
                      "SELECT kid, private_pem, created, state FROM signing_keys "
                      "WHERE state <> 'retired' ORDER BY created DESC, rowid DESC",
                      NULL, 0, key_each_row, &e, NULL, err);
}

/* ---- refresh tokens ---- */

static int refresh_one(const store_row_t *row, void *ctx)
{
    store_collect_t *c = ctx;
    if (c->count < c->max) {
        store_refresh_t *r = c->out;
        memset(r, 0, sizeof *r);
        STORE_COPY(r->token_hash, row, 0);
        STORE_COPY(r->tenant_id, row, 1);
        STORE_COPY(r->user_id, row, 2);
        STORE_COPY(r->client_id, row, 3);
        STORE_COPY(r->scope, row, 4);
        STORE_COPY(r->family, row, 5);
        r->created = store_row_int(row, 6);
        r->expires = store_row_int(row, 7);
        STORE_COPY(r->state, row, 8);
    }
    c->count++;
    return 0;
}

int store_refresh_add(store_txn_t *t, const store_refresh_t *r, castor_err *err)
{
    store_param_t p[] = {SP_T(r->token_hash), SP_T(r->tenant_id), SP_T(r->user_id),
                         SP_T(r->client_id),  SP_T(r->scope),     SP_T(r->family),
                         SP_I(r->created),    SP_I(r->expires),   SP_T(r->state)};
    return store_exec(t,
                      "INSERT INTO refresh_tokens (token_hash, tenant_id, user_id, client_id, "
                      "scope, family, created, expires, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      p, 9, NULL, NULL, NULL, err);
}

int store_refresh_get(store_txn_t *t, const char *token_hash, store_refresh_t *out, castor_err *err)
{
    store_param_t p[] = {SP_T(token_hash)};
    return get_one(t,
                   "SELECT token_hash, tenant_id, user_id, client_id, scope, family, created, "
                   "expires, state FROM refresh_tokens WHERE token_hash = ?",
                   p, 1, refresh_one, out, "refresh token", "(hash)", err);
}

int store_refresh_set_state(store_txn_t *t, const char *token_hash, const char *state,
                            castor_err *err)
{
    store_param_t p[] = {SP_T(state), SP_T(token_hash)};
    return change_one(t, "UPDATE refresh_tokens SET state = ? WHERE token_hash = ?", p, 2,
                      "refresh token", "(hash)", err);
}

int store_refresh_revoke(store_txn_t *t, const char *family, const char *user_id, castor_err *err)
{
    store_param_t p[] = {SP_T(family ? family : user_id)};
    return store_exec(t,
                      family ? "UPDATE refresh_tokens SET state = 'revoked' WHERE family = ?"
                             : "UPDATE refresh_tokens SET state = 'revoked' WHERE user_id = ?",
                      p, 1, NULL, NULL, NULL, err);
}

/* ---- device codes ---- */

#define DEVICE_COLS                                                                                \
    "SELECT device_hash, user_code, tenant_id, client_id, scope, created, expires, state, "        \
    "user_id FROM device_codes "

static int device_one(const store_row_t *row, void *ctx)
{
    store_collect_t *c = ctx;
    if (c->count < c->max) {
        store_device_code_t *d = c->out;
        memset(d, 0, sizeof *d);
        STORE_COPY(d->device_hash, row, 0);
        STORE_COPY(d->user_code, row, 1);
        STORE_COPY(d->tenant_id, row, 2);
        STORE_COPY(d->client_id, row, 3);
        STORE_COPY(d->scope, row, 4);
        d->created = store_row_int(row, 5);
        d->expires = store_row_int(row, 6);
        STORE_COPY(d->state, row, 7);
        STORE_COPY(d->user_id, row, 8);
    }
    c->count++;
    return 0;
}

int store_device_code_add(store_txn_t *t, const store_device_code_t *d, castor_err *err)
{
    store_param_t p[] = {SP_T(d->device_hash), SP_T(d->user_code), SP_T(d->tenant_id),
                         SP_T(d->client_id),   SP_T(d->scope),     SP_I(d->created),
                         SP_I(d->expires),     SP_T(d->state),     SP_T(d->user_id)};
    return store_exec(t,
                      "INSERT INTO device_codes (device_hash, user_code, tenant_id, client_id, "
                      "scope, created, expires, state, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      p, 9, NULL, NULL, NULL, err);
}

int store_device_code_get(store_txn_t *t, const char *device_hash, store_device_code_t *out,
                          castor_err *err)
{
    store_param_t p[] = {SP_T(device_hash)};
    return get_one(t, DEVICE_COLS "WHERE device_hash = ?", p, 1, device_one, out, "device code",
                   "(hash)", err);
}

int store_device_code_get_by_user_code(store_txn_t *t, const char *user_code,
                                       store_device_code_t *out, castor_err *err)
{
    store_param_t p[] = {SP_T(user_code)};
    return get_one(t, DEVICE_COLS "WHERE user_code = ?", p, 1, device_one, out, "device code",
                   user_code, err);
}

int store_device_code_set(store_txn_t *t, const char *device_hash, const char *state,
                          const char *user_id, castor_err *err)
{
    store_param_t p[] = {SP_T(state), SP_T(user_id ? user_id : ""), SP_T(device_hash)};
    return change_one(t, "UPDATE device_codes SET state = ?, user_id = ? WHERE device_hash = ?", p,
                      3, "device code", "(hash)", err);
}

/* ---- authorization codes ---- */

static int code_one(const store_row_t *row, void *ctx)
{
    store_collect_t *c = ctx;
    if (c->count < c->max) {
        store_auth_code_t *a = c->out;
        memset(a, 0, sizeof *a);
        STORE_COPY(a->code_hash, row, 0);
        STORE_COPY(a->tenant_id, row, 1);
        STORE_COPY(a->client_id, row, 2);
        STORE_COPY(a->user_id, row, 3);
        STORE_COPY(a->redirect_uri, row, 4);
        STORE_COPY(a->scope, row, 5);
        STORE_COPY(a->challenge, row, 6);
        STORE_COPY(a->challenge_method, row, 7);
        STORE_COPY(a->nonce, row, 8);
        a->expires = store_row_int(row, 9);
        a->used = (int)store_row_int(row, 10);
    }
    c->count++;
    return 0;
}

int store_auth_code_add(store_txn_t *t, const store_auth_code_t *c, castor_err *err)
{
    store_param_t p[] = {SP_T(c->code_hash), SP_T(c->tenant_id),        SP_T(c->client_id),
                         SP_T(c->user_id),   SP_T(c->redirect_uri),     SP_T(c->scope),
                         SP_T(c->challenge), SP_T(c->challenge_method), SP_T(c->nonce),
                         SP_I(c->expires)};
    return store_exec(t,
                      "INSERT INTO auth_codes (code_hash, tenant_id, client_id, user_id, "
                      "redirect_uri, scope, challenge, challenge_method, nonce, expires) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      p, 10, NULL, NULL, NULL, err);
}

int store_auth_code_take(store_txn_t *t, const char *code_hash, store_auth_code_t *out,
                         castor_err *err)
{
    store_param_t p[] = {SP_T(code_hash)};
    int rc = get_one(t,
                     "SELECT code_hash, tenant_id, client_id, user_id, redirect_uri, scope, "
                     "challenge, challenge_method, nonce, expires, used FROM auth_codes "
                     "WHERE code_hash = ?",
                     p, 1, code_one, out, "authorization code", "(hash)", err);
    if (rc < 0) return rc;
    if (out->used) return castor_err_set(err, CASTOR_ECONFLICT, "the authorization code was used");
    return store_exec(t, "UPDATE auth_codes SET used = 1 WHERE code_hash = ?", p, 1, NULL, NULL,
                      NULL, err);
}
