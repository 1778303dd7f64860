/* idn_crypto.c — keys, JWTs and hashes for the token service (see idn_crypto.h).
 *
 * Tokens are signed with OpenSSL's libcrypto and everything else (key generation, the JWKS,
 * verification, certificates) stays on GnuTLS: one RS256 signature costs ~1.1 ms with
 * GnuTLS 3.7/nettle here and ~0.25 ms with OpenSSL 3.0 (bench/rsa_sign_bench.c), and signing
 * is what bounds token issuance. Both read the same PEM from the store. */
#include "identity/idn_crypto.h"

#include "core/ids.h"
#include "core/timeutil.h"
#include "store/store_directory.h"

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* A signing key's JWT header never changes, so it is encoded once when the key is loaded:
 * a token then costs one payload encoding and one signature. */
struct idn_key {
    char kid[64];
    EVP_PKEY *sign;   /* OpenSSL private key; NULL for verify-only keys */
    char *header_b64; /* base64url JWT header naming this key (signers only) */
    size_t header_len;
    gnutls_pubkey_t pub;
};

/* The RS256 signature of a 2048-bit key is 256 bytes; 512 admits keys up to 4096 bits. */
#define IDN_SIG_MAX 512

char *idn_b64url(arena_t *a, const void *data, size_t len)
{
    size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = arena_alloc(a, n);
    if (!out) return NULL;
    sodium_bin2base64(out, n, data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return out;
}

static unsigned char *b64_decode(arena_t *a, const char *s, size_t slen, size_t *out_len,
                                 int variant)
{
    while (slen && s[slen - 1] == '=')
        slen--; /* tolerate padding */
    unsigned char *out = arena_alloc(a, slen * 3 / 4 + 3);
    if (!out) return NULL;
    size_t n = 0;
    if (sodium_base642bin(out, slen * 3 / 4 + 3, s, slen, NULL, &n, NULL, variant) != 0)
        return NULL;
    *out_len = n;
    return out;
}

unsigned char *idn_b64url_decode(arena_t *a, const char *s, size_t slen, size_t *out_len)
{
    return b64_decode(a, s, slen, out_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

unsigned char *idn_b64_decode(arena_t *a, const char *s, size_t slen, size_t *out_len)
{
    return b64_decode(a, s, slen, out_len, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

/* ---- keys ---- */

static void key_free(idn_key_t *k)
{
    if (!k) return;
    EVP_PKEY_free(k->sign);
    free(k->header_b64);
    if (k->pub) gnutls_pubkey_deinit(k->pub);
    free(k);
}

/* Loads the private key into OpenSSL and encodes the header
 * {"typ":"JWT","alg":"RS256","x5t":kid,"kid":kid} (that member order, as before). */
static int key_make_signer(idn_key_t *k, const char *pem, castor_err *err)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    k->sign = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!k->sign || EVP_PKEY_get_base_id(k->sign) != EVP_PKEY_RSA) {
        char why[160] = "not an RSA key";
        unsigned long e = ERR_get_error();
        if (e) ERR_error_string_n(e, why, sizeof why);
        ERR_clear_error();
        return castor_err_set(err, CASTOR_EINTERNAL, "loading the token signing key: %s", why);
    }
    json_t *header = json_pack("{s:s, s:s, s:s, s:s}", "typ", "JWT", "alg", "RS256", "x5t", k->kid,
                               "kid", k->kid);
    char *h = header ? json_dumps(header, JSON_COMPACT) : NULL;
    json_decref(header);
    if (h) {
        size_t n = sodium_base64_encoded_len(strlen(h), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        k->header_b64 = malloc(n);
        if (k->header_b64) {
            sodium_bin2base64(k->header_b64, n, (const unsigned char *)h, strlen(h),
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING);
            k->header_len = strlen(k->header_b64);
        }
    }
    free(h);
    if (!k->header_b64) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    return CASTOR_OK;
}

static int key_from_pem(const char *pem, int signer, idn_key_t **out, castor_err *err)
{
    idn_key_t *k = calloc(1, sizeof *k);
    if (!k) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
    gnutls_privkey_t priv = NULL;
    int rc = gnutls_privkey_init(&priv);
    if (rc >= 0) rc = gnutls_privkey_import_x509_raw(priv, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (rc >= 0) rc = gnutls_pubkey_init(&k->pub);
    if (rc >= 0) rc = gnutls_pubkey_import_privkey(k->pub, priv, 0, 0);
    unsigned char id[64];
    size_t idlen = sizeof id;
    if (rc >= 0) rc = gnutls_pubkey_get_key_id(k->pub, 0, id, &idlen);
    if (rc < 0) {
        if (priv) gnutls_privkey_deinit(priv);
        key_free(k);
        return castor_err_set(err, CASTOR_EINTERNAL, "loading a signing key: %s",
                              gnutls_strerror(rc));
    }
    gnutls_privkey_deinit(priv);
    sodium_bin2base64(k->kid, sizeof k->kid, id, idlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (signer && key_make_signer(k, pem, err) < 0) {
        key_free(k);
        return err->rc;
    }
    *out = k;
    return CASTOR_OK;
}

static json_t *key_jwk(const idn_key_t *k)
{
    gnutls_datum_t m = {0}, e = {0};
    if (gnutls_pubkey_export_rsa_raw2(k->pub, &m, &e, GNUTLS_EXPORT_FLAG_NO_LZ) < 0) return NULL;
    arena_t a;
    arena_init(&a, 0);
    json_t *jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "use", "sig",
                            "kid", k->kid, "x5t", k->kid, "n", idn_b64url(&a, m.data, m.size), "e",
                            idn_b64url(&a, e.data, e.size), "alg", "RS256");
    arena_free(&a);
    gnutls_free(m.data);
    gnutls_free(e.data);
    return jwk;
}

static _Atomic(idn_keyset_t *) installed;
static pthread_mutex_t retired_mu = PTHREAD_MUTEX_INITIALIZER;
static idn_keyset_t *retired_sets[64];
static int nretired;

static void keyset_free(idn_keyset_t *ks)
{
    if (!ks) return;
    for (int i = 0; i < ks->nkeys; i++)
        key_free(ks->keys[i]);
    json_decref(ks->jwks);
    free(ks);
}

static int collect_key(const store_signing_key_t *sk, void *ctx)
{
    void **c = ctx;
    idn_keyset_t *ks = c[0];
    castor_err *err = c[1];
    if (ks->nkeys >= IDN_KEYS_MAX) return 0;
    idn_key_t *k = NULL;
    if (key_from_pem(sk->private_pem, ks->nkeys == 0, &k, err) < 0) return 1;
    ks->keys[ks->nkeys++] = k;
    return 0;
}

static void install(idn_keyset_t *ks)
{
    idn_keyset_t *old = atomic_exchange(&installed, ks);
    if (!old) return;
    pthread_mutex_lock(&retired_mu);
    if (nretired < (int)(sizeof retired_sets / sizeof retired_sets[0]))
        retired_sets[nretired++] = old; /* readers may still hold it */
    pthread_mutex_unlock(&retired_mu);
}

static int load_set(store_txn_t *t, idn_keyset_t **out, castor_err *err)
{
    idn_keyset_t *ks = calloc(1, sizeof *ks);
    if (!ks) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    castor_err_clear(err);
    void *ctx[2] = {ks, err};
    int rc = store_signing_key_each(t, collect_key, ctx, err);
    if (rc == 0 && err->rc < 0) rc = err->rc;
    int64_t n[STORE_CHANGE_KINDS];
    if (rc == 0) rc = store_changes_read(t, n, err); /* the same snapshot as the keys */
    if (rc == 0) ks->changes = n[STORE_CHANGE_KEYS];
    if (rc < 0) {
        keyset_free(ks);
        return rc;
    }
    ks->jwks = json_pack("{s:[]}", "keys");
    for (int i = 0; i < ks->nkeys; i++)
        json_array_append_new(json_object_get(ks->jwks, "keys"), key_jwk(ks->keys[i]));
    *out = ks;
    return CASTOR_OK;
}

static int new_key(store_txn_t *t, castor_err *err)
{
    gnutls_x509_privkey_t xk;
    gnutls_datum_t pem = {0};
    int rc = gnutls_x509_privkey_init(&xk);
    if (rc >= 0) rc = gnutls_x509_privkey_generate(xk, GNUTLS_PK_RSA, 2048, 0);
    if (rc >= 0) rc = gnutls_x509_privkey_export2(xk, GNUTLS_X509_FMT_PEM, &pem);
    gnutls_x509_privkey_deinit(xk);
    if (rc < 0)
        return castor_err_set(err, CASTOR_EINTERNAL, "generating the token signing key: %s",
                              gnutls_strerror(rc));
    char *text = malloc(pem.size + 1);
    if (!text) {
        gnutls_free(pem.data);
        return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    }
    memcpy(text, pem.data, pem.size);
    text[pem.size] = '\0';
    gnutls_memset(pem.data, 0, pem.size);
    gnutls_free(pem.data);
    idn_key_t *k = NULL;
    rc = key_from_pem(text, 0, &k, err);
    if (rc == 0) rc = store_signing_key_add(t, k->kid, text, time_now_s(), "current", err);
    key_free(k);
    sodium_memzero(text, strlen(text));
    free(text);
    return rc;
}

static int count_key(const store_signing_key_t *sk, void *ctx)
{
    (void)sk;
    (*(int *)ctx)++;
    return 0;
}

/* Ends a key transaction: on success loads the keys it left, commits, and installs them. */
static int commit_and_install(store_txn_t *t, int rc, castor_err *err)
{
    idn_keyset_t *ks = NULL;
    if (rc == 0) rc = load_set(t, &ks, err);
    if (rc < 0) {
        store_rollback(t);
        return rc;
    }
    rc = store_commit(t, err);
    if (rc < 0) {
        keyset_free(ks);
        return rc;
    }
    install(ks);
    return CASTOR_OK;
}

int idn_keys_start(store_t *store, castor_err *err)
{
    store_txn_t *t;
    int rc = store_begin(store, STORE_WRITE, &t, err);
    if (rc < 0) return rc;
    int n = 0;
    rc = store_signing_key_each(t, count_key, &n, err);
    if (rc == 0 && n == 0) rc = new_key(t, err);
    return commit_and_install(t, rc, err);
}

static int demote(const store_signing_key_t *sk, void *ctx)
{
    void **c = ctx;
    store_txn_t *t = c[0];
    castor_err *err = c[1];
    const char *state = strcmp(sk->state, "current") == 0 ? "previous" : "retired";
    return store_signing_key_set_state(t, sk->kid, state, err) < 0;
}

int idn_keys_rotate(store_t *store, castor_err *err)
{
    store_txn_t *t;
    int rc = store_begin(store, STORE_WRITE, &t, err);
    if (rc < 0) return rc;
    void *ctx[2] = {t, err};
    castor_err_clear(err);
    rc = store_signing_key_each(t, demote, ctx, err);
    if (rc == 0 && err->rc < 0) rc = err->rc;
    if (rc == 0) rc = new_key(t, err);
    return commit_and_install(t, rc, err);
}

void idn_keys_sync(store_t *store)
{
    static pthread_mutex_t sync_mu = PTHREAD_MUTEX_INITIALIZER;
    const idn_keyset_t *cur = atomic_load(&installed);
    if (!cur || store_change_seen(store, STORE_CHANGE_KEYS) <= cur->changes) return;
    pthread_mutex_lock(&sync_mu);
    cur = atomic_load(&installed);
    if (cur && store_change_seen(store, STORE_CHANGE_KEYS) > cur->changes) {
        castor_err err;
        store_txn_t *t;
        idn_keyset_t *ks = NULL;
        if (store_begin(store, STORE_READ, &t, &err) == 0) {
            if (load_set(t, &ks, &err) < 0) ks = NULL;
            store_rollback(t);
        }
        if (ks && ks->nkeys)
            install(ks);
        else
            keyset_free(ks);
    }
    pthread_mutex_unlock(&sync_mu);
}

const idn_keyset_t *idn_keys(void)
{
    return atomic_load(&installed);
}

void idn_keys_shutdown(void)
{
    keyset_free(atomic_exchange(&installed, NULL));
    pthread_mutex_lock(&retired_mu);
    for (int i = 0; i < nretired; i++)
        keyset_free(retired_sets[i]);
    nretired = 0;
    pthread_mutex_unlock(&retired_mu);
}

const char *idn_key_kid(const idn_key_t *k)
{
    return k->kid;
}

const idn_key_t *idn_keys_find(const idn_keyset_t *ks, const char *kid)
{
    if (!ks || !kid) return NULL;
    for (int i = 0; i < ks->nkeys; i++)
        if (strcmp(ks->keys[i]->kid, kid) == 0) return ks->keys[i];
    return NULL;
}

/* ---- JWT ---- */

/* PKCS#1 v1.5 over SHA-256. A context per signature: its set-up is lost in the noise next to
 * the RSA operation (a few us of ~250), and an EVP_PKEY may sign from several threads at once
 * while a context may not. */
static int rs256_sign(EVP_PKEY *pk, const char *in, size_t len, unsigned char *sig, size_t *siglen,
                      castor_err *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL, pk, NULL) == 1 &&
             EVP_DigestSign(ctx, sig, siglen, (const unsigned char *)in, len) == 1;
    EVP_MD_CTX_free(ctx);
    if (ok) return CASTOR_OK;
    char why[160] = "out of memory";
    unsigned long e = ERR_get_error();
    if (e) ERR_error_string_n(e, why, sizeof why);
    ERR_clear_error();
    return castor_err_set(err, CASTOR_EINTERNAL, "signing a token: %s", why);
}

char *idn_jwt_sign(arena_t *a, const json_t *payload, castor_err *err)
{
    const idn_keyset_t *ks = idn_keys();
    if (!ks || !ks->nkeys || !ks->keys[0]->sign)
        return castor_err_set(err, CASTOR_EINTERNAL, "no token signing key is loaded"), NULL;
    const idn_key_t *k = ks->keys[0];
    char *p = json_dumps(payload, JSON_COMPACT);
    if (!p) return castor_err_set(err, CASTOR_ENOMEM, "out of memory"), NULL;
    size_t plen = strlen(p);
    size_t pb = sodium_base64_encoded_len(plen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    size_t sb = sodium_base64_encoded_len(IDN_SIG_MAX, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    /* header "." payload "." signature, each encoded in place; pb and sb count their NUL. */
    char *out = arena_alloc(a, k->header_len + 1 + pb + sb);
    if (!out) {
        free(p);
        return castor_err_set(err, CASTOR_ENOMEM, "out of memory"), NULL;
    }
    memcpy(out, k->header_b64, k->header_len);
    out[k->header_len] = '.';
    char *payload_b64 = out + k->header_len + 1;
    sodium_bin2base64(payload_b64, pb, (const unsigned char *)p, plen,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    free(p);
    size_t input_len = k->header_len + 1 + strlen(payload_b64);
    unsigned char sig[IDN_SIG_MAX];
    size_t siglen = sizeof sig;
    if (rs256_sign(k->sign, out, input_len, sig, &siglen, err) < 0) return NULL;
    out[input_len] = '.';
    sodium_bin2base64(out + input_len + 1, sb, sig, siglen,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return out;
}

static json_t *b64_json(arena_t *a, const char *s, size_t n)
{
    size_t len = 0;
    unsigned char *raw = idn_b64url_decode(a, s, n, &len);
    if (!raw) return NULL;
    json_t *v = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, NULL);
    if (v && !json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

int idn_jws_parse(arena_t *a, const char *token, idn_jws_t *out, castor_err *err)
{
    memset(out, 0, sizeof *out);
    const char *d1 = strchr(token, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2 || strchr(d2 + 1, '.'))
        return castor_err_set(err, CASTOR_EINVAL,
                              "the token is not a JWT (three dot-separated "
                              "parts)");
    out->header = b64_json(a, token, (size_t)(d1 - token));
    out->payload = out->header ? b64_json(a, d1 + 1, (size_t)(d2 - d1 - 1)) : NULL;
    out->sig = out->payload ? idn_b64url_decode(a, d2 + 1, strlen(d2 + 1), &out->sig_len) : NULL;
    if (!out->sig) {
        idn_jws_release(out);
        return castor_err_set(err, CASTOR_EINVAL,
                              "the token's parts are not base64url-encoded JSON objects");
    }
    out->signing_input = token;
    out->signing_input_len = (size_t)(d2 - token);
    return CASTOR_OK;
}

void idn_jws_release(idn_jws_t *j)
{
    json_decref(j->header);
    json_decref(j->payload);
    j->header = j->payload = NULL;
}

static int verify_with(gnutls_pubkey_t pub, gnutls_sign_algorithm_t alg, const idn_jws_t *j)
{
    gnutls_datum_t data = {(unsigned char *)j->signing_input, (unsigned)j->signing_input_len};
    gnutls_datum_t sig = {j->sig, (unsigned)j->sig_len};
    return gnutls_pubkey_verify_data2(pub, alg, 0, &data, &sig) >= 0 ? 0 : -1;
}

int idn_key_verify_rs256(const idn_key_t *k, const idn_jws_t *j)
{
    return verify_with(k->pub, GNUTLS_SIGN_RSA_SHA256, j);
}

/* ---- certificates ---- */

static void hex_upper(const unsigned char *b, size_t n, char *out)
{
    static const char hx[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[b[i] >> 4];
        out[2 * i + 1] = hx[b[i] & 15];
    }
    out[2 * n] = '\0';
}

int idn_cert_info(const unsigned char *der, size_t len, idn_cert_info_t *out, castor_err *err)
{
    memset(out, 0, sizeof *out);
    gnutls_x509_crt_t crt;
    gnutls_datum_t d = {(unsigned char *)der, (unsigned)len};
    int rc = gnutls_x509_crt_init(&crt);
    if (rc >= 0) rc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
    unsigned char s1[20], s256[32];
    size_t n1 = sizeof s1, n256 = sizeof s256;
    if (rc >= 0) rc = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA1, s1, &n1);
    if (rc >= 0) rc = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, s256, &n256);
    if (rc >= 0) {
        out->not_before = (long long)gnutls_x509_crt_get_activation_time(crt);
        out->not_after = (long long)gnutls_x509_crt_get_expiration_time(crt);
    }
    gnutls_x509_crt_deinit(crt);
    if (rc < 0)
        return castor_err_set(err, CASTOR_EINVAL,
                              "the key credential is not an X.509 "
                              "certificate: %s",
                              gnutls_strerror(rc));
    sodium_bin2base64(out->x5t, sizeof out->x5t, s1, n1, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_bin2base64(out->x5t_s256, sizeof out->x5t_s256, s256, n256,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    hex_upper(s1, n1, out->thumb_hex);
    return CASTOR_OK;
}

int idn_cert_verify(const unsigned char *der, size_t len, const char *alg, const idn_jws_t *j)
{
    gnutls_sign_algorithm_t sa;
    if (strcmp(alg, "RS256") == 0)
        sa = GNUTLS_SIGN_RSA_SHA256;
    else if (strcmp(alg, "PS256") == 0)
        sa = GNUTLS_SIGN_RSA_PSS_SHA256;
    else
        return -1;
    gnutls_x509_crt_t crt;
    gnutls_pubkey_t pub = NULL;
    gnutls_datum_t d = {(unsigned char *)der, (unsigned)len};
    int rc = gnutls_x509_crt_init(&crt);
    if (rc >= 0) rc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
    if (rc >= 0) rc = gnutls_pubkey_init(&pub);
    if (rc >= 0) rc = gnutls_pubkey_import_x509(pub, crt, 0);
    int ok = rc >= 0 ? verify_with(pub, sa, j) : -1;
    if (pub) gnutls_pubkey_deinit(pub);
    gnutls_x509_crt_deinit(crt);
    return ok;
}

/* ---- secrets ---- */

void idn_secret_hash(const char *secret, char out[65])
{
    static const unsigned char domain[] = "castor-secret-v1";
    unsigned char h[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, domain, sizeof domain - 1);
    crypto_generichash_update(&st, (const unsigned char *)secret, strlen(secret));
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(out, 65, h, sizeof h);
}

char *idn_random_token(arena_t *a, size_t nbytes)
{
    unsigned char buf[64];
    if (nbytes > sizeof buf) nbytes = sizeof buf;
    randombytes_buf(buf, nbytes);
    return idn_b64url(a, buf, nbytes);
}
