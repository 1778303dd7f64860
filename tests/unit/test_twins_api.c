/* test_twins_api.c — the twin-graph handlers called directly (no listener) on a real SQLite
 * store in a temporary folder: twins, JSON Patch, components, relationships, telemetry, each
 * rule and each ADT error (status, code, message with the JSON path), that nothing changes on
 * failure, that every change has its outbox event, and that concurrent patches of one twin
 * lose nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include "core/ids.h"
#include "core/limits.h"
#include "serve/app.h"
#include "store/store_arm.h"
#include "store/store_directory.h"
#include "store/store_twins.h"
#include "twins/models_api.h"
#include "twins/models_cache.h"
#include "twins/twins_api.h"
#include "test_http_util.h"
#include "test_seed.h"

typedef struct fixture {
    char *dir;
    castor_app_t app;
    char instance_id[STORE_ID_MAX];
} fixture_t;

#define INST "MyInst"

static void seed_instance(fixture_t *f)
{
    castor_err err;
    assert_int_equal(test_seed_instances(f->app.store, (const char *const[]){INST, NULL},
                                         (char *const[]){f->instance_id}, &err),
                     0);
}

typedef test_call_t call_t;

/* Runs h for /dt/MyInst{path}. params: "name=value" route parameters, then NULL; headers:
 * "Name: value", then NULL (one list, params first, separated by a NULL). */
static call_t *callv(fixture_t *f, http_handler_fn h, const char *path, const char *query,
                     const char *body, const char *const *params, const char *const *headers)
{
    call_t *c = test_call_new(&f->app, INST, path, query, body);
    http_request_t *r = &c->req;
    r->instance_id = f->instance_id;
    for (int i = 0; params && params[i] && i < HTTP_PARAMS_MAX; i++) {
        const char *eq = strchr(params[i], '=');
        r->param_names[i] = arena_strndup(&r->arena, params[i], (size_t)(eq - params[i]));
        r->param_values[i] = eq + 1;
        r->nparams = i + 1;
    }
    for (int i = 0; headers && headers[i]; i++) {
        const char *colon = strchr(headers[i], ':');
        http_header_t *hd = arena_calloc(&r->arena, 1, sizeof *hd);
        hd->name = arena_strndup(&r->arena, headers[i], (size_t)(colon - headers[i]));
        hd->value = colon + 2;
        hd->next = r->headers;
        r->headers = hd;
    }
    return test_call_run(c, h);
}

#define P(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NOH ((const char *const *)NULL)

static void call_free(call_t *c)
{
    test_call_free(c);
}

static void expect_error(call_t *c, int status, const char *code, const char *phrase)
{
    const char *m =
        json_string_value(json_object_get(json_object_get(c->body, "error"), "message"));
    if (c->status != status || !c->code || strcmp(c->code, code) != 0 ||
        (phrase && (!m || !strstr(m, phrase))))
        fprintf(stderr, "got %d %s: %s\n", c->status, c->code ? c->code : "-",
                c->resp.body ? c->resp.body : "");
    assert_int_equal(c->status, status);
    assert_non_null(c->code);
    assert_string_equal(c->code, code);
    if (phrase) {
        assert_non_null(m);
        assert_non_null(strstr(m, phrase));
    }
    call_free(c);
}

static void expect_ok(call_t *c, int status)
{
    if (c->status != status) fprintf(stderr, "got %d: %s\n", c->status, c->resp.body);
    assert_int_equal(c->status, status);
}

/* ---- models ---- */

#define CTX "\"@context\":\"dtmi:dtdl:context;3\""
static const char *MODELS =
    "[{\"@id\":\"dtmi:t:Thermo;1\",\"@type\":\"Interface\"," CTX ",\"contents\":["
    "{\"@type\":\"Property\",\"name\":\"target\",\"schema\":\"double\"},"
    "{\"@type\":\"Telemetry\",\"name\":\"reading\",\"schema\":\"double\"}]},"
    "{\"@id\":\"dtmi:t:Device;1\",\"@type\":\"Interface\"," CTX ",\"contents\":["
    "{\"@type\":\"Property\",\"name\":\"serial\",\"schema\":\"string\"}]},"
    "{\"@id\":\"dtmi:t:Room;1\",\"@type\":\"Interface\"," CTX ",\"contents\":["
    "{\"@type\":\"Property\",\"name\":\"Temperature\",\"schema\":\"double\"},"
    "{\"@type\":\"Property\",\"name\":\"Name\",\"schema\":\"string\"},"
    "{\"@type\":\"Property\",\"name\":\"Mode\",\"schema\":{\"@type\":\"Enum\",\"valueSchema\":"
    "\"string\",\"enumValues\":[{\"name\":\"on\",\"enumValue\":\"on\"},{\"name\":\"off\","
    "\"enumValue\":\"off\"}]}},"
    "{\"@type\":\"Property\",\"name\":\"Info\",\"schema\":{\"@type\":\"Object\",\"fields\":["
    "{\"name\":\"a\",\"schema\":\"integer\"},{\"name\":\"b\",\"schema\":\"string\"}]}},"
    "{\"@type\":\"Property\",\"name\":\"Tags\",\"schema\":{\"@type\":\"Map\",\"mapKey\":{\"name\":"
    "\"k\",\"schema\":\"string\"},\"mapValue\":{\"name\":\"v\",\"schema\":\"integer\"}}},"
    "{\"@type\":\"Telemetry\",\"name\":\"temp\",\"schema\":\"double\"},"
    "{\"@type\":\"Component\",\"name\":\"thermostat\",\"schema\":\"dtmi:t:Thermo;1\"},"
    "{\"@type\":\"Relationship\",\"name\":\"hasDevice\",\"target\":\"dtmi:t:Device;1\","
    "\"maxMultiplicity\":2,\"properties\":[{\"@type\":\"Property\",\"name\":\"since\","
    "\"schema\":\"string\"}]},"
    "{\"@type\":\"Relationship\",\"name\":\"near\"}]},"
    "{\"@id\":\"dtmi:t:SpecialRoom;1\",\"@type\":\"Interface\"," CTX
    ",\"extends\":\"dtmi:t:Room;1\"},"
    "{\"@id\":\"dtmi:t:Floor;1\",\"@type\":\"Interface\"," CTX ",\"contents\":["
    "{\"@type\":\"Relationship\",\"name\":\"contains\",\"target\":\"dtmi:t:Room;1\"}]},"
    "{\"@id\":\"dtmi:t:Old;1\",\"@type\":\"Interface\"," CTX ",\"contents\":[]}]";

