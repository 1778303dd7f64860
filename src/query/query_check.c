/* query_check.c — ADT's semantic rules over a parsed query, and path resolution.
 *
 * After query_check() succeeds every path names the collection it reads (query_path_t's
 * collection/first), every JOIN and MATCH element knows its collection index, and MATCH hop
 * ranges are inclusive min/max: all a SQL compiler needs without re-deriving ADT's rules. */
#include "query/query_int.h"

#include <stdio.h>
#include <string.h>

#include "core/limits.h"

typedef struct checker {
    query_t *q;
    castor_err *err;
} checker_t;

static int fail(checker_t *c, size_t pos, const char *fmt, const char *arg)
{
    return query_fail(c->err, CASTOR_EINVAL, c->q->text, pos, "Semantic error", fmt, arg);
}

static int find(const query_t *q, const char *alias)
{
    for (size_t i = 0; i < q->ncollections; i++)
        if (q->collections[i].alias && strcmp(q->collections[i].alias, alias) == 0) return (int)i;
    return -1;
}

/* Defines an alias (NULL: an unnamed collection); aliases are case-sensitive and unique. */
static int define(checker_t *c, const char *alias, query_coll_kind_t kind, size_t pos, int *idx)
{
    query_t *q = c->q;
    if (alias && find(q, alias) >= 0) return fail(c, pos, "alias '%s' is already defined", alias);
    query_collection_t *coll = &q->collections[q->ncollections];
    coll->alias = alias;
    coll->kind = kind;
    coll->pos = pos;
    *idx = (int)q->ncollections++;
    return 0;
}

static bool single_collection(const query_t *q)
{
    return q->njoins == 0 && q->match == NULL;
}

static int resolve(checker_t *c, query_path_t *p, bool need_property)
{
    int idx = find(c->q, p->segs[0]);
    if (idx >= 0) {
        p->collection = idx;
        p->first = 1;
    } else if (single_collection(c->q)) {
        /* `SELECT name FROM DIGITALTWINS`: an unqualified name is a property of the one
         * collection, whether or not that collection has an alias. */
        p->collection = 0;
        p->first = 0;
    } else {
        return fail(c, p->pos,
                    "'%s' is not a defined alias; with JOIN or MATCH every property starts with "
                    "the alias of its collection",
                    p->segs[0]);
    }
    if (need_property && p->first == p->nsegs)
        return fail(c, p->pos, "expected a property of '%s', not the whole collection", p->segs[0]);
    return 0;
}

static int need_string(checker_t *c, const query_operand_t *o, const char *what)
{
    if (o->kind == QUERY_OPERAND_VALUE && o->value.kind == QUERY_VALUE_STRING) return 0;
    return fail(c, o->pos, "expected %s", what);
}

static int need_path(checker_t *c, query_operand_t *o, const char *what)
{
    if (o->kind != QUERY_OPERAND_PATH) return fail(c, o->pos, "expected %s", what);
    return resolve(c, &o->path, true);
}

static int check_is_of_model(checker_t *c, query_expr_t *e)
{
    query_t *q = c->q;
    if (e->nargs < 1 || e->nargs > 2)
        return fail(c, e->pos,
                    "IS_OF_MODEL takes a model id, optionally preceded by a twin alias and "
                    "followed by exact%s",
                    "");
    query_operand_t *model = &e->args[e->nargs - 1];
    if (e->nargs == 2) {
        query_operand_t *coll = &e->args[0];
        int idx = coll->kind == QUERY_OPERAND_PATH && coll->path.nsegs == 1
                      ? find(q, coll->path.segs[0])
                      : -1;
        if (idx < 0 || q->collections[idx].kind != QUERY_COLL_TWIN)
            return fail(c, coll->pos, "IS_OF_MODEL's first argument must be a twin alias%s", "");
        coll->path.collection = idx;
        coll->path.first = 1;
    } else if (q->source == QUERY_FROM_RELATIONSHIPS) {
        return fail(c, e->pos, "IS_OF_MODEL tests twins, not relationships%s", "");
    } else if (!single_collection(q)) {
        return fail(c, e->pos,
                    "IS_OF_MODEL needs the alias of the twins to test when the query has "
                    "several collections, as in IS_OF_MODEL(T, 'dtmi:...')%s",
                    "");
    }
    int rc = need_string(c, model, "a model id string ('dtmi:...') in IS_OF_MODEL");
    if (rc < 0) return rc;
    if (strncmp(model->value.s, "dtmi:", 5) != 0)
        return fail(c, model->pos,
                    "'%s' is not a model id; model ids start with dtmi:", model->value.s);
    return 0;
}

