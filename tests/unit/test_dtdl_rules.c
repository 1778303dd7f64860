/* test_dtdl_rules.c — table-driven checks of individual DTDL rules and of the model graph and
 * value validation the twins module relies on. Each row is one small model and the verdict
 * (and, for rejections, the validation ID) the official parser gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dtdl/dtdl.h"

#define V2 "\"@context\":\"dtmi:dtdl:context;2\","
#define V3 "\"@context\":\"dtmi:dtdl:context;3\","
#define IF(id) "\"@type\":\"Interface\",\"@id\":\"" id "\""

typedef struct rule_case {
    const char *what;
    const char *json;
    const char *vid; /* NULL: must be accepted */
} rule_case_t;

static const rule_case_t g_cases[] = {
    {"minimal v2 interface", "{" V2 IF("dtmi:ex:A;1") "}", NULL},
    {"minimal v3 interface, no version", "{" V3 IF("dtmi:ex:A") "}", NULL},
    {"v2 id needs a version", "{" V2 IF("dtmi:ex:A") "}", "invalidId"},
    {"id segment ends with underscore", "{" V3 IF("dtmi:ex_:A;1") "}", "invalidId"},
    {"reserved id prefix", "{" V3 IF("dtmi:dtdl:A;1") "}", "reservedId"},
    {"missing context", "{" IF("dtmi:ex:A;1") "}", "missingContext"},
    {"unknown DTDL version", "{\"@context\":\"dtmi:dtdl:context;9\"," IF("dtmi:ex:A;1") "}",
     "unrecognizedContextVersion"},
    {"top level must be Interface",
     "{" V3 "\"@type\":\"Property\",\"@id\":\"dtmi:ex:A;1\",\"name\":\"p\",\"schema\":\"double\"}",
     "typeNotRootable"},
    {"property needs schema",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Property\",\"name\":\"p\"}]}",
     "missingObjectProperty"},
    {"name pattern",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Property\",\"name\":\"9p\",\"schema\":"
                              "\"double\"}]}",
     "stringInvalid"},
    {"duplicate content names",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Property\",\"name\":\"p\",\"schema\":"
                              "\"double\"},{\"@type\":\"Telemetry\",\"name\":\"p\",\"schema\":"
                              "\"double\"}]}",
     "nonUniquePropertyValue"},
    {"v2 displayName max 64",
     "{" V2 IF("dtmi:ex:A;1") ",\"displayName\":\"0123456789012345678901234567890123456789012345"
                              "678901234567890123456789\"}",
     "langStringValueTooLong"},
    {"v3 displayName up to 512",
     "{" V3 IF("dtmi:ex:A;1") ",\"displayName\":\"0123456789012345678901234567890123456789012345"
                              "678901234567890123456789\"}",
     NULL},
    {"displayName language map",
     "{" V3 IF("dtmi:ex:A;1") ",\"displayName\":{\"en\":\"A\",\"de\":\"B\"}}", NULL},
    {"bad language code", "{" V3 IF("dtmi:ex:A;1") ",\"displayName\":{\"e n\":\"A\"}}",
     "langStringInvalidCode"},
    {"v2 array in property schema",
     "{" V2 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Property\",\"name\":\"p\",\"schema\":"
                              "{\"@type\":\"Array\",\"elementSchema\":\"double\"}}]}",
     "excludedType"},
    {"v3 array in property schema",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Property\",\"name\":\"p\",\"schema\":"
                              "{\"@type\":\"Array\",\"elementSchema\":\"double\"}}]}",
     NULL},
    {"v2 maxMultiplicity above 500",
     "{" V2 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Relationship\",\"name\":\"r\","
                              "\"maxMultiplicity\":501}]}",
     "valueAboveRange"},
    {"relationship target need not exist",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Relationship\",\"name\":\"r\","
                              "\"target\":\"dtmi:ex:Nowhere;1\"}]}",
     NULL},
    {"extends must resolve", "{" V3 IF("dtmi:ex:A;1") ",\"extends\":\"dtmi:ex:Missing;1\"}",
     "unresolvedReference"},
    {"extends cycle",
     "[{" V3 IF("dtmi:ex:A;1") ",\"extends\":\"dtmi:ex:B;1\"},{" V3 IF(
         "dtmi:ex:B;1") ",\"extends\":\"dtmi:ex:A;1\"}]",
     "recursiveStructureNarrow"},
    {"inherited name conflict",
     "[{" V3 IF("dtmi:ex:A;1") ",\"extends\":\"dtmi:ex:B;1\",\"contents\":[{\"@type\":\"Property\","
                               "\"name\":\"p\",\"schema\":\"double\"}]},{" V3 IF(
                                   "dtmi:ex:B;1") ",\"contents\":[{\"@type\":\"Property\",\"name\":"
                                                  "\"p\",\"schema\":\"string\"}]}]",
     "nonUniqueImportedPropertyValue"},
    {"duplicate @id in batch", "[{" V3 IF("dtmi:ex:A;1") "},{" V3 IF("dtmi:ex:A;1") "}]",
     "duplicateDefinition"},
    {"component schema must be an Interface",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Component\",\"name\":\"c\","
                              "\"schema\":\"double\"}]}",
     "badType"},
    {"semantic type with unit (v3 extension)",
     "{\"@context\":[\"dtmi:dtdl:context;3\",\"dtmi:dtdl:extension:quantitativeTypes;1\"]," IF(
         "dtmi:ex:A;1") ",\"contents\":[{\"@type\":[\"Property\",\"Temperature\"],\"name\":\"t\","
                        "\"schema\":\"double\",\"unit\":\"degreeCelsius\"}]}",
     NULL},
    {"semantic type with a unit of another quantity",
     "{\"@context\":[\"dtmi:dtdl:context;3\",\"dtmi:dtdl:extension:quantitativeTypes;1\"]," IF(
         "dtmi:ex:A;1") ",\"contents\":[{\"@type\":[\"Property\",\"Temperature\"],\"name\":\"t\","
                        "\"schema\":\"double\",\"unit\":\"metre\"}]}",
     "wrongParent"},
    {"semantic type needs its extension in v3",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":[\"Property\",\"Temperature\"],"
                              "\"name\":\"t\",\"schema\":\"double\",\"unit\":\"degreeCelsius\"}]}",
     "typeUndefinedTerm"},
    {"v2 semantic type built in",
     "{" V2 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":[\"Telemetry\",\"Temperature\"],"
                              "\"name\":\"t\",\"schema\":\"double\",\"unit\":\"degreeCelsius\"}]}",
     NULL},
    {"enum value type must match valueSchema",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Property\",\"name\":\"e\",\"schema\":"
                              "{\"@type\":\"Enum\",\"valueSchema\":\"integer\",\"enumValues\":[{"
                              "\"name\":\"a\","
                              "\"enumValue\":\"x\"}]}}]}",
     "nonConformantDatatype"},
    {"v3 rejects JSON-LD keywords", "{" V3 IF("dtmi:ex:A;1") ",\"@language\":\"en\"}",
     "topLevelKeywordDisallowed"},
    {"v3 rejects JSON-LD keywords below the top",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Property\",\"name\":\"p\","
                              "\"schema\":\"double\",\"@language\":\"en\"}]}",
     "keywordDisallowed"},
    {"v2 ignores JSON-LD keywords", "{" V2 IF("dtmi:ex:A;1") ",\"@language\":\"en\"}", NULL},
    {"undefined property in v3", "{" V3 IF("dtmi:ex:A;1") ",\"foo\":1}", "propertyUndefinedTerm"},
    {"property key that is an IRI but no DTMI", "{" V3 IF("dtmi:ex:A;1") ",\"http://x.org/p\":1}",
     "propertyNotDtmiNorTerm"},
    {"property key that is an invalid DTMI", "{" V3 IF("dtmi:ex:A;1") ",\"dtmi:x.org/p\":1}",
     "propertyInvalidDtmi"},
    {"property key that is a DTMI no type allows",
     "{" V3 IF("dtmi:ex:A;1") ",\"dtmi:dtdl:class:Boolean;3\":1}", "propertyIrrelevantDtmiOrTerm"},
    {"property the language sets itself",
     "{" V2 IF("dtmi:ex:A;1") ",\"dtmi:dtdl:property:languageMajorVersion;2\":2}",
     "propertyIrrelevantDtmiOrTerm"},
    {"content without @type",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"name\":\"p\",\"schema\":\"double\"}]}", "badType"},
    {"top-level element without @type", "{" V3 "\"@id\":\"dtmi:ex:A;1\",\"name\":\"a\"}",
     "typeNotRootable"},
    {"schema naming a class, not an element",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Telemetry\",\"name\":\"t\","
                              "\"schema\":\"Double\"}]}",
     "badType"},
    {"reference under a reserved prefix that names nothing",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[\"dtmi:dtdl:nothing;1\"]}", "undefinedReservedId"},
    {"two units for one semantic type",
     "{" V2 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":[\"Telemetry\",\"Velocity\"],"
                              "\"name\":\"v\",\"schema\":\"double\",\"unit\":["
                              "\"kilometrePerSecond\",\"milePerHour\"]}]}",
     "objectMultipleValues"},
    {"empty @id", "{" V3 IF("") "}", "idNotString"},
    {"empty name array",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Telemetry\",\"name\":[],"
                              "\"schema\":\"double\"}]}",
     "stringCountBelowMin"},
    {"relationship target not a DTMI",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Relationship\",\"name\":\"r\","
                              "\"target\":\"urn:foo:bar\"}]}",
     "identifierNotDtmi"},
    {"context with a fragment",
     "{\"@context\":\"dtmi:dtdl:context;3#limits\"," IF("dtmi:ex:A;1") "}",
     "disallowedContextFragment"},
    {"nested context without a version",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@context\":\"dtmi:foo:bar\",\"@type\":"
                              "\"Telemetry\",\"name\":\"t\",\"schema\":\"double\"}]}",
     "missingContextVersion"},
    {"undefined extension where disallowed",
     "{\"@context\":[\"dtmi:dtdl:context;3\",\"dtmi:ex:ext;1\"]," IF("dtmi:ex:A;1") "}",
     "unresolvableContextSpecifier"},
    {"co-type that is an IRI but no DTMI",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":[\"Telemetry\",\"http://x.org/T\"],"
                              "\"name\":\"t\",\"schema\":\"double\"}]}",
     "typeNotDtmiNorTerm"},
    {"not an object", "[42]", "notAnObject"},
};

static void test_rule_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof g_cases / sizeof g_cases[0]; i++) {
        const rule_case_t *rc = &g_cases[i];
        json_error_t jerr;
        json_t *in = json_loads(rc->json, 0, &jerr);
        if (!in) fail_msg("case '%s' is not JSON: %s", rc->what, jerr.text);
        dtdl_graph_t *g = NULL;
        dtdl_errors_t errs;
        dtdl_errors_init(&errs);
        castor_err err;
        castor_err_clear(&err);
        int r = dtdl_parse_batch(in, NULL, NULL, NULL, &g, &errs, &err);
        if (!rc->vid && r != 0) fail_msg("'%s' should be accepted: %s", rc->what, err.message);
        if (rc->vid) {
            if (r == 0) fail_msg("'%s' should be rejected with %s", rc->what, rc->vid);
            bool found = false;
            for (size_t k = 0; k < errs.count; k++)
                found |= strcmp(errs.items[k].validation_id, rc->vid) == 0;
            if (!found)
                fail_msg("'%s': expected %s, got %s (%s)", rc->what, rc->vid,
                         errs.items[0].validation_id, errs.items[0].message);
            assert_string_equal(err.code, "DTDLParserError");
            assert_int_equal(err.status, 400);
        }
        dtdl_graph_free(g);
        dtdl_errors_free(&errs);
        json_decref(in);
    }
}

