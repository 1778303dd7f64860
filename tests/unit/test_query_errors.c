/* test_query_errors.c — every error form gives ADT's 400 SqlQueryError with the expected
 * message and position, and every limit admits its maximum and refuses one more. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "query/query.h"

static const struct {
    const char *query;
    int rc;
    const char *message;
} errors[] = {
    {"", CASTOR_EINVAL, "Syntax error at position 1: expected SELECT, found end of query"},
    {"   ", CASTOR_EINVAL, "Syntax error at position 4: expected SELECT, found end of query"},
    {"SELECT", CASTOR_EINVAL,
     "Syntax error at position 7: expected *, COUNT() or a projection, found end of query"},
    {"SELECT *", CASTOR_EINVAL, "Syntax error at position 9: expected FROM, found end of query"},
    {"SELECT * FROM", CASTOR_EINVAL,
     "Syntax error at position 14: expected DIGITALTWINS or RELATIONSHIPS, found end of query"},
    {"SELECT * WHERE x = 1", CASTOR_EINVAL,
     "Syntax error at position 10: expected FROM, found 'WHERE'"},
    {"SELECT * FROM DIGITALTWINS WHERE", CASTOR_EINVAL,
     "Syntax error at position 33: expected a condition, found end of query"},
    {"SELECT * FROM (SELECT * FROM DIGITALTWINS)", CASTOR_EINVAL,
     "Syntax error at position 15: expected DIGITALTWINS or RELATIONSHIPS (subqueries are not "
     "supported), found '('"},
    {"SELECT * FROM TWINS", CASTOR_EINVAL,
     "Syntax error at position 15: expected DIGITALTWINS or RELATIONSHIPS, found 'TWINS'"},
    {"SELECT * FROM DIGITALTWINS T JOIN C RELATED T.contains WHERE T.$dtId='x'", CASTOR_EINVAL,
     "Semantic error at position 8: SELECT * cannot be used with JOIN; name the collections to "
     "return, as in SELECT A, B"},
    {"SELECT C FROM DIGITALTWINS T JOIN C RELATED T.contains", CASTOR_EINVAL,
     "Semantic error at position 30: a query with JOIN must pin a twin's $dtId in WHERE with = or "
     "IN, as in WHERE T.$dtId = '...'"},
    {"SELECT C FROM DIGITALTWINS T JOIN C RELATED T.contains WHERE C.name = 'x'", CASTOR_EINVAL,
     "Semantic error at position 30: a query with JOIN must pin a twin's $dtId in WHERE with = or "
     "IN, as in WHERE T.$dtId = '...'"},
    {"SELECT C FROM DIGITALTWINS T JOIN C RELATED T.contains WHERE T.$dtId = 'x' OR C.x = 1",
     CASTOR_EINVAL,
     "Semantic error at position 30: a query with JOIN must pin a twin's $dtId in WHERE with = or "
     "IN, as in WHERE T.$dtId = '...'"},
    {"SELECT C FROM DIGITALTWINS T JOIN C RELATED T.contains WHERE NOT T.$dtId = 'x'",
     CASTOR_EINVAL,
     "Semantic error at position 30: a query with JOIN must pin a twin's $dtId in WHERE with = or "
     "IN, as in WHERE T.$dtId = '...'"},
    {"SELECT C FROM DIGITALTWINS T JOIN C RELATED T.contains WHERE T.$dtId NIN ['x']",
     CASTOR_EINVAL,
     "Semantic error at position 30: a query with JOIN must pin a twin's $dtId in WHERE with = or "
     "IN, as in WHERE T.$dtId = '...'"},
    {"SELECT C FROM DIGITALTWINS T JOIN C RELATED T.contains WHERE T.$dtId != 'x'", CASTOR_EINVAL,
     "Semantic error at position 30: a query with JOIN must pin a twin's $dtId in WHERE with = or "
     "IN, as in WHERE T.$dtId = '...'"},
    {"SELECT C FROM DIGITALTWINS T JOIN C RELATED T.contains R WHERE R.$dtId = 'x'", CASTOR_EINVAL,
     "Semantic error at position 30: a query with JOIN must pin a twin's $dtId in WHERE with = or "
     "IN, as in WHERE T.$dtId = '...'"},
    {"SELECT C FROM DIGITALTWINS T JOIN C RELATED X.contains WHERE T.$dtId = 'x'", CASTOR_EINVAL,
     "Semantic error at position 45: alias 'X' is not defined; RELATED names the FROM alias or an "
     "earlier JOIN's"},
    {"SELECT C FROM DIGITALTWINS T JOIN T RELATED T.contains WHERE T.$dtId = 'x'", CASTOR_EINVAL,
     "Semantic error at position 35: alias 'T' is already defined"},
    {"SELECT C FROM DIGITALTWINS T JOIN C RELATED T.contains R JOIN D RELATED R.x WHERE T.$dtId = "
     "'x'",
     CASTOR_EINVAL,
     "Semantic error at position 73: 'R' is a relationship; RELATED needs a twin alias"},
    {"SELECT C FROM DIGITALTWINS JOIN C RELATED T.contains WHERE C.$dtId = 'x'", CASTOR_EINVAL,
     "Semantic error at position 43: alias 'T' is not defined; RELATED names the FROM alias or an "
     "earlier JOIN's"},
    {"SELECT C FROM DIGITALTWINS T JOIN C RELATED T WHERE T.$dtId = 'x'", CASTOR_EINVAL,
     "Syntax error at position 47: expected '.' and a relationship name (RELATED source.name), "
     "found 'WHERE'"},
    {"SELECT C FROM DIGITALTWINS T JOIN C T.contains WHERE T.$dtId = 'x'", CASTOR_EINVAL,
     "Syntax error at position 37: expected RELATED, found 'T'"},
    {"SELECT X FROM DIGITALTWINS T JOIN C RELATED T.contains WHERE T.$dtId = 'x'", CASTOR_EINVAL,
     "Semantic error at position 8: 'X' is not a defined alias; with JOIN or MATCH every property "
     "starts with the alias of its collection"},
    {"SELECT name FROM DIGITALTWINS T JOIN C RELATED T.contains WHERE T.$dtId = 'x'", CASTOR_EINVAL,
     "Semantic error at position 8: 'name' is not a defined alias; with JOIN or MATCH every "
     "property starts with the alias of its collection"},
    {"SELECT * FROM RELATIONSHIPS R JOIN C RELATED R.x WHERE C.$dtId = 'x'", CASTOR_EINVAL,
     "Semantic error at position 31: JOIN cannot follow FROM RELATIONSHIPS"},
    {"SELECT * FROM RELATIONSHIPS MATCH (a)-[]->(b) WHERE a.$dtId = 'x'", CASTOR_EINVAL,
     "Semantic error at position 29: MATCH cannot follow FROM RELATIONSHIPS"},
    {"SELECT a FROM DIGITALTWINS MATCH (a)-[r*2]-(b) WHERE a.$dtId = 'x'", CASTOR_EINVAL,
     "Semantic error at position 40: relationship variable 'r' cannot be combined with a hop count "
     "(*n); a variable binds exactly one hop"},
    {"SELECT a FROM DIGITALTWINS MATCH (a)-[]->(b)", CASTOR_EINVAL,
     "Semantic error at position 28: a query with MATCH must pin a twin's $dtId in WHERE with = or "
     "IN, as in WHERE T.$dtId = '...'"},
    {"SELECT a FROM DIGITALTWINS MATCH (a)-[r]->(b) WHERE r.$dtId = 'x'", CASTOR_EINVAL,
     "Semantic error at position 28: a query with MATCH must pin a twin's $dtId in WHERE with = or "
     "IN, as in WHERE T.$dtId = '...'"},
    {"SELECT a FROM DIGITALTWINS MATCH (a)-[]->(b) MATCH (c) WHERE a.$dtId = 'x'", CASTOR_EINVAL,
     "Syntax error at position 46: a query may have only one MATCH clause"},
    {"SELECT a FROM DIGITALTWINS MATCH (a)<-[]->(b) WHERE a.$dtId = 'x'", CASTOR_EINVAL,
     "Syntax error at position 37: a MATCH edge cannot point both ways; chain two edges instead"},
    {"SELECT a FROM DIGITALTWINS MATCH (a)-[*3..3]->(b) WHERE a.$dtId = 'x'", CASTOR_EINVAL,
     "Semantic error at position 39: hop range *3..3 is empty: the lower bound is exclusive, so "
     "*1..3 means 2 or 3 hops"},
    {"SELECT a FROM DIGITALTWINS MATCH (a)-[*0]->(b) WHERE a.$dtId = 'x'", CASTOR_EINVAL,
     "Semantic error at position 39: a MATCH edge needs at least one hop"},
    {"SELECT a FROM DIGITALTWINS MATCH (a)-[*..0]->(b) WHERE a.$dtId = 'x'", CASTOR_EINVAL,
     "Semantic error at position 39: a MATCH edge needs at least one hop"},
    {"SELECT a FROM DIGITALTWINS MATCH (a)-[*11]->(b) WHERE a.$dtId = 'x'", CASTOR_ELIMIT,
     "Limit exceeded at position 40: a MATCH pattern may traverse at most 10 hops"},
    {"SELECT a FROM DIGITALTWINS MATCH (a)-[*..6]->(b)-[*5]->(c) WHERE a.$dtId = 'x'",
     CASTOR_ELIMIT,
     "Limit exceeded at position 51: a MATCH pattern may traverse at most 10 hops in all"},
    {"SELECT a FROM DIGITALTWINS MATCH (a)-[has|includes*..3]->(b) WHERE a.$dtId = 'x'",
     CASTOR_EINVAL,
     "Syntax error at position 42: expected ':', '*' or ']' (relationship names follow a ':', as "
     "in [:contains|has]), found '|'"},
    {"SELECT a FROM DIGITALTWINS MATCH (a)-->(b) WHERE a.$dtId = 'x'", CASTOR_EINVAL,
     "Syntax error at position 38: expected '[' (an edge is written -[...]->, <-[...]- or "
     "-[...]-), found '-'"},
    {"SELECT a FROM DIGITALTWINS MATCH (a)-[]->(a) WHERE a.$dtId = 'x'", CASTOR_EINVAL,
     "Semantic error at position 42: alias 'a' is already defined"},
    {"SELECT a FROM DIGITALTWINS MATCH (a)-[*-1]->(b) WHERE a.$dtId = 'x'", CASTOR_EINVAL,
     "Syntax error at position 40: expected a whole number of hops, found '-'"},
    {"SELECT a FROM DIGITALTWINS MATCH (a)-[*1.5]->(b) WHERE a.$dtId = 'x'", CASTOR_EINVAL,
     "Syntax error at position 40: expected a whole number of hops, found '1.5'"},
    {"SELECT a FROM DIGITALTWINS MATCH a-[]->b WHERE a.$dtId = 'x'", CASTOR_EINVAL,
     "Syntax error at position 34: expected '(' to open a MATCH node, found 'a'"},
    {"SELECT a FROM DIGITALTWINS T MATCH (a) WHERE a.$dtId = 'x'", CASTOR_EINVAL,
     "Semantic error at position 28: FROM DIGITALTWINS takes no alias with MATCH; name twins in "
     "the pattern, as in MATCH (T)"},
    {"SELECT a FROM DIGITALTWINS T JOIN b RELATED T.x MATCH (a) WHERE a.$dtId = 'x'", CASTOR_EINVAL,
     "Semantic error at position 30: JOIN and MATCH cannot be combined"},
    {"SELECT * FROM DIGITALTWINS MATCH (a)-[]->(b) WHERE a.$dtId = 'x'", CASTOR_EINVAL,
     "Semantic error at position 8: SELECT * cannot be used with a MATCH pattern of several twins; "
     "name the collections to return, as in SELECT A, B"},
    {"SELECT name FROM DIGITALTWINS MATCH (a) WHERE a.$dtId = 'x'", CASTOR_EINVAL,
     "Semantic error at position 8: 'name' is not a defined alias; with JOIN or MATCH every "
     "property starts with the alias of its collection"},
    {"SELECT COUNT(), name FROM DIGITALTWINS", CASTOR_EINVAL,
     "Syntax error at position 15: COUNT() must be the only item in the SELECT list"},
    {"SELECT name, COUNT() FROM DIGITALTWINS", CASTOR_EINVAL,
     "Syntax error at position 14: COUNT() must be the only item in the SELECT list"},
    {"SELECT COUNT(x) FROM DIGITALTWINS", CASTOR_EINVAL,
     "Syntax error at position 14: expected ')' (COUNT takes no arguments), found 'x'"},
    {"SELECT COUNT FROM DIGITALTWINS", CASTOR_EINVAL,
     "Syntax error at position 8: expected a property name, found reserved word 'COUNT' (write "
     "[[COUNT]] to use it as a name)"},
    {"SELECT TOP(5) COUNT() FROM DIGITALTWINS", CASTOR_EINVAL,
     "Syntax error at position 15: COUNT() must be the only item in the SELECT list"},
    {"SELECT TOP(0) FROM DIGITALTWINS", CASTOR_EINVAL,
     "Syntax error at position 12: expected a positive whole number in TOP(...), found '0'"},
    {"SELECT TOP(-1) FROM DIGITALTWINS", CASTOR_EINVAL,
     "Syntax error at position 12: expected a positive whole number in TOP(...), found '-'"},
    {"SELECT TOP(1.5) FROM DIGITALTWINS", CASTOR_EINVAL,
     "Syntax error at position 12: expected a positive whole number in TOP(...), found '1.5'"},
    {"SELECT TOP 5 FROM DIGITALTWINS", CASTOR_EINVAL,
     "Syntax error at position 12: expected '(' after TOP, found '5'"},
    {"SELECT TOP(99999999999) FROM DIGITALTWINS", CASTOR_EINVAL,
     "Syntax error at position 12: expected a positive whole number in TOP(...), found "
     "'99999999999'"},
    {"SELECT TOP(5 FROM DIGITALTWINS", CASTOR_EINVAL,
     "Syntax error at position 14: expected ')', found 'FROM'"},
    {"SELECT name age FROM DIGITALTWINS", CASTOR_EINVAL,
     "Syntax error at position 13: expected ',' or FROM, found 'age'"},
    {"SELECT name, FROM DIGITALTWINS", CASTOR_EINVAL,
     "Syntax error at position 14: expected a property name, found reserved word 'FROM' (write "
     "[[FROM]] to use it as a name)"},
    {"SELECT name AS FROM DIGITALTWINS", CASTOR_EINVAL,
     "Syntax error at position 16: expected a name after AS, found reserved word 'FROM' (write "
     "[[FROM]] to use it as a name)"},
    {"SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL(exact, 'dtmi:a;1')", CASTOR_EINVAL,
     "Syntax error at position 46: exact may only be IS_OF_MODEL's last argument"},
    {"SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:a;1', exact, T)", CASTOR_EINVAL,
     "Syntax error at position 58: exact may only be IS_OF_MODEL's last argument"},
    {"SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL()", CASTOR_EINVAL,
     "Semantic error at position 34: IS_OF_MODEL takes a model id, optionally preceded by a twin "
     "alias and followed by exact"},
    {"SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL(exact)", CASTOR_EINVAL,
     "Semantic error at position 34: IS_OF_MODEL takes a model id, optionally preceded by a twin "
     "alias and followed by exact"},
    {"SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('thing')", CASTOR_EINVAL,
     "Semantic error at position 46: 'thing' is not a model id; model ids start with dtmi:"},
    {"SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL(5)", CASTOR_EINVAL,
     "Semantic error at position 46: expected a model id string ('dtmi:...') in IS_OF_MODEL"},
    {"SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL(X, 'dtmi:a;1')", CASTOR_EINVAL,
     "Semantic error at position 46: IS_OF_MODEL's first argument must be a twin alias"},
    {"SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:a;1', 'dtmi:b;1')", CASTOR_EINVAL,
     "Semantic error at position 46: IS_OF_MODEL's first argument must be a twin alias"},
    {"SELECT * FROM RELATIONSHIPS WHERE IS_OF_MODEL('dtmi:a;1')", CASTOR_EINVAL,
     "Semantic error at position 35: IS_OF_MODEL tests twins, not relationships"},
    {"SELECT A FROM DIGITALTWINS A JOIN B RELATED A.x WHERE A.$dtId = 'x' AND "
     "IS_OF_MODEL('dtmi:a;1')",
     CASTOR_EINVAL,
     "Semantic error at position 73: IS_OF_MODEL needs the alias of the twins to test when the "
     "query has several collections, as in IS_OF_MODEL(T, 'dtmi:...')"},
    {"SELECT A FROM DIGITALTWINS A JOIN B RELATED A.x R WHERE A.$dtId = 'x' AND IS_OF_MODEL(R, "
     "'dtmi:a;1')",
     CASTOR_EINVAL,
     "Semantic error at position 87: IS_OF_MODEL's first argument must be a twin alias"},
    {"SELECT * FROM DIGITALTWINS WHERE IS_DEFINED()", CASTOR_EINVAL,
     "Semantic error at position 34: IS_DEFINED takes one property"},
    {"SELECT * FROM DIGITALTWINS WHERE IS_DEFINED(a, b)", CASTOR_EINVAL,
     "Semantic error at position 34: IS_DEFINED takes one property"},
    {"SELECT * FROM DIGITALTWINS WHERE IS_DEFINED('a')", CASTOR_EINVAL,
     "Semantic error at position 45: expected a property as IS_DEFINED's argument"},
    {"SELECT * FROM DIGITALTWINS T WHERE IS_NULL(T)", CASTOR_EINVAL,
     "Semantic error at position 44: expected a property of 'T', not the whole collection"},
    {"SELECT * FROM DIGITALTWINS WHERE STARTSWITH($dtId)", CASTOR_EINVAL,
     "Semantic error at position 34: STARTSWITH takes two arguments"},
    {"SELECT * FROM DIGITALTWINS WHERE STARTSWITH($dtId, x)", CASTOR_EINVAL,
     "Semantic error at position 52: expected a string as STARTSWITH's second argument"},
    {"SELECT * FROM DIGITALTWINS WHERE CONTAINS('a', 'b')", CASTOR_EINVAL,
     "Semantic error at position 43: expected a property as CONTAINS's first argument"},
    {"SELECT * FROM DIGITALTWINS WHERE ENDSWITH($dtId, 5)", CASTOR_EINVAL,
     "Semantic error at position 50: expected a string as ENDSWITH's second argument"},
    {"SELECT * FROM DIGITALTWINS WHERE ARRAY_CONTAINS(a, null)", CASTOR_EINVAL,
     "Semantic error at position 52: expected a string, number or boolean as ARRAY_CONTAINS's "
     "second argument"},
    {"SELECT * FROM DIGITALTWINS WHERE ARRAY_CONTAINS(a, b)", CASTOR_EINVAL,
     "Semantic error at position 52: expected a string, number or boolean as ARRAY_CONTAINS's "
     "second argument"},
    {"SELECT * FROM DIGITALTWINS WHERE FOO(a)", CASTOR_EINVAL,
     "Syntax error at position 34: unknown function 'FOO'; functions are IS_OF_MODEL, IS_DEFINED, "
     "IS_NULL, IS_BOOL, IS_NUMBER, IS_STRING, IS_PRIMITIVE, IS_OBJECT, STARTSWITH, ENDSWITH, "
     "CONTAINS and ARRAY_CONTAINS"},
    {"SELECT * FROM DIGITALTWINS WHERE COUNT() > 1", CASTOR_EINVAL,
     "Syntax error at position 34: unknown function 'COUNT'; functions are IS_OF_MODEL, "
     "IS_DEFINED, IS_NULL, IS_BOOL, IS_NUMBER, IS_STRING, IS_PRIMITIVE, IS_OBJECT, STARTSWITH, "
     "ENDSWITH, CONTAINS and ARRAY_CONTAINS"},
    {"SELECT * FROM DIGITALTWINS WHERE x", CASTOR_EINVAL,
     "Syntax error at position 35: expected a comparison operator (=, !=, <, <=, >, >=), IN or "
     "NIN, found end of query"},
    {"SELECT * FROM DIGITALTWINS WHERE x =", CASTOR_EINVAL,
     "Syntax error at position 37: expected a property or a value, found end of query"},
    {"SELECT * FROM DIGITALTWINS WHERE x == 1", CASTOR_EINVAL,
     "Syntax error at position 37: expected a property or a value, found '='"},
    {"SELECT * FROM DIGITALTWINS WHERE x <> 1", CASTOR_EINVAL,
     "Syntax error at position 37: expected a property or a value, found '>'"},
    {"SELECT * FROM DIGITALTWINS WHERE x NOT IN ['a']", CASTOR_EINVAL,
     "Syntax error at position 36: expected a comparison operator (=, !=, <, <=, >, >=), IN or NIN "
     "(write NIN for NOT IN), found 'NOT'"},
    {"SELECT * FROM DIGITALTWINS WHERE x IN []", CASTOR_EINVAL,
     "Syntax error at position 40: expected a value (string, number, true, false or null), found "
     "']'"},
    {"SELECT * FROM DIGITALTWINS WHERE x IN ('a')", CASTOR_EINVAL,
     "Syntax error at position 39: expected '[' to open the list, found '('"},
    {"SELECT * FROM DIGITALTWINS WHERE x IN ['a' 'b']", CASTOR_EINVAL,
     "Syntax error at position 44: expected ',' or ']', found string 'b'"},
    {"SELECT * FROM DIGITALTWINS WHERE x IN ['a', y]", CASTOR_EINVAL,
     "Syntax error at position 45: expected a value (string, number, true, false or null), found "
     "'y'"},
    {"SELECT * FROM DIGITALTWINS WHERE 'a' IN ['a']", CASTOR_EINVAL,
     "Semantic error at position 34: expected a property before IN"},
    {"SELECT * FROM DIGITALTWINS WHERE x = ['a']", CASTOR_EINVAL,
     "Syntax error at position 38: expected a property or a value (a [...] list may only follow IN "
     "or NIN), found '['"},
    {"SELECT * FROM DIGITALTWINS WHERE (x = 1", CASTOR_EINVAL,
     "Syntax error at position 40: expected AND, OR or ')', found end of query"},
    {"SELECT * FROM DIGITALTWINS WHERE x = 1)", CASTOR_EINVAL,
     "Syntax error at position 39: expected AND, OR or end of query, found ')'"},
    {"SELECT * FROM DIGITALTWINS WHERE x = 1 AND", CASTOR_EINVAL,
     "Syntax error at position 43: expected a condition, found end of query"},
    {"SELECT * FROM DIGITALTWINS WHERE x = 1 y = 2", CASTOR_EINVAL,
     "Syntax error at position 40: expected AND, OR or end of query, found 'y'"},
    {"SELECT * FROM DIGITALTWINS WHERE x = 1 ORDER BY x", CASTOR_EINVAL,
     "Syntax error at position 40: ORDER BY is not supported"},
    {"SELECT * FROM DIGITALTWINS GROUP BY x", CASTOR_EINVAL,
     "Syntax error at position 28: GROUP BY is not supported"},
    {"SELECT * FROM DIGITALTWINS WHERE Group = 'x'", CASTOR_EINVAL,
     "Syntax error at position 34: expected a property name, found reserved word 'Group' (write "
     "[[Group]] to use it as a name)"},
    {"SELECT * FROM DIGITALTWINS WHERE T.Group = 'x'", CASTOR_EINVAL,
     "Syntax error at position 36: expected a property name, found reserved word 'Group' (write "
     "[[Group]] to use it as a name)"},
    {"SELECT * FROM DIGITALTWINS WHERE x = \"a\"", CASTOR_EINVAL,
     "Syntax error at position 38: strings are written in single quotes"},
    {"SELECT * FROM DIGITALTWINS WHERE x = 'abc", CASTOR_EINVAL,
     "Syntax error at position 38: unterminated string"},
    {"SELECT * FROM DIGITALTWINS WHERE x = 'a\\qb'", CASTOR_EINVAL,
     "Syntax error at position 40: unknown escape in string; allowed are \\' \\\" \\\\ \\/ \\b \\f "
     "\\n \\r \\t \\uXXXX"},
    {"SELECT * FROM DIGITALTWINS WHERE x = '\\u12'", CASTOR_EINVAL,
     "Syntax error at position 39: \\u needs four hex digits"},
    {"SELECT * FROM DIGITALTWINS WHERE x = '\\ud800'", CASTOR_EINVAL,
     "Syntax error at position 39: \\u escape is an unpaired surrogate"},
    {"SELECT * FROM DIGITALTWINS WHERE x = '\\u0000'", CASTOR_EINVAL,
     "Syntax error at position 39: \\u0000 is not allowed in a string"},
    {"SELECT * FROM DIGITALTWINS WHERE x = 1e", CASTOR_EINVAL,
     "Syntax error at position 38: malformed number: exponent needs digits"},
    {"SELECT * FROM DIGITALTWINS WHERE x = 1e999", CASTOR_EINVAL,
     "Syntax error at position 38: number 1e999 is out of range"},
    {"SELECT * FROM DIGITALTWINS WHERE x = 12abc", CASTOR_EINVAL,
     "Syntax error at position 38: malformed number; a name cannot start with a digit unless "
     "escaped as [[...]]"},
    {"SELECT * FROM DIGITALTWINS WHERE x = 1 ; DROP TABLE twins", CASTOR_EINVAL,
     "Syntax error at position 40: unexpected character ';'"},
    {"SELECT * FROM DIGITALTWINS WHERE x = 1 !", CASTOR_EINVAL,
     "Syntax error at position 40: expected '!=', found '!'"},
    {"SELECT * FROM DIGITALTWINS WHERE [[x = 1", CASTOR_EINVAL,
     "Syntax error at position 34: unterminated [[...]] name; expected ']]'"},
    {"SELECT * FROM DIGITALTWINS WHERE [[]] = 1", CASTOR_EINVAL,
     "Syntax error at position 34: empty [[]] name"},
    {"SELECT * FROM DIGITALTWINS WHERE x. = 1", CASTOR_EINVAL,
     "Syntax error at position 37: expected a property name, found '='"},
    {"SELECT * FROM DIGITALTWINS WHERE .x = 1", CASTOR_EINVAL,
     "Syntax error at position 34: expected a property or a value, found '.'"},
    {"SELECT * FROM DIGITALTWINS WHERE café = 1", CASTOR_EINVAL,
     "Syntax error at position 37: unexpected character 'é'"},
    {"SELECT * FROM DIGITALTWINS Where", CASTOR_EINVAL,
     "Syntax error at position 33: expected a condition, found end of query"},
    {"SELECT * FROM DIGITALTWINS T T2", CASTOR_EINVAL,
     "Syntax error at position 30: expected JOIN, MATCH, WHERE or end of query, found 'T2'"},
    {"SELECT * FROM DIGITALTWINS JOIN", CASTOR_EINVAL,
     "Syntax error at position 32: expected an alias after JOIN, found end of query"},
    {"SELECT * FROM DIGITALTWINS T JOIN select RELATED T.x", CASTOR_EINVAL,
     "Syntax error at position 35: expected an alias after JOIN, found reserved word 'select' "
     "(write [[select]] to use it as a name)"},
    {"SELECT * FROM DIGITALTWINS T JOIN match RELATED T.x", CASTOR_EINVAL,
     "Syntax error at position 35: expected an alias after JOIN, found keyword 'match' (write "
     "[[match]] to use it as an alias)"},
    {"SELECT * FROM DIGITALTWINS FROM", CASTOR_EINVAL,
     "Syntax error at position 28: expected JOIN, MATCH, WHERE or end of query, found 'FROM'"},
    /* Positions count characters: 'é' is two bytes but one position. */
    {"SELECT * FROM DIGITALTWINS WHERE x = '\xc3\xa9\xc3\xa9' y = 1", CASTOR_EINVAL,
     "Syntax error at position 43: expected AND, OR or end of query, found 'y'"},
    {"SELECT * FROM DIGITALTWINS WHERE x = 'a\xff'", CASTOR_EINVAL,
     "Syntax error at position 40: query text is not valid UTF-8"},
};

