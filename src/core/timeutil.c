/* timeutil.c — clocks and timestamp formatting (see timeutil.h). */
#include "core/timeutil.h"

#include <stdio.h>

uint64_t time_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t time_now_s(void)
{
    return (int64_t)time(NULL);
}

void time_format_rfc3339(int64_t epoch_s, long usec, char *buf, size_t size)
{
    time_t t = (time_t)epoch_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
}

void time_format_rfc3339_now(char *buf, size_t size)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_format_rfc3339((int64_t)ts.tv_sec, ts.tv_nsec / 1000, buf, size);
}
