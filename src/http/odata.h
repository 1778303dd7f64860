/* odata.h — the OData $filter subset Azure's clients send, parsed once for every plane.
 *
 * A filter is terms joined by 'and'; each term is one of
 *     name eq 'value'                  (ARM: principalId eq '…', roleName eq '…'; Graph: appId eq
 * '…') fn() | fn('value')               (ARM: atScope(), assignedTo('…')) fn(field,'value') (Graph:
 * startswith(displayName,'…')) field/any(c:c eq 'value')        (Graph:
 * servicePrincipalNames/any(c:c eq '…')) Strings are single-quoted with '' for a quote. What each
 * form means, and which a plane accepts, is the plane's business: the resource manager refuses the
 * Graph forms and Graph the calls other than startswith, each in its own error shape. */
#ifndef CASTOR_HTTP_ODATA_H
#define CASTOR_HTTP_ODATA_H

#include "core/arena.h"
#include "core/err.h"

#define HTTP_FILTER_TERMS_MAX 8

typedef enum http_filter_kind {
    HTTP_FILTER_EQ = 0, /* name eq 'value' */
    HTTP_FILTER_CALL,   /* name(), name('value'), name(arg,'value') */
    HTTP_FILTER_ANY     /* name/any(c:c eq 'value'); name is the collection, without /any */
} http_filter_kind_t;

typedef struct http_filter_term {
    http_filter_kind_t kind;
    const char *name;  /* the property, function or collection name */
    const char *arg;   /* a call's property argument (startswith(arg,'v')); else NULL */
    const char *value; /* the quoted value, unquoted; NULL for name() */
} http_filter_term_t;

typedef struct http_filter {
    int n;
    http_filter_term_t t[HTTP_FILTER_TERMS_MAX];
    int error_offset; /* after a parse failure: where in the text it stopped */
} http_filter_t;

/* Parses text (NULL or "" is an empty filter) into out, strings in the arena. CASTOR_EINVAL
 * (status 400, no wire code: the plane gives its own) with error_offset set when text is not
 * of the forms above or has more than HTTP_FILTER_TERMS_MAX terms. */
int http_filter_parse(arena_t *a, const char *text, http_filter_t *out, castor_err *err);

#endif
