/* test_query_sql.c — the query compiler and its execution: the SQL each clause becomes, that
 * every literal (and every name the query spells) reaches SQLite only as a bound value —
 * injection attempted through each literal position and run on a real store — the time
 * budget, admission (429), and continuation tokens bound to the caller. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/ids.h"
#include "core/limits.h"
#include "query/query_sql.h"
#include "serve/app.h"
#include "store/store_arm.h"
#include "store/store_directory.h"
#include "store/store_query.h"
#include "store/store_twins.h"
#include "twins/twins_query.h"
#include "test_query_seed.h"
#include "test_seed.h"
#include "test_util.h"

#define INSTANCE "00000000-0000-4000-8000-000000000001"

typedef struct compiled {
    arena_t a;
    query_sql_t qs;
    castor_err err;
    int rc;
} compiled_t;

static compiled_t *compile_after(const char *text, const int64_t *after, size_t nafter)
{
    compiled_t *c = calloc(1, sizeof *c);
    arena_init(&c->a, 4u << 20);
    query_t *q;
    c->rc = query_prepare(&c->a, text, strlen(text), &q, &c->err);
    if (c->rc < 0) fprintf(stderr, "%s: %s\n", text, c->err.message);
    assert_int_equal(c->rc, 0);
    query_sql_in_t in = {.instance = INSTANCE,
                         .instance_key = "inst",
                         .after = after,
                         .nafter = nafter,
                         .limit = 101};
    c->rc = query_compile(&c->a, q, &query_dialect_sqlite, &in, &c->qs, &c->err);
    if (c->rc < 0) fprintf(stderr, "%s: %s\n", text, c->err.message);
    return c;
}

static compiled_t *compile(const char *text)
{
    return compile_after(text, NULL, 0);
}

static void done(compiled_t *c)
{
    arena_free(&c->a);
    free(c);
}

static int has_param(const query_sql_t *qs, const char *s)
{
    for (size_t i = 0; i < qs->nparams; i++)
        if (qs->params[i].kind == QUERY_PARAM_TEXT && strstr(qs->params[i].s, s)) return 1;
    return 0;
}

/* ---- SQL shapes ---- */

typedef struct shape {
    const char *query;
    const char *want[4]; /* fragments the SQL must contain */
    size_t nkeys;
} shape_t;

