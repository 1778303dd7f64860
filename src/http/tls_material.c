/* tls_material.c — making and reusing the CA and server certificate (see tls_material.h). */
#include "http/tls_material.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DAY_S (24 * 60 * 60)

int tls_read_file(const char *path, char **out, size_t *len_out, castor_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return castor_err_set(err, errno == ENOENT ? CASTOR_ENOTFOUND : CASTOR_EIO,
                              "cannot read %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            if (cap > (16u << 20)) {
                free(buf);
                fclose(f);
                return castor_err_set(err, CASTOR_ELIMIT, "%s is larger than 16 MiB", path);
            }
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return castor_err_set(err, CASTOR_ENOMEM, "out of memory reading %s", path);
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return castor_err_set(err, CASTOR_EIO, "error reading %s", path);
    }
    buf[len] = '\0';
    *out = buf;
    if (len_out) *len_out = len;
    return CASTOR_OK;
}

/* Writes data to path atomically (temp file, fsync, rename) with the given mode, so a crash
 * never leaves half a key behind. */
static int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                             castor_err *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return castor_err_set(err, CASTOR_EIO, "cannot write %s: %s", tmp, strerror(errno));
    fchmod(fd, mode);
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return castor_err_set(err, CASTOR_EIO, "cannot write %s: %s", tmp, strerror(e));
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        unlink(tmp);
        return castor_err_set(err, CASTOR_EIO, "cannot sync %s: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return castor_err_set(err, CASTOR_EIO, "cannot rename %s: %s", tmp, strerror(e));
    }
    return CASTOR_OK;
}

static int gnutls_fail(int grc, const char *what, castor_err *err)
{
    return castor_err_set(err, CASTOR_EIO, "%s: %s", what, gnutls_strerror(grc));
}

static int new_key(gnutls_x509_privkey_t *key, castor_err *err)
{
    int g = gnutls_x509_privkey_init(key);
    if (g == 0)
        g = gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
                                         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
    return g < 0 ? gnutls_fail(g, "generating a key", err) : CASTOR_OK;
}

static int export_pem(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, gnutls_datum_t *cert_out,
                      gnutls_datum_t *key_out, castor_err *err)
{
    int g = 0;
    if (crt) g = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, cert_out);
    if (g == 0 && key) g = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, key_out);
    return g < 0 ? gnutls_fail(g, "exporting PEM", err) : CASTOR_OK;
}

static void set_common(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn, int days)
{
    unsigned char serial[16];
    randombytes_buf(serial, sizeof serial);
    serial[0] &= 0x7f; /* a positive integer */
    gnutls_x509_crt_set_version(crt, 3);
    gnutls_x509_crt_set_serial(crt, serial, sizeof serial);
    time_t now = time(NULL);
    gnutls_x509_crt_set_activation_time(crt, now - 3600); /* tolerate clients' clock skew */
    gnutls_x509_crt_set_expiration_time(crt, now + (time_t)days * DAY_S);
    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn));
    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, "castor", 6);
    gnutls_x509_crt_set_key(crt, key);
    unsigned char kid[64];
    size_t kid_len = sizeof kid;
    if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, kid, &kid_len) == 0)
        gnutls_x509_crt_set_subject_key_id(crt, kid, kid_len);
}

static int make_ca(const char *ca_path, const char *key_path, castor_err *err)
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t cpem = {0}, kpem = {0};
    int rc = new_key(&key, err);
    if (rc == 0 && gnutls_x509_crt_init(&crt) < 0) rc = gnutls_fail(-1, "x509 init", err);
    if (rc == 0) {
        char cn[128], host[64] = "";
        gethostname(host, sizeof host - 1);
        snprintf(cn, sizeof cn, "castor local CA (%s)", host[0] ? host : "localhost");
        set_common(crt, key, cn, TLS_CA_DAYS);
        gnutls_x509_crt_set_basic_constraints(crt, 1, 0);
        gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN |
                                               GNUTLS_KEY_DIGITAL_SIGNATURE);
        int g = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
        if (g < 0) rc = gnutls_fail(g, "self-signing the CA", err);
    }
    if (rc == 0) rc = export_pem(crt, key, &cpem, &kpem, err);
    /* The key first: a CA certificate without its key would be useless at the next start. */
    if (rc == 0) rc = write_file_atomic(key_path, kpem.data, kpem.size, 0600, err);
    if (rc == 0) rc = write_file_atomic(ca_path, cpem.data, cpem.size, 0644, err);
    gnutls_free(cpem.data);
    gnutls_free(kpem.data);
    if (crt) gnutls_x509_crt_deinit(crt);
    if (key) gnutls_x509_privkey_deinit(key);
    return rc;
}

