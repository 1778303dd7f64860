/* twins_routes.c — the data-plane route table (see twins_routes.h).
 *
 * The table is declared in full now so that the authorization layer, its tests and the
 * 501 answers cover the whole API surface; handlers are filled in by the models, twins,
 * query, event-route and jobs modules as they land. */
#include "twins/twins_routes.h"

#include "access/access.h"
#include "core/limits.h"
#include "events/ev_routes.h"
#include "twins/models_api.h"
#include "twins/twins_api.h"
#include "twins/twins_query.h"

#define DT "Microsoft.DigitalTwins/"
#define V http_api_versions_data
#define GUARD                                                                                      \
    access_guard_data /* instance, token, API permission, then the entry's data action             \
                       */

const http_route_t twins_routes[] = {
    {"POST", "/models", models_add, "DigitalTwinModels_Add", V, DT "models/write",
     CASTOR_HTTP_MODEL_BODY_MAX, 1, GUARD},
    {"GET", "/models", models_list, "DigitalTwinModels_List", V, DT "models/read", 0, 0, GUARD},
    {"GET", "/models/{id}", models_get, "DigitalTwinModels_GetById", V, DT "models/read", 0, 0,
     GUARD},
    {"PATCH", "/models/{id}", models_update, "DigitalTwinModels_Update", V, DT "models/write", 0, 1,
     GUARD},
    {"DELETE", "/models/{id}", models_delete, "DigitalTwinModels_Delete", V, DT "models/delete", 0,
     0, GUARD},
    {"POST", "/query", twins_query, "Query_QueryTwins", V, DT "query/action", 0, 1, GUARD},
    {"GET", "/digitaltwins/{id}", twins_get, "DigitalTwins_GetById", V, DT "digitaltwins/read", 0,
     0, GUARD},
    {"PUT", "/digitaltwins/{id}", twins_put, "DigitalTwins_Add", V, DT "digitaltwins/write", 0, 1,
     GUARD},
    {"PATCH", "/digitaltwins/{id}", twins_patch, "DigitalTwins_Update", V, DT "digitaltwins/write",
     0, 1, GUARD},
    {"DELETE", "/digitaltwins/{id}", twins_delete, "DigitalTwins_Delete", V,
     DT "digitaltwins/delete", 0, 0, GUARD},
    {"GET", "/digitaltwins/{id}/relationships/{relationshipId}", twins_rel_get,
     "DigitalTwins_GetRelationshipById", V, DT "digitaltwins/relationships/read", 0, 0, GUARD},
    {"PUT", "/digitaltwins/{id}/relationships/{relationshipId}", twins_rel_put,
     "DigitalTwins_AddRelationship", V, DT "digitaltwins/relationships/write", 0, 1, GUARD},
    {"PATCH", "/digitaltwins/{id}/relationships/{relationshipId}", twins_rel_patch,
     "DigitalTwins_UpdateRelationship", V, DT "digitaltwins/relationships/write", 0, 1, GUARD},
    {"DELETE", "/digitaltwins/{id}/relationships/{relationshipId}", twins_rel_delete,
     "DigitalTwins_DeleteRelationship", V, DT "digitaltwins/relationships/delete", 0, 0, GUARD},
    {"GET", "/digitaltwins/{id}/relationships", twins_rel_list, "DigitalTwins_ListRelationships", V,
     DT "digitaltwins/relationships/read", 0, 0, GUARD},
    {"GET", "/digitaltwins/{id}/incomingrelationships", twins_rel_list_incoming,
     "DigitalTwins_ListIncomingRelationships", V, DT "digitaltwins/relationships/read", 0, 0,
     GUARD},
    {"POST", "/digitaltwins/{id}/telemetry", twins_telemetry, "DigitalTwins_SendTelemetry", V,
     DT "digitaltwins/write", 0, 1, GUARD},
    {"POST", "/digitaltwins/{id}/components/{componentPath}/telemetry", twins_component_telemetry,
     "DigitalTwins_SendComponentTelemetry", V, DT "digitaltwins/write", 0, 1, GUARD},
    {"GET", "/digitaltwins/{id}/components/{componentPath}", twins_component_get,
     "DigitalTwins_GetComponent", V, DT "digitaltwins/read", 0, 0, GUARD},
    {"PATCH", "/digitaltwins/{id}/components/{componentPath}", twins_component_patch,
     "DigitalTwins_UpdateComponent", V, DT "digitaltwins/write", 0, 1, GUARD},
    {"GET", "/eventroutes", ev_routes_list, "EventRoutes_List", V, DT "eventroutes/read", 0, 0,
     GUARD},
    {"GET", "/eventroutes/{id}", ev_routes_get, "EventRoutes_GetById", V, DT "eventroutes/read", 0,
     0, GUARD},
    {"PUT", "/eventroutes/{id}", ev_routes_put, "EventRoutes_Add", V, DT "eventroutes/write", 0, 1,
     GUARD},
    {"DELETE", "/eventroutes/{id}", ev_routes_delete, "EventRoutes_Delete", V,
     DT "eventroutes/delete", 0, 0, GUARD},
    {"GET", "/jobs/imports", NULL, "ImportJobs_List", V, DT "jobs/imports/read", 0, 0, GUARD},
    {"PUT", "/jobs/imports/{id}", NULL, "ImportJobs_Add", V, DT "jobs/imports/write", 0, 1, GUARD},
    {"GET", "/jobs/imports/{id}", NULL, "ImportJobs_GetById", V, DT "jobs/imports/read", 0, 0,
     GUARD},
    {"DELETE", "/jobs/imports/{id}", NULL, "ImportJobs_Delete", V, DT "jobs/imports/delete", 0, 0,
     GUARD},
    {"POST", "/jobs/imports/{id}/cancel", NULL, "ImportJobs_Cancel", V,
     DT "jobs/imports/cancel/action", 0, 0, GUARD},
    {"POST", "/jobs/deletions", NULL, "DeleteJobs_Add", V, DT "jobs/deletions/write", 0, 0, GUARD},
    {"GET", "/jobs/deletions", NULL, "DeleteJobs_List", V, DT "jobs/deletions/read", 0, 0, GUARD},
    {"GET", "/jobs/deletions/{id}", NULL, "DeleteJobs_GetById", V, DT "jobs/deletions/read", 0, 0,
     GUARD},
    {0},
};
