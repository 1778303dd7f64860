/* dtdl_bench.c — parse and validate RealEstateCore (all interfaces as one set, as one upload
 * would) with castor's DTDL parser, in process; prints the median of several runs.
 *   dtdl_bench FOLDER [RUNS] */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/timeutil.h"
#include "dtdl/dtdl.h"

static void load(const char *dir, json_t *all)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) < 0) continue;
        if (S_ISDIR(st.st_mode)) {
            load(p, all);
            continue;
        }
        size_t n = strlen(p);
        if (n < 5 || strcmp(p + n - 5, ".json") != 0) continue;
        FILE *f = fopen(p, "rb");
        if (!f) continue;
        int a = fgetc(f), b = fgetc(f), c = fgetc(f);
        if (!(a == 0xEF && b == 0xBB && c == 0xBF)) rewind(f); /* byte-order mark */
        json_t *doc = json_loadf(f, 0, NULL);
        fclose(f);
        if (doc) json_array_append_new(all, doc);
    }
    closedir(d);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: dtdl_bench FOLDER [RUNS]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 15;
    json_t *all = json_array();
    load(argv[1], all);
    double ms[256];
    if (runs > 256) runs = 256;
    for (int i = 0; i < runs; i++) {
        uint64_t t0 = time_mono_us();
        dtdl_graph_t *g = NULL;
        castor_err err;
        int rc = dtdl_parse_batch(all, NULL, NULL, NULL, &g, NULL, &err);
        ms[i] = (double)(time_mono_us() - t0) / 1000.0;
        if (rc < 0) {
            fprintf(stderr, "castor rejected the set: %s\n", err.message);
            return 1;
        }
        dtdl_graph_free(g);
    }
    qsort(ms, (size_t)runs, sizeof ms[0], cmp);
    printf("%zu %.3f\n", json_array_size(all), ms[runs / 2]);
    json_decref(all);
    return 0;
}
