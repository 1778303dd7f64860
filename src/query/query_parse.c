/* query_parse.c — recursive-descent parser from tokens to the AST in query.h.
 *
 * It checks the grammar and the limits that are counts of syntax (length, AND/OR, IN items,
 * JOINs, hops); rules about meaning are query_check's. Every error names the position and
 * what the grammar expected there. Recursion is bounded by QUERY_NESTING_MAX. */
#include "query/query_int.h"

#include <string.h>

#include "core/limits.h"

typedef struct parser {
    arena_t *a;
    query_t *q;
    const query_tok_t *t;
    size_t n, i;
    unsigned depth;
    castor_err *err;
} parser_t;

static const query_tok_t *cur(const parser_t *p)
{
    return &p->t[p->i];
}

static const query_tok_t *peek(const parser_t *p, size_t k)
{
    return p->i + k < p->n ? &p->t[p->i + k] : &p->t[p->n - 1];
}

static const query_tok_t *next(parser_t *p)
{
    const query_tok_t *t = cur(p);
    if (t->kind != QTOK_EOF) p->i++;
    return t;
}

static int nomem(parser_t *p)
{
    return castor_err_set(p->err, CASTOR_ELIMIT, "query too large to parse in memory");
}

/* "Syntax error at position N: expected <what>, found '<token>'" */
static int expected(parser_t *p, const char *what)
{
    const query_tok_t *t = cur(p);
    if (t->kind == QTOK_EOF)
        return query_fail(p->err, CASTOR_EINVAL, p->q->text, t->pos, "Syntax error",
                          "expected %s, found end of query", what);
    /* Show at most 40 bytes, cut on a character boundary; a string shows its own quotes. */
    const char *src = p->q->text + t->pos;
    size_t shown = t->len;
    if (shown > 40)
        for (shown = 40; ((unsigned char)src[shown] & 0xC0) == 0x80; shown--)
            continue;
    bool str = t->kind == QTOK_STRING;
    return query_fail(p->err, CASTOR_EINVAL, p->q->text, t->pos, "Syntax error",
                      "expected %s, found %s%.*s%s%s", what, str ? "string " : "'", (int)shown, src,
                      shown < t->len ? "..." : "", str ? "" : "'");
}

static int limit(parser_t *p, size_t pos, const char *what, unsigned max)
{
    return query_fail(p->err, CASTOR_ELIMIT, p->q->text, pos, "Limit exceeded", what, max);
}

static bool accept(parser_t *p, query_tok_kind_t kind)
{
    if (cur(p)->kind != kind) return false;
    next(p);
    return true;
}

static bool accept_kw(parser_t *p, const char *kw)
{
    if (!query_word_is(cur(p), kw)) return false;
    next(p);
    return true;
}

static int expect(parser_t *p, query_tok_kind_t kind, const char *what)
{
    return accept(p, kind) ? 0 : expected(p, what);
}

/* Appends a zeroed element to a growing arena array; old copies stay in the arena. */
static void *push(parser_t *p, void *arr, size_t *n, size_t *cap, size_t size)
{
    char *base = *(char **)arr;
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        char *grown = arena_alloc(p->a, ncap * size);
        if (!grown) return NULL;
        if (*n) memcpy(grown, base, *n * size);
        *(char **)arr = base = grown;
        *cap = ncap;
    }
    char *slot = base + (*n)++ * size;
    memset(slot, 0, size);
    return slot;
}

/* An identifier where any name may stand: a bare word that is not reserved, or [[...]]. */
static int name(parser_t *p, const char *what, const char **out, size_t *pos)
{
    const query_tok_t *t = cur(p);
    if (pos) *pos = t->pos;
    if (t->kind == QTOK_ESCAPED || (t->kind == QTOK_IDENT && !query_is_reserved(t->text, t->len))) {
        *out = next(p)->text;
        return 0;
    }
    if (t->kind == QTOK_IDENT)
        return query_fail(p->err, CASTOR_EINVAL, p->q->text, t->pos, "Syntax error",
                          "expected %s, found reserved word '%s' (write [[%s]] to use it as a "
                          "name)",
                          what, t->text, t->text);
    return expected(p, what);
}

