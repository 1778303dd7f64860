/* test_query_match.c — MATCH edges of one direction and a fixed hop count, which the compiler
 * walks with joins over relationships instead of the recursive CTE of the general form: on a
 * small graph with cycles, a self-loop and a parallel relationship, every such pattern (both
 * directions, with and without names, pinned at either end, chained with ranges, with a
 * relationship variable, with an unnamed node) returns exactly the rows of the recursive form
 * (query_sql_in_t.walk_recursive), in the same order; COUNT agrees; pages joined by their
 * continuation keys give the same rows; and no walk uses one relationship twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/ids.h"
#include "query/query_sql.h"
#include "store/store.h"
#include "store/store_query.h"
#include "store/store_twins.h"
#include "test_query_seed.h"
#include "test_seed.h"
#include "test_util.h"

/*   a -r1:near-> b -r2:near-> c -r3:near-> a        a cycle of three
 *   a -r7:near-> b                                  a parallel relationship (same ends as r1)
 *   b -r4:far-> d -r5:near-> b                      a cycle of two, two names
 *   c -r6:near-> c                                  a self-loop
 *   e -r8:far-> a                                   a way in only */
static const char *const TWINS[] = {"a", "b", "c", "d", "e"};
static const char *const RELS[][4] = {
    {"a", "r1", "b", "near"}, {"b", "r2", "c", "near"}, {"c", "r3", "a", "near"},
    {"b", "r4", "d", "far"},  {"d", "r5", "b", "near"}, {"c", "r6", "c", "near"},
    {"a", "r7", "b", "near"}, {"e", "r8", "a", "far"},
};
#define NTWINS (sizeof TWINS / sizeof TWINS[0])

