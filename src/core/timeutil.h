/* timeutil.h — wall-clock and monotonic time, and the timestamp formats Azure uses. */
#ifndef CASTOR_CORE_TIMEUTIL_H
#define CASTOR_CORE_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Microseconds since an arbitrary start; for measuring durations only. */
uint64_t time_mono_us(void);

/* Seconds since the epoch (UTC). */
int64_t time_now_s(void);

/* "2026-11-26T02:32:13.123456Z" (ADT's $lastUpdateTime form) into buf (>= 32 bytes). */
void time_format_rfc3339_now(char *buf, size_t size);
void time_format_rfc3339(int64_t epoch_s, long usec, char *buf, size_t size);

#endif
