/* query.h — the Azure Digital Twins query language: typed AST, parser, checker, printer.
 *
 * The front end of `POST /query`. query_parse() turns text into an arena-allocated AST,
 * query_check() applies ADT's semantic rules and resolves every property path to the
 * collection it reads, and query_print() renders canonical text. A later SQL compiler walks
 * the checked AST; every literal in it is a typed query_value_t so the compiler binds it as
 * a SQL parameter and never splices query text into SQL. Pure: no I/O, no globals.
 *
 * Errors are 400 `SqlQueryError` (rc CASTOR_EINVAL, or CASTOR_ELIMIT for ADT's limits) and
 * their message always reads "<Kind> error at position N: <what was expected/allowed>",
 * N being the 1-based character position in the query text; err->path is "$.query". */
#ifndef CASTOR_QUERY_QUERY_H
#define CASTOR_QUERY_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"

/* Conditions may nest (parentheses, NOT) this deep. Not an ADT limit: it bounds the parser's
 * recursion so hostile input cannot exhaust the stack; 8,000 characters allow ~4,000 levels. */
#define QUERY_NESTING_MAX 64u

/* A literal. Strings are UTF-8, unescaped, NUL-free (\u0000 is refused) and NUL-terminated. */
typedef enum query_value_kind {
    QUERY_VALUE_NULL,
    QUERY_VALUE_BOOL,
    QUERY_VALUE_INT,    /* written without '.' or exponent and fits int64 */
    QUERY_VALUE_DOUBLE, /* anything else numeric (finite) */
    QUERY_VALUE_STRING
} query_value_kind_t;

typedef struct query_value {
    query_value_kind_t kind;
    bool b;
    int64_t i;
    double d;
    const char *s; /* QUERY_VALUE_STRING */
    size_t len;    /* bytes in s */
    /* A string or number written in the text: the byte offset of its STRING/NUMBER token, and
     * whether a '-' before it was applied (the compiled-query cache binds such literals from
     * the tokens of each request's text). */
    bool from_text, neg;
    size_t tok_pos;
} query_value_t;

/* A dotted path as written: `T.obj.[[1key]].$metadata.$model`, or `name`, or `T`.
 * The parser fills segs; query_check() decides whether segs[0] names a collection (then
 * first == 1) or is a property of the only collection (first == 0). Properties read are
 * segs[first..nsegs); none left means the whole collection (`SELECT T`). */
typedef struct query_path {
    const char **segs;
    size_t nsegs;
    size_t pos;     /* byte offset of the path in the query text */
    int collection; /* index into query_t.collections; -1 until checked */
    size_t first;
} query_path_t;

typedef enum query_operand_kind { QUERY_OPERAND_PATH, QUERY_OPERAND_VALUE } query_operand_kind_t;

typedef struct query_operand {
    query_operand_kind_t kind;
    query_path_t path;   /* QUERY_OPERAND_PATH */
    query_value_t value; /* QUERY_OPERAND_VALUE */
    size_t pos;
} query_operand_t;

typedef enum query_cmp {
    QUERY_CMP_EQ,
    QUERY_CMP_NE,
    QUERY_CMP_LT,
    QUERY_CMP_LE,
    QUERY_CMP_GT,
    QUERY_CMP_GE
} query_cmp_t;

typedef enum query_fn {
    QUERY_FN_IS_OF_MODEL, /* args: [collection path,] model string; plus `exact` flag */
    QUERY_FN_IS_DEFINED,  /* the rest of the IS_ functions take one property path */
    QUERY_FN_IS_NULL,
    QUERY_FN_IS_BOOL,
    QUERY_FN_IS_NUMBER,
    QUERY_FN_IS_STRING,
    QUERY_FN_IS_PRIMITIVE,
    QUERY_FN_IS_OBJECT,
    QUERY_FN_STARTSWITH,    /* args: path, string (STARTS_WITH spelling accepted) */
    QUERY_FN_ENDSWITH,      /* args: path, string (ENDS_WITH spelling accepted) */
    QUERY_FN_CONTAINS,      /* args: path, string */
    QUERY_FN_ARRAY_CONTAINS /* args: path, scalar */
} query_fn_t;

typedef enum query_expr_kind {
    QUERY_EXPR_AND,
    QUERY_EXPR_OR,
    QUERY_EXPR_NOT,
    QUERY_EXPR_CMP,
    QUERY_EXPR_IN, /* IN, or NIN when negated */
    QUERY_EXPR_CALL
} query_expr_kind_t;

typedef struct query_expr query_expr_t;
struct query_expr {
    query_expr_kind_t kind;
    size_t pos; /* AND/OR: the operator; NOT/CALL: the keyword; CMP/IN: the left operand */
    query_expr_t *lhs, *rhs; /* AND, OR; NOT uses lhs only */
    query_cmp_t op;          /* CMP */
    query_operand_t left;    /* CMP, IN */
    query_operand_t right;   /* CMP */
    bool negated;            /* IN: NIN */
    query_value_t *items;    /* IN list */
    size_t nitems;
    query_fn_t fn; /* CALL */
    query_operand_t *args;
    size_t nargs;
    bool exact; /* IS_OF_MODEL(..., exact) */
};

