/* dtdl_parse.c — turns one DTDL JSON document into a tree of elements, checking every rule
 * that concerns a single element: @context, @id, @type (material and supplemental types),
 * which properties a class allows, their counts, datatypes, lengths, patterns and ranges.
 *
 * Rules come from the metamodel (dtdl_meta.h), so the same code serves v2 and v3; rules that
 * relate several elements (references, inheritance, nesting) are in dtdl_resolve.c. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "dtdl/dtdl_internal.h"
#include "dtdl/dtdl_meta.h"

#define DTDL_CONTEXT_PREFIX "dtmi:dtdl:context;"

static dtdl_elem_t *parse_elem(dtdl_pctx_t *c, const dtdl_scope_t *outer, json_t *obj,
                               const char *range, dtdl_elem_t *parent, const char *pprop,
                               const char *path, int doc, bool external);

/* ---- small helpers ---------------------------------------------------------------------- */

dtdl_elem_t *dtdl_id_get(dtdl_pctx_t *c, const char *id)
{
    json_t *v = json_object_get(c->ids, id);
    return v ? (dtdl_elem_t *)(intptr_t)json_integer_value(v) : NULL;
}

void dtdl_id_put(dtdl_pctx_t *c, const char *id, dtdl_elem_t *e)
{
    json_object_set_new(c->ids, id, json_integer((json_int_t)(intptr_t)e));
}

dtdl_prop_t *dtdl_elem_prop(const dtdl_elem_t *e, const char *name)
{
    for (size_t i = 0; e && i < e->prop_count; i++)
        if (strcmp(e->props[i].name, name) == 0) return &e->props[i];
    return NULL;
}

const char *dtdl_elem_string(const dtdl_elem_t *e, const char *name)
{
    dtdl_prop_t *p = dtdl_elem_prop(e, name);
    if (!p || !p->value) return NULL;
    if (json_is_array(p->value)) return json_string_value(json_array_get(p->value, 0));
    return json_string_value(p->value);
}

dtdl_elem_t *dtdl_elem_ref(const dtdl_elem_t *e, const char *name)
{
    dtdl_prop_t *p = dtdl_elem_prop(e, name);
    return p && p->val_count ? p->vals[0].elem : NULL;
}

/* JSON paths and generated ids are built for every element and property, so they are
 * concatenated directly rather than through printf (which was a tenth of a parse). */
static char *cat_n(dtdl_pctx_t *c, const char *const *parts, const size_t *lens, size_t n)
{
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        total += lens[i];
    char *out = arena_alloc(&c->arena, total);
    if (!out) return NULL;
    char *w = out;
    for (size_t i = 0; i < n; i++) {
        memcpy(w, parts[i], lens[i]);
        w += lens[i];
    }
    *w = '\0';
    return out;
}

static const char *cat3(dtdl_pctx_t *c, const char *a, const char *b, const char *d)
{
    const char *parts[3] = {a, b, d};
    size_t lens[3] = {strlen(a), strlen(b), strlen(d)};
    return cat_n(c, parts, lens, 3);
}

/* path + "[i]" */
static const char *path_index(dtdl_pctx_t *c, const char *path, size_t i)
{
    char num[24];
    size_t k = sizeof num;
    num[--k] = '\0';
    num[--k] = ']';
    do {
        num[--k] = (char)('0' + i % 10);
        i /= 10;
    } while (i);
    num[--k] = '[';
    return cat3(c, path, num + k, "");
}

static const char *jtype(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* Code points, not bytes: DTDL limits are in characters. */
static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

/* Compiled patterns, kept for the life of the process like the metamodel they come from:
 * the digest has a dozen patterns (names, DTMIs, language codes) that every element checks, and
 * compiling one costs far more than matching it. Bounded; a pattern beyond the table is compiled
 * per call as before. Guarded by a mutex since parses may run on several threads. */
#define PATTERN_CACHE_MAX 64
static struct {
    const char *pattern; /* a copy, owned by the table */
    pcre2_code *code;
} g_patterns[PATTERN_CACHE_MAX];
static size_t g_pattern_count;
static pthread_mutex_t g_pattern_lock = PTHREAD_MUTEX_INITIALIZER;

static pcre2_code *pattern_compile(const char *pattern)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &eo, NULL);
    if (re) pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    return re;
}

/* The cached compiled form of pattern (*owned false), or a fresh one the caller frees (*owned
 * true) when the table is full; NULL when it does not compile. */
static pcre2_code *pattern_get(const char *pattern, bool *owned)
{
    *owned = false;
    pthread_mutex_lock(&g_pattern_lock);
    for (size_t i = 0; i < g_pattern_count; i++) {
        if (g_patterns[i].pattern == pattern || strcmp(g_patterns[i].pattern, pattern) == 0) {
            pcre2_code *re = g_patterns[i].code;
            pthread_mutex_unlock(&g_pattern_lock);
            return re;
        }
    }
    pcre2_code *re = pattern_compile(pattern);
    char *copy = re && g_pattern_count < PATTERN_CACHE_MAX ? strdup(pattern) : NULL;
    if (copy) {
        g_patterns[g_pattern_count].pattern = copy;
        g_patterns[g_pattern_count].code = re;
        g_pattern_count++;
    } else {
        *owned = re != NULL;
    }
    pthread_mutex_unlock(&g_pattern_lock);
    return re;
}

bool dtdl_pattern_match(const char *pattern, const char *s)
{
    bool owned;
    pcre2_code *re = pattern_get(pattern, &owned);
    if (!re) return true; /* a digest pattern PCRE2 cannot compile is our bug, not the user's */
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
    pcre2_match_data_free(md);
    if (owned) pcre2_code_free(re);
    return rc >= 0;
}

static bool is_name_char_ok(const char *s)
{
    static const char *name_re = "^[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?$";
    return dtdl_pattern_match(name_re, s);
}

/* ---- contexts ---------------------------------------------------------------------------- */

/* The metamodel's "terms" object of a version or extension. The few there are (two versions,
 * a handful of extensions) are remembered per thread by pointer, since every JSON key of every
 * element is expanded through them. */
static json_t *terms_of(json_t *meta)
{
    static _Thread_local struct {
        json_t *meta, *terms;
    } memo[8];
    static _Thread_local unsigned next;
    for (unsigned i = 0; i < 8; i++)
        if (memo[i].meta == meta) return memo[i].terms;
    json_t *t = json_object_get(meta, "terms");
    memo[next % 8].meta = meta;
    memo[next % 8].terms = t;
    next++;
    return t;
}

static const char *scope_term(const dtdl_scope_t *s, const char *term)
{
    for (size_t i = s->ext_count; i-- > 0;) {
        const char *d = json_string_value(json_object_get(terms_of(s->ext[i]), term));
        if (d) return d;
    }
    return json_string_value(json_object_get(terms_of(s->vmeta), term));
}

static json_t *scope_supp(const dtdl_scope_t *s, const char *dtmi)
{
    for (size_t i = 0; i < s->ext_count; i++) {
        json_t *t = json_object_get(json_object_get(s->ext[i], "supp"), dtmi);
        if (t) return t;
    }
    return json_object_get(json_object_get(s->vmeta, "supp"), dtmi);
}

/* The digest's "apocrypha": how a version treats an unknown term/DTMI. An unknown co-type is
 * tolerated when "valid", or when "tenable" and an undefined extension in scope might define
 * it; an unknown property is tolerated only on an element that carries such a co-type (it may
 * belong to it), never "formally" on a plain DTDL element. */
static bool apocrypha_ok(const dtdl_elem_t *e, const char *kind)
{
    const char *v =
        json_string_value(json_object_get(json_object_get(e->scope.vmeta, "apocrypha"), kind));
    if (!v || strcmp(v, "invalid") == 0) return false;
    if (strstr(kind, "AsProperty")) return e->undef_cotype;
    return strcmp(v, "valid") == 0 || e->scope.undef_ext;
}

static bool undef_allowed(const dtdl_pctx_t *c, int version)
{
    if (c->undef_opt == DTDL_UNDEF_EXT_ALLOW) return true;
    if (c->undef_opt == DTDL_UNDEF_EXT_DISALLOW) return false;
    return json_is_true(json_object_get(dtdl_meta_version(version), "undefExtDefault"));
}

static int dtdl_context_version(const char *cs)
{
    if (strncmp(cs, DTDL_CONTEXT_PREFIX, strlen(DTDL_CONTEXT_PREFIX)) != 0) return -1;
    const char *vs = cs + strlen(DTDL_CONTEXT_PREFIX);
    return (vs[0] >= '1' && vs[0] <= '9' && vs[1] == '\0') ? vs[0] - '0' : 0;
}

/* The i-th context specifier of a @context value (a string or an array of strings). */
static const char *ctx_at(json_t *ctx, size_t i)
{
    return json_string_value(json_is_array(ctx) ? json_array_get(ctx, i) : ctx);
}

/* Partner contexts (IoT Central) may come before the DTDL context; nothing else may. */
static bool is_affiliate(const char *cs)
{
    json_t *ext = dtdl_meta_extension(cs);
    return ext && strncmp(cs, "dtmi:dtdl:", 10) != 0;
}

