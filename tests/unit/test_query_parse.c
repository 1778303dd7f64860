/* test_query_parse.c — every documented example and every grammar form parses, checks and
 * round-trips: parse(print(parse(q))) equals parse(q), and printing is a fixed point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/limits.h"
#include "query/query.h"

/* The 38 examples of adt-query.md §10 (26 holds two queries), verbatim. */
static const char *const reference_examples[] = {
    /* 1 */ "SELECT * FROM DIGITALTWINS",
    /* 2 */ "SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 'Room1'",
    /* 3 */
    "SELECT * FROM DIGITALTWINS T WHERE T.firmwareVersion = '1.1' AND T.$dtId IN ['123','456'] "
    "AND T.Temperature = 70",
    /* 4 */ "SELECT * FROM DIGITALTWINS WHERE IS_DEFINED(Location)",
    /* 5 */ "SELECT * FROM DIGITALTWINS WHERE IS_DEFINED(tags.red)",
    /* 6 */ "SELECT * FROM DIGITALTWINS WHERE NOT IS_DEFINED(tags.red) AND tags.size = 'small'",
    /* 7 */ "SELECT * FROM DIGITALTWINS T WHERE IS_NUMBER(T.Temperature)",
    /* 8 */ "SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:example:thing;1')",
    /* 9 */ "SELECT * FROM DIGITALTWINS DT WHERE IS_OF_MODEL(DT, 'dtmi:example:thing;1', exact)",
    /* 10 */ "SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains WHERE T.$dtId = 'ABC'",
    /* 11 */
    "SELECT target FROM DIGITALTWINS source JOIN target RELATED source.feeds WHERE "
    "source.$dtId = 'source-twin'",
    /* 12 */
    "SELECT source FROM DIGITALTWINS source JOIN target RELATED source.feeds WHERE "
    "target.$dtId = 'target-twin'",
    /* 13 */
    "SELECT T, SBT, R FROM DIGITALTWINS T JOIN SBT RELATED T.servicedBy R WHERE T.$dtId = 'ABC' "
    "AND R.reportedCondition = 'clean'",
    /* 14 */
    "SELECT LightBulb FROM DIGITALTWINS Room JOIN LightPanel RELATED Room.contains JOIN "
    "LightBulb RELATED LightPanel.contains WHERE IS_OF_MODEL(LightPanel, "
    "'dtmi:contoso:com:lightpanel;1') AND IS_OF_MODEL(LightBulb, 'dtmi:contoso:com:lightbulb;1') "
    "AND Room.$dtId IN ['room1','room2']",
    /* 15 */
    "SELECT LightBulb FROM DIGITALTWINS Building JOIN Floor RELATED Building.contains JOIN Room "
    "RELATED Floor.contains JOIN LightPanel RELATED Room.contains JOIN LightBulbRow RELATED "
    "LightPanel.contains JOIN LightBulb RELATED LightBulbRow.contains WHERE Building.$dtId = "
    "'Building1'",
    /* 16 */
    "SELECT Building, Floor FROM DIGITALTWINS Building JOIN Floor RELATED Building.contains "
    "WHERE Building.$dtId = 'Building1'",
    /* 17 */ "SELECT COUNT() FROM DIGITALTWINS",
    /* 18 */
    "SELECT COUNT() FROM DIGITALTWINS c WHERE IS_OF_MODEL('dtmi:sample:Room;1') AND c.Capacity "
    "> 20",
    /* 19 */ "SELECT COUNT() FROM RELATIONSHIPS",
    /* 20 */ "SELECT TOP(5) FROM DIGITALTWINS",
    /* 21 */
    "SELECT Consumer.name, Edge.prop1, Edge.prop2, Factory.area FROM DIGITALTWINS Factory JOIN "
    "Consumer RELATED Factory.customer Edge WHERE Factory.$dtId = 'ABC'",
    /* 22 */
    "SELECT Consumer.name AS consumerName, Factory FROM DIGITALTWINS Factory JOIN Consumer "
    "RELATED Factory.customer Edge WHERE Factory.$dtId = 'ABC'",
    /* 23 */ "SELECT name, age FROM DIGITALTWINS",
    /* 24 */ "SELECT * FROM RELATIONSHIPS WHERE $sourceId IN ['A','B','C','D']",
    /* 25 */ "SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, 'area1-')",
    /* 26 */ "SELECT * FROM DIGITALTWINS T WHERE ENDSWITH(T.$dtId, '-small')",
    /* 26 */ "SELECT * FROM DIGITALTWINS T WHERE CONTAINS(T.$dtId, '-route')",
    /* 27 */ "SELECT * FROM DIGITALTWINS DT WHERE DT.owner IN ['John','Anil','Bailey','Alex']",
    /* 28 */ "SELECT * FROM DIGITALTWINS DT WHERE NOT DT.Temperature < 80",
    /* 29 */
    "SELECT * FROM DIGITALTWINS WHERE IS_OBJECT(MapObject) AND NOT "
    "IS_DEFINED(MapObject.TemperatureReading)",
    /* 30 */
    "SELECT Factory.area FROM DIGITALTWINS Factory WHERE Factory.$dtId = 'ABC' AND "
    "IS_PRIMITIVE(Factory.area)",
    /* 31 */ "SELECT T.name FROM DIGITALTWINS T WHERE ARRAY_CONTAINS(T.floor_number, 2)",
    /* 32 */
    "SELECT Building, Sensor FROM DIGITALTWINS MATCH (Building)-[]->(Sensor) WHERE "
    "Building.$dtId = 'Building21' AND Sensor.temperature > 50",
    /* 33 */
    "SELECT Floor, Room FROM DIGITALTWINS MATCH (Floor)-[*1..3]-(Room) WHERE Floor.$dtId = "
    "'thermostat-15'",
    /* 34 */
    "SELECT Floor, Room FROM DIGITALTWINS MATCH (Floor)-[:contains|isAssociatedWith*3..5]->(Room) "
    "WHERE Floor.$dtId = 'thermostat-15'",
    /* 35 */
    "SELECT Floor, Room FROM DIGITALTWINS MATCH (Floor)-[r:contains|isAssociatedWith]->(Room) "
    "WHERE Floor.$dtId = 'thermostat-15' AND r.length = 10",
    /* 36 */
    "SELECT Floor, Room, Cafe FROM DIGITALTWINS MATCH "
    "(Floor)-[r:contains|isAssociatedWith]->(Cafe)<-[:has|includes*..3]-(Room) WHERE "
    "Floor.$dtId = 'thermostat-15' AND r.length = 10 AND Cafe.temperature = 55",
    /* 37 */ "SELECT * FROM DIGITALTWINS WHERE [[Group]] = 'BravoTeam'",
    /* 38 */ "SELECT * FROM DIGITALTWINS WHERE Name = 'D\\'Souza'",
};

