/* idn_crypto.h — the token service's cryptography: base64url, the RS256 signing key set (with
 * rotation that keeps the previous key published), JWT signing and signature checks, X.509
 * certificate thumbprints for client assertions, and secret hashing.
 *
 * OpenSSL's libcrypto signs tokens (four times faster than GnuTLS/nettle here, see
 * docs/DEPENDENCIES.md); GnuTLS makes keys, verifies and reads certificates. A key set is immutable
 * once built; rotation builds a new one and swaps the process-wide pointer, so readers never lock.
 * Old sets stay allocated until idn_keys_shutdown (rotation is rare: at most a few per process
 * lifetime). */
#ifndef CASTOR_IDENTITY_CRYPTO_H
#define CASTOR_IDENTITY_CRYPTO_H

#include "core/arena.h"
#include "core/err.h"
#include "store/store.h"

#include <jansson.h>
#include <stddef.h>

#define IDN_KEYS_MAX 3 /* current + previous (+ one being phased out) */

typedef struct idn_key idn_key_t;

typedef struct idn_keyset {
    int nkeys;
    idn_key_t *keys[IDN_KEYS_MAX]; /* keys[0] signs; the rest only verify */
    json_t *jwks;                  /* {"keys":[...]} for the JWKS endpoints */
    int64_t changes;               /* the store's keys change number it was loaded at */
} idn_keyset_t;

/* base64url without padding, into the arena. */
char *idn_b64url(arena_t *a, const void *data, size_t len);
/* Decodes base64url (padding tolerated) into the arena; NULL when malformed. */
unsigned char *idn_b64url_decode(arena_t *a, const char *s, size_t slen, size_t *out_len);
/* Standard base64 (with padding), for x5c and certificate values. */
unsigned char *idn_b64_decode(arena_t *a, const char *s, size_t slen, size_t *out_len);

/* Loads the signing keys from the store, creating the first one when there is none, and
 * installs them as the process key set. */
int idn_keys_start(store_t *store, castor_err *err);
/* Makes a new current key; the old current stays in the JWKS as previous, an older previous
 * is retired. Installs the new set. */
int idn_keys_rotate(store_t *store, castor_err *err);
/* Reloads the key set from store when a newer keys change number was seen there
 * (store_change_seen: another node rotated them). Keeps the installed set if the store cannot
 * answer. */
void idn_keys_sync(store_t *store);
/* The installed key set (never NULL after idn_keys_start). */
const idn_keyset_t *idn_keys(void);
void idn_keys_shutdown(void);

const char *idn_key_kid(const idn_key_t *k);
/* The verifying key named kid, or NULL. */
const idn_key_t *idn_keys_find(const idn_keyset_t *ks, const char *kid);

/* Builds and signs a JWT: header {"typ":"JWT","alg":"RS256","kid","x5t"} + payload. */
char *idn_jwt_sign(arena_t *a, const json_t *payload, castor_err *err);

/* The parts of a compact JWS, decoded. */
typedef struct idn_jws {
    json_t *header;            /* owned: json_decref */
    json_t *payload;           /* owned */
    const char *signing_input; /* "header.payload", in the arena */
    size_t signing_input_len;
    unsigned char *sig;
    size_t sig_len;
} idn_jws_t;

/* Splits and decodes a token; CASTOR_EINVAL for anything not three base64url JSON parts. */
int idn_jws_parse(arena_t *a, const char *token, idn_jws_t *out, castor_err *err);
void idn_jws_release(idn_jws_t *j);
/* 0 when sig verifies with the key set's key (RS256, PKCS#1 v1.5 SHA-256). */
int idn_key_verify_rs256(const idn_key_t *k, const idn_jws_t *j);

/* An X.509 certificate (DER) as a client credential. */
typedef struct idn_cert_info {
    char x5t[64];       /* base64url SHA-1 thumbprint */
    char x5t_s256[64];  /* base64url SHA-256 thumbprint */
    char thumb_hex[64]; /* upper-case hex SHA-1, as Graph's customKeyIdentifier */
    long long not_before, not_after;
} idn_cert_info_t;

int idn_cert_info(const unsigned char *der, size_t len, idn_cert_info_t *out, castor_err *err);
/* Verifies a client assertion's signature with the certificate's public key; alg is RS256 or
 * PS256. 0 when it verifies. */
int idn_cert_verify(const unsigned char *der, size_t len, const char *alg, const idn_jws_t *j);

/* Keyed hash of a high-entropy secret (client secrets, refresh tokens, codes) as hex, into out
 * (>= 65 bytes). Not for passwords: those are argon2id. */
void idn_secret_hash(const char *secret, char out[65]);
/* A random URL-safe token of nbytes of entropy, into the arena. */
char *idn_random_token(arena_t *a, size_t nbytes);

#endif