static bool version_in(json_t *versions, int ver)
{
    size_t i;
    json_t *x;
    json_array_foreach(versions, i, x) if (json_integer_value(x) == ver) return true;
    return false;
}

/* Whether ver (from context specifier cs) is a DTDL version castor implements; reports it if
 * not. */
static bool version_known(dtdl_pctx_t *c, int ver, const char *cs, const char *id,
                          const char *cpath)
{
    if (ver != 0 && dtdl_meta_version(ver)) return true;
    if (strchr(cs, '#')) {
        dtdl_fail(c, "disallowedContextFragment", id, "@context", cpath,
                  "'%s' has a fragment ('#…'), which a DTDL context may not have; use "
                  "\"dtmi:dtdl:context;2\" or \"dtmi:dtdl:context;3\"",
                  cs);
        return false;
    }
    dtdl_fail(c, "unrecognizedContextVersion", id, "@context", cpath,
              "'%s' is not a DTDL version castor supports; use \"dtmi:dtdl:context;2\" or "
              "\"dtmi:dtdl:context;3\"",
              cs);
    return false;
}

/* Applies one context specifier cs that is not a DTDL context: a defined extension joins the
 * scope, an undefined one is allowed only where the version (or the caller) allows them. */
static bool apply_extension(dtdl_pctx_t *c, dtdl_scope_t *s, const char *cs, const char *id,
                            const char *cpath)
{
    /* v2 context specifiers carry a major version only ("dtmi:foo:bar;1", not ";1.1"). */
    const char *semi = strrchr(cs, ';');
    if (s->version == 2 && semi && strchr(semi, '.')) {
        dtdl_fail(c, "invalidContextSpecifierForVersion", id, "@context", cpath,
                  "context specifier '%s' has a minor version, which DTDL v2 does not allow", cs);
        return false;
    }
    if (strchr(cs, ';') == NULL && dtdl_dtmi_valid(cs, 3)) {
        dtdl_fail(c, "missingContextVersion", id, "@context", cpath,
                  "context specifier '%s' has no version; write it as '%s;1'", cs, cs);
        return false;
    }
    if (!dtdl_dtmi_valid(cs, 3) || strchr(cs, ';') == NULL) {
        dtdl_fail(
            c, strncmp(cs, "dtmi:", 5) == 0 ? "invalidContextSpecifier" : "nonDtmiContextSpecifier",
            id, "@context", cpath, "context specifier '%s' is not a versioned DTMI", cs);
        return false;
    }
    json_t *ext = dtdl_meta_extension(cs);
    if (ext) {
        int ev = atoi(json_string_value(json_object_get(ext, "version")));
        if (ev != s->version) {
            dtdl_fail(c, "invalidContextSpecifierForVersion", id, "@context", cpath,
                      "extension '%s' requires DTDL v%d; this document is v%d", cs, ev, s->version);
            return false;
        }
        bool dup = false;
        for (size_t k = 0; k < s->ext_count; k++)
            dup |= s->ext[k] == ext;
        if (!dup && s->ext_count < DTDL_SCOPE_EXT_MAX) s->ext[s->ext_count++] = ext;
        return true;
    }
    /* A version of a known extension that this parser lacks (historization;100) is, with
     * undefined extensions allowed, just an undefined extension, as the official parser
     * treats it. */
    bool unknown_version =
        strncmp(cs, "dtmi:dtdl:extension:", 20) == 0 && undef_allowed(c, s->version);
    if (!unknown_version &&
        (strncmp(cs, "dtmi:dtdl:", 10) == 0 || strncmp(cs, "dtmi:iotcentral:", 16) == 0 ||
         strncmp(cs, "dtmi:iotoperations:", 19) == 0)) {
        dtdl_fail(c, "unsupportedExtension", id, "@context", cpath,
                  "extension context '%s' is not supported; castor supports "
                  "quantitativeTypes;1, historization;1, annotation;1 and overriding;1 (v3)",
                  cs);
        return false;
    }
    if (!undef_allowed(c, s->version)) {
        dtdl_fail(c, "unresolvableContextSpecifier", id, "@context", cpath,
                  "extension context '%s' is not defined; undefined extensions are not "
                  "allowed in DTDL v%d",
                  cs, s->version);
        return false;
    }
    s->undef_ext = true;
    return true;
}

/* Finds the run of DTDL context specifiers in @context (ctx, n values) and applies the
 * version it names to s; [*run_out, *end_out) is the run. */
static bool apply_dtdl_contexts(dtdl_pctx_t *c, dtdl_scope_t *s, json_t *ctx, size_t n, bool top,
                                const char *id, const char *cpath, json_t *versions,
                                size_t *run_out, size_t *end_out)
{
    /* The DTDL context specifiers come as one run, first (after any partner contexts, the
     * v2 exception for IoT Central): "dtmi:dtdl:context;3 may be preceded by values that also
     * begin with dtmi:dtdl:context;", and the last of the run, as in JSON-LD, is the version
     * that applies. The version is found before anything else since extension rules depend
     * on it. */
    size_t run = 0, run_end;
    while (run < n && is_affiliate(ctx_at(ctx, run)))
        run++;
    for (run_end = run; run_end < n && dtdl_context_version(ctx_at(ctx, run_end)) >= 0;)
        run_end++;
    if (top && run == run_end && run < n) {
        dtdl_fail(c, "missingContextVersion", id, "@context", cpath,
                  "the first @context value must be a DTDL context such as "
                  "\"dtmi:dtdl:context;3\", not '%s'",
                  ctx_at(ctx, run));
        return false;
    }
    if (top && run == run_end) {
        dtdl_fail(c, "missingContextVersion", id, "@context", cpath,
                  "@context must include \"dtmi:dtdl:context;3\" or \"dtmi:dtdl:context;2\"");
        return false;
    }
    for (size_t i = run; i < run_end; i++)
        if (!version_known(c, dtdl_context_version(ctx_at(ctx, i)), ctx_at(ctx, i), id, cpath))
            return false;
    if (run < run_end) {
        int ver = dtdl_context_version(ctx_at(ctx, run_end - 1));
        if (top && ver > c->max_version) {
            dtdl_fail(c, "disallowedContextVersion", id, "@context", cpath,
                      "DTDL version %d is not allowed here (at most %d)", ver, c->max_version);
            return false;
        }
        /* An embedded element may restate or lower the DTDL version it is written in. */
        if (!top && !version_in(versions, ver)) {
            dtdl_fail(c, "disallowedVersionDefinition", id, "@context", cpath,
                      "an element written in DTDL v%d may not appear here; this property of a "
                      "v%d element takes only elements of its own DTDL version",
                      ver, s->version);
            return false;
        }
        if (!top) { /* a nested DTDL context starts the element's extensions afresh */
            s->ext_count = 0;
            s->undef_ext = false;
        }
        s->version = ver;
        s->vmeta = dtdl_meta_version(ver);
    }
    *run_out = run;
    *end_out = run_end;
    return true;
}

/* Applies one @context value to scope s (which holds the outer context, if any): the DTDL
 * version first (at the top after partner contexts), then extensions.
 * versions: for a nested context, the DTDL versions the parent property accepts for its value
 * (the digest's "versions": a v3 Interface may embed a v2 Interface in extends, contents or a
 * schema, not in schemas, enumValues, fields or mapValue). */
static bool apply_context(dtdl_pctx_t *c, dtdl_scope_t *s, json_t *ctx, bool top, const char *id,
                          const char *path, json_t *versions)
{
    const char *cpath = cat3(c, path, "['@context']", "");
    size_t n = json_is_array(ctx) ? json_array_size(ctx) : 1;
    if (!json_is_array(ctx) && !json_is_string(ctx)) {
        dtdl_fail(c, "invalidContextSpecifier", id, "@context", cpath,
                  "@context is %s; it must be a DTMI string or an array of them", jtype(ctx));
        return false;
    }
    if (n == 0) {
        if (!top) return true;
        dtdl_fail(c, "emptyContext", id, "@context", cpath,
                  "@context is an empty array; give \"dtmi:dtdl:context;3\" (or ;2) first");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *one = json_is_array(ctx) ? json_array_get(ctx, i) : ctx;
        if (json_is_object(one)) {
            /* A JSON-LD local context block: the official parser defines none for DTDL v2/v3. */
            dtdl_fail(c, "disallowedLocalContext", id, "@context", cpath,
                      "@context holds a block of local term definitions, which DTDL v2 and v3 "
                      "do not allow; use only context DTMI strings");
            return false;
        }
        if (!json_is_string(one)) {
            dtdl_fail(c, "invalidContextSpecifier", id, "@context", cpath,
                      "@context holds %s; each context specifier must be a DTMI string",
                      jtype(one));
            return false;
        }
    }
    size_t run, run_end;
    if (!apply_dtdl_contexts(c, s, ctx, n, top, id, cpath, versions, &run, &run_end)) return false;
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        const char *cs = json_string_value(json_is_array(ctx) ? json_array_get(ctx, i) : ctx);
        if (i >= run && i < run_end) continue; /* the DTDL contexts, applied above */
        if (dtdl_context_version(cs) >= 0) {
            dtdl_fail(c, "dtdlContextFollowsAffiliate", id, "@context", cpath,
                      "'%s' comes after the extension context '%s'; DTDL contexts must come "
                      "first in @context, before any extension",
                      cs, ctx_at(ctx, run_end));
            ok = false;
            continue;
        }
        ok &= apply_extension(c, s, cs, id, cpath);
    }
    return ok;
}

