/* test_dtdl_fidelity.c — cases where castor's DTDL validator once disagreed with the official
 * parser (issue 15), each written from the spec text (DTDL.Specification.v2/v3.md in
 * $CASTOR_SHARED/reference/dtdl) with its valid and invalid neighbours: the extends depth limit,
 * @context arrays, Enum values as value objects, references into other Interfaces' schemas,
 * Components whose schema extends, and Interfaces of one DTDL version extending another.
 * Where a row has a v2 form, @azure/dtdl-parser (the npm parser the differential test runs)
 * gives the same verdict and code, except for Enum value objects, which it predates. */
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
#define PROP(n) "{\"@type\":\"Property\",\"name\":\"" n "\",\"schema\":\"double\"}"
/* An Enum S in an Interface's schemas, and a Telemetry that uses it. */
#define SCHEMAS_S                                                                                  \
    "\"schemas\":[{\"@id\":\"dtmi:ex:S;1\",\"@type\":\"Enum\",\"valueSchema\":\"integer\","        \
    "\"enumValues\":[{\"name\":\"a\",\"enumValue\":1}]}]"
#define TEL_S "{\"@type\":\"Telemetry\",\"name\":\"t\",\"schema\":\"dtmi:ex:S;1\"}"
/* A v3 Interface with one Enum property of valueSchema vs whose only value is ev. */
#define ENUM_WITH(vs, ev)                                                                          \
    "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Property\",\"name\":\"e\",\"schema\":{"  \
                             "\"@type\":\"Enum\",\"valueSchema\":\"" vs "\",\"enumValues\":[{"     \
                             "\"name\":\"a\",\"enumValue\":" ev "}]}}]}"
#define CTX(list) "{\"@context\":[" list "]," IF("dtmi:ex:A;1") "}"

typedef struct fidelity_case {
    const char *what;
    const char *json;
    const char *vid; /* NULL: must be accepted */
} fidelity_case_t;

