/* log.h — the process logger: one JSON object per line on stderr.
 *
 * Set once at start (log_init) and then only read, so it is safe from every thread. Library
 * code never prints; it fills a castor_err and lets the caller decide what to log. */
#ifndef CASTOR_CORE_LOG_H
#define CASTOR_CORE_LOG_H

#include <jansson.h>

typedef enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 } log_level_t;

/* Parses "debug|info|warn|error" (case-insensitive). Returns 0, or -1 for anything else. */
int log_level_parse(const char *s, log_level_t *out);
const char *log_level_name(log_level_t level);

void log_init(log_level_t level);
int log_enabled(log_level_t level);

/* Logs {"time","level","msg",...fields}. Takes ownership of fields (may be NULL). */
void log_json(log_level_t level, const char *msg, json_t *fields);

/* printf-style convenience for a message without fields. */
void log_msg(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
