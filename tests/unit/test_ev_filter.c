/* test_ev_filter.c — the event-route filter language: a table of (filter, event, expected)
 * rows over every operator, type, missing paths, precedence and keyword case; a table of
 * malformed filters with the offset and message each must give; and each cap at its limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "events/ev_filter.h"

/* Events as castor makes them (adt-limits-and-events.md §4). */
enum { TWIN_CREATE, TWIN_UPDATE, REL_CREATE, TELEMETRY, ODD, EVENT_COUNT };

static const char *const event_text[EVENT_COUNT] = {
    [TWIN_CREATE] =
        "{\"specversion\":\"1.0\",\"id\":\"e1\",\"type\":\"Microsoft.DigitalTwins.Twin.Create\","
        "\"source\":\"dt1.api.local.digitaltwins.castor\",\"subject\":\"room1\","
        "\"time\":\"2021-12-09T20:28:52.9795363Z\",\"datacontenttype\":\"application/json\","
        "\"traceparent\":\"00-2aa957558db348f387ef704b37631a1d-c28d665340fe5045-01\","
        "\"data\":{\"$dtId\":\"room1\",\"$etag\":\"W/\\\"1\\\"\",\"name\":\"Room 'A'\","
        "\"temperature\":21,\"humidity\":40.5,\"occupied\":true,\"note\":null,"
        "\"tags\":[\"a\",\"b\"],\"zone\":{\"floor\":3,\"name\":\"North\"},"
        "\"$metadata\":{\"$model\":\"dtmi:example:Room;1\"}}}",
    [TWIN_UPDATE] =
        "{\"specversion\":\"1.0\",\"id\":\"e2\",\"type\":\"Microsoft.DigitalTwins.Twin.Update\","
        "\"source\":\"dt1.api.local.digitaltwins.castor\",\"subject\":\"room1\","
        "\"time\":\"2021-12-09T20:28:53.0000000Z\",\"datacontenttype\":\"application/json\","
        "\"data\":{\"modelId\":\"dtmi:example:Room;1\","
        "\"patch\":[{\"value\":22,\"path\":\"/temperature\",\"op\":\"replace\"}]}}",
    [REL_CREATE] =
        "{\"specversion\":\"1.0\",\"id\":\"e3\","
        "\"type\":\"Microsoft.DigitalTwins.Relationship.Create\","
        "\"source\":\"dt1.api.local.digitaltwins.castor\",\"subject\":\"floor1/relationships/r1\","
        "\"time\":\"2021-12-09T20:28:54.0000000Z\",\"datacontenttype\":\"application/json\","
        "\"data\":{\"$relationshipId\":\"r1\",\"$sourceId\":\"floor1\",\"$targetId\":\"room1\","
        "\"$relationshipName\":\"contains\"}}",
    [TELEMETRY] = "{\"specversion\":\"1.0\",\"id\":\"m-7\",\"type\":\"microsoft.iot.telemetry\","
                  "\"source\":\"dt1.api.local.digitaltwins.castor/digitaltwins/room1\","
                  "\"subject\":\"comp1\",\"dataschema\":\"dtmi:example:Thermostat;1\","
                  "\"datacontenttype\":\"application/json\",\"data\":{\"Temperature\":50,\"big\":"
                  "9007199254740993,\"ratio\":-0.25,\"label\":\"\"}}",
    /* Data that is not an object, and an attribute of the wrong type. */
    [ODD] = "{\"specversion\":\"1.0\",\"id\":7,\"type\":\"x\",\"data\":\"just text\"}",
};

static json_t *events[EVENT_COUNT];

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < EVENT_COUNT; i++) {
        json_error_t je;
        events[i] = json_loads(event_text[i], 0, &je);
        if (!events[i]) {
            fprintf(stderr, "event %d: %s\n", i, je.text);
            return -1;
        }
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < EVENT_COUNT; i++)
        json_decref(events[i]);
    return 0;
}