#define ROOM(extra)                                                                                \
    "{\"$metadata\":{\"$model\":\"dtmi:t:Room;1\"},\"thermostat\":{\"$metadata\":{}}" extra "}"

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    ids_init();
    if (test_app_open(&f->app, &f->dir, 8) < 0) return -1;
    seed_instance(f);
    call_t *c = callv(f, models_add, "/models", NULL, MODELS, NULL, NOH);
    if (c->status != 201) fprintf(stderr, "%s\n", c->resp.body);
    assert_int_equal(c->status, 201);
    call_free(c);
    c = callv(f, models_update, "/models/x", NULL,
              "[{\"op\":\"replace\",\"path\":\"/decommissioned\",\"value\":true}]",
              P("id=dtmi:t:Old;1"), NOH);
    assert_int_equal(c->status, 204);
    call_free(c);
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

/* ---- helpers over the store ---- */

typedef struct evs {
    json_t *list;
} evs_t;

static int ev_collect(const store_event_t *ev, void *ctx)
{
    evs_t *e = ctx;
    json_array_append_new(e->list, json_loads(ev->event, 0, NULL));
    return 0;
}

/* Every outbox event so far (new reference). */
static json_t *events(fixture_t *f)
{
    castor_err err;
    store_txn_t *t;
    evs_t e = {json_array()};
    assert_int_equal(store_begin(f->app.store, STORE_READ, &t, &err), 0);
    assert_int_equal(store_outbox_each(t, f->instance_id, 0, ev_collect, &e, &err), 0);
    store_rollback(t);
    return e.list;
}

static size_t nevents(fixture_t *f)
{
    json_t *e = events(f);
    size_t n = json_array_size(e);
    json_decref(e);
    return n;
}

static json_t *last_event(fixture_t *f)
{
    json_t *e = events(f);
    json_t *last = json_incref(json_array_get(e, json_array_size(e) - 1));
    json_decref(e);
    return last;
}

static const char *jstr(const json_t *o, const char *path)
{
    /* "a.b.c" */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const json_t *cur = o;
    for (char *save, *seg = strtok_r(buf, ".", &save); seg && cur; seg = strtok_r(NULL, ".", &save))
        cur = json_object_get(cur, seg);
    return json_string_value(cur);
}

static char *get_twin_text(fixture_t *f, const char *id)
{
    char p[300];
    snprintf(p, sizeof p, "id=%s", id);
    call_t *c = callv(f, twins_get, "/digitaltwins/x", NULL, NULL, P(p), NOH);
    char *s = c->status == 200 ? strdup(c->resp.body) : NULL;
    call_free(c);
    return s;
}

static void put_twin(fixture_t *f, const char *id, const char *body)
{
    char p[300];
    snprintf(p, sizeof p, "id=%s", id);
    call_t *c = callv(f, twins_put, "/digitaltwins/x", NULL, body, P(p), NOH);
    expect_ok(c, 200);
    call_free(c);
}

static void put_rel(fixture_t *f, const char *src, const char *id, const char *body, int status,
                    const char *code)
{
    char p1[300], p2[300];
    snprintf(p1, sizeof p1, "id=%s", src);
    snprintf(p2, sizeof p2, "relationshipId=%s", id);
    call_t *c =
        callv(f, twins_rel_put, "/digitaltwins/x/relationships/y", NULL, body, P(p1, p2), NOH);
    if (code)
        expect_error(c, status, code, NULL);
    else {
        expect_ok(c, status);
        call_free(c);
    }
}

/* ---- twins ---- */

