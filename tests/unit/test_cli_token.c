/* test_cli_token.c — token cache expiry, resource-to-scope mapping, the session file, JWT
 * claim decoding, form encoding and the redaction --debug relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_internal.h"
#include "core/timeutil.h"
#include "test_util.h"

static cli_ctx_t *ctx_new(void)
{
    cli_ctx_t *ctx = calloc(1, sizeof *ctx);
    arena_init(&ctx->arena, 0);
    ctx->errout = stderr;
    ctx->out = stdout;
    return ctx;
}

static void ctx_free(cli_ctx_t *ctx)
{
    arena_free(&ctx->arena);
    free(ctx);
}

static void fresh_means_more_than_the_skew_left(void **state)
{
    (void)state;
    int64_t now = 1700000000;
    assert_true(cli_token_fresh(now + 3600, now));
    assert_true(cli_token_fresh(now + CLI_TOKEN_SKEW_S + 1, now));
    assert_false(cli_token_fresh(now + CLI_TOKEN_SKEW_S, now)); /* refreshed before expiry */
    assert_false(cli_token_fresh(now + 10, now));
    assert_false(cli_token_fresh(now - 10, now));
    assert_false(cli_token_fresh(0, now)); /* no expiry recorded */
}

static void resources_become_default_scopes(void **state)
{
    (void)state;
    cli_ctx_t *ctx = ctx_new();
    assert_string_equal(cli_scope_of(ctx, "https://digitaltwins.azure.net"),
                        "https://digitaltwins.azure.net/.default");
    /* Like az: the trailing slash is kept, giving "//.default". */
    assert_string_equal(cli_scope_of(ctx, "https://management.azure.com/"),
                        "https://management.azure.com//.default");
    assert_string_equal(cli_scope_of(ctx, "https://digitaltwins.azure.net/.default"),
                        "https://digitaltwins.azure.net/.default");
    assert_string_equal(cli_scope_of(ctx, "https://digitaltwins.azure.net/Read.Write"),
                        "https://digitaltwins.azure.net/Read.Write");
    assert_string_equal(cli_scope_of(ctx, "0b07f429-9f4b-4714-9392-cc5e8e80c8b0"),
                        "0b07f429-9f4b-4714-9392-cc5e8e80c8b0/.default");
    ctx_free(ctx);
}

static void token_responses_are_cached_with_expiry(void **state)
{
    (void)state;
    cli_ctx_t *ctx = ctx_new();
    json_t *session = json_object();
    json_t *v2 = json_pack("{s:s, s:i, s:s}", "access_token", "AT1", "expires_in", 3599,
                           "refresh_token", "RT2");
    int64_t before = time_now_s();
    assert_int_equal(cli_session_store_token(ctx, session, "s/.default", v2), 0);
    json_t *t = json_object_get(json_object_get(session, "tokens"), "s/.default");
    assert_string_equal(json_string_value(json_object_get(t, "accessToken")), "AT1");
    int64_t exp = json_integer_value(json_object_get(t, "expiresOn"));
    assert_true(exp >= before + 3599 && exp <= time_now_s() + 3599);
    assert_string_equal(json_string_value(json_object_get(session, "refreshToken")), "RT2");
    /* v1 answers carry numbers as strings and an absolute expires_on. */
    json_t *v1 = json_pack("{s:s, s:s, s:s}", "access_token", "AT3", "expires_in", "3599",
                           "expires_on", "1900000000");
    assert_int_equal(cli_session_store_token(ctx, session, "r/.default", v1), 0);
    t = json_object_get(json_object_get(session, "tokens"), "r/.default");
    assert_int_equal(json_integer_value(json_object_get(t, "expiresOn")), 1900000000);
    assert_string_equal(json_string_value(json_object_get(session, "refreshToken")),
                        "RT2"); /* kept */
    json_t *bad = json_pack("{s:s}", "token_type", "Bearer");
    assert_int_equal(cli_session_store_token(ctx, session, "x", bad), CASTOR_EIO);
    assert_non_null(strstr(ctx->err.message, "without an access_token"));
    json_decref(bad);
    json_decref(v1);
    json_decref(v2);
    json_decref(session);
    ctx_free(ctx);
}