/* Each row: a filter and whether each event passes it (one char per event: '1' or '0'). */
static const struct {
    const char *filter;
    const char *passes; /* TWIN_CREATE, TWIN_UPDATE, REL_CREATE, TELEMETRY, ODD */
} rows[] = {
    /* Constants. */
    {"true", "11111"},
    {"false", "00000"},
    {"  TRUE  ", "11111"},
    {"False", "00000"},
    {"(true)", "11111"},
    {"NOT false", "11111"},
    /* Attributes, each of them, with = and !=. */
    {"type = 'Microsoft.DigitalTwins.Twin.Create'", "10000"},
    {"type = 'microsoft.digitaltwins.twin.create'", "00000"}, /* values are case-sensitive */
    {"TYPE = 'Microsoft.DigitalTwins.Twin.Create'", "10000"}, /* names are not */
    {"type != 'Microsoft.DigitalTwins.Twin.Create'", "01111"},
    {"type = 'Microsoft.DigitalTwins.Twin.Create' OR type = 'microsoft.iot.telemetry'", "10010"},
    {"source = 'dt1.api.local.digitaltwins.castor'", "11100"},
    {"subject = 'room1'", "11000"},
    {"subject = 'floor1/relationships/r1'", "00100"},
    {"id = 'm-7'", "00010"},
    {"id = 7", "00001"}, /* a non-string attribute compares by its JSON type */
    {"time > '2021-12-09T20:28:53'", "01100"},
    {"dataschema = 'dtmi:example:Thermostat;1'", "00010"},
    {"dataschema != 'x'", "00010"}, /* missing elsewhere: undefined, not unequal */
    {"datacontenttype = 'application/json'", "11110"},
    {"specversion = '1.0'", "11111"},
    {"traceparent = '00-2aa957558db348f387ef704b37631a1d-c28d665340fe5045-01'", "10000"},
    {"traceparent != null", "10000"},
    {"traceparent = null", "00000"},
    /* $body paths. */
    {"$body.$metadata.$model = 'dtmi:example:Room;1'", "10000"},
    {"$body.modelId = 'dtmi:example:Room;1'", "01000"},
    {"$BODY.$dtId = 'room1'", "10000"},
    {"$body.$DTID = 'room1'", "00000"}, /* path segments are case-sensitive */
    {"$body.zone.floor = 3", "10000"},
    {"$body.zone.name = 'North'", "10000"},
    {"$body.zone.missing = 3", "00000"},
    {"$body.zone != null", "10000"},
    {"$body.zone = null", "00000"},
    {"$body.zone = 3", "00000"},
    {"$body.tags != null", "10000"},
    {"$body.tags = 'a'", "00000"}, /* never looks inside arrays */
    {"$body.patch != null", "01000"},
    {"$body.patch.path = '/temperature'", "00000"},
    {"$body.note = null", "10000"},
    {"$body.note != null", "00000"},
    {"$body.prop != null", "00000"}, /* missing: undefined */
    {"$body.prop = null", "00000"},
    {"$body != null", "11111"},
    {"$body = 'just text'", "00001"},
    {"$body.x = 1", "00000"}, /* no properties in a string */
    {"$body.$sourceId = 'floor1'", "00100"},
    {"$body.name = 'Room ''A'''", "10000"}, /* '' is a quote */
    {"$body.label = ''", "00010"},
    {"$body.name = 'Room ''A'' '", "00000"},
    /* Numbers: integers, doubles, negative, mixed, big. */
    {"$body.temperature = 21", "10000"},
    {"$body.temperature = 21.0", "10000"},
    {"$body.temperature > 20.5", "10000"},
    {"$body.temperature >= 21", "10000"},
    {"$body.temperature <= 21", "10000"},
    {"$body.temperature < 21", "00000"},
    {"$body.temperature != 22", "10000"},
    {"$body.humidity = 40.5", "10000"},
    {"$body.humidity > 4.05e1", "00000"},
    {"$body.humidity < 4.1E+1", "10000"},
    {"$body.Temperature >= 50", "00010"},
    {"$body.temperature >= 50", "00000"}, /* the casing is as sent */
    {"$body.ratio = -0.25", "00010"},
    {"$body.ratio < 0", "00010"},
    {"$body.ratio>-1", "00010"},
    {"$body.big = 9007199254740993", "00010"}, /* integers compare exactly */
    {"$body.big > 9007199254740992", "00010"},
    {"$body.temperature = '21'", "00000"}, /* string vs number: undefined */
    {"$body.temperature != '21'", "00000"},
    {"21 = $body.temperature", "10000"},
    {"1 = 1", "11111"},
    {"1 = 2", "00000"},
    {"1 = 1.0", "11111"},
    /* Booleans and ordering between incomparable values. */
    {"$body.occupied = true", "10000"},
    {"$body.occupied = TRUE", "10000"},
    {"$body.occupied != false", "10000"},
    {"true = $body.occupied", "10000"},
    {"$body.occupied > false", "00000"}, /* booleans have no order */
    {"$body.zone > 1", "00000"},
    {"$body.name < 1", "00000"},
    /* Strings order ordinally. */
    {"subject < 'room2'", "11110"},
    {"subject >= 'room1'", "11000"},
    {"subject > 'Room1'", "11110"}, /* lower case sorts after upper */
    {"$body.label < 'a'", "00010"},
    /* Functions. */
    {"STARTS_WITH($body.$metadata.$model, 'dtmi:example:')", "10000"},
    {"starts_with(type, 'Microsoft.DigitalTwins.')", "11100"},
    {"STARTS_WITH(type, '')", "11111"},
    {"ENDS_WITH(type, '.Create')", "10100"},
    {"ends_with(subject, 'relationships/r1')", "00100"},
    {"ENDS_WITH(subject, 'x-very-long-suffix-longer-than-the-subject')", "00000"},
    {"CONTAINS(type, 'Twin')", "11100"}, /* DigitalTwins */
    {"CONTAINS(type, '.Twin.')", "11000"},
    {"contains(source, '/digitaltwins/')", "00010"},
    {"CONTAINS(type, '')", "11111"},
    {"CONTAINS($body.temperature, '2')", "00000"}, /* a number is not a string */
    {"CONTAINS($body.missing, 'a')", "00000"},
    {"NOT CONTAINS($body.missing, 'a')", "00000"},
    {"NOT CONTAINS(type, '.Twin.')", "00111"},
    {"STARTS_WITH('abc', 'ab')", "11111"},
    /* IN and NOT IN. */
    {"type IN ['Microsoft.DigitalTwins.Twin.Create', 'microsoft.iot.telemetry']", "10010"},
    {"type in ['x']", "00001"},
    {"type NOT IN ['Microsoft.DigitalTwins.Twin.Create', 'microsoft.iot.telemetry']", "01101"},
    {"NOT type IN ['Microsoft.DigitalTwins.Twin.Create', 'microsoft.iot.telemetry']", "01101"},
    {"$body.temperature IN [20, 21.0, 'x']", "10000"},
    {"$body.temperature NOT IN [20, 22]", "10000"},
    {"$body.missing IN [1]", "00000"},
    {"$body.missing NOT IN [1]", "00000"},
    {"$body.note IN [null]", "10000"},
    {"$body.occupied IN [false, true]", "10000"},
    {"dataschema not in ['a']", "00010"},
    /* AND, OR, NOT, precedence and parentheses. */
    {"type = 'Microsoft.DigitalTwins.Twin.Create' AND subject = 'room1'", "10000"},
    {"subject = 'room1' and type != 'Microsoft.DigitalTwins.Twin.Create'", "01000"},
    /* AND binds tighter than OR: this is Create OR (Update AND subject = 'nope'). */
    {"type = 'Microsoft.DigitalTwins.Twin.Create' OR type = 'Microsoft.DigitalTwins.Twin.Update' "
     "AND subject = 'nope'",
     "10000"},
    {"(type = 'Microsoft.DigitalTwins.Twin.Create' OR type = "
     "'Microsoft.DigitalTwins.Twin.Update') AND subject = 'nope'",
     "00000"},
    {"subject = 'nope' AND type = 'x' OR id = 7", "00001"},
    {"NOT type = 'x'", "11110"},
    {"NOT (type = 'x' OR subject = 'room1')", "00110"},
    {"NOT NOT type = 'x'", "00001"},
    {"not(NOT(type = 'x'))", "00001"},
    {"((((type = 'x'))))", "00001"},
    {"true AND false", "00000"},
    {"false OR true", "11111"},
    {"true and $body.temperature = 21", "10000"},
    /* Three-valued logic: undefined AND false is false, undefined OR true is true. */
    {"$body.missing = 1 OR true", "11111"},
    {"NOT ($body.missing = 1 AND false)", "11111"},
    {"NOT ($body.missing = 1 AND true)", "00000"},
    {"NOT ($body.missing = 1 OR false)", "00000"},
    {"$body.temperature = 21 OR $body.Temperature = 50 OR $body.modelId != null", "11010"},
    /* Whitespace is free. */
    {"type='x'", "00001"},
    {"\ttype\n=\r\n'x'\n", "00001"},
    {"(type='x')AND(id=7)", "00001"},
};