static void put_and_get_have_adt_shape(void **state)
{
    fixture_t *f = *state;
    call_t *c = callv(f, twins_put, "/digitaltwins/room1", NULL,
                      ROOM(",\"Temperature\":21.5,\"Name\":\"r\",\"$dtId\":\"ignored\","
                           "\"$metadata\":{\"$model\":\"dtmi:t:Room;1\",\"Temperature\":"
                           "{\"sourceTime\":\"2022-05-31T12:00:00.000125009Z\"}}"),
                      P("id=room1"), NOH);
    expect_ok(c, 200);
    assert_string_equal(jstr(c->body, "$dtId"), "room1");
    assert_non_null(c->etag);
    assert_string_equal(jstr(c->body, "$etag"), c->etag);
    assert_int_equal(strncmp(c->etag, "W/\"", 3), 0);
    assert_string_equal(jstr(c->body, "$metadata.$model"), "dtmi:t:Room;1");
    assert_non_null(jstr(c->body, "$metadata.$lastUpdateTime"));
    assert_non_null(jstr(c->body, "$metadata.Temperature.lastUpdateTime"));
    assert_string_equal(jstr(c->body, "$metadata.Temperature.sourceTime"),
                        "2022-05-31T12:00:00.000125009Z");
    assert_non_null(jstr(c->body, "thermostat.$metadata.$lastUpdateTime"));
    assert_null(json_object_get(json_object_get(c->body, "$metadata"), "Mode"));
    char *etag = strdup(c->etag);
    call_free(c);
    c = callv(f, twins_get, "/digitaltwins/room1", NULL, NULL, P("id=room1"), NOH);
    expect_ok(c, 200);
    assert_string_equal(c->etag, etag);
    assert_true(json_real_value(json_object_get(c->body, "Temperature")) == 21.5);
    call_free(c);
    free(etag);
    json_t *ev = last_event(f);
    assert_string_equal(jstr(ev, "type"), "Microsoft.DigitalTwins.Twin.Create");
    assert_string_equal(jstr(ev, "subject"), "room1");
    assert_string_equal(jstr(ev, "specversion"), "1.0");
    assert_string_equal(jstr(ev, "source"), "localhost:8443/dt/MyInst");
    assert_string_equal(jstr(ev, "data.$dtId"), "room1");
    json_decref(ev);
    /* Replacing emits an update with what changed. */
    put_twin(f, "room1", ROOM(",\"Temperature\":22"));
    ev = last_event(f);
    assert_string_equal(jstr(ev, "type"), "Microsoft.DigitalTwins.Twin.Update");
    assert_string_equal(jstr(ev, "data.modelId"), "dtmi:t:Room;1");
    assert_int_equal(json_array_size(json_object_get(json_object_get(ev, "data"), "patch")), 2);
    json_decref(ev);
    c = callv(f, twins_get, "/digitaltwins/nope", NULL, NULL, P("id=nope"), NOH);
    expect_error(c, 404, "DigitalTwinNotFound",
                 "There is no digital twin instance that exists with the ID nope");
}

/* Each invalid PUT: status, code, a phrase of the message; and nothing was written. */
static void put_refuses_invalid_twins(void **state)
{
    fixture_t *f = *state;
    static const struct {
        const char *body;
        int status;
        const char *code, *phrase;
    } cases[] = {
        {ROOM(",\"Bogus\":1"), 400, "ValidationFailed", "$.Bogus"},
        {ROOM(",\"Temperature\":\"hot\""), 400, "ValidationFailed", "$.Temperature"},
        {ROOM(",\"Mode\":\"auto\""), 400, "ValidationFailed", "$.Mode"},
        {ROOM(",\"Info\":{\"a\":\"x\"}"), 400, "ValidationFailed", "$.Info.a"},
        {ROOM(",\"Info\":{\"zz\":1}"), 400, "ValidationFailed", "$.Info"},
        {ROOM(",\"Tags\":{\"k\":\"v\"}"), 400, "ValidationFailed", "$.Tags"},
        {ROOM(",\"temp\":1"), 400, "ValidationFailed", "is a Telemetry"},
        {ROOM(",\"thermostat\":{\"target\":\"x\"}"), 400, "ValidationFailed",
         "$.thermostat.target"},
        {ROOM(",\"$foo\":1"), 400, "ValidationFailed", "$.$foo"},
        {"{\"$metadata\":{\"$model\":\"dtmi:t:Room;1\"}}", 400, "ValidationFailed", "$.thermostat"},
        {"{\"$metadata\":{\"$model\":\"dtmi:t:Nope;1\"}}", 400, "ValidationFailed",
         "dtmi:t:Nope;1 does not exist"},
        {"{\"Temperature\":1}", 400, "ValidationFailed", "$.$metadata.$model"},
        {"[1]", 400, "InvalidArgument", "JSON object"},
        {"{\"$metadata\":{\"$model\":\"dtmi:t:Old;1\"}}", 400, "ModelDecommissioned",
         "decommissioned"},
        {"{\"$metadata\":{\"$model\":\"dtmi:t:Room;1\",\"Name\":{\"sourceTime\":\"noon\"}},"
         "\"thermostat\":{},\"Name\":\"n\"}",
         400, "ValidationFailed", "sourceTime"},
    };
    size_t before = nevents(f);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        call_t *c = callv(f, twins_put, "/digitaltwins/bad", NULL, cases[i].body, P("id=bad"), NOH);
        expect_error(c, cases[i].status, cases[i].code, cases[i].phrase);
    }
    /* A string over 4 KB. */
    char *big = malloc(CASTOR_STRING_VALUE_MAX + 200);
    int n = snprintf(big, 200, ROOM(",\"Name\":\""));
    memset(big + n - 1, 'x', CASTOR_STRING_VALUE_MAX + 1);
    strcpy(big + n - 1 + CASTOR_STRING_VALUE_MAX + 1, "\"}");
    call_t *c = callv(f, twins_put, "/digitaltwins/bad", NULL, big, P("id=bad"), NOH);
    expect_error(c, 400, "ValidationFailed", "at most 4096 bytes");
    free(big);
    c = callv(f, twins_put, "/digitaltwins/x", NULL, ROOM(""), P("id="), NOH);
    expect_error(c, 400, "InvalidArgument", "empty");
    assert_null(get_twin_text(f, "bad"));
    assert_int_equal(nevents(f), before);
}