static void each_error_has_its_message_and_position(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof errors / sizeof *errors; i++) {
        arena_t a;
        arena_init(&a, CASTOR_REQUEST_ARENA_MAX);
        castor_err err;
        castor_err_clear(&err);
        query_t *q = NULL;
        int rc = query_prepare(&a, errors[i].query, strlen(errors[i].query), &q, &err);
        if (rc != errors[i].rc || strcmp(err.message, errors[i].message) != 0)
            fail_msg("%s\n  got      %d %s\n  expected %d %s", errors[i].query, rc, err.message,
                     errors[i].rc, errors[i].message);
        assert_int_equal(err.rc, rc);
        assert_int_equal(err.status, 400);
        assert_string_equal(err.code, "SqlQueryError");
        assert_string_equal(err.path, "$.query");
        arena_free(&a);
    }
}

/* Builds "<head><sep-joined n copies of item with %u = index><tail>" into a heap buffer. */
static char *repeat(const char *head, const char *item, const char *sep, unsigned n,
                    const char *tail)
{
    size_t cap = strlen(head) + strlen(tail) + n * (strlen(item) + strlen(sep) + 12) + 1;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t len = (size_t)snprintf(s, cap, "%s", head);
    for (unsigned i = 0; i < n; i++) {
        if (i) len += (size_t)snprintf(s + len, cap - len, "%s", sep);
        len += (size_t)snprintf(s + len, cap - len, item, i);
    }
    snprintf(s + len, cap - len, "%s", tail);
    return s;
}

