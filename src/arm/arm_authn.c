/* arm_authn.c — who is calling the resource manager: the bearer token, verified by the
 * identity plane's auth API for an ARM audience (management.azure.com with or without the
 * slash, the public URL + "/" that az uses after cloud registration). The 401 codes are the
 * auth API's: AuthenticationFailed, InvalidAuthenticationToken, ExpiredAuthenticationToken,
 * InvalidAuthenticationTokenAudience, InvalidAuthenticationTokenTenant. */
#include "arm/arm_internal.h"

#include "auth/auth.h"

#include <stdlib.h>

int arm_authenticate(http_request_t *req, arm_caller_t *out, castor_err *err)
{
    auth_principal_t *p = calloc(1, sizeof *p);
    if (!p) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    int rc = auth_bearer(req, AUTH_AUDIENCE_ARM, p, err);
    if (rc == 0) {
        /* ARM names a user client by UPN and an application by its appId. */
        out->tenant_id = arena_strdup(&req->arena, p->tenant_id);
        out->object_id = arena_strdup(&req->arena, p->oid);
        out->app_id = arena_strdup(&req->arena, p->appid);
        out->name =
            arena_strdup(&req->arena, p->kind == AUTH_KIND_USER && p->upn[0] ? p->upn : p->appid);
        out->groups = p->groups;
        out->ngroups = p->ngroups;
        out->is_app = p->kind == AUTH_KIND_APP;
        if (!out->tenant_id || !out->object_id || !out->app_id || !out->name)
            rc = castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    }
    free(p);
    return rc;
}