static void test_all_errors_reported(void **state)
{
    (void)state;
    json_t *in = json_loads(
        "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Property\","
                                 "\"name\":\"9a\",\"schema\":\"double\"},{\"@type\":\"Property\","
                                 "\"name\":\"b\"}]}",
        0, NULL);
    dtdl_graph_t *g = NULL;
    dtdl_errors_t errs;
    dtdl_errors_init(&errs);
    castor_err err;
    assert_int_equal(dtdl_parse_batch(in, NULL, NULL, NULL, &g, &errs, &err), CASTOR_EINVAL);
    assert_int_equal(errs.count, 2);
    assert_string_equal(errs.items[0].path, "$.contents[0].name");
    assert_non_null(strstr(errs.items[0].message, "starting with a letter"));
    assert_string_equal(errs.items[1].validation_id, "missingObjectProperty");
    assert_null(g);
    dtdl_errors_free(&errs);
    json_decref(in);
}

static json_t *lookup_base(const char *dtmi, void *ctx)
{
    (void)ctx;
    if (strcmp(dtmi, "dtmi:ex:Base;1") != 0) return NULL;
    return json_loads("{" V3 IF("dtmi:ex:Base;1") ",\"contents\":[{\"@type\":\"Property\","
                                                  "\"name\":\"serial\",\"schema\":\"string\"}]}",
                      0, NULL);
}

