/* dtdl.h — castor's DTDL v2/v3 parser, validator and compiled model graph (pure: no I/O).
 *
 * dtdl_parse_batch() takes the JSON body of ADT's `POST /models` (one interface or an array of
 * them), checks it against the DTDL language rules as the official parser does, resolves
 * references against the batch and a caller-supplied lookup of models stored earlier, and
 * returns an immutable dtdl_graph_t: per interface its ancestors and flattened contents. The
 * twins module validates property values with dtdl_validate_value(). */
#ifndef CASTOR_DTDL_H
#define CASTOR_DTDL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/err.h"

/* The compiled graph lives in one arena; this caps it (RealEstateCore's 767 interfaces with
 * flattened inherited contents take about 20 MB). */
#define DTDL_GRAPH_ARENA_MAX (512u * 1024u * 1024u)
/* Errors collected for one batch; more are counted, not kept. */
#define DTDL_ERRORS_MAX 100u
#define DTDL_ID_TEXT_MAX 256u

/* Undefined extension contexts such as `dtmi:undefinedExtension:context;1`: the official
 * parser tolerates them by default in DTDL v2 and rejects them in v3. */
typedef enum dtdl_undef_ext {
    DTDL_UNDEF_EXT_DEFAULT = 0,
    DTDL_UNDEF_EXT_ALLOW,
    DTDL_UNDEF_EXT_DISALLOW
} dtdl_undef_ext_t;

typedef struct dtdl_options {
    dtdl_undef_ext_t undefined_extensions;
    int max_dtdl_version; /* 0 = the newest castor knows (3) */
} dtdl_options_t;

/* One language error, shaped like the official parser's ParsingError. */
typedef struct dtdl_error {
    char validation_id[64]; /* e.g. "missingRequiredProperty" (dtmi:dtdl:parsingError:…) */
    char primary_id[DTDL_ID_TEXT_MAX]; /* DTMI of the offending element, or "" */
    char property[128];                /* the DTDL property involved, or "" */
    char path[CASTOR_ERR_PATH_MAX]; /* JSON path in the request body, e.g. $[1].contents[0].name */
    char message[CASTOR_ERR_MESSAGE_MAX];
} dtdl_error_t;

/* Every error found in one batch (up to DTDL_ERRORS_MAX; `dropped` counts the rest). Owns its
 * items; release with dtdl_errors_free(). */
typedef struct dtdl_errors {
    dtdl_error_t *items;
    size_t count;
    size_t cap;
    size_t dropped;
} dtdl_errors_t;

void dtdl_errors_init(dtdl_errors_t *errs);
void dtdl_errors_free(dtdl_errors_t *errs);

/* Looks up a model stored earlier. Returns a NEW reference to its DTDL JSON (the interface
 * object as uploaded) or NULL when no such model exists. The parser decrefs it. */
typedef json_t *(*dtdl_lookup_fn)(const char *dtmi, void *ctx);

typedef enum dtdl_schema_kind {
    DTDL_SCHEMA_BOOLEAN,
    DTDL_SCHEMA_DATE,
    DTDL_SCHEMA_DATETIME,
    DTDL_SCHEMA_DOUBLE,
    DTDL_SCHEMA_DURATION,
    DTDL_SCHEMA_FLOAT,
    DTDL_SCHEMA_INTEGER,
    DTDL_SCHEMA_LONG,
    DTDL_SCHEMA_STRING,
    DTDL_SCHEMA_TIME,
    DTDL_SCHEMA_ARRAY,
    DTDL_SCHEMA_ENUM,
    DTDL_SCHEMA_MAP,
    DTDL_SCHEMA_OBJECT
} dtdl_schema_kind_t;

typedef struct dtdl_schema dtdl_schema_t;

typedef struct dtdl_field {
    const char *name;
    const dtdl_schema_t *schema;
} dtdl_field_t;

typedef struct dtdl_enum_value {
    const char *name;
    json_t *value; /* integer or string, owned by the graph */
} dtdl_enum_value_t;

struct dtdl_schema {
    dtdl_schema_kind_t kind;
    const char *id;                  /* DTMI (generated for inline schemas) */
    const dtdl_schema_t *element;    /* ARRAY: element schema */
    dtdl_schema_kind_t value_kind;   /* ENUM: INTEGER or STRING */
    const dtdl_enum_value_t *values; /* ENUM */
    size_t value_count;
    const char *map_key_name;       /* MAP */
    const dtdl_schema_t *map_value; /* MAP */
    const dtdl_field_t *fields;     /* OBJECT */
    size_t field_count;
};

