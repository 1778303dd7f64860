/* dtdl_meta.c — loads the embedded metamodel digest once and answers class/term questions.
 *
 * Besides the digest itself this builds two indexes the parser needs constantly: class name by
 * class DTMI per version, and for every unit the families (unit classes in v2, unit enums in the
 * v3 QuantitativeTypes extension) it belongs to. */
#include "dtdl/dtdl_meta.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *g_meta;  /* immutable after init */
static json_t *g_units; /* unit DTMI -> [family DTMI] */
/* meta.v["2"], meta.v["3"] and their "classes", indexed by version: asked for on every element
 * and property, so resolved once instead of by formatting and hashing the key each time. */
#define META_VERSION_MAX 3
static json_t *g_ver[META_VERSION_MAX + 1];
static json_t *g_classes[META_VERSION_MAX + 1];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* Class ancestry, asked for on every element of every descendant-control walk: each class name
 * (and each parent name) of a version gets an index in a small open-addressing table, and each
 * class a bitset of itself and its ancestors, so "is cls a sup" is two short hashes and a bit
 * test instead of a walk up the parent chain through JSON lookups. */
#define META_CLASS_MAX 128 /* v2 has 37 classes, v3 41 */
#define META_SLOTS 256     /* power of two, at least twice META_CLASS_MAX */
typedef struct meta_tab {
    const char *name[META_CLASS_MAX];
    uint64_t anc[META_CLASS_MAX][META_CLASS_MAX / 64];
    int16_t slot[META_SLOTS]; /* index + 1, 0 = empty */
    int count;
    bool full; /* more names than META_CLASS_MAX: fall back to the JSON walk */
} meta_tab_t;
static meta_tab_t g_tab[META_VERSION_MAX + 1];
/* Per class (by the table's index) its properties as C, for the lookup of every JSON key of every
 * element; built once, kept for the life of the process like the digest. */
typedef struct meta_cprops {
    json_t *cls; /* the class object they were built from */
    dtdl_meta_prop_t *props;
    size_t count;
} meta_cprops_t;
static meta_cprops_t g_cprops[META_VERSION_MAX + 1][META_CLASS_MAX];
static dtdl_meta_control_t g_ctl[META_VERSION_MAX + 1][DTDL_META_CONTROLS_MAX];
static size_t g_nctl[META_VERSION_MAX + 1];

uint32_t dtdl_meta_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static int tab_find(const meta_tab_t *t, const char *name)
{
    for (uint32_t i = dtdl_meta_hash(name) & (META_SLOTS - 1);; i = (i + 1) & (META_SLOTS - 1)) {
        int k = t->slot[i] - 1;
        if (k < 0) return -1;
        if (strcmp(t->name[k], name) == 0) return k;
    }
}

static int tab_add(meta_tab_t *t, const char *name)
{
    int k = tab_find(t, name);
    if (k >= 0) return k;
    if (t->count >= META_CLASS_MAX) {
        t->full = true;
        return -1;
    }
    k = t->count++;
    t->name[k] = name;
    uint32_t i = dtdl_meta_hash(name) & (META_SLOTS - 1);
    while (t->slot[i])
        i = (i + 1) & (META_SLOTS - 1);
    t->slot[i] = (int16_t)(k + 1);
    return k;
}

static void index_classes(meta_tab_t *t, json_t *classes)
{
    const char *cn;
    json_t *c;
    json_object_foreach(classes, cn, c)
    {
        int k = tab_add(t, cn);
        const char *up = cn;
        for (int depth = 0; up && k >= 0 && depth < 16; depth++) {
            int a = tab_add(t, up);
            if (a < 0) break;
            t->anc[k][a / 64] |= UINT64_C(1) << (a % 64);
            up = json_string_value(json_object_get(json_object_get(classes, up), "parent"));
        }
    }
}