static void each_row_matches_the_events_it_should(void **state)
{
    (void)state;
    for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
        castor_err err;
        castor_err_clear(&err);
        ev_filter_t *f = NULL;
        int rc = ev_filter_compile(rows[r].filter, strlen(rows[r].filter), &f, &err);
        if (rc != 0) {
            fprintf(stderr, "filter <%s>: %s\n", rows[r].filter, err.message);
            fail();
        }
        for (int e = 0; e < EVENT_COUNT; e++) {
            bool want = rows[r].passes[e] == '1';
            if (ev_filter_match(f, events[e]) != want) {
                fprintf(stderr, "filter <%s> on event %d: expected %s\n", rows[r].filter, e,
                        want ? "pass" : "no pass");
                fail();
            }
        }
        ev_filter_free(f);
    }
}

/* Malformed filters: 400 EventRouteFilterInvalid, the offset (in characters) and what was
 * expected. */
static const struct {
    const char *filter;
    int rc;
    const char *message; /* a fragment of the message */
} bad[] = {
    {"", CASTOR_EINVAL, "the event route filter is empty: use 'true'"},
    {"   ", CASTOR_EINVAL, "is empty"},
    {"yes", CASTOR_EINVAL, "offset 0: 'yes' is not a CloudEvents attribute a filter can test"},
    {"type", CASTOR_EINVAL,
     "offset 4: expected a comparison (=, !=, <, <=, >, >=) or IN after the operand, found the "
     "end of the filter"},
    {"type =", CASTOR_EINVAL, "offset 6: expected an attribute (type, source"},
    {"type = 'x", CASTOR_EINVAL, "offset 7: the string starting here has no closing quote"},
    {"type = 'x''", CASTOR_EINVAL, "offset 7: the string starting here has no closing quote"},
    {"type = \"x\"", CASTOR_EINVAL, "offset 7: strings are written in single quotes"},
    {"type == 'x'", CASTOR_EINVAL, "offset 5: '==' is not an operator: compare with '='"},
    {"type <> 'x'", CASTOR_EINVAL, "offset 5: '<>' is not an operator: use '!='"},
    {"type ! 'x'", CASTOR_EINVAL, "offset 5: '!' is not an operator"},
    {"type = 'x' AND", CASTOR_EINVAL, "offset 14: expected an attribute"},
    {"type = 'x' OR OR type = 'y'", CASTOR_EINVAL, "offset 14: expected an attribute"},
    {"type = 'x' type = 'y'", CASTOR_EINVAL,
     "offset 11: expected AND, OR or the end of the filter, found 'type'"},
    {"type = 'x')", CASTOR_EINVAL,
     "offset 10: expected the end of the filter (this ')' has no '('), found ')'"},
    {"(type = 'x'", CASTOR_EINVAL,
     "offset 11: expected ')' to close the '(' at offset 0, found the end of the filter"},
    {"()", CASTOR_EINVAL, "offset 1: expected an attribute"},
    {"NOT", CASTOR_EINVAL, "offset 3: expected an attribute"},
    {"type IN 'x'", CASTOR_EINVAL, "offset 8: expected '[' to open the IN list, found string 'x'"},
    {"type IN []", CASTOR_EINVAL, "offset 9: expected a value: an IN list has at least one"},
    {"type IN ['x',]", CASTOR_EINVAL, "offset 13: expected a value (string"},
    {"type IN ['x' 'y']", CASTOR_EINVAL, "offset 13: expected ',' or ']' in the IN list"},
    {"type IN ['x'", CASTOR_EINVAL, "offset 12: expected ',' or ']' in the IN list"},
    {"type IN [subject]", CASTOR_EINVAL, "offset 9: expected a value (string"},
    {"type NOT 'x'", CASTOR_EINVAL, "offset 9: expected IN after NOT, found string 'x'"},
    {"STARTS_WITH type", CASTOR_EINVAL, "offset 12: expected '(' after the function's name"},
    {"STARTS_WITH(type)", CASTOR_EINVAL,
     "offset 16: expected ',' between the function's two arguments, found ')'"},
    {"STARTS_WITH(type, 'a', 'b')", CASTOR_EINVAL,
     "offset 21: expected ')' after the function's two arguments, found ','"},
    {"STARTS_WITH(type, 'a') = true", CASTOR_EINVAL, "offset 23: expected AND, OR or the end"},
    {"$body.", CASTOR_EINVAL, "offset 6: expected a property name after '.' in a $body path"},
    {"$body.a..b = 1", CASTOR_EINVAL, "offset 8: expected a property name after '.'"},
    {"$body.patch[0].path = 'x'", CASTOR_EINVAL,
     "offset 11: a $body path cannot index into arrays"},
    {"$data.x = 1", CASTOR_EINVAL,
     "offset 0: '$data' is not known: event data is read through "
     "$body, e.g. $body.$data"},
    {"data.x = 1", CASTOR_EINVAL, "offset 0: 'data' is not a CloudEvents attribute"},
    {"telemetrysourcetime = 'x'", CASTOR_EINVAL, "offset 0: 'telemetrysourcetime' is not a"},
    {"AND type = 'x'", CASTOR_EINVAL, "offset 0: expected an attribute (type, source, subject"},
    {"type = 1.", CASTOR_EINVAL, "offset 7: a number's decimal point must be followed by digits"},
    {"type = 1e", CASTOR_EINVAL, "offset 7: a number's exponent must have digits"},
    {"type = 12abc", CASTOR_EINVAL, "offset 7: a number must not run into letters"},
    {"type = 99999999999999999999", CASTOR_EINVAL,
     "offset 7: the integer 99999999999999999999 is out of range"},
    {"type = 1e999", CASTOR_EINVAL, "offset 7: the number 1e999 is out of range"},
    {"type = .5", CASTOR_EINVAL, "offset 7: unexpected character '.'"},
    {"type = - 5", CASTOR_EINVAL, "offset 7: unexpected character '-'"},
    {"type = 'x' && id = 'y'", CASTOR_EINVAL, "offset 11: unexpected character '&'"},
    {"type = 'x'\x01", CASTOR_EINVAL, "offset 10: unexpected control character 0x01"},
    /* Offsets count characters: 'é' is two bytes and one character. */
    {"subject = 'é' AND", CASTOR_EINVAL, "offset 17: expected an attribute"},
    {"subject = 'é' ¤", CASTOR_EINVAL, "offset 14: unexpected character '¤'"},
    {"true false", CASTOR_EINVAL, "offset 5: expected AND, OR or the end of the filter"},
    {"true = ", CASTOR_EINVAL, "offset 7: expected an attribute"},
    {"IN ['a']", CASTOR_EINVAL, "offset 0: expected an attribute"},
};