static int add_san(gnutls_x509_crt_t crt, const char *host)
{
    unsigned char ip[16];
    if (inet_pton(AF_INET, host, ip) == 1)
        return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 4,
                                                    GNUTLS_FSAN_APPEND);
    if (inet_pton(AF_INET6, host, ip) == 1)
        return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 16,
                                                    GNUTLS_FSAN_APPEND);
    return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host,
                                                (unsigned)strlen(host), GNUTLS_FSAN_APPEND);
}

static int load_crt(const char *pem, gnutls_x509_crt_t *crt)
{
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
    if (gnutls_x509_crt_init(crt) < 0) return -1;
    if (gnutls_x509_crt_import(*crt, &d, GNUTLS_X509_FMT_PEM) < 0) {
        gnutls_x509_crt_deinit(*crt);
        *crt = NULL;
        return -1;
    }
    return 0;
}

static int load_key(const char *pem, gnutls_x509_privkey_t *key)
{
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
    if (gnutls_x509_privkey_init(key) < 0) return -1;
    if (gnutls_x509_privkey_import(*key, &d, GNUTLS_X509_FMT_PEM) < 0) {
        gnutls_x509_privkey_deinit(*key);
        *key = NULL;
        return -1;
    }
    return 0;
}

static int make_server(const char *ca_pem, const char *ca_key_pem, const char *public_host,
                       const char *cert_path, const char *key_path, castor_err *err)
{
    gnutls_x509_crt_t ca = NULL, crt = NULL;
    gnutls_x509_privkey_t ca_key = NULL, key = NULL;
    gnutls_datum_t cpem = {0}, kpem = {0};
    int rc = CASTOR_OK;
    if (load_crt(ca_pem, &ca) < 0 || load_key(ca_key_pem, &ca_key) < 0)
        rc = castor_err_set(err, CASTOR_EINVAL,
                            "the CA in the data folder cannot be read (ca.pem / ca-key.pem are "
                            "damaged); move them away to have castor make a new CA");
    if (rc == 0) rc = new_key(&key, err);
    if (rc == 0 && gnutls_x509_crt_init(&crt) < 0) rc = gnutls_fail(-1, "x509 init", err);
    if (rc == 0) {
        set_common(crt, key, "localhost", TLS_SERVER_DAYS);
        gnutls_x509_crt_set_basic_constraints(crt, 0, -1);
        gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE);
        gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
        add_san(crt, "localhost");
        add_san(crt, "127.0.0.1");
        add_san(crt, "::1");
        if (public_host && public_host[0] && strcmp(public_host, "localhost") != 0 &&
            strcmp(public_host, "127.0.0.1") != 0 && strcmp(public_host, "::1") != 0)
            add_san(crt, public_host);
        unsigned char kid[64];
        size_t kid_len = sizeof kid;
        if (gnutls_x509_crt_get_subject_key_id(ca, kid, &kid_len, NULL) == 0)
            gnutls_x509_crt_set_authority_key_id(crt, kid, kid_len);
        int g = gnutls_x509_crt_sign2(crt, ca, ca_key, GNUTLS_DIG_SHA256, 0);
        if (g < 0) rc = gnutls_fail(g, "signing the server certificate", err);
    }
    if (rc == 0) rc = export_pem(crt, key, &cpem, &kpem, err);
    if (rc == 0) rc = write_file_atomic(key_path, kpem.data, kpem.size, 0600, err);
    if (rc == 0) rc = write_file_atomic(cert_path, cpem.data, cpem.size, 0644, err);
    gnutls_free(cpem.data);
    gnutls_free(kpem.data);
    if (crt) gnutls_x509_crt_deinit(crt);
    if (key) gnutls_x509_privkey_deinit(key);
    if (ca) gnutls_x509_crt_deinit(ca);
    if (ca_key) gnutls_x509_privkey_deinit(ca_key);
    return rc;
}