static void compile_props(int n, json_t *classes, json_t *terms)
{
    const char *cn;
    json_t *c;
    json_object_foreach(classes, cn, c)
    {
        int k = tab_find(&g_tab[n], cn);
        json_t *props = json_object_get(c, "props");
        size_t np = json_object_size(props);
        if (k < 0 || np == 0) continue;
        dtdl_meta_prop_t *arr = calloc(np, sizeof *arr);
        if (!arr) continue;
        size_t i = 0;
        const char *pn;
        json_t *pm;
        json_object_foreach(props, pn, pm)
        {
            if (i >= np) break;
            dtdl_meta_prop_t *d = &arr[i++];
            d->name = pn;
            d->dtmi = json_string_value(json_object_get(pm, "dtmi"));
            d->hash = d->dtmi ? dtdl_meta_hash(d->dtmi) : 0;
            const char *td = json_string_value(json_object_get(terms, pn));
            d->name_is_term = d->dtmi && td && strcmp(td, d->dtmi) == 0;
            d->meta = pm;
            d->allowed = json_is_true(json_object_get(pm, "allowed"));
            d->literal = json_is_true(json_object_get(pm, "literal"));
            json_t *mc = json_object_get(pm, "minCount");
            d->required = d->allowed && (!json_is_true(json_object_get(pm, "optional")) ||
                                         (mc && json_integer_value(mc) > 0));
        }
        g_cprops[n][k] = (meta_cprops_t){.cls = c, .props = arr, .count = i};
    }
}

static void compile_controls(int n, json_t *v)
{
    size_t i;
    json_t *ctl;
    json_array_foreach(json_object_get(v, "controls"), i, ctl)
    {
        if (g_nctl[n] >= DTDL_META_CONTROLS_MAX) break;
        dtdl_meta_control_t *d = &g_ctl[n][g_nctl[n]++];
        d->json = ctl;
        d->root_class = json_string_value(json_object_get(ctl, "rootClass"));
        d->root_index = d->root_class && !g_tab[n].full ? tab_find(&g_tab[n], d->root_class) : -1;
        d->exclude = json_string_value(json_object_get(ctl, "excludeType"));
        d->max_depth = (long)json_integer_value(json_object_get(ctl, "maxDepth"));
        d->max_count = (long)json_integer_value(json_object_get(ctl, "maxCount"));
        d->narrow = json_is_true(json_object_get(ctl, "narrow"));
        d->datatype = json_object_get(ctl, "datatypeProperty") != NULL;
        json_t *props = json_object_get(ctl, "properties");
        size_t k;
        json_t *x;
        json_array_foreach(props, k, x) if (d->prop_count < DTDL_META_CONTROL_PROPS_MAX)
            d->props[d->prop_count++] = json_string_value(x);
    }
}

static void add_unit(const char *unit, const char *family)
{
    json_t *arr = json_object_get(g_units, unit);
    if (!arr) {
        arr = json_array();
        json_object_set_new(g_units, unit, arr);
    }
    json_array_append_new(arr, json_string(family));
}

/* v2 units are elements whose @type names their unit classes (terms of the core context). */
static void index_v2_units(json_t *v)
{
    json_t *terms = json_object_get(v, "terms");
    const char *id;
    json_t *el;
    json_object_foreach(json_object_get(v, "elements"), id, el)
    {
        json_t *t = json_object_get(el, "@type");
        size_t i;
        json_t *ti;
        if (!json_is_array(t)) continue;
        json_array_foreach(t, i, ti)
        {
            const char *dt = json_string_value(json_object_get(terms, json_string_value(ti)));
            if (dt) add_unit(id, dt);
        }
    }
}

/* v3 QuantitativeTypes units are the enumValues of unit-family Enum elements. */
static void index_enum_units(json_t *elements)
{
    const char *id;
    json_t *el;
    json_object_foreach(elements, id, el)
    {
        size_t i;
        json_t *ev;
        json_array_foreach(json_object_get(el, "enumValues"), i, ev)
        {
            const char *uid = json_string_value(json_object_get(ev, "@id"));
            if (uid) add_unit(uid, id);
        }
    }
}