/* Prepares text and expects success (want == NULL) or exactly the message want. */
static void expect_result(const char *text, int want_rc, const char *want)
{
    arena_t a;
    arena_init(&a, CASTOR_REQUEST_ARENA_MAX);
    castor_err err;
    castor_err_clear(&err);
    query_t *q;
    int rc = query_prepare(&a, text, strlen(text), &q, &err);
    if (rc != want_rc || (want && strcmp(err.message, want) != 0))
        fail_msg("%.120s...\n  got %d %s\n  want %d %s", text, rc, err.message, want_rc,
                 want ? want : "");
    arena_free(&a);
}

static size_t offset_of_nth(const char *s, const char *needle, unsigned n)
{
    const char *p = s;
    for (unsigned i = 0; i <= n; i++) {
        p = strstr(i ? p + 1 : p, needle);
        assert_non_null(p);
    }
    return (size_t)(p - s);
}

static void length_limit_counts_characters(void **state)
{
    (void)state;
    const char *head = "SELECT * FROM DIGITALTWINS WHERE x = '";
    size_t pad = CASTOR_QUERY_LENGTH_MAX - strlen(head) - 1;
    char *s = malloc(CASTOR_QUERY_LENGTH_MAX * 2 + 8);
    assert_non_null(s);
    snprintf(s, CASTOR_QUERY_LENGTH_MAX + 8, "%s%*s'", head, (int)pad, "");
    assert_int_equal(strlen(s), CASTOR_QUERY_LENGTH_MAX);
    expect_result(s, 0, NULL);
    snprintf(s, CASTOR_QUERY_LENGTH_MAX + 8, "%s%*s'", head, (int)pad + 1, "");
    expect_result(s, CASTOR_ELIMIT,
                  "Limit exceeded at position 8001: a query may be at most 8000 characters long");
    /* 8,000 characters of two bytes each are still 8,000 characters. */
    size_t len = (size_t)sprintf(s, "%s", head);
    for (size_t i = 0; i < pad; i++)
        len += (size_t)sprintf(s + len, "\xc3\xa9");
    strcpy(s + len, "'");
    expect_result(s, 0, NULL);
    free(s);
}

