/* query_cache.c — compiled queries kept by their text (see query_cache.h).
 *
 * An entry is one malloc'd block: a query_compiled_t followed by the arrays and strings it
 * points to, every pointer aimed inside the block. A hit memcpy's the block into the caller's
 * arena and moves each pointer by the distance between the two copies. */
#include "query/query_cache.h"

#include <stdlib.h>
#include <string.h>

#define ALIGN16(n) (((n) + 15u) & ~(size_t)15u)

static uint64_t key_hash(const char *text, size_t len, const query_dialect_t *d, bool paged)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)text[i];
        h *= 1099511628211ull;
    }
    h ^= (uint64_t)(uintptr_t)d;
    h *= 1099511628211ull;
    h ^= paged ? 0x9e3779b97f4a7c15ull : 0;
    return h ? h : 1;
}

/* ---- flattening ---- */

typedef struct flat {
    char *base, *w;
} flat_t;

static size_t str_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static const char *put_str(flat_t *f, const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    memcpy(f->w, s, n);
    const char *out = f->w;
    f->w += n;
    return out;
}

/* Whether a parameter's string is the query's (kept) or the request's (set by bind). */
static bool keeps_text(const query_param_t *p)
{
    return p->kind == QUERY_PARAM_TEXT && p->src == QUERY_SRC_LITERAL;
}

/* A malloc'd flat copy of c (request values dropped), or NULL when out of memory. */
static void *flatten(const query_compiled_t *c, size_t *len)
{
    const query_sql_t *s = &c->sql;
    size_t n = ALIGN16(sizeof *c) + ALIGN16(s->nparams * sizeof *s->params) +
               ALIGN16(s->nouts * sizeof *s->out_keys) + c->text_len + 1 + str_size(s->sql);
    for (size_t i = 0; i < s->nparams; i++)
        if (keeps_text(&s->params[i])) n += str_size(s->params[i].s);
    for (size_t i = 0; i < s->nouts; i++) n += str_size(s->out_keys[i]);
    flat_t f = {.base = malloc(n)};
    if (!f.base) return NULL;
    query_compiled_t *o = (query_compiled_t *)f.base;
    *o = *c;
    f.w = f.base + ALIGN16(sizeof *c);
    o->sql.params = (query_param_t *)f.w;
    f.w += ALIGN16(s->nparams * sizeof *s->params);
    o->sql.out_keys = (const char **)f.w;
    f.w += ALIGN16(s->nouts * sizeof *s->out_keys);
    char *text = f.w;
    memcpy(text, c->text, c->text_len);
    text[c->text_len] = 0;
    o->text = text;
    f.w += c->text_len + 1;
    o->sql.sql = put_str(&f, s->sql);
    for (size_t i = 0; i < s->nparams; i++) {
        query_param_t p = s->params[i];
        p.s = keeps_text(&p) ? put_str(&f, p.s) : NULL;
        o->sql.params[i] = p;
    }
    for (size_t i = 0; i < s->nouts; i++) o->sql.out_keys[i] = put_str(&f, s->out_keys[i]);
    *len = n;
    return f.base;
}

#define MOVE(p, from, to) ((p) ? (void *)((char *)(to) + ((const char *)(p) - (const char *)(from))) : NULL)

/* Copies a flat entry into a and aims its pointers at the copy. */
static int unflatten(arena_t *a, const void *blob, size_t len, query_compiled_t *out)
{
    char *copy = arena_alloc(a, len);
    if (!copy) return -1;
    memcpy(copy, blob, len);
    query_compiled_t *c = (query_compiled_t *)copy;
    c->text = MOVE(c->text, blob, copy);
    c->sql.sql = MOVE(c->sql.sql, blob, copy);
    c->sql.params = MOVE(c->sql.params, blob, copy);
    c->sql.out_keys = MOVE(c->sql.out_keys, blob, copy);
    for (size_t i = 0; i < c->sql.nparams; i++)
        c->sql.params[i].s = MOVE(c->sql.params[i].s, blob, copy);
    for (size_t i = 0; i < c->sql.nouts; i++)
        c->sql.out_keys[i] = MOVE(c->sql.out_keys[i], blob, copy);
    *out = *c;
    return 0;
}