/* ---- @id ---------------------------------------------------------------------------------- */

static bool check_id(dtdl_pctx_t *c, dtdl_elem_t *e, json_t *idv, const char *path)
{
    const char *ipath = cat3(c, path, "['@id']", "");
    const char *id = json_string_value(idv);
    if (!id || !*id) {
        dtdl_fail(c, "idNotString", NULL, "@id", ipath, "@id is %s; it must be a DTMI string",
                  id ? "an empty string" : jtype(idv));
        return false;
    }
    json_t *vm = e->scope.vmeta;
    if (!dtdl_dtmi_valid(id, e->scope.version)) {
        dtdl_fail(c, "invalidId", NULL, "@id", ipath,
                  "@id '%s' is not a valid DTMI for DTDL v%d (dtmi:<segments>;<version>, "
                  "segments of letters, digits and '_' starting with a letter)%s",
                  id, e->scope.version,
                  e->scope.version == 2 ? "; v2 requires a version number" : "");
        return false;
    }
    size_t max = (size_t)json_integer_value(json_object_get(vm, "idMaxLen"));
    if (strcmp(e->cls ? e->cls : "", "Interface") == 0)
        max = (size_t)json_integer_value(json_object_get(vm, "ifaceIdMaxLen"));
    if (strlen(id) > max) {
        dtdl_fail(c, "idTooLongForType", id, "@id", ipath,
                  "@id is %zu characters; at most %zu are allowed for %s", strlen(id), max,
                  e->cls ? e->cls : "this element");
        return false;
    }
    if (!e->standard) {
        size_t i;
        json_t *pre;
        json_array_foreach(json_object_get(vm, "reserved"), i, pre)
        {
            const char *p = json_string_value(pre);
            if (strncmp(id, p, strlen(p)) == 0) {
                dtdl_fail(c, "reservedId", id, "@id", ipath,
                          "@id '%s' uses the reserved prefix '%s'", id, p);
                return false;
            }
        }
    }
    e->id = id;
    return true;
}

/* ---- @type -------------------------------------------------------------------------------- */

/* The DTMI a term or DTMI string stands for in scope, or NULL. */
static const char *expand(const dtdl_scope_t *s, const char *str)
{
    const char *d = scope_term(s, str);
    if (d) return d;
    if (strncmp(str, "dtmi:", 5) == 0) return str;
    return NULL;
}

static bool range_allows(int version, const char *range, const char *cls)
{
    json_t *conc = json_object_get(dtdl_meta_class(version, range), "concrete");
    size_t i;
    json_t *x;
    json_array_foreach(conc, i, x) if (strcmp(json_string_value(x), cls) == 0) return true;
    json_array_foreach(json_object_get(dtdl_meta_class(version, range), "extensible"), i,
                       x) if (strcmp(json_string_value(x), cls) == 0) return true;
    return false;
}

static bool str_in(json_t *arr, const char *s)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) if (json_is_string(x) &&
                                      strcmp(json_string_value(x), s) == 0) return true;
    return false;
}

static bool parse_types(dtdl_pctx_t *c, dtdl_elem_t *e, json_t *tv, const char *range,
                        const char *path)
{
    const char *tpath = cat3(c, path, "['@type']", "");
    int ver = e->scope.version;
    size_t n = json_is_array(tv) ? json_array_size(tv) : 1;
    if (!json_is_string(tv) && !json_is_array(tv)) {
        dtdl_fail(c, "typeNotStringOrArray", e->id, "@type", tpath,
                  "@type is %s; it must be a string or an array of strings", jtype(tv));
        return false;
    }
    if (n == 0) {
        dtdl_fail(c, "missingType", e->id, "@type", tpath, "@type is an empty array");
        return false;
    }
    e->supp = arena_calloc(&c->arena, n, sizeof *e->supp);
    e->supp_meta = arena_calloc(&c->arena, n, sizeof *e->supp_meta);
    bool ok = true;
    const char *material = NULL;
    /* First pass: find the material type, since co-type rules depend on it. */
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_is_array(tv) ? json_array_get(tv, i) : tv;
        const char *ts = json_string_value(t);
        if (!ts) {
            dtdl_fail(c, "typeNotString", e->id, "@type", tpath,
                      "@type holds %s; each type must be a string", jtype(t));
            return false;
        }
        const char *d = expand(&e->scope, ts);
        const char *cls = d ? dtdl_meta_class_by_dtmi(ver, d) : NULL;
        if (!cls) continue;
        if (material && strcmp(material, cls) != 0) {
            dtdl_fail(c, "multipleMaterialTypes", e->id, "@type", tpath,
                      "@type names both %s and %s; an element has exactly one DTDL class", material,
                      cls);
            return false;
        }
        material = cls;
    }
    if (!material) {
        /* The official parser blames the property holding the element (its value has no
         * acceptable @type), or the document when the element is top-level. */
        dtdl_fail(c, e->parent ? "badType" : "typeNotRootable", e->parent ? e->parent->id : e->id,
                  e->parent ? e->parent_prop : "@type", tpath,
                  "@type names no DTDL class allowed here; expected one of the concrete kinds "
                  "of %s",
                  range);
        return false;
    }
    if (!range_allows(ver, range, material)) {
        dtdl_fail(c, "badType", e->id, "@type", tpath,
                  "an element of @type %s is not allowed here; expected a kind of %s", material,
                  range);
        return false;
    }
    e->cls = material;
    e->cmeta = dtdl_meta_class(ver, material);
    /* Classes whose instances the language predefines (boolean, synchronous…) take no new
     * ones: a user's {"@type": "Boolean"} must name the predefined "boolean" instead. */
    if (!e->standard && json_is_true(json_object_get(e->cmeta, "elemental"))) {
        dtdl_fail(c, "badType", e->id, "@type", tpath,
                  "%s has only predefined values; refer to one by name instead of defining a "
                  "new %s element",
                  material, material);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const char *ts = json_string_value(json_is_array(tv) ? json_array_get(tv, i) : tv);
        const char *d = expand(&e->scope, ts);
        if (d && dtdl_meta_class_by_dtmi(ver, d)) continue;
        json_t *sm = d ? scope_supp(&e->scope, d) : NULL;
        if (sm) {
            if (json_is_true(json_object_get(sm, "abstract"))) {
                dtdl_fail(c, "abstractSupplementalType", e->id, "@type", tpath,
                          "co-type '%s' is abstract; use one of its concrete kinds", ts);
                ok = false;
                continue;
            }
            bool cot = false;
            size_t k;
            json_t *ct;
            json_array_foreach(json_object_get(sm, "cotypes"), k, ct) cot |=
                dtdl_meta_is_a(ver, material, json_string_value(ct));
            if (!cot) {
                dtdl_fail(c, "invalidCotype", e->id, "@type", tpath,
                          "co-type '%s' cannot be applied to a %s", ts, material);
                ok = false;
                continue;
            }
            for (size_t k2 = 0; k2 < e->supp_count; k2++)
                if (strcmp(e->supp[k2], d) == 0) goto next_type;
            e->supp_meta[e->supp_count] = sm;
            e->supp[e->supp_count++] = d;
            continue;
        }
        const char *kind =
            !d ? (strchr(ts, ':') ? "notDtmiNorTermAsCotype" : "undefinedTermAsCotype")
            : !dtdl_dtmi_valid(d, 3) ? "invalidDtmiAsCotype"
                                     : "irrelevantDtmiOrTermAsCotype";
        if (apocrypha_ok(e, kind)) {
            e->undef_cotype = true;
            continue;
        }
        dtdl_fail(c,
                  !d && strchr(ts, ':')    ? "typeNotDtmiNorTerm"
                  : !d                     ? "typeUndefinedTerm"
                  : !dtdl_dtmi_valid(d, 3) ? "typeInvalidDtmi"
                                           : "typeIrrelevantDtmiOrTerm",
                  e->id, "@type", tpath,
                  "@type '%s' is not a class or co-type defined by DTDL v%d or the extensions in "
                  "@context",
                  ts, ver);
        ok = false;
    next_type:;
    }
    /* Two co-types that define the same supplemental property (e.g. two semantic types with a
     * unit) conflict. */
    for (size_t i = 0; i < e->supp_count; i++)
        for (size_t j = i + 1; j < e->supp_count; j++) {
            const char *k1, *k2;
            json_t *v1, *v2;
            json_object_foreach(json_object_get(e->supp_meta[i], "properties"), k1, v1)
                json_object_foreach(json_object_get(e->supp_meta[j], "properties"), k2,
                                    v2) if (strcmp(k1, k2) == 0)
            {
                dtdl_fail(c, "conflictingSupplementalTypes", e->id, "@type", tpath,
                          "co-types '%s' and '%s' both define property '%s'", e->supp[i],
                          e->supp[j], json_string_value(json_object_get(v1, "propertyName")));
                ok = false;
            }
        }
    return ok;
}