static const shape_t SHAPES[] = {
    {"SELECT * FROM DIGITALTWINS",
     {"FROM twins t0", "t0.instance_id = ?1", "ORDER BY t0.rowid"},
     1},
    {"SELECT COUNT() FROM DIGITALTWINS", {"SELECT COALESCE(SUM(tc.n), 0) FROM twin_counts tc"}, 0},
    {"SELECT COUNT() FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:a:b;1')",
     {"FROM twin_counts tc", "tc.model_id IN"},
     0},
    {"SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:a:b;1') AND IS_DEFINED($dtId)",
     {"SELECT COUNT(*) FROM twins t0"},
     0},
    {"SELECT COUNT() FROM RELATIONSHIPS R WHERE R.$sourceId = 'a'",
     {"FROM relationships r0", "r0.source_id = ?"},
     0},
    {"SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 'a'", {"t0.id = ?"}, 1},
    {"SELECT * FROM DIGITALTWINS T WHERE T.x = 'a'",
     {"CASE WHEN json_type(t0.doc, ?", "= 'text' THEN json_extract(t0.doc, ?"},
     1},
    {"SELECT * FROM DIGITALTWINS T WHERE T.x > 3", {"IN ('integer','real') THEN"}, 1},
    {"SELECT * FROM DIGITALTWINS T WHERE T.x = true", {"IN ('true','false') THEN json_type"}, 1},
    {"SELECT * FROM DIGITALTWINS T WHERE T.a = T.b", {"'number'", "WHEN json_type"}, 1},
    {"SELECT * FROM DIGITALTWINS T WHERE IS_DEFINED(T.x)", {") IS NOT NULL"}, 1},
    {"SELECT * FROM DIGITALTWINS T WHERE IS_NUMBER(T.x)",
     {"COALESCE(json_type", "('integer','real')"},
     1},
    {"SELECT * FROM DIGITALTWINS T WHERE T.$dtId IN ['a', 'b']", {"t0.id IN (?", ", ?"}, 1},
    {"SELECT * FROM DIGITALTWINS T WHERE T.x NIN [1, 'b']", {"IS NULL THEN NULL ELSE NOT ("}, 1},
    {"SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, 'ab')",
     {"t0.id >= ?", "t0.id < (?3 || x'ff')", "instr(t0.id, ?"},
     1},
    {"SELECT * FROM DIGITALTWINS T WHERE ENDSWITH(T.name, 'ab')", {"substr(json_extract"}, 1},
    {"SELECT * FROM DIGITALTWINS T WHERE ARRAY_CONTAINS(T.a, 2)",
     {"json_each(t0.doc, ?", "e.atom = ?"},
     1},
    {"SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:a:b;3')",
     {"WITH RECURSIVE sub(id)", "r.kind = 'extends'", "CAST(substr(id, ?"},
     1},
    {"SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:a:b;3', exact)", {"t0.model_id = ?"}, 1},
    {"SELECT * FROM DIGITALTWINS T WHERE NOT T.x < 3", {"NOT (CASE WHEN"}, 1},
    {"SELECT T.name AS n, T FROM DIGITALTWINS T", {"(t0.doc -> ?", ", t0.doc FROM"}, 1},
    {"SELECT T.$dtId FROM DIGITALTWINS T", {"json_quote(t0.id)"}, 1},
    {"SELECT A, B FROM DIGITALTWINS A JOIN B RELATED A.rel WHERE A.$dtId = 'x'",
     {"JOIN relationships j0 ON j0.instance_id = ?1 AND j0.source_id = t0.id AND j0.name = ?",
      "JOIN twins t1 ON t1.instance_id = ?1 AND t1.id = j0.target_id",
      "ORDER BY t0.rowid, j0.rowid"},
     2},
    {"SELECT B, R FROM DIGITALTWINS A JOIN B RELATED A.rel R WHERE A.$dtId = 'x'",
     {"JOIN relationships r2", "r2.rowid"},
     2},
    {"SELECT B FROM DIGITALTWINS MATCH (A)-[:r*..3]->(B) WHERE A.$dtId = 'x'",
     {"WITH RECURSIVE e0(s, t, d, rid, trail)", "r.source_id IN (?", "w.d < 3",
      "SELECT DISTINCT n0.rowid AS k0, n1.rowid AS k1"},
     2},
    {"SELECT B FROM DIGITALTWINS MATCH (A)<-[:r]-(B) WHERE A.$dtId = 'x'",
     {"SELECT h0_1.target_id, h0_1.source_id, 1, h0_1.rowid FROM relationships h0_1 WHERE",
      "h0_1.target_id IN (?",
      /* the page's keys inside, the documents joined back outside */
      "(n0.id = ?5) ORDER BY n0.rowid, n1.rowid LIMIT ?6) q",
      "q CROSS JOIN twins o1 ON o1.rowid = q.k1 ORDER BY q.k0, q.k1"},
     2},
    /* A fixed count in one direction: joins walked from the pinned end, in that order, no
     * relationship twice, the names' placeholders shared by every hop. */
    {"SELECT B FROM DIGITALTWINS MATCH (B)-[:r*3]->(A) WHERE A.$dtId = 'x'",
     {"e0(s, t, d, rid) AS (SELECT h0_1.target_id, h0_3.source_id, 3, h0_3.rowid FROM "
      "relationships h0_1 CROSS JOIN relationships h0_2 CROSS JOIN relationships h0_3",
      "h0_2.target_id = h0_1.source_id AND h0_2.name IN (?4) AND h0_2.rowid <> h0_1.rowid",
      "h0_3.name IN (?4) AND h0_3.rowid <> h0_1.rowid AND h0_3.rowid <> h0_2.rowid"},
     2},
    {"SELECT B FROM DIGITALTWINS MATCH (A)-[*2]-(B) WHERE A.$dtId = 'x'",
     {"UNION ALL SELECT r.source_id, r.target_id", "e0.d >= 2"},
     2},
    {"SELECT A, C FROM DIGITALTWINS MATCH (A)-[]->(B)<-[x]-(C) WHERE B.$dtId = 'x'",
     {"e1(s, t, d, rid) AS", "e0(s, t, d, rid) AS", "r2.rowid = e1.rid",
      /* walk order, fixed: from the pinned B out to C, then back to A */
      "FROM twins n1 CROSS JOIN e1 CROSS JOIN twins n3 CROSS JOIN relationships r2 CROSS JOIN e0 "
      "CROSS JOIN twins n0 WHERE"},
     4},
    /* A MATCH output's $dtId comes out of the key rows: no twin is read again for it. */
    {"SELECT B.$dtId FROM DIGITALTWINS MATCH (B)-[*3]->(A) WHERE A.$dtId = 'x'",
     {"SELECT q.k0, q.k1, json_quote(q.i0) FROM (SELECT DISTINCT n0.rowid AS k0, n1.rowid AS k1, "
      "n0.id AS i0 FROM",
      "ORDER BY n0.rowid, n1.rowid, n0.id LIMIT ?", ") q ORDER BY q.k0, q.k1"},
     2},
    {"SELECT A FROM DIGITALTWINS MATCH (A) WHERE A.$dtId = 'x'", {"FROM twins t0"}, 1},
};

