/* test_query_cache.c — compiled queries kept by shape: texts differing only in literals share
 * an entry and bind their own values, literals that shape the SQL keep entries apart, a literal
 * the checker refuses is refused on a hit; a hit gives exactly what a fresh compile
 * gives once the request's values are bound (for another instance, page size and paging key
 * too), first pages and continuations are kept apart, errors are not kept, the table stays
 * bounded, and threads share it safely. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "query/query_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const TEXTS[] = {
    "SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 'B1-L0-R3'",
    "SELECT T.$dtId, T.personCapacity FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, "
    "'dtmi:example:Room;1') AND T.personCapacity > 25 AND STARTSWITH(T.$dtId, 'B3-')",
    "SELECT S FROM DIGITALTWINS R JOIN S RELATED R.hasCapability WHERE R.$dtId = 'x'",
    "SELECT B.$dtId FROM DIGITALTWINS MATCH (B)-[*3]->(S) WHERE S.$dtId = 'y'",
    "SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:example:Sensor;1')",
    "SELECT TOP(5) T.name AS n FROM DIGITALTWINS T WHERE T.name IN ['a', 'b'] OR T.v = true",
};
#define NTEXTS (sizeof TEXTS / sizeof TEXTS[0])

/* A fresh compile of text for in, the reference a cached form must equal. */
static void fresh(arena_t *a, const char *text, const query_sql_in_t *in, query_sql_t *out)
{
    castor_err err;
    query_t *q;
    assert_int_equal(query_prepare(a, text, strlen(text), &q, &err), 0);
    assert_int_equal(query_compile(a, q, &query_dialect_sqlite, in, out, &err), 0);
}

static void assert_same(const query_sql_t *x, const query_sql_t *y)
{
    assert_string_equal(x->sql, y->sql);
    assert_int_equal(x->nparams, y->nparams);
    for (size_t i = 0; i < x->nparams; i++) {
        const query_param_t *p = &x->params[i], *q = &y->params[i];
        assert_int_equal(p->kind, q->kind);
        if (p->kind == QUERY_PARAM_TEXT) assert_string_equal(p->s, q->s);
        if (p->kind == QUERY_PARAM_INT) assert_int_equal(p->i, q->i);
        if (p->kind == QUERY_PARAM_DOUBLE) assert_true(p->d == q->d);
    }
    assert_int_equal(x->nkeys, y->nkeys);
    assert_int_equal(x->nouts, y->nouts);
    assert_int_equal(x->star, y->star);
    assert_int_equal(x->count, y->count);
    for (size_t i = 0; i < x->nouts; i++)
        if (x->out_keys[i] || y->out_keys[i]) assert_string_equal(x->out_keys[i], y->out_keys[i]);
}

/* Through the cache (miss, then hits) for two instances and pages: equal to a fresh compile. */
static void test_hit_equals_fresh(void **state)
{
    (void)state;
    static query_cache_t qc = QUERY_CACHE_INIT;
    castor_err err;
    int64_t after[8] = {7, 9, 11, 13, 15, 17, 19, 21};
    for (size_t round = 0; round < 3; round++)
        for (size_t t = 0; t < NTEXTS; t++)
            for (int paged = 0; paged < 2; paged++) {
                arena_t a;
                arena_init(&a, 4u << 20);
                query_compiled_t c;
                assert_int_equal(query_cache_compile(&qc, &a, TEXTS[t], strlen(TEXTS[t]),
                                                     &query_dialect_sqlite, paged, &c, &err),
                                 0);
                query_sql_in_t in = {.instance = round % 2 ? "inst-b" : "inst-a",
                                     .instance_key = round % 2 ? "b" : "a",
                                     .after = paged ? after : NULL,
                                     .nafter = paged ? c.nkeys : 0,
                                     .limit = 10 + (int64_t)round};
                query_sql_t got = c.sql, want;
                assert_int_equal(query_sql_bind(&got, &in, &err), 0);
                fresh(&a, TEXTS[t], &in, &want);
                assert_same(&got, &want);
                /* The instance reaches SQL only as a bound value. */
                assert_null(strstr(got.sql, "inst-"));
                arena_free(&a);
            }
    assert_int_equal(qc.misses, NTEXTS * 2);
    assert_int_equal(qc.hits, NTEXTS * 2 * 2);
    query_cache_clear(&qc);
}