typedef struct fixture {
    char *dir;
    store_t *store;
    char inst[STORE_ID_MAX];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    ids_init();
    if (test_store_open_tmp(2, &f->dir, &f->store) < 0) return -1;
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(test_query_seed(t, "m", f->inst, &err), 0);
    for (size_t i = 0; i < NTWINS; i++) {
        char doc[160];
        snprintf(doc, sizeof doc,
                 "{\"$dtId\":\"%s\",\"$etag\":\"W/\\\"e\\\"\",\"$metadata\":{\"$model\":"
                 "\"dtmi:m:M;1\"}}",
                 TWINS[i]);
        store_twin_t tw = {.id = TWINS[i], .model_id = "dtmi:m:M;1", .etag = "W/\"e\"", .doc = doc};
        assert_int_equal(store_twin_put(t, f->inst, &tw, &err), 0);
    }
    for (size_t i = 0; i < sizeof RELS / sizeof RELS[0]; i++) {
        char doc[200];
        snprintf(doc, sizeof doc,
                 "{\"$relationshipId\":\"%s\",\"$sourceId\":\"%s\",\"$targetId\":\"%s\","
                 "\"$relationshipName\":\"%s\"}",
                 RELS[i][1], RELS[i][0], RELS[i][2], RELS[i][3]);
        store_rel_t r = {.source_id = RELS[i][0],
                         .id = RELS[i][1],
                         .target_id = RELS[i][2],
                         .name = RELS[i][3],
                         .etag = "W/\"e\"",
                         .doc = doc};
        assert_int_equal(store_rel_put(t, f->inst, &r, &err), 0);
    }
    assert_int_equal(store_commit(t, &err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    test_store_close_tmp(f->store, f->dir);
    free(f);
    return 0;
}

/* ---- running a query ---- */

#define MAX_ROWS 512
#define ROW_MAX 1024

/* The rows of one run: each row as its columns joined by '|' (NULL as "-"), and its key. */
typedef struct rows {
    size_t n, nkeys;
    char row[MAX_ROWS][ROW_MAX];
    int64_t key[MAX_ROWS][8];
} rows_t;

static int take_row(const store_qrow_t *row, void *ctx)
{
    rows_t *r = ctx;
    assert_true(r->n < MAX_ROWS);
    char *w = r->row[r->n];
    size_t left = ROW_MAX;
    w[0] = 0;
    for (int i = 0; i < store_qrow_columns(row); i++) {
        const char *s = store_qrow_text(row, i, NULL);
        int k = snprintf(w, left, "%s%s", i ? "|" : "", s ? s : "-");
        assert_true(k >= 0 && (size_t)k < left);
        w += k;
        left -= (size_t)k;
    }
    for (size_t i = 0; i < r->nkeys && i < 8; i++)
        r->key[r->n][i] = store_qrow_int(row, (int)i);
    r->n++;
    return 0;
}

/* Compiles text (the recursive form when recursive) and appends its rows to out; returns the
 * compiled SQL (malloc'ed, caller frees) so a test can see which form ran. */
static char *run(fixture_t *f, const char *text, bool recursive, const int64_t *after,
                 int64_t limit, rows_t *out)
{
    arena_t a;
    arena_init(&a, 4u << 20);
    query_t *q;
    castor_err err;
    int rc = query_prepare(&a, text, strlen(text), &q, &err);
    if (rc < 0) fprintf(stderr, "%s: %s\n", text, err.message);
    assert_int_equal(rc, 0);
    query_sql_in_t in = {.instance = f->inst,
                         .instance_key = "m",
                         .after = after,
                         .nafter = after ? query_sql_nkeys(q) : 0,
                         .limit = limit,
                         .walk_recursive = recursive};
    query_sql_t qs;
    rc = query_compile(&a, q, &query_dialect_sqlite, &in, &qs, &err);
    if (rc < 0) fprintf(stderr, "%s: %s\n", text, err.message);
    assert_int_equal(rc, 0);
    store_qparam_t p[128];
    assert_true(qs.nparams <= 128);
    for (size_t i = 0; i < qs.nparams; i++) {
        const query_param_t *x = &qs.params[i];
        p[i] = (store_qparam_t){.type = x->kind == QUERY_PARAM_INT      ? SQ_INT
                                        : x->kind == QUERY_PARAM_DOUBLE ? SQ_REAL
                                        : x->kind == QUERY_PARAM_TEXT   ? SQ_TEXT
                                                                        : SQ_NULL,
                                .i = x->i,
                                .d = x->d,
                                .s = x->s};
    }
    out->nkeys = qs.nkeys;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    rc = store_query_run(t, qs.sql, p, (int)qs.nparams, 0, take_row, out, NULL, &err);
    if (rc < 0) fprintf(stderr, "%s: %s\n%s\n", text, err.message, qs.sql);
    assert_true(rc >= 0);
    store_rollback(t);
    char *sql = strdup(qs.sql);
    arena_free(&a);
    return sql;
}

static void assert_same_rows(const char *text, const rows_t *want, const rows_t *got)
{
    if (want->n != got->n) fprintf(stderr, "%s: %zu rows, want %zu\n", text, got->n, want->n);
    assert_int_equal(got->n, want->n);
    for (size_t i = 0; i < want->n; i++) {
        if (strcmp(want->row[i], got->row[i]) != 0)
            fprintf(stderr, "%s: row %zu is\n  %s\nwant\n  %s\n", text, i, got->row[i],
                    want->row[i]);
        assert_string_equal(got->row[i], want->row[i]);
    }
}

/* ---- the patterns ---- */

/* Each pattern: the select list, then the rest with %u the fixed edge's hop count and %s the
 * pinned id. Every one has at least one edge the compiler walks with joins. */
static const char *const PATTERNS[][2] = {
    {"X, Y", "MATCH (X)-[*%u]->(Y) WHERE X.$dtId = '%s'"},
    {"X, Y", "MATCH (X)-[:near*%u]->(Y) WHERE X.$dtId = '%s'"},
    {"X.$dtId, Y.$dtId", "MATCH (X)<-[:near|far*%u]-(Y) WHERE X.$dtId = '%s'"},
    {"X, Y", "MATCH (X)-[*%u]->(Y) WHERE Y.$dtId = '%s'"},
    {"X, Y", "MATCH (X)<-[:far|near*%u]-(Y) WHERE Y.$dtId = '%s'"},
    {"Y", "MATCH (X)-[:near*%u]->(Y) WHERE X.$dtId IN ['a', '%s']"},
    {"X, Y, Z", "MATCH (X)-[*%u]->(Y)-[:near*..2]->(Z) WHERE X.$dtId = '%s'"},
    {"X, Z", "MATCH (X)-[*..2]->(Y)<-[*%u]-(Z) WHERE Y.$dtId = '%s'"},
    {"X, Z", "MATCH (X)-[:near*%u]->()-[:far]->(Z) WHERE X.$dtId = '%s'"},
    {"X, Y, Z", "MATCH (X)-[*%u]->(Y)-[*2]->(Z) WHERE Z.$dtId = '%s'"},
    {"R, R.$relationshipId, Z", "MATCH (X)-[R:near]->(Y)-[*%u]->(Z) WHERE X.$dtId = '%s'"},
    {"X, R, Y", "MATCH (Y)<-[R]-(X)<-[*%u]-(Z) WHERE Y.$dtId = '%s'"},
    {"Y", "MATCH (X)-[*%u]->(Y) WHERE X.$dtId = '%s' AND Y.$dtId != 'b'"},
};
#define NPATTERNS (sizeof PATTERNS / sizeof PATTERNS[0])
#define MAX_HOPS 4u

static void text_of(char *buf, size_t n, const char *select, size_t p, unsigned hops,
                    const char *id)
{
    char rest[256];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(rest, sizeof rest, PATTERNS[p][1], hops, id);
#pragma GCC diagnostic pop
    snprintf(buf, n, "SELECT %s FROM DIGITALTWINS %s", select ? select : PATTERNS[p][0], rest);
}

/* Rows, their order and their COUNT are those of the recursive form, for every pattern, hop
 * count and pinned twin; and the joins form is the one that ran. */
static void test_fixed_equals_recursive(void **state)
{
    fixture_t *f = *state;
    static rows_t want, got, count;
    size_t nonempty = 0;
    for (size_t p = 0; p < NPATTERNS; p++)
        for (unsigned hops = 1; hops <= MAX_HOPS; hops++)
            for (size_t i = 0; i < NTWINS; i++) {
                char text[400];
                text_of(text, sizeof text, NULL, p, hops, TWINS[i]);
                memset(&want, 0, sizeof want);
                memset(&got, 0, sizeof got);
                char *rsql = run(f, text, true, NULL, 1000, &want);
                char *fsql = run(f, text, false, NULL, 1000, &got);
                /* h<edge>_1 are the joined hops of a fixed walk. */
                assert_null(strstr(rsql, "_1.instance_id"));
                if (!strstr(fsql, "_1.instance_id")) fprintf(stderr, "%s: %s\n", text, fsql);
                assert_non_null(strstr(fsql, "_1.instance_id"));
                free(rsql);
                free(fsql);
                assert_same_rows(text, &want, &got);
                nonempty += want.n > 0;
                /* COUNT: the distinct rows, by either form. */
                for (int recursive = 0; recursive < 2; recursive++) {
                    text_of(text, sizeof text, "COUNT()", p, hops, TWINS[i]);
                    memset(&count, 0, sizeof count);
                    free(run(f, text, recursive, NULL, 1000, &count));
                    assert_int_equal(count.n, 1);
                    char n[24];
                    snprintf(n, sizeof n, "%zu", want.n);
                    if (strcmp(count.row[0], n) != 0)
                        fprintf(stderr, "%s (%s): %s, want %s\n", text,
                                recursive ? "recursive" : "joins", count.row[0], n);
                    assert_string_equal(count.row[0], n);
                }
            }
    /* The graph makes most of them answer something (a comparison of empty sets proves
     * little). */
    assert_true(nonempty > NPATTERNS * MAX_HOPS * NTWINS / 2);
}

/* Pages of 1, 2 and 3 rows, each continuing after the last row's key, add up to the rows of
 * one run of the recursive form. */
static void test_paging(void **state)
{
    fixture_t *f = *state;
    static rows_t want, page, all;
    for (size_t p = 0; p < NPATTERNS; p++)
        for (unsigned hops = 1; hops <= MAX_HOPS; hops += 2)
            for (size_t i = 0; i < NTWINS; i++) {
                char text[400];
                text_of(text, sizeof text, NULL, p, hops, TWINS[i]);
                memset(&want, 0, sizeof want);
                free(run(f, text, true, NULL, 1000, &want));
                for (int64_t size = 1; size <= 3; size++) {
                    memset(&all, 0, sizeof all);
                    const int64_t *after = NULL;
                    int64_t key[8];
                    for (;;) {
                        memset(&page, 0, sizeof page);
                        free(run(f, text, false, after, size, &page));
                        assert_true(page.n <= (size_t)size);
                        for (size_t r = 0; r < page.n; r++)
                            memcpy(all.row[all.n++], page.row[r], ROW_MAX);
                        if (page.n < (size_t)size) break;
                        memcpy(key, page.key[page.n - 1], sizeof key);
                        after = key;
                    }
                    assert_same_rows(text, &want, &all);
                }
            }
}

/* What the rule "no relationship twice on one walk" excludes, spelled out on the graph. */
static void test_no_reuse(void **state)
{
    fixture_t *f = *state;
    static const struct {
        const char *text;
        const char *ids; /* the $dtIds returned, in row order, space-separated */
    } cases[] = {
        /* c -r6-> c -r3-> a, c -r3-> a -r1/r7-> b; c -r6-> c -r6-> c reuses r6. */
        {"SELECT Y.$dtId FROM DIGITALTWINS MATCH (X)-[:near*2]->(Y) WHERE X.$dtId = 'c'", "a b"},
        /* Three hops round the a-b-c cycle come back to a; b -r4-> d -r5-> b -r4-> d does not
         * reach d again. */
        {"SELECT Y.$dtId FROM DIGITALTWINS MATCH (X)-[*3]->(Y) WHERE X.$dtId = 'a'", "a b c"},
        {"SELECT Y.$dtId FROM DIGITALTWINS MATCH (X)-[*3]->(Y) WHERE X.$dtId = 'b'", "a b c"},
        /* Backwards from d: b -r4-> d, a -r1/r7-> b and d -r5-> b, then c -r3-> a and e -r8-> a;
         * b -r4-> d again would reuse r4. */
        {"SELECT Y.$dtId FROM DIGITALTWINS MATCH (X)<-[*3]-(Y) WHERE X.$dtId = 'd'", "c e"},
        /* The parallel pair r1, r7: one row for b, though two walks reach it. */
        {"SELECT Y.$dtId FROM DIGITALTWINS MATCH (X)-[:near]->(Y) WHERE X.$dtId = 'a'", "b"},
        /* A relationship variable binds each of them: two rows. */
        {"SELECT R.$relationshipId FROM DIGITALTWINS MATCH (X)-[R:near]->(Y) WHERE X.$dtId = 'a'",
         "r1 r7"},
    };
    static rows_t got;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int recursive = 0; recursive < 2; recursive++) {
            memset(&got, 0, sizeof got);
            free(run(f, cases[i].text, recursive, NULL, 100, &got));
            char ids[256] = "";
            for (size_t r = 0; r < got.n; r++) {
                /* The last column is the output, a JSON string. */
                const char *v = strrchr(got.row[r], '|');
                v = v ? v + 1 : got.row[r];
                char id[16];
                assert_int_equal(sscanf(v, "\"%15[^\"]\"", id), 1);
                strcat(ids, r ? " " : "");
                strcat(ids, id);
            }
            /* Rows come in key (rowid) order: here the order of TWINS and RELS. */
            if (strcmp(ids, cases[i].ids) != 0)
                fprintf(stderr, "%s (%s): %s\n", cases[i].text, recursive ? "recursive" : "joins",
                        ids);
            assert_string_equal(ids, cases[i].ids);
        }
    }
}

/* ADT binds a relationship variable to exactly one hop: with a hop count it is refused, so a
 * multi-hop walk never names its intermediate relationships. */
static void test_variable_needs_one_hop(void **state)
{
    (void)state;
    arena_t a;
    arena_init(&a, 1u << 20);
    static const char *const texts[] = {
        "SELECT X FROM DIGITALTWINS MATCH (X)-[R*2]->(Y) WHERE X.$dtId = 'a'",
        "SELECT X FROM DIGITALTWINS MATCH (X)-[R:near*1]->(Y) WHERE X.$dtId = 'a'",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        query_t *q;
        castor_err err;
        assert_true(query_prepare(&a, texts[i], strlen(texts[i]), &q, &err) < 0);
        assert_int_equal(err.status, 400);
        assert_non_null(strstr(err.message, "cannot be combined with a hop count"));
    }
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fixed_equals_recursive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_reuse, setup, teardown),
        cmocka_unit_test(test_variable_needs_one_hop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
