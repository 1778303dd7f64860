/* arm_routes.c — the resource manager's route table, each route's control-plane action, and
 * the guard that enforces them.
 *
 * One list (ARM_ROUTES) generates both the http_route_t table and the parallel action table,
 * so a route cannot be added without saying what it requires. An empty action means "any
 * authenticated caller": tenants/subscriptions/operations, reads of role definitions (every
 * Azure user may read them), the caller's own permissions, and list operations, which filter
 * their items by what the caller may read instead of refusing the whole list. */
#include "arm/arm_internal.h"

#include "core/ids.h"

#include <string.h>

#define RES http_api_versions_arm_res
#define DTV http_api_versions_arm_dt
#define AUTH http_api_versions_arm_auth

#define S "/subscriptions/{subscriptionId}"
#define G S "/resourceGroups/{resourceGroupName}"
#define I G "/providers/Microsoft.DigitalTwins/digitalTwinsInstances/{resourceName}"
#define R G "/providers/{providerNamespace}/{resourceType}/{resourceName}"
#define MA "/providers/Microsoft.Authorization"
#define LOC S "/providers/Microsoft.DigitalTwins/locations/{location}"

#define RG_ACT "Microsoft.Resources/subscriptions/resourceGroups/"
#define DT_ACT "Microsoft.DigitalTwins/digitalTwinsInstances/"
#define EP_ACT DT_ACT "endpoints/"
#define RD_ACT "Microsoft.Authorization/roleDefinitions/"
#define RA_ACT "Microsoft.Authorization/roleAssignments/"

/* Role definitions and assignments at one scope shape X (root, subscription, group, resource). */
#define AUTHZ_AT(X, P)                                                                             \
    X("GET", P MA "/roleDefinitions", arm_h_roledef_list, "RoleDefinitions_List", AUTH, "", 0)     \
    X("GET", P MA "/roleDefinitions/{roleDefinitionId}", arm_h_roledef_get, "RoleDefinitions_Get", \
      AUTH, "", 0)                                                                                 \
    X("PUT", P MA "/roleDefinitions/{roleDefinitionId}", arm_h_roledef_put,                        \
      "RoleDefinitions_CreateOrUpdate", AUTH, RD_ACT "write", 1)                                   \
    X("DELETE", P MA "/roleDefinitions/{roleDefinitionId}", arm_h_roledef_delete,                  \
      "RoleDefinitions_Delete", AUTH, RD_ACT "delete", 0)                                          \
    X("GET", P MA "/roleAssignments", arm_h_ra_list, "RoleAssignments_ListForScope", AUTH,         \
      RA_ACT "read", 0)                                                                            \
    X("GET", P MA "/roleAssignments/{roleAssignmentName}", arm_h_ra_get, "RoleAssignments_Get",    \
      AUTH, RA_ACT "read", 0)                                                                      \
    X("PUT", P MA "/roleAssignments/{roleAssignmentName}", arm_h_ra_put, "RoleAssignments_Create", \
      AUTH, RA_ACT "write", 1)                                                                     \
    X("DELETE", P MA "/roleAssignments/{roleAssignmentName}", arm_h_ra_delete,                     \
      "RoleAssignments_Delete", AUTH, RA_ACT "delete", 0)                                          \
    X("GET", P MA "/castorDenials", arm_h_denials_list, "Castor_AuditEvents_List", AUTH, "", 0)