static void test_shapes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++) {
        const shape_t *s = &SHAPES[i];
        compiled_t *c = compile(s->query);
        assert_int_equal(c->rc, 0);
        for (size_t k = 0; k < 4 && s->want[k]; k++)
            if (!strstr(c->qs.sql, s->want[k])) {
                fprintf(stderr, "%s\n  compiles to %s\n  lacks %s\n", s->query, c->qs.sql,
                        s->want[k]);
                fail();
            }
        assert_int_equal(c->qs.nkeys, s->nkeys);
        /* The instance is always the first value, never in the text. */
        assert_int_equal(c->qs.params[0].kind, QUERY_PARAM_TEXT);
        assert_string_equal(c->qs.params[0].s, INSTANCE);
        assert_null(strstr(c->qs.sql, INSTANCE));
        done(c);
    }
}

static void test_paging_key(void **state)
{
    (void)state;
    int64_t after[] = {41, 7};
    compiled_t *c = compile_after(
        "SELECT B FROM DIGITALTWINS A JOIN B RELATED A.r WHERE A.$dtId = 'x'", after, 2);
    assert_non_null(strstr(c->qs.sql, "(t0.rowid, j0.rowid) > (?"));
    int seen = 0;
    for (size_t i = 0; i < c->qs.nparams; i++)
        if (c->qs.params[i].kind == QUERY_PARAM_INT &&
            (c->qs.params[i].i == 41 || c->qs.params[i].i == 7))
            seen++;
    assert_int_equal(seen, 2);
    done(c);
    /* MATCH: the key rows are filtered, ordered and limited before documents are joined. */
    c = compile_after("SELECT B FROM DIGITALTWINS MATCH (A)-[*2]->(B) WHERE A.$dtId = 'x'", after,
                      2);
    const char *filter = strstr(c->qs.sql, "AND (n0.rowid, n1.rowid) > (?");
    assert_non_null(filter);
    assert_non_null(strstr(filter, " LIMIT ?"));
    assert_non_null(strstr(strstr(filter, " LIMIT ?"), ") q CROSS JOIN twins o1"));
    done(c);
    c = compile("SELECT COUNT() FROM DIGITALTWINS MATCH (A)-[*..2]->(B) WHERE A.$dtId = 'x'");
    assert_non_null(strstr(c->qs.sql, "SELECT COUNT(*) FROM (SELECT DISTINCT"));
    assert_true(c->qs.count);
    done(c);
}

/* Values bound with their types. */
static void test_param_types(void **state)
{
    (void)state;
    compiled_t *c =
        compile("SELECT * FROM DIGITALTWINS T WHERE T.a = 1 AND T.b = 2.5 AND T.c = 'x' "
                "AND T.d = false AND T.e = null");
    int i = 0, d = 0, s = 0, b = 0;
    for (size_t k = 0; k < c->qs.nparams; k++) {
        const query_param_t *p = &c->qs.params[k];
        if (p->kind == QUERY_PARAM_INT && p->i == 1) i++;
        if (p->kind == QUERY_PARAM_DOUBLE && p->d == 2.5) d++;
        if (p->kind == QUERY_PARAM_TEXT && strcmp(p->s, "x") == 0) s++;
        if (p->kind == QUERY_PARAM_TEXT && strcmp(p->s, "false") == 0) b++;
    }
    assert_int_equal(i, 1);
    assert_int_equal(d, 1);
    assert_int_equal(s, 1);
    assert_int_equal(b, 1);
    assert_non_null(strstr(c->qs.sql, "= 'null' THEN 1 = 1 END"));
    done(c);
}

