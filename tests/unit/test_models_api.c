/* test_models_api.c — the Models API handlers called directly (no listener): each behaviour
 * and each error ADT defines for POST/GET/PATCH/DELETE /models, on a real SQLite store in a
 * temporary folder, plus the compiled-graph cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>

#include "core/limits.h"
#include "serve/app.h"
#include "store/store_models.h"
#include "twins/models_api.h"
#include "twins/models_cache.h"
#include "test_http_util.h"

typedef struct fixture {
    char *dir;
    castor_app_t app;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (test_app_open(&f->app, &f->dir, 4) < 0) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    test_app_close(&f->app, f->dir);
    free(f);
    return 0;
}

typedef test_call_t call_t;

/* Runs handler h as the listener would for /dt/{instance}{path}?{query}; errors are rendered. */
static call_t *call_on(fixture_t *f, const char *instance, http_handler_fn h, const char *path,
                       const char *query, const char *id, const char *body)
{
    call_t *c = test_call_new(&f->app, instance, path, query, body);
    if (id) {
        c->req.param_names[0] = "id";
        c->req.param_values[0] = id;
        c->req.nparams = 1;
    }
    return test_call_run(c, h);
}

static call_t *call(fixture_t *f, http_handler_fn h, const char *path, const char *query,
                    const char *id, const char *body)
{
    return call_on(f, "MyInst", h, path, query, id, body);
}

static void call_free(call_t *c)
{
    test_call_free(c);
}

static const char *err_message(const call_t *c)
{
    return json_string_value(json_object_get(json_object_get(c->body, "error"), "message"));
}

static void expect_error(call_t *c, int status, const char *code, const char *phrase)
{
    if (c->status != status || !c->code || strcmp(c->code, code) != 0)
        fprintf(stderr, "got %d %s: %s\n", c->status, c->code ? c->code : "-",
                c->resp.body ? c->resp.body : "");
    assert_int_equal(c->status, status);
    assert_non_null(c->code);
    assert_string_equal(c->code, code);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(c->body, "error"), "code")), code);
    if (phrase) {
        const char *m = err_message(c);
        assert_non_null(m);
        if (!strstr(m, phrase)) fprintf(stderr, "message: %s\n", m);
        assert_non_null(strstr(m, phrase));
    }
    call_free(c);
}

#define COMPONENT_ID "dtmi:samples:DTModelTestsComponent;1"
#define MODEL_ID "dtmi:samples:DTModelTestsModel;1"
#define COMPONENT                                                                                  \
    "{\"@id\":\"" COMPONENT_ID "\",\"@type\":\"Interface\",\"@context\":\"dtmi:dtdl:context;2\","  \
    "\"displayName\":\"Component1\",\"description\":{\"en\":\"a part\",\"de\":\"ein Teil\"},"      \
    "\"contents\":[{\"@type\":\"Property\",\"name\":\"ComponentProp1\",\"schema\":\"string\"},"    \
    "{\"@type\":\"Telemetry\",\"name\":\"ComponentTelemetry1\",\"schema\":\"integer\"}]}"
#define MODEL                                                                                      \
    "{\"@id\":\"" MODEL_ID "\",\"@type\":\"Interface\",\"@context\":\"dtmi:dtdl:context;2\","      \
    "\"displayName\":\"TempModel\",\"contents\":[{\"@type\":\"Property\",\"name\":\"Prop1\","      \
    "\"schema\":\"string\"},{\"@type\":\"Component\",\"name\":\"Component1\",\"schema\":"          \
    "\"" COMPONENT_ID                                                                              \
    "\"},{\"@type\":\"Telemetry\",\"name\":\"Telemetry1\",\"schema\":\"integer\"}]}"

/* A v2 interface with optional extends (a DTMI or NULL). */
static char *iface(const char *id, const char *extends)
{
    char *s = NULL;
    if (asprintf(
            &s,
            "{\"@id\":\"%s\",\"@type\":\"Interface\",\"@context\":\"dtmi:dtdl:context;2\"%s%s%s,"
            "\"contents\":[{\"@type\":\"Property\",\"name\":\"p\",\"schema\":\"double\"}]}",
            id, extends ? ",\"extends\":\"" : "", extends ? extends : "", extends ? "\"" : "") < 0)
        return NULL;
    return s;
}

