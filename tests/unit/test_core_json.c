/* test_core_json.c — json_dump_compact writes exactly what json_dumps(JSON_COMPACT) writes:
 * fixed cases for each kind of value and escape, then thousands of random documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

static void same_as_jansson(const json_t *v)
{
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    char *got = json_dump_compact(v);
    assert_non_null(want);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(want);
    free(got);
}

static void fixed_cases(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "{}",
        "[]",
        "null",
        "true",
        "false",
        "0",
        "-1",
        "9223372036854775807",
        "-9223372036854775808",
        "0.5",
        "1.0",
        "-0.0",
        "1e300",
        "1.5e-300",
        "0.1",
        "123456789.125",
        "\"\"",
        "\"plain\"",
        "\"quote\\\" back\\\\ slash/\"",
        "\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\"",
        "\"\\u00e9\\u4e2d\\ud83d\\ude00\"",
        "{\"a\":1,\"b\":[1,2,{\"c\":null}],\"\":\"empty key\"}",
        "{\"$dtId\":\"t1\",\"$metadata\":{\"$model\":\"dtmi:x;1\",\"p\":{\"lastUpdateTime\":\"t\"}}"
        "}",
        "[[[[[]]]],{},[{}]]",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        json_error_t e;
        json_t *v = json_loads(texts[i], JSON_DECODE_ANY, &e);
        assert_non_null(v);
        same_as_jansson(v);
        json_decref(v);
    }
    /* Reals at the edges of %.17g, and a key with an escape in it. */
    double reals[] = {DBL_MAX, DBL_MIN, DBL_EPSILON, 1e21, 1e-7, 100.0, 3.141592653589793, -2.5e15};
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        json_t *v = json_real(reals[i]);
        same_as_jansson(v);
        json_decref(v);
    }
    json_t *o = json_object();
    json_object_set_new(o, "tab\there \"q\"", json_string("v"));
    same_as_jansson(o);
    json_decref(o);
}

