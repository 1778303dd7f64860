/* dtdl_resolve.c — the rules that relate elements: unique @ids, references (to the batch, to
 * the language's predefined elements, or to models stored earlier through the caller's lookup),
 * the types references must have, and the metamodel's "descendant controls" (nesting depth of
 * complex schemas, the extends hierarchy's depth and cycles, components inside components,
 * arrays in v2 properties), plus name conflicts across inherited contents. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "dtdl/dtdl_internal.h"
#include "dtdl/dtdl_meta.h"

/* A walk visits at most this many elements from one root: the DTDL limits (depth 5 or 10,
 * 100000 elements per interface in v3) are far below it, and it keeps a hostile diamond of
 * references from costing exponential time. */
#define DTDL_WALK_BUDGET 200000

static void register_ids(dtdl_pctx_t *c, dtdl_elem_t *from)
{
    for (dtdl_elem_t *e = from; e; e = e->next) {
        if (e->standard || e->id_generated || !e->id) continue;
        dtdl_elem_t *old = dtdl_id_get(c, e->id);
        if (old && old != e) {
            dtdl_fail(c, "duplicateDefinition", e->id, "@id", e->path,
                      "@id '%s' is already defined at %s; each @id must be unique", e->id,
                      old->path);
            continue;
        }
        dtdl_id_put(c, e->id, e);
    }
}

static bool class_fits(int version, const char *cls, const char *range)
{
    if (!cls || !range) return false;
    return dtdl_meta_is_a(version, cls, range);
}

/* Loads a model stored earlier; its elements join the parse as external. */
static dtdl_elem_t *load_external(dtdl_pctx_t *c, const char *dtmi)
{
    /* Ask once per DTMI: a stored model that does not define what was asked for (or a lookup
     * that answers wrongly) must not make resolution loop, loading it again and again. */
    if (!c->lookup || json_object_get(c->asked, dtmi) ||
        json_object_size(c->asked) >= CASTOR_MODELS_PER_INSTANCE_MAX)
        return NULL;
    json_object_set_new(c->asked, dtmi, json_true());
    json_t *doc = c->lookup(dtmi, c->lookup_ctx);
    if (!doc) return NULL;
    json_array_append_new(c->held, doc);
    dtdl_elem_t *last = c->last;
    char *path = arena_sprintf(&c->arena, "<%s>", dtmi);
    dtdl_elem_t *e = dtdl_parse_doc(c, doc, path, -2, true);
    register_ids(c, last ? last->next : c->first);
    if (e && (!e->id || strcmp(e->id, dtmi) != 0)) return dtdl_id_get(c, dtmi);
    return e;
}

/* The partition an element belongs to: the nearest Interface that holds it (itself, for an
 * Interface), nested or top-level, as the digest's partitionClasses say. */
static const dtdl_elem_t *partition_of(const dtdl_elem_t *e)
{
    while (e->parent && !(e->cls && strcmp(e->cls, "Interface") == 0))
        e = e->parent;
    return e;
}

static bool version_listed(json_t *versions, int ver)
{
    size_t i;
    json_t *x;
    json_array_foreach(versions, i, x) if (json_integer_value(x) == ver) return true;
    return false;
}

/* The class a DTMI names in any DTDL version castor implements, or NULL. */
static const char *meta_class_anywhere(const char *dtmi)
{
    for (int v = 2; v <= 3; v++) {
        const char *cls = dtdl_meta_class_by_dtmi(v, dtmi);
        if (cls) return cls;
    }
    return NULL;
}

/* Whether dtmi starts with a prefix the language reserves (dtmi:dtdl:, dtmi:standard:). */
static bool reserved_prefix(const dtdl_elem_t *e, const char *dtmi)
{
    size_t i;
    json_t *pre;
    json_array_foreach(json_object_get(e->scope.vmeta, "reserved"), i, pre)
    {
        const char *p = json_string_value(pre);
        if (p && strncmp(dtmi, p, strlen(p)) == 0) return true;
    }
    return false;
}