static void conditional_requests(void **state)
{
    fixture_t *f = *state;
    put_twin(f, "c1", ROOM(",\"Temperature\":1"));
    call_t *c =
        callv(f, twins_put, "/digitaltwins/c1", NULL, ROOM(""), P("id=c1"), P("If-None-Match: *"));
    expect_error(c, 412, "PreconditionFailed", "already exists");
    c = callv(f, twins_put, "/digitaltwins/c2", NULL, ROOM(""), P("id=c2"), P("If-None-Match: *"));
    expect_ok(c, 200);
    call_free(c);
    c = callv(f, twins_put, "/digitaltwins/c2", NULL, ROOM(""), P("id=c2"), P("If-None-Match: x"));
    expect_error(c, 400, "InvalidArgument", "If-None-Match");
    c = callv(f, twins_patch, "/digitaltwins/c1", NULL,
              "[{\"op\":\"replace\",\"path\":\"/Temperature\",\"value\":2}]", P("id=c1"),
              P("If-Match: XXX"));
    expect_error(
        c, 400, "InvalidArgument",
        "Invalid If-Match header value. Allowed value(s): If-Match: {etag} or If-Match: *");
    c = callv(f, twins_patch, "/digitaltwins/c1", NULL,
              "[{\"op\":\"replace\",\"path\":\"/Temperature\",\"value\":2}]", P("id=c1"),
              P("If-Match: W/\"stale\""));
    expect_error(c, 412, "PreconditionFailed", NULL);
    char *before = get_twin_text(f, "c1");
    c = callv(f, twins_delete, "/digitaltwins/c1", NULL, NULL, P("id=c1"),
              P("If-Match: W/\"stale\""));
    expect_error(c, 412, "PreconditionFailed", NULL);
    char *after = get_twin_text(f, "c1");
    assert_string_equal(before, after);
    json_t *doc = json_loads(after, 0, NULL);
    char im[128];
    snprintf(im, sizeof im, "If-Match: %s", jstr(doc, "$etag"));
    c = callv(f, twins_patch, "/digitaltwins/c1", NULL,
              "[{\"op\":\"replace\",\"path\":\"/Temperature\",\"value\":2}]", P("id=c1"), P(im));
    expect_ok(c, 204);
    assert_non_null(c->etag);
    assert_string_not_equal(c->etag, jstr(doc, "$etag"));
    snprintf(im, sizeof im, "If-Match: %s", c->etag);
    call_free(c);
    c = callv(f, twins_delete, "/digitaltwins/c1", NULL, NULL, P("id=c1"), P(im));
    expect_ok(c, 204);
    call_free(c);
    json_decref(doc);
    free(before);
    free(after);
    assert_null(get_twin_text(f, "c1"));
    json_t *ev = last_event(f);
    assert_string_equal(jstr(ev, "type"), "Microsoft.DigitalTwins.Twin.Delete");
    json_decref(ev);
}

static call_t *patch(fixture_t *f, const char *id, const char *body)
{
    char p[300];
    snprintf(p, sizeof p, "id=%s", id);
    return callv(f, twins_patch, "/digitaltwins/x", NULL, body, P(p), NOH);
}

static void json_patch_operations(void **state)
{
    fixture_t *f = *state;
    put_twin(f, "p1", ROOM(",\"Temperature\":1,\"Name\":\"a\""));
    call_t *c = patch(f, "p1",
                      "[{\"op\":\"add\",\"path\":\"/Mode\",\"value\":\"on\"},"
                      "{\"op\":\"replace\",\"path\":\"/Temperature\",\"value\":3.5},"
                      "{\"op\":\"remove\",\"path\":\"/Name\"},"
                      "{\"op\":\"add\",\"path\":\"/Info\",\"value\":{\"a\":1}},"
                      "{\"op\":\"add\",\"path\":\"/Info/b\",\"value\":\"x\"},"
                      "{\"op\":\"add\",\"path\":\"/Tags\",\"value\":{}},"
                      "{\"op\":\"add\",\"path\":\"/Tags/k1\",\"value\":7},"
                      "{\"op\":\"add\",\"path\":\"/thermostat/target\",\"value\":20},"
                      "{\"op\":\"replace\",\"path\":\"/$metadata/Temperature/sourceTime\","
                      "\"value\":\"2021-11-30T18:47:53.7648958Z\"}]");
    expect_ok(c, 204);
    call_free(c);
    char *text = get_twin_text(f, "p1");
    json_t *d = json_loads(text, 0, NULL);
    assert_string_equal(jstr(d, "Mode"), "on");
    assert_true(json_real_value(json_object_get(d, "Temperature")) == 3.5);
    assert_null(json_object_get(d, "Name"));
    assert_null(json_object_get(json_object_get(d, "$metadata"), "Name"));
    assert_string_equal(jstr(d, "Info.b"), "x");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(d, "Tags"), "k1")), 7);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(d, "thermostat"), "target")), 20);
    assert_non_null(jstr(d, "thermostat.$metadata.target.lastUpdateTime"));
    assert_string_equal(jstr(d, "$metadata.Temperature.sourceTime"),
                        "2021-11-30T18:47:53.7648958Z");
    json_decref(d);
    free(text);
    json_t *ev = last_event(f);
    assert_string_equal(jstr(ev, "type"), "Microsoft.DigitalTwins.Twin.Update");
    assert_int_equal(json_array_size(json_object_get(json_object_get(ev, "data"), "patch")), 9);
    json_decref(ev);

    /* Every refusal leaves the twin and the outbox as they were. */
    static const struct {
        const char *body;
        const char *code, *phrase;
    } bad[] = {
        {"[{\"op\":\"move\",\"path\":\"/Temperature\",\"value\":42}]", "JsonPatchInvalid",
         "Unsupported operation type move. Please provide a valid patch document."},
        {"[{\"op\":\"replace\",\"path\":\"/Name\",\"value\":\"b\"}]", "JsonPatchInvalid",
         "does not exist"},
        {"[{\"op\":\"remove\",\"path\":\"/Name\"}]", "JsonPatchInvalid", "does not exist"},
        {"[{\"op\":\"add\",\"path\":\"/Nope/x\",\"value\":1}]", "JsonPatchInvalid", "/Nope/x"},
        {"[{\"op\":\"replace\",\"path\":\"/$dtId\",\"value\":\"z\"}]", "JsonPatchInvalid",
         "read-only"},
        {"[{\"op\":\"replace\",\"path\":\"/$metadata/$lastUpdateTime\",\"value\":\"z\"}]",
         "JsonPatchInvalid", "read-only"},
        {"[{\"op\":\"add\",\"path\":\"/Temperature\"}]", "JsonPatchInvalid", "no value"},
        {"{\"op\":\"add\"}", "JsonPatchInvalid", "JSON array"},
        {"[{\"op\":\"add\",\"path\":\"/Temperature\",\"value\":\"hot\"}]", "ValidationFailed",
         "$.Temperature"},
        {"[{\"op\":\"add\",\"path\":\"/Bogus\",\"value\":1}]", "ValidationFailed", "$.Bogus"},
        {"[{\"op\":\"add\",\"path\":\"/thermostat/target\",\"value\":\"x\"}]", "ValidationFailed",
         "$.thermostat.target"},
        {"[{\"op\":\"remove\",\"path\":\"/thermostat\"}]", "ValidationFailed", "$.thermostat"},
        {"[{\"op\":\"add\",\"path\":\"/Mode\",\"value\":\"on\"},{\"op\":\"add\",\"path\":"
         "\"/Temperature\",\"value\":true}]",
         "ValidationFailed", "$.Temperature"},
        {"[{\"op\":\"replace\",\"path\":\"/$metadata/$model\",\"value\":\"dtmi:t:Old;1\"}]",
         "ModelDecommissioned", "decommissioned"},
    };
    text = get_twin_text(f, "p1");
    size_t before = nevents(f);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_error(patch(f, "p1", bad[i].body), 400, bad[i].code, bad[i].phrase);
    char *after = get_twin_text(f, "p1");
    assert_string_equal(text, after);
    assert_int_equal(nevents(f), before);
    free(text);
    free(after);
    expect_error(patch(f, "nope", "[]"), 404, "DigitalTwinNotFound", NULL);
    /* Changing the model, with the fixes it needs, in one patch. */
    put_twin(f, "p2", ROOM(""));
    c = patch(f, "p2",
              "[{\"op\":\"replace\",\"path\":\"/$metadata/$model\",\"value\":"
              "\"dtmi:t:SpecialRoom;1\"}]");
    expect_ok(c, 204);
    call_free(c);
    text = get_twin_text(f, "p2");
    assert_non_null(strstr(text, "dtmi:t:SpecialRoom;1"));
    free(text);
}