/* Grammar forms beyond the examples, each with the canonical text it prints as. */
static const struct {
    const char *query;
    const char *canonical;
} forms[] = {
    {"select * from digitaltwins", "SELECT * FROM DIGITALTWINS"},
    {"SeLeCt TOP (3) FrOm DigitalTwins wHeRe x = 1", "SELECT TOP(3) FROM DIGITALTWINS WHERE x = 1"},
    {"SELECT TOP(2) * FROM DIGITALTWINS", "SELECT TOP(2) FROM DIGITALTWINS"},
    {"SELECT TOP(2) T.name FROM DIGITALTWINS T", "SELECT TOP(2) T.name FROM DIGITALTWINS T"},
    {"SELECT T FROM DIGITALTWINS T", "SELECT T FROM DIGITALTWINS T"},
    {"SELECT T.a.b.c AS x, T.$metadata.$model AS m FROM DIGITALTWINS T",
     "SELECT T.a.b.c AS x, T.$metadata.$model AS m FROM DIGITALTWINS T"},
    {"SELECT * FROM RELATIONSHIPS R WHERE R.$relationshipName = 'contains' AND R.$targetId = 'x'",
     "SELECT * FROM RELATIONSHIPS R WHERE R.$relationshipName = 'contains' AND R.$targetId = 'x'"},
    {"SELECT * FROM DIGITALTWINS WHERE a = 1 AND b != 2 AND c < 3 AND d <= 4 AND e > 5 AND f >= 6",
     "SELECT * FROM DIGITALTWINS WHERE a = 1 AND b != 2 AND c < 3 AND d <= 4 AND e > 5 AND f >= "
     "6"},
    {"SELECT * FROM DIGITALTWINS WHERE a=-1 AND b<-2.5 AND c>=1e3 AND d=1.5E-2",
     "SELECT * FROM DIGITALTWINS WHERE a = -1 AND b < -2.5 AND c >= 1000.0 AND d = "
     "0.014999999999999999"},
    {"SELECT * FROM DIGITALTWINS WHERE a = true OR b = FALSE OR c = Null",
     "SELECT * FROM DIGITALTWINS WHERE a = true OR b = false OR c = null"},
    {"SELECT * FROM DIGITALTWINS WHERE (a = 1 OR b = 2) AND c = 3",
     "SELECT * FROM DIGITALTWINS WHERE (a = 1 OR b = 2) AND c = 3"},
    {"SELECT * FROM DIGITALTWINS WHERE a = 1 AND (b = 2 AND c = 3)",
     "SELECT * FROM DIGITALTWINS WHERE a = 1 AND (b = 2 AND c = 3)"},
    {"SELECT * FROM DIGITALTWINS WHERE ((a = 1)) OR NOT (b = 2 OR c = 3)",
     "SELECT * FROM DIGITALTWINS WHERE a = 1 OR NOT (b = 2 OR c = 3)"},
    {"SELECT * FROM DIGITALTWINS WHERE NOT NOT a = 1",
     "SELECT * FROM DIGITALTWINS WHERE NOT NOT a = 1"},
    {"SELECT * FROM DIGITALTWINS WHERE a NIN ['x', 1, true, null, -2.5]",
     "SELECT * FROM DIGITALTWINS WHERE a NIN ['x', 1, true, null, -2.5]"},
    {"SELECT * FROM DIGITALTWINS WHERE 70 = T", "SELECT * FROM DIGITALTWINS WHERE 70 = T"},
    {"SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL('dtmi:a:b;1', EXACT)",
     "SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL('dtmi:a:b;1', exact)"},
    {"SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:a:b;1')",
     "SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:a:b;1')"},
    {"SELECT * FROM DIGITALTWINS WHERE IS_BOOL(a) AND IS_STRING(b) AND IS_NULL(c) AND "
     "IS_NUMBER(d) AND IS_OBJECT(e) AND IS_PRIMITIVE(f) AND is_defined(g)",
     "SELECT * FROM DIGITALTWINS WHERE IS_BOOL(a) AND IS_STRING(b) AND IS_NULL(c) AND "
     "IS_NUMBER(d) AND IS_OBJECT(e) AND IS_PRIMITIVE(f) AND IS_DEFINED(g)"},
    {"SELECT * FROM DIGITALTWINS WHERE STARTS_WITH($dtId, 'a') OR ENDS_WITH($dtId, 'b')",
     "SELECT * FROM DIGITALTWINS WHERE STARTSWITH($dtId, 'a') OR ENDSWITH($dtId, 'b')"},
    {"SELECT * FROM DIGITALTWINS WHERE ARRAY_CONTAINS(tags, 'x') AND ARRAY_CONTAINS(n, 1.5) AND "
     "ARRAY_CONTAINS(b, false)",
     "SELECT * FROM DIGITALTWINS WHERE ARRAY_CONTAINS(tags, 'x') AND ARRAY_CONTAINS(n, 1.5) AND "
     "ARRAY_CONTAINS(b, false)"},
    {"SELECT * FROM DIGITALTWINS T WHERE T.map.[[1key]] = 'v' AND T.[[select]] = 1",
     "SELECT * FROM DIGITALTWINS T WHERE T.map.[[1key]] = 'v' AND T.[[select]] = 1"},
    {"SELECT * FROM DIGITALTWINS WHERE [[join]] = 1 AND [[a b]] = 2 AND [[exact]] = 3",
     "SELECT * FROM DIGITALTWINS WHERE [[join]] = 1 AND [[a b]] = 2 AND [[exact]] = 3"},
    {"SELECT * FROM DIGITALTWINS WHERE IS_DEFINED(exact)",
     "SELECT * FROM DIGITALTWINS WHERE IS_DEFINED([[exact]])"},
    {"SELECT * FROM DIGITALTWINS WHERE T.related = 1 AND T.contains = 2",
     "SELECT * FROM DIGITALTWINS WHERE T.[[related]] = 1 AND T.contains = 2"},
    {"SELECT * FROM DIGITALTWINS WHERE s = "
     "'a\\'b\\\\c\\\"d\\/e\\n\\t\\r\\b\\f\\u00e9\\ud83d\\ude00'",
     "SELECT * FROM DIGITALTWINS WHERE s = "
     "'a\\'b\\\\c\"d/e\\n\\t\\r\\b\\f\xc3\xa9\xf0\x9f\x98\x80'"},
    {"SELECT * FROM DIGITALTWINS WHERE s = '\\u0001'",
     "SELECT * FROM DIGITALTWINS WHERE s = '\\u0001'"},
    {"SELECT * FROM DIGITALTWINS WHERE s = 'caf\xc3\xa9'",
     "SELECT * FROM DIGITALTWINS WHERE s = 'caf\xc3\xa9'"},
    {"SELECT\n  *\r\nFROM\tDIGITALTWINS\n", "SELECT * FROM DIGITALTWINS"},
    {"SELECT A FROM DIGITALTWINS MATCH (A) WHERE A.$dtId = 'x'",
     "SELECT A FROM DIGITALTWINS MATCH (A) WHERE A.$dtId = 'x'"},
    {"SELECT * FROM DIGITALTWINS MATCH (A) WHERE A.$dtId = 'x'",
     "SELECT * FROM DIGITALTWINS MATCH (A) WHERE A.$dtId = 'x'"},
    {"SELECT B FROM DIGITALTWINS MATCH (A)-[*3]->()-[:x]-(B) WHERE A.$dtId = 'x'",
     "SELECT B FROM DIGITALTWINS MATCH (A)-[*3]->()-[:x]-(B) WHERE A.$dtId = 'x'"},
    {"SELECT B FROM DIGITALTWINS MATCH (A)<-[r]-(B) WHERE A.$dtId IN ['x'] OR B.$dtId = 'y'",
     "SELECT B FROM DIGITALTWINS MATCH (A)<-[r]-(B) WHERE A.$dtId IN ['x'] OR B.$dtId = 'y'"},
    {"SELECT B FROM DIGITALTWINS MATCH (A)-[:[[Group]]|b*0..2]->(B) WHERE 'x' = A.$dtId",
     "SELECT B FROM DIGITALTWINS MATCH (A)-[:[[Group]]|b*0..2]->(B) WHERE 'x' = A.$dtId"},
    {"SELECT B FROM DIGITALTWINS [[Match]] JOIN B RELATED [[Match]].x WHERE B.$dtId = 'y'",
     "SELECT B FROM DIGITALTWINS [[Match]] JOIN B RELATED [[Match]].x WHERE B.$dtId = 'y'"},
    {"SELECT * FROM DIGITALTWINS WHERE big = 9223372036854775807 AND bigger = 9223372036854775808",
     "SELECT * FROM DIGITALTWINS WHERE big = 9223372036854775807 AND bigger = "
     "9.2233720368547758e+18"},
    {"SELECT COUNT() FROM DIGITALTWINS A JOIN B RELATED A.r WHERE A.$dtId = 'x' AND "
     "(B.$dtId = 'p' OR B.$dtId = 'q')",
     "SELECT COUNT() FROM DIGITALTWINS A JOIN B RELATED A.r WHERE A.$dtId = 'x' AND "
     "(B.$dtId = 'p' OR B.$dtId = 'q')"},
};