void dtdl_resolve_all(dtdl_pctx_t *c)
{
    register_ids(c, c->first);
    for (dtdl_elem_t *e = c->first; e; e = e->next) {
        for (size_t i = 0; i < e->prop_count; i++) {
            dtdl_prop_t *p = &e->props[i];
            const char *range = json_string_value(json_object_get(p->meta, "class"));
            bool is_target = range == NULL; /* identifiers are not resolved */
            for (size_t k = 0; k < p->val_count; k++) {
                dtdl_pval_t *v = &p->vals[k];
                if (!v->ref) continue;
                if (is_target) continue;
                dtdl_elem_t *t = dtdl_id_get(c, v->ref);
                if (!t) t = dtdl_parse_standard(c, e->scope.version, v->ref);
                if (!t && !is_target) t = load_external(c, v->ref);
                if (!t) {
                    /* Relationship targets name any interface, known or not (as ADT). */
                    const char *cls = meta_class_anywhere(v->ref);
                    if (cls) {
                        /* A term such as "Double" names the class, not an element of it. */
                        dtdl_fail(c, "badType", e->id, p->name, v->path,
                                  "'%s' refers to '%s', which is the DTDL class %s itself; refer "
                                  "to an element (such as \"double\") or define one inline",
                                  p->name, v->ref, cls);
                    } else if (reserved_prefix(e, v->ref)) {
                        dtdl_fail(c, "undefinedReservedId", e->id, p->name, v->path,
                                  "'%s' refers to '%s', which has a prefix reserved for the "
                                  "language but names nothing it defines",
                                  p->name, v->ref);
                    } else {
                        dtdl_fail(c, "unresolvedReference", e->id, p->name, v->path,
                                  "'%s' refers to '%s', which is neither in this upload nor "
                                  "an existing model",
                                  p->name, v->ref);
                    }
                    continue;
                }
                if (!class_fits(t->scope.version, t->cls, range) &&
                    !class_fits(e->scope.version, t->cls, range)) {
                    dtdl_fail(c, "badType", e->id, p->name, v->path,
                              "'%s' refers to '%s', a %s; it must be a %s", p->name, v->ref,
                              t->cls ? t->cls : "unit", range);
                    continue;
                }
                /* The digest lists, per property, the DTDL versions its values may be written
                 * in: a v3 Interface may extend or hold a v2 one, not the other way round. */
                json_t *vers = json_object_get(p->meta, "versions");
                if (!t->standard && t->cls && json_array_size(vers) &&
                    !version_listed(vers, t->scope.version)) {
                    dtdl_fail(c, "disallowedVersionReference", e->id, p->name, v->path,
                              "'%s' refers to '%s', which is written in DTDL v%d; a v%d %s's "
                              "'%s' may refer only to elements of DTDL v%d",
                              p->name, v->ref, t->scope.version, e->scope.version, e->cls, p->name,
                              e->scope.version);
                    continue;
                }
                /* A schema defined in one Interface is private to it: only whole Interfaces
                 * (the digest's partitions) are referenced from elsewhere, even from an
                 * Interface nested in it or holding it ("nor can an Interface in a Component
                 * reuse schemas defined in the Interface that holds the Component"). */
                if (!t->standard && t->cls && strcmp(t->cls, "Interface") != 0 &&
                    partition_of(t) != partition_of(e)) {
                    dtdl_fail(c, "crossPartitionReference", e->id, p->name, v->path,
                              "'%s' refers to '%s', which is defined inside Interface '%s'; an "
                              "element may only refer to schemas of its own Interface (define "
                              "the schema there too), or to whole Interfaces",
                              p->name, v->ref, partition_of(t)->id);
                    continue;
                }
                v->elem = t;
            }
        }
    }
}

/* ---- descendant controls ---------------------------------------------------------------- */

typedef struct walk {
    dtdl_pctx_t *c;
    const dtdl_meta_control_t *ctl;
    dtdl_elem_t *root;
    const char *root_cls;
    const char *exclude;
    long max_depth;
    long max_count;
    long count;
    long budget;
    bool narrow;
    bool failed;
    int epoch;
} walk_t;

static bool follows(const walk_t *w, const char *prop)
{
    if (w->narrow) {
        bool contents = false;
        for (size_t i = 0; i < w->ctl->prop_count; i++) {
            if (strcmp(w->ctl->props[i], prop) == 0) return true;
            contents |= strcmp(w->ctl->props[i], "contents") == 0;
        }
        /* An Interface's contents include those it imports through extends (the extends
         * control's importProperties), so a walk of contents (a Component's, which may hold
         * no Component) goes up the extends chain too. */
        return contents && strcmp(prop, "extends") == 0;
    }
    /* Wide walks go through every part of an element but not to other interfaces. */
    return strcmp(prop, "extends") != 0 && strcmp(prop, "target") != 0;
}