/* An alias is a name that the clause grammar could not read as its next keyword. */
static bool at_alias(const parser_t *p)
{
    const query_tok_t *t = cur(p);
    if (t->kind == QTOK_ESCAPED) return true;
    return t->kind == QTOK_IDENT && !query_needs_escape(t->text);
}

static int alias(parser_t *p, const char *what, const char **out, size_t *pos)
{
    const query_tok_t *t = cur(p);
    if (t->kind == QTOK_IDENT && !query_is_reserved(t->text, t->len) && !at_alias(p))
        return query_fail(p->err, CASTOR_EINVAL, p->q->text, t->pos, "Syntax error",
                          "expected %s, found keyword '%s' (write [[%s]] to use it as an alias)",
                          what, t->text, t->text);
    return name(p, what, out, pos);
}

static int path(parser_t *p, query_path_t *out)
{
    size_t cap = 0;
    out->pos = cur(p)->pos;
    out->collection = -1;
    do {
        const char **seg = push(p, &out->segs, &out->nsegs, &cap, sizeof *seg);
        if (!seg) return nomem(p);
        int rc = name(p, "a property name", seg, NULL);
        if (rc < 0) return rc;
    } while (accept(p, QTOK_DOT));
    return 0;
}

/* A literal: string, number (with an optional leading '-'), true, false or null. */
static bool at_value(const parser_t *p)
{
    const query_tok_t *t = cur(p);
    return t->kind == QTOK_STRING || t->kind == QTOK_NUMBER ||
           (t->kind == QTOK_MINUS && peek(p, 1)->kind == QTOK_NUMBER) || query_word_is(t, "TRUE") ||
           query_word_is(t, "FALSE") || query_word_is(t, "NULL");
}

static int value(parser_t *p, query_value_t *v)
{
    if (!at_value(p)) return expected(p, "a value (string, number, true, false or null)");
    const query_tok_t *t = next(p);
    memset(v, 0, sizeof *v);
    if (t->kind == QTOK_STRING) {
        v->kind = QUERY_VALUE_STRING;
        v->s = t->text;
        v->len = t->text_len;
        v->from_text = true;
        v->tok_pos = t->pos;
    } else if (t->kind == QTOK_NUMBER) {
        *v = t->value;
        v->from_text = true;
        v->tok_pos = t->pos;
    } else if (t->kind == QTOK_MINUS) {
        const query_tok_t *n = next(p);
        *v = n->value;
        /* The lexer's integers are non-negative and fit int64, so negating cannot overflow. */
        if (v->kind == QUERY_VALUE_INT)
            v->i = -v->i;
        else
            v->d = -v->d;
        v->from_text = true;
        v->neg = true;
        v->tok_pos = n->pos;
    } else if (query_word_is(t, "NULL")) {
        v->kind = QUERY_VALUE_NULL;
    } else {
        v->kind = QUERY_VALUE_BOOL;
        v->b = query_word_is(t, "TRUE");
    }
    return 0;
}

static int operand(parser_t *p, query_operand_t *o)
{
    o->pos = cur(p)->pos;
    if (at_value(p)) {
        o->kind = QUERY_OPERAND_VALUE;
        return value(p, &o->value);
    }
    if (cur(p)->kind == QTOK_LBRACKET)
        return expected(p, "a property or a value (a [...] list may only follow IN or NIN)");
    o->kind = QUERY_OPERAND_PATH;
    if (cur(p)->kind != QTOK_IDENT && cur(p)->kind != QTOK_ESCAPED)
        return expected(p, "a property or a value");
    return path(p, &o->path);
}

static query_expr_t *new_expr(parser_t *p, query_expr_kind_t kind, size_t pos)
{
    query_expr_t *e = arena_calloc(p->a, 1, sizeof *e);
    if (e) {
        e->kind = kind;
        e->pos = pos;
    }
    return e;
}

