/* arm_authn.c — who is calling the resource manager: the bearer token, verified by the
 * identity plane's auth API for an ARM audience. Until that API is merged, every request is
 * refused (never let through). */
#include "arm/arm_internal.h"

int arm_authenticate(http_request_t *req, arm_caller_t *out, castor_err *err)
{
    (void)req;
    (void)out;
    return castor_err_http(err, CASTOR_EAUTH, 401, "AuthenticationFailed",
                           "Authentication failed: this castor was built without the token "
                           "service.");
}