/* ---- compiling ---- */

static int compile(arena_t *a, const char *text, size_t len, const query_dialect_t *d,
                   bool paged, query_compiled_t *out, castor_err *err)
{
    query_t *q;
    int rc = query_prepare(a, text, len, &q, err);
    if (rc < 0) return rc;
    size_t nkeys = query_sql_nkeys(q);
    /* Placeholder request values: query_sql_bind sets the real ones. */
    int64_t *after = paged ? arena_calloc(a, nkeys ? nkeys : 1, sizeof *after) : NULL;
    if (paged && !after) return castor_err_set(err, CASTOR_ELIMIT, "query too large to compile");
    query_sql_in_t in = {.instance = "", .instance_key = "", .after = after, .nafter = nkeys};
    memset(out, 0, sizeof *out);
    if ((rc = query_compile(a, q, d, &in, &out->sql, err)) < 0) return rc;
    out->top = q->top;
    out->nkeys = nkeys;
    out->text = text;
    out->text_len = len;
    out->paged = paged;
    out->dialect = d;
    return CASTOR_OK;
}

static query_cache_slot_t *find(query_cache_t *qc, uint64_t h, const char *text, size_t len,
                                const query_dialect_t *d, bool paged)
{
    for (size_t i = 0; i < QUERY_CACHE_SLOTS; i++) {
        query_cache_slot_t *s = &qc->slot[i];
        if (!s->used || s->hash != h) continue;
        const query_compiled_t *c = s->blob;
        if (c->text_len == len && c->dialect == d && c->paged == paged &&
            memcmp(c->text, text, len) == 0)
            return s;
    }
    return NULL;
}

int query_cache_compile(query_cache_t *qc, arena_t *a, const char *text, size_t len,
                        const query_dialect_t *d, bool paged, query_compiled_t *out,
                        castor_err *err)
{
    if (!qc || len > QUERY_CACHE_TEXT_MAX) return compile(a, text, len, d, paged, out, err);
    uint64_t h = key_hash(text, len, d, paged);
    pthread_mutex_lock(&qc->lock);
    query_cache_slot_t *s = find(qc, h, text, len, d, paged);
    if (s) {
        s->used = ++qc->clock;
        qc->hits++;
        int rc = unflatten(a, s->blob, s->len, out);
        pthread_mutex_unlock(&qc->lock);
        return rc == 0 ? CASTOR_OK
                       : castor_err_set(err, CASTOR_ELIMIT, "query too large to compile");
    }
    qc->misses++;
    pthread_mutex_unlock(&qc->lock);
    /* Compiled outside the lock: two threads may compile the same text; the second keeps its
     * copy only if the first has not (find again below). Errors are not cached: a bad query
     * costs its caller the parse, as it should. */
    int rc = compile(a, text, len, d, paged, out, err);
    if (rc < 0) return rc;
    size_t blen = 0;
    void *blob = flatten(out, &blen);
    if (!blob) return CASTOR_OK; /* not kept; the compiled form is still good */
    pthread_mutex_lock(&qc->lock);
    if (find(qc, h, text, len, d, paged)) {
        pthread_mutex_unlock(&qc->lock);
        free(blob);
        return CASTOR_OK;
    }
    query_cache_slot_t *victim = &qc->slot[0];
    for (size_t i = 0; i < QUERY_CACHE_SLOTS && victim->used; i++)
        if (qc->slot[i].used < victim->used) victim = &qc->slot[i];
    void *old = victim->blob;
    *victim = (query_cache_slot_t){.hash = h, .used = ++qc->clock, .blob = blob, .len = blen};
    pthread_mutex_unlock(&qc->lock);
    free(old);
    return CASTOR_OK;
}

void query_cache_clear(query_cache_t *qc)
{
    pthread_mutex_lock(&qc->lock);
    for (size_t i = 0; i < QUERY_CACHE_SLOTS; i++) {
        free(qc->slot[i].blob);
        qc->slot[i] = (query_cache_slot_t){0};
    }
    pthread_mutex_unlock(&qc->lock);
}