static const char *g_model =
    "{" V3 IF("dtmi:ex:Room;1") ",\"extends\":\"dtmi:ex:Base;1\",\"contents\":["
                                "{\"@type\":\"Property\",\"name\":\"temp\",\"schema\":\"double\","
                                "\"writable\":true},"
                                "{\"@type\":\"Property\",\"name\":\"tags\",\"schema\":{\"@type\":"
                                "\"Map\",\"mapKey\":{\"name\":"
                                "\"k\",\"schema\":\"string\"},\"mapValue\":{\"name\":\"v\","
                                "\"schema\":\"integer\"}}},"
                                "{\"@type\":\"Property\",\"name\":\"mode\",\"schema\":{\"@type\":"
                                "\"Enum\",\"valueSchema\":"
                                "\"string\",\"enumValues\":[{\"name\":\"on\",\"enumValue\":\"ON\"},"
                                "{\"name\":\"off\","
                                "\"enumValue\":\"OFF\"}]}},"
                                "{\"@type\":\"Property\",\"name\":\"pos\",\"schema\":{\"@type\":"
                                "\"Object\",\"fields\":["
                                "{\"name\":\"x\",\"schema\":\"double\"},{\"name\":\"when\","
                                "\"schema\":\"dateTime\"}]}},"
                                "{\"@type\":\"Property\",\"name\":\"list\",\"schema\":{\"@type\":"
                                "\"Array\",\"elementSchema\":"
                                "\"integer\"}},"
                                "{\"@type\":\"Relationship\",\"name\":\"contains\",\"target\":"
                                "\"dtmi:ex:Room;1\","
                                "\"maxMultiplicity\":3,\"properties\":[{\"@type\":\"Property\","
                                "\"name\":\"since\","
                                "\"schema\":\"date\"}]},"
                                "{\"@type\":\"Component\",\"name\":\"thermo\",\"schema\":\"dtmi:ex:"
                                "Base;1\"}]}";

