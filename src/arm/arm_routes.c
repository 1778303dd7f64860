/* arm_routes.c — the resource manager's route table: each route's control-plane action and
 * the guard that enforces it (access_guard_arm, access/access.h).
 *
 * Every entry of the list (ARM_ROUTES) names its action, so a route cannot be added without
 * saying what it requires. An empty action means "any
 * authenticated caller": tenants/subscriptions/operations, reads of role definitions (every
 * Azure user may read them), the caller's own permissions, and list operations, which filter
 * their items by what the caller may read instead of refusing the whole list. */
#include "arm/arm_internal.h"

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
#define ACCESS_AT(X, P)                                                                            \
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
    ACCESS_AT(X, "")                                                                               \
    ACCESS_AT(X, S)                                                                                \
    ACCESS_AT(X, G)                                                                                \
    ACCESS_AT(X, R)

#define AS_ROUTE(m, p, h, n, v, a, j) {m, p, h, n, v, a, 0, j, access_guard_arm},

const http_route_t arm_routes[] = {ARM_ROUTES(AS_ROUTE){0}};