static json_t *random_value(unsigned *seed, int depth)
{
    int kind = rand_r(seed) % (depth > 4 ? 6 : 8);
    switch (kind) {
    case 0:
        return json_null();
    case 1:
        return json_boolean(rand_r(seed) & 1);
    case 2:
        return json_integer((json_int_t)rand_r(seed) * (rand_r(seed) & 1 ? -1 : 1) * rand_r(seed));
    case 3: {
        double d = (double)rand_r(seed) / (1.0 + rand_r(seed)) * pow(10, rand_r(seed) % 40 - 20);
        return json_real(rand_r(seed) & 1 ? d : -d);
    }
    case 4:
    case 5: {
        char s[24];
        size_t n = (size_t)(rand_r(seed) % 20);
        for (size_t i = 0; i < n; i++) {
            int c = rand_r(seed) % 100;
            s[i] = c < 10   ? (char)(1 + rand_r(seed) % 31)
                   : c < 15 ? '"'
                   : c < 20 ? '\\'
                   : c < 22 ? '/'
                            : (char)('a' + c % 26);
        }
        return json_stringn(s, n);
    }
    case 6: {
        json_t *a = json_array();
        int n = rand_r(seed) % 5;
        for (int i = 0; i < n; i++)
            json_array_append_new(a, random_value(seed, depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        int n = rand_r(seed) % 6;
        for (int i = 0; i < n; i++) {
            char key[16];
            snprintf(key, sizeof key, "%c%d", rand_r(seed) % 2 ? '$' : 'k', rand_r(seed) % 50);
            json_object_set_new(o, key, random_value(seed, depth + 1));
        }
        return o;
    }
    }
}

static void random_documents(void **state)
{
    (void)state;
    unsigned seed = 20261126;
    for (int i = 0; i < 5000; i++) {
        json_t *v = random_value(&seed, 0);
        same_as_jansson(v);
        json_decref(v);
    }
}

/* json_read accepts what json_loadb(JSON_DECODE_ANY) accepts and builds the same value. */
static void same_parse(const char *text, size_t len)
{
    json_error_t e;
    json_t *want = json_loadb(text, len, JSON_DECODE_ANY, &e);
    json_t *got = json_read(text, len);
    if (!want || !got) {
        if (!!want != !!got) fprintf(stderr, "differs on: %.*s\n", (int)len, text);
        assert_int_equal(!!want, !!got);
    } else {
        char *a = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
        char *b = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
        assert_string_equal(b, a);
        free(a);
        free(b);
    }
    json_decref(want);
    json_decref(got);
}

static void read_fixed_cases(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "",
        " ",
        "{}",
        " [ ] ",
        "null",
        "nul",
        "nulll",
        "true",
        "tru",
        "false",
        "0",
        "-0",
        "-",
        "01",
        "1.",
        ".5",
        "1.5e",
        "1e5",
        "1E+5",
        "1e-5",
        "-1.25e-3",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "1e400",
        "-1e400",
        "1e-400",
        "\"\"",
        "\"a\\u0000b\"",
        "\"\\u00e9\"",
        "\"\\ud83d\\ude00\"",
        "\"\\ud83d\"",
        "\"\\ude00\"",
        "\"\\ud83dx\"",
        "\"\\x\"",
        "\"\\u12\"",
        "\"tab\there\"",
        "\"\x01\"",
        "\"\xc3\xa9\"",
        "\"\xc3\"",
        "\"\xe0\x80\x80\"",
        "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"",
        "\"\xff\"",
        "{\"a\":1,\"a\":2}",
        "{\"a\":1,\"b\":2,\"a\":3}",
        "{\"a\" 1}",
        "{\"a\":1,}",
        "[1,]",
        "[1 2]",
        "{1:2}",
        "[1]x",
        "[1] ",
        "\"unterminated",
        "{\"k\\\"q\":[true,false,null]}",
        "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]",
        "{\"\":\"\"}",
        "\"/\\/\"",
        "1 2",
        "\t\n\r 7 \t",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        same_parse(texts[i], strlen(texts[i]));
    /* A NUL byte inside the buffer, and nesting past jansson's 2048 levels. */
    same_parse("[1]\0", 4);
    same_parse("2\0", 2);
    same_parse("2\0\0", 3);
    same_parse("[true\0]", 7);
    same_parse("{\"a\":-2.5e1\0}", 12);
    same_parse("\"s\"\0", 4);
    same_parse("\"a\0b\"", 5);
    char deep[4200];
    memset(deep, '[', 2100);
    memset(deep + 2100, ']', 2100);
    same_parse(deep, 4200);
    same_parse(deep + 60, 4080);
}

/* Valid documents from the random generator, written in several styles, then mutated: each
 * text and each mutant must get the same answer from both parsers. */
static void read_random_documents(void **state)
{
    (void)state;
    unsigned seed = 424242;
    static const char alphabet[] = "{}[],:\"\\ u0123456789abcdefeE+-.tnrl\x01\x7f\xc3\xa9\xed\xf0";
    for (int i = 0; i < 3000; i++) {
        json_t *v = random_value(&seed, 0);
        size_t flags = (size_t)(rand_r(&seed) % 3 == 0 ? JSON_INDENT(2) : JSON_COMPACT) |
                       (rand_r(&seed) % 2 ? JSON_ENSURE_ASCII : 0) | JSON_ENCODE_ANY;
        char *text = json_dumps(v, flags);
        json_decref(v);
        assert_non_null(text);
        size_t len = strlen(text);
        same_parse(text, len);
        for (int m = 0; m < 4; m++) {
            char mut[4096];
            if (len + 2 > sizeof mut) break;
            memcpy(mut, text, len);
            size_t n = len, at = len ? (size_t)rand_r(&seed) % len : 0;
            char c = alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
            switch (rand_r(&seed) % 3) {
            case 0:
                if (n) mut[at] = c;
                break;
            case 1:
                memmove(mut + at + 1, mut + at, n - at);
                mut[at] = c;
                n++;
                break;
            default:
                if (n) {
                    memmove(mut + at, mut + at + 1, n - at - 1);
                    n--;
                }
                break;
            }
            same_parse(mut, n);
        }
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixed_cases),
        cmocka_unit_test(random_documents),
        cmocka_unit_test(read_fixed_cases),
        cmocka_unit_test(read_random_documents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
