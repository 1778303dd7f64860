/* pg_schema.h — the PostgreSQL schema: the same modules as the SQLite schema
 * (src/store/sqlite/sqlite_schema.h), with the same names and the same number of steps, each
 * step meaning the same change written in PostgreSQL's dialect. A step is never edited once
 * released; a change is a new step at the end of its module on both engines. The version each
 * module has reached is kept in schema_versions, and a step and its bump commit together.
 *
 * Dialect choices every step follows:
 *   - INTEGER columns are BIGINT (SQLite integers are 64-bit);
 *   - COLLATE NOCASE is the ICU collation `nocase` (core step 1): case-insensitive equality,
 *     uniqueness and ordering, so the accessors' `COLLATE NOCASE` means the same on both;
 *   - AUTOINCREMENT keys are identity columns; tables the accessors order or page by rowid
 *     have an identity column named rowid;
 *   - triggers are PL/pgSQL functions. */
#ifndef CASTOR_STORE_PG_SCHEMA_H
#define CASTOR_STORE_PG_SCHEMA_H

typedef struct pg_schema_module {
    const char *name;         /* the SQLite module's name: stored in the database */
    const char *const *steps; /* SQL of each step, in order */
    int nsteps;
} pg_schema_module_t;

/* One per schema_<module>.c; listed, in creation order, in pg_migrations.c. */
extern const pg_schema_module_t pg_schema_core;
extern const pg_schema_module_t pg_schema_directory;
extern const pg_schema_module_t pg_schema_arm;
extern const pg_schema_module_t pg_schema_models;
extern const pg_schema_module_t pg_schema_twins;
extern const pg_schema_module_t pg_schema_audit;
extern const pg_schema_module_t pg_schema_events;

#define PG_SCHEMA_STEPS(name_, steps_)                                                             \
    {                                                                                              \
        .name = (name_), .steps = (steps_), .nsteps = (int)(sizeof(steps_) / sizeof((steps_)[0]))  \
    }

#endif
