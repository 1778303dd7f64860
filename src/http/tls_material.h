/* tls_material.h — the local CA and server certificate castor serves HTTPS with.
 *
 * On first start castor makes a CA (DIR/ca.pem, key DIR/ca-key.pem, mode 0600) and a server
 * certificate it signs (DIR/server.pem, DIR/server-key.pem) for localhost, 127.0.0.1, ::1 and
 * the public URL's host. Later starts reuse both; the server certificate is made again when it
 * is within TLS_RENEW_DAYS of expiry, was not signed by this CA, or does not name the public
 * host. Clients trust DIR/ca.pem. Keys are ECDSA P-256: handshakes are far cheaper than RSA's. */
#ifndef CASTOR_HTTP_TLS_MATERIAL_H
#define CASTOR_HTTP_TLS_MATERIAL_H

#include "core/err.h"

#define TLS_CA_DAYS 3650
#define TLS_SERVER_DAYS 397
#define TLS_RENEW_DAYS 30

typedef struct tls_material {
    char *cert_pem; /* server certificate (malloc'ed) */
    char *key_pem;  /* its private key (malloc'ed) */
    char ca_path[4096];
    int generated_ca;     /* 1 when this call created the CA */
    int generated_server; /* 1 when this call (re)made the server certificate */
} tls_material_t;

/* Loads or makes the material in dir for public_host (a DNS name or an IP address). */
int tls_material_ensure(const char *dir, const char *public_host, tls_material_t *out,
                        castor_err *err);

/* Uses an operator's own certificate and key files instead (--tls-cert/--tls-key). */
int tls_material_load(const char *cert_path, const char *key_path, tls_material_t *out,
                      castor_err *err);

void tls_material_free(tls_material_t *m);

/* Reads a whole file into a malloc'ed NUL-terminated buffer (caller frees). */
int tls_read_file(const char *path, char **out, size_t *len_out, castor_err *err);

#endif