static int check_call(checker_t *c, query_expr_t *e)
{
    const char *fn = query_fn_name(e->fn);
    char what[96];
    switch (e->fn) {
    case QUERY_FN_IS_OF_MODEL:
        return check_is_of_model(c, e);
    case QUERY_FN_STARTSWITH:
    case QUERY_FN_ENDSWITH:
    case QUERY_FN_CONTAINS:
    case QUERY_FN_ARRAY_CONTAINS: {
        if (e->nargs != 2) return fail(c, e->pos, "%s takes two arguments", fn);
        snprintf(what, sizeof what, "a property as %s's first argument", fn);
        int rc = need_path(c, &e->args[0], what);
        if (rc < 0) return rc;
        if (e->fn != QUERY_FN_ARRAY_CONTAINS) {
            snprintf(what, sizeof what, "a string as %s's second argument", fn);
            return need_string(c, &e->args[1], what);
        }
        if (e->args[1].kind != QUERY_OPERAND_VALUE || e->args[1].value.kind == QUERY_VALUE_NULL)
            return fail(c, e->args[1].pos,
                        "expected a string, number or boolean as %s's second argument", fn);
        return 0;
    }
    default:
        if (e->nargs != 1) return fail(c, e->pos, "%s takes one property", fn);
        snprintf(what, sizeof what, "a property as %s's argument", fn);
        return need_path(c, &e->args[0], what);
    }
}

static int check_operand(checker_t *c, query_operand_t *o)
{
    return o->kind == QUERY_OPERAND_PATH ? resolve(c, &o->path, true) : 0;
}

static int check_expr(checker_t *c, query_expr_t *e)
{
    int rc;
    switch (e->kind) {
    case QUERY_EXPR_AND:
    case QUERY_EXPR_OR:
        if ((rc = check_expr(c, e->lhs)) < 0) return rc;
        return check_expr(c, e->rhs);
    case QUERY_EXPR_NOT:
        return check_expr(c, e->lhs);
    case QUERY_EXPR_CMP:
        if ((rc = check_operand(c, &e->left)) < 0) return rc;
        return check_operand(c, &e->right);
    case QUERY_EXPR_IN:
        return need_path(c, &e->left,
                         e->negated ? "a property before NIN" : "a property before IN");
    case QUERY_EXPR_CALL:
        return check_call(c, e);
    }
    return 0;
}

static bool is_dtid(const query_t *q, const query_operand_t *o)
{
    if (o->kind != QUERY_OPERAND_PATH || o->path.collection < 0) return false;
    const query_path_t *p = &o->path;
    return q->collections[p->collection].kind == QUERY_COLL_TWIN && p->nsegs == p->first + 1 &&
           strcmp(p->segs[p->first], "$dtId") == 0;
}

/* True when every row the condition admits has some twin's $dtId pinned by = or IN: the
 * anchor ADT requires for JOIN and MATCH so a traversal starts from known twins. */
static bool anchored(const query_t *q, const query_expr_t *e)
{
    if (!e) return false;
    switch (e->kind) {
    case QUERY_EXPR_AND:
        return anchored(q, e->lhs) || anchored(q, e->rhs);
    case QUERY_EXPR_OR:
        return anchored(q, e->lhs) && anchored(q, e->rhs);
    case QUERY_EXPR_CMP:
        return e->op == QUERY_CMP_EQ &&
               ((is_dtid(q, &e->left) && e->right.kind == QUERY_OPERAND_VALUE) ||
                (is_dtid(q, &e->right) && e->left.kind == QUERY_OPERAND_VALUE));
    case QUERY_EXPR_IN:
        return !e->negated && is_dtid(q, &e->left);
    default:
        return false;
    }
}

static int check_edge(checker_t *c, query_match_edge_t *e, uint32_t *total)
{
    char shown[64];
    if (e->alias && e->hops != QUERY_HOPS_NONE)
        return fail(c, e->hops_pos,
                    "relationship variable '%s' cannot be combined with a hop count (*n); a "
                    "variable binds exactly one hop",
                    e->alias);
    switch (e->hops) {
    case QUERY_HOPS_NONE:
        e->min_hops = e->max_hops = 1;
        break;
    case QUERY_HOPS_EXACT:
        e->min_hops = e->max_hops = e->lo;
        break;
    case QUERY_HOPS_UPPER:
        e->min_hops = 1, e->max_hops = e->hi;
        break;
    case QUERY_HOPS_RANGE:
        /* ADT's lower bound is exclusive: *1..3 is 2 or 3 hops. */
        e->min_hops = e->lo + 1;
        e->max_hops = e->hi;
        if (e->lo >= e->hi) {
            snprintf(shown, sizeof shown, "*%u..%u", e->lo, e->hi);
            return fail(c, e->hops_pos,
                        "hop range %s is empty: the lower bound is exclusive, so *1..3 means 2 "
                        "or 3 hops",
                        shown);
        }
        break;
    }
    if (e->max_hops < 1) return fail(c, e->hops_pos, "a MATCH edge needs at least one hop%s", "");
    *total += e->max_hops;
    if (*total > CASTOR_QUERY_MATCH_HOPS_MAX)
        return query_fail(c->err, CASTOR_ELIMIT, c->q->text, e->hops_pos, "Limit exceeded",
                          "a MATCH pattern may traverse at most %u hops in all",
                          CASTOR_QUERY_MATCH_HOPS_MAX);
    return 0;
}

