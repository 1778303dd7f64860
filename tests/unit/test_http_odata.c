/* test_http_odata.c — the $filter forms ARM and Graph clients send, parsed by the one shared
 * parser, and the texts it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/limits.h"
#include "http/odata.h"

typedef struct term_row {
    http_filter_kind_t kind;
    const char *name, *arg, *value;
} term_row_t;

static void str_eq(const char *got, const char *want)
{
    if (!want)
        assert_null(got);
    else
        assert_string_equal(got, want);
}

static void accepted_forms(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int n;
        term_row_t t[3];
    } rows[] = {
        {NULL, 0, {{0}}},
        {"", 0, {{0}}},
        {"principalId eq 'abc'", 1, {{HTTP_FILTER_EQ, "principalId", NULL, "abc"}}},
        {"atScope()", 1, {{HTTP_FILTER_CALL, "atScope", NULL, NULL}}},
        {"atScope() and assignedTo('u1')",
         2,
         {{HTTP_FILTER_CALL, "atScope", NULL, NULL}, {HTTP_FILTER_CALL, "assignedTo", NULL, "u1"}}},
        {"roleName eq 'Owner''s'", 1, {{HTTP_FILTER_EQ, "roleName", NULL, "Owner's"}}},
        {"startswith(displayName,'ab c')",
         1,
         {{HTTP_FILTER_CALL, "startswith", "displayName", "ab c"}}},
        {"servicePrincipalNames/any(c:c eq 'http://x')",
         1,
         {{HTTP_FILTER_ANY, "servicePrincipalNames", NULL, "http://x"}}},
        {"  appId eq 'a'  and\tdisplayName eq 'b' ",
         2,
         {{HTTP_FILTER_EQ, "appId", NULL, "a"}, {HTTP_FILTER_EQ, "displayName", NULL, "b"}}},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        arena_t a;
        arena_init(&a, 1 << 16);
        http_filter_t f;
        castor_err err;
        if (http_filter_parse(&a, rows[i].text, &f, &err) != 0)
            fail_msg("'%s' refused: %s", rows[i].text, err.message);
        assert_int_equal(f.n, rows[i].n);
        for (int k = 0; k < f.n; k++) {
            assert_int_equal(f.t[k].kind, rows[i].t[k].kind);
            str_eq(f.t[k].name, rows[i].t[k].name);
            str_eq(f.t[k].arg, rows[i].t[k].arg);
            str_eq(f.t[k].value, rows[i].t[k].value);
        }
        arena_free(&a);
    }
}

static void refused_texts(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "name eq value",        /* unquoted */
        "name eq 'open",        /* unterminated */
        "name ne 'x'",          /* only eq */
        "a eq 'x' or b eq 'y'", /* only and */
        "fn('x'",               /* no closing parenthesis */
        "x/any(c:d eq 'v')",    /* the lambda tests another variable */
        "eq 'x'",               /* no name */
        "a eq 'x' and",         /* dangling and */
        "a eq '1' and b eq '2' and c eq '3' and d eq '4' and e eq '5' and f eq '6' and g eq '7' "
        "and h eq '8' and i eq '9'", /* more terms than HTTP_FILTER_TERMS_MAX */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        arena_t a;
        arena_init(&a, 1 << 16);
        http_filter_t f;
        castor_err err;
        if (http_filter_parse(&a, bad[i], &f, &err) != CASTOR_EINVAL)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(err.status, 400);
        assert_true(f.error_offset >= 0 && (size_t)f.error_offset <= strlen(bad[i]));
        arena_free(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepted_forms),
        cmocka_unit_test(refused_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
