/* dtdl_graph.c — compiles a successfully parsed element tree into the immutable model graph
 * the rest of castor reads (dtdl.h): per interface its ancestors and flattened contents with
 * compiled schemas. Everything lives in the graph's own arena; enum values are JSON kept alive
 * by one array the graph owns. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dtdl/dtdl_internal.h"
#include "dtdl/dtdl_meta.h"

struct dtdl_graph {
    arena_t arena;
    dtdl_interface_t **items;
    size_t count;
    json_t *index; /* DTMI -> position in items */
    json_t *held;  /* enum value JSON */
};

static const struct {
    const char *cls;
    dtdl_schema_kind_t kind;
} g_kinds[] = {
    {"Boolean", DTDL_SCHEMA_BOOLEAN},   {"Date", DTDL_SCHEMA_DATE},
    {"DateTime", DTDL_SCHEMA_DATETIME}, {"Double", DTDL_SCHEMA_DOUBLE},
    {"Duration", DTDL_SCHEMA_DURATION}, {"Float", DTDL_SCHEMA_FLOAT},
    {"Integer", DTDL_SCHEMA_INTEGER},   {"Long", DTDL_SCHEMA_LONG},
    {"String", DTDL_SCHEMA_STRING},     {"Time", DTDL_SCHEMA_TIME},
    {"Array", DTDL_SCHEMA_ARRAY},       {"Enum", DTDL_SCHEMA_ENUM},
    {"Map", DTDL_SCHEMA_MAP},           {"Object", DTDL_SCHEMA_OBJECT},
};

const char *dtdl_schema_kind_name(dtdl_schema_kind_t kind)
{
    static const char *names[] = {"boolean", "date",    "dateTime", "double", "duration",
                                  "float",   "integer", "long",     "string", "time",
                                  "Array",   "Enum",    "Map",      "Object"};
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "unknown";
}

static const char *gdup(dtdl_graph_t *g, const char *s)
{
    return s ? arena_strdup(&g->arena, s) : NULL;
}

static const dtdl_schema_t *compile_schema(dtdl_graph_t *g, dtdl_elem_t *e, int level)
{
    if (!e || level > 32) return NULL;
    if (e->compiled) return e->compiled;
    dtdl_schema_t *s = arena_calloc(&g->arena, 1, sizeof *s);
    if (!s) return NULL;
    size_t i;
    for (i = 0; i < sizeof g_kinds / sizeof g_kinds[0]; i++)
        if (strcmp(g_kinds[i].cls, e->cls) == 0) break;
    if (i == sizeof g_kinds / sizeof g_kinds[0]) return NULL;
    s->kind = g_kinds[i].kind;
    s->id = gdup(g, e->id);
    e->compiled = s;
    switch (s->kind) {
    case DTDL_SCHEMA_ARRAY:
        s->element = compile_schema(g, dtdl_elem_ref(e, "elementSchema"), level + 1);
        break;
    case DTDL_SCHEMA_ENUM: {
        dtdl_elem_t *vs = dtdl_elem_ref(e, "valueSchema");
        s->value_kind =
            vs && strcmp(vs->cls, "Integer") == 0 ? DTDL_SCHEMA_INTEGER : DTDL_SCHEMA_STRING;
        dtdl_prop_t *p = dtdl_elem_prop(e, "enumValues");
        size_t n = p ? p->val_count : 0;
        dtdl_enum_value_t *vals = arena_calloc(&g->arena, n ? n : 1, sizeof *vals);
        for (size_t k = 0; k < n; k++) {
            dtdl_elem_t *ev = p->vals[k].elem;
            dtdl_prop_t *x = ev ? dtdl_elem_prop(ev, "enumValue") : NULL;
            if (!x) continue;
            json_t *v = json_is_array(x->value) ? json_array_get(x->value, 0) : x->value;
            json_t *copy = json_deep_copy(v);
            json_array_append_new(g->held, copy);
            vals[s->value_count].name = gdup(g, dtdl_elem_string(ev, "name"));
            vals[s->value_count++].value = copy;
        }
        s->values = vals;
        break;
    }
    case DTDL_SCHEMA_MAP: {
        dtdl_elem_t *mk = dtdl_elem_ref(e, "mapKey");
        dtdl_elem_t *mv = dtdl_elem_ref(e, "mapValue");
        s->map_key_name = gdup(g, mk ? dtdl_elem_string(mk, "name") : NULL);
        s->map_value = mv ? compile_schema(g, dtdl_elem_ref(mv, "schema"), level + 1) : NULL;
        break;
    }
    case DTDL_SCHEMA_OBJECT: {
        dtdl_prop_t *p = dtdl_elem_prop(e, "fields");
        size_t n = p ? p->val_count : 0;
        dtdl_field_t *fs = arena_calloc(&g->arena, n ? n : 1, sizeof *fs);
        for (size_t k = 0; k < n; k++) {
            dtdl_elem_t *f = p->vals[k].elem;
            if (!f) continue;
            fs[s->field_count].name = gdup(g, dtdl_elem_string(f, "name"));
            fs[s->field_count++].schema = compile_schema(g, dtdl_elem_ref(f, "schema"), level + 1);
        }
        s->fields = fs;
        break;
    }
    default:
        break;
    }
    return s;
}