static void test_graph_shape(void **state)
{
    (void)state;
    json_t *in = json_loads(g_model, 0, NULL);
    dtdl_graph_t *g = NULL;
    castor_err err;
    int r = dtdl_parse_batch(in, NULL, lookup_base, NULL, &g, NULL, &err);
    if (r != 0) fail_msg("%s", err.message);
    const dtdl_interface_t *room = dtdl_graph_find(g, "dtmi:ex:Room;1");
    assert_non_null(room);
    assert_true(room->in_batch);
    assert_false(dtdl_graph_find(g, "dtmi:ex:Base;1")->in_batch);
    assert_true(dtdl_interface_is_of(room, "dtmi:ex:Base;1"));
    assert_int_equal(room->ancestor_count, 1);
    assert_int_equal(room->content_count, 8); /* 7 own + serial inherited */
    const dtdl_content_t *t = dtdl_interface_content(room, "temp");
    assert_true(t->writable);
    assert_int_equal(t->schema->kind, DTDL_SCHEMA_DOUBLE);
    const dtdl_content_t *rel = dtdl_interface_content(room, "contains");
    assert_int_equal(rel->kind, DTDL_CONTENT_RELATIONSHIP);
    assert_string_equal(rel->target, "dtmi:ex:Room;1");
    assert_int_equal(rel->max_multiplicity, 3);
    assert_int_equal(rel->property_count, 1);
    assert_string_equal(dtdl_interface_content(room, "thermo")->component_interface,
                        "dtmi:ex:Base;1");
    assert_string_equal(dtdl_interface_content(room, "serial")->defined_in, "dtmi:ex:Base;1");

    static const struct {
        const char *prop, *value, *msg; /* msg NULL: conforms */
    } vals[] = {
        {"temp", "21.5", NULL},
        {"temp", "21", NULL},
        {"temp", "\"hot\"", "$.temp: expected double, got string"},
        {"tags", "{\"a\":1,\"b\":2}", NULL},
        {"tags", "{\"a\":\"x\"}", "$.tags.a: expected integer, got string"},
        {"mode", "\"ON\"", NULL},
        {"mode", "\"MAYBE\"",
         "$.mode: \"MAYBE\" is not a value of the enum; allowed: \"ON\", \"OFF\""},
        {"pos", "{\"x\":1.5,\"when\":\"2024-05-01T12:00:00Z\"}", NULL},
        {"pos", "{\"when\":\"yesterday\"}", "$.pos.when: 'yesterday' is not a dateTime"},
        {"pos", "{\"y\":1}", "$.pos: 'y' is not a field of this object"},
        {"list", "[1,2,3]", NULL},
        {"list", "[1,\"2\"]", "$.list[1]: expected integer, got string"},
        {"list", "[1, 3000000000]", "$.list[1]: 3000000000 does not fit a 32-bit integer"},
    };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        json_t *v = json_loads(vals[i].value, JSON_DECODE_ANY, NULL);
        char path[64];
        snprintf(path, sizeof path, "$.%s", vals[i].prop);
        castor_err_clear(&err);
        r = dtdl_validate_value(dtdl_interface_content(room, vals[i].prop)->schema, v, path, &err);
        if (!vals[i].msg && r != 0)
            fail_msg("%s=%s should conform: %s", vals[i].prop, vals[i].value, err.message);
        if (vals[i].msg) {
            assert_int_equal(r, CASTOR_EINVAL);
            if (strncmp(err.message, vals[i].msg, strlen(vals[i].msg)) != 0)
                fail_msg("got '%s', want '%s'", err.message, vals[i].msg);
        }
        json_decref(v);
    }
    dtdl_graph_free(g);
    json_decref(in);
}

static void test_dtmi_syntax(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int ver;
        bool ok;
    } rows[] = {
        {"dtmi:com:example:Thermostat;1", 2, true},
        {"dtmi:com:example:Thermostat", 2, false},
        {"dtmi:com:example:Thermostat", 3, true},
        {"dtmi:com:example:Thermostat;1.2", 3, true},
        {"dtmi:com:example:Thermostat;1.2", 2, false},
        {"dtmi:com:example:Thermostat;0", 3, false},
        {"dtmi:com:example:Thermostat;1234567890", 3, false},
        {"dtmi:com:9example;1", 3, false},
        {"dtmi:com:ex_ample;1", 3, true},
        {"dtmi:com:example_;1", 3, false},
        {"dtmi::a;1", 3, false},
        {"dtmi:a:;1", 3, false},
        {"DTMI:a;1", 3, false},
        {"", 3, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (dtdl_dtmi_valid(rows[i].s, rows[i].ver) != rows[i].ok)
            fail_msg("'%s' (v%d) should be %s", rows[i].s, rows[i].ver,
                     rows[i].ok ? "valid" : "invalid");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_table),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_graph_shape),
        cmocka_unit_test(test_dtmi_syntax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
