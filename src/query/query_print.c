/* query_print.c — the AST back to canonical query text.
 *
 * Canonical: upper-case keywords, one space between words, no optional parentheses, names
 * escaped as [[...]] exactly when the lexer would not read them back as the same name, and
 * strings in single quotes. Parsing the output gives an AST equal to the input (query_equal),
 * which the tests and the fuzz target hold it to. Two passes: measure, then write. */
#include "query/query_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct writer {
    char *buf; /* NULL while measuring */
    size_t len;
} writer_t;

static void put(writer_t *w, const char *s, size_t n)
{
    if (w->buf) memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void puts_(writer_t *w, const char *s)
{
    put(w, s, strlen(s));
}

static void put_name(writer_t *w, const char *name)
{
    bool esc = query_needs_escape(name);
    if (esc) puts_(w, "[[");
    puts_(w, name);
    if (esc) puts_(w, "]]");
}

static void put_path(writer_t *w, const query_path_t *p)
{
    for (size_t i = 0; i < p->nsegs; i++) {
        if (i) puts_(w, ".");
        put_name(w, p->segs[i]);
    }
}

static void put_string(writer_t *w, const char *s, size_t n)
{
    puts_(w, "'");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        char letter = query_escape_letter((char)c);
        if (letter) {
            char two[2] = {'\\', letter};
            put(w, two, 2);
            continue;
        }
        if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04X", c);
            puts_(w, esc);
        } else {
            put(w, (const char *)&s[i], 1);
        }
    }
    puts_(w, "'");
}

static void put_value(writer_t *w, const query_value_t *v)
{
    char num[40];
    switch (v->kind) {
    case QUERY_VALUE_NULL:
        puts_(w, "null");
        return;
    case QUERY_VALUE_BOOL:
        puts_(w, v->b ? "true" : "false");
        return;
    case QUERY_VALUE_STRING:
        put_string(w, v->s, v->len);
        return;
    case QUERY_VALUE_INT:
        snprintf(num, sizeof num, "%" PRId64, v->i);
        break;
    case QUERY_VALUE_DOUBLE:
        /* %.17g round-trips a double; a '.0' keeps `1000.0` a double when read back. */
        snprintf(num, sizeof num, "%.17g", v->d);
        if (!strpbrk(num, ".e")) strcat(num, ".0");
        break;
    }
    puts_(w, num);
}

static void put_operand(writer_t *w, const query_operand_t *o)
{
    if (o->kind == QUERY_OPERAND_PATH)
        put_path(w, &o->path);
    else
        put_value(w, &o->value);
}

static void put_expr(writer_t *w, const query_expr_t *e);

/* Parentheses only where the parser would otherwise build another tree: an OR under AND or
 * NOT, an AND under NOT, and a right operand of the same operator (AND/OR associate left). */
static void put_child(writer_t *w, const query_expr_t *parent, const query_expr_t *child,
                      bool right)
{
    bool paren = (child->kind == QUERY_EXPR_OR && parent->kind != QUERY_EXPR_OR) ||
                 (child->kind == QUERY_EXPR_AND && parent->kind == QUERY_EXPR_NOT) ||
                 (right && child->kind == parent->kind);
    if (paren) puts_(w, "(");
    put_expr(w, child);
    if (paren) puts_(w, ")");
}

static void put_expr(writer_t *w, const query_expr_t *e)
{
    switch (e->kind) {
    case QUERY_EXPR_AND:
    case QUERY_EXPR_OR:
        put_child(w, e, e->lhs, false);
        puts_(w, e->kind == QUERY_EXPR_AND ? " AND " : " OR ");
        put_child(w, e, e->rhs, true);
        return;
    case QUERY_EXPR_NOT:
        puts_(w, "NOT ");
        put_child(w, e, e->lhs, false);
        return;
    case QUERY_EXPR_CMP:
        put_operand(w, &e->left);
        puts_(w, " ");
        puts_(w, query_cmp_name(e->op));
        puts_(w, " ");
        put_operand(w, &e->right);
        return;
    case QUERY_EXPR_IN:
        put_operand(w, &e->left);
        puts_(w, e->negated ? " NIN [" : " IN [");
        for (size_t i = 0; i < e->nitems; i++) {
            if (i) puts_(w, ", ");
            put_value(w, &e->items[i]);
        }
        puts_(w, "]");
        return;
    case QUERY_EXPR_CALL:
        puts_(w, query_fn_name(e->fn));
        puts_(w, "(");
        for (size_t i = 0; i < e->nargs; i++) {
            if (i) puts_(w, ", ");
            put_operand(w, &e->args[i]);
        }
        if (e->exact) puts_(w, e->nargs ? ", exact" : "exact");
        puts_(w, ")");
        return;
    }
}