/* ---- literal properties --------------------------------------------------------------- */

static bool lang_code_ok(const char *s)
{
    /* ISO 639 primary language (two or three lower-case letters, as the official parser
     * insists: "FOO" and "foobar" are refused) then BCP 47 subtags. */
    return dtdl_pattern_match("^(?:[a-z]{2,3}|[ix])(?:-[A-Za-z0-9]{1,8})*$", s);
}

static bool check_string(dtdl_pctx_t *c, dtdl_elem_t *e, const char *pn, json_t *pm, const char *s,
                         const char *path)
{
    json_t *ml = json_object_get(pm, "maxLength");
    if (ml && utf8_len(s) > (size_t)json_integer_value(ml)) {
        const char *dt = json_string_value(json_object_get(pm, "datatype"));
        bool lang = dt && strcmp(dt, "langString") == 0;
        dtdl_fail(c, lang ? "langStringValueTooLong" : "stringTooLong", e->id, pn, path,
                  "'%s' is %zu characters long; at most %lld are allowed", pn, utf8_len(s),
                  (long long)json_integer_value(ml));
        return false;
    }
    const char *pat = json_string_value(json_object_get(pm, "pattern"));
    if (pat && !dtdl_pattern_match(pat, s)) {
        const char *desc = json_string_value(json_object_get(pm, "patternDesc"));
        dtdl_fail(c, "stringInvalid", e->id, pn, path, "'%s' value '%s' is invalid: it must %s", pn,
                  s, desc ? desc : pat);
        return false;
    }
    return true;
}

/* The official parser's error codes for a literal value are named after the property's
 * datatype: "<dt><What>" (integerNotInteger, booleanObjectNoValue, stringTypeNotString...), with
 * "literal" for a datatype it has no family for. what is one of "Not", "TypeNot", "ValueNot"
 * (followed by the capitalised datatype) or a plain suffix ("ObjectNoValue"). */
static const char *dt_vid(const char *dt, const char *what)
{
    static const char *const names[][5] = {
        /* dt, Not, TypeNot, ValueNot, ObjectNoValue */
        {"string", "stringNotString", "stringTypeNotString", "stringValueNotString",
         "stringObjectNoValue"},
        {"integer", "integerNotInteger", "integerTypeNotInteger", "integerValueNotInteger",
         "integerObjectNoValue"},
        {"boolean", "booleanNotBoolean", "booleanTypeNotBoolean", "booleanValueNotBoolean",
         "booleanObjectNoValue"},
    };
    size_t col = strcmp(what, "Not") == 0        ? 1
                 : strcmp(what, "TypeNot") == 0  ? 2
                 : strcmp(what, "ValueNot") == 0 ? 3
                                                 : 4;
    for (size_t i = 0; dt && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i][0], dt) == 0) return names[i][col];
    return col == 4 ? "literalObjectNoValue" : "literalNotValid";
}

/* from_obj: v was the @value of a JSON-LD value object, which changes the error code. */
static bool literal_one(dtdl_pctx_t *c, dtdl_elem_t *e, const char *pn, json_t *pm, json_t *v,
                        const char *path, bool from_obj)
{
    const char *wrong = from_obj ? "ValueNot" : "Not";
    const char *dt = json_string_value(json_object_get(pm, "datatype"));
    if (!dt) { /* EnumValue.enumValue: integer or string, checked against the Enum later */
        if (!json_is_integer(v) && !json_is_string(v)) {
            dtdl_fail(c, "nonConformantDatatype", e->id, pn, path,
                      "'%s' is %s; it must be an integer or a string", pn, jtype(v));
            return false;
        }
        return true;
    }
    if (strcmp(dt, "string") == 0) {
        if (!json_is_string(v)) {
            dtdl_fail(c, dt_vid(dt, wrong), e->id, pn, path, "'%s' is %s; it must be a string", pn,
                      jtype(v));
            return false;
        }
        return check_string(c, e, pn, pm, json_string_value(v), path);
    }
    if (strcmp(dt, "langString") == 0) {
        if (json_is_string(v)) return check_string(c, e, pn, pm, json_string_value(v), path);
        if (!json_is_object(v)) {
            dtdl_fail(c, "langStringValueNotString", e->id, pn, path,
                      "'%s' is %s; it must be a string or an object mapping language codes "
                      "to strings",
                      pn, jtype(v));
            return false;
        }
        const char *lang;
        json_t *lv;
        bool ok = true;
        json_object_foreach(v, lang, lv)
        {
            const char *lpath = cat3(c, path, ".", lang);
            if (lang[0] == '@') {
                dtdl_fail(c, "langMapObjKeyword", e->id, pn, lpath,
                          "'%s' has a '%s' member, which does not belong in a language map; "
                          "give only language codes mapping to strings",
                          pn, lang);
                ok = false;
            } else if (!lang_code_ok(lang)) {
                dtdl_fail(c, "langStringInvalidCode", e->id, pn, lpath,
                          "'%s' is not a language code (BCP 47, e.g. \"en\" or \"en-US\")", lang);
                ok = false;
            } else if (!json_is_string(lv)) {
                dtdl_fail(c, "langStringValueNotString", e->id, pn, lpath,
                          "the '%s' text of '%s' is %s; it must be a string", lang, pn, jtype(lv));
                ok = false;
            } else {
                ok &= check_string(c, e, pn, pm, json_string_value(lv), lpath);
            }
        }
        return ok;
    }
    if (strcmp(dt, "integer") == 0) {
        if (!json_is_integer(v)) {
            dtdl_fail(c, dt_vid(dt, wrong), e->id, pn, path, "'%s' is %s; it must be an integer",
                      pn, jtype(v));
            return false;
        }
        json_int_t n = json_integer_value(v);
        json_t *mn = json_object_get(pm, "minInclusive");
        json_t *mx = json_object_get(pm, "maxInclusive");
        if (mn && mx && json_integer_value(mn) == json_integer_value(mx) &&
            n != json_integer_value(mn)) {
            dtdl_fail(c, "valueNotExact", e->id, pn, path,
                      "'%s' is %lld; the only value allowed is %lld", pn, (long long)n,
                      (long long)json_integer_value(mn));
            return false;
        }
        if (mn && n < json_integer_value(mn)) {
            /* "Range" when the datatype is bounded on both sides, as the official parser. */
            dtdl_fail(c, mx ? "valueBelowRange" : "valueBelowMin", e->id, pn, path,
                      "'%s' is %lld; the minimum is %lld", pn, (long long)n,
                      (long long)json_integer_value(mn));
            return false;
        }
        if (mx && n > json_integer_value(mx)) {
            dtdl_fail(c, mn ? "valueAboveRange" : "valueAboveMax", e->id, pn, path,
                      "'%s' is %lld; the maximum is %lld", pn, (long long)n,
                      (long long)json_integer_value(mx));
            return false;
        }
        return true;
    }
    if (strcmp(dt, "boolean") == 0) {
        if (!json_is_boolean(v)) {
            dtdl_fail(c, dt_vid(dt, wrong), e->id, pn, path, "'%s' is %s; it must be true or false",
                      pn, jtype(v));
            return false;
        }
        return true;
    }
    return true;
}

/* The XSD datatype a JSON-LD value object may name for a DTDL literal datatype. */
static bool xsd_type_ok(const char *dt, json_t *t)
{
    if (json_is_array(t)) {
        if (json_array_size(t) != 1) return false;
        t = json_array_get(t, 0);
    }
    const char *ts = json_string_value(t);
    if (!ts || !dt) return ts != NULL;
    char a[64], b[96];
    snprintf(a, sizeof a, "xsd:%s", dt);
    snprintf(b, sizeof b, "http://www.w3.org/2001/XMLSchema#%s", dt);
    return strcmp(ts, a) == 0 || strcmp(ts, b) == 0;
}

/* Which error a member of a JSON-LD value object earns, or NULL when it is allowed. Both
 * versions allow @value and @type (and @language in a language-tagged string); @id, @context and
 * @graph never belong in a value; other JSON-LD keywords (@language, @keyword) are ignored by v2
 * and refused by v3; a non-keyword member is always refused. */
static const char *value_member_error(int version, const char *k, bool lang)
{
    if (strcmp(k, "@value") == 0 || strcmp(k, "@type") == 0) return NULL;
    if (lang && strcmp(k, "@language") == 0) return NULL;
    if (strcmp(k, "@id") == 0) return "valueObjectId";
    if (strcmp(k, "@context") == 0) return "valueObjectContext";
    if (strcmp(k, "@graph") == 0) return "valueObjectGraph";
    if (k[0] != '@') return "valueObjectInvalidProp";
    if (version == 2) return NULL;
    return strcmp(k, "@language") == 0 ? "valueObjectLanguage" : "valueObjectKeyword";
}

