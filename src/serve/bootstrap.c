/* bootstrap.c — first-start objects and connection.json (see bootstrap.h). */
#include "serve/bootstrap.h"

#include "core/ids.h"
#include "core/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define META_TENANT "bootstrap.tenant_id"
#define META_SUBSCRIPTION "bootstrap.subscription_id"
#define META_ADMIN "bootstrap.admin_id"

int bootstrap_hash_password(const char *password, char *out, castor_err *err)
{
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return castor_err_set(err, CASTOR_ENOMEM, "hashing a password ran out of memory");
    snprintf(out, STORE_HASH_MAX, "%s", hash);
    return CASTOR_OK;
}

/* 20 characters from an alphabet without look-alikes (no 0/O, 1/l/I). */
static void generate_password(char *out, size_t size)
{
    static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    size_t n = size - 1 < 20 ? size - 1 : 20;
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[randombytes_uniform((uint32_t)(sizeof alphabet - 1))];
    out[n] = '\0';
}

static int create_all(store_txn_t *t, const char *admin_password, bootstrap_result_t *out,
                      castor_err *err)
{
    int64_t now = time_now_s();
    store_tenant_t tenant = {.created = now};
    ids_guid(tenant.id);
    snprintf(tenant.domain, sizeof tenant.domain, "%s", BOOTSTRAP_DOMAIN);
    snprintf(tenant.display_name, sizeof tenant.display_name, "castor");
    int rc = store_tenant_create(t, &tenant, err);
    if (rc < 0) return rc;

    store_user_t admin = {.enabled = 1, .created = now};
    ids_guid(admin.id);
    snprintf(admin.tenant_id, sizeof admin.tenant_id, "%s", tenant.id);
    snprintf(admin.upn, sizeof admin.upn, "%s", BOOTSTRAP_ADMIN_UPN);
    snprintf(admin.display_name, sizeof admin.display_name, "castor administrator");
    if (!admin_password || !admin_password[0]) {
        generate_password(out->generated_password, sizeof out->generated_password);
        admin_password = out->generated_password;
    }
    rc = bootstrap_hash_password(admin_password, admin.password_hash, err);
    if (rc == 0) rc = store_user_create(t, &admin, err);
    if (rc < 0) return rc;

    store_subscription_t sub = {.created = now};
    ids_guid(sub.id);
    snprintf(sub.tenant_id, sizeof sub.tenant_id, "%s", tenant.id);
    snprintf(sub.display_name, sizeof sub.display_name, "%s", BOOTSTRAP_SUBSCRIPTION_NAME);
    snprintf(sub.state, sizeof sub.state, "Enabled");
    rc = store_subscription_create(t, &sub, err);
    if (rc < 0) return rc;

    store_role_assignment_t owner = {.created = now};
    ids_guid(owner.id);
    snprintf(owner.scope, sizeof owner.scope, "/subscriptions/%s", sub.id);
    snprintf(owner.principal_id, sizeof owner.principal_id, "%s", admin.id);
    snprintf(owner.principal_type, sizeof owner.principal_type, "User");
    snprintf(owner.role_definition_id, sizeof owner.role_definition_id, "%s",
             BOOTSTRAP_OWNER_ROLE_ID);
    snprintf(owner.created_by, sizeof owner.created_by, "%s", admin.id);
    rc = store_role_assignment_create(t, &owner, err);
    if (rc == 0) rc = store_meta_put(t, META_TENANT, tenant.id, err);
    if (rc == 0) rc = store_meta_put(t, META_SUBSCRIPTION, sub.id, err);
    if (rc == 0) rc = store_meta_put(t, META_ADMIN, admin.id, err);
    if (rc < 0) return rc;
    snprintf(out->tenant_id, sizeof out->tenant_id, "%s", tenant.id);
    snprintf(out->subscription_id, sizeof out->subscription_id, "%s", sub.id);
    snprintf(out->admin_id, sizeof out->admin_id, "%s", admin.id);
    out->first_start = 1;
    return CASTOR_OK;
}

static int read_meta(store_txn_t *t, const char *key, char *dst, size_t size, castor_err *err)
{
    char *v = NULL;
    int rc = store_meta_get(t, key, &v, err);
    if (rc < 0) return rc;
    snprintf(dst, size, "%s", v);
    free(v);
    return CASTOR_OK;
}

int bootstrap_run(store_t *store, const char *admin_password, bootstrap_result_t *out,
                  castor_err *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->admin_upn, sizeof out->admin_upn, "%s", BOOTSTRAP_ADMIN_UPN);
    store_txn_t *t;
    int rc = store_begin(store, STORE_WRITE, &t, err);
    if (rc < 0) return rc;
    rc = read_meta(t, META_TENANT, out->tenant_id, sizeof out->tenant_id, err);
    if (rc == CASTOR_ENOTFOUND) {
        rc = create_all(t, admin_password, out, err);
    } else if (rc == 0) {
        rc =
            read_meta(t, META_SUBSCRIPTION, out->subscription_id, sizeof out->subscription_id, err);
        if (rc == 0) rc = read_meta(t, META_ADMIN, out->admin_id, sizeof out->admin_id, err);
        if (rc == 0 && admin_password && admin_password[0]) {
            /* Only rehash when the password differs: argon2id is deliberately slow. */
            store_user_t admin;
            rc = store_user_get(t, out->admin_id, &admin, err);
            if (rc == 0 && crypto_pwhash_str_verify(admin.password_hash, admin_password,
                                                    strlen(admin_password)) != 0) {
                char hash[STORE_HASH_MAX];
                rc = bootstrap_hash_password(admin_password, hash, err);
                if (rc == 0) rc = store_user_set_password(t, out->admin_id, hash, err);
                out->password_reset = rc == 0;
            }
            sodium_memzero(&admin, sizeof admin);
        }
    }
    if (rc < 0) {
        store_rollback(t);
        castor_err_prefix(err, "setting up the first tenant, admin and subscription");
        return rc;
    }
    return store_commit(t, err);
}

int bootstrap_write_connection(const serve_config_t *cfg, const bootstrap_result_t *boot,
                               const char *ca_path, castor_err *err)
{
    char abs_ca[PATH_MAX];
    if (!realpath(ca_path, abs_ca)) snprintf(abs_ca, sizeof abs_ca, "%s", ca_path);
    char arm[1100];
    snprintf(arm, sizeof arm, "%s/", cfg->public_url);
    json_t *doc =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "authority", cfg->public_url, "tenantId",
                  boot->tenant_id, "subscriptionId", boot->subscription_id, "resourceManager", arm,
                  "graph", arm, "caFile", abs_ca, "adminUser", boot->admin_upn);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    json_decref(doc);
    if (!text) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    char path[SERVE_PATH_MAX + 32], tmp[SERVE_PATH_MAX + 40];
    snprintf(path, sizeof path, "%s/connection.json", cfg->data_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int ok = f && fprintf(f, "%s\n", text) > 0;
    if (f) ok = (fflush(f) == 0) && (fsync(fileno(f)) == 0) && ok;
    if (f && fclose(f) != 0) ok = 0;
    free(text);
    if (!ok || rename(tmp, path) != 0)
        return castor_err_set(err, CASTOR_EIO, "cannot write %s: %s", path, strerror(errno));
    return CASTOR_OK;
}