static void walk_from(walk_t *w, dtdl_elem_t *e, long depth, int level)
{
    if (w->failed || --w->budget < 0 || level > 64) return;
    e->mark = w->epoch;
    e->mark_depth = depth;
    e->on_path = w->epoch; /* cleared on the way back; left set by a failure, it is stale */
    for (size_t i = 0; i < e->prop_count && !w->failed; i++) {
        dtdl_prop_t *p = &e->props[i];
        if (!follows(w, p->name)) continue;
        /* Component and wide walks stop at an interface reached by schema. */
        for (size_t k = 0; k < p->val_count && !w->failed; k++) {
            dtdl_elem_t *ch = p->vals[k].elem;
            if (!ch) continue;
            int ver = ch->scope.version;
            if (!w->narrow && strcmp(ch->cls, "Interface") == 0) continue;
            /* An excluded type is reported as such even when it is the root itself (a
             * Component reached again through its schema's contents), as the official
             * parser does. */
            if (w->exclude && dtdl_meta_is_a(ver, ch->cls, w->exclude)) {
                dtdl_fail(w->c, "excludedType", w->root->id, p->name, p->vals[k].path,
                          "a %s may not contain a %s here (%s at %s)", w->root_cls, w->exclude,
                          ch->id, p->vals[k].path);
                w->failed = true;
                return;
            }
            if (ch == w->root) {
                dtdl_fail(w->c, w->narrow ? "recursiveStructureNarrow" : "recursiveStructureWide",
                          w->root->id, p->name, p->vals[k].path,
                          "%s '%s' contains itself through '%s'; cycles are not allowed",
                          w->root->cls, w->root->id, p->name);
                w->failed = true;
                return;
            }
            long nd = depth + (dtdl_meta_is_a(ver, ch->cls, w->root_cls) ? 1 : 0);
            if (w->max_depth > 0 && nd > w->max_depth) {
                dtdl_fail(w->c, w->narrow ? "excessiveDepthNarrow" : "excessiveDepthWide",
                          w->root->id, p->name, p->vals[k].path,
                          "%s '%s' nests more than %ld levels deep through '%s'", w->root_cls,
                          w->root->id, w->max_depth, p->name);
                w->failed = true;
                return;
            }
            if (ch->on_path == w->epoch)
                continue; /* a cycle below the root, reported from a root on it */
            /* A part already walked from this root (shared, as in a diamond of extends) is
             * walked again only when reached deeper: the depth limit is on the longest path,
             * which a shorter one walked first must not hide. */
            bool seen = ch->mark == w->epoch;
            if (seen && ch->mark_depth >= nd) continue;
            if (!seen) w->count++;
            if (w->max_count > 0 && w->count > w->max_count) {
                dtdl_fail(w->c, "excessiveCount", w->root->id, p->name, p->vals[k].path,
                          "%s '%s' has more than %ld elements through '%s'", w->root_cls,
                          w->root->id, w->max_count, p->name);
                w->failed = true;
                return;
            }
            walk_from(w, ch, nd, level + 1);
        }
    }
    e->on_path = 0;
}

/* Whether t names the XSD datatype dt ("xsd:integer" or its full IRI). */
static bool xsd_names(const char *t, const char *dt)
{
    static const char xsd[] = "xsd:", iri[] = "http://www.w3.org/2001/XMLSchema#";
    if (!t) return false;
    if (strncmp(t, xsd, sizeof xsd - 1) == 0) return strcmp(t + sizeof xsd - 1, dt) == 0;
    if (strncmp(t, iri, sizeof iri - 1) == 0) return strcmp(t + sizeof iri - 1, dt) == 0;
    return false;
}

static void check_enum_values(dtdl_pctx_t *c, dtdl_elem_t *e)
{
    dtdl_elem_t *vs = dtdl_elem_ref(e, "valueSchema");
    dtdl_prop_t *p = dtdl_elem_prop(e, "enumValues");
    if (!vs || !p) return;
    bool want_int = strcmp(vs->cls, "Integer") == 0;
    for (size_t i = 0; i < p->val_count; i++) {
        dtdl_elem_t *ev = p->vals[i].elem;
        dtdl_prop_t *x = ev ? dtdl_elem_prop(ev, "enumValue") : NULL;
        if (!x || !x->value) continue;
        json_t *val = json_is_array(x->value) ? json_array_get(x->value, 0) : x->value;
        if (want_int ? !json_is_integer(val) : !json_is_string(val)) {
            dtdl_fail(c, "nonConformantDatatype", ev->id, "enumValue", x->path,
                      "enumValue must be %s because the Enum's valueSchema is %s",
                      want_int ? "an integer" : "a string", vs->cls);
            continue;
        }
        /* A typed value object says its datatype itself: a "representational integer" may
         * name only xsd:integer, a representational string only xsd:string. */
        json_t *w = json_is_array(x->written) ? json_array_get(x->written, 0) : x->written;
        json_t *t = json_object_get(w, "@type");
        if (json_is_array(t) && json_array_size(t) == 1) t = json_array_get(t, 0);
        if (t && !xsd_names(json_string_value(t), want_int ? "integer" : "string")) {
            dtdl_fail(c, "nonConformantDatatype", ev->id, "enumValue", x->path,
                      "enumValue is a value object of @type '%s'; the Enum's valueSchema is %s, "
                      "so its @type must be \"xsd:%s\" (or leave @type out)",
                      json_is_string(t) ? json_string_value(t) : "(not a string)", vs->cls,
                      want_int ? "integer" : "string");
        }
    }
}

