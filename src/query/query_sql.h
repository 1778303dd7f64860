/* query_sql.h — the ADT query compiler: a checked query_t to SQL text and bound values.
 *
 * Pure up to SQL text (the one place outside src/store/ that writes SQL, as issue 8 names it):
 * query_compile() walks the checked AST and writes one SELECT for the store's engine through
 * a small dialect (query_dialect_t: JSON access, type names, placeholders), so PostgreSQL can
 * follow SQLite with a second table of strings. Every literal of the query, every property
 * path and every id the query names becomes a bound parameter; the SQL text holds only the
 * compiler's own words, table aliases and numbered placeholders, so no query text can change
 * the statement's shape.
 *
 * ADT's semantics, as compiled:
 *   - a comparison is true only between values of the same JSON type (numbers with numbers,
 *     strings with strings, booleans with booleans); across types, or when a property is
 *     missing, it is undefined (SQL NULL): the row is not returned, and NOT keeps it undefined,
 *     so `NOT T.temp < 80` skips twins without a numeric temp, as ADT's docs describe;
 *   - IS_DEFINED / IS_NULL / IS_BOOL / ... are always true or false; a missing property is not
 *     null;
 *   - IS_OF_MODEL(m) is the twin's model being m, a later version of m, or extending either
 *     (the model_refs closure); `exact` is the model id itself;
 *   - JOIN ... RELATED is an inner join through the relationships table; MATCH walks each
 *     edge outwards from the twin the WHERE clause pins ($dtId = / IN), never traversing one
 *     relationship twice on a path: an edge of one direction and one hop count (*3, or none) as
 *     that many joins over relationships in a fixed order, any other (a range, or either
 *     direction) as a recursive CTE; rows are distinct per bound twin/relationship.
 * Rows come in a stable order (the rowids of the bound collections), which is what paging
 * continues from. */
#ifndef CASTOR_QUERY_SQL_H
#define CASTOR_QUERY_SQL_H

#include "query/query.h"

/* SQL text longer than this is refused (a query of 8,000 characters compiles to ~100 KB at
 * most; the cap only bounds a bug). */
#define QUERY_SQL_MAX (1024u * 1024u)

typedef enum query_param_kind {
    QUERY_PARAM_NULL,
    QUERY_PARAM_INT,
    QUERY_PARAM_DOUBLE,
    QUERY_PARAM_TEXT
} query_param_kind_t;

/* Where a bound value comes from: the query text (fixed for a given text), or the request
 * (instance, paging key, page size), which query_sql_bind() sets again on a cached form. */
typedef enum query_param_src {
    QUERY_SRC_LITERAL, /* the compiler's own value (a path, a name, a type word) */
    QUERY_SRC_TEXT,    /* a string or number literal of the text: index is its token's byte
                          offset (the cache turns it into the token's ordinal), set again from
                          each request's tokens by query_sql_bind_literal() */
    QUERY_SRC_INSTANCE,
    QUERY_SRC_INSTANCE_KEY,
    QUERY_SRC_LIMIT,
    QUERY_SRC_AFTER /* after[index] */
} query_param_src_t;

/* What a QUERY_SRC_TEXT parameter is of its literal: the literal itself, or a value derived
 * from it, so the SQL text never depends on a literal's content (only on its kind). */
typedef enum query_param_derive {
    QUERY_DERIVE_NONE,
    QUERY_DERIVE_MODEL,      /* the literal, which must be a model id (dtmi:...) */
    QUERY_DERIVE_MODEL_BASE, /* `dtmi:x;N`: "dtmi:x;" (NULL without a version) */
    QUERY_DERIVE_MODEL_NEXT, /* "dtmi:x<" : the first text past every "dtmi:x;..." */
    QUERY_DERIVE_MODEL_VPOS, /* where the version starts in a stored id (1-based) */
    QUERY_DERIVE_MODEL_VER   /* N */
} query_param_derive_t;

typedef struct query_param {
    query_param_kind_t kind;
    query_param_src_t src;
    query_param_derive_t derive; /* QUERY_SRC_TEXT */
    bool neg;                    /* QUERY_SRC_TEXT: a '-' applies to the number token */
    uint32_t index; /* QUERY_SRC_AFTER: which key; QUERY_SRC_TEXT: the token (see above) */
    int64_t i;
    double d;
    const char *s; /* NUL-terminated; arena or query memory */
} query_param_t;

