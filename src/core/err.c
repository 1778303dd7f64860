/* err.c — filling and mapping castor_err records (see err.h). */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void castor_err_clear(castor_err *err)
{
    if (!err) return;
    err->rc = CASTOR_OK;
    err->status = 0;
    err->code[0] = '\0';
    err->message[0] = '\0';
    err->path[0] = '\0';
}

static void err_vfill(castor_err *err, int rc, const char *fmt, va_list ap)
{
    err->rc = rc;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
}

int castor_err_set(castor_err *err, int rc, const char *fmt, ...)
{
    if (!err) return rc;
    castor_err_clear(err);
    va_list ap;
    va_start(ap, fmt);
    err_vfill(err, rc, fmt, ap);
    va_end(ap);
    return rc;
}

int castor_err_http(castor_err *err, int rc, int status, const char *code, const char *fmt, ...)
{
    if (!err) return rc;
    castor_err_clear(err);
    va_list ap;
    va_start(ap, fmt);
    err_vfill(err, rc, fmt, ap);
    va_end(ap);
    err->status = status;
    snprintf(err->code, sizeof err->code, "%s", code ? code : "");
    return rc;
}

void castor_err_at(castor_err *err, const char *path)
{
    if (!err || !path) return;
    snprintf(err->path, sizeof err->path, "%s", path);
}

void castor_err_prefix(castor_err *err, const char *fmt, ...)
{
    if (!err) return;
    char prefix[CASTOR_ERR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[CASTOR_ERR_MESSAGE_MAX];
    memcpy(old, err->message, sizeof old);
    castor_text_cut(err->message, sizeof err->message,
                    snprintf(err->message, sizeof err->message, "%s: %s", prefix, old));
}

int castor_text_cut(char *buf, size_t size, int n)
{
    if (n < 0 || (size_t)n < size || size < 4) return 0;
    size_t at = size - 4;
    while (at > 0 && ((unsigned char)buf[at] & 0xC0) == 0x80)
        at--;
    memcpy(buf + at, "...", 4);
    return 1;
}

int castor_rc_status(int rc)
{
    switch (rc) {
    case CASTOR_OK:
        return 200;
    case CASTOR_EINVAL:
        return 400;
    case CASTOR_ENOTFOUND:
        return 404;
    case CASTOR_ECONFLICT:
        return 409;
    case CASTOR_EPRECOND:
        return 412;
    case CASTOR_ELIMIT:
        return 413;
    case CASTOR_EPERM:
        return 403;
    case CASTOR_EAUTH:
        return 401;
    case CASTOR_EIO:
        return 503;
    default:
        return 500;
    }
}

const char *castor_rc_name(int rc)
{
    switch (rc) {
    case CASTOR_OK:
        return "OK";
    case CASTOR_EINVAL:
        return "EINVAL";
    case CASTOR_ENOTFOUND:
        return "ENOTFOUND";
    case CASTOR_ECONFLICT:
        return "ECONFLICT";
    case CASTOR_EPRECOND:
        return "EPRECOND";
    case CASTOR_ELIMIT:
        return "ELIMIT";
    case CASTOR_EPERM:
        return "EPERM";
    case CASTOR_EAUTH:
        return "EAUTH";
    case CASTOR_EIO:
        return "EIO";
    case CASTOR_ENOMEM:
        return "ENOMEM";
    case CASTOR_EINTERNAL:
        return "EINTERNAL";
    default:
        return "EUNKNOWN";
    }
}