static const fidelity_case_t g_cases[] = {
    /* @context: "dtmi:dtdl:context;3 may be preceded in the array by one or more values that
     * also begin with dtmi:dtdl:context; but SHOULD NOT"; it "MUST precede any values that do
     * not begin with dtmi:dtdl:context;"; repeating a value is a SHOULD NOT, not a MUST. */
    {"DTDL context given twice", CTX("\"dtmi:dtdl:context;3\",\"dtmi:dtdl:context;3\""), NULL},
    {"v3 context preceded by the v2 one", CTX("\"dtmi:dtdl:context;2\",\"dtmi:dtdl:context;3\""),
     NULL},
    {"v2 context preceded by the v3 one", CTX("\"dtmi:dtdl:context;3\",\"dtmi:dtdl:context;2\""),
     NULL},
    {"the last DTDL context sets the version (v3: no version in @id)",
     "{\"@context\":[\"dtmi:dtdl:context;2\",\"dtmi:dtdl:context;3\"]," IF("dtmi:ex:A") "}", NULL},
    {"the last DTDL context sets the version (v2: @id needs one)",
     "{\"@context\":[\"dtmi:dtdl:context;3\",\"dtmi:dtdl:context;2\"]," IF("dtmi:ex:A") "}",
     "invalidId"},
    {"two DTDL contexts, then an extension",
     CTX("\"dtmi:dtdl:context;2\",\"dtmi:dtdl:context;3\",\"dtmi:dtdl:extension:"
         "historization;1\""),
     NULL},
    {"extension given twice",
     CTX("\"dtmi:dtdl:context;3\",\"dtmi:dtdl:extension:historization;1\",\"dtmi:dtdl:"
         "extension:historization;1\""),
     NULL},
    {"DTDL context repeated after an extension",
     CTX("\"dtmi:dtdl:context;3\",\"dtmi:dtdl:extension:historization;1\",\"dtmi:dtdl:"
         "context;3\""),
     "dtdlContextFollowsAffiliate"},
    {"other DTDL context after an extension",
     CTX("\"dtmi:dtdl:context;2\",\"dtmi:dtdl:extension:historization;1\",\"dtmi:dtdl:"
         "context;3\""),
     "dtdlContextFollowsAffiliate"},
    {"v2: partner context before the DTDL context, twice",
     CTX("\"dtmi:iotcentral:context;2\",\"dtmi:iotcentral:context;2\",\"dtmi:dtdl:context;2\""),
     NULL},
    {"v2: partner context before the DTDL context in a nested element",
     "{" V2 IF("dtmi:ex:A;1") ",\"contents\":[{\"@context\":[\"dtmi:iotcentral:context;2\","
                              "\"dtmi:dtdl:context;2\"],\"@type\":\"Telemetry\",\"name\":\"t\","
                              "\"schema\":\"double\"}]}",
     NULL},
    {"v2: DTDL context after a partner context that follows one",
     "{" V2 IF("dtmi:ex:A;1") ",\"contents\":[{\"@context\":[\"dtmi:dtdl:context;2\","
                              "\"dtmi:iotcentral:context;2\",\"dtmi:dtdl:context;2\"],\"@type\":"
                              "\"Telemetry\",\"name\":\"t\",\"schema\":\"double\"}]}",
     "dtdlContextFollowsAffiliate"},
    {"unknown DTDL version among the leading ones",
     CTX("\"dtmi:dtdl:context;9\",\"dtmi:dtdl:context;3\""), "unrecognizedContextVersion"},
    {"nested context: v2 then v3 in a v3 document",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@context\":[\"dtmi:dtdl:context;2\","
                              "\"dtmi:dtdl:context;3\"],\"@type\":\"Property\",\"name\":\"p\","
                              "\"schema\":{\"@type\":\"Array\",\"elementSchema\":\"double\"}}]}",
     NULL},

    /* Enum values: "MUST be a representational integer [string]" when the Enum's valueSchema
     * is integer [string]; a typed value object's "@type", if present, MUST be xsd:integer
     * [xsd:string] or the full XMLSchema IRI. */
    {"integer enum value as untyped value object", ENUM_WITH("integer", "{\"@value\":1}"), NULL},
    {"integer enum value as typed value object",
     ENUM_WITH("integer", "{\"@value\":1,\"@type\":\"xsd:integer\"}"), NULL},
    {"integer enum value typed with the XMLSchema IRI",
     ENUM_WITH("integer", "{\"@value\":1,\"@type\":\"http://www.w3.org/2001/XMLSchema#integer\"}"),
     NULL},
    {"string enum value as typed value object",
     ENUM_WITH("string", "{\"@value\":\"x\",\"@type\":\"xsd:string\"}"), NULL},
    {"integer enum value in a one-element array of value objects",
     ENUM_WITH("integer", "[{\"@value\":1,\"@type\":\"xsd:integer\"}]"), NULL},
    {"integer enum value typed as a string",
     ENUM_WITH("integer", "{\"@value\":1,\"@type\":\"xsd:string\"}"), "nonConformantDatatype"},
    {"integer enum value typed as a boolean",
     ENUM_WITH("integer", "{\"@value\":1,\"@type\":\"xsd:boolean\"}"), "nonConformantDatatype"},
    {"integer enum value typed with no XSD type",
     ENUM_WITH("integer", "{\"@value\":1,\"@type\":\"integer\"}"), "nonConformantDatatype"},
    {"string enum value typed as an integer",
     ENUM_WITH("string", "{\"@value\":\"x\",\"@type\":\"xsd:integer\"}"), "nonConformantDatatype"},
    {"string value object in an integer enum",
     ENUM_WITH("integer", "{\"@value\":\"1\",\"@type\":\"xsd:string\"}"), "nonConformantDatatype"},

    /* Interface schemas: "an inheriting Interface cannot reuse schemas defined in the
     * Interface it extends, nor can an Interface in a Component reuse schemas defined in the
     * Interface that holds the Component" (DTDL.v3.md); every Interface, nested or not, is a
     * partition (the digest's partitionClasses). */
    {"top-level Interface uses its own schemas",
     "{" V3 IF("dtmi:ex:A;1") "," SCHEMAS_S ",\"contents\":[" TEL_S "]}", NULL},
    {"nested Interface uses its own schemas",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Component\",\"name\":\"c\",\"schema\":"
                              "{" IF("dtmi:ex:B;1") "," SCHEMAS_S ",\"contents\":[" TEL_S "]}}]}",
     NULL},
    {"own schemas used deep inside an Object field",
     "{" V3 IF("dtmi:ex:A;1") "," SCHEMAS_S ",\"contents\":[{\"@type\":\"Property\",\"name\":\"p\","
                              "\"schema\":{\"@type\":\"Object\","
                              "\"fields\":[{\"name\":\"f\",\"schema\":\"dtmi:ex:S;1\"}]}}]}",
     NULL},
    {"Interface uses the schemas of the Interface in its Component",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[" TEL_S ",{\"@type\":\"Component\",\"name\":\"c\","
                              "\"schema\":{" IF("dtmi:ex:B;1") "," SCHEMAS_S "}}]}",
     "crossPartitionReference"},
    {"Interface in a Component uses the schemas of its holder",
     "{" V3 IF("dtmi:ex:A;1") "," SCHEMAS_S ",\"contents\":[{\"@type\":\"Component\",\"name\":"
                              "\"c\",\"schema\":{" IF("dtmi:ex:B;1") ",\"contents\":[" TEL_S
                                                                     "]}}]}",
     "crossPartitionReference"},
    {"Interfaces of two Components share schemas",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Component\",\"name\":\"c\",\"schema\":"
                              "{" IF("dtmi:ex:B;1") "," SCHEMAS_S
                                                    "}},{\"@type\":\"Component\",\"name\":\"d\","
                                                    "\"schema\":{" IF(
                                                        "dtmi:ex:C;1") ",\"contents\":[" TEL_S
                                                                       "]}}]}",
     "crossPartitionReference"},
    {"Interface uses the schemas of the Interface it extends inline",
     "{" V3 IF("dtmi:ex:A;1") ",\"contents\":[" TEL_S
                              "],\"extends\":{" IF("dtmi:ex:B;1") "," SCHEMAS_S "}}",
     "crossPartitionReference"},
    {"inline extended Interface uses the schemas of its heir",
     "{" V3 IF("dtmi:ex:A;1") "," SCHEMAS_S
                              ",\"extends\":{" IF("dtmi:ex:B;1") ",\"contents\":[" TEL_S "]}}",
     "crossPartitionReference"},
    {"v2: Interface in a Component uses the schemas of its holder",
     "{" V2 IF("dtmi:ex:A;1") "," SCHEMAS_S ",\"contents\":[{\"@type\":\"Component\",\"name\":"
                              "\"c\",\"schema\":{" IF("dtmi:ex:B;1") ",\"contents\":[" TEL_S
                                                                     "]}}]}",
     "crossPartitionReference"},

    /* Components: "There MUST NOT be a path of schema or contents members from any Component
     * to any Component"; an Interface's contents include those it imports through extends
     * (the digest's importProperties), so a Component whose schema extends an Interface
     * holding a Component contains a Component. */
    {"Component whose schema extends an Interface of Properties",
     "[{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Component\",\"name\":\"c\","
                               "\"schema\":\"dtmi:ex:B;1\"}]},{" V3
                                   IF("dtmi:ex:B;1") ",\"extends\":\"dtmi:ex:C;1\"},{" V3 IF(
                                       "dtmi:ex:C;1") ",\"contents\":[" PROP("p") "]}]",
     NULL},
    {"Component whose inline schema extends",
     "[{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Component\",\"name\":\"c\","
                               "\"schema\":{" IF(
                                   "dtmi:ex:B;1") ",\"extends\":\"dtmi:ex:C;1\"}}]},"
                                                  "{" V3 IF("dtmi:ex:C;1") ",\"contents\":[" PROP(
                                                      "p") "]}]",
     NULL},
    {"Component whose schema extends an Interface holding a Component",
     "[{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Component\",\"name\":\"c\","
                               "\"schema\":\"dtmi:ex:B;1\"}]},{" V3
                                   IF("dtmi:ex:B;1") ",\"extends\":\"dtmi:ex:C;1\"},{" V3 IF(
                                       "dtmi:ex:C;1") ",\"contents\":[{\"@type\":\"Component\","
                                                      "\"name\":\"d\",\"schema\":"
                                                      "\"dtmi:ex:D;1\"}]},{" V3 IF(
                                                          "dtmi:ex:D;1") "}]",
     "excludedType"},
    {"Component whose schema inherits a Component two levels up",
     "[{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Component\",\"name\":\"c\","
                               "\"schema\":{" IF("dtmi:ex:B;1") ",\"extends\":{" IF(
                                   "dtmi:ex:C;1") ",\"extends\":\"dtmi:ex:E;1\"}}}]},{" V3
                                   IF("dtmi:ex:E;1") ",\"contents\":[{\"@type\":\"Component\","
                                                     "\"name\":\"d\",\"schema\":"
                                                     "\"dtmi:ex:D;1\"}]},{" V3 IF(
                                                         "dtmi:ex:D;1") "}]",
     "excludedType"},
    {"v2: Component whose schema extends an Interface holding a Component",
     "[{" V2 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Component\",\"name\":\"c\","
                               "\"schema\":\"dtmi:ex:B;1\"}]},{" V2
                                   IF("dtmi:ex:B;1") ",\"extends\":\"dtmi:ex:C;1\"},{" V2 IF(
                                       "dtmi:ex:C;1") ",\"contents\":[{\"@type\":\"Component\","
                                                      "\"name\":\"d\",\"schema\":"
                                                      "\"dtmi:ex:D;1\"}]},{" V2 IF(
                                                          "dtmi:ex:D;1") "}]",
     "excludedType"},
    {"Component whose schema extends the Interface holding the Component",
     "[{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Component\",\"name\":\"c\","
                               "\"schema\":\"dtmi:ex:B;1\"}]},{" V3 IF(
                                   "dtmi:ex:B;1") ",\"extends\":\"dtmi:ex:A;1\"}]",
     "excludedType"},
    {"Interface extending one whose Component holds the first",
     "[{" V3 IF("dtmi:ex:A;1") ",\"extends\":\"dtmi:ex:B;1\"},{" V3 IF(
         "dtmi:ex:B;1") ",\"contents\":[{\"@type\":\"Component\",\"name\":\"c\","
                        "\"schema\":\"dtmi:ex:A;1\"}]}]",
     "excludedType"},
    {"Interface holding a Component may itself be extended",
     "[{" V3 IF("dtmi:ex:B;1") ",\"extends\":\"dtmi:ex:C;1\"},{" V3 IF(
         "dtmi:ex:C;1") ",\"contents\":[{\"@type\":\"Component\",\"name\":\"d\",\"schema\":"
                        "\"dtmi:ex:D;1\"}]},{" V3 IF("dtmi:ex:D;1") "}]",
     NULL},

    /* Complex schemas: "more than 5 elementSchema or schema members in any path" is on the
     * longest path, also when a schema in the Interface's schemas is reached by a short path
     * first (x) and a longer one later (y). @azure/dtdl-parser agrees. */
    {"schema reused at depths 2 and 3, deepest path 5",
     "{\"@context\":\"dtmi:dtdl:context;2\",\"@id\":\"dtmi:ex:A;1\",\"@type"
     "\":\"Interface\",\"schemas\":[{\"@id\":\"dtmi:ex:S;1\",\"@type\":\"Objec"
     "t\",\"fields\":[{\"name\":\"a\",\"schema\":{\"@type\":\"Object\",\"fields\""
     ":[{\"name\":\"b\",\"schema\":{\"@type\":\"Object\",\"fields\":[{\"name\":\""
     "c\",\"schema\":\"double\"}]}}]}}]}],\"contents\":[{\"@type\":\"Telemet"
     "ry\",\"name\":\"t\",\"schema\":{\"@type\":\"Object\",\"fields\":[{\"name\":"
     "\"x\",\"schema\":\"dtmi:ex:S;1\"},{\"name\":\"y\",\"schema\":{\"@type\":\"O"
     "bject\",\"fields\":[{\"name\":\"z\",\"schema\":\"dtmi:ex:S;1\"}]}}]}}]}",
     NULL},
    {"schema reused at depths 2 and 4, deepest path 6",
     "{\"@context\":\"dtmi:dtdl:context;2\",\"@id\":\"dtmi:ex:A;1\",\"@type"
     "\":\"Interface\",\"schemas\":[{\"@id\":\"dtmi:ex:S;1\",\"@type\":\"Objec"
     "t\",\"fields\":[{\"name\":\"a\",\"schema\":{\"@type\":\"Object\",\"fields\""
     ":[{\"name\":\"b\",\"schema\":{\"@type\":\"Object\",\"fields\":[{\"name\":\""
     "c\",\"schema\":\"double\"}]}}]}}]}],\"contents\":[{\"@type\":\"Telemet"
     "ry\",\"name\":\"t\",\"schema\":{\"@type\":\"Object\",\"fields\":[{\"name\":"
     "\"x\",\"schema\":\"dtmi:ex:S;1\"},{\"name\":\"y\",\"schema\":{\"@type\":\"O"
     "bject\",\"fields\":[{\"name\":\"z2\",\"schema\":{\"@type\":\"Object\",\"fi"
     "elds\":[{\"name\":\"z\",\"schema\":\"dtmi:ex:S;1\"}]}}]}}]}}]}",
     "excessiveDepthWide"},

    /* Versions: a v3 Interface's extends and a v3 Component's schema "MUST conform to the
     * definition of DTDL element Interface or DTDLv2 element Interface"; in v2 they must be a
     * (v2) Interface. */
    {"v3 Interface extends a v2 one",
     "[{" V3 IF("dtmi:ex:A;1") ",\"extends\":\"dtmi:ex:B;1\"},{" V2 IF(
         "dtmi:ex:B;1") ",\"contents\":[" PROP("p") "]}]",
     NULL},
    {"v3 Interface extends a v2 one inline",
     "{" V3 IF("dtmi:ex:A;1") ",\"extends\":{" V2 IF("dtmi:ex:B;1") ",\"contents\":[" PROP(
         "p") "]}}",
     NULL},
    {"v3 Interface with v3-only contents extends a v2 one that extends another",
     "[{" V3 IF("dtmi:ex:A;1") ",\"extends\":\"dtmi:ex:B;1\",\"contents\":[{\"@type\":"
                               "\"Property\",\"name\":\"q\",\"schema\":{\"@type\":\"Array\","
                               "\"elementSchema\":\"double\"}}]},{" V2
                                   IF("dtmi:ex:B;1") ",\"extends\":\"dtmi:ex:C;1\"},{" V2 IF(
                                       "dtmi:ex:C;1") ",\"contents\":[" PROP("p") "]}]",
     NULL},
    {"v3 Interface and the v2 one it extends define the same name",
     "[{" V3 IF("dtmi:ex:A;1") ",\"extends\":\"dtmi:ex:B;1\",\"contents\":[" PROP("p") "]},{" V2 IF(
         "dtmi:ex:B;1") ",\"contents\":[" PROP("p") "]}]",
     "nonUniqueImportedPropertyValue"},
    {"v3 Component whose schema is a v2 Interface",
     "[{" V3 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Component\",\"name\":\"c\","
                               "\"schema\":\"dtmi:ex:B;1\"}]},{" V2 IF("dtmi:ex:B;1") "}]",
     NULL},
    {"v2 Interface extends a v3 one",
     "[{" V2 IF("dtmi:ex:A;1") ",\"extends\":\"dtmi:ex:B;1\"},{" V3 IF("dtmi:ex:B;1") "}]",
     "disallowedVersionReference"},
    {"v2 Component whose schema is a v3 Interface",
     "[{" V2 IF("dtmi:ex:A;1") ",\"contents\":[{\"@type\":\"Component\",\"name\":\"c\","
                               "\"schema\":\"dtmi:ex:B;1\"}]},{" V3 IF("dtmi:ex:B;1") "}]",
     "disallowedVersionReference"},
};

/* Whether in gets the verdict vid (NULL: accepted); prints the disagreement if not, so that
 * one run lists every failing row. */
static bool check(const char *what, json_t *in, const char *vid)
{
    bool ok = true;
    dtdl_graph_t *g = NULL;
    dtdl_errors_t errs;
    dtdl_errors_init(&errs);
    castor_err err;
    castor_err_clear(&err);
    int r = dtdl_parse_batch(in, NULL, NULL, NULL, &g, &errs, &err);
    if (!vid && r != 0) {
        print_message("'%s' should be accepted: %s %s\n", what,
                      errs.count ? errs.items[0].validation_id : "",
                      errs.count ? errs.items[0].message : err.message);
        ok = false;
    }
    if (vid) {
        bool found = false;
        for (size_t k = 0; k < errs.count; k++)
            found |= strcmp(errs.items[k].validation_id, vid) == 0;
        if (r == 0 || !found) {
            print_message("'%s': expected %s, got %s (%s)\n", what, vid,
                          errs.count ? errs.items[0].validation_id : "acceptance",
                          errs.count ? errs.items[0].message : "");
            ok = false;
        }
    }
    dtdl_graph_free(g);
    dtdl_errors_free(&errs);
    return ok;
}

static void test_fidelity_table(void **state)
{
    (void)state;
    int failed = 0;
    for (size_t i = 0; i < sizeof g_cases / sizeof g_cases[0]; i++) {
        json_error_t jerr;
        json_t *in = json_loads(g_cases[i].json, 0, &jerr);
        if (!in) fail_msg("case '%s' is not JSON: %s", g_cases[i].what, jerr.text);
        failed += !check(g_cases[i].what, in, g_cases[i].vid);
        json_decref(in);
    }
    assert_int_equal(failed, 0);
}

/* A chain I0 extends I1 extends … I(links); version v. */
static json_t *extends_chain(int links, int v)
{
    json_t *set = json_array();
    for (int i = 0; i <= links; i++) {
        char id[64], ctx[32];
        snprintf(id, sizeof id, "dtmi:ex:I%d;1", i);
        snprintf(ctx, sizeof ctx, "dtmi:dtdl:context;%d", v);
        json_t *o = json_pack("{s:s, s:s, s:s}", "@context", ctx, "@id", id, "@type", "Interface");
        if (i < links) {
            snprintf(id, sizeof id, "dtmi:ex:I%d;1", i + 1);
            json_object_set_new(o, "extends", json_string(id));
        }
        json_array_append_new(set, o);
    }
    return set;
}

/* "There MUST NOT be more than 10 members in any path of extends members from a DTDL
 * Interface element to another DTDL element": ten extends links are allowed, eleven are not. */
static void test_extends_depth(void **state)
{
    (void)state;
    static const struct {
        int links, version;
        const char *vid;
    } rows[] = {
        {9, 3, NULL},
        {10, 3, NULL},
        {11, 3, "excessiveDepthNarrow"},
        {9, 2, NULL},
        {10, 2, NULL},
        {11, 2, "excessiveDepthNarrow"},
        {12, 3, "excessiveDepthNarrow"},
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "v%d chain of %d extends", rows[i].version, rows[i].links);
        json_t *in = extends_chain(rows[i].links, rows[i].version);
        failed += !check(what, in, rows[i].vid);
        json_decref(in);
    }
    assert_int_equal(failed, 0);
}

/* The same limit when the chain is written inline: I0 {extends: {I1 {extends: …}}}. */
static void test_extends_depth_inline(void **state)
{
    (void)state;
    int failed = 0;
    for (int links = 10; links <= 11; links++) {
        json_t *inner = NULL;
        for (int i = links; i >= 0; i--) {
            char id[64];
            snprintf(id, sizeof id, "dtmi:ex:I%d;1", i);
            json_t *o = json_pack("{s:s, s:s}", "@id", id, "@type", "Interface");
            if (inner) json_object_set_new(o, "extends", inner);
            inner = o;
        }
        json_object_set_new(inner, "@context", json_string("dtmi:dtdl:context;3"));
        failed += !check(links == 10 ? "inline chain of 10" : "inline chain of 11", inner,
                         links == 10 ? NULL : "excessiveDepthNarrow");
        json_decref(inner);
    }
    assert_int_equal(failed, 0);
}

/* A diamond: R extends [X, L1], L1 … L9 extends X, X extends T. The path through L1 has 11
 * extends links although X is also one link from R; the longest path counts, whichever the
 * walk meets first (the batch lists X and T before R, so they are parsed first). Ten links
 * through the long side are allowed. */
static void test_extends_depth_diamond(void **state)
{
    (void)state;
    int failed = 0;
    for (int tail = 0; tail <= 1; tail++) {
        json_t *set = json_array();
        const char *ctx = "dtmi:dtdl:context;2";
        json_t *x = json_pack("{s:s, s:s, s:s}", "@context", ctx, "@id", "dtmi:ex:X;1", "@type",
                              "Interface");
        if (tail) json_object_set_new(x, "extends", json_string("dtmi:ex:T;1"));
        json_array_append_new(set, x);
        json_array_append_new(set, json_pack("{s:s, s:s, s:s}", "@context", ctx, "@id",
                                             "dtmi:ex:T;1", "@type", "Interface"));
        json_array_append_new(set, json_pack("{s:s, s:s, s:s, s:[s,s]}", "@context", ctx, "@id",
                                             "dtmi:ex:R;1", "@type", "Interface", "extends",
                                             "dtmi:ex:X;1", "dtmi:ex:L1;1"));
        for (int i = 1; i <= 9; i++) {
            char id[32], next[32];
            snprintf(id, sizeof id, "dtmi:ex:L%d;1", i);
            snprintf(next, sizeof next, i < 9 ? "dtmi:ex:L%d;1" : "dtmi:ex:X;1", i + 1);
            json_array_append_new(set, json_pack("{s:s, s:s, s:s, s:s}", "@context", ctx, "@id", id,
                                                 "@type", "Interface", "extends", next));
        }
        failed += !check(tail ? "diamond whose long side has 11 links"
                              : "diamond whose long side has 10 links",
                         set, tail ? "excessiveDepthNarrow" : NULL);
        json_decref(set);
    }
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fidelity_table),
        cmocka_unit_test(test_extends_depth),
        cmocka_unit_test(test_extends_depth_inline),
        cmocka_unit_test(test_extends_depth_diamond),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