typedef enum dtdl_content_kind {
    DTDL_CONTENT_PROPERTY,
    DTDL_CONTENT_TELEMETRY,
    DTDL_CONTENT_COMMAND,
    DTDL_CONTENT_RELATIONSHIP,
    DTDL_CONTENT_COMPONENT
} dtdl_content_kind_t;

typedef struct dtdl_content dtdl_content_t;
struct dtdl_content {
    dtdl_content_kind_t kind;
    const char *name;
    const char *id;
    const char *defined_in;      /* DTMI of the interface that declares it (maybe an ancestor) */
    const dtdl_schema_t *schema; /* PROPERTY, TELEMETRY; COMMAND request (or NULL) */
    const dtdl_schema_t *response_schema; /* COMMAND */
    bool writable;                        /* PROPERTY, RELATIONSHIP */
    const char *target;                   /* RELATIONSHIP: target interface DTMI or NULL (any) */
    long min_multiplicity;                /* RELATIONSHIP */
    long max_multiplicity;                /* RELATIONSHIP: -1 = unbounded */
    const dtdl_content_t *properties;     /* RELATIONSHIP: its properties */
    size_t property_count;
    const char *component_interface; /* COMPONENT: DTMI of its schema */
};

typedef struct dtdl_interface {
    const char *id;
    int dtdl_version;     /* 2 or 3 */
    bool in_batch;        /* false: a model stored earlier, loaded through lookup */
    const char **extends; /* direct bases */
    size_t extends_count;
    const char **ancestors; /* every base, transitively, each once (not itself) */
    size_t ancestor_count;
    const dtdl_content_t *contents; /* own and inherited, by name, each once */
    size_t content_count;
} dtdl_interface_t;

typedef struct dtdl_graph dtdl_graph_t;

/* Parses and validates a batch. On success returns 0 and sets *out to a new graph (caller frees
 * with dtdl_graph_free). On failure returns a negative castor_rc, fills err with a summary
 * (wire code "DTDLParserError", the first error's message) and, when errs is not NULL, appends
 * every error found. opt and lookup may be NULL. */
int dtdl_parse_batch(const json_t *models, const dtdl_options_t *opt, dtdl_lookup_fn lookup,
                     void *lookup_ctx, dtdl_graph_t **out, dtdl_errors_t *errs, castor_err *err);

void dtdl_graph_free(dtdl_graph_t *g);
size_t dtdl_graph_count(const dtdl_graph_t *g);
const dtdl_interface_t *dtdl_graph_at(const dtdl_graph_t *g, size_t i);
/* Any interface the graph knows, from the batch or loaded through lookup; NULL if none. */
const dtdl_interface_t *dtdl_graph_find(const dtdl_graph_t *g, const char *dtmi);
/* True when iface is model_id or extends it (ADT's IS_OF_MODEL). */
bool dtdl_interface_is_of(const dtdl_interface_t *iface, const char *model_id);
/* The content named `name` (own or inherited), or NULL. */
const dtdl_content_t *dtdl_interface_content(const dtdl_interface_t *iface, const char *name);

/* Checks one twin/component property value against its schema. path names the value in the
 * message ("$.temperature"); on mismatch returns CASTOR_EINVAL with e.g.
 * "$.temperature: expected double, got string" and err->path set. */
int dtdl_validate_value(const dtdl_schema_t *schema, const json_t *value, const char *path,
                        castor_err *err);

/* DTMI syntax (dtmi:seg:seg;version). version 2 requires a version; 3 also allows none and
 * minor versions. Returns true when valid. */
bool dtdl_dtmi_valid(const char *s, int dtdl_version);

/* The general DTMI syntax of the DTMI specification, wider than what a model's @id may use:
 * segments may start with '_' (identifiers reserved for generated elements) and a "#fragment"
 * may follow the version. For identifiers that are read, not defined (e.g. in queries). */
bool dtdl_dtmi_syntax_valid(const char *s);

/* Splits a set of interfaces (a JSON array) into upload batches of at most batch_max, each
 * model after or beside every model of the set it depends on (extends, components, schema
 * references; relationship targets are not dependencies). Returns a new array of arrays (the
 * models are shared, not copied), or NULL when models is not an array or batch_max is 0. */
json_t *dtdl_upload_order(const json_t *models, size_t batch_max);

/* The schema kind's DTDL name ("double"). */
const char *dtdl_schema_kind_name(dtdl_schema_kind_t kind);

#endif
