/* query_equal.c — structural equality of two parsed queries.
 *
 * Compares what the text says (clauses, names, literals, tree shape) and ignores what depends
 * on layout or on query_check (positions, resolved collections, AND/OR count), so that
 * parse(print(parse(q))) can be held equal to parse(q). */
#include "query/query_int.h"

#include <string.h>

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool value_eq(const query_value_t *a, const query_value_t *b)
{
    if (a->kind != b->kind) return false;
    switch (a->kind) {
    case QUERY_VALUE_NULL:
        return true;
    case QUERY_VALUE_BOOL:
        return a->b == b->b;
    case QUERY_VALUE_INT:
        return a->i == b->i;
    case QUERY_VALUE_DOUBLE:
        return memcmp(&a->d, &b->d, sizeof a->d) == 0;
    case QUERY_VALUE_STRING:
        return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
    }
    return false;
}

static bool names_eq(const char *const *a, size_t na, const char *const *b, size_t nb)
{
    if (na != nb) return false;
    for (size_t i = 0; i < na; i++)
        if (!str_eq(a[i], b[i])) return false;
    return true;
}

static bool path_eq(const query_path_t *a, const query_path_t *b)
{
    return names_eq(a->segs, a->nsegs, b->segs, b->nsegs);
}

static bool operand_eq(const query_operand_t *a, const query_operand_t *b)
{
    if (a->kind != b->kind) return false;
    return a->kind == QUERY_OPERAND_PATH ? path_eq(&a->path, &b->path)
                                         : value_eq(&a->value, &b->value);
}

static bool expr_eq(const query_expr_t *a, const query_expr_t *b)
{
    if (!a || !b) return a == b;
    if (a->kind != b->kind) return false;
    switch (a->kind) {
    case QUERY_EXPR_AND:
    case QUERY_EXPR_OR:
        return expr_eq(a->lhs, b->lhs) && expr_eq(a->rhs, b->rhs);
    case QUERY_EXPR_NOT:
        return expr_eq(a->lhs, b->lhs);
    case QUERY_EXPR_CMP:
        return a->op == b->op && operand_eq(&a->left, &b->left) && operand_eq(&a->right, &b->right);
    case QUERY_EXPR_IN:
        if (a->negated != b->negated || a->nitems != b->nitems || !operand_eq(&a->left, &b->left))
            return false;
        for (size_t i = 0; i < a->nitems; i++)
            if (!value_eq(&a->items[i], &b->items[i])) return false;
        return true;
    case QUERY_EXPR_CALL:
        if (a->fn != b->fn || a->exact != b->exact || a->nargs != b->nargs) return false;
        for (size_t i = 0; i < a->nargs; i++)
            if (!operand_eq(&a->args[i], &b->args[i])) return false;
        return true;
    }
    return false;
}

static bool match_eq(const query_match_t *a, const query_match_t *b)
{
    if (!a || !b) return a == b;
    if (a->nnodes != b->nnodes) return false;
    for (size_t i = 0; i < a->nnodes; i++)
        if (!str_eq(a->nodes[i].alias, b->nodes[i].alias)) return false;
    for (size_t i = 0; i + 1 < a->nnodes; i++) {
        const query_match_edge_t *x = &a->edges[i], *y = &b->edges[i];
        if (x->dir != y->dir || !str_eq(x->alias, y->alias) || x->hops != y->hops ||
            x->lo != y->lo || x->hi != y->hi || !names_eq(x->names, x->nnames, y->names, y->nnames))
            return false;
    }
    return true;
}

bool query_equal(const query_t *a, const query_t *b)
{
    if (a->top != b->top || a->select != b->select || a->nitems != b->nitems ||
        a->source != b->source || !str_eq(a->from_alias, b->from_alias) || a->njoins != b->njoins ||
        !match_eq(a->match, b->match) || !expr_eq(a->where, b->where))
        return false;
    for (size_t i = 0; i < a->nitems; i++)
        if (!path_eq(&a->items[i].path, &b->items[i].path) ||
            !str_eq(a->items[i].as, b->items[i].as))
            return false;
    for (size_t i = 0; i < a->njoins; i++) {
        const query_join_t *x = &a->joins[i], *y = &b->joins[i];
        if (!str_eq(x->target, y->target) || !str_eq(x->source, y->source) ||
            !str_eq(x->rel_name, y->rel_name) || !str_eq(x->rel_alias, y->rel_alias))
            return false;
    }
    return true;
}