static int check_match(checker_t *c)
{
    query_t *q = c->q;
    query_match_t *m = q->match;
    if (q->source == QUERY_FROM_RELATIONSHIPS)
        return fail(c, m->pos, "MATCH cannot follow FROM RELATIONSHIPS%s", "");
    if (q->njoins) return fail(c, q->joins[0].pos, "JOIN and MATCH cannot be combined%s", "");
    if (q->from_alias)
        return fail(c, q->from_alias_pos,
                    "FROM DIGITALTWINS takes no alias with MATCH; name twins in the pattern, as "
                    "in MATCH (%s)",
                    q->from_alias);
    uint32_t total = 0;
    int rc;
    for (size_t i = 0; i < m->nnodes; i++) {
        query_match_node_t *nd = &m->nodes[i];
        if (nd->alias && (rc = define(c, nd->alias, QUERY_COLL_TWIN, nd->pos, &nd->coll)) < 0)
            return rc;
        if (i + 1 == m->nnodes) break;
        query_match_edge_t *e = &m->edges[i];
        if ((rc = check_edge(c, e, &total)) < 0) return rc;
        if (e->alias && (rc = define(c, e->alias, QUERY_COLL_RELATIONSHIP, e->pos, &e->coll)) < 0)
            return rc;
    }
    return 0;
}

static int check_joins(checker_t *c)
{
    query_t *q = c->q;
    int rc;
    for (size_t i = 0; i < q->njoins; i++) {
        query_join_t *j = &q->joins[i];
        if (q->source == QUERY_FROM_RELATIONSHIPS)
            return fail(c, j->pos, "JOIN cannot follow FROM RELATIONSHIPS%s", "");
        j->source_coll = find(q, j->source);
        if (j->source_coll < 0)
            return fail(c, j->source_pos,
                        "alias '%s' is not defined; RELATED names the FROM alias or an earlier "
                        "JOIN's",
                        j->source);
        if (q->collections[j->source_coll].kind != QUERY_COLL_TWIN)
            return fail(c, j->source_pos, "'%s' is a relationship; RELATED needs a twin alias",
                        j->source);
        if ((rc = define(c, j->target, QUERY_COLL_TWIN, j->target_pos, &j->target_coll)) < 0)
            return rc;
        j->rel_coll = -1;
        if (j->rel_alias && (rc = define(c, j->rel_alias, QUERY_COLL_RELATIONSHIP, j->rel_alias_pos,
                                         &j->rel_coll)) < 0)
            return rc;
    }
    return 0;
}

static int check_select(checker_t *c)
{
    query_t *q = c->q;
    if (q->select == QUERY_SELECT_STAR && !single_collection(q) &&
        (q->njoins || q->match->nnodes > 1))
        return fail(c, q->select_pos,
                    "SELECT * cannot be used with %s; name the collections to return, as in "
                    "SELECT A, B",
                    q->njoins ? "JOIN" : "a MATCH pattern of several twins");
    for (size_t i = 0; i < q->nitems; i++) {
        int rc = resolve(c, &q->items[i].path, false);
        if (rc < 0) return rc;
    }
    return 0;
}

int query_check(arena_t *a, query_t *q, castor_err *err)
{
    checker_t c = {q, err};
    size_t most = 1 + 2 * q->njoins + (q->match ? 2 * q->match->nnodes : 0);
    q->collections = arena_calloc(a, most, sizeof *q->collections);
    if (!q->collections)
        return castor_err_set(err, CASTOR_ELIMIT, "query too large to check in memory");
    q->ncollections = 0;
    int rc, idx;
    if (q->match) {
        rc = check_match(&c);
    } else {
        query_coll_kind_t kind =
            q->source == QUERY_FROM_RELATIONSHIPS ? QUERY_COLL_RELATIONSHIP : QUERY_COLL_TWIN;
        rc = define(&c, q->from_alias, kind, q->from_pos, &idx);
        if (rc == 0) rc = check_joins(&c);
    }
    if (rc < 0) return rc;
    if ((rc = check_select(&c)) < 0) return rc;
    if (q->where && (rc = check_expr(&c, q->where)) < 0) return rc;
    if ((q->njoins || q->match) && !anchored(q, q->where))
        return fail(&c, q->njoins ? q->joins[0].pos : q->match->pos,
                    "a query with %s must pin a twin's $dtId in WHERE with = or IN, as in WHERE "
                    "T.$dtId = '...'",
                    q->njoins ? "JOIN" : "MATCH");
    q->checked = true;
    return 0;
}

int query_prepare(arena_t *a, const char *text, size_t len, query_t **out, castor_err *err)
{
    query_t *q;
    int rc = query_parse(a, text, len, &q, err);
    if (rc < 0) return rc;
    if ((rc = query_check(a, q, err)) < 0) return rc;
    *out = q;
    return 0;
}
