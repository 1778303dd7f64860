/* sqlite_migrations.h — the versioned schema of the SQLite engine. */
#ifndef CASTOR_STORE_SQLITE_MIGRATIONS_H
#define CASTOR_STORE_SQLITE_MIGRATIONS_H

#include "core/err.h"

#include <sqlite3.h>

/* The schema version this build writes. */
int sqlite_schema_latest(void);

/* Brings db to the latest schema, each step in its own transaction, and reports the version
 * reached. Refuses a database whose version is newer than this build knows. */
int sqlite_migrate(sqlite3 *db, int *version_out, castor_err *err);

#endif