static const struct {
    const char *name;
    query_fn_t fn;
} functions[] = {
    {"IS_OF_MODEL", QUERY_FN_IS_OF_MODEL},   {"IS_DEFINED", QUERY_FN_IS_DEFINED},
    {"IS_NULL", QUERY_FN_IS_NULL},           {"IS_BOOL", QUERY_FN_IS_BOOL},
    {"IS_NUMBER", QUERY_FN_IS_NUMBER},       {"IS_STRING", QUERY_FN_IS_STRING},
    {"IS_PRIMITIVE", QUERY_FN_IS_PRIMITIVE}, {"IS_OBJECT", QUERY_FN_IS_OBJECT},
    {"STARTSWITH", QUERY_FN_STARTSWITH},     {"ENDSWITH", QUERY_FN_ENDSWITH},
    {"CONTAINS", QUERY_FN_CONTAINS},         {"ARRAY_CONTAINS", QUERY_FN_ARRAY_CONTAINS},
    {"STARTS_WITH", QUERY_FN_STARTSWITH},    {"ENDS_WITH", QUERY_FN_ENDSWITH}};

const char *query_fn_name(query_fn_t fn)
{
    for (size_t k = 0; k < sizeof functions / sizeof *functions; k++)
        if (functions[k].fn == fn) return functions[k].name;
    return "?";
}

static int call(parser_t *p, query_expr_t **out)
{
    const query_tok_t *t = next(p);
    size_t k = 0;
    while (k < sizeof functions / sizeof *functions && !query_word_is(t, functions[k].name))
        k++;
    if (k == sizeof functions / sizeof *functions)
        return query_fail(p->err, CASTOR_EINVAL, p->q->text, t->pos, "Syntax error",
                          "unknown function '%s'; functions are IS_OF_MODEL, IS_DEFINED, IS_NULL, "
                          "IS_BOOL, IS_NUMBER, IS_STRING, IS_PRIMITIVE, IS_OBJECT, STARTSWITH, "
                          "ENDSWITH, CONTAINS and ARRAY_CONTAINS",
                          t->text);
    query_expr_t *e = new_expr(p, QUERY_EXPR_CALL, t->pos);
    if (!e) return nomem(p);
    e->fn = functions[k].fn;
    next(p); /* '(' */
    size_t cap = 0;
    if (cur(p)->kind != QTOK_RPAREN) {
        do {
            /* `exact` is a flag only as IS_OF_MODEL's last argument; elsewhere it is a name. */
            if (e->fn == QUERY_FN_IS_OF_MODEL && query_word_is(cur(p), "EXACT") &&
                peek(p, 1)->kind != QTOK_DOT) {
                const query_tok_t *x = next(p);
                if (cur(p)->kind != QTOK_RPAREN)
                    return query_fail(p->err, CASTOR_EINVAL, p->q->text, x->pos, "Syntax error",
                                      "exact may only be IS_OF_MODEL's last argument");
                e->exact = true;
                break;
            }
            query_operand_t *o = push(p, &e->args, &e->nargs, &cap, sizeof *o);
            if (!o) return nomem(p);
            int rc = operand(p, o);
            if (rc < 0) return rc;
        } while (accept(p, QTOK_COMMA));
    }
    *out = e;
    return expect(p, QTOK_RPAREN, "',' or ')'");
}

static int in_list(parser_t *p, query_expr_t *e)
{
    int rc = expect(p, QTOK_LBRACKET, "'[' to open the list");
    if (rc < 0) return rc;
    size_t cap = 0;
    do {
        if (e->nitems == CASTOR_QUERY_IN_ITEMS_MAX)
            return limit(p, cur(p)->pos, "an IN or NIN list may hold at most %u items",
                         CASTOR_QUERY_IN_ITEMS_MAX);
        query_value_t *v = push(p, &e->items, &e->nitems, &cap, sizeof *v);
        if (!v) return nomem(p);
        if ((rc = value(p, v)) < 0) return rc;
    } while (accept(p, QTOK_COMMA));
    return expect(p, QTOK_RBRACKET, "',' or ']'");
}