static void round_trip(const char *text, const char *canonical)
{
    arena_t a;
    arena_init(&a, CASTOR_REQUEST_ARENA_MAX);
    castor_err err;
    castor_err_clear(&err);
    query_t *q1 = NULL, *q2 = NULL, *q3 = NULL;
    int rc = query_prepare(&a, text, strlen(text), &q1, &err);
    if (rc != 0) fail_msg("%s\n  -> %s", text, err.message);
    char *p1, *p2;
    assert_int_equal(query_print(&a, q1, &p1, &err), 0);
    if (canonical && strcmp(p1, canonical) != 0)
        fail_msg("%s\n printed %s\n expected %s", text, p1, canonical);
    rc = query_prepare(&a, p1, strlen(p1), &q2, &err);
    if (rc != 0) fail_msg("reparse of %s\n  -> %s", p1, err.message);
    if (!query_equal(q1, q2)) fail_msg("round trip changed the AST: %s -> %s", text, p1);
    assert_int_equal(query_print(&a, q2, &p2, &err), 0);
    assert_string_equal(p1, p2);
    /* The unchecked parse must agree too: printing depends only on syntax. */
    assert_int_equal(query_parse(&a, p2, strlen(p2), &q3, &err), 0);
    assert_true(query_equal(q3, q1));
    arena_free(&a);
}