static void components(void **state)
{
    fixture_t *f = *state;
    put_twin(f, "k1", ROOM(""));
    call_t *c = callv(f, twins_component_patch, "/digitaltwins/k1/components/thermostat", NULL,
                      "[{\"op\":\"add\",\"path\":\"/target\",\"value\":19.5}]",
                      P("id=k1", "componentPath=thermostat"), NOH);
    expect_ok(c, 204);
    call_free(c);
    c = callv(f, twins_component_get, "/digitaltwins/k1/components/thermostat", NULL, NULL,
              P("id=k1", "componentPath=thermostat"), NOH);
    expect_ok(c, 200);
    assert_true(json_real_value(json_object_get(c->body, "target")) == 19.5);
    assert_non_null(jstr(c->body, "$metadata.target.lastUpdateTime"));
    assert_non_null(c->etag);
    call_free(c);
    json_t *ev = last_event(f);
    assert_string_equal(jstr(ev, "type"), "Microsoft.DigitalTwins.Twin.Update");
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(json_object_get(ev, "data"), "patch"), 0), "path")),
        "/thermostat/target");
    json_decref(ev);
    c = callv(f, twins_component_get, "/x", NULL, NULL, P("id=k1", "componentPath=Info"), NOH);
    expect_error(c, 404, "ComponentNotFound", "Info");
    c = callv(f, twins_component_patch, "/x", NULL, "[]", P("id=k1", "componentPath=nope"), NOH);
    expect_error(c, 404, "ComponentNotFound", "nope");
    c = callv(f, twins_component_patch, "/x", NULL,
              "[{\"op\":\"add\",\"path\":\"/target\",\"value\":\"warm\"}]",
              P("id=k1", "componentPath=thermostat"), NOH);
    expect_error(c, 400, "ValidationFailed", "$.thermostat.target");
}

