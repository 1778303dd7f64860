/* query_bench.c — ADT queries compiled by castor vs the same questions in hand-written SQL,
 * on one SQLite file holding a 200,000-twin RealEstateCore-shaped graph (20 buildings x 10
 * levels x 50 rooms, 19 sensors per room; 200,220 twins and as many relationships), made once
 * and cached under the build folder.
 *
 * For each question of the mix (point, IS_OF_MODEL + property filter, 1-hop JOIN, 3-hop MATCH,
 * COUNT) it prints p50/p99 of castor's path (parse, check, compile, run through the store with
 * its statement cache, rows read) next to the hand-written statement run the same way (each
 * side first on every other id, as the second reads pages the first warmed), and the
 * ratio (the compiler's overhead), and the point question once more with one repeated text (a
 * compiled-query cache hit); then queries/s of the compiled mix (ids varying) on 2 threads.
 * Usage: query_bench DATA_DIR [seconds per question, default 2]. Prints figures; never fails on
 * time. */
#include "core/ids.h"
#include "query/query_cache.h"
#include "query/query_sql.h"
#include "store/store_arm.h"
#include "store/store_directory.h"
#include "store/store_models.h"
#include "store/store_query.h"
#include "store/store_twins.h"
#include "../tests/unit/test_query_seed.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUILDINGS 20
#define LEVELS 10
#define ROOMS 50
#define SENSORS 19
#define REC "dtmi:digitaltwins:rec_3_3:"

static store_t *g_store;
static query_cache_t g_cache = QUERY_CACHE_INIT;
static char g_inst[STORE_ID_MAX];
static const char *g_key = "bench";

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what, const castor_err *err)
{
    fprintf(stderr, "query_bench: %s: %s\n", what, err ? err->message : "");
    exit(1);
}

static int inst_row(const store_qrow_t *row, void *ctx)
{
    snprintf(ctx, STORE_ID_MAX, "%s", store_qrow_text(row, 0, NULL));
    return 1;
}

static void generate(void)
{
    castor_err err;
    store_txn_t *t;
    if (store_begin(g_store, STORE_WRITE, &t, &err) < 0) die("begin", &err);
    if (test_query_seed(t, g_key, g_inst, &err) < 0) die("seeding the instance", &err);
    static const char *const models[][2] = {{REC "core:Space;1", NULL},
                                            {REC "core:Building;1", REC "core:Space;1"},
                                            {REC "core:Level;1", REC "core:Space;1"},
                                            {REC "core:Room;1", REC "core:Space;1"},
                                            {REC "building:Office;1", REC "core:Room;1"},
                                            {REC "core:Capability;1", NULL},
                                            {REC "core:Sensor;1", REC "core:Capability;1"},
                                            {REC "device:TemperatureSensor;1", REC "core:Sensor;1"},
                                            {REC "device:HumiditySensor;1", REC "core:Sensor;1"}};
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        store_model_t m = {
            .id = models[i][0], .model = "{}", .upload_time = "2024-01-01T00:00:00.0000000Z"};
        if (store_model_insert(t, g_key, &m, &err) < 0) die("model", &err);
        if (models[i][1] &&
            store_model_ref_insert(t, g_key, models[i][0], models[i][1], "extends", &err) < 0)
            die("model ref", &err);
    }
    char id[64], src[64], doc[512], rid[96];
    unsigned seed = 7;
    long n = 0;
#define PUT(ID, MODEL, FMT, ...)                                                                   \
    do {                                                                                           \
        snprintf(                                                                                  \
            doc, sizeof doc,                                                                       \
            "{\"$dtId\":\"%s\",\"$etag\":\"W/\\\"e\\\"\",\"$metadata\":{\"$model\":\"%s\"}" FMT    \
            "}",                                                                                   \
            ID, MODEL, __VA_ARGS__);                                                               \
        store_twin_t tw = {.id = ID, .model_id = MODEL, .etag = "W/\"e\"", .doc = doc};            \
        if (store_twin_put(t, g_inst, &tw, &err) < 0) die("twin", &err);                           \
        n++;                                                                                       \
    } while (0)
