/* idn.c — the identity plane's start-up, first-party seeding, base URLs and cloud config. */
#include "identity/idn.h"

#include "access/access.h"
#include "core/ids.h"
#include "core/timeutil.h"
#include "identity/idn_crypto.h"
#include "identity/idn_internal.h"
#include "store/store_directory.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

typedef struct first_party {
    const char *app_id;
    const char *name;
    int public_client;
    const char *uris[3]; /* resource URIs it answers to (besides its appId) */
    const char *doc;     /* oauth2PermissionScopes and appRoles */
} first_party_t;

/* Scope and role ids are Microsoft's (real-clients-cli-python.md §6 for ADT's Read.Write). */
static const first_party_t first_parties[] = {
    {IDN_APP_ADT,
     "Azure Digital Twins",
     0,
     {IDN_ADT_RESOURCE, NULL, NULL},
     "{\"oauth2PermissionScopes\":[{\"id\":\"" IDN_ADT_SCOPE_READ_WRITE_ID
     "\",\"value\":\"Read.Write\","
     "\"type\":\"User\",\"isEnabled\":true,\"adminConsentDisplayName\":\"Read/Write Access\","
     "\"adminConsentDescription\":\"Read/Write Access\",\"userConsentDisplayName\":\"Read/Write "
     "Access\",\"userConsentDescription\":\"Read/Write Access\"}],\"appRoles\":[]}"},
    {IDN_APP_ARM,
     "Windows Azure Service Management API",
     0,
     {"https://management.azure.com", "https://management.core.windows.net", NULL},
     "{\"oauth2PermissionScopes\":[{\"id\":\"" IDN_ARM_SCOPE_ID
     "\",\"value\":\"user_impersonation\","
     "\"type\":\"User\",\"isEnabled\":true,\"adminConsentDisplayName\":\"Access Azure Service "
     "Management as organization users (preview)\"}],\"appRoles\":[]}"},
    {IDN_APP_GRAPH,
     "Microsoft Graph",
     0,
     {IDN_GRAPH_RESOURCE, NULL, NULL},
     "{\"oauth2PermissionScopes\":["
     "{\"id\":\"e1fe6dd8-ba31-4d61-89e7-88639da4683d\",\"value\":\"User.Read\",\"type\":\"User\","
     "\"isEnabled\":true,\"adminConsentDisplayName\":\"Sign in and read user profile\"},"
     "{\"id\":\"0e263e50-5827-48a4-b97c-d940288653c7\",\"value\":\"Directory.AccessAsUser.All\","
     "\"type\":\"Admin\",\"isEnabled\":true,\"adminConsentDisplayName\":\"Access directory as the "
     "signed in user\"}],"
     "\"appRoles\":["
     "{\"id\":\"1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9\",\"value\":\"Application.ReadWrite.All\","
     "\"allowedMemberTypes\":[\"Application\"],\"isEnabled\":true,\"displayName\":\"Read and write "
     "all applications\"},"
     "{\"id\":\"7ab1d382-f21e-4acd-a863-ba3e13f7da61\",\"value\":\"Directory.Read.All\","
     "\"allowedMemberTypes\":[\"Application\"],\"isEnabled\":true,\"displayName\":\"Read directory "
     "data\"}]}"},
    {IDN_APP_AZURE_CLI, "Microsoft Azure CLI", 1, {NULL, NULL, NULL}, "{}"},
    {"1950a258-227b-4e31-a9cf-717495945fc2",
     "Microsoft Azure PowerShell",
     1,
     {NULL, NULL, NULL},
     "{}"},
    {IDN_APP_CASTOR_CLI, "castor CLI", 1, {NULL, NULL, NULL}, "{}"},
};

int idn_tenant_seed(store_txn_t *t, const char *tenant_id, castor_err *err)
{
    for (size_t i = 0; i < sizeof first_parties / sizeof first_parties[0]; i++) {
        const first_party_t *fp = &first_parties[i];
        store_sp_t sp;
        castor_err e;
        castor_err_clear(&e);
        int rc = store_sp_get_by_app_id(t, tenant_id, fp->app_id, &sp, &e);
        if (rc == 0) {
            store_sp_release(&sp);
            continue;
        }
        if (rc != CASTOR_ENOTFOUND) return castor_err_set(err, rc, "%s", e.message);
        memset(&sp, 0, sizeof sp);
        ids_guid(sp.id);
        snprintf(sp.tenant_id, sizeof sp.tenant_id, "%s", tenant_id);
        snprintf(sp.app_id, sizeof sp.app_id, "%s", fp->app_id);
        snprintf(sp.display_name, sizeof sp.display_name, "%s", fp->name);
        sp.enabled = 1;
        sp.first_party = 1;
        sp.public_client = fp->public_client;
        sp.doc = (char *)fp->doc;
        sp.created = time_now_s();
        rc = store_sp_create(t, &sp, err);
        for (int u = 0; rc == 0 && u < 3 && fp->uris[u]; u++)
            rc = store_sp_add_name(t, tenant_id, sp.id, fp->uris[u], err);
        if (rc < 0) return rc;
    }
    return CASTOR_OK;
}

int idn_start(store_t *store, const char *public_url, const char *admin_id, castor_err *err)
{
    (void)public_url;
    int rc = idn_keys_start(store, err);
    if (rc < 0) return rc;
    store_txn_t *t;
    rc = store_begin(store, STORE_WRITE, &t, err);
    if (rc < 0) return rc;
    store_tenant_t tenants[64];
    int n = 0;
    rc = store_tenant_list(t, tenants, 64, &n, err);
    for (int i = 0; rc == 0 && i < n && i < 64; i++)
        rc = idn_tenant_seed(t, tenants[i].id, err);
    if (rc == 0 && admin_id && admin_id[0]) {
        store_user_t admin;
        rc = store_user_get(t, admin_id, &admin, err);
        if (rc == 0 && !admin.directory_admin) {
            admin.directory_admin = 1;
            rc = store_user_update(t, &admin, err);
        }
    }
    if (rc < 0) {
        store_rollback(t);
        castor_err_prefix(err, "seeding the directory");
        return rc;
    }
    return store_commit(t, err);
}

void idn_stop(void)
{
    idn_issue_cache_clear();
    idn_keys_shutdown();
}

const char *idn_base_url(http_request_t *req)
{
    const idn_deps_t *d = idn_deps(req);
    return http_request_base_url(req, d && d->public_url ? d->public_url : "https://localhost");
}

json_t *idn_cloud_config(const char *public_url)
{
    char b[1100], adfs[1100];
    snprintf(b, sizeof b, "%s/", public_url);
    snprintf(adfs, sizeof adfs, "%s/adfs", public_url);
    return json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s}}", "endpoints",
                     "resourceManager", b, "management", b, "activeDirectory", adfs,
                     "activeDirectoryResourceId", b, "activeDirectoryGraphResourceId", b,
                     "microsoftGraphResourceId", b, "suffixes", "storageEndpoint",
                     "core.castor.local", "keyvaultDns", ".vault.castor.local",
                     "acrLoginServerEndpoint", ".cr.castor.local");
}