/* The engine's words. Formats take the arguments their comment names, in order. */
typedef struct query_dialect {
    const char *name;
    const char *rowid;      /* the stable integer row id column */
    const char *param;      /* placeholder for parameter n (1-based): "%u" */
    const char *json_type;  /* (doc, path placeholder): the JSON type name, NULL when absent */
    const char *json_value; /* (doc, path): a JSON scalar as an SQL value */
    const char *json_text;  /* (doc, path): the value as JSON text, NULL when absent */
    const char *json_quote; /* (text expr): an SQL text as JSON text */
    const char *json_each;  /* (doc, path, condition on elements e.type / e.value) */
    const char *prefix_hi;  /* (text expr): above every text starting with it, below others */
    /* type names as SQL literals */
    const char *t_text, *t_number_list, *t_bool_list, *t_true, *t_false, *t_null, *t_object,
        *t_array, *t_primitive_list;
    /* Encodes a property path for the JSON functions; NULL when this engine cannot name it
     * (the path then never matches). */
    const char *(*path)(arena_t *a, const char *const *segs, size_t n);
    /* Statically typed engines (PostgreSQL): a value is compared as text or as a number, never
     * as SQLite's dynamic value, and each placeholder carries its parameter's type. */
    bool typed;
    const char *json_str;   /* (doc, path): a JSON string's text (typed only) */
    const char *json_num;   /* (doc, path): a JSON number as a number (typed only) */
    const char *param_text; /* placeholder formats by parameter type (typed only) */
    const char *param_int;
    const char *param_real;
    const char *instr;       /* (haystack, needle): 1-based position, 0 when absent */
    const char *substr_from; /* (text, start): the text from start (1-based) on */
    const char *int_cast;    /* (text): its leading digits as an integer */
    const char *join_on;     /* a join with ON that keeps the written order */
    const char *atom_num;    /* json_each's element as a number, in its condition */
} query_dialect_t;

extern const query_dialect_t query_dialect_sqlite;
extern const query_dialect_t query_dialect_pg;

/* The dialect of a store engine (store_engine_name: "sqlite" or "postgres"). */
const query_dialect_t *query_dialect_for(const char *engine);

typedef struct query_sql_in {
    const char *instance;     /* the twins' instance GUID */
    const char *instance_key; /* the models' instance key (lower-cased name) */
    const int64_t *after;     /* paging key of the last row already returned; NULL: first page */
    size_t nafter;            /* must equal query_sql_t.nkeys when after is set */
    int64_t limit;            /* rows to fetch (ignored for COUNT) */
    /* Every MATCH edge as a recursive CTE, the general form, even one the compiler would walk
     * with joins: the reference tests/unit/test_query_match.c checks the joins against. The
     * query cache never sets it. */
    bool walk_recursive;
} query_sql_in_t;

typedef struct query_sql {
    const char *sql;
    query_param_t *params;
    size_t nparams;
    /* Result columns: nkeys integers (the paging key), then nouts JSON texts (NULL: the
     * property is undefined on this row and is omitted). COUNT: one integer column, no key. */
    size_t nkeys;
    const char **out_keys; /* row key of each output; star: the one output is the row itself */
    size_t nouts;
    bool star;
    bool count;
} query_sql_t;

/* Compiles a checked query. Fails only on the compiler's own limits (CASTOR_ELIMIT) and on
 * shapes the checker let through that no SQL can express (400 SqlQueryError). */
int query_compile(arena_t *a, const query_t *q, const query_dialect_t *d, const query_sql_in_t *in,
                  query_sql_t *out, castor_err *err);

/* How many key columns a query's rows have (what a continuation token must carry). */
size_t query_sql_nkeys(const query_t *q);

/* Sets the request's values (every parameter whose src is not QUERY_SRC_LITERAL) from in, so a
 * form compiled for another request of the same text, paged the same way, can run for this
 * one. in->after must be set exactly when the form was compiled with it, with nkeys values. */
int query_sql_bind(query_sql_t *qs, const query_sql_in_t *in, castor_err *err);

/* Sets a QUERY_SRC_TEXT parameter from its literal v (sign already applied) in a, deriving as
 * p->derive says. Fails (-1, nothing reported) when v breaks a rule the checker enforces on a
 * literal's content (a model id not starting with dtmi:): the caller then runs the full
 * front end, which reports it with its position. */
int query_sql_bind_literal(arena_t *a, query_param_t *p, const query_value_t *v);

#endif