static void each_malformed_filter_names_offset_and_expectation(void **state)
{
    (void)state;
    for (size_t r = 0; r < sizeof bad / sizeof *bad; r++) {
        castor_err err;
        castor_err_clear(&err);
        ev_filter_t *f = (ev_filter_t *)1;
        int rc = ev_filter_compile(bad[r].filter, strlen(bad[r].filter), &f, &err);
        if (rc != bad[r].rc || f != NULL || err.status != 400 ||
            strcmp(err.code, "EventRouteFilterInvalid") != 0 ||
            !strstr(err.message, bad[r].message)) {
            fprintf(stderr, "filter <%s>: rc %d status %d code %s\n  got:  %s\n  want: %s\n",
                    bad[r].filter, rc, err.status, err.code, err.message, bad[r].message);
            fail();
        }
    }
}

/* The length is not NUL-terminated: a filter is compiled from exactly len bytes. */
static void compiles_exactly_len_bytes(void **state)
{
    (void)state;
    const char text[] = "type = 'x' garbage";
    castor_err err;
    ev_filter_t *f = NULL;
    assert_int_equal(ev_filter_compile(text, 10, &f, &err), 0);
    assert_true(ev_filter_match(f, events[ODD]));
    ev_filter_free(f);
    /* A NUL inside the text is a character like any other, and refused. */
    const char nul[] = "type = 'x'\0 OR true";
    assert_int_equal(ev_filter_compile(nul, sizeof nul - 1, &f, &err), CASTOR_EINVAL);
    assert_non_null(strstr(err.message, "offset 10: unexpected control character 0x00"));
    /* Inside a string, NUL is part of the value. */
    const char nul_str[] = "type = 'x\0'";
    assert_int_equal(ev_filter_compile(nul_str, sizeof nul_str - 1, &f, &err), 0);
    assert_false(ev_filter_match(f, events[ODD]));
    ev_filter_free(f);
}