static void meta_init(void)
{
    json_error_t jerr;
    g_meta = json_loadb(dtdl_meta_json, dtdl_meta_json_len, 0, &jerr);
    g_units = json_object();
    if (!g_meta) return;
    const char *ver;
    json_t *v;
    json_object_foreach(json_object_get(g_meta, "v"), ver, v)
    {
        json_t *by = json_object();
        const char *cn;
        json_t *c;
        json_object_foreach(json_object_get(v, "classes"), cn, c)
        {
            const char *dt = json_string_value(json_object_get(c, "dtmi"));
            if (dt) json_object_set_new(by, dt, json_string(cn));
        }
        json_object_set_new(v, "classByDtmi", by);
        if (strcmp(ver, "2") == 0) index_v2_units(v);
        int n = ver[0] - '0';
        if (n >= 0 && n <= META_VERSION_MAX && ver[1] == '\0') {
            g_ver[n] = v;
            g_classes[n] = json_object_get(v, "classes");
            index_classes(&g_tab[n], g_classes[n]);
            compile_controls(n, v);
            compile_props(n, g_classes[n], json_object_get(v, "terms"));
        }
    }
    const char *ext;
    json_t *e;
    json_object_foreach(json_object_get(g_meta, "ext"), ext, e)
        index_enum_units(json_object_get(e, "elements"));
}

static json_t *meta(void)
{
    pthread_once(&g_once, meta_init);
    return g_meta;
}

json_t *dtdl_meta_version(int version)
{
    meta();
    return version >= 0 && version <= META_VERSION_MAX ? g_ver[version] : NULL;
}

static json_t *meta_classes(int version)
{
    meta();
    return version >= 0 && version <= META_VERSION_MAX ? g_classes[version] : NULL;
}

json_t *dtdl_meta_extension(const char *context)
{
    return json_object_get(json_object_get(meta(), "ext"), context);
}

json_t *dtdl_meta_class(int version, const char *cls)
{
    if (!cls) return NULL;
    return json_object_get(meta_classes(version), cls);
}

const char *dtdl_meta_class_by_dtmi(int version, const char *dtmi)
{
    return json_string_value(
        json_object_get(json_object_get(dtdl_meta_version(version), "classByDtmi"), dtmi));
}

bool dtdl_meta_is_a(int version, const char *cls, const char *sup)
{
    if (!cls || !sup) return false;
    if (version >= 0 && version <= META_VERSION_MAX && (meta(), !g_tab[version].full)) {
        const meta_tab_t *t = &g_tab[version];
        int k = tab_find(t, cls);
        if (k >= 0) {
            int a = tab_find(t, sup);
            return a >= 0 && (t->anc[k][a / 64] >> (a % 64) & 1);
        }
        /* not a class name of this version: the walk below answers (cls == sup) */
    }
    /* The class tree is shallow (Entity is at most five levels up); the bound guards a cycle. */
    json_t *classes = meta_classes(version);
    for (int depth = 0; cls && depth < 16; depth++) {
        if (strcmp(cls, sup) == 0) return true;
        cls = json_string_value(json_object_get(json_object_get(classes, cls), "parent"));
    }
    return false;
}

int dtdl_meta_class_index(int version, const char *cls)
{
    if (!cls || version < 0 || version > META_VERSION_MAX) return -1;
    meta();
    return g_tab[version].full ? -1 : tab_find(&g_tab[version], cls);
}

bool dtdl_meta_is_a_index(int version, int cls, int sup)
{
    if (cls < 0 || sup < 0 || version < 0 || version > META_VERSION_MAX) return false;
    return g_tab[version].anc[cls][sup / 64] >> (sup % 64) & 1;
}

json_t *dtdl_meta_unit_families(const char *unit)
{
    meta();
    return json_object_get(g_units, unit);
}

const dtdl_meta_control_t *dtdl_meta_controls(int version, size_t *count)
{
    meta();
    if (version < 0 || version > META_VERSION_MAX) {
        *count = 0;
        return NULL;
    }
    *count = g_nctl[version];
    return g_ctl[version];
}

const dtdl_meta_prop_t *dtdl_meta_class_props(int version, const json_t *cmeta, const char *cls,
                                              size_t *count)
{
    *count = 0;
    if (!cls || version < 0 || version > META_VERSION_MAX) return NULL;
    meta();
    int k = tab_find(&g_tab[version], cls);
    if (k < 0 || g_cprops[version][k].cls != cmeta) return NULL;
    *count = g_cprops[version][k].count;
    return g_cprops[version][k].props;
}
