/* query_sql.c — the compiler from a checked query to SQL (see query_sql.h for the semantics).
 *
 * The statement is assembled from pieces (WITH, select list, FROM, WHERE) written into
 * bounded buffers; placeholders are numbered (?N), so a value can be bound once and named in
 * several places, and pieces can be written in any order. */
#include "query/query_sql.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the SQLite dialect ---- */

/* $."a"."b": quoted labels take any character but '"', which SQLite cannot escape. */
static const char *sqlite_path(arena_t *a, const char *const *segs, size_t n)
{
    size_t len = 2;
    for (size_t i = 0; i < n; i++) {
        if (strchr(segs[i], '"')) return NULL;
        len += strlen(segs[i]) + 3;
    }
    char *p = arena_alloc(a, len);
    if (!p) return NULL;
    char *w = p;
    *w++ = '$';
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(segs[i]);
        *w++ = '.';
        *w++ = '"';
        memcpy(w, segs[i], l);
        w += l;
        *w++ = '"';
    }
    *w = 0;
    return p;
}

const query_dialect_t query_dialect_sqlite = {
    .name = "sqlite",
    .rowid = "rowid",
    .param = "?%u",
    .json_type = "json_type(%s, %s)",
    .json_value = "json_extract(%s, %s)",
    .json_text = "(%s -> %s)",
    .json_quote = "json_quote(%s)",
    .json_each = "EXISTS (SELECT 1 FROM json_each(%s, %s) e WHERE %s)",
    .prefix_hi = "(%s || x'ff')",
    .t_text = "'text'",
    .t_number_list = "'integer','real'",
    .t_bool_list = "'true','false'",
    .t_true = "'true'",
    .t_false = "'false'",
    .t_null = "'null'",
    .t_object = "'object'",
    .t_array = "'array'",
    .t_primitive_list = "'text','integer','real','true','false','null'",
    .path = sqlite_path,
    .instr = "instr(%s, %s)",
    .substr_from = "substr(%s, %s)",
    .int_cast = "CAST(%s AS INTEGER)",
    .join_on = "CROSS JOIN",
    .atom_num = "e.atom",
};

/* ---- the PostgreSQL dialect ---- */

/* {"a","b"}: a text[] literal, each label quoted with '"' and '\\' escaped. */
static const char *pg_path(arena_t *a, const char *const *segs, size_t n)
{
    size_t len = 3;
    for (size_t i = 0; i < n; i++)
        len += strlen(segs[i]) * 2 + 3;
    char *p = arena_alloc(a, len);
    if (!p) return NULL;
    char *w = p;
    *w++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i) *w++ = ',';
        *w++ = '"';
        for (const char *s = segs[i]; *s; s++) {
            if (*s == '"' || *s == '\\') *w++ = '\\';
            *w++ = *s;
        }
        *w++ = '"';
    }
    *w++ = '}';
    *w = 0;
    return p;
}

/* Documents are stored as text and read as json (not jsonb), so a value's JSON text is the
 * stored text; castor_jtype (pg_migrations.c) names types as the SQLite dialect compares them:
 * 'true'/'false' apart, so ordering booleans by type name orders false before true. Text
 * compares byte by byte (COLLATE "C"), as SQLite's BINARY. */
const query_dialect_t query_dialect_pg = {
    .name = "postgres",
    .rowid = "rowid",
    .param = "$%u",
    .json_type = "castor_jtype(%s::json #> CAST(%s AS text[]))",
    .json_value = "(%s::json #>> CAST(%s AS text[]))",
    .json_text = "((%s::json #> CAST(%s AS text[]))::text)",
    .json_quote = "(to_json(CAST(%s AS text))::text)",
    .json_each = "EXISTS (SELECT 1 FROM json_array_elements(%s::json #> CAST(%s AS text[])) x(v) "
                 "CROSS JOIN LATERAL (SELECT castor_jtype(x.v) AS type, (x.v #>> '{}') COLLATE "
                 "\"C\" AS atom, CASE WHEN json_typeof(x.v) = 'number' THEN (x.v #>> "
                 "'{}')::numeric END AS num) e WHERE %s)",
    .prefix_hi = "(%s || chr(1114111))",
    .t_text = "'string'",
    .t_number_list = "'number'",
    .t_bool_list = "'true','false'",
    .t_true = "'true'",
    .t_false = "'false'",
    .t_null = "'null'",
    .t_object = "'object'",
    .t_array = "'array'",
    .t_primitive_list = "'string','number','true','false','null'",
    .path = pg_path,
    .typed = true,
    .json_str = "((%s::json #>> CAST(%s AS text[])) COLLATE \"C\")",
    .json_num = "((%s::json #>> CAST(%s AS text[]))::numeric)",
    .param_text = "$%u::text",
    .param_int = "$%u::bigint",
    .param_real = "$%u::float8",
    .instr = "strpos(%s, %s)",
    .substr_from = "substr(%s, CAST(%s AS int))",
    .int_cast = "CAST(substring(%s from '^[0-9]+') AS bigint)",
    .join_on = "JOIN",
    .atom_num = "e.num",
};

const query_dialect_t *query_dialect_for(const char *engine)
{
    return engine && strcmp(engine, "postgres") == 0 ? &query_dialect_pg : &query_dialect_sqlite;
}

/* ---- buffers ---- */

typedef struct sb {
    char *s;
    size_t len, cap;
} sb_t;

typedef struct comp {
    arena_t *a;
    const query_t *q;
    const query_dialect_t *d;
    const query_sql_in_t *in;
    castor_err *err;
    int failed;
    query_param_t *params;
    size_t nparams, pcap;
    unsigned p_inst, p_key; /* placeholders of the instance GUID and the models' key */
    const char **tab;       /* per collection: its table alias in the current scope, or NULL */
    bool counted;           /* COUNT answered from the per-model counts (count_by_model) */
    bool *used;             /* per collection: named by the outputs (col_of) */
    bool *carried;          /* per twin collection: its id carried out of the key rows (col_of) */
    sb_t with, sel, from, where;
} comp_t;

static void sb_vadd(comp_t *c, sb_t *b, const char *fmt, va_list ap)
{
    if (c->failed) return;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || b->len + (size_t)n + 1 > QUERY_SQL_MAX) {
        c->failed = castor_err_set(c->err, CASTOR_ELIMIT,
                                   "the query compiles to more than %u bytes of SQL; simplify it",
                                   QUERY_SQL_MAX);
        return;
    }
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            c->failed = castor_err_set(c->err, CASTOR_ENOMEM, "out of memory compiling a query");
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    b->len += (size_t)n;
}

