/* rsa_sign_bench.c — one RS256 signature (RSA-2048, PKCS#1 v1.5, SHA-256) on this machine,
 * GnuTLS/nettle against OpenSSL libcrypto, with the same key and the same JWT-sized input.
 * Why it exists: token issuance is bounded by this one operation (docs/DEPENDENCIES.md).
 * Run by `BENCH_ONLY=tokens bench/run`. Prints microseconds per signature; never fails on
 * time. */
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    unsigned char input[900];
    memset(input, 'a', sizeof input); /* a typical header.payload length */

    gnutls_x509_privkey_t xk;
    gnutls_datum_t pem = {0};
    if (gnutls_x509_privkey_init(&xk) < 0 ||
        gnutls_x509_privkey_generate(xk, GNUTLS_PK_RSA, 2048, 0) < 0 ||
        gnutls_x509_privkey_export2(xk, GNUTLS_X509_FMT_PEM, &pem) < 0)
        return 1;
    gnutls_privkey_t gk;
    gnutls_privkey_init(&gk);
    if (gnutls_privkey_import_x509_raw(gk, &pem, GNUTLS_X509_FMT_PEM, NULL, 0) < 0) return 1;

    BIO *bio = BIO_new_mem_buf(pem.data, (int)pem.size);
    EVP_PKEY *ok = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!ok) return 1;

    gnutls_datum_t data = {input, sizeof input};
    for (int w = 0; w < 2; w++) {
        double t0 = now_us();
        for (int i = 0; i < n; i++) {
            gnutls_datum_t sig = {0};
            if (gnutls_privkey_sign_data2(gk, GNUTLS_SIGN_RSA_SHA256, 0, &data, &sig) < 0) return 1;
            gnutls_free(sig.data);
        }
        double g = (now_us() - t0) / n;

        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned char sig[512];
        t0 = now_us();
        for (int i = 0; i < n; i++) {
            size_t len = sizeof sig;
            if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, ok) != 1 ||
                EVP_DigestSign(ctx, sig, &len, input, sizeof input) != 1)
                return 1;
        }
        double o = (now_us() - t0) / n;
        EVP_MD_CTX_free(ctx);
        if (w)
            printf("RS256 sign, RSA-2048, %d signatures, one thread:\n"
                   "  GnuTLS %s (nettle)   %7.1f us/sig  %6.0f sig/s\n"
                   "  OpenSSL %s       %7.1f us/sig  %6.0f sig/s\n"
                   "  ratio GnuTLS/OpenSSL  %.2f\n",
                   n, gnutls_check_version(NULL), g, 1e6 / g,
                   OpenSSL_version(OPENSSL_VERSION_STRING), o, 1e6 / o, g / o);
    }
    EVP_PKEY_free(ok);
    gnutls_privkey_deinit(gk);
    gnutls_x509_privkey_deinit(xk);
    gnutls_free(pem.data);
    return 0;
}
