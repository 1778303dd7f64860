/* test_cli_output.c — json, table and tsv rendering of command results, as az prints them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static char *render(const char *json, cli_output_t fmt, const char *columns)
{
    json_error_t jerr;
    json_t *v = json_loads(json, JSON_DECODE_ANY, &jerr);
    assert_non_null(v);
    char *buf = NULL;
    size_t n;
    FILE *f = open_memstream(&buf, &n);
    cli_format(f, v, fmt, columns);
    fclose(f);
    json_decref(v);
    return buf;
}

static void json_is_pretty_and_sorted(void **state)
{
    (void)state;
    char *s = render("{\"b\":1,\"a\":{\"y\":true,\"x\":null}}", CLI_OUT_JSON, NULL);
    assert_string_equal(s,
                        "{\n  \"a\": {\n    \"x\": null,\n    \"y\": true\n  },\n  \"b\": 1\n}\n");
    free(s);
    s = render("\"just a string\"", CLI_OUT_JSON, NULL);
    assert_string_equal(s, "\"just a string\"\n");
    free(s);
}

static void table_of_objects_uses_scalar_fields(void **state)
{
    (void)state;
    char *s = render("[{\"displayName\":\"app-one\",\"appId\":\"1\",\"tags\":[],\"ok\":true},"
                     "{\"displayName\":\"b\",\"appId\":\"22\",\"tags\":[\"x\"],\"ok\":false}]",
                     CLI_OUT_TABLE, NULL);
    assert_string_equal(s, "DisplayName  AppId  Ok\n"
                           "-----------  -----  -----\n"
                           "app-one      1      True\n"
                           "b            22     False\n");
    free(s);
}

static void table_columns_from_the_command(void **state)
{
    (void)state;
    char *s = render("{\"id\":\"abc\",\"name\":\"n\",\"secret\":\"s\",\"missing\":null}",
                     CLI_OUT_TABLE, "name,id,absent");
    assert_string_equal(s, "Name  Id   Absent\n"
                           "----  ---  ------\n"
                           "n     abc  \n");
    free(s);
}

static void table_of_scalars(void **state)
{
    (void)state;
    char *s = render("[\"a\",\"bb\"]", CLI_OUT_TABLE, NULL);
    assert_string_equal(s, "Result\n------\na\nbb\n");
    free(s);
}

static void tsv_rows_and_scalars(void **state)
{
    (void)state;
    char *s = render("[{\"a\":\"x\",\"n\":3,\"o\":{},\"t\":\"tab\\there\"},{\"a\":\"y\",\"n\":null,"
                     "\"b\":false}]",
                     CLI_OUT_TSV, NULL);
    assert_string_equal(s, "x\t3\ttab here\ny\t\tFalse\n");
    free(s);
    s = render("\"token-value\"", CLI_OUT_TSV, NULL);
    assert_string_equal(s, "token-value\n");
    free(s);
    s = render("{\"accessToken\":\"abc\",\"expires_on\":5}", CLI_OUT_TSV, NULL);
    assert_string_equal(s, "abc\t5\n");
    free(s);
    /* A long value (a token) is never cut. */
    char json[3000] = "[\"";
    memset(json + 2, 'x', 2000);
    strcpy(json + 2002, "\"]");
    s = render(json, CLI_OUT_TSV, NULL);
    assert_int_equal(strlen(s), 2001);
    free(s);
}

static void none_prints_nothing_and_names_parse(void **state)
{
    (void)state;
    char *s = render("{\"a\":1}", CLI_OUT_NONE, NULL);
    assert_string_equal(s, "");
    free(s);
    assert_int_equal(cli_output_parse("json"), CLI_OUT_JSON);
    assert_int_equal(cli_output_parse("jsonc"), CLI_OUT_JSONC);
    assert_int_equal(cli_output_parse("table"), CLI_OUT_TABLE);
    assert_int_equal(cli_output_parse("tsv"), CLI_OUT_TSV);
    assert_int_equal(cli_output_parse("none"), CLI_OUT_NONE);
    assert_int_equal(cli_output_parse("yaml"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_is_pretty_and_sorted),
        cmocka_unit_test(table_of_objects_uses_scalar_fields),
        cmocka_unit_test(table_columns_from_the_command),
        cmocka_unit_test(table_of_scalars),
        cmocka_unit_test(tsv_rows_and_scalars),
        cmocka_unit_test(none_prints_nothing_and_names_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
