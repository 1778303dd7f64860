/* dtdl_meta.h — the DTDL metamodel (classes, properties, contexts, limits) as the official
 * parser's digest states it, read once from the JSON embedded by dtdl_meta_data.c.
 *
 * The metamodel is immutable after the first call and shared by every parse, so it is the
 * one process-wide object in this module (initialised under pthread_once). */
#ifndef CASTOR_DTDL_META_H
#define CASTOR_DTDL_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

extern const char dtdl_meta_json[];
extern const unsigned long dtdl_meta_json_len;

/* meta.v["2"|"3"], or NULL when castor does not know that DTDL version. */
json_t *dtdl_meta_version(int version);
/* meta.ext[context DTMI] for an extension castor implements, or NULL. */
json_t *dtdl_meta_extension(const char *context);
/* The class object of a material class name for a version, or NULL. */
json_t *dtdl_meta_class(int version, const char *cls);
/* The class name whose DTMI this is ("dtmi:dtdl:class:Property;2" -> "Property"), or NULL. */
const char *dtdl_meta_class_by_dtmi(int version, const char *dtmi);
/* True when cls is sup or inherits from it. */
bool dtdl_meta_is_a(int version, const char *cls, const char *sup);
/* The ancestry index of a class name in a version, or -1; with dtdl_meta_is_a_index, lets a
 * caller that asks about one class many times hash its name once. */
int dtdl_meta_class_index(int version, const char *cls);
/* dtdl_meta_is_a by indexes from dtdl_meta_class_index (false when either is -1). */
bool dtdl_meta_is_a_index(int version, int cls, int sup);
/* A descendant control of the digest (limits on what an element may contain, how deep and how
 * many), read once from the metamodel into C so the per-element walk does no JSON lookups. */
#define DTDL_META_CONTROLS_MAX 32
#define DTDL_META_CONTROL_PROPS_MAX 16
typedef struct dtdl_meta_control {
    json_t *json; /* the digest's entry */
    const char *root_class;
    int root_index;            /* dtdl_meta_class_index of root_class, or -1 */
    const char *exclude;       /* excludeType, or NULL */
    long max_depth, max_count; /* 0 = none */
    bool narrow;
    bool datatype; /* a datatypeProperty control, checked elsewhere */
    const char *props[DTDL_META_CONTROL_PROPS_MAX]; /* the properties a narrow walk follows */
    size_t prop_count;
} dtdl_meta_control_t;

/* The descendant controls of a version; *count is set to their number. */
const dtdl_meta_control_t *dtdl_meta_controls(int version, size_t *count);

/* A class's property as C: its name, the DTMI its terms expand to, and the flags the parser
 * reads for every JSON key. */
typedef struct dtdl_meta_prop {
    const char *name;
    const char *dtmi; /* or NULL */
    uint32_t hash;    /* dtdl_meta_hash(dtmi) */
    json_t *meta;     /* the metamodel entry */
    bool allowed, literal;
    bool required;     /* allowed, and not optional or with a minCount above 0 */
    bool name_is_term; /* the version's context maps name to dtmi */
} dtdl_meta_prop_t;

/* The properties of class cls (whose metamodel object is cmeta) in a version; NULL (and *count
 * 0) when cmeta is not that class's object, so the caller falls back to the JSON. */
const dtdl_meta_prop_t *dtdl_meta_class_props(int version, const json_t *cmeta, const char *cls,
                                              size_t *count);
/* The hash dtdl_meta_prop_t.hash holds (FNV-1a). */
uint32_t dtdl_meta_hash(const char *s);

/* The family (enum or unit class) DTMIs a unit DTMI belongs to, as a JSON array, or NULL. */
json_t *dtdl_meta_unit_families(const char *unit);

#endif