/* 1 when the server certificate can be served as it is. */
static int server_cert_usable(const char *cert_pem, const char *ca_pem, const char *public_host)
{
    gnutls_x509_crt_t crt = NULL, ca = NULL;
    int ok = 0;
    if (load_crt(cert_pem, &crt) == 0 && load_crt(ca_pem, &ca) == 0) {
        unsigned int verify = 0;
        time_t left = gnutls_x509_crt_get_expiration_time(crt) - time(NULL);
        ok = left > (time_t)TLS_RENEW_DAYS * DAY_S &&
             gnutls_x509_crt_verify(crt, &ca, 1, 0, &verify) == 0 && verify == 0 &&
             (!public_host || !public_host[0] || gnutls_x509_crt_check_hostname(crt, public_host));
    }
    if (crt) gnutls_x509_crt_deinit(crt);
    if (ca) gnutls_x509_crt_deinit(ca);
    return ok;
}

int tls_material_ensure(const char *dir, const char *public_host, tls_material_t *out,
                        castor_err *err)
{
    memset(out, 0, sizeof *out);
    char ca_key_path[4200], cert_path[4200], key_path[4200];
    snprintf(out->ca_path, sizeof out->ca_path, "%s/ca.pem", dir);
    snprintf(ca_key_path, sizeof ca_key_path, "%s/ca-key.pem", dir);
    snprintf(cert_path, sizeof cert_path, "%s/server.pem", dir);
    snprintf(key_path, sizeof key_path, "%s/server-key.pem", dir);

    char *ca_pem = NULL, *ca_key_pem = NULL;
    int have_ca = access(out->ca_path, F_OK) == 0, have_key = access(ca_key_path, F_OK) == 0;
    if (have_ca != have_key)
        return castor_err_set(err, CASTOR_EINVAL,
                              "%s has %s but not %s: restore the missing file, or move both away "
                              "to have castor make a new CA (clients must then trust the new "
                              "ca.pem)",
                              dir, have_ca ? "ca.pem" : "ca-key.pem",
                              have_ca ? "ca-key.pem" : "ca.pem");
    int rc = CASTOR_OK;
    if (!have_ca) {
        rc = make_ca(out->ca_path, ca_key_path, err);
        out->generated_ca = rc == 0;
    }
    if (rc == 0) rc = tls_read_file(out->ca_path, &ca_pem, NULL, err);
    if (rc == 0) rc = tls_read_file(ca_key_path, &ca_key_pem, NULL, err);

    char *cert_pem = NULL;
    if (rc == 0 && tls_read_file(cert_path, &cert_pem, NULL, NULL) == 0 &&
        !server_cert_usable(cert_pem, ca_pem, public_host)) {
        free(cert_pem);
        cert_pem = NULL;
    }
    if (rc == 0 && !cert_pem) {
        rc = make_server(ca_pem, ca_key_pem, public_host, cert_path, key_path, err);
        out->generated_server = rc == 0;
        if (rc == 0) rc = tls_read_file(cert_path, &cert_pem, NULL, err);
    }
    if (rc == 0) {
        out->cert_pem = cert_pem;
        cert_pem = NULL;
        rc = tls_read_file(key_path, &out->key_pem, NULL, err);
    }
    free(cert_pem);
    if (ca_key_pem) sodium_memzero(ca_key_pem, strlen(ca_key_pem));
    free(ca_key_pem);
    free(ca_pem);
    if (rc < 0) tls_material_free(out);
    return rc;
}

int tls_material_load(const char *cert_path, const char *key_path, tls_material_t *out,
                      castor_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = tls_read_file(cert_path, &out->cert_pem, NULL, err);
    if (rc == 0) rc = tls_read_file(key_path, &out->key_pem, NULL, err);
    gnutls_x509_crt_t crt = NULL;
    gnutls_x509_privkey_t key = NULL;
    if (rc == 0 && load_crt(out->cert_pem, &crt) < 0)
        rc =
            castor_err_set(err, CASTOR_EINVAL, "--tls-cert %s is not a PEM certificate", cert_path);
    if (rc == 0 && load_key(out->key_pem, &key) < 0)
        rc = castor_err_set(err, CASTOR_EINVAL,
                            "--tls-key %s is not an unencrypted PEM private key", key_path);
    if (crt) gnutls_x509_crt_deinit(crt);
    if (key) gnutls_x509_privkey_deinit(key);
    snprintf(out->ca_path, sizeof out->ca_path, "%s", cert_path);
    if (rc < 0) tls_material_free(out);
    return rc;
}

void tls_material_free(tls_material_t *m)
{
    if (m->key_pem) sodium_memzero(m->key_pem, strlen(m->key_pem));
    free(m->key_pem);
    free(m->cert_pem);
    m->key_pem = m->cert_pem = NULL;
}
