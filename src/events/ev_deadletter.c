/* ev_deadletter.c — dead-letter records on disk (ev_deadletter.h). The record's fields follow
 * Event Grid's dead-letter format (deadLetterReason, deliveryAttempts, lastDeliveryOutcome),
 * with the event itself under "event". */
#include "events/ev_deadletter.h"

#include "core/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *ev_deadletter_json(const ev_deadletter_t *d)
{
    json_error_t jerr;
    json_t *ev = json_loads(d->event, JSON_DECODE_ANY, &jerr);
    char now[40];
    time_format_rfc3339_now(now, sizeof now);
    json_t *rec = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:I, s:o}", "deadLetterReason",
                            d->reason, "deliveryAttempts", d->attempts, "lastDeliveryOutcome",
                            d->last_error ? d->last_error : "", "deadLetteredAt", now, "route",
                            d->route, "endpoint", d->endpoint, "sequence", (json_int_t)d->seq,
                            "event", ev ? ev : json_string(d->event));
    char *text = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
    json_decref(rec);
    return text;
}

/* Makes every folder of path that is missing. */
static int mkdirs(char *path, castor_err *err)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        int bad = mkdir(path, 0700) < 0 && errno != EEXIST;
        *p = '/';
        if (bad) return castor_err_set(err, CASTOR_EIO, "creating %s: %s", path, strerror(errno));
    }
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return castor_err_set(err, CASTOR_EIO, "creating %s: %s", path, strerror(errno));
    return CASTOR_OK;
}

/* A path segment from a name: anything but letters, digits, '-', '_' and '.' becomes '_'. */
static void segment(char *out, size_t size, const char *name)
{
    size_t i = 0;
    for (; name[i] && i + 1 < size; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || (c == '.' && i > 0);
        out[i] = ok ? c : '_';
    }
    out[i] = '\0';
}

int ev_deadletter_write(const ev_deadletter_t *d, char *path_out, size_t size, castor_err *err)
{
    char inst[80], ep[80], route[160];
    segment(inst, sizeof inst, d->instance);
    segment(ep, sizeof ep, d->endpoint);
    segment(route, sizeof route, d->route);
    char dir[4096], path[4400], tmp[4450];
    int n = snprintf(dir, sizeof dir, "%s/%s/%s", d->root, inst, ep);
    if (n < 0 || (size_t)n >= sizeof dir)
        return castor_err_set(err, CASTOR_EINVAL, "the dead-letter folder %s is too long a path",
                              d->root);
    int rc = mkdirs(dir, err);
    if (rc < 0) return rc;
    snprintf(path, sizeof path, "%s/%lld.%s.json", dir, (long long)d->seq, route);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    char *text = ev_deadletter_json(d);
    if (!text) return castor_err_set(err, CASTOR_ENOMEM, "out of memory writing a dead letter");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t len = strlen(text);
    int bad = fd < 0 || write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
              fdatasync(fd) < 0;
    int saved = errno;
    if (fd >= 0) close(fd);
    free(text);
    if (bad || rename(tmp, path) < 0) {
        if (!bad) saved = errno;
        unlink(tmp);
        return castor_err_set(err, CASTOR_EIO, "writing the dead letter %s: %s", path,
                              strerror(saved));
    }
    /* The rename is durable only once the folder is synced. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    if (path_out) snprintf(path_out, size, "%s", path);
    return CASTOR_OK;
}
