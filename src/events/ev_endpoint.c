/* ev_endpoint.c — parsing an endpoint's stored configuration (ev_endpoint.h). */
#include "events/ev_endpoint.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *str_or_null(json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v && *v ? strdup(v) : NULL;
}

static int int_in(json_t *obj, const char *key, int dflt, int lo, int hi, int *out, castor_err *err)
{
    json_t *v = json_object_get(obj, key);
    *out = dflt;
    if (!v || json_is_null(v)) return CASTOR_OK;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return castor_err_set(err, CASTOR_EINVAL, "retryPolicy.%s must be an integer from %d to %d",
                              key, lo, hi);
    *out = (int)json_integer_value(v);
    return CASTOR_OK;
}

void ev_endpoint_clear(ev_endpoint_t *ep)
{
    free(ep->uri);
    free(ep->auth_header);
    free(ep->ca_pem);
    free(ep->topic);
    free(ep->username);
    free(ep->password);
    free(ep->client_id);
    memset(ep, 0, sizeof *ep);
}

static char *header_line(const char *name, const char *prefix, const char *value)
{
    size_t n = strlen(name) + strlen(prefix) + strlen(value) + 4;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s: %s%s", name, prefix, value);
    return s;
}

int ev_endpoint_parse(const char *name, const char *type, const char *properties,
                      const char *secrets, ev_endpoint_t *out, castor_err *err)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *props = json_loads(properties ? properties : "{}", 0, &jerr);
    json_t *sec = json_loads(secrets && *secrets ? secrets : "{}", 0, &jerr);
    int rc = CASTOR_OK;
    if (!json_is_object(props) || !json_is_object(sec)) {
        rc = castor_err_set(err, CASTOR_EINVAL, "endpoint %s: its stored properties are not JSON",
                            name);
        goto done;
    }
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(out->type, sizeof out->type, "%s", type);
    if (strcmp(type, "EventGrid") == 0) {
        /* An Event Grid topic takes CloudEvents over HTTPS with its key in aeg-sas-key. */
        out->kind = EV_SINK_WEBHOOK;
        out->uri = str_or_null(props, "TopicEndpoint");
        const char *key = json_string_value(json_object_get(sec, "accessKey1"));
        if (key && *key) out->auth_header = header_line("aeg-sas-key", "", key);
    } else if (strcmp(type, "webhook") == 0) {
        out->kind = EV_SINK_WEBHOOK;
        out->uri = str_or_null(props, "endpointUri");
        const char *key = json_string_value(json_object_get(sec, "accessKey"));
        if (key && *key) out->auth_header = header_line("Authorization", "Bearer ", key);
    } else if (strcmp(type, "mqtt") == 0) {
        out->kind = EV_SINK_MQTT;
        out->uri = str_or_null(props, "endpointUri");
        out->topic = str_or_null(props, "topic");
        if (!out->topic) out->topic = strdup(EV_DEFAULT_TOPIC);
        out->username = str_or_null(props, "username");
        out->password = str_or_null(sec, "password");
        out->client_id = str_or_null(props, "clientId");
    } else {
        rc = castor_err_set(err, CASTOR_EINVAL,
                            "endpoint %s has type %s, which castor cannot deliver to (it delivers "
                            "to EventGrid, webhook and mqtt endpoints)",
                            name, type);
        goto done;
    }
    if (!out->uri) {
        rc = castor_err_set(err, CASTOR_EINVAL, "endpoint %s has no %s", name,
                            strcmp(type, "EventGrid") == 0 ? "TopicEndpoint" : "endpointUri");
        goto done;
    }
    out->ca_pem = str_or_null(props, "caCertificate");
    const char *dl = json_string_value(json_object_get(props, "deadLetterEndpoint"));
    snprintf(out->dead_letter_endpoint, sizeof out->dead_letter_endpoint, "%s", dl ? dl : "");
    json_t *retry = json_object_get(props, "retryPolicy");
    int ttl_min = EV_DEFAULT_TTL_MINUTES;
    rc = int_in(retry, "maxDeliveryAttempts", EV_DEFAULT_MAX_ATTEMPTS, 1, 100, &out->max_attempts,
                err);
    if (rc == 0)
        rc = int_in(retry, "eventTimeToLiveInMinutes", EV_DEFAULT_TTL_MINUTES, 1, 1440, &ttl_min,
                    err);
    out->ttl_ms = (int64_t)ttl_min * 60000;
done:
    json_decref(props);
    json_decref(sec);
    if (rc < 0) ev_endpoint_clear(out);
    return rc;
}

/* Appends v to o with the characters that would change a topic's structure escaped. */
static size_t put_value(char *o, const char *v)
{
    size_t n = 0;
    for (; v && *v; v++) {
        if (*v == '+' || *v == '#' || *v == '/' || *v == '%') {
            if (o) sprintf(o + n, "%%%02X", (unsigned char)*v);
            n += 3;
        } else {
            if (o) o[n] = *v;
            n++;
        }
    }
    return n;
}

static size_t expand(char *o, const char *tmpl, const char *const vals[4])
{
    static const char *const names[4] = {"{instance}", "{twinId}", "{type}", "{subject}"};
    size_t n = 0;
    for (const char *c = tmpl; *c;) {
        int hit = -1;
        for (int i = 0; i < 4 && hit < 0; i++)
            if (strncmp(c, names[i], strlen(names[i])) == 0) hit = i;
        if (hit >= 0) {
            n += put_value(o ? o + n : NULL, vals[hit]);
            c += strlen(names[hit]);
        } else {
            if (o) o[n] = *c;
            n++;
            c++;
        }
    }
    return n;
}

char *ev_topic_expand(const char *tmpl, const char *instance, const char *twin_id, const char *type,
                      const char *subject)
{
    const char *vals[4] = {instance, twin_id, type, subject};
    size_t n = expand(NULL, tmpl, vals);
    char *s = malloc(n + 1);
    if (!s) return NULL;
    expand(s, tmpl, vals);
    s[n] = '\0';
    return s;
}
