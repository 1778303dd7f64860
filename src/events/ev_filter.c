/* ev_filter.c — the event-route filter language (ev_filter.h).
 *
 * First cut: only the constant filters `true` and `false`; every other filter is refused with
 * EventRouteFilterInvalid, never accepted unchecked. The full language replaces this file. */
#include "events/ev_filter.h"

#include <stdlib.h>
#include <string.h>

struct ev_filter {
    bool constant;
};

static void trim(const char **s, size_t *len)
{
    while (*len && strchr(" \t\r\n", (*s)[0]))
        (*s)++, (*len)--;
    while (*len && strchr(" \t\r\n", (*s)[*len - 1]))
        (*len)--;
}

int ev_filter_compile(const char *text, size_t len, ev_filter_t **out, castor_err *err)
{
    *out = NULL;
    trim(&text, &len);
    bool value;
    if (len == 4 && memcmp(text, "true", 4) == 0)
        value = true;
    else if (len == 5 && memcmp(text, "false", 5) == 0)
        value = false;
    else
        return castor_err_http(err, CASTOR_EINVAL, 400, "EventRouteFilterInvalid",
                               "the filter '%.*s' is not supported yet: use 'true' or 'false'",
                               (int)(len > 200 ? 200 : len), text);
    ev_filter_t *f = malloc(sizeof *f);
    if (!f) return castor_err_set(err, CASTOR_ENOMEM, "out of memory compiling a filter");
    f->constant = value;
    *out = f;
    return 0;
}

void ev_filter_free(ev_filter_t *f)
{
    free(f);
}

bool ev_filter_match(const ev_filter_t *f, const json_t *event)
{
    (void)event;
    return f->constant;
}
