/* ids.c — random GUIDs (see ids.h). */
#include "core/ids.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

int ids_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

void ids_guid(char out[CASTOR_GUID_LEN + 1])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, CASTOR_GUID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
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