static void relationships(void **state)
{
    fixture_t *f = *state;
    put_twin(f, "r1", ROOM(""));
    put_twin(f, "r2", ROOM(""));
    put_twin(f, "sr", "{\"$metadata\":{\"$model\":\"dtmi:t:SpecialRoom;1\"},\"thermostat\":{}}");
    put_twin(f, "d1", "{\"$metadata\":{\"$model\":\"dtmi:t:Device;1\"}}");
    put_twin(f, "d2", "{\"$metadata\":{\"$model\":\"dtmi:t:Device;1\"}}");
    put_twin(f, "d3", "{\"$metadata\":{\"$model\":\"dtmi:t:Device;1\"}}");
    put_twin(f, "fl", "{\"$metadata\":{\"$model\":\"dtmi:t:Floor;1\"}}");
    size_t before = nevents(f);
    put_rel(f, "r1", "x", "{\"$targetId\":\"nope\",\"$relationshipName\":\"near\"}", 404,
            "TargetTwinNotFound");
    put_rel(f, "nope", "x", "{\"$targetId\":\"r1\",\"$relationshipName\":\"near\"}", 404,
            "DigitalTwinNotFound");
    put_rel(f, "r1", "x", "{\"$targetId\":\"r2\",\"$relationshipName\":\"bogus\"}", 400,
            "InvalidRelationship");
    put_rel(f, "r1", "x", "{\"$targetId\":\"r2\",\"$relationshipName\":\"hasDevice\"}", 400,
            "InvalidRelationship");
    put_rel(f, "r1", "x", "{\"$targetId\":\"r1\",\"$relationshipName\":\"near\"}", 400,
            "OperationNotAllowed");
    put_rel(f, "r1", "x", "{\"$relationshipName\":\"near\"}", 400, "InvalidArgument");
    put_rel(f, "r1", "x", "{\"$targetId\":\"d1\",\"$relationshipName\":\"hasDevice\",\"since\":1}",
            400, "ValidationFailed");
    put_rel(f, "r1", "x", "{\"$targetId\":\"d1\",\"$relationshipName\":\"hasDevice\",\"zz\":1}",
            400, "ValidationFailed");
    assert_int_equal(nevents(f), before);
    /* Target model by inheritance: a SpecialRoom is a Room. */
    put_rel(f, "fl", "c1", "{\"$targetId\":\"sr\",\"$relationshipName\":\"contains\"}", 200, NULL);
    put_rel(f, "fl", "c2", "{\"$targetId\":\"r1\",\"$relationshipName\":\"contains\"}", 200, NULL);
    put_rel(f, "fl", "c3", "{\"$targetId\":\"d1\",\"$relationshipName\":\"contains\"}", 400,
            "InvalidRelationship");
    put_rel(f, "r1", "h1",
            "{\"$targetId\":\"d1\",\"$relationshipName\":\"hasDevice\",\"since\":\"2020\"}", 200,
            NULL);
    put_rel(f, "r1", "h2", "{\"$targetId\":\"d2\",\"$relationshipName\":\"hasDevice\"}", 200, NULL);
    /* maxMultiplicity 2: a third is refused, replacing one of the two is not. */
    put_rel(f, "r1", "h3", "{\"$targetId\":\"d3\",\"$relationshipName\":\"hasDevice\"}", 400,
            "InvalidRelationship");
    put_rel(f, "r1", "h2", "{\"$targetId\":\"d3\",\"$relationshipName\":\"hasDevice\"}", 200, NULL);
    put_rel(f, "r1", "n1", "{\"$targetId\":\"r2\",\"$relationshipName\":\"near\"}", 200, NULL);
    call_t *c =
        callv(f, twins_rel_put, "/x", NULL, "{\"$targetId\":\"r2\",\"$relationshipName\":\"near\"}",
              P("id=r1", "relationshipId=n1"), P("If-None-Match: *"));
    expect_error(c, 412, "PreconditionFailed", NULL);
    c = callv(f, twins_rel_get, "/x", NULL, NULL, P("id=r1", "relationshipId=h1"), NOH);
    expect_ok(c, 200);
    assert_string_equal(jstr(c->body, "$relationshipId"), "h1");
    assert_string_equal(jstr(c->body, "$sourceId"), "r1");
    assert_string_equal(jstr(c->body, "$targetId"), "d1");
    assert_string_equal(jstr(c->body, "$relationshipName"), "hasDevice");
    assert_string_equal(jstr(c->body, "since"), "2020");
    assert_string_equal(jstr(c->body, "$etag"), c->etag);
    call_free(c);
    c = callv(f, twins_rel_get, "/x", NULL, NULL, P("id=r1", "relationshipId=zz"), NOH);
    expect_error(c, 404, "RelationshipNotFound", NULL);
    c = callv(f, twins_rel_get, "/x", NULL, NULL, P("id=zz", "relationshipId=zz"), NOH);
    expect_error(c, 404, "DigitalTwinNotFound", NULL);
    /* PATCH */
    c = callv(f, twins_rel_patch, "/x", NULL,
              "[{\"op\":\"replace\",\"path\":\"/since\",\"value\":\"2021\"}]",
              P("id=r1", "relationshipId=h1"), NOH);
    expect_ok(c, 204);
    call_free(c);
    json_t *ev = last_event(f);
    assert_string_equal(jstr(ev, "type"), "Microsoft.DigitalTwins.Relationship.Update");
    assert_string_equal(jstr(ev, "subject"), "r1/relationships/h1");
    json_decref(ev);
    c = callv(f, twins_rel_patch, "/x", NULL,
              "[{\"op\":\"replace\",\"path\":\"/since\",\"value\":5}]",
              P("id=r1", "relationshipId=h1"), NOH);
    expect_error(c, 400, "ValidationFailed", "$.since");
    c = callv(f, twins_rel_patch, "/x", NULL,
              "[{\"op\":\"replace\",\"path\":\"/$targetId\",\"value\":\"d2\"}]",
              P("id=r1", "relationshipId=h1"), NOH);
    expect_error(c, 400, "JsonPatchInvalid", "read-only");
    /* Lists: filter, paging with an absolute nextLink, incoming. */
    c = callv(f, twins_rel_list, "/digitaltwins/r1/relationships", "relationshipName=hasDevice",
              NULL, P("id=r1"), NOH);
    expect_ok(c, 200);
    assert_int_equal(json_array_size(json_object_get(c->body, "value")), 2);
    assert_true(json_is_null(json_object_get(c->body, "nextLink")));
    call_free(c);
    c = callv(f, twins_rel_list, "/digitaltwins/r1/relationships", NULL, NULL, P("id=r1"),
              P("max-items-per-page: 2"));
    expect_ok(c, 200);
    assert_int_equal(json_array_size(json_object_get(c->body, "value")), 2);
    const char *next = jstr(c->body, "nextLink");
    assert_non_null(next);
    static const char prefix[] =
        "https://localhost:8443/dt/MyInst/digitaltwins/r1/relationships?continuationToken=";
    if (strncmp(next, prefix, sizeof prefix - 1) != 0) fprintf(stderr, "nextLink %s\n", next);
    assert_int_equal(strncmp(next, prefix, sizeof prefix - 1), 0);
    assert_non_null(strstr(next, "api-version=2022-05-31"));
    char q[256];
    snprintf(q, sizeof q, "%s", strchr(next, '?') + 1);
    call_free(c);
    c = callv(f, twins_rel_list, "/digitaltwins/r1/relationships", q, NULL, P("id=r1"),
              P("max-items-per-page: 2"));
    expect_ok(c, 200);
    assert_int_equal(json_array_size(json_object_get(c->body, "value")), 1);
    assert_true(json_is_null(json_object_get(c->body, "nextLink")));
    call_free(c);
    c = callv(f, twins_rel_list_incoming, "/digitaltwins/r1/incomingrelationships", NULL, NULL,
              P("id=r1"), NOH);
    expect_ok(c, 200);
    json_t *in = json_array_get(json_object_get(c->body, "value"), 0);
    assert_string_equal(jstr(in, "$sourceId"), "fl");
    assert_string_equal(jstr(in, "$relationshipLink"), "/digitaltwins/fl/relationships/c2");
    assert_null(json_object_get(in, "$etag"));
    call_free(c);
    c = callv(f, twins_rel_list, "/x", "continuationToken=abc", NULL, P("id=r1"), NOH);
    expect_error(c, 400, "InvalidArgument", "continuationToken");
    c = callv(f, twins_rel_list, "/x", NULL, NULL, P("id=zz"), NOH);
    expect_error(c, 404, "DigitalTwinNotFound", NULL);
    /* A twin with relationships (either way) cannot be deleted. */
    c = callv(f, twins_delete, "/x", NULL, NULL, P("id=d1"), NOH);
    expect_error(c, 400, "RelationshipsNotDeleted", "relationships");
    c = callv(f, twins_delete, "/x", NULL, NULL, P("id=r1"), NOH);
    expect_error(c, 400, "RelationshipsNotDeleted", NULL);
    c = callv(f, twins_rel_delete, "/x", NULL, NULL, P("id=r1", "relationshipId=h1"),
              P("If-Match: W/\"old\""));
    expect_error(c, 412, "PreconditionFailed", NULL);
    c = callv(f, twins_rel_delete, "/x", NULL, NULL, P("id=r1", "relationshipId=h1"), NOH);
    expect_ok(c, 204);
    call_free(c);
    ev = last_event(f);
    assert_string_equal(jstr(ev, "type"), "Microsoft.DigitalTwins.Relationship.Delete");
    assert_string_equal(jstr(ev, "data.$targetId"), "d1");
    json_decref(ev);
    c = callv(f, twins_delete, "/x", NULL, NULL, P("id=d1"), NOH);
    expect_ok(c, 204);
    call_free(c);
    c = callv(f, twins_rel_delete, "/x", NULL, NULL, P("id=r1", "relationshipId=h1"), NOH);
    expect_error(c, 404, "RelationshipNotFound", NULL);
}