static long int_prop(const dtdl_elem_t *e, const char *name, long dflt)
{
    dtdl_prop_t *p = dtdl_elem_prop(e, name);
    json_t *v = p ? (json_is_array(p->value) ? json_array_get(p->value, 0) : p->value) : NULL;
    return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

static bool bool_prop(const dtdl_elem_t *e, const char *name)
{
    dtdl_prop_t *p = dtdl_elem_prop(e, name);
    json_t *v = p ? (json_is_array(p->value) ? json_array_get(p->value, 0) : p->value) : NULL;
    return json_is_true(v);
}

static void compile_content(dtdl_graph_t *g, dtdl_content_t *ct, dtdl_elem_t *e, const char *owner)
{
    ct->name = gdup(g, dtdl_elem_string(e, "name"));
    ct->id = gdup(g, e->id);
    ct->defined_in = owner;
    ct->max_multiplicity = -1;
    if (strcmp(e->cls, "Property") == 0) {
        ct->kind = DTDL_CONTENT_PROPERTY;
        ct->schema = compile_schema(g, dtdl_elem_ref(e, "schema"), 0);
        ct->writable = bool_prop(e, "writable");
    } else if (strcmp(e->cls, "Telemetry") == 0) {
        ct->kind = DTDL_CONTENT_TELEMETRY;
        ct->schema = compile_schema(g, dtdl_elem_ref(e, "schema"), 0);
    } else if (strcmp(e->cls, "Command") == 0) {
        ct->kind = DTDL_CONTENT_COMMAND;
        dtdl_elem_t *rq = dtdl_elem_ref(e, "request");
        dtdl_elem_t *rs = dtdl_elem_ref(e, "response");
        ct->schema = rq ? compile_schema(g, dtdl_elem_ref(rq, "schema"), 0) : NULL;
        ct->response_schema = rs ? compile_schema(g, dtdl_elem_ref(rs, "schema"), 0) : NULL;
    } else if (strcmp(e->cls, "Relationship") == 0) {
        ct->kind = DTDL_CONTENT_RELATIONSHIP;
        ct->writable = bool_prop(e, "writable");
        ct->min_multiplicity = int_prop(e, "minMultiplicity", 0);
        ct->max_multiplicity = int_prop(e, "maxMultiplicity", -1);
        dtdl_prop_t *t = dtdl_elem_prop(e, "target");
        if (t && t->val_count)
            ct->target = gdup(g, t->vals[0].ref ? t->vals[0].ref : t->vals[0].elem->id);
        dtdl_prop_t *pp = dtdl_elem_prop(e, "properties");
        size_t n = pp ? pp->val_count : 0;
        dtdl_content_t *props = arena_calloc(&g->arena, n ? n : 1, sizeof *props);
        for (size_t k = 0; k < n; k++)
            if (pp->vals[k].elem)
                compile_content(g, &props[ct->property_count++], pp->vals[k].elem, owner);
        ct->properties = props;
    } else {
        ct->kind = DTDL_CONTENT_COMPONENT;
        dtdl_elem_t *s = dtdl_elem_ref(e, "schema");
        ct->component_interface = gdup(g, s ? s->id : NULL);
    }
}

/* Visits e's bases depth-first, each once; appends ancestors and not-yet-seen contents. */
static void flatten(dtdl_graph_t *g, dtdl_pctx_t *c, dtdl_elem_t *e, dtdl_interface_t *it,
                    dtdl_nameset_t *seen_names, dtdl_content_t *buf, size_t cap, int epoch,
                    int level, const char **anc, size_t anc_cap)
{
    if (e->mark == epoch || level > 64) return;
    e->mark = epoch;
    if (level > 0 && it->ancestor_count < anc_cap) anc[it->ancestor_count++] = gdup(g, e->id);
    const char *owner = gdup(g, e->id);
    dtdl_prop_t *p = dtdl_elem_prop(e, "contents");
    for (size_t i = 0; p && i < p->val_count; i++) {
        dtdl_elem_t *ch = p->vals[i].elem;
        const char *nm = ch ? dtdl_elem_string(ch, "name") : NULL;
        if (!nm || it->content_count >= cap || dtdl_nameset_put(seen_names, nm, ch)) continue;
        /* An inherited content compiles the same for every interface that inherits it: compile
         * it once (e->compiled is otherwise used only for schemas) and copy the result. */
        dtdl_content_t *dst = &buf[it->content_count++];
        if (ch->compiled) {
            *dst = *(const dtdl_content_t *)ch->compiled;
        } else {
            compile_content(g, dst, ch, owner);
            ch->compiled = dst;
        }
    }
    dtdl_prop_t *x = dtdl_elem_prop(e, "extends");
    for (size_t i = 0; x && i < x->val_count; i++)
        if (x->vals[i].elem)
            flatten(g, c, x->vals[i].elem, it, seen_names, buf, cap, epoch, level + 1, anc,
                    anc_cap);
}

/* Upper bounds for one interface's flattened arrays: its hierarchy's sizes. */
static void measure(dtdl_elem_t *e, int epoch, int level, size_t *contents, size_t *bases)
{
    if (e->mark == epoch || level > 64) return;
    e->mark = epoch;
    dtdl_prop_t *p = dtdl_elem_prop(e, "contents");
    *contents += p ? p->val_count : 0;
    (*bases)++;
    dtdl_prop_t *x = dtdl_elem_prop(e, "extends");
    for (size_t i = 0; x && i < x->val_count; i++)
        if (x->vals[i].elem) measure(x->vals[i].elem, epoch, level + 1, contents, bases);
}

dtdl_graph_t *dtdl_graph_compile(dtdl_pctx_t *c, castor_err *err)
{
    dtdl_graph_t *g = calloc(1, sizeof *g);
    if (!g) {
        castor_err_set(err, CASTOR_ENOMEM, "out of memory compiling models");
        return NULL;
    }
    arena_init(&g->arena, DTDL_GRAPH_ARENA_MAX);
    g->index = json_object();
    g->held = json_array();
    size_t n = 0;
    for (dtdl_elem_t *e = c->first; e; e = e->next)
        if (!e->standard && e->cls && strcmp(e->cls, "Interface") == 0 && !e->parent) n++;
    g->items = arena_calloc(&g->arena, n ? n : 1, sizeof *g->items);
    dtdl_nameset_t names = {0};
    for (dtdl_elem_t *e = c->first; e; e = e->next) {
        if (e->standard || !e->cls || strcmp(e->cls, "Interface") != 0 || e->parent) continue;
        dtdl_interface_t *it = arena_calloc(&g->arena, 1, sizeof *it);
        if (!it) goto oom;
        it->id = gdup(g, e->id);
        it->dtdl_version = e->scope.version;
        it->in_batch = !e->external;
        dtdl_prop_t *x = dtdl_elem_prop(e, "extends");
        size_t ne = x ? x->val_count : 0;
        it->extends = arena_calloc(&g->arena, ne ? ne : 1, sizeof *it->extends);
        for (size_t i = 0; i < ne; i++)
            if (x->vals[i].elem) it->extends[it->extends_count++] = gdup(g, x->vals[i].elem->id);
        size_t cap = 0, bases = 0;
        measure(e, ++c->walk_epoch, 0, &cap, &bases);
        dtdl_content_t *buf = arena_calloc(&g->arena, cap ? cap : 1, sizeof *buf);
        const char **anc = arena_calloc(&g->arena, bases ? bases : 1, sizeof *anc);
        if (!buf || !anc) goto oom;
        dtdl_nameset_clear(&names);
        flatten(g, c, e, it, &names, buf, cap, ++c->walk_epoch, 0, anc, bases);
        it->contents = buf;
        it->ancestors = anc;
        json_object_set_new(g->index, it->id, json_integer((json_int_t)g->count));
        g->items[g->count++] = it;
    }
    dtdl_nameset_free(&names);
    return g;
oom:
    dtdl_nameset_free(&names);
    dtdl_graph_free(g);
    castor_err_set(err, CASTOR_ELIMIT, "the compiled models exceed %u bytes",
                   (unsigned)DTDL_GRAPH_ARENA_MAX);
    return NULL;
}

void dtdl_graph_free(dtdl_graph_t *g)
{
    if (!g) return;
    json_decref(g->index);
    json_decref(g->held);
    arena_free(&g->arena);
    free(g);
}

size_t dtdl_graph_count(const dtdl_graph_t *g)
{
    return g ? g->count : 0;
}

const dtdl_interface_t *dtdl_graph_at(const dtdl_graph_t *g, size_t i)
{
    return g && i < g->count ? g->items[i] : NULL;
}

const dtdl_interface_t *dtdl_graph_find(const dtdl_graph_t *g, const char *dtmi)
{
    json_t *v = g && dtmi ? json_object_get(g->index, dtmi) : NULL;
    return v ? g->items[json_integer_value(v)] : NULL;
}

bool dtdl_interface_is_of(const dtdl_interface_t *iface, const char *model_id)
{
    if (!iface || !model_id) return false;
    if (strcmp(iface->id, model_id) == 0) return true;
    for (size_t i = 0; i < iface->ancestor_count; i++)
        if (strcmp(iface->ancestors[i], model_id) == 0) return true;
    return false;
}

const dtdl_content_t *dtdl_interface_content(const dtdl_interface_t *iface, const char *name)
{
    for (size_t i = 0; iface && name && i < iface->content_count; i++)
        if (strcmp(iface->contents[i].name, name) == 0) return &iface->contents[i];
    return NULL;
}
