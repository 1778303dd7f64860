/* sqlite_migrations.h — bringing an SQLite database to the schema this build writes. */
#ifndef CASTOR_STORE_SQLITE_MIGRATIONS_H
#define CASTOR_STORE_SQLITE_MIGRATIONS_H

#include "core/err.h"

#include <sqlite3.h>

/* Sum of every module's steps: one number that grows with any schema change. */
int sqlite_schema_latest(void);

/* Applies every missing step of every module, each in its own transaction, and reports the
 * total steps applied so far (the "schema version" shown to users). Refuses a database that
 * a newer castor wrote: a module at a step this build does not know, or a module it lacks. */
int sqlite_migrate(sqlite3 *db, int *version_out, castor_err *err);

#endif