/* Count limits: `ok` repetitions of item are allowed, one more is refused at the position of
 * the nth occurrence of needle (plus adj, to skip a leading space). */
static const struct {
    const char *head, *item, *sep, *tail;
    unsigned ok;
    const char *needle;
    unsigned nth;
    size_t adj;
    const char *why;
} count_limits[] = {
    {"SELECT * FROM DIGITALTWINS WHERE ", "x%u = 1", " AND ", "", CASTOR_QUERY_ANDOR_MAX + 1,
     " AND ", CASTOR_QUERY_ANDOR_MAX, 2, "a query may have at most 50 AND/OR operators"},
    {"SELECT * FROM DIGITALTWINS WHERE ", "x%u = 1", " OR ", "", CASTOR_QUERY_ANDOR_MAX + 1, " OR ",
     CASTOR_QUERY_ANDOR_MAX, 2, "a query may have at most 50 AND/OR operators"},
    {"SELECT * FROM DIGITALTWINS WHERE $dtId IN [", "'t%u'", ", ", "]", CASTOR_QUERY_IN_ITEMS_MAX,
     "'t100'", 0, 1, "an IN or NIN list may hold at most 100 items"},
    {"SELECT * FROM DIGITALTWINS WHERE $dtId NIN [", "%u", ", ", "]", CASTOR_QUERY_IN_ITEMS_MAX,
     "100", 0, 1, "an IN or NIN list may hold at most 100 items"},
    {"SELECT J4 FROM DIGITALTWINS J ", "JOIN J%u RELATED J.r", " ", " WHERE J.$dtId = 'x'",
     CASTOR_QUERY_JOINS_MAX, "JOIN", CASTOR_QUERY_JOINS_MAX, 1, "a query may have at most 5 JOINs"},
};