static const struct {
    query_tok_kind_t tok;
    query_cmp_t op;
    const char *name;
} comparisons[] = {{QTOK_EQ, QUERY_CMP_EQ, "="}, {QTOK_NE, QUERY_CMP_NE, "!="},
                   {QTOK_LT, QUERY_CMP_LT, "<"}, {QTOK_LE, QUERY_CMP_LE, "<="},
                   {QTOK_GT, QUERY_CMP_GT, ">"}, {QTOK_GE, QUERY_CMP_GE, ">="}};

const char *query_cmp_name(query_cmp_t op)
{
    for (size_t k = 0; k < sizeof comparisons / sizeof *comparisons; k++)
        if (comparisons[k].op == op) return comparisons[k].name;
    return "?";
}

static int predicate(parser_t *p, query_expr_t **out)
{
    query_operand_t left;
    memset(&left, 0, sizeof left);
    int rc = operand(p, &left);
    if (rc < 0) return rc;
    query_expr_t *e = new_expr(p, QUERY_EXPR_CMP, left.pos);
    if (!e) return nomem(p);
    e->left = left;
    *out = e;
    for (size_t k = 0; k < sizeof comparisons / sizeof *comparisons; k++) {
        if (!accept(p, comparisons[k].tok)) continue;
        e->op = comparisons[k].op;
        return operand(p, &e->right);
    }
    if (accept_kw(p, "IN") || (e->negated = accept_kw(p, "NIN"))) {
        e->kind = QUERY_EXPR_IN;
        return in_list(p, e);
    }
    return expected(p, query_word_is(cur(p), "NOT")
                           ? "a comparison operator (=, !=, <, <=, >, >=), IN or NIN (write NIN "
                             "for NOT IN)"
                           : "a comparison operator (=, !=, <, <=, >, >=), IN or NIN");
}

static int or_expr(parser_t *p, query_expr_t **out);

static int unary(parser_t *p, query_expr_t **out)
{
    const query_tok_t *t = cur(p);
    bool is_not = query_word_is(t, "NOT");
    if (is_not || t->kind == QTOK_LPAREN) {
        if (++p->depth > QUERY_NESTING_MAX)
            return limit(p, t->pos, "conditions may nest at most %u deep", QUERY_NESTING_MAX);
        next(p);
        int rc;
        if (is_not) {
            query_expr_t *e = new_expr(p, QUERY_EXPR_NOT, t->pos);
            if (!e) return nomem(p);
            rc = unary(p, &e->lhs);
            *out = e;
        } else {
            rc = or_expr(p, out);
            if (rc == 0) rc = expect(p, QTOK_RPAREN, "AND, OR or ')'");
        }
        p->depth--;
        return rc;
    }
    if (t->kind == QTOK_IDENT && peek(p, 1)->kind == QTOK_LPAREN) return call(p, out);
    if (t->kind == QTOK_EOF) return expected(p, "a condition");
    return predicate(p, out);
}

/* Both AND and OR count towards ADT's limit of 50 per query. */
static int binary(parser_t *p, query_expr_t **out, const char *kw, query_expr_kind_t kind,
                  int (*operand_fn)(parser_t *, query_expr_t **))
{
    int rc = operand_fn(p, out);
    while (rc == 0 && query_word_is(cur(p), kw)) {
        const query_tok_t *op = next(p);
        if (++p->q->andor > CASTOR_QUERY_ANDOR_MAX)
            return limit(p, op->pos, "a query may have at most %u AND/OR operators",
                         CASTOR_QUERY_ANDOR_MAX);
        query_expr_t *e = new_expr(p, kind, op->pos);
        if (!e) return nomem(p);
        e->lhs = *out;
        rc = operand_fn(p, &e->rhs);
        *out = e;
    }
    return rc;
}

static int and_expr(parser_t *p, query_expr_t **out)
{
    return binary(p, out, "AND", QUERY_EXPR_AND, unary);
}

