/* log.c — JSON-lines logger on stderr (see log.h). */
#include "core/log.h"

#include "core/json.h"
#include "core/timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static log_level_t log_threshold = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_level_parse(const char *s, log_level_t *out)
{
    for (int i = 0; i < 4; i++) {
        if (s && strcasecmp(s, level_names[i]) == 0) {
            *out = (log_level_t)i;
            return 0;
        }
    }
    return -1;
}

const char *log_level_name(log_level_t level)
{
    return (level >= LOG_DEBUG && level <= LOG_ERROR) ? level_names[level] : "info";
}

void log_init(log_level_t level)
{
    log_threshold = level;
}

int log_enabled(log_level_t level)
{
    return level >= log_threshold;
}

void log_json(log_level_t level, const char *msg, json_t *fields)
{
    if (!log_enabled(level)) {
        json_decref(fields);
        return;
    }
    char when[40];
    time_format_rfc3339_now(when, sizeof when);
    json_t *line = json_object();
    json_object_set_new(line, "time", json_string(when));
    json_object_set_new(line, "level", json_string(log_level_name(level)));
    json_object_set_new(line, "msg", json_string(msg ? msg : ""));
    if (fields) json_object_update(line, fields);
    json_decref(fields);
    char *text = json_dump_compact(line);
    json_decref(line);
    if (!text) return;
    /* One fprintf per line: stdio locks the stream, so lines from threads never interleave. */
    fprintf(stderr, "%s\n", text);
    free(text);
}

void log_msg(log_level_t level, const char *fmt, ...)
{
    if (!log_enabled(level)) return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_json(level, buf, NULL);
}
