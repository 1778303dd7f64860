/* dtdl_internal.h — the parser's working structures, shared by the dtdl_*.c files only.
 *
 * A parse builds a tree of elem_t (one per DTDL element: Interface, Property, Object…) in a
 * scratch arena, then resolves references between them, checks the cross-element rules, and
 * finally compiles the public dtdl_graph_t into its own arena. */
#ifndef CASTOR_DTDL_INTERNAL_H
#define CASTOR_DTDL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/arena.h"
#include "dtdl/dtdl.h"

#define DTDL_SCOPE_EXT_MAX 8

/* The @context in force for an element: a DTDL version, the extensions it enables, and
 * whether an undefined (unknown, tolerated) extension is in scope. */
typedef struct dtdl_scope {
    int version;
    json_t *vmeta;
    json_t *ext[DTDL_SCOPE_EXT_MAX];
    size_t ext_count;
    bool undef_ext;
} dtdl_scope_t;

typedef struct dtdl_elem dtdl_elem_t;

/* One value of an object-valued property: an inline element or a reference by DTMI. */
typedef struct dtdl_pval {
    dtdl_elem_t *elem; /* inline, or the referenced element once resolved */
    const char *ref;   /* the DTMI when given as a reference, else NULL */
    const char *path;
} dtdl_pval_t;

typedef struct dtdl_prop {
    const char *name; /* the metamodel property name ("schema") */
    json_t *meta;     /* its metamodel entry */
    json_t *value;    /* the literal value (borrowed), for literal properties */
    json_t *written;  /* the value as written (borrowed): a value object before unwrapping */
    dtdl_pval_t *vals;
    size_t val_count;
    const char *path;
} dtdl_prop_t;

struct dtdl_elem {
    const char *id;
    bool id_generated;
    bool standard; /* a predefined element of the language (double, geospatial point, units) */
    bool external; /* loaded through the caller's lookup (a model stored earlier) */
    const char *cls;
    json_t *cmeta;
    dtdl_scope_t scope;
    json_t *json;
    const char *path;
    int doc;
    const char **supp; /* supplemental type DTMIs */
    json_t **supp_meta;
    size_t supp_count;
    bool undef_cotype; /* has a co-type from an undefined extension */
    dtdl_prop_t *props;
    size_t prop_count;
    json_t *supp_props; /* supplemental property DTMI -> value (borrowed) */
    dtdl_elem_t *parent;
    const char *parent_prop;
    dtdl_elem_t *next; /* every element of the parse, in creation order */
    void *compiled;    /* scratch for the graph compiler */
    int mark;          /* scratch for graph walks */
    int on_path;       /* scratch: the walk epoch while the element is on the walk's path */
    long mark_depth;   /* scratch: the depth at which the walk last reached the element */
};

typedef struct dtdl_pctx {
    arena_t arena;
    dtdl_errors_t *errs;
    size_t error_count;
    dtdl_undef_ext_t undef_opt;
    int max_version;
    dtdl_elem_t *first, *last;
    json_t *ids; /* DTMI -> pointer (json integer) of the element defining it */
    dtdl_lookup_fn lookup;
    void *lookup_ctx;
    json_t *held;  /* documents returned by lookup, kept alive for the parse */
    json_t *asked; /* DTMIs already requested from lookup */
    int walk_epoch;
    int quiet; /* >0 while parsing the language's own predefined elements */
} dtdl_pctx_t;

/* dtdl_errors.c */
void dtdl_fail(dtdl_pctx_t *c, const char *vid, const char *id, const char *prop, const char *path,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* dtdl_parse.c */
dtdl_elem_t *dtdl_parse_doc(dtdl_pctx_t *c, json_t *doc, const char *path, int doc_index,
                            bool external);
dtdl_elem_t *dtdl_parse_standard(dtdl_pctx_t *c, int version, const char *dtmi);
dtdl_prop_t *dtdl_elem_prop(const dtdl_elem_t *e, const char *name);
const char *dtdl_elem_string(const dtdl_elem_t *e, const char *name);
dtdl_elem_t *dtdl_elem_ref(const dtdl_elem_t *e, const char *name);
/* Whether s matches the PCRE2 (UTF-8) pattern; a pattern that does not compile matches. */
bool dtdl_pattern_match(const char *pattern, const char *s);
dtdl_elem_t *dtdl_id_get(dtdl_pctx_t *c, const char *id);
void dtdl_id_put(dtdl_pctx_t *c, const char *id, dtdl_elem_t *e);

/* A set of content names with one value each (an id, a marker), for the walks over an
 * interface and its bases that run once per interface: open addressing over heap slots, cleared
 * between interfaces instead of reallocated. Keys and values are borrowed. */
typedef struct dtdl_nameslot {
    const char *name;
    const void *val;
} dtdl_nameslot_t;

typedef struct dtdl_nameset {
    dtdl_nameslot_t *slots;
    size_t cap, count;
} dtdl_nameset_t;

/* Returns the value already stored under name, or stores val and returns NULL (also when out of
 * memory, when the name is then not remembered). */
const void *dtdl_nameset_put(dtdl_nameset_t *s, const char *name, const void *val);
void dtdl_nameset_clear(dtdl_nameset_t *s);
void dtdl_nameset_free(dtdl_nameset_t *s);

/* dtdl_resolve.c */
void dtdl_resolve_all(dtdl_pctx_t *c);
void dtdl_check_controls(dtdl_pctx_t *c);

/* dtdl_graph.c */
dtdl_graph_t *dtdl_graph_compile(dtdl_pctx_t *c, castor_err *err);

#endif
