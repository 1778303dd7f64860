/* schema_events.c — event routes and their delivery state (the endpoints they name are ARM
 * resources: schema_arm.c).
 *
 *   event_routes(instance_id, id, endpoint_name, filter, created,
 *                cursor, lease_owner, lease_until,
 *                delivered, failed, dead_lettered, last_error, last_error_time)
 *     One row per ADT event route. `cursor` is the outbox seq up to which this route has
 *     finished every event (delivered or dead-lettered): after a restart delivery resumes
 *     after it, so an event past the cursor may arrive twice but none is skipped. A new route
 *     starts at the outbox's newest seq, as ADT routes apply to events after they exist.
 *     `lease_owner`/`lease_until` (unix ms) say which castor process delivers for the route:
 *     one at a time, taken over when the lease runs out (several nodes share one database).
 *     The counters are cumulative figures shown on the endpoint's GET and by `dt doctor`;
 *     `failing` (step 2) counts the sends failed in a row, `last_delivered_time` is unix ms.
 *
 * The outbox is trimmed below the smallest cursor of all routes (schema_twins.c). */
#include "store/sqlite/sqlite_schema.h"

static const char *const steps[] = {
    "CREATE TABLE event_routes ("
    "  instance_id TEXT NOT NULL REFERENCES dt_instances(id) ON DELETE CASCADE,"
    "  id TEXT NOT NULL, endpoint_name TEXT NOT NULL COLLATE NOCASE, filter TEXT NOT NULL,"
    "  created INTEGER NOT NULL, cursor INTEGER NOT NULL,"
    "  lease_owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0,"
    "  delivered INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,"
    "  dead_lettered INTEGER NOT NULL DEFAULT 0, last_error TEXT, last_error_time INTEGER,"
    "  PRIMARY KEY (instance_id, id));",
    /* Step 2: whether a route is failing now (consecutive failed sends) and when it last
     * delivered, so `dt doctor` and the endpoint's GET can tell a failing endpoint from one
     * that failed once long ago. */
    "ALTER TABLE event_routes ADD COLUMN failing INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE event_routes ADD COLUMN last_delivered_time INTEGER NOT NULL DEFAULT 0;",
};

const sqlite_schema_module_t sqlite_schema_events = SQLITE_SCHEMA_STEPS("events", steps);