static void add_ok(fixture_t *f, const char *body, size_t expect)
{
    call_t *c = call(f, models_add, "/models", NULL, NULL, body);
    if (c->status != 201) fprintf(stderr, "%s\n", c->resp.body);
    assert_int_equal(c->status, 201);
    assert_int_equal(json_array_size(c->body), expect);
    call_free(c);
}

static size_t count_models(fixture_t *f, const char *instance)
{
    call_t *c = call_on(f, instance, models_list, "/models", NULL, NULL, NULL);
    assert_int_equal(c->status, 200);
    size_t n = json_array_size(json_object_get(c->body, "value"));
    call_free(c);
    return n;
}

/* ---- POST /models ---- */

static void creates_models_in_request_order(void **state)
{
    fixture_t *f = *state;
    call_t *c = call(f, models_add, "/models", NULL, NULL, "[" COMPONENT "," MODEL "]");
    assert_int_equal(c->status, 201);
    assert_int_equal(json_array_size(c->body), 2);
    json_t *m0 = json_array_get(c->body, 0), *m1 = json_array_get(c->body, 1);
    assert_string_equal(json_string_value(json_object_get(m0, "id")), COMPONENT_ID);
    assert_string_equal(json_string_value(json_object_get(m1, "id")), MODEL_ID);
    /* A plain-string displayName comes back as a language map; a map stays a map. */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(m0, "displayName"), "en")), "Component1");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(m0, "description"), "de")), "ein Teil");
    assert_true(json_is_false(json_object_get(m0, "decommissioned")));
    assert_null(json_object_get(m0, "model"));
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{7}Z$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    assert_int_equal(regexec(&re, json_string_value(json_object_get(m0, "uploadTime")), 0, NULL, 0),
                     0);
    regfree(&re);
    call_free(c);
}

static void refuses_empty_and_non_array_bodies(void **state)
{
    fixture_t *f = *state;
    expect_error(call(f, models_add, "/models", NULL, NULL, "[]"), 400, "InvalidArgument",
                 "Operation failed as models provided was empty or of a type that is not "
                 "supported.");
    expect_error(call(f, models_add, "/models", NULL, NULL, COMPONENT), 400, "InvalidArgument",
                 "models provided was empty");
    expect_error(call(f, models_add, "/models", NULL, NULL, "[" COMPONENT ", 7]"), 400,
                 "InvalidArgument", "$[1] is not a JSON object");
    assert_int_equal(count_models(f, "MyInst"), 0);
}

static void refuses_251_models(void **state)
{
    fixture_t *f = *state;
    json_t *arr = json_array();
    for (int i = 0; i < 251; i++) {
        char id[64];
        snprintf(id, sizeof id, "dtmi:test:m%d;1", i);
        char *s = iface(id, NULL);
        json_array_append_new(arr, json_loads(s, 0, NULL));
        free(s);
    }
    char *body = json_dumps(arr, JSON_COMPACT);
    expect_error(call(f, models_add, "/models", NULL, NULL, body), 400, "LimitExceeded",
                 "at most 250");
    free(body);
    /* 250 is fine. */
    json_array_remove(arr, 250);
    body = json_dumps(arr, JSON_COMPACT);
    add_ok(f, body, 250);
    free(body);
    json_decref(arr);
}

static void conflict_when_an_id_exists_and_nothing_is_stored(void **state)
{
    fixture_t *f = *state;
    add_ok(f, "[" COMPONENT "]", 1);
    expect_error(call(f, models_add, "/models", NULL, NULL, "[" COMPONENT "," MODEL "]"), 409,
                 "ModelAlreadyExists", "Some of the model ids already exist: " COMPONENT_ID);
    assert_int_equal(count_models(f, "MyInst"), 1); /* MODEL was not stored */
    /* An identical re-upload is a conflict too (models are immutable). */
    expect_error(call(f, models_add, "/models", NULL, NULL, "[" COMPONENT "]"), 409,
                 "ModelAlreadyExists", NULL);
}