/* A bad query fails the same way every time and leaves nothing behind. */
static void test_errors_not_kept(void **state)
{
    (void)state;
    static query_cache_t qc = QUERY_CACHE_INIT;
    for (int i = 0; i < 2; i++) {
        arena_t a;
        arena_init(&a, 1u << 20);
        castor_err err;
        query_compiled_t c;
        const char *bad = "SELECT FROM DIGITALTWINS";
        assert_true(query_cache_compile(&qc, &a, bad, strlen(bad), &query_dialect_sqlite, false, &c,
                                        &err) < 0);
        assert_non_null(strstr(err.message, "position"));
        arena_free(&a);
    }
    for (size_t i = 0; i < QUERY_CACHE_SLOTS; i++)
        assert_int_equal(qc.slot[i].used, 0);
    query_cache_clear(&qc);
}

/* Texts that differ only in literals share one entry; each binds its own values, equal to a
 * fresh compile. Literal tokens that shape the SQL (TOP, hop counts) keep entries apart. */
static const char *const SAME_SHAPE[][2] = {
    {"SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 'B1-L0-R3'",
     "SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 'x\\'); DROP TABLE twins; --'"},
    {"SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:example:Room;1') AND "
     "STARTSWITH(T.$dtId, 'B3-') AND T.n > -2",
     "SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:other:Thing') AND "
     "STARTSWITH(T.$dtId, '') AND T.n > -7"},
    {"SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:a:b;12', exact)",
     "SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:a:c;x', exact)"},
    {"SELECT * FROM DIGITALTWINS T WHERE 'a' < 'b' AND 1 = 2.5 AND T.x IN ['p', 3, 'q']",
     "SELECT * FROM DIGITALTWINS T WHERE 'b' < 'a' AND 7 = 2.0 AND T.x IN ['r', 4, 's']"},
    {"SELECT B.$dtId FROM DIGITALTWINS MATCH (B)-[*3]->(S) WHERE S.$dtId = 'y'",
     "SELECT B.$dtId FROM DIGITALTWINS MATCH (B)-[*3]->(S) WHERE S.$dtId = 'z'"},
    {"SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:example:Sensor;1')",
     "SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:example:Sensor;2')"},
};

