/* test_access_authn.c — the bearer-token refusal table of access_verify_token, the verify-once
 * cache and its invalidation, signing-key rotation keeping old tokens valid, and tokens signed
 * with OpenSSL being exactly what GnuTLS signs with the same key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "access/access.h"
#include "core/ids.h"
#include "core/timeutil.h"
#include "identity/idn.h"
#include "identity/idn_crypto.h"
#include "identity/idn_internal.h"
#include "serve/bootstrap.h"
#include "test_util.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <string.h>

typedef struct fixture {
    char *dir;
    store_t *store;
    bootstrap_result_t boot;
    arena_t arena;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    castor_err err;
    castor_err_clear(&err);
    if (ids_init() < 0) return -1;
    f->dir = test_tmpdir();
    char url[512];
    snprintf(url, sizeof url, "sqlite:%s/castor.db", f->dir);
    if (store_open(url, 4, &f->store, &err) < 0) return -1;
    if (bootstrap_run(f->store, "Unit-Test-Pw-1", &f->boot, &err) < 0) return -1;
    if (idn_start(f->store, "https://localhost:8443", f->boot.admin_id, &err) < 0) return -1;
    arena_init(&f->arena, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    arena_free(&f->arena);
    idn_stop();
    store_close(f->store);
    test_rmdir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* A token with these claims, signed by castor's current key. */
static char *sign(fixture_t *f, const char *aud, const char *tid, const char *oid, int64_t exp,
                  int64_t nbf, const char *idtyp)
{
    char iss[128];
    snprintf(iss, sizeof iss, "https://localhost:8443/%s/", tid);
    json_t *p =
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s}", "aud", aud, "iss", iss,
                  "tid", tid, "oid", oid, "exp", (json_int_t)exp, "nbf", (json_int_t)nbf, "idtyp",
                  idtyp, "scp", "Read.Write", "ver", "1.0", "appid", IDN_APP_AZURE_CLI);
    castor_err err;
    char *t = idn_jwt_sign(&f->arena, p, &err);
    json_decref(p);
    return t;
}

/* header.payload.sig from raw JSON texts (for tokens castor would never sign). */
static char *raw(fixture_t *f, const char *header, const char *payload, const char *sig)
{
    return arena_sprintf(&f->arena, "%s.%s.%s", idn_b64url(&f->arena, header, strlen(header)),
                         idn_b64url(&f->arena, payload, strlen(payload)), sig);
}

static access_reason_t check(fixture_t *f, const char *token, access_audience_t aud,
                             access_principal_t *p)
{
    castor_err err;
    castor_err_clear(&err);
    int rc = access_verify_token(f->store, token, aud, "https://localhost:8443", NULL, &f->arena, p,
                                 &err);
    if (rc == 0) return ACCESS_REASON_NONE;
    assert_int_equal(rc, CASTOR_EAUTH);
    assert_int_equal(err.status, 401);
    assert_true(err.message[0] != '\0');
    return p->reason;
}