static void invalid_dtdl_lists_every_error_with_its_path(void **state)
{
    fixture_t *f = *state;
    /* A property name that is not a DTDL name, and a telemetry schema that does not exist. */
    const char *body =
        "[" COMPONENT ",{\"@id\":\"dtmi:x:Bad;1\",\"@type\":\"Interface\",\"@context\":"
        "\"dtmi:dtdl:context;2\",\"contents\":[{\"@type\":\"Property\",\"name\":\"bad name!\","
        "\"schema\":\"string\"},{\"@type\":\"Telemetry\",\"name\":\"t\",\"schema\":7}]}]";
    call_t *c = call(f, models_add, "/models", NULL, NULL, body);
    assert_int_equal(c->status, 400);
    assert_string_equal(c->code, "DTDLParserError");
    const char *m = err_message(c);
    assert_non_null(strstr(m, "None of the models in this request could be created due to a "
                              "problem with one or more models"));
    assert_non_null(strstr(m, "$[1]")); /* the path is in the message */
    json_t *details = json_object_get(json_object_get(c->body, "error"), "details");
    if (json_array_size(details) < 2) fprintf(stderr, "%s\n", c->resp.body);
    assert_true(json_array_size(details) >= 2);
    int saw_name = 0;
    for (size_t i = 0; i < json_array_size(details); i++) {
        json_t *d = json_array_get(details, i);
        const char *path = json_string_value(json_object_get(d, "path"));
        assert_non_null(path);
        assert_non_null(json_string_value(json_object_get(d, "code")));
        assert_non_null(strstr(json_string_value(json_object_get(d, "message")), path));
        if (strstr(path, "$[1].contents[0]")) saw_name = 1;
    }
    assert_true(saw_name);
    call_free(c);
    assert_int_equal(count_models(f, "MyInst"), 0); /* all or nothing */
}

static void invalid_reference_is_a_parser_error(void **state)
{
    fixture_t *f = *state;
    /* The component's schema names a model neither in the batch nor stored. */
    expect_error(call(f, models_add, "/models", NULL, NULL, "[" MODEL "]"), 400, "DTDLParserError",
                 COMPONENT_ID);
    const char *xxx = "[{\"@id\":\"" MODEL_ID "\",\"@type\":\"Interface\",\"@context\":"
                      "\"dtmi:dtdl:context;2\",\"contents\":[{\"@type\":\"Component\",\"name\":"
                      "\"c\",\"schema\":\"XXX\"}]}]";
    expect_error(call(f, models_add, "/models", NULL, NULL, xxx), 400, "DTDLParserError",
                 "None of the models in this request could be created");
}

static void reference_to_a_stored_model_resolves(void **state)
{
    fixture_t *f = *state;
    add_ok(f, "[" COMPONENT "]", 1);
    add_ok(f, "[" MODEL "]", 1); /* its component schema is the stored COMPONENT */
}

static void other_failures_have_adt_codes(void **state)
{
    fixture_t *f = *state;
    expect_error(call(f, models_add, "/models", NULL, NULL,
                      "[{\"@id\":\"dtmi:x:A;1\",\"@type\":\"Interface\",\"@context\":"
                      "\"dtmi:dtdl:context;4\"}]"),
                 400, "ModelVersionNotSupported", NULL);
    expect_error(call(f, models_add, "/models", NULL, NULL,
                      "[{\"@id\":\"not a dtmi\",\"@type\":\"Interface\",\"@context\":"
                      "\"dtmi:dtdl:context;2\"}]"),
                 400, "InvalidArgument", "$[0]['@id']");
    char *a = iface("dtmi:x:Dup;1", NULL);
    char *body = NULL;
    assert_true(asprintf(&body, "[%s,%s]", a, a) > 0);
    expect_error(call(f, models_add, "/models", NULL, NULL, body), 400, "DTDLParserError", NULL);
    free(a);
    free(body);
    /* extends cycle */
    char *x = iface("dtmi:x:X;1", "dtmi:x:Y;1"), *y = iface("dtmi:x:Y;1", "dtmi:x:X;1");
    assert_true(asprintf(&body, "[%s,%s]", x, y) > 0);
    expect_error(call(f, models_add, "/models", NULL, NULL, body), 400, "DTDLParserError", NULL);
    free(x);
    free(y);
    free(body);
    assert_int_equal(count_models(f, "MyInst"), 0);
}

