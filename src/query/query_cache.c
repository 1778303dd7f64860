/* query_cache.c — compiled queries kept by their shape (see query_cache.h).
 *
 * An entry is one malloc'd block: a query_compiled_t followed by the arrays and strings it
 * points to, every pointer aimed inside the block. A hit memcpy's the block into the caller's
 * arena and moves each pointer by the distance between the two copies.
 *
 * The key is the text's tokens with every string and number token replaced by its kind (the
 * shape): `... $dtId = 'a'` and `... $dtId = 'b'` share an entry. The compiler tags each
 * parameter it made from such a token (QUERY_SRC_TEXT, by the token's offset, which the entry
 * turns into the token's ordinal), and a hit binds those from the request's own tokens. A
 * literal token that no parameter names (TOP(n), a hop count) shaped the SQL: the entry keeps
 * its text and a hit needs the same. */
#include "query/query_cache.h"

#include "query/query_int.h"

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

/* Whether a parameter's string is the compiler's (kept) or the request's (set by bind). */
static bool keeps_text(const query_param_t *p)
{
    return p->kind == QUERY_PARAM_TEXT && p->src == QUERY_SRC_LITERAL;
}

/* ---- shapes ---- */

typedef struct shape {
    query_tok_t *toks;
    size_t ntok;
    char *key; /* the tokens, literals as their kind, each followed by \x1f */
    size_t len;
} shape_t;

static bool is_lit(const query_tok_t *t)
{
    return t->kind == QTOK_STRING || t->kind == QTOK_NUMBER;
}

/* Lexes text into its shape (in a); the lexer's error when it does not lex. */
static int shape_of(arena_t *a, const char *text, size_t len, shape_t *sh, castor_err *err)
{
    int rc = query_lex(a, text, len, &sh->toks, &sh->ntok, err);
    if (rc < 0) return rc;
    size_t n = 0;
    for (size_t i = 0; i < sh->ntok; i++)
        n += (is_lit(&sh->toks[i]) ? 2 : sh->toks[i].len) + 1;
    char *k = arena_alloc(a, n + 1), *w = k;
    if (!k) return castor_err_set(err, CASTOR_ELIMIT, "query too large to compile");
    for (size_t i = 0; i < sh->ntok; i++) {
        const query_tok_t *t = &sh->toks[i];
        if (is_lit(t)) {
            *w++ = '\x1e';
            *w++ = t->kind == QTOK_STRING ? 's' : t->value.kind == QUERY_VALUE_INT ? 'i' : 'd';
        } else {
            memcpy(w, text + t->pos, t->len);
            w += t->len;
        }
        *w++ = '\x1f';
    }
    *w = 0;
    sh->key = k;
    sh->len = n;
    return CASTOR_OK;
}

/* The literal token i of the request as a value, sign applied as the entry's parameter says. */
static query_value_t token_value(const shape_t *sh, size_t i, bool neg)
{
    const query_tok_t *t = &sh->toks[i];
    query_value_t v = {.kind = QUERY_VALUE_STRING, .s = t->text, .len = t->text_len};
    if (t->kind == QTOK_NUMBER) {
        v = t->value;
        if (neg && v.kind == QUERY_VALUE_INT) v.i = -v.i;
        if (neg && v.kind == QUERY_VALUE_DOUBLE) v.d = -v.d;
    }
    return v;
}

/* Binds the entry's literal parameters from the request's tokens; -1 when a literal breaks a
 * content rule (the caller compiles in full, which reports it). */
static int bind_literals(arena_t *a, query_compiled_t *c, const shape_t *sh)
{
    for (size_t i = 0; i < c->sql.nparams; i++) {
        query_param_t *p = &c->sql.params[i];
        if (p->src != QUERY_SRC_TEXT) continue;
        if (p->index >= sh->ntok || !is_lit(&sh->toks[p->index])) return -1;
        query_value_t v = token_value(sh, p->index, p->neg);
        if (query_sql_bind_literal(a, p, &v) < 0) return -1;
    }
    return 0;
}