static void length_cap_counts_characters(void **state)
{
    (void)state;
    /* "type = '" + k bytes + "'" at exactly the cap, with 2-byte characters in the string. */
    size_t cap = CASTOR_EVENT_FILTER_LENGTH_MAX;
    char *text = malloc(2 * cap + 16);
    assert_non_null(text);
    size_t n = (size_t)sprintf(text, "type = '");
    size_t chars = n + 1;
    while (chars < cap) {
        memcpy(text + n, "é", 2);
        n += 2;
        chars++;
    }
    text[n++] = '\'';
    castor_err err;
    ev_filter_t *f = NULL;
    assert_int_equal(ev_filter_compile(text, n, &f, &err), 0);
    assert_false(ev_filter_match(f, events[TWIN_CREATE]));
    ev_filter_free(f);
    text[n++] = ' ';
    assert_int_equal(ev_filter_compile(text, n, &f, &err), CASTOR_ELIMIT);
    assert_null(f);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.code, "EventRouteFilterInvalid");
    assert_non_null(strstr(err.message, "at most 4096 characters"));
    free(text);
}

static void depth_cap_admits_max_and_refuses_one_more(void **state)
{
    (void)state;
    char text[1024];
    for (unsigned depth = CASTOR_EVENT_FILTER_DEPTH_MAX; depth <= CASTOR_EVENT_FILTER_DEPTH_MAX + 1;
         depth++) {
        /* Parentheses and NOT both count. */
        for (int with_not = 0; with_not < 2; with_not++) {
            size_t n = 0;
            for (unsigned i = 0; i < depth; i++)
                n += (size_t)sprintf(text + n, "%s", with_not && i % 2 ? "NOT " : "(");
            n += (size_t)sprintf(text + n, "type = 'x'");
            for (unsigned i = 0; i < depth; i++)
                if (!(with_not && i % 2)) text[n++] = ')';
            text[n] = '\0';
            castor_err err;
            ev_filter_t *f = NULL;
            int rc = ev_filter_compile(text, n, &f, &err);
            if (depth == CASTOR_EVENT_FILTER_DEPTH_MAX) {
                if (rc != 0) fprintf(stderr, "%s\n", err.message);
                assert_int_equal(rc, 0);
                /* An odd number of NOTs negates the comparison. */
                bool odd_nots = with_not && (depth / 2) % 2 == 1;
                assert_int_equal(ev_filter_match(f, events[ODD]), !odd_nots);
                ev_filter_free(f);
            } else {
                assert_int_equal(rc, CASTOR_ELIMIT);
                assert_string_equal(err.code, "EventRouteFilterInvalid");
                assert_non_null(strstr(err.message, "more than 32 deep"));
            }
        }
    }
}