/* ---- GET /models/{id} ---- */

static void gets_one_model_with_and_without_definition(void **state)
{
    fixture_t *f = *state;
    add_ok(f, "[" COMPONENT "," MODEL "]", 2);
    call_t *c = call(f, models_get, "/models/x", NULL, COMPONENT_ID, NULL);
    assert_int_equal(c->status, 200);
    assert_string_equal(json_string_value(json_object_get(c->body, "id")), COMPONENT_ID);
    assert_null(json_object_get(c->body, "model"));
    call_free(c);
    c = call(f, models_get, "/models/x", "includeModelDefinition=true", COMPONENT_ID, NULL);
    assert_int_equal(c->status, 200);
    json_t *model = json_object_get(c->body, "model");
    assert_string_equal(json_string_value(json_object_get(model, "@id")), COMPONENT_ID);
    assert_int_equal(json_array_size(json_object_get(model, "contents")), 2);
    call_free(c);
    expect_error(call(f, models_get, "/models/x", NULL, "dtmi:x:Nope;1", NULL), 404,
                 "ModelNotFound",
                 "There is no Model(s) available that matches the provided id(s) dtmi:x:Nope;1");
    expect_error(
        call(f, models_get, "/models/x", "includeModelDefinition=maybe", COMPONENT_ID, NULL), 400,
        "InvalidArgument", NULL);
    /* ids are case-sensitive; instance names are not. */
    expect_error(
        call(f, models_get, "/models/x", NULL, "dtmi:samples:dtmodeltestscomponent;1", NULL), 404,
        "ModelNotFound", NULL);
    c = call_on(f, "MYINST", models_get, "/models/x", NULL, COMPONENT_ID, NULL);
    assert_int_equal(c->status, 200);
    call_free(c);
    expect_error(call_on(f, "other", models_get, "/models/x", NULL, COMPONENT_ID, NULL), 404,
                 "ModelNotFound", NULL);
}

/* ---- GET /models ---- */

static void lists_in_pages_with_absolute_next_links(void **state)
{
    fixture_t *f = *state;
    json_t *arr = json_array();
    for (int i = 0; i < 250; i++) {
        char id[64];
        snprintf(id, sizeof id, "dtmi:test:m%d;1", i);
        char *s = iface(id, NULL);
        json_array_append_new(arr, json_loads(s, 0, NULL));
        free(s);
    }
    char *body = json_dumps(arr, JSON_COMPACT);
    add_ok(f, body, 250);
    free(body);
    json_decref(arr);

    json_t *seen = json_object();
    char query[512] = "";
    int pages = 0;
    for (;;) {
        call_t *c = call(f, models_list, "/models", query, NULL, NULL);
        assert_int_equal(c->status, 200);
        json_t *value = json_object_get(c->body, "value");
        assert_true(json_array_size(value) <= CASTOR_MODELS_PAGE_MAX);
        for (size_t i = 0; i < json_array_size(value); i++) {
            const char *id = json_string_value(json_object_get(json_array_get(value, i), "id"));
            assert_null(json_object_get(seen, id)); /* no repeats */
            json_object_set_new(seen, id, json_true());
        }
        pages++;
        const char *next = json_string_value(json_object_get(c->body, "nextLink"));
        if (!next) {
            call_free(c);
            break;
        }
        const char *prefix = "https://localhost:8443/dt/MyInst/models?";
        assert_memory_equal(next, prefix, strlen(prefix));
        assert_non_null(strstr(next, "api-version=2022-05-31"));
        snprintf(query, sizeof query, "%s", next + strlen(prefix));
        call_free(c);
    }
    assert_int_equal(pages, 3);
    assert_int_equal(json_object_size(seen), 250);
    json_decref(seen);
    expect_error(call(f, models_list, "/models", "continuationToken=abc", NULL, NULL), 400,
                 "InvalidArgument", NULL);
}