/* Whether the literal tokens that shaped the SQL (c->fixed) read the same in sh. */
static bool fixed_match(const query_compiled_t *c, const shape_t *sh, const char *text)
{
    const char *f = c->fixed;
    for (size_t i = 0; i < c->nfixed; i++) {
        uint32_t ord;
        memcpy(&ord, f, sizeof ord);
        f += sizeof ord;
        size_t n = strlen(f);
        if (ord >= sh->ntok || sh->toks[ord].len != n ||
            memcmp(text + sh->toks[ord].pos, f, n) != 0)
            return false;
        f += n + 1;
    }
    return true;
}

/* Turns the compiled form's token offsets into ordinals and lists the literal tokens no
 * parameter names (into a); -1 when a parameter names no literal token (not kept). */
static int plan_entry(arena_t *a, query_compiled_t *c, const shape_t *sh, const char *text)
{
    bool *named = arena_calloc(a, sh->ntok ? sh->ntok : 1, sizeof *named);
    if (!named) return -1;
    for (size_t i = 0; i < c->sql.nparams; i++) {
        query_param_t *p = &c->sql.params[i];
        if (p->src != QUERY_SRC_TEXT) continue;
        size_t lo = 0, hi = sh->ntok;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (sh->toks[mid].pos < p->index)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo >= sh->ntok || sh->toks[lo].pos != p->index || !is_lit(&sh->toks[lo])) return -1;
        p->index = (uint32_t)lo;
        named[lo] = true;
    }
    size_t n = 0;
    for (size_t i = 0; i < sh->ntok; i++)
        if (is_lit(&sh->toks[i]) && !named[i]) n += sizeof(uint32_t) + sh->toks[i].len + 1;
    char *f = arena_alloc(a, n + 1), *w = f;
    if (!f) return -1;
    c->nfixed = 0;
    for (size_t i = 0; i < sh->ntok; i++) {
        if (!is_lit(&sh->toks[i]) || named[i]) continue;
        uint32_t ord = (uint32_t)i;
        memcpy(w, &ord, sizeof ord);
        w += sizeof ord;
        memcpy(w, text + sh->toks[i].pos, sh->toks[i].len);
        w += sh->toks[i].len;
        *w++ = 0;
        c->nfixed++;
    }
    c->fixed = f;
    c->fixed_len = n;
    return 0;
}

/* A malloc'd flat copy of c (request values dropped), or NULL when out of memory. */
static void *flatten(const query_compiled_t *c, size_t *len)
{
    const query_sql_t *s = &c->sql;
    size_t n = ALIGN16(sizeof *c) + ALIGN16(s->nparams * sizeof *s->params) +
               ALIGN16(s->nouts * sizeof *s->out_keys) + c->text_len + 1 + c->fixed_len + 1 +
               str_size(s->sql);
    for (size_t i = 0; i < s->nparams; i++)
        if (keeps_text(&s->params[i])) n += str_size(s->params[i].s);
    for (size_t i = 0; i < s->nouts; i++)
        n += str_size(s->out_keys[i]);
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
    char *fixed = f.w;
    if (c->fixed_len) memcpy(fixed, c->fixed, c->fixed_len);
    fixed[c->fixed_len] = 0;
    o->fixed = fixed;
    f.w += c->fixed_len + 1;
    o->sql.sql = put_str(&f, s->sql);
    for (size_t i = 0; i < s->nparams; i++) {
        query_param_t p = s->params[i];
        p.s = keeps_text(&p) ? put_str(&f, p.s) : NULL;
        o->sql.params[i] = p;
    }
    for (size_t i = 0; i < s->nouts; i++)
        o->sql.out_keys[i] = put_str(&f, s->out_keys[i]);
    *len = n;
    return f.base;
}