static void reference_examples_parse_and_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof reference_examples / sizeof *reference_examples; i++)
        round_trip(reference_examples[i], NULL);
}

static void grammar_forms_print_canonically(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++)
        round_trip(forms[i].query, forms[i].canonical);
}

static query_t *prepare(arena_t *a, const char *text)
{
    castor_err err;
    query_t *q = NULL;
    if (query_prepare(a, text, strlen(text), &q, &err) != 0) fail_msg("%s: %s", text, err.message);
    return q;
}

static void paths_resolve_to_collections(void **state)
{
    (void)state;
    arena_t a;
    arena_init(&a, CASTOR_REQUEST_ARENA_MAX);
    query_t *q = prepare(&a, "SELECT T, SBT.name, R FROM DIGITALTWINS T JOIN SBT RELATED "
                             "T.servicedBy R WHERE T.$dtId = 'ABC' AND R.x.y = 1");
    assert_int_equal(q->ncollections, 3);
    assert_string_equal(q->collections[2].alias, "R");
    assert_int_equal(q->collections[2].kind, QUERY_COLL_RELATIONSHIP);
    assert_int_equal(q->items[0].path.collection, 0);
    assert_int_equal(q->items[0].path.first, 1); /* whole collection */
    assert_int_equal(q->items[1].path.collection, 1);
    assert_string_equal(q->items[1].path.segs[q->items[1].path.first], "name");
    assert_int_equal(q->joins[0].source_coll, 0);
    assert_int_equal(q->joins[0].target_coll, 1);
    assert_int_equal(q->joins[0].rel_coll, 2);
    const query_expr_t *rhs = q->where->rhs;
    assert_int_equal(rhs->kind, QUERY_EXPR_CMP);
    assert_int_equal(rhs->left.path.collection, 2);
    assert_int_equal(rhs->left.path.nsegs - rhs->left.path.first, 2);
    assert_int_equal(rhs->right.value.kind, QUERY_VALUE_INT);
    assert_int_equal(rhs->right.value.i, 1);

    q = prepare(&a, "SELECT name FROM DIGITALTWINS T WHERE T.$dtId = 'x'");
    assert_int_equal(q->items[0].path.collection, 0);
    assert_int_equal(q->items[0].path.first, 0);
    assert_int_equal(q->where->left.path.first, 1);
    arena_free(&a);
}