static int or_expr(parser_t *p, query_expr_t **out)
{
    return binary(p, out, "OR", QUERY_EXPR_OR, and_expr);
}

static int top(parser_t *p)
{
    query_t *q = p->q;
    int rc = expect(p, QTOK_LPAREN, "'(' after TOP");
    if (rc < 0) return rc;
    const query_tok_t *t = cur(p);
    if (t->kind != QTOK_NUMBER || t->value.kind != QUERY_VALUE_INT || t->value.i < 1 ||
        t->value.i > (int64_t)UINT32_MAX)
        return expected(p, "a positive whole number in TOP(...)");
    q->top = (uint32_t)next(p)->value.i;
    return expect(p, QTOK_RPAREN, "')'");
}

static int select_list(parser_t *p)
{
    query_t *q = p->q;
    q->select_pos = cur(p)->pos;
    if (accept_kw(p, "TOP")) {
        q->top_pos = p->t[p->i - 1].pos;
        int rc = top(p);
        if (rc < 0) return rc;
        q->select_pos = cur(p)->pos;
        /* ADT documents `SELECT TOP(5) FROM ...` with no list: whole twins, like `*`. */
        if (query_word_is(cur(p), "FROM")) return 0;
    }
    if (accept(p, QTOK_STAR)) return 0;
    size_t cap = 0;
    do {
        const query_tok_t *t = cur(p);
        if (query_word_is(t, "COUNT") && peek(p, 1)->kind == QTOK_LPAREN) {
            if (q->nitems || q->top)
                return query_fail(p->err, CASTOR_EINVAL, q->text, t->pos, "Syntax error",
                                  "COUNT() must be the only item in the SELECT list");
            next(p);
            next(p);
            if (cur(p)->kind != QTOK_RPAREN) return expected(p, "')' (COUNT takes no arguments)");
            next(p);
            if (cur(p)->kind == QTOK_COMMA)
                return query_fail(p->err, CASTOR_EINVAL, q->text, cur(p)->pos, "Syntax error",
                                  "COUNT() must be the only item in the SELECT list");
            q->select = QUERY_SELECT_COUNT;
            return 0;
        }
        query_select_item_t *it = push(p, &q->items, &q->nitems, &cap, sizeof *it);
        if (!it) return nomem(p);
        q->select = QUERY_SELECT_ITEMS;
        it->pos = t->pos;
        if (t->kind != QTOK_IDENT && t->kind != QTOK_ESCAPED)
            return expected(p, q->nitems == 1 ? "*, COUNT() or a projection" : "a projection");
        int rc = path(p, &it->path);
        if (rc < 0) return rc;
        if (accept_kw(p, "AS") && (rc = name(p, "a name after AS", &it->as, NULL)) < 0) return rc;
    } while (accept(p, QTOK_COMMA));
    return 0;
}

static int join(parser_t *p)
{
    query_t *q = p->q;
    const query_tok_t *kw = next(p);
    if (q->njoins == CASTOR_QUERY_JOINS_MAX)
        return limit(p, kw->pos, "a query may have at most %u JOINs", CASTOR_QUERY_JOINS_MAX);
    /* The JOIN limit is small, so the first JOIN takes room for all of them. */
    if (!q->joins && !(q->joins = arena_calloc(p->a, CASTOR_QUERY_JOINS_MAX, sizeof *q->joins)))
        return nomem(p);
    query_join_t *j = &q->joins[q->njoins++];
    j->pos = kw->pos;
    int rc = alias(p, "an alias after JOIN", &j->target, &j->target_pos);
    if (rc < 0) return rc;
    if (!accept_kw(p, "RELATED")) return expected(p, "RELATED");
    if ((rc = name(p, "the alias of the source twin after RELATED", &j->source, &j->source_pos)) <
        0)
        return rc;
    if ((rc = expect(p, QTOK_DOT, "'.' and a relationship name (RELATED source.name)")) < 0)
        return rc;
    if ((rc = name(p, "a relationship name", &j->rel_name, NULL)) < 0) return rc;
    if (at_alias(p)) return alias(p, "a relationship alias", &j->rel_alias, &j->rel_alias_pos);
    return 0;
}