static void in_list_cap_admits_max_and_refuses_one_more(void **state)
{
    (void)state;
    for (unsigned count = CASTOR_EVENT_FILTER_IN_ITEMS_MAX;
         count <= CASTOR_EVENT_FILTER_IN_ITEMS_MAX + 1; count++) {
        char text[2048];
        size_t n = (size_t)sprintf(text, "$body.temperature IN [");
        for (unsigned i = 0; i < count; i++)
            n += (size_t)sprintf(text + n, "%s%u", i ? "," : "", i);
        n += (size_t)sprintf(text + n, "]");
        castor_err err;
        ev_filter_t *f = NULL;
        int rc = ev_filter_compile(text, n, &f, &err);
        if (count == CASTOR_EVENT_FILTER_IN_ITEMS_MAX) {
            assert_int_equal(rc, 0);
            assert_true(ev_filter_match(f, events[TWIN_CREATE]));
            ev_filter_free(f);
        } else {
            assert_int_equal(rc, CASTOR_ELIMIT);
            assert_non_null(strstr(err.message, "offset 21: an IN list may hold at most 100"));
        }
    }
}

/* Long AND/OR chains are flat: hundreds of terms compile and match without deep recursion. */
static void long_chains_are_flat(void **state)
{
    (void)state;
    char text[CASTOR_EVENT_FILTER_LENGTH_MAX + 1];
    size_t n = 0;
    while (n + 32 < sizeof text)
        n += (size_t)sprintf(text + n, "%sid = 'e%zu'", n ? " OR " : "", n);
    n += (size_t)sprintf(text + n, " OR id = 7");
    castor_err err;
    ev_filter_t *f = NULL;
    int rc = ev_filter_compile(text, n, &f, &err);
    if (rc) fprintf(stderr, "%s\n", err.message);
    assert_int_equal(rc, 0);
    assert_true(ev_filter_match(f, events[ODD]));
    assert_false(ev_filter_match(f, events[TWIN_CREATE]));
    ev_filter_free(f);
}