/* A JSON-LD value object ({"@value": 3, "@type": "xsd:integer"}) stands for its @value. */
static json_t *unwrap_value(dtdl_pctx_t *c, dtdl_elem_t *e, const char *pn, const char *dt,
                            json_t *v, const char *path)
{
    if (!json_is_object(v)) return v;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        const char *vid = value_member_error(e->scope.version, k, false);
        if (vid) {
            dtdl_fail(c, vid, e->id, pn, path,
                      "'%s' is a value object with '%s'; it may hold only @value and @type", pn, k);
            return NULL;
        }
    }
    json_t *val = json_object_get(v, "@value");
    if (!val) {
        dtdl_fail(c, dt_vid(dt, "ObjectNoValue"), e->id, pn, path,
                  "'%s' is an object without @value", pn);
        return NULL;
    }
    json_t *t = json_object_get(v, "@type");
    if (json_is_array(t) && json_array_size(t) != 1) {
        dtdl_fail(c, "literalTypeNotSingular", e->id, pn, path,
                  "'%s' value object has %zu @type values; it takes one", pn, json_array_size(t));
        return NULL;
    }
    if (t && !xsd_type_ok(dt, t)) {
        dtdl_fail(c, dt_vid(dt, "TypeNot"), e->id, pn, path,
                  "'%s' value object has @type that is not xsd:%s", pn, dt ? dt : "string");
        return NULL;
    }
    if (json_is_object(val) || json_is_array(val)) {
        dtdl_fail(c, "valueObjectValue", e->id, pn, path, "'%s' @value is %s; it must be a %s", pn,
                  jtype(val), dt ? dt : "scalar");
        return NULL;
    }
    return val;
}

/* One element of a langString array: a string (default language) or {"@value","@language"}. */
static bool lang_item(dtdl_pctx_t *c, dtdl_elem_t *e, dtdl_prop_t *p, json_t *x, json_t *langs,
                      const char *path)
{
    const char *lang = "";
    json_t *val = x;
    if (json_is_object(x)) {
        const char *k;
        json_t *y;
        json_object_foreach(x, k, y)
        {
            bool ok = strcmp(k, "@value") == 0 || strcmp(k, "@language") == 0 ||
                      (e->scope.version == 2 && !value_member_error(2, k, true));
            if (!ok) {
                const char *vid = strcmp(k, "@id") == 0        ? "langStringElementId"
                                  : strcmp(k, "@context") == 0 ? "langStringElementContext"
                                  : strcmp(k, "@type") == 0    ? "langStringElementType"
                                  : strcmp(k, "@graph") == 0   ? "langStringElementGraph"
                                  : k[0] == '@'                ? "langStringElementKeyword"
                                                               : "langStringElementInvalidProp";
                dtdl_fail(c, vid, e->id, p->name, path,
                          "an element of '%s' may hold only @value and @language, not '%s'",
                          p->name, k);
                return false;
            }
        }
        val = json_object_get(x, "@value");
        json_t *l = json_object_get(x, "@language");
        if (l && (!json_is_string(l) || !lang_code_ok(json_string_value(l)))) {
            dtdl_fail(c, "langStringElementInvalidCode", e->id, p->name, path,
                      "@language of '%s' is not a language code (BCP 47)", p->name);
            return false;
        }
        if (l) lang = json_string_value(l);
        if (!val) {
            dtdl_fail(c, "langStringElementNoValue", e->id, p->name, path,
                      "an element of '%s' has no @value", p->name);
            return false;
        }
    }
    if (!json_is_string(val)) {
        dtdl_fail(c, "langStringElementValueNotString", e->id, p->name, path,
                  "an element of '%s' is %s; it must be a string", p->name, jtype(val));
        return false;
    }
    /* The default language is "en": "hello" and {"@value":…,"@language":"en"} collide. */
    const char *key = *lang ? lang : "en";
    if (json_object_get(langs, key)) {
        dtdl_fail(c, "langStringElementCodeNotUnique", e->id, p->name, path,
                  "'%s' has two texts for language '%s'", p->name, key);
        return false;
    }
    json_object_set_new(langs, key, json_true());
    return check_string(c, e, p->name, p->meta, json_string_value(val), path);
}

/* Whether every member of object o is a JSON-LD keyword ("@value", "@language"). */
static bool only_keywords(json_t *o)
{
    const char *k;
    json_t *x;
    json_object_foreach(o, k, x) if (k[0] != '@') return false;
    return true;
}

static bool parse_literal(dtdl_pctx_t *c, dtdl_elem_t *e, dtdl_prop_t *p, const char *path)
{
    json_t *v = p->value;
    json_t *pm = p->meta;
    const char *dt = json_string_value(json_object_get(pm, "datatype"));
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    bool lang = dt && strcmp(dt, "langString") == 0;
    if (json_is_null(v)) {
        dtdl_fail(c, "propertyValueNull", e->id, p->name, path, "'%s' is null", p->name);
        return false;
    }
    if (lang && json_is_array(v)) {
        json_t *langs = json_object();
        bool ok = true;
        for (size_t i = 0; i < n && ok; i++)
            ok = lang_item(c, e, p, json_array_get(v, i), langs, path_index(c, path, i));
        json_decref(langs);
        return ok;
    }
    /* Outside an array, an object is a language map; {"@value","@language"} there is the
     * common mistake of writing a tagged value where a map is expected. */
    if (lang && json_is_object(v) && json_object_get(v, "@value") && only_keywords(v)) {
        dtdl_fail(c, "langTagValueInLangMap", e->id, p->name, path,
                  "'%s' looks like a language-tagged value; outside an array it must be a "
                  "language map such as {\"en\": \"text\"}, or put the tagged value in an array",
                  p->name);
        return false;
    }
    if (json_is_array(v) && !lang && n > 1) {
        const char *mv = !dt                          ? "literalMultipleValues"
                         : strcmp(dt, "string") == 0  ? "stringMultipleValues"
                         : strcmp(dt, "integer") == 0 ? "integerMultipleValues"
                         : strcmp(dt, "boolean") == 0 ? "booleanMultipleValues"
                                                      : "literalMultipleValues";
        dtdl_fail(c, mv, e->id, p->name, path, "'%s' has %zu values; it takes one", p->name, n);
        return false;
    }
    if (json_is_array(v) && n == 0 && !json_is_true(json_object_get(pm, "optional"))) {
        const char *cb = !dt                          ? "literalCountBelowMin"
                         : strcmp(dt, "string") == 0  ? "stringCountBelowMin"
                         : strcmp(dt, "integer") == 0 ? "integerCountBelowMin"
                         : strcmp(dt, "boolean") == 0 ? "booleanCountBelowMin"
                                                      : "literalCountBelowMin";
        dtdl_fail(c, cb, e->id, p->name, path, "'%s' is an empty array; it needs a value", p->name);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_is_array(v) ? json_array_get(v, i) : v;
        const char *ipath = json_is_array(v) ? path_index(c, path, i) : path;
        if (!lang) {
            x = unwrap_value(c, e, p->name, dt, x, ipath);
            if (!x) {
                ok = false;
                continue;
            }
        }
        bool from_obj = !lang && json_is_object(json_is_array(v) ? json_array_get(v, i) : v);
        ok &= literal_one(c, e, p->name, pm, x, ipath, from_obj);
        /* Later rules (enumValue against valueSchema, writable, multiplicities) read the
         * plain value, not the JSON-LD form it was written in. */
        if (ok && n == 1 && !lang) p->value = x;
    }
    return ok;
}

/* ---- object properties ---------------------------------------------------------------- */

