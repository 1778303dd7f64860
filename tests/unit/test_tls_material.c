/* test_tls_material.c — the generated CA and server certificate: made once, reused, made
 * again for a new public host, and refused when half of the CA is missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gnutls/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/tls_material.h"
#include "test_util.h"

static gnutls_x509_crt_t crt_from(const char *pem)
{
    gnutls_x509_crt_t crt;
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
    assert_int_equal(gnutls_x509_crt_init(&crt), 0);
    assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
    return crt;
}

static void file_mode(const char *dir, const char *name, mode_t want)
{
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, want);
}

static void made_once_then_reused(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    tls_material_t m1, m2;
    castor_err err;
    assert_int_equal(tls_material_ensure(dir, "localhost", &m1, &err), 0);
    assert_true(m1.generated_ca);
    assert_true(m1.generated_server);
    file_mode(dir, "ca-key.pem", 0600);
    file_mode(dir, "server-key.pem", 0600);
    file_mode(dir, "ca.pem", 0644);

    /* The server certificate chains to the CA and names every local spelling. */
    char *ca_pem = test_read_file(m1.ca_path, NULL);
    gnutls_x509_crt_t ca = crt_from(ca_pem), srv = crt_from(m1.cert_pem);
    unsigned int verify = 99;
    assert_int_equal(gnutls_x509_crt_verify(srv, &ca, 1, 0, &verify), 0);
    assert_int_equal(verify, 0);
    assert_true(gnutls_x509_crt_check_hostname(srv, "localhost"));
    assert_true(gnutls_x509_crt_check_hostname(srv, "127.0.0.1"));
    assert_true(gnutls_x509_crt_check_hostname(srv, "::1"));
    assert_false(gnutls_x509_crt_check_hostname(srv, "example.org"));
    unsigned int is_ca = 0;
    assert_int_equal(gnutls_x509_crt_get_basic_constraints(ca, NULL, &is_ca, NULL), 1);
    assert_true(is_ca);
    gnutls_x509_crt_deinit(srv);

    assert_int_equal(tls_material_ensure(dir, "localhost", &m2, &err), 0);
    assert_false(m2.generated_ca);
    assert_false(m2.generated_server);
    assert_string_equal(m1.cert_pem, m2.cert_pem);
    assert_string_equal(m1.key_pem, m2.key_pem);
    tls_material_free(&m2);

    /* A new public host: a new server certificate from the same CA. */
    assert_int_equal(tls_material_ensure(dir, "twins.example.org", &m2, &err), 0);
    assert_false(m2.generated_ca);
    assert_true(m2.generated_server);
    srv = crt_from(m2.cert_pem);
    assert_true(gnutls_x509_crt_check_hostname(srv, "twins.example.org"));
    assert_true(gnutls_x509_crt_check_hostname(srv, "localhost"));
    verify = 99;
    assert_int_equal(gnutls_x509_crt_verify(srv, &ca, 1, 0, &verify), 0);
    assert_int_equal(verify, 0);
    gnutls_x509_crt_deinit(srv);
    tls_material_free(&m2);

    /* An IP address as public host goes in as an IP SAN. */
    assert_int_equal(tls_material_ensure(dir, "10.1.2.3", &m2, &err), 0);
    srv = crt_from(m2.cert_pem);
    assert_true(gnutls_x509_crt_check_hostname(srv, "10.1.2.3"));
    gnutls_x509_crt_deinit(srv);
    tls_material_free(&m2);

    gnutls_x509_crt_deinit(ca);
    free(ca_pem);
    tls_material_free(&m1);
    test_rmdir(dir);
    free(dir);
}

static void half_a_ca_is_refused_and_a_bad_server_cert_replaced(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    tls_material_t m;
    castor_err err;
    assert_int_equal(tls_material_ensure(dir, "localhost", &m, &err), 0);
    tls_material_free(&m);
    char p[4200];
    snprintf(p, sizeof p, "%s/server.pem", dir);
    FILE *f = fopen(p, "w");
    fputs("garbage\n", f);
    fclose(f);
    assert_int_equal(tls_material_ensure(dir, "localhost", &m, &err), 0);
    assert_true(m.generated_server);
    tls_material_free(&m);

    snprintf(p, sizeof p, "%s/ca-key.pem", dir);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(tls_material_ensure(dir, "localhost", &m, &err), CASTOR_EINVAL);
    assert_non_null(strstr(err.message, "has ca.pem but not ca-key.pem"));
    assert_null(m.cert_pem);
    test_rmdir(dir);
    free(dir);
}

static void operator_files_are_checked(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    tls_material_t m;
    castor_err err;
    assert_int_equal(tls_material_ensure(dir, "localhost", &m, &err), 0);
    tls_material_free(&m);
    char cert[4200], key[4200];
    snprintf(cert, sizeof cert, "%s/server.pem", dir);
    snprintf(key, sizeof key, "%s/server-key.pem", dir);
    assert_int_equal(tls_material_load(cert, key, &m, &err), 0);
    assert_non_null(m.key_pem);
    tls_material_free(&m);
    assert_int_equal(tls_material_load(key, key, &m, &err), CASTOR_EINVAL);
    assert_non_null(strstr(err.message, "is not a PEM certificate"));
    assert_int_equal(tls_material_load(cert, "/nonexistent/key.pem", &m, &err), CASTOR_ENOTFOUND);
    test_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(made_once_then_reused),
        cmocka_unit_test(half_a_ca_is_refused_and_a_bad_server_cert_replaced),
        cmocka_unit_test(operator_files_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