#define MOVE(p, from, to)                                                                          \
    ((p) ? (void *)((char *)(to) + ((const char *)(p) - (const char *)(from))) : NULL)

/* Copies a flat entry into a and aims its pointers at the copy. */
static int unflatten(arena_t *a, const void *blob, size_t len, query_compiled_t *out)
{
    char *copy = arena_alloc(a, len);
    if (!copy) return -1;
    memcpy(copy, blob, len);
    query_compiled_t *c = (query_compiled_t *)copy;
    c->text = MOVE(c->text, blob, copy);
    c->fixed = MOVE(c->fixed, blob, copy);
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

static int compile(arena_t *a, const char *text, size_t len, const query_dialect_t *d, bool paged,
                   query_compiled_t *out, castor_err *err)
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

/* The entry for sh (of text); fixed: also the literal tokens that shaped its SQL. */
static query_cache_slot_t *find(query_cache_t *qc, uint64_t h, const shape_t *sh, const char *text,
                                const query_dialect_t *d, bool paged)
{
    for (size_t i = 0; i < QUERY_CACHE_SLOTS; i++) {
        query_cache_slot_t *s = &qc->slot[i];
        if (!s->used || s->hash != h) continue;
        const query_compiled_t *c = s->blob;
        if (c->text_len == sh->len && c->dialect == d && c->paged == paged &&
            memcmp(c->text, sh->key, sh->len) == 0 && fixed_match(c, sh, text))
            return s;
    }
    return NULL;
}

int query_cache_compile(query_cache_t *qc, arena_t *a, const char *text, size_t len,
                        const query_dialect_t *d, bool paged, query_compiled_t *out,
                        castor_err *err)
{
    if (!qc || len > QUERY_CACHE_TEXT_MAX) return compile(a, text, len, d, paged, out, err);
    shape_t sh;
    int rc = shape_of(a, text, len, &sh, err);
    if (rc < 0) return rc;
    uint64_t h = key_hash(sh.key, sh.len, d, paged);
    pthread_mutex_lock(&qc->lock);
    query_cache_slot_t *s = find(qc, h, &sh, text, d, paged);
    if (s) {
        s->used = ++qc->clock;
        qc->hits++;
        rc = unflatten(a, s->blob, s->len, out);
        pthread_mutex_unlock(&qc->lock);
        if (rc < 0) return castor_err_set(err, CASTOR_ELIMIT, "query too large to compile");
        /* A literal the checker would refuse: the full front end says why, with the position. */
        if (bind_literals(a, out, &sh) == 0) {
            out->text = text;
            out->text_len = len;
            return CASTOR_OK;
        }
        return compile(a, text, len, d, paged, out, err);
    }
    qc->misses++;
    pthread_mutex_unlock(&qc->lock);
    /* Compiled outside the lock: two threads may compile the same shape; the second keeps its
     * copy only if the first has not (find again below). Errors are not cached: a bad query
     * costs its caller the parse, as it should. */
    if ((rc = compile(a, text, len, d, paged, out, err)) < 0) return rc;
    /* The entry is the compiled form keyed by shape; the caller keeps its own (same values). */
    query_compiled_t e = *out;
    e.sql.params = arena_alloc(a, (out->sql.nparams ? out->sql.nparams : 1) * sizeof *e.sql.params);
    if (!e.sql.params) return CASTOR_OK;
    memcpy(e.sql.params, out->sql.params, out->sql.nparams * sizeof *e.sql.params);
    if (plan_entry(a, &e, &sh, text) < 0) return CASTOR_OK; /* not kept */
    e.text = sh.key;
    e.text_len = sh.len;
    size_t blen = 0;
    void *blob = flatten(&e, &blen);
    if (!blob) return CASTOR_OK; /* not kept; the compiled form is still good */
    pthread_mutex_lock(&qc->lock);
    if (find(qc, h, &sh, text, d, paged)) {
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
