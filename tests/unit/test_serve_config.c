/* test_serve_config.c — `castor serve` flags and CASTOR_* variables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "serve/config.h"

static void clear_env(void)
{
    const char *vars[] = {"CASTOR_DATA",      "CASTOR_LISTEN",       "CASTOR_PUBLIC_URL",
                          "CASTOR_LOG_LEVEL", "CASTOR_TLS_CERT",     "CASTOR_TLS_KEY",
                          "CASTOR_THREADS",   "CASTOR_IDLE_TIMEOUT", "CASTOR_TOKEN_REUSE",
                          "CASTOR_STORE",     "CASTOR_EVENT_NICE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
}

static void defaults(void **state)
{
    (void)state;
    clear_env();
    serve_config_t c;
    castor_err err;
    char *argv[] = {"serve"};
    assert_int_equal(serve_config_parse(1, argv, &c, &err), 0);
    assert_string_equal(c.data_dir, "./castor-data");
    assert_string_equal(c.listen, "127.0.0.1:8443");
    assert_string_equal(c.public_url, "");
    assert_string_equal(c.store, ""); /* SQLite in the data folder */
    assert_int_equal(c.log_level, LOG_INFO);
    assert_int_equal(c.event_nice, 10); /* writes first when every core is busy */
    serve_config_finish(&c, 8443);
    assert_string_equal(c.public_url, "https://localhost:8443");
    char host[64];
    assert_int_equal(serve_config_public_host(&c, host, sizeof host, &err), 0);
    assert_string_equal(host, "localhost");
}

static void flags_win_over_environment(void **state)
{
    (void)state;
    clear_env();
    setenv("CASTOR_DATA", "/env/data", 1);
    setenv("CASTOR_LISTEN", "0.0.0.0:9000", 1);
    setenv("CASTOR_LOG_LEVEL", "debug", 1);
    serve_config_t c;
    castor_err err;
    char *argv[] = {"serve",     "--data", "/flag/data", "--public-url=https://Twins.Example:9443/",
                    "--threads", "3"};
    assert_int_equal(serve_config_parse(6, argv, &c, &err), 0);
    assert_string_equal(c.data_dir, "/flag/data");
    assert_string_equal(c.listen, "0.0.0.0:9000");
    assert_int_equal(c.log_level, LOG_DEBUG);
    assert_int_equal(c.threads, 3);
    assert_int_equal(c.token_reuse_s, 0);                            /* default: fresh tokens */
    assert_string_equal(c.public_url, "https://Twins.Example:9443"); /* trailing / dropped */
    char host[64];
    assert_int_equal(serve_config_public_host(&c, host, sizeof host, &err), 0);
    assert_string_equal(host, "twins.example");
    setenv("CASTOR_TOKEN_REUSE", "300", 1);
    char *argv2[] = {"serve"};
    assert_int_equal(serve_config_parse(1, argv2, &c, &err), 0);
    assert_int_equal(c.token_reuse_s, 300);
    char *argv3[] = {"serve", "--token-reuse", "0"}; /* the flag wins, and 0 is a value */
    assert_int_equal(serve_config_parse(3, argv3, &c, &err), 0);
    assert_int_equal(c.token_reuse_s, 0);
    setenv("CASTOR_STORE", "postgres://castor@db:5432/castor", 1);
    assert_int_equal(serve_config_parse(1, argv2, &c, &err), 0);
    assert_string_equal(c.store, "postgres://castor@db:5432/castor");
    char *argv4[] = {"serve", "--store", "sqlite"}; /* back to the default */
    assert_int_equal(serve_config_parse(3, argv4, &c, &err), 0);
    assert_string_equal(c.store, "");
    setenv("CASTOR_EVENT_NICE", "5", 1);
    assert_int_equal(serve_config_parse(1, argv2, &c, &err), 0);
    assert_int_equal(c.event_nice, 5);
    char *argv5[] = {"serve", "--event-nice", "0"}; /* 0: delivery at the writers' priority */
    assert_int_equal(serve_config_parse(3, argv5, &c, &err), 0);
    assert_int_equal(c.event_nice, 0);
    clear_env();
}

static void bad_input_is_named(void **state)
{
    (void)state;
    clear_env();
    static const struct {
        int argc;
        char *argv[4];
        const char *msg;
    } rows[] = {
        {2, {"serve", "--nope"}, "unknown option '--nope'"},
        {2, {"serve", "--data"}, "--data needs a value"},
        {3, {"serve", "--log-level", "loud"}, "use debug, info, warn or error"},
        {3, {"serve", "--threads", "0"}, "from 1 to 256"},
        {3, {"serve", "--threads", "2x"}, "from 1 to 256"},
        {3, {"serve", "--public-url", "http://x"}, "must be an https:// URL"},
        {3, {"serve", "--tls-cert", "a.pem"}, "go together"},
        {3, {"serve", "--idle-timeout", "0"}, "from 1 to 3600"},
        {3, {"serve", "--token-reuse", "3001"}, "from 0 (off) to 3000"},
        {3, {"serve", "--token-reuse", "-1"}, "from 0 (off) to 3000"},
        {3, {"serve", "--store", "mysql://x"}, "use sqlite, sqlite:PATH or postgres://"},
        {3, {"serve", "--event-nice", "20"}, "from 0 to 19"},
        {3, {"serve", "--event-nice", "-1"}, "from 0 to 19"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        serve_config_t c;
        castor_err err;
        if (serve_config_parse(rows[i].argc, (char **)rows[i].argv, &c, &err) != CASTOR_EINVAL ||
            !strstr(err.message, rows[i].msg))
            fail_msg("row %zu: got '%s'", i, err.message);
    }
    setenv("CASTOR_THREADS", "lots", 1);
    serve_config_t c;
    castor_err err;
    char *argv[] = {"serve"};
    assert_int_equal(serve_config_parse(1, argv, &c, &err), CASTOR_EINVAL);
    assert_non_null(strstr(err.message, "CASTOR_THREADS"));
    clear_env();
}

static void json_bodies_are_bounded(void **state)
{
    (void)state;
    castor_err err;
    const char *doc = "{\"a\":[1,2,{\"b\":\"[[[\"}]}";
    json_t *v = json_parse_body(doc, strlen(doc), 3, &err);
    assert_non_null(v); /* brackets inside strings do not count */
    json_decref(v);
    assert_null(json_parse_body("[[[[1]]]]", 9, 3, &err));
    assert_non_null(strstr(err.message, "deeper than 3 levels"));
    assert_null(json_parse_body("{\"a\": tru}", 10, 8, &err));
    assert_non_null(strstr(err.message, "line 1, column"));
    assert_int_equal(err.status, 400);
    assert_null(json_parse_body("", 0, 8, &err));
    assert_non_null(strstr(err.message, "empty"));
    size_t at = 0;
    assert_int_equal(json_nesting_depth("[{}]", 4, 8, &at), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(flags_win_over_environment),
        cmocka_unit_test(bad_input_is_named),
        cmocka_unit_test(json_bodies_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