static void add(comp_t *c, sb_t *b, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(comp_t *c, sb_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vadd(c, b, fmt, ap);
    va_end(ap);
}

static void sb_free(sb_t *b)
{
    free(b->s);
    b->s = NULL;
}

/* Appends a dialect format (its arguments are SQL fragments). */
static void addf(comp_t *c, sb_t *b, const char *dfmt, const char *a1, const char *a2,
                 const char *a3)
{
    if (c->failed) return;
        /* The dialect's formats are the compiler's own constants with only %s conversions. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    int n = snprintf(NULL, 0, dfmt, a1, a2, a3);
    char *tmp = arena_alloc(c->a, (size_t)n + 1);
    if (!tmp) {
        c->failed = castor_err_set(c->err, CASTOR_ELIMIT, "query too large to compile");
        return;
    }
    snprintf(tmp, (size_t)n + 1, dfmt, a1, a2, a3);
#pragma GCC diagnostic pop
    add(c, b, "%s", tmp);
}

static unsigned param(comp_t *c, query_param_t p)
{
    if (c->failed) return 0;
    if (c->nparams == c->pcap) {
        size_t cap = c->pcap ? c->pcap * 2 : 16;
        query_param_t *np = realloc(c->params, cap * sizeof *np);
        if (!np) {
            c->failed = castor_err_set(c->err, CASTOR_ENOMEM, "out of memory compiling a query");
            return 0;
        }
        c->params = np;
        c->pcap = cap;
    }
    c->params[c->nparams++] = p;
    return (unsigned)c->nparams;
}

static unsigned p_text(comp_t *c, const char *s)
{
    return param(c, (query_param_t){.kind = QUERY_PARAM_TEXT, .s = s});
}

static unsigned p_int(comp_t *c, int64_t i)
{
    return param(c, (query_param_t){.kind = QUERY_PARAM_INT, .i = i});
}

/* A value of the request rather than of the query text (see query_sql_bind). */
static unsigned p_req(comp_t *c, query_param_t p, query_param_src_t src, uint32_t index)
{
    p.src = src;
    p.index = index;
    return param(c, p);
}

/* The placeholder format of parameter n: typed dialects name its type. Derived model-version
 * numbers are integers even when a model id without a version leaves them NULL. */
static const char *ph_format(comp_t *c, unsigned n)
{
    const query_dialect_t *d = c->d;
    if (!d->typed || n < 1 || n > c->nparams) return d->param;
    const query_param_t *p = &c->params[n - 1];
    if (p->src == QUERY_SRC_TEXT &&
        (p->derive == QUERY_DERIVE_MODEL_VPOS || p->derive == QUERY_DERIVE_MODEL_VER))
        return d->param_int;
    switch (p->kind) {
    case QUERY_PARAM_INT:
        return d->param_int;
    case QUERY_PARAM_DOUBLE:
        return d->param_real;
    default:
        return d->param_text;
    }
}

/* A placeholder's text ("?3"), in the arena. */
static const char *ph(comp_t *c, unsigned n)
{
    char buf[32];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(buf, sizeof buf, ph_format(c, n), n);
#pragma GCC diagnostic pop
    const char *s = arena_strdup(c->a, buf);
    if (!s && !c->failed)
        c->failed = castor_err_set(c->err, CASTOR_ELIMIT, "query too large to compile");
    return s ? s : "";
}

/* The placeholder of a literal derived as `derive` says (query_sql_bind_literal). */
static const char *text_ph(comp_t *c, const query_value_t *v, query_param_derive_t derive)
{
    query_param_t p = {
        .src = QUERY_SRC_TEXT, .derive = derive, .neg = v->neg, .index = (uint32_t)v->tok_pos};
    if (query_sql_bind_literal(c->a, &p, v) < 0 && !c->failed)
        c->failed = castor_err_set(c->err, CASTOR_EINTERNAL, "a checked literal failed its check");
    return ph(c, param(c, p));
}

static const char *value_ph(comp_t *c, const query_value_t *v)
{
    if (v->from_text) return text_ph(c, v, QUERY_DERIVE_NONE);
    switch (v->kind) {
    case QUERY_VALUE_INT:
        return ph(c, p_int(c, v->i));
    case QUERY_VALUE_DOUBLE:
        return ph(c, param(c, (query_param_t){.kind = QUERY_PARAM_DOUBLE, .d = v->d}));
    case QUERY_VALUE_STRING:
        return ph(c, p_text(c, v->s));
    case QUERY_VALUE_BOOL:
        return ph(c, p_text(c, v->b ? "true" : "false"));
    default:
        return ph(c, param(c, (query_param_t){.kind = QUERY_PARAM_NULL}));
    }
}

static int fail_at(comp_t *c, size_t pos, const char *what)
{
    char m[512];
    snprintf(m, sizeof m, "Semantic error at position %zu: %s", pos + 1, what);
    c->failed = castor_err_http(c->err, CASTOR_EINVAL, 400, "SqlQueryError", "%s", m);
    castor_err_at(c->err, "$.query");
    return c->failed;
}

/* ---- operands ---- */

typedef enum opnd_kind { OP_COL, OP_JSON, OP_LIT, OP_UNDEF } opnd_kind_t;

typedef struct opnd {
    opnd_kind_t kind;
    const char *col;  /* OP_COL: an SQL text expression that is always defined */
    const char *doc;  /* OP_JSON: the document column */
    const char *path; /* OP_JSON: the path's placeholder */
    const query_value_t *lit;
} opnd_t;

static const char *col_of(comp_t *c, int coll, const char *name)
{
    /* A MATCH output's twin id comes with its key row (q.i<coll>): the walk found the twin in
     * the (instance_id, id) index, so no table read is needed for it (assemble). */
    if (c->carried && coll >= 0 && c->q->collections[coll].kind == QUERY_COLL_TWIN &&
        strcmp(name, "id") == 0) {
        c->carried[coll] = true;
        return arena_sprintf(c->a, "q.i%d", coll);
    }
    if (c->used && coll >= 0) c->used[coll] = true;
    return arena_sprintf(c->a, "%s.%s", c->tab[coll], name);
}

/* The store's own columns for ADT's system properties; NULL for anything in the document. */
static const char *system_column(const query_t *q, const query_path_t *p)
{
    size_t n = p->nsegs - p->first;
    const char *const *s = p->segs + p->first;
    if (q->collections[p->collection].kind == QUERY_COLL_TWIN) {
        if (n == 1 && strcmp(s[0], "$dtId") == 0) return "id";
        if (n == 1 && strcmp(s[0], "$etag") == 0) return "etag";
        if (n == 2 && strcmp(s[0], "$metadata") == 0 && strcmp(s[1], "$model") == 0)
            return "model_id";
        return NULL;
    }
    if (n != 1) return NULL;
    static const char *const map[][2] = {{"$relationshipId", "id"},
                                         {"$sourceId", "source_id"},
                                         {"$targetId", "target_id"},
                                         {"$relationshipName", "name"},
                                         {"$etag", "etag"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(s[0], map[i][0]) == 0) return map[i][1];
    return NULL;
}

static opnd_t operand_path(comp_t *c, const query_path_t *p)
{
    opnd_t o = {.kind = OP_UNDEF};
    const char *sys = system_column(c->q, p);
    if (sys) {
        o.kind = OP_COL;
        o.col = col_of(c, p->collection, sys);
        return o;
    }
    const char *path = c->d->path(c->a, p->segs + p->first, p->nsegs - p->first);
    if (!path) return o;
    o.kind = OP_JSON;
    o.doc = col_of(c, p->collection, "doc");
    o.path = ph(c, p_text(c, path));
    return o;
}

static opnd_t operand(comp_t *c, const query_operand_t *qo)
{
    if (qo->kind == QUERY_OPERAND_PATH) return operand_path(c, &qo->path);
    return (opnd_t){.kind = OP_LIT, .lit = &qo->value};
}

/* The operand's JSON type name as SQL (NULL when missing). */
static void emit_type(comp_t *c, sb_t *b, const opnd_t *o)
{
    if (o->kind == OP_COL)
        add(c, b, "%s", c->d->t_text);
    else
        addf(c, b, c->d->json_type, o->doc, o->path, NULL);
}

static void emit_value(comp_t *c, sb_t *b, const opnd_t *o)
{
    if (o->kind == OP_COL)
        add(c, b, "%s", o->col);
    else
        addf(c, b, c->d->json_value, o->doc, o->path, NULL);
}

/* The value as text (a JSON string, or a column) or as a number, for typed dialects; the
 * dynamic value otherwise. Only used where the operand's type is known to be that one. */
static void emit_text(comp_t *c, sb_t *b, const opnd_t *o)
{
    if (c->d->typed && o->kind == OP_JSON)
        addf(c, b, c->d->json_str, o->doc, o->path, NULL);
    else
        emit_value(c, b, o);
}

static void emit_number(comp_t *c, sb_t *b, const opnd_t *o)
{
    if (!c->d->typed)
        emit_value(c, b, o);
    else if (o->kind == OP_JSON)
        addf(c, b, c->d->json_num, o->doc, o->path, NULL);
    else
        add(c, b, "NULL::numeric"); /* a column is text: never in a number's branch */
}

static const char *sql_op(query_cmp_t op)
{
    static const char *const ops[] = {"=", "<>", "<", "<=", ">", ">="};
    return ops[op];
}

static query_cmp_t flip(query_cmp_t op)
{
    switch (op) {
    case QUERY_CMP_LT:
        return QUERY_CMP_GT;
    case QUERY_CMP_LE:
        return QUERY_CMP_GE;
    case QUERY_CMP_GT:
        return QUERY_CMP_LT;
    case QUERY_CMP_GE:
        return QUERY_CMP_LE;
    default:
        return op;
    }
}

/* Both sides literals: decided here, with the same rules. */
static void emit_lit_cmp(comp_t *c, sb_t *b, query_cmp_t op, const query_value_t *l,
                         const query_value_t *r)
{
    int cmp;
    bool num_l = l->kind == QUERY_VALUE_INT || l->kind == QUERY_VALUE_DOUBLE;
    bool num_r = r->kind == QUERY_VALUE_INT || r->kind == QUERY_VALUE_DOUBLE;
    if ((num_l && num_r) || (l->kind == QUERY_VALUE_STRING && r->kind == QUERY_VALUE_STRING)) {
        /* Decided by the engine, not here: the SQL depends only on the literals' kinds, so a
         * cached form serves any values (numbers compare as numbers, text byte by byte). */
        add(c, b, "(%s %s %s)", value_ph(c, l), sql_op(op), value_ph(c, r));
        return;
    } else if (l->kind != r->kind) {
        add(c, b, "NULL");
        return;
    } else if (l->kind == QUERY_VALUE_BOOL) {
        cmp = (int)l->b - (int)r->b;
    } else {
        cmp = 0;
    }
    bool t = false;
    switch (op) {
    case QUERY_CMP_EQ:
        t = cmp == 0;
        break;
    case QUERY_CMP_NE:
        t = cmp != 0;
        break;
    case QUERY_CMP_LT:
        t = cmp < 0;
        break;
    case QUERY_CMP_LE:
        t = cmp <= 0;
        break;
    case QUERY_CMP_GT:
        t = cmp > 0;
        break;
    case QUERY_CMP_GE:
        t = cmp >= 0;
        break;
    }
    add(c, b, "%s", t ? "1 = 1" : "1 = 0");
}

/* path OP literal */
static void emit_cmp_lit(comp_t *c, sb_t *b, query_cmp_t op, const opnd_t *l,
                         const query_value_t *v)
{
    const query_dialect_t *d = c->d;
    if (l->kind == OP_COL) {
        if (v->kind != QUERY_VALUE_STRING) {
            add(c, b, "NULL");
            return;
        }
        add(c, b, "%s %s %s", l->col, sql_op(op), value_ph(c, v));
        return;
    }
    add(c, b, "CASE WHEN ");
    emit_type(c, b, l);
    switch (v->kind) {
    case QUERY_VALUE_STRING:
        add(c, b, " = %s THEN ", d->t_text);
        emit_text(c, b, l);
        add(c, b, " %s %s END", sql_op(op), value_ph(c, v));
        return;
    case QUERY_VALUE_INT:
    case QUERY_VALUE_DOUBLE:
        add(c, b, " IN (%s) THEN ", d->t_number_list);
        emit_number(c, b, l);
        add(c, b, " %s %s END", sql_op(op), value_ph(c, v));
        return;
    case QUERY_VALUE_BOOL:
        /* 'false' < 'true' as text, as false < true. */
        add(c, b, " IN (%s) THEN ", d->t_bool_list);
        emit_type(c, b, l);
        add(c, b, " %s %s END", sql_op(op), value_ph(c, v));
        return;
    case QUERY_VALUE_NULL: {
        bool eq = op == QUERY_CMP_EQ || op == QUERY_CMP_LE || op == QUERY_CMP_GE;
        add(c, b, " = %s THEN %s END", d->t_null, eq ? "1 = 1" : "1 = 0");
        return;
    }
    }
}

/* The type class of an operand for path-to-path comparisons: numbers are one class. */
static void emit_class(comp_t *c, sb_t *b, const opnd_t *o)
{
    add(c, b, "(CASE WHEN ");
    emit_type(c, b, o);
    add(c, b, " IN (%s) THEN 'number' ELSE ", c->d->t_number_list);
    emit_type(c, b, o);
    add(c, b, " END)");
}

static void emit_cmp_paths(comp_t *c, sb_t *b, query_cmp_t op, const opnd_t *l, const opnd_t *r)
{
    add(c, b, "CASE WHEN ");
    emit_class(c, b, l);
    add(c, b, " = ");
    emit_class(c, b, r);
    add(c, b, " AND ");
    emit_class(c, b, l);
    if (c->d->typed) {
        /* Text with text, numbers with numbers: one SQL type per branch. */
        add(c, b, " = %s THEN ", c->d->t_text);
        emit_text(c, b, l);
        add(c, b, " %s ", sql_op(op));
        emit_text(c, b, r);
        add(c, b, " WHEN ");
        emit_class(c, b, l);
        add(c, b, " = ");
        emit_class(c, b, r);
        add(c, b, " AND ");
        emit_class(c, b, l);
        add(c, b, " = 'number' THEN ");
        emit_number(c, b, l);
        add(c, b, " %s ", sql_op(op));
        emit_number(c, b, r);
    } else {
        add(c, b, " IN (%s, 'number') THEN ", c->d->t_text);
        emit_value(c, b, l);
        add(c, b, " %s ", sql_op(op));
        emit_value(c, b, r);
    }
    add(c, b, " WHEN ");
    emit_type(c, b, l);
    add(c, b, " IN (%s, %s) AND ", c->d->t_bool_list, c->d->t_null);
    emit_type(c, b, r);
    add(c, b, " IN (%s, %s) AND (", c->d->t_bool_list, c->d->t_null);
    emit_type(c, b, l);
    add(c, b, " = %s) = (", c->d->t_null);
    emit_type(c, b, r);
    add(c, b, " = %s) THEN ", c->d->t_null);
    emit_type(c, b, l);
    add(c, b, " %s ", sql_op(op));
    emit_type(c, b, r);
    add(c, b, " END");
}

static void emit_cmp(comp_t *c, sb_t *b, const query_expr_t *e)
{
    query_cmp_t op = e->op;
    opnd_t l = operand(c, &e->left), r = operand(c, &e->right);
    if (l.kind == OP_LIT && r.kind == OP_LIT) {
        emit_lit_cmp(c, b, op, l.lit, r.lit);
        return;
    }
    if (l.kind == OP_LIT) {
        opnd_t t = l;
        l = r;
        r = t;
        op = flip(op);
    }
    if (l.kind == OP_UNDEF || r.kind == OP_UNDEF) {
        add(c, b, "NULL");
        return;
    }
    if (r.kind == OP_LIT)
        emit_cmp_lit(c, b, op, &l, r.lit);
    else
        emit_cmp_paths(c, b, op, &l, &r);
}

/* x IN [...]: undefined when x is missing; otherwise equality with any item of x's type. */
static void emit_in(comp_t *c, sb_t *b, const query_expr_t *e)
{
    const query_dialect_t *d = c->d;
    opnd_t l = operand(c, &e->left);
    if (l.kind == OP_UNDEF) {
        add(c, b, "NULL");
        return;
    }
    const char *neg = e->negated ? "NOT " : "";
    size_t nstr = 0, nnum = 0, nbool = 0, nnull = 0;
    for (size_t i = 0; i < e->nitems; i++) {
        switch (e->items[i].kind) {
        case QUERY_VALUE_STRING:
            nstr++;
            break;
        case QUERY_VALUE_INT:
        case QUERY_VALUE_DOUBLE:
            nnum++;
            break;
        case QUERY_VALUE_BOOL:
            nbool++;
            break;
        default:
            nnull++;
            break;
        }
    }
    if (l.kind == OP_COL) {
        /* Always a defined string: only the string items can match (and an index can serve). */
        if (!nstr) {
            add(c, b, "%s", e->negated ? "1 = 1" : "1 = 0");
            return;
        }
        add(c, b, "%s%s IN (", neg, l.col);
        const char *sep = "";
        for (size_t i = 0; i < e->nitems; i++)
            if (e->items[i].kind == QUERY_VALUE_STRING) {
                add(c, b, "%s%s", sep, value_ph(c, &e->items[i]));
                sep = ", ";
            }
        add(c, b, ")");
        return;
    }
    add(c, b, "CASE WHEN ");
    emit_type(c, b, &l);
    add(c, b, " IS NULL THEN NULL ELSE %s(1 = 0", neg);
    for (int pass = 0; pass < 3; pass++) {
        size_t want = pass == 0 ? nstr : pass == 1 ? nnum : nbool;
        if (!want) continue;
        add(c, b, " OR (");
        emit_type(c, b, &l);
        add(c, b, " IN (%s) AND ",
            pass == 0   ? d->t_text
            : pass == 1 ? d->t_number_list
                        : d->t_bool_list);
        if (pass == 2)
            emit_type(c, b, &l);
        else if (pass == 1)
            emit_number(c, b, &l);
        else
            emit_text(c, b, &l);
        add(c, b, " IN (");
        const char *sep = "";
        for (size_t i = 0; i < e->nitems; i++) {
            query_value_kind_t k = e->items[i].kind;
            bool mine = pass == 0   ? k == QUERY_VALUE_STRING
                        : pass == 1 ? (k == QUERY_VALUE_INT || k == QUERY_VALUE_DOUBLE)
                                    : k == QUERY_VALUE_BOOL;
            if (!mine) continue;
            add(c, b, "%s%s", sep, value_ph(c, &e->items[i]));
            sep = ", ";
        }
        add(c, b, "))");
    }
    if (nnull) {
        add(c, b, " OR ");
        emit_type(c, b, &l);
        add(c, b, " = %s", d->t_null);
    }
    add(c, b, ") END");
}

/* A type test: always true or false, never undefined. */
static void emit_type_test(comp_t *c, sb_t *b, const opnd_t *o, const char *list)
{
    if (o->kind == OP_UNDEF) {
        add(c, b, "1 = 0");
        return;
    }
    add(c, b, "COALESCE(");
    emit_type(c, b, o);
    add(c, b, ", '') IN (%s)", list);
}

static void emit_string_fn(comp_t *c, sb_t *b, const query_expr_t *e, const opnd_t *o)
{
    const char *p = value_ph(c, &e->args[1].value);
    if (o->kind == OP_UNDEF) {
        add(c, b, "NULL");
        return;
    }
    const char *v = o->col;
    if (o->kind == OP_JSON) {
        sb_t tmp = {0};
        emit_text(c, &tmp, o);
        v = tmp.s ? arena_strdup(c->a, tmp.s) : "";
        free(tmp.s);
        add(c, b, "CASE WHEN ");
        emit_type(c, b, o);
        add(c, b, " = %s THEN ", c->d->t_text);
    }
    switch (e->fn) {
    case QUERY_FN_STARTSWITH: {
        /* A range an index can serve, then the exact test. The bound is the prefix followed by
         * a byte no UTF-8 text holds, so it is above every text that starts with the prefix. */
        if (o->kind == OP_COL) {
            add(c, b, "%s >= %s AND %s < ", v, p, v);
            addf(c, b, c->d->prefix_hi, p, NULL, NULL);
            add(c, b, " AND ");
        }
        addf(c, b, c->d->instr, v, p, NULL);
        add(c, b, " = 1");
        break;
    }
    case QUERY_FN_ENDSWITH:
        add(c, b, "length(%s) >= length(%s) AND ", v, p);
        addf(c, b, c->d->substr_from, v, arena_sprintf(c->a, "length(%s) - length(%s) + 1", v, p),
             NULL);
        add(c, b, " = %s", p);
        break;
    default:
        addf(c, b, c->d->instr, v, p, NULL);
        add(c, b, " > 0");
        break;
    }
    if (o->kind == OP_JSON) add(c, b, " END");
}

static void emit_array_contains(comp_t *c, sb_t *b, const query_expr_t *e, const opnd_t *o)
{
    const query_dialect_t *d = c->d;
    if (o->kind != OP_JSON) {
        add(c, b, "NULL");
        return;
    }
    const query_value_t *v = &e->args[1].value;
    const char *vp = value_ph(c, v);
    const char *cond;
    switch (v->kind) {
    case QUERY_VALUE_STRING:
        cond = arena_sprintf(c->a, "e.type = %s AND e.atom = %s", d->t_text, vp);
        break;
    case QUERY_VALUE_BOOL:
        cond = arena_sprintf(c->a, "e.type = %s", vp);
        break;
    default:
        cond = arena_sprintf(c->a, "e.type IN (%s) AND %s = %s", d->t_number_list, d->atom_num, vp);
        break;
    }
    add(c, b, "CASE WHEN ");
    emit_type(c, b, o);
    add(c, b, " = %s THEN ", d->t_array);
    addf(c, b, d->json_each, o->doc, o->path, cond ? cond : "1 = 0");
    add(c, b, " END");
}

static void emit_is_of_model(comp_t *c, sb_t *b, const query_expr_t *e)
{
    int coll = e->nargs == 2 ? e->args[0].path.collection : 0;
    const query_value_t *m = &e->args[e->nargs - 1].value;
    const char *col = col_of(c, coll, "model_id");
    const char *pm = text_ph(c, m, QUERY_DERIVE_MODEL);
    if (e->exact) {
        add(c, b, "%s = %s", col, pm);
        return;
    }
    /* Seeds: the model itself and, for `dtmi:x;N`, every stored `dtmi:x;M` with M >= N (ADT:
     * a later version satisfies an earlier one; without a version the bounds are NULL and the
     * range is empty); then everything that extends a seed. */
    const char *key = ph(c, c->p_key);
    add(c, b,
        "%s IN (WITH RECURSIVE sub(id) AS (SELECT id FROM models WHERE instance = %s AND (id = %s",
        col, key, pm);
    const char *base = text_ph(c, m, QUERY_DERIVE_MODEL_BASE);
    const char *next = text_ph(c, m, QUERY_DERIVE_MODEL_NEXT);
    const char *vpos = text_ph(c, m, QUERY_DERIVE_MODEL_VPOS);
    sb_t ver = {0};
    sb_t tail = {0};
    addf(c, &tail, c->d->substr_from, "id", vpos, NULL);
    addf(c, &ver, c->d->int_cast, tail.s ? tail.s : "", NULL, NULL);
    add(c, b, " OR (id > %s AND id < %s AND %s >= %s)", base, next, ver.s ? ver.s : "",
        text_ph(c, m, QUERY_DERIVE_MODEL_VER));
    sb_free(&ver);
    sb_free(&tail);
    add(c, b,
        ") UNION SELECT r.model_id FROM model_refs r JOIN sub ON r.instance = %s AND "
        "r.ref_id = sub.id AND r.kind = 'extends') SELECT id FROM sub)",
        key);
}

static void emit_call(comp_t *c, sb_t *b, const query_expr_t *e)
{
    const query_dialect_t *d = c->d;
    if (e->fn == QUERY_FN_IS_OF_MODEL) {
        emit_is_of_model(c, b, e);
        return;
    }
    opnd_t o = operand(c, &e->args[0]);
    switch (e->fn) {
    case QUERY_FN_IS_DEFINED:
        if (o.kind == OP_COL)
            add(c, b, "1 = 1");
        else if (o.kind == OP_UNDEF)
            add(c, b, "1 = 0");
        else {
            emit_type(c, b, &o);
            add(c, b, " IS NOT NULL");
        }
        return;
    case QUERY_FN_IS_NULL:
        emit_type_test(c, b, &o, d->t_null);
        return;
    case QUERY_FN_IS_BOOL:
        emit_type_test(c, b, &o, d->t_bool_list);
        return;
    case QUERY_FN_IS_NUMBER:
        emit_type_test(c, b, &o, d->t_number_list);
        return;
    case QUERY_FN_IS_STRING:
        emit_type_test(c, b, &o, d->t_text);
        return;
    case QUERY_FN_IS_PRIMITIVE:
        emit_type_test(c, b, &o, d->t_primitive_list);
        return;
    case QUERY_FN_IS_OBJECT:
        emit_type_test(c, b, &o, d->t_object);
        return;
    case QUERY_FN_STARTSWITH:
    case QUERY_FN_ENDSWITH:
    case QUERY_FN_CONTAINS:
        emit_string_fn(c, b, e, &o);
        return;
    case QUERY_FN_ARRAY_CONTAINS:
        emit_array_contains(c, b, e, &o);
        return;
    default:
        add(c, b, "NULL");
        return;
    }
}

static void emit_expr(comp_t *c, sb_t *b, const query_expr_t *e)
{
    switch (e->kind) {
    case QUERY_EXPR_AND:
    case QUERY_EXPR_OR:
        add(c, b, "(");
        emit_expr(c, b, e->lhs);
        add(c, b, e->kind == QUERY_EXPR_AND ? ") AND (" : ") OR (");
        emit_expr(c, b, e->rhs);
        add(c, b, ")");
        return;
    case QUERY_EXPR_NOT:
        add(c, b, "NOT (");
        emit_expr(c, b, e->lhs);
        add(c, b, ")");
        return;
    case QUERY_EXPR_CMP:
        emit_cmp(c, b, e);
        return;
    case QUERY_EXPR_IN:
        emit_in(c, b, e);
        return;
    case QUERY_EXPR_CALL:
        emit_call(c, b, e);
        return;
    }
}

/* ---- projections ---- */

static const char *item_key(const query_t *q, const query_select_item_t *it)
{
    if (it->as) return it->as;
    if (it->path.first == it->path.nsegs) {
        const char *alias = q->collections[it->path.collection].alias;
        return alias ? alias : it->path.segs[it->path.nsegs - 1];
    }
    return it->path.segs[it->path.nsegs - 1];
}

/* Writes the output columns (after the keys) into sel, in the current table scope. */
static void emit_outputs(comp_t *c, query_sql_t *out)
{
    const query_t *q = c->q;
    if (q->select == QUERY_SELECT_STAR) {
        int coll = 0;
        for (size_t i = 0; i < q->ncollections; i++)
            if (c->tab[i]) {
                coll = (int)i;
                break;
            }
        add(c, &c->sel, ", %s", col_of(c, coll, "doc"));
        out->out_keys = arena_calloc(c->a, 1, sizeof *out->out_keys);
        out->nouts = 1;
        out->star = true;
        return;
    }
    out->out_keys = arena_calloc(c->a, q->nitems ? q->nitems : 1, sizeof *out->out_keys);
    if (!out->out_keys) {
        c->failed = castor_err_set(c->err, CASTOR_ELIMIT, "query too large to compile");
        return;
    }
    out->nouts = q->nitems;
    for (size_t i = 0; i < q->nitems; i++) {
        const query_select_item_t *it = &q->items[i];
        out->out_keys[i] = item_key(q, it);
        if (it->path.first == it->path.nsegs) {
            add(c, &c->sel, ", %s", col_of(c, it->path.collection, "doc"));
            continue;
        }
        opnd_t o = operand_path(c, &it->path);
        add(c, &c->sel, ", ");
        if (o.kind == OP_COL)
            addf(c, &c->sel, c->d->json_quote, o.col, NULL, NULL);
        else if (o.kind == OP_JSON)
            addf(c, &c->sel, c->d->json_text, o.doc, o.path, NULL);
        else
            add(c, &c->sel, "NULL");
    }
}

/* ---- FROM shapes ---- */

static const char *tname(const query_t *q, int coll)
{
    return q->collections[coll].kind == QUERY_COLL_TWIN ? "twins" : "relationships";
}

/* The key columns of a FROM/JOIN query: the FROM row, then each JOIN's relationship row. */
static void from_joins(comp_t *c, const char **keys, size_t *nkeys)
{
    const query_t *q = c->q;
    const char *inst = ph(c, c->p_inst);
    c->tab[0] = arena_sprintf(c->a, "%c0", q->collections[0].kind == QUERY_COLL_TWIN ? 't' : 'r');
    add(c, &c->from, "%s %s", tname(q, 0), c->tab[0]);
    add(c, &c->where, "%s.instance_id = %s", c->tab[0], inst);
    keys[(*nkeys)++] = col_of(c, 0, c->d->rowid);
    for (size_t j = 0; j < q->njoins; j++) {
        const query_join_t *jn = &q->joins[j];
        const char *rel = jn->rel_coll >= 0 ? arena_sprintf(c->a, "r%d", jn->rel_coll)
                                            : arena_sprintf(c->a, "j%zu", j);
        if (jn->rel_coll >= 0) c->tab[jn->rel_coll] = rel;
        c->tab[jn->target_coll] = arena_sprintf(c->a, "t%d", jn->target_coll);
        add(c, &c->from,
            " JOIN relationships %s ON %s.instance_id = %s AND %s.source_id = %s.id AND %s.name = "
            "%s JOIN twins %s ON %s.instance_id = %s AND %s.id = %s.target_id",
            rel, rel, inst, rel, c->tab[jn->source_coll], rel, ph(c, p_text(c, jn->rel_name)),
            c->tab[jn->target_coll], c->tab[jn->target_coll], inst, c->tab[jn->target_coll], rel);
        keys[(*nkeys)++] = arena_sprintf(c->a, "%s.%s", rel, c->d->rowid);
    }
}

/* The MATCH node whose $dtId a top-level conjunct pins, with its pinning expression. */
static const query_expr_t *find_pin(const query_t *q, const query_expr_t *e, int *coll)
{
    if (!e) return NULL;
    if (e->kind == QUERY_EXPR_AND) {
        const query_expr_t *p = find_pin(q, e->lhs, coll);
        return p ? p : find_pin(q, e->rhs, coll);
    }
    const query_operand_t *o = NULL;
    if (e->kind == QUERY_EXPR_CMP && e->op == QUERY_CMP_EQ) {
        if (e->left.kind == QUERY_OPERAND_PATH && e->right.kind == QUERY_OPERAND_VALUE &&
            e->right.value.kind == QUERY_VALUE_STRING)
            o = &e->left;
        else if (e->right.kind == QUERY_OPERAND_PATH && e->left.kind == QUERY_OPERAND_VALUE &&
                 e->left.value.kind == QUERY_VALUE_STRING)
            o = &e->right;
    } else if (e->kind == QUERY_EXPR_IN && !e->negated) {
        o = &e->left;
    }
    if (!o || o->path.collection < 0 || q->collections[o->path.collection].kind != QUERY_COLL_TWIN)
        return NULL;
    const query_path_t *p = &o->path;
    if (p->nsegs != p->first + 1 || strcmp(p->segs[p->first], "$dtId") != 0) return NULL;
    *coll = p->collection;
    return e;
}

/* The pinned ids as a placeholder list "?4, ?5" (strings only; "NULL" when none). */
static const char *pin_list(comp_t *c, const query_expr_t *pin)
{
    sb_t b = {0};
    if (pin->kind == QUERY_EXPR_CMP) {
        const query_value_t *v =
            pin->left.kind == QUERY_OPERAND_VALUE ? &pin->left.value : &pin->right.value;
        add(c, &b, "%s", value_ph(c, v));
    } else {
        const char *sep = "";
        for (size_t i = 0; i < pin->nitems; i++)
            if (pin->items[i].kind == QUERY_VALUE_STRING) {
                add(c, &b, "%s%s", sep, value_ph(c, &pin->items[i]));
                sep = ", ";
            }
        if (!*sep) add(c, &b, "NULL");
    }
    const char *s = b.s ? arena_strdup(c->a, b.s) : "NULL";
    free(b.s);
    return s ? s : "NULL";
}

/* One step of edge j's walk: relationships r from `from` to `to` columns. */
static void emit_step(comp_t *c, sb_t *b, const query_match_edge_t *e, const char *cte,
                      const char *frontier, bool out, bool recursive)
{
    const char *inst = ph(c, c->p_inst);
    const char *from = out ? "source_id" : "target_id", *to = out ? "target_id" : "source_id";
    const char *rid = c->d->rowid;
    if (!recursive)
        add(c, b,
            "SELECT r.%s, r.%s, 1, r.%s, ',' || r.%s || ',' FROM relationships r WHERE "
            "r.instance_id = %s",
            from, to, rid, rid, inst);
    else
        add(c, b,
            "SELECT w.s, r.%s, w.d + 1, r.%s, w.trail || r.%s || ',' FROM %s w JOIN relationships "
            "r ON r.instance_id = %s AND r.%s = w.t WHERE w.d < %u AND ",
            to, rid, rid, cte, inst, from, e->max_hops);
    if (recursive) {
        addf(c, b, c->d->instr, "w.trail", arena_sprintf(c->a, "',' || r.%s || ','", rid), NULL);
        add(c, b, " = 0");
    }
    if (!recursive && frontier) add(c, b, " AND r.%s IN (%s)", from, frontier);
    if (e->nnames) {
        add(c, b, " AND r.name IN (");
        for (size_t i = 0; i < e->nnames; i++)
            add(c, b, "%s%s", i ? ", " : "", ph(c, p_text(c, e->names[i])));
        add(c, b, ")");
    }
}

/* The recursive step of edge j walked either way, as one SELECT (typed dialects). */
static void emit_step_either(comp_t *c, sb_t *b, const query_match_edge_t *e, const char *cte)
{
    const char *inst = ph(c, c->p_inst);
    const char *rid = c->d->rowid;
    add(c, b,
        "SELECT w.s, CASE WHEN r.source_id = w.t THEN r.target_id ELSE r.source_id END, w.d + 1, "
        "r.%s, w.trail || r.%s || ',' FROM %s w JOIN relationships r ON r.instance_id = %s AND "
        "(r.source_id = w.t OR r.target_id = w.t) WHERE w.d < %u AND ",
        rid, rid, cte, inst, e->max_hops);
    addf(c, b, c->d->instr, "w.trail", arena_sprintf(c->a, "',' || r.%s || ','", rid), NULL);
    add(c, b, " = 0");
    if (e->nnames) {
        add(c, b, " AND r.name IN (");
        for (size_t i = 0; i < e->nnames; i++)
            add(c, b, "%s%s", i ? ", " : "", ph(c, p_text(c, e->names[i])));
        add(c, b, ")");
    }
}

/* Whether edge e is walked as plain joins (emit_fixed_cte) rather than a recursive CTE: one
 * direction and one hop count. Any count the checker allows (CASTOR_QUERY_MATCH_HOPS_MAX) fits:
 * the joins' order is fixed, so the planner never searches over N tables, and each join does no
 * more than a recursive step (an index probe) with k rowid comparisons instead of the trail's
 * string search. An edge of any direction keeps the CTE: a hop that may go either way is an OR of
 * two index probes, which SQLite without statistics plans as a scan of the instance. */
static bool fixed_walk(const query_match_edge_t *e)
{
    return e->dir != QUERY_DIR_ANY && e->min_hops == e->max_hops;
}

/* CTE e<j>(s, t, d, rid) of a fixed walk: hops h<j>_1..h<j>_N joined outwards from the
 * anchor-side end, CROSS JOIN keeping that order (SQLite has no statistics here, and would
 * otherwise start from every relationship). Same rows as the recursive form: each hop bears the
 * edge's names, and no relationship appears twice on one walk (rowid inequality pairs, the
 * trail's rule); rid is the hop farthest from the anchor, as there. Not recursive, and used
 * once, SQLite flattens it into the MATCH's join. */
static void emit_fixed_cte(comp_t *c, size_t j, bool out, const char *frontier)
{
    const query_match_edge_t *e = &c->q->match->edges[j];
    const char *inst = ph(c, c->p_inst);
    const char *from = out ? "source_id" : "target_id", *to = out ? "target_id" : "source_id";
    const char *rid = c->d->rowid;
    unsigned n = e->max_hops;
    /* The names' placeholders, made once and named by every hop. */
    sb_t names = {0};
    for (size_t i = 0; i < e->nnames; i++)
        add(c, &names, "%s%s", i ? ", " : "", ph(c, p_text(c, e->names[i])));
    add(c, &c->with, "%se%zu(s, t, d, rid) AS (SELECT h%zu_1.%s, h%zu_%u.%s, %u, h%zu_%u.%s FROM ",
        c->with.len ? ", " : "", j, j, from, j, n, to, n, j, n, rid);
    for (unsigned k = 1; k <= n; k++)
        add(c, &c->with, "%srelationships h%zu_%u", k > 1 ? " CROSS JOIN " : "", j, k);
    add(c, &c->with, " WHERE ");
    for (unsigned k = 1; k <= n; k++) {
        add(c, &c->with, "%sh%zu_%u.instance_id = %s", k > 1 ? " AND " : "", j, k, inst);
        if (k > 1)
            add(c, &c->with, " AND h%zu_%u.%s = h%zu_%u.%s", j, k, from, j, k - 1, to);
        else if (frontier)
            add(c, &c->with, " AND h%zu_1.%s IN (%s)", j, from, frontier);
        if (names.len) add(c, &c->with, " AND h%zu_%u.name IN (%s)", j, k, names.s);
        for (unsigned i = 1; i < k; i++)
            add(c, &c->with, " AND h%zu_%u.%s <> h%zu_%u.%s", j, k, rid, j, i, rid);
    }
    add(c, &c->with, ")");
    sb_free(&names);
}

/* CTE e<j>(s, t, d, rid, ...): walks of edge j from its anchor-side end s to t, d hops. */
static void emit_edge_cte(comp_t *c, size_t j, bool forward, const char *frontier)
{
    const query_match_edge_t *e = &c->q->match->edges[j];
    if (fixed_walk(e) && !c->in->walk_recursive) {
        emit_fixed_cte(c, j, (e->dir == QUERY_DIR_RIGHT) == forward, frontier);
        return;
    }
    char cte[16];
    snprintf(cte, sizeof cte, "e%zu", j);
    bool both = e->dir == QUERY_DIR_ANY;
    bool out = (e->dir == QUERY_DIR_RIGHT) == forward;
    add(c, &c->with, "%s%s(s, t, d, rid, trail) AS (", c->with.len ? ", " : "", cte);
    emit_step(c, &c->with, e, cte, frontier, out, false);
    if (both) {
        add(c, &c->with, " UNION ALL ");
        emit_step(c, &c->with, e, cte, frontier, !out, false);
    }
    if (e->max_hops > 1 && both && c->d->typed) {
        /* PostgreSQL takes a recursive CTE as its last UNION's two sides, so the recursive
         * side is one SELECT naming the CTE once: both directions in one join. */
        add(c, &c->with, " UNION ALL ");
        emit_step_either(c, &c->with, e, cte);
    } else if (e->max_hops > 1) {
        add(c, &c->with, " UNION ALL ");
        emit_step(c, &c->with, e, cte, NULL, out, true);
        if (both) {
            add(c, &c->with, " UNION ALL ");
            emit_step(c, &c->with, e, cte, NULL, !out, true);
        }
    }
    add(c, &c->with, ")");
}

/* MATCH: edge CTEs walked outwards from the pinned node, joined with the named twins and
 * relationships; the distinct key rows are then joined back for the outputs. */
static void from_match(comp_t *c, const char **keys, size_t *nkeys, const char **node_id)
{
    const query_t *q = c->q;
    const query_match_t *m = q->match;
    const char *inst = ph(c, c->p_inst);
    int pin_coll = -1;
    const query_expr_t *pin = find_pin(q, q->where, &pin_coll);
    size_t anchor = 0;
    for (size_t i = 0; pin && i < m->nnodes; i++)
        if (m->nodes[i].coll == pin_coll) anchor = i;
    const char *anchor_ids = pin ? pin_list(c, pin) : NULL;
    const char *sep = "";
    /* The anchor node first. */
    const query_match_node_t *an = &m->nodes[anchor];
    if (an->coll >= 0) {
        c->tab[an->coll] = arena_sprintf(c->a, "n%d", an->coll);
        add(c, &c->from, "twins %s", c->tab[an->coll]);
        add(c, &c->where, "%s.instance_id = %s", c->tab[an->coll], inst);
        node_id[anchor] = col_of(c, an->coll, "id");
        sep = " CROSS JOIN ";
    }
    /* Walk order: anchor..end forwards, then anchor-1..0 backwards. */
    for (size_t pass = 0; pass < 2; pass++) {
        size_t count = pass == 0 ? m->nnodes - 1 - anchor : anchor;
        for (size_t k = 0; k < count; k++) {
            size_t j = pass == 0 ? anchor + k : anchor - 1 - k;
            size_t from_node = pass == 0 ? j : j + 1, to_node = pass == 0 ? j + 1 : j;
            const char *frontier = NULL;
            if (k == 0)
                frontier = anchor_ids;
            else
                frontier = arena_sprintf(c->a, "SELECT t FROM e%zu WHERE d >= %u",
                                         pass == 0 ? j - 1 : j + 1,
                                         m->edges[pass == 0 ? j - 1 : j + 1].min_hops);
            emit_edge_cte(c, j, pass == 0, frontier);
            const query_match_edge_t *e = &m->edges[j];
            add(c, &c->from, "%se%zu", sep, j);
            sep = " CROSS JOIN ";
            add(c, &c->where, "%se%zu.d >= %u", c->where.len ? " AND " : "", j, e->min_hops);
            if (node_id[from_node])
                add(c, &c->where, " AND e%zu.s = %s", j, node_id[from_node]);
            else
                node_id[from_node] = arena_sprintf(c->a, "e%zu.s", j);
            const query_match_node_t *tn = &m->nodes[to_node];
            if (tn->coll >= 0) {
                c->tab[tn->coll] = arena_sprintf(c->a, "n%d", tn->coll);
                add(c, &c->from, " CROSS JOIN twins %s", c->tab[tn->coll]);
                add(c, &c->where, " AND %s.instance_id = %s AND %s.id = e%zu.t", c->tab[tn->coll],
                    inst, c->tab[tn->coll], j);
                node_id[to_node] = col_of(c, tn->coll, "id");
            } else {
                node_id[to_node] = arena_sprintf(c->a, "e%zu.t", j);
            }
            if (e->coll >= 0) {
                c->tab[e->coll] = arena_sprintf(c->a, "r%d", e->coll);
                add(c, &c->from, " CROSS JOIN relationships %s", c->tab[e->coll]);
                add(c, &c->where, " AND %s.%s = e%zu.rid", c->tab[e->coll], c->d->rowid, j);
            }
        }
    }
    for (size_t i = 0; i < q->ncollections; i++)
        if (c->tab[i]) keys[(*nkeys)++] = col_of(c, (int)i, c->d->rowid);
}

size_t query_sql_nkeys(const query_t *q)
{
    if (q->select == QUERY_SELECT_COUNT) return 0;
    if (!q->match) return 1 + q->njoins;
    return q->ncollections;
}

static void emit_key_filter(comp_t *c, sb_t *b, const char *const *keys, size_t nkeys)
{
    const query_sql_in_t *in = c->in;
    if (!in->after || !nkeys) return;
    add(c, b, "%s(", b->len ? " AND " : "");
    for (size_t i = 0; i < nkeys; i++)
        add(c, b, "%s%s", i ? ", " : "", keys[i]);
    add(c, b, ") > (");
    for (size_t i = 0; i < nkeys; i++)
        add(c, b, "%s%s", i ? ", " : "",
            ph(c, p_req(c, (query_param_t){.kind = QUERY_PARAM_INT, .i = in->after[i]},
                        QUERY_SRC_AFTER, (uint32_t)i)));
    add(c, b, ")");
}

static void emit_order(comp_t *c, sb_t *b, const char *const *keys, size_t nkeys, bool limit)
{
    if (nkeys) add(c, b, " ORDER BY ");
    for (size_t i = 0; i < nkeys; i++)
        add(c, b, "%s%s", i ? ", " : "", keys[i]);
    if (!limit) return;
    add(c, b, " LIMIT %s",
        ph(c, p_req(c, (query_param_t){.kind = QUERY_PARAM_INT, .i = c->in->limit}, QUERY_SRC_LIMIT,
                    0)));
}

static char *assemble(comp_t *c, const query_sql_t *out, const char *const *keys, size_t nkeys)
{
    const query_t *q = c->q;
    sb_t s = {0};
    if (c->with.len) add(c, &s, "WITH RECURSIVE %s ", c->with.s);
    bool distinct = q->match && q->match->nnodes > 1;
    if (out->count && c->counted) {
        add(c, &s, "SELECT COALESCE(SUM(tc.n), 0) FROM %s WHERE %s", c->from.s, c->where.s);
    } else if (out->count) {
        if (distinct) {
            add(c, &s, "SELECT COUNT(*) FROM (SELECT DISTINCT ");
            for (size_t i = 0; i < nkeys; i++)
                add(c, &s, "%s%s", i ? ", " : "", keys[i]);
            add(c, &s, " FROM %s WHERE %s) q", c->from.s, c->where.s);
        } else {
            add(c, &s, "SELECT COUNT(*) FROM %s WHERE %s", c->from.s, c->where.s);
        }
    } else if (!distinct) {
        add(c, &s, "SELECT ");
        for (size_t i = 0; i < nkeys; i++)
            add(c, &s, "%s%s", i ? ", " : "", keys[i]);
        add(c, &s, "%s FROM %s WHERE %s", c->sel.s ? c->sel.s : "", c->from.s, c->where.s);
        emit_key_filter(c, &s, keys, nkeys);
        emit_order(c, &s, keys, nkeys, true);
    } else {
        /* The page's distinct key rows inside (paging filter, order and limit on the keys, so
         * only the page's rows are joined back); documents joined back outside, each by rowid,
         * so exactly once per key row (the outer scope's tables are o<coll>, already written
         * into sel by the caller). CROSS JOIN keeps q the outer loop, which SQLite then runs
         * as a co-routine instead of materializing it. */
        const char **qk = arena_calloc(c->a, nkeys ? nkeys : 1, sizeof *qk);
        add(c, &s, "SELECT ");
        for (size_t i = 0; i < nkeys && qk; i++) {
            qk[i] = arena_sprintf(c->a, "q.k%zu", i);
            add(c, &s, "%s%s", i ? ", " : "", qk[i]);
        }
        add(c, &s, "%s FROM (SELECT DISTINCT ", c->sel.s ? c->sel.s : "");
        for (size_t i = 0; i < nkeys; i++)
            add(c, &s, "%s%s AS k%zu", i ? ", " : "", keys[i], i);
        /* Carried ids depend on the key rows alone: the rows stay as distinct, and ordering by
         * them after the keys changes nothing, but lets SQLite de-duplicate and sort with one
         * b-tree (DISTINCT and ORDER BY then name the same columns). */
        const char **ord = arena_calloc(c->a, nkeys + q->ncollections + 1, sizeof *ord);
        size_t nord = 0;
        for (size_t i = 0; ord && i < nkeys; i++)
            ord[nord++] = keys[i];
        for (size_t i = 0; ord && c->carried && i < q->ncollections; i++)
            if (c->carried[i]) {
                ord[nord] = arena_sprintf(c->a, "%s.id", c->tab[i]);
                add(c, &s, ", %s AS i%zu", ord[nord++], i);
            }
        add(c, &s, " FROM %s WHERE %s", c->from.s, c->where.s);
        emit_key_filter(c, &s, keys, nkeys);
        if (ord) emit_order(c, &s, ord, nord, true);
        add(c, &s, ") q");
        /* Only the documents the outputs read are joined back; the keys are in q already. */
        size_t k = 0;
        for (size_t i = 0; i < q->ncollections; i++) {
            if (!c->tab[i]) continue;
            if (c->used && c->used[i])
                add(c, &s, " %s %s o%zu ON o%zu.%s = q.k%zu", c->d->join_on, tname(q, (int)i), i, i,
                    c->d->rowid, k);
            k++;
        }
        if (qk) emit_order(c, &s, qk, nkeys, false);
    }
    char *sql = c->failed || !s.s ? NULL : arena_strdup(c->a, s.s);
    sb_free(&s);
    return sql;
}

/* Whether a COUNT needs no twin's document: FROM DIGITALTWINS alone, filtered by nothing or by
 * one IS_OF_MODEL. Then it is a sum over the store's per-(instance, model) counts, which the
 * store keeps exact with the twins (schema_twins.c, twin_counts), instead of a scan of every
 * matching index entry; IS_OF_MODEL reads the same model closure either way. */
static bool count_by_model(const query_t *q)
{
    if (q->select != QUERY_SELECT_COUNT || q->match || q->njoins || q->ncollections != 1 ||
        q->collections[0].kind != QUERY_COLL_TWIN)
        return false;
    return !q->where || (q->where->kind == QUERY_EXPR_CALL && q->where->fn == QUERY_FN_IS_OF_MODEL);
}

int query_compile(arena_t *a, const query_t *q, const query_dialect_t *d, const query_sql_in_t *in,
                  query_sql_t *out, castor_err *err)
{
    memset(out, 0, sizeof *out);
    if (!q->checked) return castor_err_set(err, CASTOR_EINTERNAL, "compiling an unchecked query");
    comp_t c = {.a = a, .q = q, .d = d, .in = in, .err = err};
    c.tab = arena_calloc(a, q->ncollections ? q->ncollections : 1, sizeof *c.tab);
    const char **keys = arena_calloc(a, q->ncollections + q->njoins + 1, sizeof *keys);
    const char **node_id = q->match ? arena_calloc(a, q->match->nnodes, sizeof *node_id) : NULL;
    if (!c.tab || !keys || (q->match && !node_id))
        return castor_err_set(err, CASTOR_ELIMIT, "query too large to compile");
    c.p_inst = p_req(&c, (query_param_t){.kind = QUERY_PARAM_TEXT, .s = in->instance},
                     QUERY_SRC_INSTANCE, 0);
    c.p_key = p_req(
        &c,
        (query_param_t){.kind = QUERY_PARAM_TEXT, .s = in->instance_key ? in->instance_key : ""},
        QUERY_SRC_INSTANCE_KEY, 0);
    size_t nkeys = 0;
    if (count_by_model(q)) {
        c.counted = true;
        c.tab[0] = "tc";
        add(&c, &c.from, "twin_counts tc");
        add(&c, &c.where, "tc.instance_id = %s", ph(&c, c.p_inst));
    } else if (q->match && q->match->nnodes > 1) {
        if (q->ncollections == 0)
            fail_at(&c, q->match->pos, "a MATCH pattern needs at least one named twin");
        from_match(&c, keys, &nkeys, node_id);
    } else if (q->match) {
        if (q->match->nodes[0].coll < 0)
            fail_at(&c, q->match->pos, "MATCH () needs a name for the twins it returns");
        c.tab[0] = "t0";
        add(&c, &c.from, "twins t0");
        add(&c, &c.where, "t0.instance_id = %s", ph(&c, c.p_inst));
        keys[nkeys++] = col_of(&c, 0, d->rowid);
    } else {
        from_joins(&c, keys, &nkeys);
    }
    if (q->where) {
        add(&c, &c.where, " AND (");
        emit_expr(&c, &c.where, q->where);
        add(&c, &c.where, ")");
    }
    out->count = q->select == QUERY_SELECT_COUNT;
    if (!out->count) {
        if (q->match && q->match->nnodes > 1) {
            /* Outputs read the documents joined back by rowid. */
            const char **inner = c.tab;
            c.tab = arena_calloc(a, q->ncollections, sizeof *c.tab);
            for (size_t i = 0; c.tab && i < q->ncollections; i++)
                c.tab[i] = inner[i] ? arena_sprintf(a, "o%zu", i) : NULL;
            c.used = arena_calloc(a, q->ncollections, sizeof *c.used);
            c.carried = arena_calloc(a, q->ncollections, sizeof *c.carried);
            if (!c.tab || !c.used || !c.carried)
                return castor_err_set(err, CASTOR_ELIMIT, "query too large to compile");
            emit_outputs(&c, out);
            c.tab = inner;
        } else {
            emit_outputs(&c, out);
        }
        out->nkeys = nkeys;
    }
    const char *sql = c.failed ? NULL : assemble(&c, out, keys, nkeys);
    sb_free(&c.with);
    sb_free(&c.sel);
    sb_free(&c.from);
    sb_free(&c.where);
    if (!c.failed && sql) {
        out->sql = sql;
        out->params = arena_alloc(a, (c.nparams ? c.nparams : 1) * sizeof *out->params);
        if (!out->params)
            c.failed = castor_err_set(err, CASTOR_ELIMIT, "query too large to compile");
        else {
            memcpy(out->params, c.params, c.nparams * sizeof *out->params);
            out->nparams = c.nparams;
        }
    }
    free(c.params);
    if (c.failed) return c.failed;
    if (!out->sql) return castor_err_set(err, CASTOR_ELIMIT, "query too large to compile");
    return CASTOR_OK;
}

int query_sql_bind(query_sql_t *qs, const query_sql_in_t *in, castor_err *err)
{
    bool paged = false;
    for (size_t i = 0; i < qs->nparams; i++) {
        query_param_t *p = &qs->params[i];
        switch (p->src) {
        case QUERY_SRC_LITERAL:
        case QUERY_SRC_TEXT:
            break;
        case QUERY_SRC_INSTANCE:
            p->s = in->instance;
            break;
        case QUERY_SRC_INSTANCE_KEY:
            p->s = in->instance_key ? in->instance_key : "";
            break;
        case QUERY_SRC_LIMIT:
            p->i = in->limit;
            break;
        case QUERY_SRC_AFTER:
            if (!in->after || p->index >= in->nafter)
                return castor_err_set(err, CASTOR_EINTERNAL,
                                      "a paged query form was bound without its paging key");
            p->i = in->after[p->index];
            paged = true;
            break;
        }
    }
    if (in->after && qs->nkeys && !paged)
        return castor_err_set(err, CASTOR_EINTERNAL,
                              "a first-page query form was bound with a paging key");
    return CASTOR_OK;
}

int query_sql_bind_literal(arena_t *a, query_param_t *p, const query_value_t *v)
{
    p->s = NULL;
    p->i = 0;
    p->d = 0;
    if (p->derive == QUERY_DERIVE_NONE) {
        switch (v->kind) {
        case QUERY_VALUE_INT:
            p->kind = QUERY_PARAM_INT;
            p->i = v->i;
            break;
        case QUERY_VALUE_DOUBLE:
            p->kind = QUERY_PARAM_DOUBLE;
            p->d = v->d;
            break;
        case QUERY_VALUE_STRING:
            p->kind = QUERY_PARAM_TEXT;
            p->s = v->s;
            break;
        default:
            p->kind = QUERY_PARAM_NULL;
            break;
        }
        return 0;
    }
    /* Model ids: the checker's rule, again, for a literal bound to a cached form. */
    if (v->kind != QUERY_VALUE_STRING || strncmp(v->s, "dtmi:", 5) != 0) return -1;
    p->kind = QUERY_PARAM_NULL;
    if (p->derive == QUERY_DERIVE_MODEL) {
        p->kind = QUERY_PARAM_TEXT;
        p->s = v->s;
        return 0;
    }
    const char *semi = strrchr(v->s, ';');
    if (!semi || !semi[1] || strspn(semi + 1, "0123456789") != strlen(semi + 1) ||
        strlen(semi + 1) >= 10)
        return 0; /* no version: NULL bounds, an empty range */
    size_t blen = (size_t)(semi - v->s) + 1;
    switch (p->derive) {
    case QUERY_DERIVE_MODEL_BASE:
    case QUERY_DERIVE_MODEL_NEXT: {
        char *t = arena_strndup(a, v->s, blen);
        if (!t) return -1;
        if (p->derive == QUERY_DERIVE_MODEL_NEXT) t[blen - 1] = ';' + 1;
        p->kind = QUERY_PARAM_TEXT;
        p->s = t;
        return 0;
    }
    case QUERY_DERIVE_MODEL_VPOS:
        p->kind = QUERY_PARAM_INT;
        p->i = (int64_t)blen + 1;
        return 0;
    default:
        p->kind = QUERY_PARAM_INT;
        p->i = strtoll(semi + 1, NULL, 10);
        return 0;
    }
}