/* Supplemental-type constraints, e.g. a QuantitativeType's schema must be numeric, and a
 * ValueAnnotation must annotate a sibling Property or Telemetry. */
/* The supplemental type a co-type inherits from (QuantitativeType for Velocity), or NULL. */
static json_t *supp_parent(const dtdl_elem_t *e, json_t *sm)
{
    const char *pd = json_string_value(json_object_get(sm, "parent"));
    if (!pd) return NULL;
    for (size_t i = 0; i < e->scope.ext_count; i++) {
        json_t *t = json_object_get(json_object_get(e->scope.ext[i], "supp"), pd);
        if (t) return t;
    }
    return json_object_get(json_object_get(e->scope.vmeta, "supp"), pd);
}

static void check_supp_constraints(dtdl_pctx_t *c, dtdl_elem_t *e)
{
    for (size_t i = 0; i < e->supp_count; i++) {
        size_t k;
        json_t *con;
        /* Constraints are inherited: v2's Velocity gets "schema must be numeric" from
         * QuantitativeType. */
        for (json_t *sm = e->supp_meta[i]; sm; sm = supp_parent(e, sm))
            json_array_foreach(json_object_get(sm, "constraints"), k, con)
            {
                const char *prop = json_string_value(json_object_get(con, "property"));
                json_t *req = json_object_get(con, "requiredTypeNames");
                if (!prop || !req) continue;
                dtdl_elem_t *t = dtdl_elem_ref(e, prop);
                if (!t) continue;
                bool fits = false;
                size_t j;
                json_t *r;
                json_array_foreach(req, j, r) fits |=
                    dtdl_meta_is_a(t->scope.version, t->cls, json_string_value(r));
                if (!fits)
                    dtdl_fail(c, "notRequiredType", e->id, prop, e->path,
                              "co-type '%s' requires '%s' to be a %s, not a %s", e->supp[i], prop,
                              json_string_value(json_object_get(con, "requiredTypesString")),
                              t->cls);
            }
        json_array_foreach(json_object_get(e->supp_meta[i], "siblings"), k, con)
        {
            const char *keyref = json_string_value(json_object_get(con, "keyref"));
            json_t *req = json_object_get(con, "requiredTypeNames");
            const char *target =
                json_string_value(json_object_get(e->supp_props, keyref ? keyref : ""));
            if (!target || !req || !e->parent) continue;
            dtdl_prop_t *sib = dtdl_elem_prop(e->parent, e->parent_prop);
            bool found = false, typed = false;
            for (size_t j = 0; sib && j < sib->val_count; j++) {
                dtdl_elem_t *s = sib->vals[j].elem;
                const char *nm = s ? dtdl_elem_string(s, "name") : NULL;
                if (!nm || strcmp(nm, target) != 0) continue;
                found = true;
                size_t q;
                json_t *r;
                json_array_foreach(req, q, r) typed |=
                    dtdl_meta_is_a(s->scope.version, s->cls, json_string_value(r));
            }
            if (!found || !typed)
                dtdl_fail(c, found ? "notSiblingRequiredType" : "missingSibling", e->id,
                          json_string_value(json_object_get(con, "key")), e->path,
                          "co-type '%s' refers to '%s', which must be a sibling %s", e->supp[i],
                          target, json_string_value(json_object_get(con, "requiredTypesString")));
        }
    }
}

/* Every content name of an interface and its ancestors must be unique, except the same element
 * inherited along two paths. */
/* ---- name sets ------------------------------------------------------------------------ */

static size_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