static void telemetry(void **state)
{
    fixture_t *f = *state;
    put_twin(f, "t1", ROOM(""));
    call_t *c = callv(f, twins_telemetry, "/x", NULL, "{\"temp\":1.5,\"other\":1}", P("id=t1"),
                      P("Message-Id: m-1", "Telemetry-Source-Time: 2022-01-01T00:00:00Z"));
    expect_ok(c, 204);
    call_free(c);
    json_t *ev = last_event(f);
    assert_string_equal(jstr(ev, "type"), "microsoft.iot.telemetry");
    assert_string_equal(jstr(ev, "id"), "m-1");
    assert_string_equal(jstr(ev, "source"), "localhost:8443/dt/MyInst/digitaltwins/t1");
    assert_string_equal(jstr(ev, "dataschema"), "dtmi:t:Room;1");
    assert_string_equal(jstr(ev, "telemetrysourcetime"), "2022-01-01T00:00:00Z");
    assert_null(json_object_get(ev, "subject"));
    json_decref(ev);
    c = callv(f, twins_component_telemetry, "/x", NULL, "\"a string, as the JS SDK sends\"",
              P("id=t1", "componentPath=thermostat"), P("Message-Id: {\"x\":1}"));
    expect_ok(c, 204);
    call_free(c);
    ev = last_event(f);
    assert_string_equal(jstr(ev, "subject"), "thermostat");
    assert_string_equal(jstr(ev, "dataschema"), "dtmi:t:Thermo;1");
    json_decref(ev);
    size_t before = nevents(f);
    c = callv(f, twins_telemetry, "/x", NULL, "{}", P("id=t1"), NOH);
    expect_error(c, 400, "InvalidArgument", "Message-Id");
    c = callv(f, twins_telemetry, "/x", NULL, "{\"temp\":\"hot\"}", P("id=t1"), P("Message-Id: 2"));
    expect_error(c, 400, "ValidationFailed", "$.temp");
    c = callv(f, twins_telemetry, "/x", NULL, "{}", P("id=nope"), P("Message-Id: 2"));
    expect_error(c, 404, "DigitalTwinNotFound", NULL);
    c = callv(f, twins_component_telemetry, "/x", NULL, "{}", P("id=t1", "componentPath=zz"),
              P("Message-Id: 2"));
    expect_error(c, 404, "ComponentNotFound", NULL);
    c = callv(f, twins_telemetry, "/x", NULL, "{}", P("id=t1"),
              P("Message-Id: 2", "Telemetry-Source-Time: noon"));
    expect_error(c, 400, "InvalidArgument", "Telemetry-Source-Time");
    assert_int_equal(nevents(f), before);
}

/* ADT de-duplicates telemetry by Message-Id per twin: a resend is acknowledged, no second event;
 * the same id on another twin, or a refused message's id, is not a duplicate. */
