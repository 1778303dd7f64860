/* fuzz_auth_jwt.c — libFuzzer target for bearer-token verification (access_verify_token: JWS
 * parsing, header, RS256 signature, claims, principal lookup).
 *
 * A real store and signing key are made once, in a temporary folder, and a few genuine tokens
 * signed with it. Each input is then a token: as raw text, or a genuine token with fuzz bytes
 * spliced into it, or a genuine token with its header or payload replaced by fuzz JSON under
 * the original signature, or genuine claims overridden by fuzz claims that castor signs. Any of
 * them must be accepted or refused with a 401 and a reason, never crash or leak; and a token is
 * accepted only if its signed part (header.payload) is exactly one castor signed (the fuzzer cannot
 * forge RS256, so anything else is a forgery accepted), and claims castor signed pass only for its
 * tenant and admin, unexpired. Build: cmake -DCASTOR_FUZZ=ON with clang (make fuzz). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/access.h"
#include "core/arena.h"
#include "core/ids.h"
#include "core/limits.h"
#include "core/timeutil.h"
#include "identity/idn.h"
#include "identity/idn_crypto.h"
#include "serve/bootstrap.h"

#include <jansson.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GENUINE 4
static const char *const audiences[GENUINE] = {IDN_ADT_RESOURCE, "https://management.azure.com/",
                                               IDN_ADT_RESOURCE, "https://graph.microsoft.com"};

static const access_audience_t planes[GENUINE] = {ACCESS_AUDIENCE_DATA, ACCESS_AUDIENCE_ARM,
                                                  ACCESS_AUDIENCE_DATA, ACCESS_AUDIENCE_GRAPH};

static char dir[64];
static char tenant_id[37], admin_id[37];
static json_t *genuine_claims[GENUINE]; /* what genuine[] says, for the fuzzer to override */
static store_t *store;
static arena_t keep;               /* the genuine tokens, for the life of the process */
static char *genuine[GENUINE];     /* header.payload.signature */
static size_t signed_len[GENUINE]; /* length of header.payload */

static void cleanup(void)
{
    for (int i = 0; i < GENUINE; i++)
        json_decref(genuine_claims[i]);
    idn_stop();
    store_close(store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "fuzz_auth_jwt: could not remove %s\n", dir);
}

static void start(void)
{
    castor_err err;
    castor_err_clear(&err);
    snprintf(dir, sizeof dir, "/tmp/castor-fuzz-jwt-XXXXXX");
    if (ids_init() < 0 || !mkdtemp(dir)) abort();
    char url[128];
    snprintf(url, sizeof url, "sqlite:%s/castor.db", dir);
    bootstrap_result_t boot;
    if (store_open(url, 2, &store, &err) < 0 ||
        bootstrap_run(store, "Fuzz-Test-Pw-1", &boot, &err) < 0 ||
        idn_start(store, "https://localhost:8443", boot.admin_id, &err) < 0) {
        fprintf(stderr, "fuzz_auth_jwt: %s\n", err.message);
        abort();
    }
    atexit(cleanup);
    memcpy(tenant_id, boot.tenant_id, sizeof tenant_id);
    memcpy(admin_id, boot.admin_id, sizeof admin_id);
    arena_init(&keep, 0);
    int64_t now = time_now_s();
    char iss[128];
    snprintf(iss, sizeof iss, "https://localhost:8443/%s/", boot.tenant_id);
    for (int i = 0; i < GENUINE; i++) {
        /* A user token, an app token (idtyp app, roles), each for a different plane. */
        json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:[s]}", "aud",
                              audiences[i], "iss", iss, "tid", boot.tenant_id, "oid", boot.admin_id,
                              "exp", (json_int_t)(now + 30 * 24 * 3600), "nbf", (json_int_t)now,
                              "idtyp", i == 2 ? "app" : "user", "scp", "Read.Write", "ver",
                              i == 1 ? "2.0" : "1.0", "appid", IDN_APP_AZURE_CLI, "roles", "x");
        genuine[i] = idn_jwt_sign(&keep, p, &err);
        genuine_claims[i] = p;
        if (!genuine[i]) abort();
        signed_len[i] = (size_t)(strrchr(genuine[i], '.') - genuine[i]);
    }
}