static int hop_count(parser_t *p, uint32_t *out)
{
    const query_tok_t *t = cur(p);
    if (t->kind != QTOK_NUMBER || t->value.kind != QUERY_VALUE_INT || t->value.i < 0)
        return expected(p, "a whole number of hops");
    if (t->value.i > CASTOR_QUERY_MATCH_HOPS_MAX)
        return limit(p, t->pos, "a MATCH pattern may traverse at most %u hops",
                     CASTOR_QUERY_MATCH_HOPS_MAX);
    *out = (uint32_t)next(p)->value.i;
    return 0;
}

/* The inside of -[...]-: [alias] [:name|name...] [*hops] */
static int edge_body(parser_t *p, query_match_edge_t *e)
{
    int rc;
    if (at_alias(p) && (rc = alias(p, "a relationship variable", &e->alias, NULL)) < 0) return rc;
    if (accept(p, QTOK_COLON)) {
        size_t cap = 0;
        do {
            const char **nm = push(p, &e->names, &e->nnames, &cap, sizeof *nm);
            if (!nm) return nomem(p);
            if ((rc = name(p, "a relationship name", nm, NULL)) < 0) return rc;
        } while (accept(p, QTOK_PIPE));
    }
    e->hops_pos = cur(p)->pos;
    if (accept(p, QTOK_STAR)) {
        if (accept(p, QTOK_DOTDOT)) {
            e->hops = QUERY_HOPS_UPPER;
            return hop_count(p, &e->hi);
        }
        if ((rc = hop_count(p, &e->lo)) < 0) return rc;
        if (!accept(p, QTOK_DOTDOT)) {
            e->hops = QUERY_HOPS_EXACT;
            e->hi = e->lo;
            return 0;
        }
        e->hops = QUERY_HOPS_RANGE;
        return hop_count(p, &e->hi);
    }
    return 0;
}

static int node(parser_t *p, query_match_t *m, size_t *cap)
{
    query_match_node_t *nd = push(p, &m->nodes, &m->nnodes, cap, sizeof *nd);
    if (!nd) return nomem(p);
    nd->pos = cur(p)->pos;
    nd->coll = -1;
    int rc = expect(p, QTOK_LPAREN, "'(' to open a MATCH node");
    if (rc < 0) return rc;
    if (cur(p)->kind != QTOK_RPAREN && (rc = alias(p, "a twin alias or ')'", &nd->alias, NULL)) < 0)
        return rc;
    return expect(p, QTOK_RPAREN, "')'");
}

static int match(parser_t *p)
{
    query_t *q = p->q;
    const query_tok_t *kw = next(p);
    if (q->match)
        return query_fail(p->err, CASTOR_EINVAL, q->text, kw->pos, "Syntax error",
                          "a query may have only one MATCH clause");
    query_match_t *m = q->match = arena_calloc(p->a, 1, sizeof *m);
    if (!m) return nomem(p);
    m->pos = kw->pos;
    size_t ncap = 0, ecap = 0, nedges = 0;
    int rc = node(p, m, &ncap);
    while (rc == 0 && (cur(p)->kind == QTOK_MINUS || cur(p)->kind == QTOK_LT)) {
        query_match_edge_t *e = push(p, &m->edges, &nedges, &ecap, sizeof *e);
        if (!e) return nomem(p);
        e->pos = cur(p)->pos;
        e->coll = -1;
        bool left = accept(p, QTOK_LT);
        if ((rc = expect(p, QTOK_MINUS, left ? "'-' after '<'" : "'-'")) < 0) return rc;
        if ((rc = expect(p, QTOK_LBRACKET,
                         "'[' (an edge is written -[...]->, <-[...]- or "
                         "-[...]-)")) < 0)
            return rc;
        if ((rc = edge_body(p, e)) < 0) return rc;
        if ((rc = expect(p, QTOK_RBRACKET,
                         e->hops ? "']'"
                                 : "':', '*' or ']' (relationship names follow a ':', as in "
                                   "[:contains|has])")) < 0)
            return rc;
        if ((rc = expect(p, QTOK_MINUS, "'-' after ']'")) < 0) return rc;
        bool right = cur(p)->kind == QTOK_GT;
        if (right && left)
            return query_fail(p->err, CASTOR_EINVAL, q->text, e->pos, "Syntax error",
                              "a MATCH edge cannot point both ways; chain two edges instead");
        if (right) next(p);
        e->dir = left ? QUERY_DIR_LEFT : right ? QUERY_DIR_RIGHT : QUERY_DIR_ANY;
        rc = node(p, m, &ncap);
    }
    return rc;
}