static void test_refusal_table(void **state)
{
    fixture_t *f = *state;
    int64_t now = time_now_s();
    const char *tid = f->boot.tenant_id, *admin = f->boot.admin_id;
    access_principal_t p;

    char *good = sign(f, IDN_ADT_RESOURCE, tid, admin, now + 3600, now, "user");
    assert_int_equal(check(f, good, ACCESS_AUDIENCE_DATA, &p), ACCESS_REASON_NONE);
    assert_int_equal(p.kind, ACCESS_KIND_USER);
    assert_string_equal(p.oid, admin);
    assert_string_equal(p.tenant_id, tid);
    assert_true(access_has_scope(&p, "Read.Write"));
    assert_false(access_has_scope(&p, "Write"));

    char payload[512];
    snprintf(
        payload, sizeof payload,
        "{\"aud\":\"%s\",\"iss\":\"https://x/%s/\",\"tid\":\"%s\",\"oid\":\"%s\",\"exp\":%lld}",
        IDN_ADT_RESOURCE, tid, tid, admin, (long long)(now + 3600));
    const char *kid = idn_key_kid(idn_keys()->keys[0]);
    char hdr_kid[256];
    snprintf(hdr_kid, sizeof hdr_kid, "{\"alg\":\"RS256\",\"kid\":\"%s\"}", kid);
    char *dot = strrchr(good, '.');

    struct {
        const char *token;
        access_audience_t aud;
        access_reason_t want;
    } table[] = {
        {"", ACCESS_AUDIENCE_DATA, ACCESS_REASON_MISSING},
        {NULL, ACCESS_AUDIENCE_DATA, ACCESS_REASON_MISSING},
        {"abc", ACCESS_AUDIENCE_DATA, ACCESS_REASON_MALFORMED},
        {"a.b.c.d", ACCESS_AUDIENCE_DATA, ACCESS_REASON_MALFORMED},
        {raw(f, "{\"alg\":\"none\"}", payload, ""), ACCESS_AUDIENCE_DATA, ACCESS_REASON_ALG},
        {raw(f, "{\"alg\":\"HS256\",\"kid\":\"x\"}", payload, "c2ln"), ACCESS_AUDIENCE_DATA,
         ACCESS_REASON_ALG},
        {raw(f, "{\"alg\":\"PS256\"}", payload, "c2ln"), ACCESS_AUDIENCE_DATA, ACCESS_REASON_ALG},
        {raw(f, "{\"alg\":\"RS256\",\"kid\":\"nope\"}", payload, "c2ln"), ACCESS_AUDIENCE_DATA,
         ACCESS_REASON_KID},
        {raw(f, hdr_kid, payload, dot + 1), ACCESS_AUDIENCE_DATA, ACCESS_REASON_SIGNATURE},
        {sign(f, IDN_ADT_RESOURCE, tid, admin, now - 3600, now - 7200, "user"),
         ACCESS_AUDIENCE_DATA, ACCESS_REASON_EXPIRED},
        {sign(f, IDN_ADT_RESOURCE, tid, admin, now + 7200, now + 3600, "user"),
         ACCESS_AUDIENCE_DATA, ACCESS_REASON_NOT_YET_VALID},
        {sign(f, IDN_ADT_RESOURCE, "11111111-1111-1111-1111-111111111111", admin, now + 3600, now,
              "user"),
         ACCESS_AUDIENCE_DATA, ACCESS_REASON_TENANT},
        {sign(f, IDN_ARM_RESOURCE, tid, admin, now + 3600, now, "user"), ACCESS_AUDIENCE_DATA,
         ACCESS_REASON_AUDIENCE},
        {sign(f, IDN_ADT_RESOURCE, tid, admin, now + 3600, now, "user"), ACCESS_AUDIENCE_ARM,
         ACCESS_REASON_AUDIENCE},
        {sign(f, IDN_ADT_RESOURCE, tid, "22222222-2222-2222-2222-222222222222", now + 3600, now,
              "user"),
         ACCESS_AUDIENCE_DATA, ACCESS_REASON_PRINCIPAL},
        {sign(f, IDN_ADT_RESOURCE, tid, "22222222-2222-2222-2222-222222222222", now + 3600, now,
              "app"),
         ACCESS_AUDIENCE_DATA, ACCESS_REASON_PRINCIPAL},
        /* Accepted audiences. */
        {sign(f, IDN_APP_ADT, tid, admin, now + 3600, now, "user"), ACCESS_AUDIENCE_DATA,
         ACCESS_REASON_NONE},
        {sign(f, "https://management.azure.com/", tid, admin, now + 3600, now, "user"),
         ACCESS_AUDIENCE_ARM, ACCESS_REASON_NONE},
        {sign(f, "https://management.core.windows.net", tid, admin, now + 3600, now, "user"),
         ACCESS_AUDIENCE_ARM, ACCESS_REASON_NONE},
        {sign(f, "https://localhost:8443/", tid, admin, now + 3600, now, "user"),
         ACCESS_AUDIENCE_ARM, ACCESS_REASON_NONE},
        {sign(f, "https://localhost:8443/", tid, admin, now + 3600, now, "user"),
         ACCESS_AUDIENCE_GRAPH, ACCESS_REASON_NONE},
        {sign(f, IDN_APP_GRAPH, tid, admin, now + 3600, now, "user"), ACCESS_AUDIENCE_GRAPH,
         ACCESS_REASON_NONE},
        /* Within the clock skew. */
        {sign(f, IDN_ADT_RESOURCE, tid, admin, now - 60, now - 3600, "user"), ACCESS_AUDIENCE_DATA,
         ACCESS_REASON_NONE},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        access_reason_t got = check(f, table[i].token, table[i].aud, &p);
        if (got != table[i].want)
            fail_msg("row %zu: want %s, got %s", i, access_reason_name(table[i].want),
                     access_reason_name(got));
    }
}