static bool parse_objprop(dtdl_pctx_t *c, dtdl_elem_t *e, dtdl_prop_t *p, const char *path,
                          bool external)
{
    json_t *v = p->value;
    json_t *pm = p->meta;
    const char *range = json_string_value(json_object_get(pm, "class"));
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    p->vals = arena_calloc(&c->arena, n ? n : 1, sizeof *p->vals);
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_is_array(v) ? json_array_get(v, i) : v;
        const char *ipath = json_is_array(v) ? path_index(c, path, i) : path;
        dtdl_pval_t *pv = &p->vals[p->val_count];
        pv->path = ipath;
        if (!range) { /* an identifier (Relationship target): a DTMI, never resolved */
            if (!json_is_string(x)) {
                dtdl_fail(c, "identifierNotString", e->id, p->name, ipath,
                          "'%s' is %s; it must be a DTMI", p->name, jtype(x));
                ok = false;
                continue;
            }
            const char *ts = json_string_value(x);
            if (!scope_term(&e->scope, ts) && !dtdl_dtmi_valid(ts, e->scope.version)) {
                dtdl_fail(c, "identifierNotDtmi", e->id, p->name, ipath,
                          "'%s' value '%s' is neither a valid DTMI nor a DTDL term", p->name, ts);
                ok = false;
                continue;
            }
            if (!check_string(c, e, p->name, pm, ts, ipath)) {
                ok = false;
                continue;
            }
            pv->ref = ts;
            p->val_count++;
            continue;
        }
        if (json_is_string(x)) {
            const char *s = json_string_value(x);
            const char *d = scope_term(&e->scope, s);
            if (!d) {
                if (!dtdl_dtmi_valid(s, e->scope.version)) {
                    dtdl_fail(c, strncmp(s, "dtmi:", 5) == 0 ? "invalidId" : "badDtmiOrTerm", e->id,
                              p->name, ipath,
                              "'%s' value '%s' is neither a valid DTMI reference nor a DTDL "
                              "v%d term",
                              p->name, s, e->scope.version);
                    ok = false;
                    continue;
                }
                d = s;
            }
            json_t *uris = json_object_get(pm, "valueUris");
            if (uris && !str_in(uris, d)) {
                dtdl_fail(c, "incorrectPropertyValue", e->id, p->name, ipath,
                          "'%s' value '%s' is not one of the allowed values", p->name, s);
                ok = false;
                continue;
            }
            pv->ref = d;
            p->val_count++;
        } else if (json_is_object(x)) {
            dtdl_elem_t *ch =
                parse_elem(c, &e->scope, x, range, e, p->name, ipath, e->doc, external);
            if (!ch) {
                ok = false;
                continue;
            }
            pv->elem = ch;
            p->val_count++;
        } else {
            dtdl_fail(c, "refNotStringOrObject", e->id, p->name, ipath,
                      "'%s' holds %s; it must be a DTMI, a term or an inline %s", p->name, jtype(x),
                      range);
            ok = false;
        }
    }
    json_t *mx = json_object_get(pm, "maxCount");
    if (mx && (json_int_t)n > json_integer_value(mx)) {
        dtdl_fail(c, "objectCountAboveMax", e->id, p->name, path,
                  "'%s' has %zu values; at most %lld are allowed", p->name, n,
                  (long long)json_integer_value(mx));
        ok = false;
    }
    json_t *mn = json_object_get(pm, "minCount");
    if (mn && (json_int_t)n < json_integer_value(mn)) {
        dtdl_fail(c, "objectCountBelowMin", e->id, p->name, path,
                  "'%s' has %zu values; at least %lld are required", p->name, n,
                  (long long)json_integer_value(mn));
        ok = false;
    }
    return ok;
}

/* Names of the children of one property must be unique (Interface contents, Object fields,
 * Enum values, Relationship properties). */
static bool check_unique(dtdl_pctx_t *c, dtdl_elem_t *e, dtdl_prop_t *p)
{
    bool ok = true;
    for (size_t i = 0; i < p->val_count; i++) {
        dtdl_elem_t *a = p->vals[i].elem;
        if (!a || p->vals[i].ref) continue;
        for (size_t k = 0; k < a->prop_count; k++) {
            dtdl_prop_t *ap = &a->props[k];
            bool uniq = false;
            size_t u;
            json_t *ua;
            json_array_foreach(json_object_get(ap->meta, "uniqueAmong"), u, ua)
            {
                if (strcmp(json_string_value(json_object_get(ua, "property")), p->name) == 0 &&
                    dtdl_meta_is_a(e->scope.version, e->cls,
                                   json_string_value(json_object_get(ua, "class"))))
                    uniq = true;
            }
            if (str_in(json_object_get(p->meta, "uniqueProperties"), ap->name)) uniq = true;
            if (!uniq || !ap->value) continue;
            for (size_t j = 0; j < i; j++) {
                dtdl_elem_t *b = p->vals[j].elem;
                dtdl_prop_t *bp = b && !p->vals[j].ref ? dtdl_elem_prop(b, ap->name) : NULL;
                if (b && a->id && b->id && !a->id_generated && !b->id_generated &&
                    strcmp(a->id, b->id) == 0) {
                    /* The same element written twice: its @id is what is wrong. */
                    dtdl_fail(c, "duplicateDefinition", a->id, "@id", a->path,
                              "%s is defined twice in '%s'; @id values must be unique", a->id,
                              p->name);
                    ok = false;
                    break;
                }
                if (bp && bp->value && json_equal(bp->value, ap->value)) {
                    char *txt = json_dumps(ap->value, JSON_ENCODE_ANY);
                    dtdl_fail(c, "nonUniquePropertyValue", e->id, ap->name, a->path,
                              "%s %s is used twice in '%s'; each must be unique", ap->name,
                              txt ? txt : "?", p->name);
                    free(txt);
                    ok = false;
                    break;
                }
            }
        }
    }
    return ok;
}

/* Finds the metamodel property a JSON key denotes in this element's class, via a term or DTMI. */
/* cp/ncp: the class's compiled properties (dtdl_meta_class_props), or NULL to read the JSON. */
static const char *class_prop_for_key(dtdl_elem_t *e, const char *key, json_t **pm_out,
                                      const dtdl_meta_prop_t *cp, size_t ncp,
                                      const dtdl_meta_prop_t **cp_out)
{
    /* Without extensions in scope only the version's context defines terms, so a key that is
     * the name of one of the class's properties, and a term for it, is that property. */
    if (cp && e->scope.ext_count == 0) {
        for (size_t i = 0; i < ncp; i++) {
            if (cp[i].name_is_term && strcmp(cp[i].name, key) == 0) {
                *pm_out = cp[i].meta;
                *cp_out = &cp[i];
                return cp[i].name;
            }
        }
    }
    const char *d = scope_term(&e->scope, key);
    if (!d && strncmp(key, "dtmi:", 5) == 0) d = key;
    if (!d) return NULL;
    if (cp) {
        uint32_t h = dtdl_meta_hash(d);
        for (size_t i = 0; i < ncp; i++) {
            if (cp[i].hash == h && cp[i].dtmi && strcmp(cp[i].dtmi, d) == 0) {
                *pm_out = cp[i].meta;
                *cp_out = &cp[i];
                return cp[i].name;
            }
        }
        return NULL;
    }
    json_t *props = json_object_get(e->cmeta, "props");
    const char *pn;
    json_t *pm;
    json_object_foreach(props, pn, pm)
    {
        const char *pd = json_string_value(json_object_get(pm, "dtmi"));
        if (pd && strcmp(pd, d) == 0) {
            *pm_out = pm;
            return pn;
        }
    }
    return NULL;
}

static json_t *supp_prop_for_key(dtdl_elem_t *e, const char *key, const char **dtmi_out)
{
    const char *d = scope_term(&e->scope, key);
    if (!d && strncmp(key, "dtmi:", 5) == 0) d = key;
    if (!d) return NULL;
    for (size_t i = 0; i < e->supp_count; i++) {
        json_t *sp = json_object_get(json_object_get(e->supp_meta[i], "properties"), d);
        if (sp) {
            *dtmi_out = d;
            return sp;
        }
    }
    return NULL;
}

static bool check_supp_value(dtdl_pctx_t *c, dtdl_elem_t *e, json_t *sp, json_t *v,
                             const char *path)
{
    const char *pname = json_string_value(json_object_get(sp, "propertyName"));
    const char *tname = json_string_value(json_object_get(sp, "typeName"));
    const char *type = json_string_value(json_object_get(sp, "type"));
    if (strcmp(tname, "string") == 0) {
        if (!json_is_string(v)) {
            dtdl_fail(c, "stringTypeNotString", e->id, pname, path,
                      "'%s' is %s; it must be a string", pname, jtype(v));
            return false;
        }
        return true;
    }
    if (strcmp(tname, "IRI") == 0) {
        if (!json_is_string(v)) {
            dtdl_fail(c, "stringTypeNotString", e->id, pname, path,
                      "'%s' is %s; it must be a term or IRI", pname, jtype(v));
            return false;
        }
        return true;
    }
    /* A unit: a term or DTMI naming a member of the semantic type's unit family. */
    const char *family = json_string_value(json_object_get(sp, "childOf"));
    if (!family) family = type;
    if (json_is_array(v) && json_array_size(v) > 1) {
        dtdl_fail(c, "objectMultipleValues", e->id, pname, path,
                  "'%s' has %zu values; it takes one unit of %s", pname, json_array_size(v),
                  family);
        return false;
    }
    if (json_is_array(v) && json_array_size(v) == 1) v = json_array_get(v, 0);
    const char *s = json_string_value(v);
    if (!s) {
        dtdl_fail(c, "incorrectPropertyValue", e->id, pname, path,
                  "'%s' is %s; it must name a unit of %s", pname, jtype(v), family);
        return false;
    }
    const char *d = expand(&e->scope, s);
    json_t *fams = d ? dtdl_meta_unit_families(d) : NULL;
    if (!fams || !str_in(fams, family)) {
        /* The official parser reports the value as not a child of the unit family's enum. */
        dtdl_fail(c, "wrongParent", e->id, pname, path, "'%s' value %s is not a unit of %s", pname,
                  s, family);
        return false;
    }
    return true;
}

/* ---- elements ------------------------------------------------------------------------- */

static const char *gen_id(dtdl_pctx_t *c, dtdl_elem_t *parent, const char *pprop,
                          const char *segment, size_t index)
{
    const char *pid = parent && parent->id ? parent->id : "dtmi:castor:anonymous;1";
    const char *semi = strrchr(pid, ';');
    size_t base = semi ? (size_t)(semi - pid) : strlen(pid);
    char num[24];
    if (!segment) {
        snprintf(num, sizeof num, "%zu", index);
        segment = num;
    }
    const char *tail = semi ? semi : "";
    const char *parts[6] = {pid, ":_", pprop, ":__", segment, tail};
    size_t lens[6] = {base, 2, strlen(pprop), 3, strlen(segment), strlen(tail)};
    return cat_n(c, parts, lens, 6);
}