#define REL(SRC, NAME, TGT)                                                                        \
    do {                                                                                           \
        snprintf(rid, sizeof rid, "%s-%s", NAME, TGT);                                             \
        store_rel_t r = {.source_id = SRC,                                                         \
                         .id = rid,                                                                \
                         .target_id = TGT,                                                         \
                         .name = NAME,                                                             \
                         .etag = "W/\"e\"",                                                        \
                         .doc = "{}"};                                                             \
        if (store_rel_put(t, g_inst, &r, &err) < 0) die("relationship", &err);                     \
    } while (0)
    for (int b = 1; b <= BUILDINGS; b++) {
        char bid[16];
        snprintf(bid, sizeof bid, "B%d", b);
        PUT(bid, REC "core:Building;1", ",\"name\":\"Building %d\"", b);
        for (int l = 0; l < LEVELS; l++) {
            char lid[24];
            snprintf(lid, sizeof lid, "%s-L%d", bid, l);
            PUT(lid, REC "core:Level;1", ",\"name\":\"Level %d\",\"levelNumber\":%d", l, l);
            REL(bid, "hasPart", lid);
            for (int r = 0; r < ROOMS; r++) {
                snprintf(id, sizeof id, "%s-R%d", lid, r);
                PUT(id, r % 3 ? REC "core:Room;1" : REC "building:Office;1",
                    ",\"name\":\"Room %d\",\"personCapacity\":%d", r, (int)(rand_r(&seed) % 30));
                REL(lid, "hasPart", id);
                snprintf(src, sizeof src, "%s", id);
                for (int s = 0; s < SENSORS; s++) {
                    char sid[80];
                    snprintf(sid, sizeof sid, "%s-S%d", src, s);
                    PUT(sid,
                        s % 2 ? REC "device:TemperatureSensor;1" : REC "device:HumiditySensor;1",
                        ",\"name\":\"Sensor %d\",\"lastValue\":%.1f", s,
                        15 + (rand_r(&seed) % 150) / 10.0);
                    REL(src, "hasCapability", sid);
                }
            }
            if (store_commit(t, &err) < 0) die("commit", &err);
            if (store_begin(g_store, STORE_WRITE, &t, &err) < 0) die("begin", &err);
        }
    }
    if (store_meta_put(t, "bench.instance", g_inst, &err) < 0) die("meta", &err);
    if (store_commit(t, &err) < 0) die("commit", &err);
    printf("query: generated %ld twins\n", n);
}

typedef struct question {
    const char *name;
    const char *adt;  /* printf: %s the varying id */
    const char *hand; /* ?1 instance, ?2 the varying id, ?3 limit */
    int id_kind;      /* 0 building, 1 room, 2 sensor, 3 none */
} question_t;