static void test_cache_and_directory_changes(void **state)
{
    fixture_t *f = *state;
    int64_t now = time_now_s();
    store_txn_t *t;
    castor_err err;
    store_user_t u = {.enabled = 1, .created = now};
    ids_guid(u.id);
    snprintf(u.tenant_id, sizeof u.tenant_id, "%s", f->boot.tenant_id);
    snprintf(u.upn, sizeof u.upn, "cache@castor.local");
    snprintf(u.display_name, sizeof u.display_name, "Cache");
    snprintf(u.password_hash, sizeof u.password_hash, "x");
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_user_create(t, &u, &err), 0);
    store_group_t g = {.created = now};
    ids_guid(g.id);
    snprintf(g.tenant_id, sizeof g.tenant_id, "%s", f->boot.tenant_id);
    snprintf(g.display_name, sizeof g.display_name, "g");
    assert_int_equal(store_group_create(t, &g, &err), 0);
    assert_int_equal(store_group_member_add(t, g.id, u.id, "user", &err), 0);
    assert_int_equal(store_commit(t, &err), 0);

    char *tok = sign(f, IDN_ADT_RESOURCE, f->boot.tenant_id, u.id, now + 3600, now, "user");
    access_principal_t p;
    assert_int_equal(check(f, tok, ACCESS_AUDIENCE_DATA, &p), ACCESS_REASON_NONE);
    assert_int_equal(p.ngroups, 1);
    assert_string_equal(p.groups[0], g.id);
    assert_int_equal(check(f, tok, ACCESS_AUDIENCE_DATA, &p), ACCESS_REASON_NONE); /* cached */
    assert_int_equal(p.ngroups, 1);

    u.enabled = 0;
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_user_update(t, &u, &err), 0);
    assert_int_equal(store_commit(t, &err), 0);
    access_directory_changed();
    assert_int_equal(check(f, tok, ACCESS_AUDIENCE_DATA, &p), ACCESS_REASON_PRINCIPAL);
}

static void test_rotation_keeps_previous_key(void **state)
{
    fixture_t *f = *state;
    int64_t now = time_now_s();
    char *old =
        sign(f, IDN_ADT_RESOURCE, f->boot.tenant_id, f->boot.admin_id, now + 3600, now, "user");
    char old_kid[64];
    snprintf(old_kid, sizeof old_kid, "%s", idn_key_kid(idn_keys()->keys[0]));
    castor_err err;
    assert_int_equal(idn_keys_rotate(f->store, &err), 0);
    const idn_keyset_t *ks = idn_keys();
    assert_int_equal(ks->nkeys, 2);
    assert_string_not_equal(idn_key_kid(ks->keys[0]), old_kid);
    assert_string_equal(idn_key_kid(ks->keys[1]), old_kid);
    assert_int_equal(json_array_size(json_object_get(ks->jwks, "keys")), 2);
    access_directory_changed(); /* drop the cache so the old token is verified afresh */
    access_principal_t p;
    assert_int_equal(check(f, old, ACCESS_AUDIENCE_DATA, &p), ACCESS_REASON_NONE);
    char *fresh =
        sign(f, IDN_ADT_RESOURCE, f->boot.tenant_id, f->boot.admin_id, now + 3600, now, "user");
    assert_int_equal(check(f, fresh, ACCESS_AUDIENCE_DATA, &p), ACCESS_REASON_NONE);
    /* A second rotation retires the oldest key: its tokens stop verifying. */
    assert_int_equal(idn_keys_rotate(f->store, &err), 0);
    access_directory_changed();
    assert_int_equal(check(f, old, ACCESS_AUDIENCE_DATA, &p), ACCESS_REASON_KID);
}

