/* dtdl_dtmi.c — Digital Twin Model Identifier syntax.
 *
 * dtmi:<segment>(:<segment>)*;<major>[.<minor>] where a segment starts with a letter, holds
 * letters, digits and underscores and does not end with an underscore. DTDL v2 requires the
 * major version and has no minor; v3 makes the version optional and allows a minor (1-6 digits).
 * Written by hand rather than as a regex because it runs on every identifier of every model. */
#include <ctype.h>
#include <string.h>

#include "dtdl/dtdl.h"

static bool is_alpha(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Parses [1-9][0-9]{0,max-1} at *p. */
static bool number(const char **p, int max)
{
    const char *s = *p;
    if (*s < '1' || *s > '9') return false;
    int n = 0;
    while (is_digit(*s)) {
        s++;
        n++;
    }
    if (n > max) return false;
    *p = s;
    return true;
}

/* Parses one path segment at *p: a letter (or, when reserved_ok, an underscore) then letters,
 * digits and underscores, not ending with an underscore. */
static bool segment(const char **p, bool reserved_ok)
{
    const char *s = *p;
    if (!is_alpha(*s) && !(reserved_ok && *s == '_')) return false;
    char last = *s;
    while (is_alpha(*s) || is_digit(*s) || *s == '_')
        last = *s++;
    if (last == '_') return false;
    *p = s;
    return true;
}

bool dtdl_dtmi_syntax_valid(const char *s)
{
    if (!s || strncmp(s, "dtmi:", 5) != 0) return false;
    const char *p = s + 5;
    for (;;) {
        if (!segment(&p, true)) return false;
        if (*p != ':') break;
        p++;
    }
    if (*p == ';') {
        p++;
        if (!number(&p, 9)) return false;
        if (*p == '.') {
            p++;
            if (!number(&p, 6)) return false;
        }
    }
    if (*p == '#') {
        p++;
        if (!segment(&p, true)) return false;
    }
    return *p == '\0';
}

bool dtdl_dtmi_valid(const char *s, int dtdl_version)
{
    if (!s || strncmp(s, "dtmi:", 5) != 0) return false;
    const char *p = s + 5;
    for (;;) {
        if (!segment(&p, false)) return false;
        if (*p != ':') break;
        p++;
    }
    if (*p == '\0') return dtdl_version >= 3;
    if (*p != ';') return false;
    p++;
    if (!number(&p, 9)) return false;
    if (*p == '.' && dtdl_version >= 3) {
        p++;
        if (!number(&p, 6)) return false;
    }
    return *p == '\0';
}