/* ---- injection through every literal position, run on a real store ---- */

typedef struct fixture {
    char *dir;
    castor_app_t app;
    char instance_id[STORE_ID_MAX];
} fixture_t;

static void seed_instance(fixture_t *f)
{
    castor_err err;
    store_txn_t *t;
    char inst[STORE_ID_MAX];
    assert_int_equal(store_begin(f->app.store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(test_query_seed(t, "q", inst, &err), 0);
    /* Three twins; t1 has a relationship to t2. */
    for (int i = 1; i <= 3; i++) {
        char id[8], doc[160];
        snprintf(id, sizeof id, "t%d", i);
        snprintf(doc, sizeof doc,
                 "{\"$dtId\":\"t%d\",\"$etag\":\"W/\\\"e\\\"\",\"$metadata\":{\"$model\":"
                 "\"dtmi:q:M;1\"},\"n\":%d}",
                 i, i);
        store_twin_t tw = {.id = id, .model_id = "dtmi:q:M;1", .etag = "W/\"e\"", .doc = doc};
        assert_int_equal(store_twin_put(t, inst, &tw, &err), 0);
    }
    store_rel_t rel = {.source_id = "t1",
                       .id = "r1",
                       .target_id = "t2",
                       .name = "near",
                       .etag = "W/\"e\"",
                       .doc = "{\"$relationshipId\":\"r1\"}"};
    assert_int_equal(store_rel_put(t, inst, &rel, &err), 0);
    assert_int_equal(store_commit(t, &err), 0);
    snprintf(f->instance_id, sizeof f->instance_id, "%s", inst);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    ids_init();
    if (test_store_open_tmp(4, &f->dir, &f->app.store) < 0) return -1;
    castor_app_wire(&f->app);
    seed_instance(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    test_store_close_tmp(f->app.store, f->dir);
    free(f);
    return 0;
}

static int count_row(const store_qrow_t *row, void *ctx)
{
    (void)row;
    ++*(int *)ctx;
    return 0;
}

/* Runs a compiled query on the fixture's store; returns the row count. */
static int run(fixture_t *f, const query_sql_t *qs, int64_t deadline, castor_err *err)
{
    store_qparam_t p[256];
    assert_true(qs->nparams <= 256);
    for (size_t i = 0; i < qs->nparams; i++) {
        const query_param_t *q = &qs->params[i];
        p[i] = (store_qparam_t){.type = q->kind == QUERY_PARAM_INT      ? SQ_INT
                                        : q->kind == QUERY_PARAM_DOUBLE ? SQ_REAL
                                        : q->kind == QUERY_PARAM_TEXT   ? SQ_TEXT
                                                                        : SQ_NULL,
                                .i = q->i,
                                .d = q->d,
                                .s = q->s};
    }
    if (qs->nparams && strcmp(p[0].s, INSTANCE) == 0) p[0].s = f->instance_id;
    store_txn_t *t;
    assert_int_equal(store_begin(f->app.store, STORE_READ, &t, err), 0);
    int rows = 0;
    int rc =
        store_query_run(t, qs->sql, p, (int)qs->nparams, deadline, count_row, &rows, NULL, err);
    store_rollback(t);
    return rc < 0 ? rc : rows;
}

/* `%s` marks where the payload goes; each query puts it in another literal position. */
static const char *const POSITIONS[] = {
    "SELECT * FROM DIGITALTWINS T WHERE T.n = '%s'",
    "SELECT * FROM DIGITALTWINS T WHERE '%s' = T.n",
    "SELECT * FROM DIGITALTWINS T WHERE T.n != '%s' AND T.n < '%s'",
    "SELECT * FROM DIGITALTWINS T WHERE T.$dtId = '%s'",
    "SELECT * FROM DIGITALTWINS T WHERE T.$metadata.$model = '%s'",
    "SELECT * FROM DIGITALTWINS T WHERE T.n IN ['a', '%s']",
    "SELECT * FROM DIGITALTWINS T WHERE T.$dtId NIN ['%s']",
    "SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, '%s')",
    "SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.n, '%s')",
    "SELECT * FROM DIGITALTWINS T WHERE ENDSWITH(T.n, '%s')",
    "SELECT * FROM DIGITALTWINS T WHERE CONTAINS(T.$dtId, '%s')",
    "SELECT * FROM DIGITALTWINS T WHERE ARRAY_CONTAINS(T.n, '%s')",
    "SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:%s;1')",
    "SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:%s', exact)",
    "SELECT * FROM RELATIONSHIPS R WHERE R.$relationshipName = '%s'",
    "SELECT B FROM DIGITALTWINS A JOIN B RELATED A.near WHERE A.$dtId = '%s'",
    "SELECT B FROM DIGITALTWINS A JOIN B RELATED A.near WHERE A.$dtId IN ['%s']",
    "SELECT B FROM DIGITALTWINS MATCH (A)-[:near*..3]-(B) WHERE A.$dtId = '%s'",
    "SELECT COUNT() FROM DIGITALTWINS MATCH (A)-[r:near]->(B) WHERE B.$dtId IN ['%s'] AND r.x = "
    "'%s'",
    "SELECT * FROM DIGITALTWINS T WHERE T.[[%s]] = 1",
    "SELECT T.[[%s]] FROM DIGITALTWINS T",
    "SELECT T.n AS [[%s]] FROM DIGITALTWINS T",
    "SELECT B FROM DIGITALTWINS A JOIN B RELATED A.[[%s]] WHERE A.$dtId = 't1'",
    "SELECT B FROM DIGITALTWINS MATCH (A)-[:[[%s]]]->(B) WHERE A.$dtId = 't1'",
};

/* The payloads, as written inside a query literal ('...' escapes) and as the value. */
static const char *const PAYLOADS[][2] = {
    {"x\\'); DROP TABLE twins; --", "x'); DROP TABLE twins; --"},
    {"\\' OR 1=1 OR \\'", "' OR 1=1 OR '"},
    {"?1 ?2 $1 :a @a", "?1 ?2 $1 :a @a"},
    {"a\\\\' UNION SELECT doc FROM twins --", NULL}, /* backslash, then a quote that ends it */
};

static void test_injection(void **state)
{
    fixture_t *f = *state;
    char text[1024];
    for (size_t p = 0; p < sizeof PAYLOADS / sizeof PAYLOADS[0]; p++) {
        for (size_t i = 0; i < sizeof POSITIONS / sizeof POSITIONS[0]; i++) {
            const char *pos = POSITIONS[i];
            int escaped_ident = strstr(pos, "[[%s]]") != NULL;
            const char *lit = PAYLOADS[p][0];
            if (escaped_ident)
                lit = PAYLOADS[p][1] ? PAYLOADS[p][1] : lit; /* no escapes in [[ ]] */
            snprintf(text, sizeof text, pos, lit, lit);
            arena_t a;
            arena_init(&a, 4u << 20);
            query_t *q;
            castor_err err;
            int rc = query_prepare(&a, text, strlen(text), &q, &err);
            if (rc < 0) {
                /* Refused by the parser (the quote ended the literal): never reached SQL. */
                assert_int_equal(err.status, 400);
                assert_null(PAYLOADS[p][1]);
                arena_free(&a);
                continue;
            }
            query_sql_in_t in = {.instance = INSTANCE, .instance_key = "q", .limit = 10};
            query_sql_t qs;
            assert_int_equal(query_compile(&a, q, &query_dialect_sqlite, &in, &qs, &err), 0);
            if (strstr(qs.sql, "DROP") || strstr(qs.sql, "1=1") || strstr(qs.sql, "$1") ||
                strstr(qs.sql, "UNION SELECT doc")) {
                fprintf(stderr, "%s\n  spliced into: %s\n", text, qs.sql);
                fail();
            }
            /* An AS name is a JSON key of the rows: it never reaches SQL at all. */
            const char *value = strstr(pos, "AS [[") ? NULL : PAYLOADS[p][1];
            if (value && !has_param(&qs, value)) {
                fprintf(stderr, "%s: the payload is not a bound value\n", text);
                fail();
            }
            rc = run(f, &qs, 0, &err);
            if (rc < 0) fprintf(stderr, "%s: %s\n", text, err.message);
            assert_true(rc >= 0);
            arena_free(&a);
        }
    }
    /* The twins are all still there. */
    castor_err err;
    compiled_t *c = compile("SELECT COUNT() FROM DIGITALTWINS");
    assert_int_equal(run(f, &c->qs, 0, &err), 1);
    done(c);
}

/* The compiled SQL runs and answers on a real store, with ADT's semantics. */
static void test_semantics(void **state)
{
    fixture_t *f = *state;
    static const struct {
        const char *q;
        int rows;
    } cases[] = {
        {"SELECT * FROM DIGITALTWINS", 3},
        {"SELECT * FROM DIGITALTWINS T WHERE T.n > 1", 2},
        {"SELECT * FROM DIGITALTWINS T WHERE T.n = '1'", 0},
        {"SELECT * FROM DIGITALTWINS T WHERE NOT T.missing = 1", 0},
        {"SELECT * FROM DIGITALTWINS T WHERE NOT IS_DEFINED(T.missing)", 3},
        {"SELECT * FROM DIGITALTWINS T WHERE IS_NULL(T.missing)", 0},
        {"SELECT * FROM DIGITALTWINS T WHERE T.n IN [1, 3]", 2},
        {"SELECT * FROM DIGITALTWINS T WHERE T.n NIN [1, 3]", 1},
        {"SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:q:M;1', exact)", 3},
        {"SELECT B FROM DIGITALTWINS A JOIN B RELATED A.near WHERE A.$dtId = 't1'", 1},
        {"SELECT A FROM DIGITALTWINS A JOIN B RELATED A.near WHERE B.$dtId = 't2'", 1},
        {"SELECT B FROM DIGITALTWINS MATCH (A)-[:near]-(B) WHERE A.$dtId = 't2'", 1},
        {"SELECT B FROM DIGITALTWINS MATCH (A)-[:near*2]-(B) WHERE A.$dtId = 't2'", 0},
        {"SELECT * FROM RELATIONSHIPS", 1},
        /* Literals compared with literals: decided by the engine, with ADT's rules. */
        {"SELECT * FROM DIGITALTWINS T WHERE 'a' < 'b'", 3},
        {"SELECT * FROM DIGITALTWINS T WHERE 'b' <= 'a'", 0},
        {"SELECT * FROM DIGITALTWINS T WHERE 2 = 2.0 AND -1 < 0", 3},
        {"SELECT * FROM DIGITALTWINS T WHERE NOT 3 > 2.5", 0},
        {"SELECT * FROM DIGITALTWINS T WHERE 'a' = 1", 0},
        {"SELECT * FROM DIGITALTWINS T WHERE NOT 'a' = 1", 0},
        {"SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, 't')", 3},
        {"SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, 't1')", 1},
        {"SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, '')", 3},
        {"SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, 'u')", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        compiled_t *c = compile(cases[i].q);
        castor_err err;
        int rows = run(f, &c->qs, 0, &err);
        if (rows != cases[i].rows)
            fprintf(stderr, "%s: %d rows\n%s\n", cases[i].q, rows, c->qs.sql);
        assert_int_equal(rows, cases[i].rows);
        done(c);
    }
}

/* A statement past its deadline stops with 400 TimeoutError. */
static void test_timeout(void **state)
{
    fixture_t *f = *state;
    compiled_t *c =
        compile("SELECT COUNT() FROM DIGITALTWINS MATCH (A)-[*..10]-(B) WHERE A.$dtId = 't1'");
    /* A busy statement of the store's: an endless recursive count. */
    static const char *const sql =
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
        "SELECT COUNT(*) FROM c";
    c->qs.sql = sql;
    c->qs.nparams = 0;
    castor_err err;
    castor_err_clear(&err);
    int64_t t0 = store_query_now_ms();
    int rc = run(f, &c->qs, t0 + 50, &err);
    assert_int_equal(rc, CASTOR_ELIMIT);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.code, "TimeoutError");
    assert_true(store_query_now_ms() - t0 < 5000);
    done(c);
}

/* ---- the handler: admission and tokens ---- */

typedef struct call {
    http_request_t req;
    http_response_t resp;
    castor_err err;
    int rc;
    json_t *body;
} call_t;

static call_t *post(fixture_t *f, const char *caller, const char *body, const char *page)
{
    call_t *c = calloc(1, sizeof *c);
    http_request_t *r = &c->req;
    arena_init(&r->arena, CASTOR_REQUEST_ARENA_MAX);
    r->access = &f->app.access;
    r->deps = &f->app.twins;
    r->plane = HTTP_PLANE_DATA;
    r->instance = "q";
    r->instance_id = f->instance_id;
    /* The data plane's guard would have left the verified caller here. */
    access_principal_t *who = arena_calloc(&r->arena, 1, sizeof *who);
    if (who && caller) snprintf(who->oid, sizeof who->oid, "%s", caller);
    r->caller = who;
    r->path = "/dt/q/query";
    r->query = "";
    snprintf(r->request_id, sizeof r->request_id, "test");
    if (page) {
        http_header_t *h = arena_calloc(&r->arena, 1, sizeof *h);
        h->name = "max-items-per-page";
        h->value = page;
        r->headers = h;
    }
    r->json = json_loads(body, 0, NULL);
    assert_non_null(r->json);
    castor_err_clear(&c->err);
    c->rc = twins_query(r, &c->resp, &c->err);
    if (c->rc == 0) c->body = json_loadb(c->resp.body, c->resp.body_len, 0, NULL);
    return c;
}

static void call_free(call_t *c)
{
    json_decref(c->body);
    json_decref(c->req.json);
    arena_free(&c->req.arena);
    free(c);
}

static void test_tokens(void **state)
{
    fixture_t *f = *state;
    call_t *a = post(f, "alice", "{\"query\":\"SELECT T.n FROM DIGITALTWINS T\"}", "2");
    assert_int_equal(a->rc, 0);
    assert_int_equal(json_array_size(json_object_get(a->body, "value")), 2);
    const char *tok = json_string_value(json_object_get(a->body, "continuationToken"));
    assert_non_null(tok);
    char body[2048];
    snprintf(body, sizeof body, "{\"continuationToken\":\"%s\"}", tok);
    call_t *b = post(f, "mallory", body, "2");
    assert_int_equal(b->rc, CASTOR_EINVAL);
    assert_string_equal(b->err.code, "BadRequest");
    call_t *c = post(f, "alice", body, "2");
    assert_int_equal(c->rc, 0);
    assert_int_equal(json_array_size(json_object_get(c->body, "value")), 1);
    assert_true(json_is_null(json_object_get(c->body, "continuationToken")));
    call_free(a);
    call_free(b);
    call_free(c);
}

static void test_admission(void **state)
{
    fixture_t *f = *state;
    for (unsigned i = 0; i < CASTOR_QUERY_INFLIGHT_MAX; i++)
        assert_int_equal(twins_query_admit(), 0);
    call_t *c = post(f, "alice", "{\"query\":\"SELECT * FROM DIGITALTWINS\"}", NULL);
    assert_int_equal(c->rc, CASTOR_ELIMIT);
    assert_int_equal(c->err.status, 429);
    assert_string_equal(c->err.code, "QuotaReachedError");
    int retry = 0;
    for (http_header_t *h = c->req.error_headers; h; h = h->next)
        if (strcmp(h->name, "Retry-After") == 0) retry = atoi(h->value);
    assert_true(retry >= 1);
    call_free(c);
    for (unsigned i = 0; i < CASTOR_QUERY_INFLIGHT_MAX; i++)
        twins_query_leave();
    c = post(f, "alice", "{\"query\":\"SELECT * FROM DIGITALTWINS\"}", NULL);
    assert_int_equal(c->rc, 0);
    call_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_paging_key),
        cmocka_unit_test(test_param_types),
        cmocka_unit_test_setup_teardown(test_injection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_semantics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admission, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