static int current_pem(const store_signing_key_t *k, void *ctx)
{
    char **out = ctx;
    if (!*out && strcmp(k->state, "current") == 0) *out = strdup(k->private_pem);
    return 0;
}

/* Tokens are signed with OpenSSL, keys are made and tokens verified with GnuTLS. RS256
 * (PKCS#1 v1.5) is deterministic, so the two libraries must give the same bytes for the same
 * key and input; the header names the current key, also after a rotation. */
static void test_jwt_signature_matches_gnutls(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    for (int round = 0; round < 2; round++) {
        if (round) assert_int_equal(idn_keys_rotate(f->store, &err), 0);
        const char *kid = idn_key_kid(idn_keys()->keys[0]);
        int64_t now = time_now_s();
        char *tok =
            sign(f, IDN_ADT_RESOURCE, f->boot.tenant_id, f->boot.admin_id, now + 60, now, "user");
        assert_non_null(tok);
        idn_jws_t j;
        assert_int_equal(idn_jws_parse(&f->arena, tok, &j, &err), 0);
        char *h = json_dumps(j.header, JSON_COMPACT);
        char *want = arena_sprintf(
            &f->arena, "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"x5t\":\"%s\",\"kid\":\"%s\"}", kid,
            kid);
        assert_string_equal(h, want);
        free(h);
        assert_string_equal(json_string_value(json_object_get(j.payload, "oid")), f->boot.admin_id);
        assert_int_equal(j.sig_len, 256);
        assert_int_equal(idn_key_verify_rs256(idn_keys()->keys[0], &j), 0);

        store_txn_t *t;
        char *pem = NULL;
        assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
        assert_int_equal(store_signing_key_each(t, current_pem, &pem, &err), 0);
        store_rollback(t);
        assert_non_null(pem);
        gnutls_privkey_t gk;
        gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
        gnutls_datum_t in = {(unsigned char *)j.signing_input, (unsigned)j.signing_input_len};
        gnutls_datum_t sig = {0};
        assert_true(gnutls_privkey_init(&gk) >= 0);
        assert_true(gnutls_privkey_import_x509_raw(gk, &d, GNUTLS_X509_FMT_PEM, NULL, 0) >= 0);
        assert_true(gnutls_privkey_sign_data2(gk, GNUTLS_SIGN_RSA_SHA256, 0, &in, &sig) >= 0);
        assert_int_equal(sig.size, j.sig_len);
        assert_memory_equal(sig.data, j.sig, j.sig_len);
        gnutls_free(sig.data);
        gnutls_privkey_deinit(gk);
        free(pem);
        idn_jws_release(&j);
    }
}

static void test_form_parse(void **state)
{
    fixture_t *f = *state;
    idn_form_t form;
    const char *body = "grant_type=password&scope=a%2F.default+openid&empty=&x-client-SKU=msal";
    assert_int_equal(idn_form_parse(&f->arena, body, strlen(body), &form), 0);
    assert_string_equal(idn_form_get(&form, "scope"), "a/.default openid");
    assert_string_equal(idn_form_get(&form, "empty"), "");
    assert_null(idn_form_get(&form, "missing"));
    assert_int_equal(idn_form_parse(&f->arena, "a=%zz", 5, &form), -1);
}

static void test_secret_hash_and_b64url(void **state)
{
    fixture_t *f = *state;
    char a[65], b[65];
    idn_secret_hash("s3cret", a);
    idn_secret_hash("s3cret", b);
    assert_string_equal(a, b);
    idn_secret_hash("s3creT", b);
    assert_string_not_equal(a, b);
    size_t n = 0;
    unsigned char *d = idn_b64url_decode(&f->arena, "aGVsbG8", 7, &n);
    assert_non_null(d);
    assert_int_equal(n, 5);
    assert_memory_equal(d, "hello", 5);
    assert_null(idn_b64url_decode(&f->arena, "a*b", 3, &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusal_table),
        cmocka_unit_test(test_cache_and_directory_changes),
        cmocka_unit_test(test_rotation_keeps_previous_key),
        cmocka_unit_test(test_jwt_signature_matches_gnutls),
        cmocka_unit_test(test_form_parse),
        cmocka_unit_test(test_secret_hash_and_b64url),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