static size_t deps_count(fixture_t *f, const char *query, json_t **ids)
{
    call_t *c = call(f, models_list, "/models", query, NULL, NULL);
    assert_int_equal(c->status, 200);
    json_t *value = json_object_get(c->body, "value");
    size_t n = json_array_size(value);
    if (ids) {
        *ids = json_object();
        for (size_t i = 0; i < n; i++)
            json_object_set_new(*ids,
                                json_string_value(json_object_get(json_array_get(value, i), "id")),
                                json_true());
    }
    call_free(c);
    return n;
}

static void dependencies_for_expands_extends_and_components(void **state)
{
    fixture_t *f = *state;
    /* A extends B; B has component COMPONENT; D is unrelated; R targets A (not a dependency). */
    char *b = NULL;
    const char *B = "{\"@id\":\"dtmi:x:B;1\",\"@type\":\"Interface\",\"@context\":"
                    "\"dtmi:dtdl:context;2\",\"contents\":[{\"@type\":\"Component\",\"name\":"
                    "\"c\",\"schema\":\"" COMPONENT_ID "\"}]}";
    const char *R = "{\"@id\":\"dtmi:x:R;1\",\"@type\":\"Interface\",\"@context\":"
                    "\"dtmi:dtdl:context;2\",\"contents\":[{\"@type\":\"Relationship\",\"name\":"
                    "\"rel\",\"target\":\"dtmi:x:A;1\"}]}";
    char *a = iface("dtmi:x:A;1", "dtmi:x:B;1"), *d = iface("dtmi:x:D;1", NULL);
    assert_true(asprintf(&b, "[%s,%s,%s,%s]", a, B, COMPONENT, d) > 0);
    add_ok(f, b, 4);
    free(b);
    assert_true(asprintf(&b, "[%s]", R) > 0);
    add_ok(f, b, 1);
    free(b);
    json_t *ids;
    assert_int_equal(deps_count(f, "dependenciesFor=dtmi%3Ax%3AA%3B1", &ids), 3);
    assert_non_null(json_object_get(ids, "dtmi:x:A;1"));
    assert_non_null(json_object_get(ids, "dtmi:x:B;1"));
    assert_non_null(json_object_get(ids, COMPONENT_ID));
    json_decref(ids);
    /* the SDK's comma-joined form and the spec's repeated form */
    assert_int_equal(deps_count(f, "dependenciesFor=dtmi:x:A;1,dtmi:x:D;1", NULL), 4);
    assert_int_equal(deps_count(f, "dependenciesFor=dtmi:x:D;1&dependenciesFor=dtmi:x:B;1", NULL),
                     3);
    assert_int_equal(deps_count(f, "dependenciesFor=dtmi:x:R;1", NULL), 1);
    assert_int_equal(deps_count(f, NULL, NULL), 5);
    expect_error(call(f, models_list, "/models", "dependenciesFor=dtmi:x:Nope;1", NULL, NULL), 404,
                 "ModelNotFound", "dtmi:x:Nope;1");
    free(a);
    free(d);
}

/* ---- PATCH /models/{id} ---- */

#define DECOMMISSION "[{\"op\":\"replace\",\"path\":\"/decommissioned\",\"value\":true}]"

static void decommissions_once_and_twice(void **state)
{
    fixture_t *f = *state;
    add_ok(f, "[" COMPONENT "]", 1);
    for (int i = 0; i < 2; i++) {
        call_t *c = call(f, models_update, "/models/x", NULL, COMPONENT_ID, DECOMMISSION);
        assert_int_equal(c->status, 204);
        assert_null(c->resp.body);
        call_free(c);
        c = call(f, models_get, "/models/x", NULL, COMPONENT_ID, NULL);
        assert_true(json_is_true(json_object_get(c->body, "decommissioned")));
        call_free(c);
    }
    expect_error(call(f, models_update, "/models/x", NULL, "dtmi:x:Nope;1", DECOMMISSION), 404,
                 "ModelNotFound", "There is no Model(s) available");
}