static void long_names_are_cut_on_a_character_boundary(void **state)
{
    (void)state;
    char *name = repeat("SELECT C FROM DIGITALTWINS T JOIN C RELATED T.r WHERE [[", "\xc3\xa9", "",
                        2000, "]] = 1");
    arena_t a;
    arena_init(&a, CASTOR_REQUEST_ARENA_MAX);
    castor_err err;
    query_t *q;
    assert_int_equal(query_prepare(&a, name, strlen(name), &q, &err), CASTOR_EINVAL);
    size_t n = strlen(err.message);
    assert_true(n > 900);
    /* The message ends on a whole character: its last lead byte has all its continuations. */
    size_t lead = n - 1;
    while (((unsigned char)err.message[lead] & 0xC0) == 0x80)
        lead--;
    unsigned char c = (unsigned char)err.message[lead];
    size_t want = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    assert_int_equal(n - lead, want);
    arena_free(&a);
    free(name);
}

static void count_limits_admit_max_and_refuse_one_more(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof count_limits / sizeof *count_limits; i++) {
        char *ok = repeat(count_limits[i].head, count_limits[i].item, count_limits[i].sep,
                          count_limits[i].ok, count_limits[i].tail);
        expect_result(ok, 0, NULL);
        char *bad = repeat(count_limits[i].head, count_limits[i].item, count_limits[i].sep,
                           count_limits[i].ok + 1, count_limits[i].tail);
        char want[160];
        snprintf(want, sizeof want, "Limit exceeded at position %zu: %s",
                 offset_of_nth(bad, count_limits[i].needle, count_limits[i].nth) +
                     count_limits[i].adj,
                 count_limits[i].why);
        expect_result(bad, CASTOR_ELIMIT, want);
        free(ok);
        free(bad);
    }
}

