/* test_core_err.c — castor_err filling, prefixing and status mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"

static void set_fills_message_and_returns_rc(void **state)
{
    (void)state;
    castor_err err;
    int rc = castor_err_set(&err, CASTOR_EINVAL, "bad %s at %d", "thing", 7);
    assert_int_equal(rc, CASTOR_EINVAL);
    assert_int_equal(err.rc, CASTOR_EINVAL);
    assert_string_equal(err.message, "bad thing at 7");
    assert_int_equal(err.status, 0);
    assert_string_equal(err.code, "");
}

static void http_sets_status_and_code(void **state)
{
    (void)state;
    castor_err err;
    castor_err_http(&err, CASTOR_ENOTFOUND, 404, "DigitalTwinNotFound", "no twin %s", "x");
    assert_int_equal(err.status, 404);
    assert_string_equal(err.code, "DigitalTwinNotFound");
    castor_err_at(&err, "$.a[1]");
    assert_string_equal(err.path, "$.a[1]");
}

static void prefix_keeps_old_message(void **state)
{
    (void)state;
    castor_err err;
    castor_err_set(&err, CASTOR_EIO, "permission denied");
    castor_err_prefix(&err, "opening %s", "ca.pem");
    assert_string_equal(err.message, "opening ca.pem: permission denied");
}

/* A deliberate cut shows as "..." and never splits a UTF-8 character. */
/* Text only known at run time (a volatile pointer), as in the real callers. */
static int cut_copy(char *buf, size_t size, const char *volatile text)
{
    return castor_text_cut(buf, size, snprintf(buf, size, "%s", text));
}

static void text_cut_marks_and_keeps_utf8(void **state)
{
    (void)state;
    char buf[8];
    assert_int_equal(cut_copy(buf, sizeof buf, "abc"), 0);
    assert_string_equal(buf, "abc");
    assert_int_equal(cut_copy(buf, sizeof buf, "abcdefgh"), 1);
    assert_string_equal(buf, "abcd...");
    /* "abc", a 2-byte é, "xyz": a cut at byte 4 would split the é. */
    assert_int_equal(cut_copy(buf, sizeof buf, "abc\xc3\xa9xyz"), 1);
    assert_string_equal(buf, "abc...");
    castor_err err;
    castor_err_set(&err, CASTOR_EINVAL, "%s", "x");
    memset(err.message, 'm', sizeof err.message - 1);
    castor_err_prefix(&err, "context");
    assert_int_equal(strlen(err.message), sizeof err.message - 1);
    assert_string_equal(err.message + sizeof err.message - 4, "...");
}

static void null_err_is_safe(void **state)
{
    (void)state;
    assert_int_equal(castor_err_set(NULL, CASTOR_EIO, "x"), CASTOR_EIO);
    castor_err_clear(NULL);
    castor_err_prefix(NULL, "y");
}

static void rc_status_table(void **state)
{
    (void)state;
    static const struct {
        int rc, status;
    } rows[] = {
        {CASTOR_EINVAL, 400},   {CASTOR_ENOTFOUND, 404}, {CASTOR_ECONFLICT, 409},
        {CASTOR_EPRECOND, 412}, {CASTOR_ELIMIT, 413},    {CASTOR_EPERM, 403},
        {CASTOR_EAUTH, 401},    {CASTOR_EIO, 503},       {CASTOR_EINTERNAL, 500},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_int_equal(castor_rc_status(rows[i].rc), rows[i].status);
    assert_string_equal(castor_rc_name(CASTOR_ELIMIT), "ELIMIT");
}

static void arena_allocates_and_caps(void **state)
{
    (void)state;
    arena_t a;
    arena_init(&a, 64 * 1024);
    char *s = arena_sprintf(&a, "%s-%d", "twin", 42);
    assert_string_equal(s, "twin-42");
    assert_string_equal(arena_strndup(&a, "abcdef", 3), "abc");
    void *p = arena_alloc(&a, 10);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 16, 0);
    /* Past the cap: NULL, not a crash, and the arena still frees cleanly. */
    assert_null(arena_alloc(&a, 128 * 1024));
    int *z = arena_calloc(&a, 4, sizeof(int));
    assert_non_null(z);
    assert_int_equal(z[0] | z[1] | z[2] | z[3], 0);
    arena_free(&a);
    assert_null(a.head);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_fills_message_and_returns_rc),
        cmocka_unit_test(http_sets_status_and_code),
        cmocka_unit_test(prefix_keeps_old_message),
        cmocka_unit_test(null_err_is_safe),
        cmocka_unit_test(text_cut_marks_and_keeps_utf8),
        cmocka_unit_test(rc_status_table),
        cmocka_unit_test(arena_allocates_and_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
