/* test_cli_config.c — where the client finds the server (flags, environment,
 * ~/.castor/config.json, ./castor-data/connection.json) and the 0600 files it keeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli_internal.h"
#include "test_util.h"

static json_t *config_json(void)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "server", "https://cfg:1", "caFile", "/cfg/ca.pem",
                     "tenantId", "cfg-tenant", "subscriptionId", "cfg-sub");
}

static json_t *connection_json(const char *authority)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "authority", authority, "caFile",
                     "/conn/ca.pem", "tenantId", "conn-tenant", "subscriptionId", "conn-sub",
                     "graph", "https://graph-host:9/", "resourceManager", "https://arm-host:9/");
}

static void flags_beat_everything(void **state)
{
    (void)state;
    json_t *cfg = config_json(), *conn = connection_json("https://conn:2");
    cli_server_sources_t src = {
        "https://flag:3/", "/flag/ca.pem", "https://env:4", "/env/ca.pem", cfg, conn};
    cli_server_t s;
    castor_err err;
    assert_int_equal(cli_server_resolve(&src, &s, &err), 0);
    assert_string_equal(s.url, "https://flag:3"); /* trailing slash dropped */
    assert_string_equal(s.url_from, "--server");
    assert_string_equal(s.ca_file, "/flag/ca.pem");
    /* No lower source describes https://flag:3, so nothing else is borrowed. */
    assert_string_equal(s.tenant, "");
    assert_string_equal(s.graph, "https://flag:3/");
    assert_string_equal(s.arm, "https://flag:3/");
    json_decref(cfg);
    json_decref(conn);
}

static void environment_beats_files(void **state)
{
    (void)state;
    json_t *cfg = config_json(), *conn = connection_json("https://conn:2");
    cli_server_sources_t src = {NULL, NULL, "https://env:4", "/env/ca.pem", cfg, conn};
    cli_server_t s;
    castor_err err;
    assert_int_equal(cli_server_resolve(&src, &s, &err), 0);
    assert_string_equal(s.url, "https://env:4");
    assert_string_equal(s.url_from, "CASTOR_URL");
    assert_string_equal(s.ca_file, "/env/ca.pem");
    /* A CA flag alone overrides the environment's CA. */
    src.flag_ca = "/flag/ca.pem";
    assert_int_equal(cli_server_resolve(&src, &s, &err), 0);
    assert_string_equal(s.ca_file, "/flag/ca.pem");
    json_decref(cfg);
    json_decref(conn);
}

static void config_beats_connection(void **state)
{
    (void)state;
    json_t *cfg = config_json(), *conn = connection_json("https://conn:2");
    cli_server_sources_t src = {NULL, NULL, NULL, NULL, cfg, conn};
    cli_server_t s;
    castor_err err;
    assert_int_equal(cli_server_resolve(&src, &s, &err), 0);
    assert_string_equal(s.url, "https://cfg:1");
    assert_string_equal(s.ca_file, "/cfg/ca.pem");
    assert_string_equal(s.tenant, "cfg-tenant");
    assert_string_equal(s.subscription, "cfg-sub");
    json_decref(cfg);
    json_decref(conn);
}

static void connection_json_last_and_same_server_merges(void **state)
{
    (void)state;
    json_t *conn = connection_json("https://conn:2");
    cli_server_sources_t src = {NULL, NULL, NULL, NULL, NULL, conn};
    cli_server_t s;
    castor_err err;
    assert_int_equal(cli_server_resolve(&src, &s, &err), 0);
    assert_string_equal(s.url, "https://conn:2");
    assert_string_equal(s.url_from, "./castor-data/connection.json");
    assert_string_equal(s.ca_file, "/conn/ca.pem");
    assert_string_equal(s.tenant, "conn-tenant");
    assert_string_equal(s.graph, "https://graph-host:9/");
    assert_string_equal(s.arm, "https://arm-host:9/");
    /* --server naming the same server still takes its CA and tenant from the file. */
    src.flag_url = "https://conn:2/";
    assert_int_equal(cli_server_resolve(&src, &s, &err), 0);
    assert_string_equal(s.ca_file, "/conn/ca.pem");
    assert_string_equal(s.tenant, "conn-tenant");
    json_decref(conn);
}

static void nothing_configured_says_what_to_do(void **state)
{
    (void)state;
    cli_server_sources_t src = {0};
    cli_server_t s;
    castor_err err;
    assert_int_equal(cli_server_resolve(&src, &s, &err), CASTOR_EINVAL);
    assert_non_null(strstr(err.message, "no castor server is configured: pass --server"));
    src.env_url = "localhost:8443";
    assert_int_equal(cli_server_resolve(&src, &s, &err), CASTOR_EINVAL);
    assert_non_null(strstr(err.message, "'localhost:8443' (from CASTOR_URL) is not a URL"));
}

static void files_are_0600_in_a_0700_folder(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    char cfgdir[512], path[600];
    snprintf(cfgdir, sizeof cfgdir, "%s/.castor", dir);
    setenv("CASTOR_CONFIG_DIR", cfgdir, 1);
    castor_err err;
    assert_int_equal(cli_config_path("tokens.json", path, sizeof path, &err), 0);
    json_t *v = json_pack("{s:s}", "refreshToken", "rt");
    assert_int_equal(cli_json_file_write(path, v, &err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(cfgdir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* A file someone loosened is tightened on the next write. */
    chmod(path, 0644);
    assert_int_equal(cli_json_file_write(path, v, &err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    json_t *back = cli_json_file_read(path);
    assert_true(json_equal(back, v));
    json_decref(back);
    json_decref(v);
    /* HOME is the fallback. */
    unsetenv("CASTOR_CONFIG_DIR");
    setenv("HOME", dir, 1);
    char d[600];
    assert_int_equal(cli_config_dir(d, sizeof d, &err), 0);
    assert_string_equal(d, cfgdir);
    unsetenv("HOME");
    assert_int_equal(cli_config_dir(d, sizeof d, &err), CASTOR_EINVAL);
    test_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flags_beat_everything),
        cmocka_unit_test(environment_beats_files),
        cmocka_unit_test(config_beats_connection),
        cmocka_unit_test(connection_json_last_and_same_server_merges),
        cmocka_unit_test(nothing_configured_says_what_to_do),
        cmocka_unit_test(files_are_0600_in_a_0700_folder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
