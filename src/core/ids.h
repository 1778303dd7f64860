/* ids.h — GUIDs as Azure writes them (lower-case, 8-4-4-4-12), from libsodium's CSPRNG. */
#ifndef CASTOR_CORE_IDS_H
#define CASTOR_CORE_IDS_H

#include <stddef.h>

#define CASTOR_GUID_LEN 36 /* without the NUL */

/* Fills out with n unpredictable bytes (a CSPRNG per thread, keyed by the OS: fit for ids and
 * secrets alike). Requires ids_init() first. */
void ids_random(void *out, size_t n);

/* Fills out (>= 37 bytes) with a random version-4 GUID. Requires ids_init() first. */
void ids_guid(char out[CASTOR_GUID_LEN + 1]);

/* 1 when s is a GUID in 8-4-4-4-12 hex form (any case), else 0. */
int ids_is_guid(const char *s);

/* Initializes libsodium; returns 0, or -1 when the system has no randomness source. */
int ids_init(void);

#endif
