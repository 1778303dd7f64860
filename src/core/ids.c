/* ids.c — random GUIDs (see ids.h). */
#include "core/ids.h"

#include <ctype.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

int ids_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

/* Random bytes from a per-thread ChaCha20 stream keyed by the OS once per thread: the same
 * quality as randombytes_buf, without its getrandom() system call for each of the three or
 * four GUIDs (request id, ETag, event id) a write makes. */
#define IDS_POOL 1024

void ids_random(void *out, size_t n)
{
    static _Thread_local unsigned char key[crypto_stream_chacha20_KEYBYTES];
    static _Thread_local unsigned char pool[IDS_POOL];
    static _Thread_local size_t left;
    static _Thread_local uint64_t nonce;
    if (n > IDS_POOL / 4) {
        randombytes_buf(out, n);
        return;
    }
    if (left < n) {
        if (nonce == 0) randombytes_buf(key, sizeof key);
        unsigned char iv[crypto_stream_chacha20_NONCEBYTES];
        uint64_t v = ++nonce;
        memcpy(iv, &v, sizeof iv < sizeof v ? sizeof iv : sizeof v);
        crypto_stream_chacha20(pool, sizeof pool, iv, key);
        left = sizeof pool;
    }
    memcpy(out, pool + sizeof pool - left, n);
    sodium_memzero(pool + sizeof pool - left, n); /* what was handed out is not kept */
    left -= n;
}

/* By hand rather than snprintf: a GUID is made for every ETag and event, and the 16 "%02x"
 * conversions cost ~6,000 instructions where this costs a few hundred. */
void ids_guid(char out[CASTOR_GUID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    ids_random(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 0x0f];
    }
    *o = '\0';
}

int ids_is_guid(const char *s)
{
    if (!s || strlen(s) != CASTOR_GUID_LEN) return 0;
    for (int i = 0; i < CASTOR_GUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}