static void hop_limit(void **state)
{
    (void)state;
    static const struct {
        const char *pattern;
        int rc;
    } cases[] = {
        {"(a)-[*10]->(b)", 0},
        {"(a)-[*..10]->(b)", 0},
        {"(a)-[*9..10]-(b)", 0},
        {"(a)-[*5]->()-[*..4]->()-[]->(b)", 0},
        {"(a)-[*11]->(b)", CASTOR_ELIMIT},
        {"(a)-[*..11]->(b)", CASTOR_ELIMIT},
        {"(a)-[*0..11]->(b)", CASTOR_ELIMIT},
        {"(a)-[*5]->()-[*..5]->()-[]->(b)", CASTOR_ELIMIT},
        {"(a)-[]->()-[]->()-[]->()-[]->()-[]->()-[]->()-[]->()-[]->()-[]->()-[]->()-[]->(b)",
         CASTOR_ELIMIT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[256];
        snprintf(text, sizeof text, "SELECT b FROM DIGITALTWINS MATCH %s WHERE a.$dtId = 'x'",
                 cases[i].pattern);
        expect_result(text, cases[i].rc, NULL);
    }
}

static void nesting_limit(void **state)
{
    (void)state;
    char *ok = repeat("SELECT * FROM DIGITALTWINS WHERE ", "(", "", QUERY_NESTING_MAX, "x = 1");
    char *okc = repeat(ok, ")", "", QUERY_NESTING_MAX, "");
    expect_result(okc, 0, NULL);
    char *bad =
        repeat("SELECT * FROM DIGITALTWINS WHERE ", "NOT ", "", QUERY_NESTING_MAX + 1, "x = 1");
    char want[160];
    snprintf(want, sizeof want,
             "Limit exceeded at position %zu: conditions may nest at most 64 deep",
             strlen("SELECT * FROM DIGITALTWINS WHERE ") + 4 * QUERY_NESTING_MAX + 1);
    expect_result(bad, CASTOR_ELIMIT, want);
    /* Far past the cap (the whole length in parentheses) still fails cleanly. */
    char *deep = repeat("SELECT * FROM DIGITALTWINS WHERE ", "(", "", 7000, "x = 1");
    expect_result(deep, CASTOR_ELIMIT, NULL);
    free(ok);
    free(okc);
    free(bad);
    free(deep);
}

static void arena_cap_is_an_error_not_a_crash(void **state)
{
    (void)state;
    const char *text = "SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains WHERE "
                       "T.$dtId = 'ABC' AND CT.x IN [1, 2, 3]";
    for (size_t cap = 0; cap < 64 * 1024; cap += 512) {
        arena_t a;
        arena_init(&a, cap + 1);
        castor_err err;
        castor_err_clear(&err);
        query_t *q;
        int rc = query_prepare(&a, text, strlen(text), &q, &err);
        if (rc != 0) {
            assert_int_equal(rc, CASTOR_ELIMIT);
            assert_true(err.message[0] != '\0');
        }
        arena_free(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_error_has_its_message_and_position),
        cmocka_unit_test(length_limit_counts_characters),
        cmocka_unit_test(count_limits_admit_max_and_refuse_one_more),
        cmocka_unit_test(long_names_are_cut_on_a_character_boundary),
        cmocka_unit_test(hop_limit),
        cmocka_unit_test(nesting_limit),
        cmocka_unit_test(arena_cap_is_an_error_not_a_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