static const question_t MIX[] = {
    {"point $dtId", "SELECT * FROM DIGITALTWINS T WHERE T.$dtId = '%s'",
     "SELECT rowid, doc FROM twins WHERE instance_id = ?1 AND id = ?2", 2},
    {"IS_OF_MODEL + filter",
     "SELECT T.$dtId, T.personCapacity FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '" REC
     "core:Room;1') AND T.personCapacity > 25 AND STARTSWITH(T.$dtId, '%s-')",
     "SELECT rowid, json_quote(id), doc -> '$.personCapacity' FROM twins WHERE instance_id = ?1 "
     "AND "
     "model_id IN ('" REC "core:Room;1', '" REC
     "building:Office;1') AND id >= ?2 || '-' AND id < ?2 || '.' "
     "AND json_extract(doc, '$.personCapacity') > 25 ORDER BY rowid LIMIT ?3",
     0},
    {"1-hop JOIN",
     "SELECT S FROM DIGITALTWINS R JOIN S RELATED R.hasCapability WHERE R.$dtId = '%s'",
     "SELECT r.rowid, s.doc FROM twins t JOIN relationships r ON r.instance_id = ?1 AND "
     "r.source_id = "
     "t.id AND r.name = 'hasCapability' JOIN twins s ON s.instance_id = ?1 AND s.id = r.target_id "
     "WHERE t.instance_id = ?1 AND t.id = ?2 ORDER BY t.rowid, r.rowid LIMIT ?3",
     1},
    /* A sensor's building: three hops up from the pinned sensor. CROSS JOIN fixes the order
     * (the pinned end first): without statistics SQLite otherwise starts from every edge. */
    {"3-hop MATCH", "SELECT B.$dtId FROM DIGITALTWINS MATCH (B)-[*3]->(S) WHERE S.$dtId = '%s'",
     "SELECT DISTINCT b.rowid, json_quote(b.id) FROM relationships c CROSS JOIN relationships r2 "
     "ON "
     "r2.instance_id = ?1 AND r2.target_id = c.source_id CROSS JOIN relationships a ON "
     "a.instance_id = ?1 "
     "AND a.target_id = r2.source_id CROSS JOIN twins b ON b.instance_id = ?1 AND b.id = "
     "a.source_id WHERE "
     "c.instance_id = ?1 AND c.target_id = ?2 ORDER BY b.rowid LIMIT ?3",
     2},
    {"COUNT",
     "SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('" REC "device:TemperatureSensor;1')",
     "SELECT COUNT(*) FROM twins WHERE instance_id = ?1 AND model_id = '" REC
     "device:TemperatureSensor;1'",
     3},
    /* Not in the mix: one text over and over (a dashboard's poll, every page of a query), so
     * castor's path is a compiled-query cache hit; the lines above vary the id, so they miss. */
    {"point, repeated text", "SELECT * FROM DIGITALTWINS T WHERE T.$dtId = '%s'",
     "SELECT rowid, doc FROM twins WHERE instance_id = ?1 AND id = ?2", 4},
};
#define NQ (sizeof MIX / sizeof MIX[0])
#define NMIX (NQ - 1)

static void pick_id(int kind, unsigned *seed, char *out, size_t n)
{
    int b = 1 + (int)(rand_r(seed) % BUILDINGS), l = (int)(rand_r(seed) % LEVELS),
        r = (int)(rand_r(seed) % ROOMS), s = (int)(rand_r(seed) % SENSORS);
    if (kind == 4)
        snprintf(out, n, "B7-L3-R21-S5");
    else if (kind == 0)
        snprintf(out, n, "B%d", b);
    else if (kind == 1)
        snprintf(out, n, "B%d-L%d-R%d", b, l, r);
    else
        snprintf(out, n, "B%d-L%d-R%d-S%d", b, l, r, s);
}

static int read_row(const store_qrow_t *row, void *ctx)
{
    size_t *bytes = ctx, n;
    for (int i = 0; i < store_qrow_columns(row); i++) {
        store_qrow_text(row, i, &n);
        *bytes += n;
    }
    return 0;
}

static void run_compiled(const question_t *q, const char *id)
{
    arena_t a;
    arena_init(&a, 8u << 20);
    castor_err err;
    char text[1024];
    snprintf(text, sizeof text, q->adt, id);
    query_compiled_t qc;
    if (query_cache_compile(&g_cache, &a, text, strlen(text), &query_dialect_sqlite, false, &qc,
                            &err) < 0)
        die(text, &err);
    query_sql_in_t in = {.instance = g_inst, .instance_key = g_key, .limit = 101};
    query_sql_t qs = qc.sql;
    if (query_sql_bind(&qs, &in, &err) < 0) die(text, &err);
    store_qparam_t p[64];
    for (size_t i = 0; i < qs.nparams && i < 64; i++) {
        const query_param_t *x = &qs.params[i];
        p[i] = (store_qparam_t){.type = x->kind == QUERY_PARAM_INT      ? SQ_INT
                                        : x->kind == QUERY_PARAM_DOUBLE ? SQ_REAL
                                        : x->kind == QUERY_PARAM_TEXT   ? SQ_TEXT
                                                                        : SQ_NULL,
                                .i = x->i,
                                .d = x->d,
                                .s = x->s};
    }
    store_txn_t *t;
    size_t bytes = 0;
    if (store_begin(g_store, STORE_READ, &t, &err) < 0) die("begin", &err);
    if (store_query_run(t, qs.sql, p, (int)qs.nparams, 0, read_row, &bytes, NULL, &err) < 0)
        die(text, &err);
    store_rollback(t);
    arena_free(&a);
}