static void link_elem(dtdl_pctx_t *c, dtdl_elem_t *e)
{
    if (c->last)
        c->last->next = e;
    else
        c->first = e;
    c->last = e;
}

/* The element's @context, if it has one, applied over the scope it inherits: required at the
 * top level, and nested only where the parent property accepts that DTDL version. */
static bool parse_elem_context(dtdl_pctx_t *c, dtdl_elem_t *e, const dtdl_scope_t *outer,
                               const char *raw_id)
{
    json_t *ctx = e->standard ? NULL : json_object_get(e->json, "@context");
    if (!outer) {
        if (!ctx) {
            dtdl_fail(c, "missingContext", raw_id, "@context", e->path,
                      "a top-level element needs @context, e.g. \"dtmi:dtdl:context;3\"");
            return false;
        }
        return apply_context(c, &e->scope, ctx, true, raw_id, e->path, NULL);
    }
    if (!ctx) return true;
    json_t *ppm = e->parent && e->parent_prop
                      ? json_object_get(json_object_get(e->parent->cmeta, "props"), e->parent_prop)
                      : NULL;
    return apply_context(c, &e->scope, ctx, false, raw_id, e->path,
                         json_object_get(ppm, "versions"));
}

/* The element's class: from @type, or, where the property's range has a single concrete
 * class whose @type is optional, that class. */
static bool parse_elem_class(dtdl_pctx_t *c, dtdl_elem_t *e, const char *range, json_t *idv,
                             const char *raw_id)
{
    int ver = e->scope.version;
    json_t *obj = e->json;
    dtdl_elem_t *parent = e->parent;
    const char *pprop = e->parent_prop;
    json_t *tv = json_object_get(obj, "@type");
    /* An @id that is no DTMI at all (a layer's "…;1#foo") is reported before its @type, as
     * the official parser does; the class-dependent @id rules wait for the class. A lone
     * {"@id": …} is a reference written inline (idReference, below). */
    if (json_is_string(idv) && *json_string_value(idv) && json_object_size(obj) > 1 &&
        !dtdl_dtmi_valid(json_string_value(idv), ver)) {
        check_id(c, e, idv, e->path);
        return false;
    }
    if (tv) return parse_types(c, e, tv, range, e->path);
    json_t *conc = json_object_get(dtdl_meta_class(ver, range), "concrete");
    const char *only =
        json_array_size(conc) == 1 ? json_string_value(json_array_get(conc, 0)) : NULL;
    json_t *om = dtdl_meta_class(ver, only);
    if (parent && pprop && json_object_size(obj) == 1 && json_is_string(idv)) {
        /* {"@id": "..."} alone: meant as a reference, written as an inline element. */
        dtdl_fail(c, "idReference", parent->id, pprop, e->path,
                  "'%s' has an inline definition with nothing but @id; give the identifier "
                  "as a string (\"%s\") or a complete inline definition",
                  pprop, json_string_value(idv));
        return false;
    }
    if (!only || !json_is_true(json_object_get(om, "typeOptional"))) {
        dtdl_fail(c, parent ? "badType" : "typeNotRootable", parent ? parent->id : raw_id,
                  parent ? pprop : "@type", e->path,
                  "@type is missing; give the element's class, one of the kinds of %s", range);
        return false;
    }
    e->cls = only;
    e->cmeta = om;
    e->supp = NULL;
    return true;
}

/* The element's @id: checked when given; generated from the parent's when the class lets
 * it be left out. A top-level element must then be of a rootable class. */
static bool parse_elem_id(dtdl_pctx_t *c, dtdl_elem_t *e, json_t *idv)
{
    dtdl_elem_t *parent = e->parent;
    const char *pprop = e->parent_prop;
    if (idv) {
        if (!check_id(c, e, idv, e->path)) return false;
    } else {
        bool req = json_is_true(json_object_get(e->cmeta, "idRequired"));
        size_t i;
        json_t *w;
        json_array_foreach(json_object_get(e->cmeta, "idRequiredWhen"), i, w)
        {
            if (pprop && strcmp(json_string_value(json_object_get(w, "property")), pprop) == 0)
                req = true;
        }
        if (req || !parent) {
            dtdl_fail(c, parent ? "missingRequiredId" : "missingTopLevelId", NULL, "@id", e->path,
                      "this %s needs an @id (a DTMI such as \"dtmi:com:example:Thing;1\")", e->cls);
            return false;
        }
        const char *seg = NULL;
        json_t *nm = json_object_get(e->json, "name");
        if (json_is_string(nm) && is_name_char_ok(json_string_value(nm)))
            seg = json_string_value(nm);
        e->id = gen_id(c, parent, pprop, seg, 0);
        e->id_generated = true;
    }
    if (!parent && !e->standard && !str_in(json_object_get(e->scope.vmeta, "rootable"), e->cls)) {
        dtdl_fail(c, "typeNotRootable", e->id, "@type", e->path,
                  "a top-level element must be an Interface, not a %s", e->cls);
        return false;
    }
    return true;
}

/* A JSON-LD keyword member other than @id, @type and @context: v2 ignores those it does not
 * use, except @graph; v3 rejects them. */
static bool parse_elem_keyword(dtdl_pctx_t *c, dtdl_elem_t *e, const char *key, const char *kpath)
{
    if (strcmp(key, "@graph") != 0 &&
        !json_is_true(json_object_get(e->scope.vmeta, "restrictKeywords")))
        return true;
    dtdl_fail(c, e->parent ? "keywordDisallowed" : "topLevelKeywordDisallowed", e->id, key, kpath,
              "JSON-LD keyword '%s' is not allowed in DTDL", key);
    return false;
}

/* A member that names a property of the element's class (pn, by term or DTMI): recorded and
 * parsed as a literal or as an object property. */
static bool parse_elem_class_prop(dtdl_pctx_t *c, dtdl_elem_t *e, const char *key, json_t *v,
                                  const char *kpath, const char *pn, json_t *pm,
                                  const dtdl_meta_prop_t *mp)
{
    if (!(mp ? mp->allowed : json_is_true(json_object_get(pm, "allowed")))) {
        /* A metamodel property the language sets itself (languageMajorVersion): no @type lets
         * a model give it. */
        dtdl_fail(c, "propertyIrrelevantDtmiOrTerm", e->id, key, kpath,
                  "property '%s' is not allowed on %s in DTDL v%d", pn, e->cls, e->scope.version);
        return false;
    }
    if (dtdl_elem_prop(e, pn)) {
        dtdl_fail(c, "duplicatePropertyName", e->id, pn, kpath,
                  "property '%s' is given twice (as a term and as a DTMI)", pn);
        return false;
    }
    dtdl_prop_t *p = &e->props[e->prop_count++];
    p->name = pn;
    p->meta = pm;
    p->value = v;
    p->written = v;
    p->path = kpath;
    if (mp ? mp->literal : json_is_true(json_object_get(pm, "literal")))
        return parse_literal(c, e, p, kpath);
    return parse_objprop(c, e, p, kpath, e->external);
}

/* A member that names a property of one of the element's co-types (sd: its DTMI). */
static bool parse_elem_supp_prop(dtdl_pctx_t *c, dtdl_elem_t *e, const char *key, json_t *v,
                                 const char *kpath, json_t *sp, const char *sd)
{
    if (!e->supp_props) e->supp_props = json_object();
    if (json_object_get(e->supp_props, sd)) { /* "unit" and its DTMI both given */
        dtdl_fail(c, "duplicatePropertyName", e->id, key, kpath,
                  "co-type property '%s' is given twice (as a term and as a DTMI)", key);
        return false;
    }
    json_object_set(e->supp_props, sd, v);
    return check_supp_value(c, e, sp, v, kpath);
}

/* A member that is no property of the element: the digest's apocrypha say what each version
 * does, and the official error names the key's form: a term or valid DTMI that no @type
 * allows, an invalid DTMI, an IRI that is no DTMI, or an undefined term. */
static bool parse_elem_unknown_member(dtdl_pctx_t *c, dtdl_elem_t *e, const char *key,
                                      const char *kpath)
{
    const char *d = scope_term(&e->scope, key);
    const char *kind, *vid;
    if (d || (strncmp(key, "dtmi:", 5) == 0 && dtdl_dtmi_valid(key, 3))) {
        kind = "irrelevantDtmiOrTermAsProperty";
        vid = "propertyIrrelevantDtmiOrTerm";
    } else if (strncmp(key, "dtmi:", 5) == 0) {
        kind = "invalidDtmiAsProperty";
        vid = "propertyInvalidDtmi";
    } else if (strchr(key, ':')) {
        kind = "notDtmiNorTermAsProperty";
        vid = "propertyNotDtmiNorTerm";
    } else {
        kind = "undefinedTermAsProperty";
        vid = "propertyUndefinedTerm";
    }
    if (apocrypha_ok(e, kind)) return true;
    dtdl_fail(c, vid, e->id, key, kpath, "'%s' is not a property of %s in DTDL v%d%s", key, e->cls,
              e->scope.version, e->supp_count ? " or of its co-types" : "");
    return false;
}