/* Matching a non-object, or an event without data, is a no-match, never a crash. */
static void odd_events_do_not_match_or_crash(void **state)
{
    (void)state;
    castor_err err;
    ev_filter_t *f = NULL;
    const char *text = "$body.a = 1 OR type = 'x' OR NOT $body = null";
    assert_int_equal(ev_filter_compile(text, strlen(text), &f, &err), 0);
    json_t *arr = json_array(), *empty = json_object(), *num = json_integer(1);
    assert_false(ev_filter_match(f, arr));
    assert_false(ev_filter_match(f, empty));
    assert_false(ev_filter_match(f, num));
    assert_false(ev_filter_match(f, NULL));
    json_decref(arr);
    json_decref(empty);
    json_decref(num);
    ev_filter_free(f);
    ev_filter_free(NULL);
}

/* One compiled filter, matched from several threads at once. */
static ev_filter_t *shared_filter;

static void *match_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        if (!ev_filter_match(shared_filter, events[TWIN_CREATE])) return (void *)1;
        if (ev_filter_match(shared_filter, events[TELEMETRY])) return (void *)1;
    }
    return NULL;
}

static void matching_is_thread_safe(void **state)
{
    (void)state;
    castor_err err;
    const char *text = "STARTS_WITH($body.$metadata.$model, 'dtmi:example:') AND "
                       "$body.temperature IN [20, 21] AND NOT subject = 'x'";
    assert_int_equal(ev_filter_compile(text, strlen(text), &shared_filter, &err), 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, match_many, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_null(r);
    }
    ev_filter_free(shared_filter);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_row_matches_the_events_it_should),
        cmocka_unit_test(each_malformed_filter_names_offset_and_expectation),
        cmocka_unit_test(compiles_exactly_len_bytes),
        cmocka_unit_test(length_cap_counts_characters),
        cmocka_unit_test(depth_cap_admits_max_and_refuses_one_more),
        cmocka_unit_test(in_list_cap_admits_max_and_refuses_one_more),
        cmocka_unit_test(long_chains_are_flat),
        cmocka_unit_test(odd_events_do_not_match_or_crash),
        cmocka_unit_test(matching_is_thread_safe),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