static void run_hand(const question_t *q, const char *id)
{
    castor_err err;
    store_qparam_t p[] = {
        {.type = SQ_TEXT, .s = g_inst}, {.type = SQ_TEXT, .s = id}, {.type = SQ_INT, .i = 101}};
    int np = strstr(q->hand, "?3") ? 3 : strstr(q->hand, "?2") ? 2 : 1;
    store_txn_t *t;
    size_t bytes = 0;
    if (store_begin(g_store, STORE_READ, &t, &err) < 0) die("begin", &err);
    if (store_query_run(t, q->hand, p, np, 0, read_row, &bytes, NULL, &err) < 0) die(q->hand, &err);
    store_rollback(t);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp_d);
    return v[(size_t)(p * (double)(n - 1))];
}

typedef struct worker {
    double until;
    long done;
    unsigned seed;
} worker_t;

static void *mix_worker(void *arg)
{
    worker_t *w = arg;
    char id[80];
    while (now_us() < w->until) {
        for (size_t i = 0; i < NMIX; i++) {
            pick_id(MIX[i].id_kind, &w->seed, id, sizeof id);
            run_compiled(&MIX[i], id);
            w->done++;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: query_bench DATA_DIR [seconds]\n");
        return 2;
    }
    double secs = argc > 2 ? atof(argv[2]) : 2.0;
    ids_init();
    char url[1200];
    snprintf(url, sizeof url, "sqlite:%s/query_bench.db", argv[1]);
    castor_err err;
    if (store_open(url, 4, &g_store, &err) < 0) die("opening the store", &err);
    store_txn_t *t;
    char *inst = NULL;
    if (store_begin(g_store, STORE_READ, &t, &err) < 0) die("begin", &err);
    int have = store_meta_get(t, "bench.instance", &inst, &err) == 0;
    store_rollback(t);
    double t0 = now_us();
    if (have) {
        snprintf(g_inst, sizeof g_inst, "%s", inst);
        free(inst);
    } else {
        generate();
        printf("query: graph made in %.1f s (cached in %s/query_bench.db)\n", (now_us() - t0) / 1e6,
               argv[1]);
    }
    (void)inst_row;
    printf("query: %-22s %10s %10s %10s %10s %8s\n", "question", "castor p50", "p99", "hand p50",
           "p99", "ratio");
    for (size_t i = 0; i < NQ; i++) {
        const question_t *q = &MIX[i];
        size_t cap = 200000, n = 0;
        double *a = malloc(cap * sizeof *a), *b = malloc(cap * sizeof *b);
        unsigned seed = 42;
        char id[80];
        double until = now_us() + secs * 1e6;
        while (now_us() < until && n < cap) {
            pick_id(q->id_kind, &seed, id, sizeof id);
            /* Alternate which side runs first: the second reads the pages the first warmed. */
            double s = now_us();
            if (n % 2)
                run_hand(q, id);
            else
                run_compiled(q, id);
            double m = now_us();
            if (n % 2)
                run_compiled(q, id);
            else
                run_hand(q, id);
            double e = now_us();
            a[n] = n % 2 ? e - m : m - s;
            b[n] = n % 2 ? m - s : e - m;
            n++;
        }
        double ap50 = pct(a, n, 0.5), ap99 = pct(a, n, 0.99), bp50 = pct(b, n, 0.5),
               bp99 = pct(b, n, 0.99);
        printf("query: %-22s %8.0fus %8.0fus %8.0fus %8.0fus %7.2fx  (%zu runs)\n", q->name, ap50,
               ap99, bp50, bp99, ap50 / bp50, n);
        free(a);
        free(b);
    }
    worker_t w[2] = {{.seed = 1}, {.seed = 2}};
    pthread_t th[2];
    double start = now_us();
    for (int i = 0; i < 2; i++) {
        w[i].until = start + secs * 1e6;
        pthread_create(&th[i], NULL, mix_worker, &w[i]);
    }
    long total = 0;
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        total += w[i].done;
    }
    double qps = total / ((now_us() - start) / 1e6);
    printf(
        "query: compiled mix on 2 threads: %.0f queries/s (ADT allows 500/s per instance: %.1fx)\n",
        qps, qps / 500.0);
    store_close(g_store);
    return 0;
}
