/* sqlite_schema.h — the SQLite schema, as a list of modules each with its own ordered steps.
 *
 * Each plane owns the DDL of its tables in its own file (schema_<module>.c), so modules grow
 * their schema without touching each other's. A step is never edited once released: a change
 * is a new step at the end of that module's list. The version each module has reached is kept
 * in the schema_versions table, and a step and its version bump commit together. */
#ifndef CASTOR_STORE_SQLITE_SCHEMA_H
#define CASTOR_STORE_SQLITE_SCHEMA_H

typedef struct sqlite_schema_module {
    const char *name;         /* unique, stable: it is stored in the database */
    const char *const *steps; /* SQL of each step, in order */
    int nsteps;
} sqlite_schema_module_t;

/* One per schema_<module>.c; listed, in creation order, in sqlite_migrations.c. */
extern const sqlite_schema_module_t sqlite_schema_core;
extern const sqlite_schema_module_t sqlite_schema_directory;
extern const sqlite_schema_module_t sqlite_schema_arm;
extern const sqlite_schema_module_t sqlite_schema_audit;
extern const sqlite_schema_module_t sqlite_schema_models;

#define SQLITE_SCHEMA_STEPS(name_, steps_)                                                         \
    {                                                                                              \
        .name = (name_), .steps = (steps_), .nsteps = (int)(sizeof(steps_) / sizeof((steps_)[0]))  \
    }

#endif