/* Every member of the element but @id, @type and @context, each by what its key names. */
static bool parse_elem_members(dtdl_pctx_t *c, dtdl_elem_t *e, const dtdl_meta_prop_t *cp,
                               size_t ncp)
{
    bool ok = true;
    const char *key;
    json_t *v;
    json_object_foreach(e->json, key, v)
    {
        if (strcmp(key, "@id") == 0 || strcmp(key, "@type") == 0 || strcmp(key, "@context") == 0)
            continue;
        const char *kpath = cat3(c, e->path, ".", key);
        if (key[0] == '@') {
            ok &= parse_elem_keyword(c, e, key, kpath);
            continue;
        }
        json_t *pm = NULL;
        const dtdl_meta_prop_t *mp = NULL;
        const char *pn = class_prop_for_key(e, key, &pm, cp, ncp, &mp);
        if (pn) {
            ok &= parse_elem_class_prop(c, e, key, v, kpath, pn, pm, mp);
            continue;
        }
        const char *sd = NULL;
        json_t *sp = supp_prop_for_key(e, key, &sd);
        if (sp) {
            ok &= parse_elem_supp_prop(c, e, key, v, kpath, sp, sd);
            continue;
        }
        ok &= parse_elem_unknown_member(c, e, key, kpath);
    }
    return ok;
}

/* Required properties, of the class and of each co-type. The class's compiled table answers
 * without a JSON lookup per property (this runs for every element); the metamodel's JSON is
 * the fallback for a class the table lacks. */
static bool parse_elem_required(dtdl_pctx_t *c, dtdl_elem_t *e, const dtdl_meta_prop_t *cp,
                                size_t ncp)
{
    bool ok = true;
    for (size_t i = 0; cp && i < ncp; i++) {
        if (!cp[i].required || dtdl_elem_prop(e, cp[i].name)) continue;
        dtdl_fail(c, cp[i].literal ? "missingLiteralProperty" : "missingObjectProperty", e->id,
                  cp[i].name, e->path, "%s is missing required property '%s'", e->cls, cp[i].name);
        ok = false;
    }
    const char *pn;
    json_t *pm;
    json_object_foreach(cp ? NULL : json_object_get(e->cmeta, "props"), pn, pm)
    {
        if (!json_is_true(json_object_get(pm, "allowed"))) continue;
        bool required = !json_is_true(json_object_get(pm, "optional"));
        json_t *mc = json_object_get(pm, "minCount");
        if (mc && json_integer_value(mc) > 0) required = true;
        if (required && !dtdl_elem_prop(e, pn)) {
            dtdl_fail(c,
                      json_is_true(json_object_get(pm, "literal")) ? "missingLiteralProperty"
                                                                   : "missingObjectProperty",
                      e->id, pn, e->path, "%s is missing required property '%s'", e->cls, pn);
            ok = false;
        }
    }
    for (size_t i = 0; i < e->supp_count; i++) {
        const char *sd;
        json_t *sp;
        json_object_foreach(json_object_get(e->supp_meta[i], "properties"), sd, sp)
        {
            if (json_is_true(json_object_get(sp, "optional"))) continue;
            if (json_object_get(e->supp_props, sd)) continue;
            const char *st = json_string_value(json_object_get(sp, "type"));
            const char *stn = json_string_value(json_object_get(sp, "typeName"));
            const char *vid = st && strncmp(st, "http://www.w3.org/2001/XMLSchema#", 33) == 0
                                  ? "missingSupplementalLiteralProperty"
                              : stn && strcmp(stn, "IRI") == 0
                                  ? "missingSupplementalIdentifierProperty"
                                  : "missingSupplementalObjectProperty";
            dtdl_fail(c, vid, e->id, json_string_value(json_object_get(sp, "propertyName")),
                      e->path, "co-type '%s' requires property '%s'", e->supp[i],
                      json_string_value(json_object_get(sp, "propertyName")));
            ok = false;
        }
    }
    return ok;
}

/* Parses one element (obj) in the range of its parent property, within the scope outer (NULL
 * at the top level). Errors are reported through c; an element whose context, class or @id is
 * wrong yields NULL, while one with wrong members is still returned (and linked) so that every
 * error in it is reported. */
static dtdl_elem_t *parse_elem(dtdl_pctx_t *c, const dtdl_scope_t *outer, json_t *obj,
                               const char *range, dtdl_elem_t *parent, const char *pprop,
                               const char *path, int doc, bool external)
{
    dtdl_elem_t *e = arena_calloc(&c->arena, 1, sizeof *e);
    if (!e) return NULL;
    e->json = obj;
    e->path = path;
    e->doc = doc;
    e->parent = parent;
    e->parent_prop = pprop;
    e->external = external;
    e->standard = doc == -1; /* -2 marks a stored model loaded through lookup */
    if (outer) e->scope = *outer;
    json_t *idv = json_object_get(obj, "@id");
    const char *raw_id = json_string_value(idv);
    if (!parse_elem_context(c, e, outer, raw_id)) return NULL;
    if (!parse_elem_class(c, e, range, idv, raw_id)) return NULL;
    if (!parse_elem_id(c, e, idv)) return NULL;
    link_elem(c, e);
    size_t nkeys = json_object_size(obj);
    e->props = arena_calloc(&c->arena, nkeys ? nkeys : 1, sizeof *e->props);
    e->supp_props = NULL;
    size_t ncp;
    const dtdl_meta_prop_t *cp = dtdl_meta_class_props(e->scope.version, e->cmeta, e->cls, &ncp);
    bool ok = parse_elem_members(c, e, cp, ncp);
    ok &= parse_elem_required(c, e, cp, ncp);
    for (size_t i = 0; i < e->prop_count; i++)
        if (e->props[i].val_count) /* object properties only: literals have no vals */
            ok &= check_unique(c, e, &e->props[i]);
    if (e->supp_props) json_array_append_new(c->held, e->supp_props);
    (void)ok; /* the errors are in c; the element stands for what was written */
    return e;
}

dtdl_elem_t *dtdl_parse_doc(dtdl_pctx_t *c, json_t *doc, const char *path, int doc_index,
                            bool external)
{
    if (!json_is_object(doc)) {
        dtdl_fail(c, "notAnObject", NULL, NULL, path,
                  "a model must be a JSON object (an Interface), not %s", jtype(doc));
        return NULL;
    }
    /* Any class parses here so that a misplaced one is reported as not rootable. */
    return parse_elem(c, NULL, doc, "Entity", NULL, NULL, path, doc_index, external);
}

/* Predefined elements (schemas such as dtmi:dtdl:instance:Schema:double;2, the geospatial
 * objects, units) are parsed from the digest on first reference, like any other element. */
dtdl_elem_t *dtdl_parse_standard(dtdl_pctx_t *c, int version, const char *dtmi)
{
    json_t *el = json_object_get(json_object_get(dtdl_meta_version(version), "elements"), dtmi);
    int v = version;
    for (int o = 2; !el && o <= 3; o++) {
        el = json_object_get(json_object_get(dtdl_meta_version(o), "elements"), dtmi);
        v = o;
    }
    if (!el) {
        json_t *e3 = dtdl_meta_extension("dtmi:dtdl:extension:quantitativeTypes;1");
        el = json_object_get(json_object_get(e3, "elements"), dtmi);
        v = 3;
    }
    if (!el) return NULL;
    dtdl_scope_t s = {.version = v, .vmeta = dtdl_meta_version(v)};
    json_t *ctx = json_object_get(el, "@context");
    size_t i;
    json_t *x;
    json_array_foreach(ctx, i, x)
    {
        json_t *ext = dtdl_meta_extension(json_string_value(x));
        if (ext && s.ext_count < DTDL_SCOPE_EXT_MAX) s.ext[s.ext_count++] = ext;
    }
    json_t *tv = json_object_get(el, "@type");
    const char *t0 =
        json_is_array(tv) ? json_string_value(json_array_get(tv, 0)) : json_string_value(tv);
    const char *cls =
        t0 ? dtdl_meta_class_by_dtmi(v, scope_term(&s, t0) ? scope_term(&s, t0) : "") : NULL;
    if (!cls) {
        /* Units are instances of unit classes (supplemental); treat them as opaque Entities. */
        dtdl_elem_t *u = arena_calloc(&c->arena, 1, sizeof *u);
        u->id = dtmi;
        u->standard = true;
        u->cls = "Unit";
        u->scope = s;
        u->json = el;
        u->path = dtmi;
        link_elem(c, u);
        dtdl_id_put(c, dtmi, u);
        return u;
    }
    /* A standard element is parsed in the range of its own class, quietly trusted. */
    dtdl_elem_t *mark = c->last;
    c->quiet++;
    dtdl_elem_t *e = parse_elem(c, &s, el, cls, NULL, NULL, dtmi, -1, false);
    c->quiet--;
    for (dtdl_elem_t *w = mark ? mark->next : c->first; w; w = w->next) {
        w->standard = true;
        if (!w->id_generated) dtdl_id_put(c, w->id, w);
    }
    return e;
}