static void test_shared_by_shape(void **state)
{
    (void)state;
    static query_cache_t qc = QUERY_CACHE_INIT;
    castor_err err;
    query_sql_in_t in = {.instance = "i", .instance_key = "k", .limit = 5};
    for (size_t t = 0; t < sizeof SAME_SHAPE / sizeof SAME_SHAPE[0]; t++)
        for (int k = 0; k < 2; k++) {
            const char *text = SAME_SHAPE[t][k];
            uint64_t hits = qc.hits;
            arena_t a;
            arena_init(&a, 4u << 20);
            query_compiled_t c;
            assert_int_equal(query_cache_compile(&qc, &a, text, strlen(text), &query_dialect_sqlite,
                                                 false, &c, &err),
                             0);
            assert_int_equal(qc.hits, hits + (uint64_t)k);
            query_sql_t got = c.sql, want;
            assert_int_equal(query_sql_bind(&got, &in, &err), 0);
            fresh(&a, text, &in, &want);
            assert_same(&got, &want);
            arena_free(&a);
        }
    /* Shaping literals: another TOP or hop count is another entry, compiled for itself. */
    static const char *const apart[] = {
        "SELECT TOP(3) T FROM DIGITALTWINS T", "SELECT TOP(4) T FROM DIGITALTWINS T",
        "SELECT B.$dtId FROM DIGITALTWINS MATCH (B)-[*2]->(S) WHERE S.$dtId = 'y'"};
    for (size_t i = 0; i < 3; i++) {
        uint64_t hits = qc.hits;
        arena_t a;
        arena_init(&a, 4u << 20);
        query_compiled_t c;
        assert_int_equal(query_cache_compile(&qc, &a, apart[i], strlen(apart[i]),
                                             &query_dialect_sqlite, false, &c, &err),
                         0);
        assert_int_equal(qc.hits, hits);
        query_sql_t got = c.sql, want;
        assert_int_equal(query_sql_bind(&got, &in, &err), 0);
        fresh(&a, apart[i], &in, &want);
        assert_same(&got, &want);
        assert_int_equal(c.top, i == 0 ? 3 : i == 1 ? 4 : 0);
        arena_free(&a);
    }
    /* A literal the checker refuses is refused on a hit too, with its position. */
    static const char *const bad[] = {
        "SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('example:Sensor;1')",
        "SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'nope') AND "
        "STARTSWITH(T.$dtId, 'B3-') AND T.n > -2"};
    for (size_t i = 0; i < 2; i++) {
        arena_t a;
        arena_init(&a, 4u << 20);
        query_compiled_t c;
        castor_err_clear(&err);
        assert_int_equal(query_cache_compile(&qc, &a, bad[i], strlen(bad[i]), &query_dialect_sqlite,
                                             false, &c, &err),
                         CASTOR_EINVAL);
        assert_non_null(strstr(err.message, "is not a model id"));
        assert_non_null(strstr(err.message, "position"));
        arena_free(&a);
    }
    query_cache_clear(&qc);
}

/* More distinct texts than slots: the table stays full, the latest text is kept. */
static void test_bounded(void **state)
{
    (void)state;
    static query_cache_t qc = QUERY_CACHE_INIT;
    char text[128];
    for (unsigned i = 0; i < QUERY_CACHE_SLOTS * 2 + 5; i++) {
        arena_t a;
        arena_init(&a, 1u << 20);
        castor_err err;
        query_compiled_t c;
        snprintf(text, sizeof text, "SELECT * FROM DIGITALTWINS WHERE p%u = 'id'", i);
        assert_int_equal(query_cache_compile(&qc, &a, text, strlen(text), &query_dialect_sqlite,
                                             false, &c, &err),
                         0);
        arena_free(&a);
    }
    size_t used = 0;
    for (size_t i = 0; i < QUERY_CACHE_SLOTS; i++)
        used += qc.slot[i].used != 0;
    assert_int_equal(used, QUERY_CACHE_SLOTS);
    uint64_t hits = qc.hits;
    arena_t a;
    arena_init(&a, 1u << 20);
    castor_err err;
    query_compiled_t c;
    assert_int_equal(
        query_cache_compile(&qc, &a, text, strlen(text), &query_dialect_sqlite, false, &c, &err),
        0);
    assert_int_equal(qc.hits, hits + 1);
    arena_free(&a);
    query_cache_clear(&qc);
}

static query_cache_t shared = QUERY_CACHE_INIT;

static void *hammer(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    for (int i = 0; i < 2000; i++) {
        const char *text = TEXTS[rand_r(&seed) % NTEXTS];
        arena_t a;
        arena_init(&a, 4u << 20);
        castor_err err;
        query_compiled_t c;
        if (query_cache_compile(&shared, &a, text, strlen(text), &query_dialect_sqlite, i % 2, &c,
                                &err) < 0 ||
            strcmp(c.text, text) != 0 || !c.sql.sql)
            return (void *)1;
        if (i % 97 == 0) query_cache_clear(&shared);
        arena_free(&a);
    }
    return NULL;
}

/* Threads sharing one cache, with clears racing the hits: every result is the right one. */
static void test_threads(void **state)
{
    (void)state;
    pthread_t th[4];
    for (uintptr_t i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, hammer, (void *)(i + 1));
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        assert_null(r);
    }
    query_cache_clear(&shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_equals_fresh), cmocka_unit_test(test_errors_not_kept),
        cmocka_unit_test(test_bounded),          cmocka_unit_test(test_shared_by_shape),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
