/* test_dtdl_rec.c — loads the whole RealEstateCore ontology ($CASTOR_SHARED/ontologies/
 * realestatecore): the v3 version (with the QuantitativeTypes extension) and the v2 snapshot.
 * Each is parsed once as a single batch, and once the way ADT must receive it: in dependency
 * order, at most 250 models per call, later calls resolving earlier models through the lookup
 * callback. Then a few known ancestries and contents are checked in the compiled graph. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "core/limits.h"
#include "dtdl/dtdl.h"

static char g_root[1024];

static json_t *load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    size_t off = got >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    json_error_t jerr;
    json_t *j = json_loadb(buf + off, got - off, 0, &jerr);
    free(buf);
    return j;
}

static void walk(const char *dir, json_t *out)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            walk(path, out);
        } else if (strstr(de->d_name, ".json")) {
            json_t *j = load(path);
            if (j) json_array_append_new(out, j);
        }
    }
    closedir(d);
}

/* The DTMIs a model needs before it can be uploaded: its bases and component schemas. */
static void deps(json_t *m, json_t *out)
{
    json_t *ext = json_object_get(m, "extends");
    if (json_is_string(ext)) json_array_append(out, ext);
    size_t i;
    json_t *x;
    json_array_foreach(ext, i, x) json_array_append(out, x);
    json_array_foreach(json_object_get(m, "contents"), i, x)
    {
        json_t *t = json_object_get(x, "@type");
        if (json_is_string(t) && strcmp(json_string_value(t), "Component") == 0 &&
            json_is_string(json_object_get(x, "schema")))
            json_array_append(out, json_object_get(x, "schema"));
    }
}

/* Orders models so that each follows everything it depends on (Kahn's algorithm by rounds). */
static json_t *dependency_order(json_t *models)
{
    json_t *ordered = json_array();
    json_t *done = json_object();
    size_t n = json_array_size(models);
    while (json_array_size(ordered) < n) {
        size_t before = json_array_size(ordered);
        json_t *round = json_array();
        size_t i;
        json_t *m;
        json_array_foreach(models, i, m)
        {
            const char *id = json_string_value(json_object_get(m, "@id"));
            if (json_object_get(done, id)) continue;
            json_t *d = json_array();
            deps(m, d);
            bool ready = true;
            size_t k;
            json_t *x;
            json_array_foreach(d, k, x) ready &=
                json_object_get(done, json_string_value(x)) != NULL;
            json_decref(d);
            if (ready) json_array_append(round, m);
        }
        json_array_foreach(round, i, m)
        {
            json_object_set_new(done, json_string_value(json_object_get(m, "@id")), json_true());
            json_array_append(ordered, m);
        }
        json_decref(round);
        if (json_array_size(ordered) == before)
            break; /* a cycle: leave the rest out, the test then fails on the count */
    }
    json_decref(done);
    return ordered;
}

static json_t *lookup_stored(const char *dtmi, void *ctx)
{
    json_t *m = json_object_get((json_t *)ctx, dtmi);
    return m ? json_incref(m) : NULL;
}

static void check_deep(const dtdl_graph_t *g)
{
    const dtdl_interface_t *ios =
        dtdl_graph_find(g, "dtmi:digitaltwins:rec_3_3:device:InferredOccupancySetpoint;1");
    assert_non_null(ios);
    assert_true(dtdl_interface_is_of(ios, "dtmi:digitaltwins:rec_3_3:device:OccupancySetpoint;1"));
    assert_true(dtdl_interface_is_of(ios, "dtmi:digitaltwins:rec_3_3:core:Capability;1"));
    assert_true(ios->ancestor_count >= 7); /* the deepest chain in REC: 8 levels */
}

