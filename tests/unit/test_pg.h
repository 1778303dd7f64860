/* test_pg.h — a throwaway PostgreSQL cluster for unit tests (scripts/pg-tmp): started once per
 * test program, a fresh database per fixture, stopped at exit. CASTOR_TEST_PG_CLUSTER=DIR uses
 * a cluster already started with `scripts/pg-tmp start DIR` (and leaves it running). */
#ifndef CASTOR_TEST_PG_H
#define CASTOR_TEST_PG_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* scripts/pg-tmp beside this source tree (__FILE__ is absolute in CMake builds). */
static inline const char *test_pg_script(void)
{
    static char path[4096];
    if (!path[0]) {
        snprintf(path, sizeof path, "%s", __FILE__);
        char *slash = strstr(path, "/tests/unit/");
        if (slash) snprintf(slash, sizeof path - (size_t)(slash - path), "/scripts/pg-tmp");
    }
    return path;
}

static char test_pg_dir[4096];
static char test_pg_parent[4096];
static int test_pg_owned;

static inline void test_pg_stop(void)
{
    if (!test_pg_owned) return;
    char cmd[8400];
    /* A cut command could remove some other folder: run it only whole. */
    if (snprintf(cmd, sizeof cmd, "'%s' stop '%s' >/dev/null 2>&1; rm -rf '%s'", test_pg_script(),
                 test_pg_dir, test_pg_parent) >= (int)sizeof cmd ||
        system(cmd) != 0)
        fprintf(stderr, "could not stop the cluster in %s\n", test_pg_dir);
    test_pg_owned = 0;
}

/* Starts the cluster (once); 0 when it runs, -1 when PostgreSQL is not available. */
static inline int test_pg_start(void)
{
    if (test_pg_dir[0]) return 0;
    const char *given = getenv("CASTOR_TEST_PG_CLUSTER");
    if (given && given[0]) {
        snprintf(test_pg_dir, sizeof test_pg_dir, "%s", given);
        return 0;
    }
    char tmpl[] = "/tmp/castor-pg-unit-XXXXXX";
    if (!mkdtemp(tmpl)) return -1;
    /* As root the cluster runs as castor-test, which must reach its folder inside this one. */
    chmod(tmpl, 0711);
    snprintf(test_pg_parent, sizeof test_pg_parent, "%s", tmpl);
    snprintf(test_pg_dir, sizeof test_pg_dir, "%s/cluster", tmpl);
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "'%s' start '%s' --fast >/dev/null", test_pg_script(), test_pg_dir);
    if (system(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpl);
        test_pg_dir[0] = '\0';
        return -1;
    }
    test_pg_owned = 1;
    atexit(test_pg_stop);
    return 0;
}

/* Creates database name in the cluster and writes its URL into url. */
static inline int test_pg_createdb(const char *name, char *url, size_t size)
{
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "'%s' createdb '%s' '%s'", test_pg_script(), test_pg_dir, name);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    url[0] = '\0';
    if (!fgets(url, (int)size, p)) url[0] = '\0';
    int rc = pclose(p);
    size_t n = strlen(url);
    while (n && (url[n - 1] == '\n' || url[n - 1] == '\r'))
        url[--n] = '\0';
    return rc == 0 && n ? 0 : -1;
}

/* Runs SQL in the cluster's database db with psql (for tests that act behind castor's back). */
static inline int test_pg_psql(const char *db, const char *sql)
{
    char port[32] = "";
    char path[4200];
    snprintf(path, sizeof path, "%s/port", test_pg_dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    if (!fgets(port, sizeof port, f)) port[0] = '\0';
    fclose(f);
    port[strcspn(port, "\n")] = '\0';
    char cmd[8400];
    snprintf(cmd, sizeof cmd,
             "psql -q -h 127.0.0.1 -p %s -U castor -d '%s' -v ON_ERROR_STOP=1 -c \"%s\" "
             ">/dev/null 2>&1",
             port, db, sql);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