static void session_file_round_trip(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    setenv("CASTOR_CONFIG_DIR", dir, 1);
    cli_ctx_t *ctx = ctx_new();
    assert_null(cli_session_load(ctx));
    assert_int_equal(cli_session_remove(ctx), 0);
    json_t *s = json_pack("{s:s}", "server", "https://x:1");
    assert_int_equal(cli_session_save(ctx, s), 0);
    json_t *back = cli_session_load(ctx);
    assert_true(json_equal(s, back));
    assert_int_equal(cli_session_remove(ctx), 1);
    assert_null(cli_session_load(ctx));
    json_decref(back);
    json_decref(s);
    ctx_free(ctx);
    unsetenv("CASTOR_CONFIG_DIR");
    test_rmdir(dir);
    free(dir);
}

static void jwt_claims_decode_base64url(void **state)
{
    (void)state;
    /* {"alg":"none"} . {"aud":"https://digitaltwins.azure.net","scp":"Read.Write","n":"\u00e9>?"}
     */
    json_t *c = cli_jwt_claims("eyJhbGciOiJub25lIn0."
                               "eyJhdWQiOiJodHRwczovL2RpZ2l0YWx0d2lucy5henVyZS5uZXQiLCJzY3AiOiJSZWF"
                               "kLldyaXRlIiwibiI6IsOpPj8ifQ.sig");
    assert_non_null(c);
    assert_string_equal(json_string_value(json_object_get(c, "aud")),
                        "https://digitaltwins.azure.net");
    assert_string_equal(json_string_value(json_object_get(c, "scp")), "Read.Write");
    assert_string_equal(json_string_value(json_object_get(c, "n")), "\xc3\xa9>?");
    json_decref(c);
    assert_null(cli_jwt_claims("no-dots"));
    assert_null(cli_jwt_claims("a.!!!.c"));
    assert_null(cli_jwt_claims(NULL));
}

static void forms_escape_and_skip_nulls(void **state)
{
    (void)state;
    cli_ctx_t *ctx = ctx_new();
    char *f = cli_form(ctx, "grant_type", "password", "username", "a@b.c", "skip", NULL, "scope",
                       "https://m/.default offline_access", NULL);
    assert_string_equal(
        f,
        "grant_type=password&username=a%40b.c&scope=https%3A%2F%2Fm%2F.default%20offline_access");
    ctx_free(ctx);
}

static void debug_output_redacts_secrets(void **state)
{
    (void)state;
    cli_ctx_t *ctx = ctx_new();
    assert_string_equal(
        cli_redact_form(ctx,
                        "grant_type=password&username=u&password=hunter2&client_secret=s3&scope=x"),
        "grant_type=password&username=u&password=<redacted>&client_secret=<redacted>&scope=x");
    assert_string_equal(cli_redact_form(ctx, "refresh_token=abc&device_code=d"),
                        "refresh_token=<redacted>&device_code=<redacted>");
    json_t *body = json_pack("{s:s, s:{s:s, s:b}, s:[{s:s}], s:s}", "userPrincipalName", "bob",
                             "passwordProfile", "password", "hunter2", "force", 0, "creds",
                             "secretText", "s3cr3t", "access_token", "eyJ");
    json_t *r = cli_redact_json(body);
    char *text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
    assert_null(strstr(text, "hunter2"));
    assert_null(strstr(text, "s3cr3t"));
    assert_null(strstr(text, "eyJ"));
    assert_non_null(strstr(text, "\"userPrincipalName\":\"bob\""));
    free(text);
    json_decref(r);
    json_decref(body);
    ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fresh_means_more_than_the_skew_left),
        cmocka_unit_test(resources_become_default_scopes),
        cmocka_unit_test(token_responses_are_cached_with_expiry),
        cmocka_unit_test(session_file_round_trip),
        cmocka_unit_test(jwt_claims_decode_base64url),
        cmocka_unit_test(forms_escape_and_skip_nulls),
        cmocka_unit_test(debug_output_redacts_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