/* base64url of n fuzz bytes, into the arena. */
static const char *b64(arena_t *a, const uint8_t *d, size_t n)
{
    const char *s = idn_b64url(a, d, n);
    if (!s) abort();
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store) start();
    if (size < 2) return 0;
    uint8_t mode = data[0] % 5, pick = data[1];
    data += 2, size -= 2;
    const char *g = genuine[pick % GENUINE];
    const char *dot1 = strchr(g, '.'), *dot2 = strrchr(g, '.');
    arena_t a;
    arena_init(&a, CASTOR_REQUEST_ARENA_MAX);
    char *token, *minted = NULL;
    castor_err err;
    castor_err_clear(&err);
    switch (mode) {
    case 0: /* the input as token text (up to its first NUL) */
        token = arena_strndup(&a, (const char *)data, size);
        break;
    case 1: { /* the input spliced into a genuine token at a chosen offset */
        size_t glen = strlen(g), at = size ? data[0] * glen / 256 : 0;
        const uint8_t *ins = size ? data + 1 : data;
        size_t n = size ? size - 1 : 0;
        token = arena_sprintf(&a, "%.*s%.*s%s", (int)at, g, (int)n, (const char *)ins, g + at);
        break;
    }
    case 2: /* a header of the fuzzer's, the genuine payload and signature */
        token = arena_sprintf(&a, "%s%s", b64(&a, data, size), dot1);
        break;
    case 3: /* the genuine header and signature, a payload of the fuzzer's */
        token = arena_sprintf(&a, "%.*s.%s%s", (int)(dot1 - g), g, b64(&a, data, size), dot2);
        break;
    default: { /* genuine claims overridden by the fuzzer's, signed: the claim checks' turn */
        json_t *fuzz = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
        json_t *claims = json_deep_copy(genuine_claims[pick % GENUINE]);
        if (!claims) abort();
        token = json_is_object(fuzz) && json_object_update(claims, fuzz) == 0
                    ? idn_jwt_sign(&a, claims, &err)
                    : NULL;
        json_decref(fuzz);
        json_decref(claims);
        if (!token) {
            arena_free(&a);
            return 0;
        }
        minted = token;
        break;
    }
    }
    if (!token) abort();
    access_principal_t who;
    castor_err_clear(&err);
    /* Mostly the plane the genuine token is for; sometimes another one. */
    access_audience_t plane =
        pick & 0x80 ? (access_audience_t)(pick / GENUINE % 3) : planes[pick % GENUINE];
    int rc =
        access_verify_token(store, token, plane, "https://localhost:8443", NULL, &a, &who, &err);
    if (rc == 0) {
        /* Accepted: the signed part must be one castor signed, byte for byte. */
        const char *last = strrchr(token, '.');
        size_t n = last ? (size_t)(last - token) : 0;
        int ok = 0;
        for (int i = 0; i < GENUINE && !ok; i++)
            ok = n == signed_len[i] && memcmp(token, genuine[i], n) == 0;
        /* Claims castor signed just now pass only for a live principal of castor's tenant. */
        if (minted)
            ok = strcmp(who.tenant_id, tenant_id) == 0 && strcmp(who.oid, admin_id) == 0 &&
                 who.exp + ACCESS_CLOCK_SKEW_S >= time_now_s();
        if (!ok) {
            fprintf(stderr, "fuzz_auth_jwt: accepted a token castor never signed: %s\n", token);
            abort();
        }
        if (who.reason != ACCESS_REASON_NONE) abort();
    } else {
        if (rc != CASTOR_EAUTH || err.status != 401 || err.message[0] == '\0') abort();
        if (who.reason == ACCESS_REASON_NONE) abort();
    }
    arena_free(&a);
    return 0;
}