#define ARM_ROUTES(X)                                                                              \
    X("GET", "/tenants", arm_h_tenants_list, "Tenants_List", RES, "", 0)                           \
    X("GET", "/subscriptions", arm_h_subscriptions_list, "Subscriptions_List", RES, "", 0)         \
    X("GET", S, arm_h_subscription_get, "Subscriptions_Get", RES, "", 0)                           \
    X("GET", S "/resourcegroups", arm_h_groups_list, "ResourceGroups_List", RES, "", 0)            \
    X("PUT", G, arm_h_group_put, "ResourceGroups_CreateOrUpdate", RES, RG_ACT "write", 1)          \
    X("GET", G, arm_h_group_get, "ResourceGroups_Get", RES, RG_ACT "read", 0)                      \
    X("HEAD", G, arm_h_group_head, "ResourceGroups_CheckExistence", RES, RG_ACT "read", 0)         \
    X("DELETE", G, arm_h_group_delete, "ResourceGroups_Delete", RES, RG_ACT "delete", 0)           \
    X("GET", S "/resources", arm_h_resources_list, "Resources_List", RES, "", 0)                   \
    X("GET", G "/resources", arm_h_resources_list, "Resources_ListByResourceGroup", RES, "", 0)    \
    X("GET", S "/providers/Microsoft.DigitalTwins/digitalTwinsInstances", arm_h_dt_list,           \
      "DigitalTwins_List", DTV, "", 0)                                                             \
    X("GET", G "/providers/Microsoft.DigitalTwins/digitalTwinsInstances", arm_h_dt_list,           \
      "DigitalTwins_ListByResourceGroup", DTV, "", 0)                                              \
    X("PUT", I, arm_h_dt_put, "DigitalTwins_CreateOrUpdate", DTV, DT_ACT "write", 1)               \
    X("GET", I, arm_h_dt_get, "DigitalTwins_Get", DTV, DT_ACT "read", 0)                           \
    X("PATCH", I, arm_h_dt_patch, "DigitalTwins_Update", DTV, DT_ACT "write", 1)                   \
    X("DELETE", I, arm_h_dt_delete, "DigitalTwins_Delete", DTV, DT_ACT "delete", 0)                \
    X("GET", I "/endpoints", arm_h_endpoint_list, "DigitalTwinsEndpoint_List", DTV, EP_ACT "read", \
      0)                                                                                           \
    X("PUT", I "/endpoints/{endpointName}", arm_h_endpoint_put,                                    \
      "DigitalTwinsEndpoint_CreateOrUpdate", DTV, EP_ACT "write", 1)                               \
    X("GET", I "/endpoints/{endpointName}", arm_h_endpoint_get, "DigitalTwinsEndpoint_Get", DTV,   \
      EP_ACT "read", 0)                                                                            \
    X("DELETE", I "/endpoints/{endpointName}", arm_h_endpoint_delete,                              \
      "DigitalTwinsEndpoint_Delete", DTV, EP_ACT "delete", 0)                                      \
    X("POST", LOC "/checkNameAvailability", arm_h_dt_check_name,                                   \
      "DigitalTwins_CheckNameAvailability", DTV,                                                   \
      "Microsoft.DigitalTwins/locations/checkNameAvailability/action", 1)                          \
    X("GET", LOC "/operationsStatuses/{operationId}", arm_h_dt_op_status,                          \
      "DigitalTwins_OperationStatus", DTV,                                                         \
      "Microsoft.DigitalTwins/locations/operationsStatuses/read", 0)                               \
    X("GET", LOC "/operationResults/{operationId}", arm_h_dt_op_result,                            \
      "DigitalTwins_OperationResult", DTV,                                                         \
      "Microsoft.DigitalTwins/locations/operationResults/read", 0)                                 \
    X("GET", "/providers/Microsoft.DigitalTwins/operations", arm_h_dt_operations,                  \
      "Operations_List", DTV, "", 0)                                                               \
    X("GET", S MA "/permissions", arm_h_permissions, "Permissions_ListForSubscription", AUTH, "",  \
      0)                                                                                           \
    X("GET", G MA "/permissions", arm_h_permissions, "Permissions_ListForResourceGroup", AUTH, "", \
      0)                                                                                           \
    X("GET", R MA "/permissions", arm_h_permissions, "Permissions_ListForResource", AUTH, "", 0)   \
    AUTHZ_AT(X, "")                                                                                \
    AUTHZ_AT(X, S)                                                                                 \
    AUTHZ_AT(X, G)                                                                                 \
    AUTHZ_AT(X, R)

#define AS_ROUTE(m, p, h, n, v, a, j) {m, p, h, n, v, NULL, 0, j},
#define AS_ACTION(m, p, h, n, v, a, j) a,

const http_route_t arm_routes[] = {ARM_ROUTES(AS_ROUTE){0}};
static const char *const actions[] = {ARM_ROUTES(AS_ACTION) NULL};

_Static_assert(sizeof arm_routes / sizeof arm_routes[0] == sizeof actions / sizeof actions[0],
               "every ARM route has an action entry");

const char *arm_route_action(const http_route_t *route)
{
    size_t n = sizeof arm_routes / sizeof arm_routes[0] - 1;
    if (route < arm_routes || route >= arm_routes + n) return NULL;
    return actions[route - arm_routes];
}

int arm_authorize(http_request_t *req, const http_route_t *route, castor_err *err)
{
    const char *action = arm_route_action(route);
    if (!action)
        return castor_err_set(err, CASTOR_EINTERNAL, "route %s is not an ARM route",
                              route && route->name ? route->name : "?");
    const char *sub = http_request_param(req, "subscriptionId");
    if (sub) {
        if (!ids_is_guid(sub))
            return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidSubscriptionId",
                                   "The provided subscription identifier '%s' is malformed or "
                                   "invalid.",
                                   sub);
        store_txn_t *t;
        int rc = arm_begin(req, STORE_READ, &t, err);
        if (rc < 0) return rc;
        rc = arm_subscription_check(t, sub, err);
        store_rollback(t);
        if (rc < 0) return rc;
    }
    if (!action[0]) return CASTOR_OK;
    return arm_require(req, action, arm_request_scope(req), err);
}

int arm_guard(http_request_t *req, const http_route_t *route, castor_err *err)
{
    arm_caller_t c;
    int rc = arm_authenticate(req, &c, err);
    if (rc < 0) return rc;
    rc = arm_caller_set(req, &c);
    if (rc < 0) return castor_err_set(err, rc, "out of memory");
    return arm_authorize(req, route, err);
}
