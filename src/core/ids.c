/* ids.c — random GUIDs (see ids.h). */
#include "core/ids.h"

#include <ctype.h>
#include <sodium.h>
#include <string.h>

int ids_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

/* By hand rather than snprintf: a GUID is made for every ETag and event, and the 16 "%02x"
 * conversions cost ~6,000 instructions where this costs a few hundred. */
void ids_guid(char out[CASTOR_GUID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
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
