/* ev_endpoint.h — an endpoint as the dispatcher delivers to it: where, how, with which
 * secrets, and what to do with an event it cannot deliver. Parsed from the ARM resource's
 * stored properties and secrets (store_endpoints.h); pure. */
#ifndef CASTOR_EV_ENDPOINT_H
#define CASTOR_EV_ENDPOINT_H

#include "core/err.h"

#include <stdint.h>

typedef enum ev_sink_kind { EV_SINK_WEBHOOK, EV_SINK_MQTT } ev_sink_kind_t;

#define EV_ENDPOINT_NAME_MAX 64
/* Defaults of retryPolicy, as Event Grid's: 30 attempts within 24 hours. */
#define EV_DEFAULT_MAX_ATTEMPTS 30
#define EV_DEFAULT_TTL_MINUTES 1440
#define EV_DEFAULT_TOPIC "castor/{instance}/{twinId}/{type}"

/* Strings are heap copies owned by the struct; ev_endpoint_clear frees them. */
typedef struct ev_endpoint {
    char name[EV_ENDPOINT_NAME_MAX];
    char type[16]; /* as stored: EventGrid | webhook | mqtt */
    ev_sink_kind_t kind;
    char *uri;         /* https://… (webhook, EventGrid) or mqtt[s]://host:port */
    char *auth_header; /* a whole header line ("aeg-sas-key: …"), or NULL */
    char *ca_pem;      /* extra trusted CA certificates (PEM), or NULL */
    char *topic;       /* MQTT topic template */
    char *username;    /* MQTT, or NULL */
    char *password;    /* MQTT secret, or NULL */
    char *client_id;   /* MQTT client id prefix, or NULL */
    int max_attempts;
    int64_t ttl_ms;
    char dead_letter_endpoint[EV_ENDPOINT_NAME_MAX]; /* "" for the folder */
} ev_endpoint_t;

/* Parses an endpoint of the given stored type from its properties and secrets (JSON objects as
 * text). CASTOR_EINVAL with a message naming the field when something is missing or wrong. */
int ev_endpoint_parse(const char *name, const char *type, const char *properties,
                      const char *secrets, ev_endpoint_t *out, castor_err *err);
void ev_endpoint_clear(ev_endpoint_t *ep);

/* The MQTT topic for an event: template with {instance}, {twinId}, {type} and {subject}
 * replaced, each value with '+', '#', '/' and '%' percent-encoded so an id cannot add levels or
 * wildcards. Caller frees; NULL when out of memory. */
char *ev_topic_expand(const char *tmpl, const char *instance, const char *twin_id, const char *type,
                      const char *subject);

#endif