static void check_graph(const dtdl_graph_t *g)
{
    const dtdl_interface_t *room = dtdl_graph_find(g, "dtmi:digitaltwins:rec_3_3:core:Room;1");
    assert_non_null(room);
    assert_true(dtdl_interface_is_of(room, "dtmi:digitaltwins:rec_3_3:core:Space;1"));
    assert_false(dtdl_interface_is_of(room, "dtmi:digitaltwins:rec_3_3:core:Building;1"));
    const dtdl_content_t *part = dtdl_interface_content(room, "isPartOf");
    assert_non_null(part); /* inherited from Space */
    assert_int_equal(part->kind, DTDL_CONTENT_RELATIONSHIP);
    assert_string_equal(part->defined_in, "dtmi:digitaltwins:rec_3_3:core:Space;1");
    check_deep(g);
}

static void run_set(const char *sub)
{
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/%s", g_root, sub);
    json_t *models = json_array();
    walk(dir, models);
    assert_int_equal(json_array_size(models), 767);

    /* One batch of everything. */
    dtdl_graph_t *g = NULL;
    dtdl_errors_t errs;
    dtdl_errors_init(&errs);
    castor_err err;
    castor_err_clear(&err);
    int rc = dtdl_parse_batch(models, NULL, NULL, NULL, &g, &errs, &err);
    if (rc != 0) printf("%s: %s\n", sub, err.message);
    assert_int_equal(rc, 0);
    assert_int_equal(dtdl_graph_count(g), 767);
    check_graph(g);
    dtdl_graph_free(g);
    dtdl_errors_free(&errs);

    /* ADT-sized calls in dependency order, each resolving against the models stored before. */
    json_t *ordered = dependency_order(models);
    assert_int_equal(json_array_size(ordered), 767);
    json_t *stored = json_object();
    size_t calls = 0, in_batch = 0;
    bool saw_deep = false;
    for (size_t at = 0; at < json_array_size(ordered); at += CASTOR_MODELS_PER_UPLOAD_MAX) {
        json_t *chunk = json_array();
        for (size_t i = at; i < at + CASTOR_MODELS_PER_UPLOAD_MAX && i < json_array_size(ordered);
             i++)
            json_array_append(chunk, json_array_get(ordered, i));
        rc = dtdl_parse_batch(chunk, NULL, lookup_stored, stored, &g, NULL, &err);
        if (rc != 0) printf("%s chunk %zu: %s\n", sub, calls, err.message);
        assert_int_equal(rc, 0);
        for (size_t i = 0; i < dtdl_graph_count(g); i++)
            in_batch += dtdl_graph_at(g, i)->in_batch;
        if (dtdl_graph_find(g, "dtmi:digitaltwins:rec_3_3:device:InferredOccupancySetpoint;1") &&
            dtdl_graph_find(g, "dtmi:digitaltwins:rec_3_3:device:InferredOccupancySetpoint;1")
                ->in_batch) {
            check_deep(g); /* its bases came from earlier calls, through lookup */
            saw_deep = true;
        }
        dtdl_graph_free(g);
        size_t i;
        json_t *m;
        json_array_foreach(chunk, i, m)
            json_object_set(stored, json_string_value(json_object_get(m, "@id")), m);
        json_decref(chunk);
        calls++;
    }
    assert_int_equal(calls, 4);
    assert_int_equal(in_batch, 767);
    assert_true(saw_deep);
    json_decref(stored);
    json_decref(ordered);
    json_decref(models);
}

static void test_rec_v3(void **state)
{
    (void)state;
    if (!*g_root) {
        printf("skipped: no ../shared\n");
        return;
    }
    run_set("Ontology");
}

static void test_rec_v2(void **state)
{
    (void)state;
    if (!*g_root) {
        printf("skipped: no ../shared\n");
        return;
    }
    run_set("dtdlv2-snapshot/Ontology");
}

int main(void)
{
    const char *shared = getenv("CASTOR_SHARED");
    snprintf(g_root, sizeof g_root, "%s/ontologies/realestatecore",
             shared && *shared ? shared : "../shared");
    DIR *d = opendir(g_root);
    if (d)
        closedir(d);
    else
        g_root[0] = '\0';
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_rec_v3),
                                       cmocka_unit_test(test_rec_v2)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