static int from(parser_t *p)
{
    query_t *q = p->q;
    q->from_pos = cur(p)->pos;
    if (accept_kw(p, "DIGITALTWINS"))
        q->source = QUERY_FROM_DIGITALTWINS;
    else if (accept_kw(p, "RELATIONSHIPS"))
        q->source = QUERY_FROM_RELATIONSHIPS;
    else
        return expected(p, cur(p)->kind == QTOK_LPAREN
                               ? "DIGITALTWINS or RELATIONSHIPS (subqueries are not supported)"
                               : "DIGITALTWINS or RELATIONSHIPS");
    int rc = 0;
    if (at_alias(p) && (rc = alias(p, "an alias", &q->from_alias, &q->from_alias_pos)) < 0)
        return rc;
    for (;;) {
        if (query_word_is(cur(p), "JOIN"))
            rc = join(p);
        else if (query_word_is(cur(p), "MATCH"))
            rc = match(p);
        else
            return 0;
        if (rc < 0) return rc;
    }
}

static int query_body(parser_t *p)
{
    query_t *q = p->q;
    if (!accept_kw(p, "SELECT")) return expected(p, "SELECT");
    int rc = select_list(p);
    if (rc < 0) return rc;
    if (!accept_kw(p, "FROM"))
        return expected(p, q->select == QUERY_SELECT_ITEMS ? "',' or FROM" : "FROM");
    if ((rc = from(p)) < 0) return rc;
    const char *after = "JOIN, MATCH, WHERE or end of query";
    if (query_word_is(cur(p), "WHERE")) {
        q->where_pos = next(p)->pos;
        if ((rc = or_expr(p, &q->where)) < 0) return rc;
        after = "AND, OR or end of query";
    }
    const query_tok_t *t = cur(p);
    if (t->kind == QTOK_EOF) return 0;
    if (query_word_is(t, "ORDER") || query_word_is(t, "GROUP"))
        return query_fail(p->err, CASTOR_EINVAL, q->text, t->pos, "Syntax error",
                          "%s BY is not supported", query_word_is(t, "ORDER") ? "ORDER" : "GROUP");
    return expected(p, after);
}

int query_parse(arena_t *a, const char *text, size_t len, query_t **out, castor_err *err)
{
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)text[i] & 0xC0) == 0x80) continue;
        if (++chars > CASTOR_QUERY_LENGTH_MAX)
            return query_fail(err, CASTOR_ELIMIT, text, i, "Limit exceeded",
                              "a query may be at most %u characters long", CASTOR_QUERY_LENGTH_MAX);
    }
    query_t *q = arena_calloc(a, 1, sizeof *q);
    char *copy = arena_strndup(a, text, len);
    if (!q || !copy)
        return castor_err_set(err, CASTOR_ELIMIT, "query too large to parse in memory");
    q->text = copy;
    q->len = len;
    parser_t p = {a, q, NULL, 0, 0, 0, err};
    query_tok_t *toks;
    int rc = query_lex(a, text, len, &toks, &p.n, err);
    if (rc < 0) return rc;
    p.t = toks;
    if ((rc = query_body(&p)) < 0) return rc;
    *out = q;
    return 0;
}