static void match_hops_are_inclusive_ranges(void **state)
{
    (void)state;
    static const struct {
        const char *edge;
        query_hops_form_t form;
        uint32_t min, max;
        query_dir_t dir;
    } cases[] = {
        {"-[]->", QUERY_HOPS_NONE, 1, 1, QUERY_DIR_RIGHT},
        {"<-[]-", QUERY_HOPS_NONE, 1, 1, QUERY_DIR_LEFT},
        {"-[]-", QUERY_HOPS_NONE, 1, 1, QUERY_DIR_ANY},
        {"-[*3]->", QUERY_HOPS_EXACT, 3, 3, QUERY_DIR_RIGHT},
        {"-[*1..3]-", QUERY_HOPS_RANGE, 2, 3, QUERY_DIR_ANY},
        {"-[*3..5]->", QUERY_HOPS_RANGE, 4, 5, QUERY_DIR_RIGHT},
        {"-[*0..2]->", QUERY_HOPS_RANGE, 1, 2, QUERY_DIR_RIGHT},
        {"<-[:a|b*..2]-", QUERY_HOPS_UPPER, 1, 2, QUERY_DIR_LEFT},
        {"-[*10]->", QUERY_HOPS_EXACT, 10, 10, QUERY_DIR_RIGHT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        arena_t a;
        arena_init(&a, CASTOR_REQUEST_ARENA_MAX);
        char text[256];
        snprintf(text, sizeof text, "SELECT B FROM DIGITALTWINS MATCH (A)%s(B) WHERE A.$dtId='x'",
                 cases[i].edge);
        query_t *q = prepare(&a, text);
        const query_match_edge_t *e = &q->match->edges[0];
        assert_int_equal(e->hops, cases[i].form);
        assert_int_equal(e->min_hops, cases[i].min);
        assert_int_equal(e->max_hops, cases[i].max);
        assert_int_equal(e->dir, cases[i].dir);
        arena_free(&a);
    }
}

static void literals_are_typed_values(void **state)
{
    (void)state;
    arena_t a;
    arena_init(&a, CASTOR_REQUEST_ARENA_MAX);
    castor_err err;
    query_t *q;
    /* A SQL-style doubled quote is not an escape here: 'it''s' is two strings, an error. */
    const char *doubled = "SELECT * FROM DIGITALTWINS WHERE x IN ['it''s']";
    assert_int_not_equal(query_prepare(&a, doubled, strlen(doubled), &q, &err), 0);
    q = prepare(&a, "SELECT * FROM DIGITALTWINS WHERE x IN ['D\\'Souza', 7, -7.25, true, null]");
    const query_expr_t *e = q->where;
    assert_int_equal(e->kind, QUERY_EXPR_IN);
    assert_int_equal(e->nitems, 5);
    assert_int_equal(e->items[0].kind, QUERY_VALUE_STRING);
    assert_string_equal(e->items[0].s, "D'Souza");
    assert_int_equal(e->items[0].len, 7);
    assert_int_equal(e->items[1].kind, QUERY_VALUE_INT);
    assert_int_equal(e->items[1].i, 7);
    assert_int_equal(e->items[2].kind, QUERY_VALUE_DOUBLE);
    assert_true(e->items[2].d == -7.25);
    assert_int_equal(e->items[3].kind, QUERY_VALUE_BOOL);
    assert_true(e->items[3].b);
    assert_int_equal(e->items[4].kind, QUERY_VALUE_NULL);
    arena_free(&a);
}

static void text_need_not_be_nul_terminated(void **state)
{
    (void)state;
    arena_t a;
    arena_init(&a, CASTOR_REQUEST_ARENA_MAX);
    const char buf[] = "SELECT * FROM DIGITALTWINS garbage after the length";
    query_t *q;
    castor_err err;
    assert_int_equal(query_prepare(&a, buf, strlen("SELECT * FROM DIGITALTWINS"), &q, &err), 0);
    assert_null(q->from_alias);
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_examples_parse_and_round_trip),
        cmocka_unit_test(grammar_forms_print_canonically),
        cmocka_unit_test(paths_resolve_to_collections),
        cmocka_unit_test(match_hops_are_inclusive_ranges),
        cmocka_unit_test(literals_are_typed_values),
        cmocka_unit_test(text_need_not_be_nul_terminated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