/* A projection: a path with an optional AS name. The row key is `as`, else the last segment
 * (the collection alias when the path names a whole collection). */
typedef struct query_select_item {
    query_path_t path;
    const char *as; /* NULL when not renamed */
    size_t pos;
} query_select_item_t;

typedef enum query_select_kind {
    QUERY_SELECT_STAR,  /* SELECT * (and SELECT TOP(n) with no list) */
    QUERY_SELECT_COUNT, /* SELECT COUNT() */
    QUERY_SELECT_ITEMS
} query_select_kind_t;

typedef enum query_source { QUERY_FROM_DIGITALTWINS, QUERY_FROM_RELATIONSHIPS } query_source_t;

/* JOIN target RELATED source.rel_name [rel_alias] */
typedef struct query_join {
    const char *target;
    const char *source;
    const char *rel_name;
    const char *rel_alias; /* NULL when absent */
    size_t pos, target_pos, source_pos, rel_alias_pos;
    int target_coll, source_coll, rel_coll; /* filled by query_check; rel_coll -1 if no alias */
} query_join_t;

typedef enum query_dir {
    QUERY_DIR_RIGHT, /* (a)-[...]->(b) */
    QUERY_DIR_LEFT,  /* (a)<-[...]-(b) */
    QUERY_DIR_ANY    /* (a)-[...]-(b) */
} query_dir_t;

typedef enum query_hops_form {
    QUERY_HOPS_NONE,  /* no `*`: one hop */
    QUERY_HOPS_EXACT, /* *n */
    QUERY_HOPS_RANGE, /* *lo..hi, lo exclusive */
    QUERY_HOPS_UPPER  /* *..hi */
} query_hops_form_t;

typedef struct query_match_node {
    const char *alias; /* NULL for () */
    size_t pos;
    int coll; /* filled by query_check; -1 for () */
} query_match_node_t;

/* The edge between nodes[i] and nodes[i+1]. lo/hi are as written; min_hops/max_hops are the
 * inclusive range the traversal must cover (query_check fills them: `*1..3` is 2..3). */
typedef struct query_match_edge {
    query_dir_t dir;
    const char *alias; /* relationship variable, NULL when absent */
    const char **names;
    size_t nnames; /* 0 = any relationship name */
    query_hops_form_t hops;
    uint32_t lo, hi;
    uint32_t min_hops, max_hops;
    size_t pos, hops_pos;
    int coll; /* filled by query_check; -1 without alias */
} query_match_edge_t;

typedef struct query_match {
    query_match_node_t *nodes;
    size_t nnodes;
    query_match_edge_t *edges; /* nnodes - 1 of them */
    size_t pos;
} query_match_t;

typedef enum query_coll_kind { QUERY_COLL_TWIN, QUERY_COLL_RELATIONSHIP } query_coll_kind_t;

/* Every collection the query binds, in definition order; query_check fills them. Index 0 is
 * the FROM collection, or the first MATCH node. Paths and joins refer to them by index. */
typedef struct query_collection {
    const char *alias; /* NULL when unnamed */
    query_coll_kind_t kind;
    size_t pos;
} query_collection_t;

typedef struct query {
    uint32_t top; /* 0 = no TOP */
    size_t top_pos;
    query_select_kind_t select;
    query_select_item_t *items;
    size_t nitems;
    size_t select_pos;
    query_source_t source;
    const char *from_alias; /* NULL when absent */
    size_t from_pos, from_alias_pos;
    query_join_t *joins;
    size_t njoins;
    query_match_t *match; /* NULL without MATCH */
    query_expr_t *where;  /* NULL without WHERE */
    size_t where_pos;
    unsigned andor;   /* AND/OR operators in WHERE */
    const char *text; /* the query text (arena copy), for positions */
    size_t len;
    bool checked;
    query_collection_t *collections;
    size_t ncollections;
} query_t;

/* Parses text (len bytes, need not be NUL-terminated) into *out, allocated in a. Checks the
 * grammar and ADT's limits on length, AND/OR count, IN items and JOIN count, not meaning. */
int query_parse(arena_t *a, const char *text, size_t len, query_t **out, castor_err *err);

/* Applies ADT's semantic rules (aliases, COUNT/TOP/SELECT * rules, the $dtId anchor JOIN and
 * MATCH need, function arguments, MATCH hop ranges) and resolves paths to collections. */
int query_check(arena_t *a, query_t *q, castor_err *err);

/* query_parse + query_check: what the query handler calls. */
int query_prepare(arena_t *a, const char *text, size_t len, query_t **out, castor_err *err);

/* Renders q as canonical text (upper-case keywords, single spaces, escaped identifiers and
 * strings) into a NUL-terminated arena string; parsing it yields an equal AST. */
int query_print(arena_t *a, const query_t *q, char **out, castor_err *err);

/* True when a and b are the same query as parsed (positions and check results ignored). */
bool query_equal(const query_t *a, const query_t *b);

/* Canonical names, for messages and the printer. */
const char *query_fn_name(query_fn_t fn);
const char *query_cmp_name(query_cmp_t op);

#endif