static void telemetry_deduplicated_by_message_id(void **state)
{
    fixture_t *f = *state;
    put_twin(f, "t1", ROOM(""));
    put_twin(f, "t2", ROOM(""));
    size_t before = nevents(f);
    for (int i = 0; i < 3; i++) {
        call_t *c = callv(f, twins_telemetry, "/x", NULL, "{\"temp\":1}", P("id=t1"),
                          P("Message-Id: dup-1"));
        expect_ok(c, 204);
        call_free(c);
    }
    assert_int_equal(nevents(f), before + 1);
    call_t *c = callv(f, twins_component_telemetry, "/x", NULL, "{}",
                      P("id=t1", "componentPath=thermostat"), P("Message-Id: dup-1"));
    expect_ok(c, 204);
    call_free(c);
    assert_int_equal(nevents(f), before + 1);
    c = callv(f, twins_telemetry, "/x", NULL, "{\"temp\":1}", P("id=t2"), P("Message-Id: dup-1"));
    expect_ok(c, 204);
    call_free(c);
    assert_int_equal(nevents(f), before + 2);
    c = callv(f, twins_telemetry, "/x", NULL, "{\"temp\":\"hot\"}", P("id=t1"),
              P("Message-Id: dup-2"));
    expect_error(c, 400, "ValidationFailed", "$.temp");
    c = callv(f, twins_telemetry, "/x", NULL, "{\"temp\":2}", P("id=t1"), P("Message-Id: dup-2"));
    expect_ok(c, 204);
    call_free(c);
    assert_int_equal(nevents(f), before + 3);
    json_t *ev = last_event(f);
    assert_string_equal(jstr(ev, "id"), "dup-2");
    json_decref(ev);
}

static void model_delete_refused_while_twins_use_it(void **state)
{
    fixture_t *f = *state;
    put_twin(f, "dev", "{\"$metadata\":{\"$model\":\"dtmi:t:Device;1\"}}");
    call_t *c = callv(f, models_delete, "/models/x", NULL, NULL, P("id=dtmi:t:Device;1"), NOH);
    expect_error(c, 409, "ModelReferencesNotDeleted", "dev");
}

typedef struct racer {
    fixture_t *f;
    int n;
    int failures;
} racer_t;

static void *race(void *arg)
{
    racer_t *r = arg;
    for (int i = 0; i < 25; i++) {
        char body[128];
        snprintf(body, sizeof body, "[{\"op\":\"add\",\"path\":\"/Tags/t%d_%d\",\"value\":%d}]",
                 r->n, i, i);
        call_t *c = patch(r->f, "race", body);
        if (c->status != 204) r->failures++;
        call_free(c);
    }
    return NULL;
}

/* Four threads patch one twin at once: every patch lands (per-twin serialization). */
/* Events are written without jansson when every envelope value is printable ASCII and through
 * it otherwise: both must give the same JSON, with quotes escaped and UTF-8 kept. */
static void events_escape_envelope_values(void **state)
{
    fixture_t *f = *state;
    const char *ids[] = {"q\"uo\\te", "caf\xc3\xa9"};
    for (int i = 0; i < 2; i++) {
        char p[300];
        snprintf(p, sizeof p, "id=%s", ids[i]);
        call_t *c = callv(f, twins_put, "/digitaltwins/x", NULL, ROOM(""), P(p), NOH);
        expect_ok(c, 200);
        call_free(c);
        json_t *ev = last_event(f);
        assert_non_null(ev);
        assert_string_equal(jstr(ev, "subject"), ids[i]);
        assert_string_equal(jstr(ev, "type"), "Microsoft.DigitalTwins.Twin.Create");
        assert_string_equal(jstr(ev, "data.$dtId"), ids[i]);
        assert_string_equal(jstr(ev, "specversion"), "1.0");
        json_decref(ev);
    }
}

/* store_rel_count_out with and without a name and an excluded id: each is its own statement. */
static void rel_counts_by_name_and_except(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->app.store, STORE_WRITE, &t, &err), 0);
    const char *rels[][3] = {{"a", "b", "feeds"}, {"c", "b", "feeds"}, {"d", "e", "near"}};
    for (int i = 0; i < 3; i++) {
        store_rel_t r = {0, "s", rels[i][0], rels[i][1], rels[i][2], "W/\"x\"", "{}"};
        assert_int_equal(store_rel_put(t, f->instance_id, &r, &err), 0);
    }
    int64_t n = -1;
    assert_int_equal(store_rel_count_out(t, f->instance_id, "s", NULL, NULL, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(store_rel_count_out(t, f->instance_id, "s", "feeds", NULL, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(store_rel_count_out(t, f->instance_id, "s", NULL, "d", &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(store_rel_count_out(t, f->instance_id, "s", "feeds", "a", &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_rel_count_out(t, f->instance_id, "x", NULL, NULL, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_rel_count_in(t, f->instance_id, "b", &n, &err), 0);
    assert_int_equal(n, 2);
    store_rollback(t);
}

static void concurrent_patches_lose_nothing(void **state)
{
    fixture_t *f = *state;
    put_twin(f, "race", ROOM(",\"Tags\":{}"));
    pthread_t th[4];
    racer_t r[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (racer_t){f, i, 0};
        pthread_create(&th[i], NULL, race, &r[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(r[i].failures, 0);
    }
    char *text = get_twin_text(f, "race");
    json_t *d = json_loads(text, 0, NULL);
    assert_int_equal(json_object_size(json_object_get(d, "Tags")), 100);
    json_decref(d);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(put_and_get_have_adt_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(put_refuses_invalid_twins, setup, teardown),
        cmocka_unit_test_setup_teardown(conditional_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(json_patch_operations, setup, teardown),
        cmocka_unit_test_setup_teardown(components, setup, teardown),
        cmocka_unit_test_setup_teardown(relationships, setup, teardown),
        cmocka_unit_test_setup_teardown(telemetry, setup, teardown),
        cmocka_unit_test_setup_teardown(telemetry_deduplicated_by_message_id, setup, teardown),
        cmocka_unit_test_setup_teardown(model_delete_refused_while_twins_use_it, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_patches_lose_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(rel_counts_by_name_and_except, setup, teardown),
        cmocka_unit_test_setup_teardown(events_escape_envelope_values, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