static void put_edge(writer_t *w, const query_match_edge_t *e)
{
    char hops[32] = "";
    puts_(w, e->dir == QUERY_DIR_LEFT ? "<-[" : "-[");
    if (e->alias) put_name(w, e->alias);
    for (size_t i = 0; i < e->nnames; i++) {
        puts_(w, i ? "|" : ":");
        put_name(w, e->names[i]);
    }
    switch (e->hops) {
    case QUERY_HOPS_NONE:
        break;
    case QUERY_HOPS_EXACT:
        snprintf(hops, sizeof hops, "*%u", e->lo);
        break;
    case QUERY_HOPS_RANGE:
        snprintf(hops, sizeof hops, "*%u..%u", e->lo, e->hi);
        break;
    case QUERY_HOPS_UPPER:
        snprintf(hops, sizeof hops, "*..%u", e->hi);
        break;
    }
    puts_(w, hops);
    puts_(w, e->dir == QUERY_DIR_RIGHT ? "]->" : "]-");
}

static void put_node(writer_t *w, const query_match_node_t *n)
{
    puts_(w, "(");
    if (n->alias) put_name(w, n->alias);
    puts_(w, ")");
}

static void put_select(writer_t *w, const query_t *q)
{
    char top[32];
    puts_(w, "SELECT ");
    if (q->top) {
        snprintf(top, sizeof top, "TOP(%u) ", q->top);
        puts_(w, top);
    }
    switch (q->select) {
    case QUERY_SELECT_STAR:
        puts_(w, q->top ? "" : "* ");
        break;
    case QUERY_SELECT_COUNT:
        puts_(w, "COUNT() ");
        break;
    case QUERY_SELECT_ITEMS:
        for (size_t i = 0; i < q->nitems; i++) {
            put_path(w, &q->items[i].path);
            if (q->items[i].as) {
                puts_(w, " AS ");
                put_name(w, q->items[i].as);
            }
            puts_(w, i + 1 < q->nitems ? ", " : " ");
        }
        break;
    }
}

static void put_query(writer_t *w, const query_t *q)
{
    put_select(w, q);
    puts_(w, q->source == QUERY_FROM_RELATIONSHIPS ? "FROM RELATIONSHIPS" : "FROM DIGITALTWINS");
    if (q->from_alias) {
        puts_(w, " ");
        put_name(w, q->from_alias);
    }
    for (size_t i = 0; i < q->njoins; i++) {
        const query_join_t *j = &q->joins[i];
        puts_(w, " JOIN ");
        put_name(w, j->target);
        puts_(w, " RELATED ");
        put_name(w, j->source);
        puts_(w, ".");
        put_name(w, j->rel_name);
        if (j->rel_alias) {
            puts_(w, " ");
            put_name(w, j->rel_alias);
        }
    }
    if (q->match) {
        puts_(w, " MATCH ");
        for (size_t i = 0; i < q->match->nnodes; i++) {
            if (i) put_edge(w, &q->match->edges[i - 1]);
            put_node(w, &q->match->nodes[i]);
        }
    }
    if (q->where) {
        puts_(w, " WHERE ");
        put_expr(w, q->where);
    }
}

int query_print(arena_t *a, const query_t *q, char **out, castor_err *err)
{
    writer_t w = {NULL, 0};
    put_query(&w, q);
    w.buf = arena_alloc(a, w.len + 1);
    if (!w.buf) return castor_err_set(err, CASTOR_ELIMIT, "query too large to print in memory");
    w.len = 0;
    put_query(&w, q);
    w.buf[w.len] = '\0';
    *out = w.buf;
    return 0;
}
