/* ev_filter.h — ADT's event-route filter language, pure: compile a route's filter text once,
 * then test CloudEvents against it.
 *
 * The language (../shared/reference/adt-limits-and-events.md §3.1): comparisons of the
 * CloudEvents attributes (type, source, subject, id, time, dataschema, datacontenttype,
 * specversion, traceparent) and of `$body.<path>` (the event's `data`) with string, number,
 * boolean and null literals; `=`, `!=`, `<`, `<=`, `>`, `>=`; STARTS_WITH, ENDS_WITH,
 * CONTAINS, IN [...] and NOT IN [...]; AND, OR, NOT, parentheses. `true` matches every event,
 * `false` none. Keywords and attribute names are case-insensitive; values and $body path
 * segments are case-sensitive, as in ADT. A missing attribute or path is undefined and passes
 * no comparison, not even `!= null`; ev_filter.c states the rest of the semantics. */
#ifndef CASTOR_EV_FILTER_H
#define CASTOR_EV_FILTER_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct ev_filter ev_filter_t;

/* Compiles text (len bytes, not necessarily NUL-terminated) into *out, which the caller frees
 * with ev_filter_free. A filter that does not parse is CASTOR_EINVAL with wire code
 * "EventRouteFilterInvalid" (HTTP 400) and a message naming the character offset and what was
 * expected; one over a cap (CASTOR_EVENT_FILTER_*_MAX in core/limits.h: length, nesting, IN
 * list) is CASTOR_ELIMIT with the same code and status. */
int ev_filter_compile(const char *text, size_t len, ev_filter_t **out, castor_err *err);

/* Frees a compiled filter; NULL is fine. */
void ev_filter_free(ev_filter_t *f);

/* Whether event — a CloudEvent object: specversion, id, type, source, subject, time,
 * datacontenttype, [dataschema], [traceparent], data — passes the filter. Pure and
 * thread-safe: one compiled filter may be matched from several threads at once. */
bool ev_filter_match(const ev_filter_t *f, const json_t *event);

#endif