static void refuses_every_other_patch(void **state)
{
    fixture_t *f = *state;
    add_ok(f, "[" COMPONENT "]", 1);
    static const struct {
        const char *body, *code;
    } cases[] = {
        {"{}", "JsonPatchInvalid"},
        {"[]", "JsonPatchInvalid"},
        {"[7]", "JsonPatchInvalid"},
        {"[{\"op\":\"replace\"}]", "JsonPatchInvalid"},
        {"[{\"op\":\"frobnicate\",\"path\":\"/decommissioned\",\"value\":true}]",
         "JsonPatchInvalid"},
        {"[{\"op\":\"replace\",\"path\":\"/decommissioned\"}]", "JsonPatchInvalid"},
        {"[{\"op\":\"remove\",\"path\":\"/decommissioned\"}]", "InvalidArgument"},
        {"[{\"op\":\"replace\",\"path\":\"/displayName\",\"value\":\"x\"}]", "InvalidArgument"},
        {"[{\"op\":\"replace\",\"path\":\"/decommissioned\",\"value\":false}]", "InvalidArgument"},
        {"[{\"op\":\"replace\",\"path\":\"/decommissioned\",\"value\":\"true\"}]",
         "InvalidArgument"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error(call(f, models_update, "/models/x", NULL, COMPONENT_ID, cases[i].body), 400,
                     cases[i].code, NULL);
    call_t *c = call(f, models_get, "/models/x", NULL, COMPONENT_ID, NULL);
    assert_true(json_is_false(json_object_get(c->body, "decommissioned")));
    call_free(c);
}

/* ---- DELETE /models/{id} ---- */

static void delete_is_refused_while_models_depend_on_it(void **state)
{
    fixture_t *f = *state;
    add_ok(f, "[" COMPONENT "," MODEL "]", 2);
    char *sub = iface("dtmi:x:Sub;1", MODEL_ID);
    char *body = NULL;
    assert_true(asprintf(&body, "[%s]", sub) > 0);
    add_ok(f, body, 1);
    free(body);
    free(sub);
    expect_error(call(f, models_delete, "/models/x", NULL, COMPONENT_ID, NULL), 409,
                 "ModelReferencesNotDeleted",
                 "This model is currently being referenced by 1 other model(s): " MODEL_ID);
    expect_error(call(f, models_delete, "/models/x", NULL, MODEL_ID, NULL), 409,
                 "ModelReferencesNotDeleted", "dtmi:x:Sub;1 (extends)");
    const char *order[] = {"dtmi:x:Sub;1", MODEL_ID, COMPONENT_ID};
    for (int i = 0; i < 3; i++) {
        call_t *c = call(f, models_delete, "/models/x", NULL, order[i], NULL);
        assert_int_equal(c->status, 204);
        call_free(c);
    }
    expect_error(call(f, models_delete, "/models/x", NULL, MODEL_ID, NULL), 404, "ModelNotFound",
                 "There is no Model(s) available that matches the provided id(s)");
    assert_int_equal(count_models(f, "MyInst"), 0);
    /* Re-uploading a deleted id is a new model. */
    add_ok(f, "[" COMPONENT "]", 1);
}

static void instance_delete_removes_its_models_only(void **state)
{
    fixture_t *f = *state;
    add_ok(f, "[" COMPONENT "," MODEL "]", 2);
    call_t *c = call_on(f, "other", models_add, "/models", NULL, NULL, "[" COMPONENT "]");
    assert_int_equal(c->status, 201);
    call_free(c);
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->app.store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_models_delete_instance(t, "myinst", &err), 0);
    assert_int_equal(store_commit(t, &err), 0);
    assert_int_equal(count_models(f, "MyInst"), 0);
    assert_int_equal(count_models(f, "other"), 1);
    add_ok(f, "[" COMPONENT "," MODEL "]", 2); /* no edges were left behind */
}

/* ---- the compiled-graph cache ---- */

static void graph_cache_is_reused_until_models_change(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    models_graph_t *g;
    assert_int_equal(models_graph_get(f->app.models, f->app.store, "myinst", &g, &err), 0);
    assert_null(g->graph); /* no models yet */
    models_graph_release(g);
    add_ok(f, "[" COMPONENT "," MODEL "]", 2);
    unsigned long builds = models_cache_builds(f->app.models);
    assert_int_equal(models_graph_get(f->app.models, f->app.store, "myinst", &g, &err), 0);
    models_graph_t *g2;
    assert_int_equal(models_graph_get(f->app.models, f->app.store, "myinst", &g2, &err), 0);
    assert_ptr_equal(g, g2);
    assert_int_equal(models_cache_builds(f->app.models), builds + 1);
    const dtdl_interface_t *m = dtdl_graph_find(g->graph, MODEL_ID);
    assert_non_null(m);
    assert_non_null(dtdl_interface_content(m, "Component1"));
    models_graph_release(g2);
    /* A decommission invalidates; the old graph stays valid for its holder. */
    call_t *c = call(f, models_update, "/models/x", NULL, COMPONENT_ID, DECOMMISSION);
    assert_int_equal(c->status, 204);
    call_free(c);
    assert_non_null(dtdl_graph_find(g->graph, COMPONENT_ID));
    assert_int_equal(models_graph_get(f->app.models, f->app.store, "myinst", &g2, &err), 0);
    assert_ptr_not_equal(g, g2);
    assert_int_equal(models_cache_builds(f->app.models), builds + 2);
    models_graph_release(g2);
    models_graph_release(g);
    /* Without a cache, each caller gets its own graph. */
    assert_int_equal(models_graph_get(NULL, f->app.store, "myinst", &g, &err), 0);
    assert_int_equal(g->model_count >= 2, 1);
    models_graph_release(g);
    /* Another instance's graph outlives a change to this one's models (the change number
     * moved by exactly that change), but not a change it cannot place: an instance deleted
     * with its models, or another node's change. */
    models_graph_t *other;
    assert_int_equal(models_graph_get(f->app.models, f->app.store, "other", &other, &err), 0);
    models_graph_release(other);
    builds = models_cache_builds(f->app.models);
    c = call(f, models_delete, "/models/x", NULL, MODEL_ID, NULL);
    assert_int_equal(c->status, 204);
    call_free(c);
    assert_int_equal(models_graph_get(f->app.models, f->app.store, "other", &g2, &err), 0);
    models_graph_release(g2);
    assert_int_equal(models_cache_builds(f->app.models), builds);
    store_txn_t *t;
    assert_int_equal(store_begin(f->app.store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_models_delete_instance(t, "gone", &err), 0);
    assert_int_equal(store_commit(t, &err), 0);
    assert_int_equal(models_graph_get(f->app.models, f->app.store, "other", &g2, &err), 0);
    models_graph_release(g2);
    assert_int_equal(models_cache_builds(f->app.models), builds + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(creates_models_in_request_order, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_empty_and_non_array_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_251_models, setup, teardown),
        cmocka_unit_test_setup_teardown(conflict_when_an_id_exists_and_nothing_is_stored, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(invalid_dtdl_lists_every_error_with_its_path, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(invalid_reference_is_a_parser_error, setup, teardown),
        cmocka_unit_test_setup_teardown(reference_to_a_stored_model_resolves, setup, teardown),
        cmocka_unit_test_setup_teardown(other_failures_have_adt_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(gets_one_model_with_and_without_definition, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(lists_in_pages_with_absolute_next_links, setup, teardown),
        cmocka_unit_test_setup_teardown(dependencies_for_expands_extends_and_components, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(decommissions_once_and_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_every_other_patch, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_is_refused_while_models_depend_on_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(instance_delete_removes_its_models_only, setup, teardown),
        cmocka_unit_test_setup_teardown(graph_cache_is_reused_until_models_change, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