static bool nameset_grow(dtdl_nameset_t *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    dtdl_nameslot_t *slots = calloc(cap, sizeof *slots);
    if (!slots) return false;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i].name) continue;
        size_t k = name_hash(s->slots[i].name) & (cap - 1);
        while (slots[k].name)
            k = (k + 1) & (cap - 1);
        slots[k] = s->slots[i];
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return true;
}

const void *dtdl_nameset_put(dtdl_nameset_t *s, const char *name, const void *val)
{
    if ((s->count + 1) * 2 > s->cap && !nameset_grow(s)) return NULL;
    size_t k = name_hash(name) & (s->cap - 1);
    while (s->slots[k].name) {
        if (strcmp(s->slots[k].name, name) == 0) return s->slots[k].val;
        k = (k + 1) & (s->cap - 1);
    }
    s->slots[k].name = name;
    s->slots[k].val = val;
    s->count++;
    return NULL;
}

void dtdl_nameset_clear(dtdl_nameset_t *s)
{
    if (s->count) memset(s->slots, 0, s->cap * sizeof *s->slots);
    s->count = 0;
}

void dtdl_nameset_free(dtdl_nameset_t *s)
{
    free(s->slots);
    s->slots = NULL;
    s->cap = s->count = 0;
}

static void collect_contents(dtdl_elem_t *e, dtdl_nameset_t *names, int epoch, int level,
                             dtdl_pctx_t *c, dtdl_elem_t *root, bool *failed)
{
    if (e->mark == epoch || level > 64 || *failed) return;
    e->mark = epoch;
    dtdl_prop_t *p = dtdl_elem_prop(e, "contents");
    for (size_t i = 0; p && i < p->val_count; i++) {
        dtdl_elem_t *ch = p->vals[i].elem;
        const char *nm = ch ? dtdl_elem_string(ch, "name") : NULL;
        if (!nm) continue;
        const char *prev = dtdl_nameset_put(names, nm, ch->id);
        if (prev && strcmp(prev, ch->id) != 0) {
            dtdl_fail(c, "nonUniqueImportedPropertyValue", root->id, "name", root->path,
                      "content name '%s' is defined by both '%s' and '%s' (through extends); "
                      "names must be unique across an interface and its bases",
                      nm, prev, ch->id);
            *failed = true;
            return;
        }
    }
    dtdl_prop_t *x = dtdl_elem_prop(e, "extends");
    for (size_t i = 0; x && i < x->val_count; i++)
        if (x->vals[i].elem)
            collect_contents(x->vals[i].elem, names, epoch, level + 1, c, root, failed);
}

void dtdl_check_controls(dtdl_pctx_t *c)
{
    dtdl_nameset_t names = {0};
    for (dtdl_elem_t *e = c->first; e; e = e->next) {
        if (e->standard || e->external || !e->cls) continue;
        int ver = e->scope.version;
        size_t nctl;
        const dtdl_meta_control_t *ctls = dtdl_meta_controls(ver, &nctl);
        int ci = dtdl_meta_class_index(ver, e->cls); /* hashed once, not once per control */
        for (size_t i = 0; i < nctl; i++) {
            const dtdl_meta_control_t *ctl = &ctls[i];
            const char *rc = ctl->root_class;
            if (ctl->datatype) continue;
            if (ci >= 0 && ctl->root_index >= 0 ? !dtdl_meta_is_a_index(ver, ci, ctl->root_index)
                                                : !dtdl_meta_is_a(ver, e->cls, rc))
                continue;
            walk_t w = {
                .c = c,
                .ctl = ctl,
                .root = e,
                .root_cls = rc,
                .exclude = ctl->exclude,
                .max_depth = ctl->max_depth,
                .max_count = ctl->max_count,
                .budget = DTDL_WALK_BUDGET,
                .narrow = ctl->narrow,
                .epoch = ++c->walk_epoch,
            };
            /* Depth counts elements of the root's class on a path. A complex schema is itself
             * the first level ("more than 5 elementSchema or schema members in any path from
             * an Array to another element": five nested Arrays end in a sixth member, a
             * primitive). An extends chain counts its links ("more than 10 members in any path
             * of extends members"), which end in an Interface: the root is level 0. */
            walk_from(&w, e, ctl->narrow ? 0 : 1, 0);
        }
        if (strcmp(e->cls, "Enum") == 0) check_enum_values(c, e);
        if (e->supp_count) check_supp_constraints(c, e);
        if (strcmp(e->cls, "Interface") == 0) {
            bool failed = false;
            dtdl_nameset_clear(&names);
            collect_contents(e, &names, ++c->walk_epoch, 0, c, e, &failed);
        }
    }
    dtdl_nameset_free(&names);
}
