/* arm_endpoints.c — Microsoft.DigitalTwins/digitalTwinsInstances/endpoints: the destinations
 * event routes deliver to, as ARM sub-resources of an instance (create or replace, long-running
 * like the instance; get; list; delete).
 *
 * castor delivers to three kinds: ADT's own EventGrid (its TopicEndpoint taken as a webhook
 * with Event Grid's aeg-sas-key header), and its own `webhook` and `mqtt`. EventHub and
 * ServiceBus need AMQP, which castor does not speak: they are refused, saying so. What a GET
 * shows is kept apart from the secrets (store_endpoints.h), so no read path can return a key;
 * the dispatcher (src/events/) reads both. */
#include "arm/arm_internal.h"

#include "core/ids.h"
#include "core/timeutil.h"
#include "store/store_endpoints.h"
#include "store/store_events.h"
#include "store/store_events.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define EP_TYPE "Microsoft.DigitalTwins/digitalTwinsInstances/endpoints"
#define EP_PER_INSTANCE_MAX 6 /* ADT's limit (adt-api.md §9) */
#define EP_URI_MAX 2048       /* endpointUri / TopicEndpoint */
#define EP_SECRET_MAX 1024    /* access keys, passwords */
#define EP_CA_MAX (64 * 1024) /* a PEM bundle of a few certificates */
#define EP_TOPIC_MAX 256      /* the MQTT topic template */
#define EP_USER_MAX 256       /* MQTT username */
#define EP_CLIENT_ID_MAX 64   /* MQTT client id */
#define EP_DEFAULT_TOPIC "castor/{instance}/{twinId}/{type}"
#define EP_TYPES "'EventGrid', 'webhook' or 'mqtt'"

/* 1 when name follows ARM's endpoint rule ^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{2,49}[a-zA-Z0-9]$
 * within the path parameter's maxLength of 49. */
static int name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 3 || n > 49 || name[0] == '-' || name[n - 1] == '-') return 0;
    int all_digits = 1;
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)name[i]) && name[i] != '-') return 0;
        if (!isdigit((unsigned char)name[i])) all_digits = 0;
    }
    return !all_digits;
}

/* ARM's 400 InvalidRequestContent with a formatted message. */
__attribute__((format(printf, 2, 3))) static int bad_content(castor_err *err, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRequestContent", "%s", msg);
}

/* An optional string property: *out NULL when absent or null; a wrong type or an over-long
 * value is refused. */
static int opt_string(const json_t *props, const char *key, size_t max, const char **out,
                      castor_err *err)
{
    const json_t *v = json_object_get(props, key);
    *out = NULL;
    if (!v || json_is_null(v)) return CASTOR_OK;
    if (!json_is_string(v)) return bad_content(err, "properties.%s must be a string.", key);
    if (json_string_length(v) > max)
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRequestContent",
                               "properties.%s is longer than %zu characters.", key, max);
    *out = json_string_value(v);
    return CASTOR_OK;
}

static int req_string(const json_t *props, const char *key, size_t max, const char *why,
                      const char **out, castor_err *err)
{
    int rc = opt_string(props, key, max, out, err);
    if (rc < 0) return rc;
    if (*out && **out) return CASTOR_OK;
    bad_content(err, "properties.%s is required%s.", key, why);
    return CASTOR_EINVAL; /* so that callers (and analyzers) see *out is set on 0 */
}

/* 1 when host (no port, IPv6 without brackets) is this machine's loopback. */
static int host_is_loopback(const char *host)
{
    return strcasecmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
           strcmp(host, "::1") == 0;
}

/* Checks uri is scheme://host[:port][/path] with one of the schemes (each "name:port" with
 * its default port), and that http:// goes to a loopback host only. */
static int uri_check(const char *key, const char *uri, const char *const *schemes, int path_ok,
                     castor_err *err)
{
    const char *sep = strstr(uri, "://");
    size_t slen = sep ? (size_t)(sep - uri) : 0;
    int known = 0;
    for (size_t i = 0; sep && schemes[i]; i++)
        if (strlen(schemes[i]) == slen && strncasecmp(uri, schemes[i], slen) == 0) known = 1;
    char list[128] = "";
    for (size_t i = 0; schemes[i]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s://", i ? " or " : "",
                 schemes[i]);
    if (!known)
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRequestContent",
                               "properties.%s '%s' is not a URL castor can deliver to: it must "
                               "start with %s.",
                               key, uri, list);
    const char *host = sep + 3;
    size_t hlen = strcspn(host, "/?#");
    char authority[300];
    /* Not echoed: the part before '@' is a credential, and GET would show the URL. */
    if (memchr(host, '@', hlen))
        return bad_content(err,
                           "properties.%s holds credentials (user:password@): GET shows the "
                           "URL, so castor does not accept them there; use the endpoint's "
                           "secret properties (accessKey, accessKey1 or password).",
                           key);
    if (hlen == 0 || hlen >= sizeof authority)
        return bad_content(err, "properties.%s '%s' has no valid host.", key, uri);
    memcpy(authority, host, hlen);
    authority[hlen] = '\0';
    char *h = authority, *port = NULL;
    if (h[0] == '[') {
        char *close = strchr(h, ']');
        if (!close)
            return bad_content(err, "properties.%s '%s' has an unclosed IPv6 host.", key, uri);
        *close = '\0';
        h++;
        if (close[1] == ':')
            port = close + 2;
        else if (close[1])
            return bad_content(err, "properties.%s '%s' has a bad port.", key, uri);
    } else if ((port = strchr(h, ':'))) {
        *port++ = '\0';
    }
    int host_ok = h[0] != '\0';
    for (const char *p = h; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(".-_:", *p)) host_ok = 0;
    if (!host_ok) return bad_content(err, "properties.%s '%s' has no valid host.", key, uri);
    if (port) {
        char *end;
        long n = strtol(port, &end, 10);
        if (!*port || *end || n < 1 || n > 65535)
            return bad_content(err, "properties.%s '%s' has a bad port (1-65535).", key, uri);
    }
    if (!path_ok && host[hlen] && strcmp(host + hlen, "/") != 0)
        return bad_content(err, "properties.%s '%s' must be scheme://host:port, without a path.",
                           key, uri);
    if (slen == 4 && strncasecmp(uri, "http", 4) == 0 && !host_is_loopback(h))
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRequestContent",
                               "properties.%s '%s' uses http:// to a host other than this "
                               "machine: events leave castor over https:// only (http:// is "
                               "allowed to localhost, 127.0.0.0/8 and ::1, for tests).",
                               key, uri);
    return CASTOR_OK;
}

static int ca_check(const char *pem, castor_err *err)
{
    if (pem && !strstr(pem, "-----BEGIN CERTIFICATE-----"))
        return bad_content(err, "properties.caCertificate must be PEM text (one or more "
                                "-----BEGIN CERTIFICATE----- blocks).");
    return CASTOR_OK;
}

/* The topic template: MQTT forbids wildcards in a published topic, and castor fills only the
 * placeholders it knows, so a typo is caught here rather than in every publish. */
static int topic_check(const char *topic, castor_err *err)
{
    if (strchr(topic, '+') || strchr(topic, '#'))
        return bad_content(err,
                           "properties.topic '%s' holds an MQTT wildcard ('+' or '#'), which a "
                           "published topic cannot.",
                           topic);
    for (const char *p = strchr(topic, '{'); p; p = strchr(p + 1, '{')) {
        if (strncmp(p, "{instance}", 10) != 0 && strncmp(p, "{twinId}", 8) != 0 &&
            strncmp(p, "{type}", 6) != 0)
            return bad_content(err,
                               "properties.topic '%s' has an unknown placeholder at '%s': the "
                               "placeholders are {instance}, {twinId} and {type}.",
                               topic, p);
    }
    if (strchr(topic, '}') && !strchr(topic, '{'))
        return bad_content(err, "properties.topic '%s' has a '}' without its '{'.", topic);
    return CASTOR_OK;
}

static int retry_int(const json_t *rp, const char *key, int lo, int hi, int dflt, int *out,
                     castor_err *err)
{
    const json_t *v = json_object_get(rp, key);
    *out = dflt;
    if (!v || json_is_null(v)) return CASTOR_OK;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRequestContent",
                               "properties.retryPolicy.%s must be an integer from %d to %d "
                               "(default %d).",
                               key, lo, hi, dflt);
    *out = (int)json_integer_value(v);
    return CASTOR_OK;
}

/* What a PUT body becomes: the properties GET shows and the secrets it never shows. */
typedef struct ep_body {
    const char *type;        /* canonical spelling */
    json_t *props;           /* owned */
    json_t *secrets;         /* owned */
    const char *dead_letter; /* deadLetterEndpoint or NULL */
} ep_body_t;

static void ep_body_free(ep_body_t *b)
{
    json_decref(b->props);
    json_decref(b->secrets);
    b->props = b->secrets = NULL;
}

static void set_str(json_t *o, const char *key, const char *v)
{
    json_object_set_new(o, key, v ? json_string(v) : json_null());
}

/* Validates the body and builds b (freed by the caller with ep_body_free, also on failure). */
static int body_parse(const json_t *body, ep_body_t *b, castor_err *err)
{
    memset(b, 0, sizeof *b);
    const json_t *props = json_object_get(body, "properties");
    if (!json_is_object(body) || !json_is_object(props))
        return bad_content(err,
                           "The body must be an object {\"properties\": {\"endpointType\": ...}}; "
                           "endpointType is " EP_TYPES ".");
    const char *type = NULL;
    int rc = req_string(props, "endpointType", 32, " (" EP_TYPES ")", &type, err);
    if (rc < 0) return rc;
    if (strcasecmp(type, "EventHub") == 0 || strcasecmp(type, "ServiceBus") == 0)
        return castor_err_http(err, CASTOR_EINVAL, 400, "BadRequest",
                               "castor cannot deliver to an %s endpoint: it has no AMQP driver. "
                               "The endpoint types castor has are 'EventGrid' (TopicEndpoint and "
                               "accessKey1, delivered as a CloudEvents webhook), 'webhook' "
                               "(endpointUri) and 'mqtt' (endpointUri mqtt:// or mqtts://).",
                               type);
    static const char *const types[] = {"EventGrid", "webhook", "mqtt"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(type, types[i]) == 0) b->type = types[i];
    if (!b->type)
        return bad_content(err, "properties.endpointType '%s' is not one castor has: it is %s.",
                           type, EP_TYPES);

    const char *auth = NULL;
    rc = opt_string(props, "authenticationType", 32, &auth, err);
    if (rc < 0) return rc;
    if (auth && strcasecmp(auth, "IdentityBased") == 0)
        return castor_err_http(err, CASTOR_EINVAL, 400, "BadRequest",
                               "authenticationType 'IdentityBased' needs a managed identity, "
                               "which castor does not have: use 'KeyBased' (the default) with "
                               "the endpoint's key or password.");
    if (auth && strcasecmp(auth, "KeyBased") != 0)
        return bad_content(err,
                           "properties.authenticationType '%s' is not 'KeyBased' or "
                           "'IdentityBased'.",
                           auth);
    const json_t *identity = json_object_get(props, "identity");
    if (identity && !json_is_null(identity))
        return castor_err_http(err, CASTOR_EINVAL, 400, "BadRequest",
                               "properties.identity is not supported: castor has no managed "
                               "identities; leave it out and use 'KeyBased' authentication.");
    const char *dls = NULL, *dlu = NULL;
    if ((rc = opt_string(props, "deadLetterSecret", EP_URI_MAX, &dls, err)) < 0) return rc;
    if ((rc = opt_string(props, "deadLetterUri", EP_URI_MAX, &dlu, err)) < 0) return rc;
    if (dls || dlu)
        return castor_err_http(err, CASTOR_EINVAL, 400, "BadRequest",
                               "castor does not dead-letter to storage (%s): events an endpoint "
                               "cannot deliver go to the folder deadletter/<instance>/<endpoint>/ "
                               "in castor's data folder, or to another endpoint named by "
                               "properties.deadLetterEndpoint.",
                               dls ? "deadLetterSecret" : "deadLetterUri");
    if ((rc = opt_string(props, "deadLetterEndpoint", 64, &b->dead_letter, err)) < 0) return rc;
    if (b->dead_letter && !b->dead_letter[0]) b->dead_letter = NULL;
    const json_t *rp = json_object_get(props, "retryPolicy");
    if (rp && !json_is_null(rp) && !json_is_object(rp))
        return bad_content(err, "properties.retryPolicy must be an object {maxDeliveryAttempts, "
                                "eventTimeToLiveInMinutes}.");
    int attempts, ttl;
    if ((rc = retry_int(rp, "maxDeliveryAttempts", 1, 100, 30, &attempts, err)) < 0) return rc;
    if ((rc = retry_int(rp, "eventTimeToLiveInMinutes", 1, 1440, 1440, &ttl, err)) < 0) return rc;

    b->props = json_object();
    b->secrets = json_object();
    if (!b->props || !b->secrets) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    json_t *p = b->props, *s = b->secrets;
    set_str(p, "endpointType", b->type);
    set_str(p, "authenticationType", "KeyBased");

    static const char *const web[] = {"https", "http", NULL};
    static const char *const mq[] = {"mqtt", "mqtts", NULL};
    if (b->type == types[0]) {
        const char *topic = NULL, *k1 = NULL, *k2 = NULL;
        rc = req_string(props, "TopicEndpoint", EP_URI_MAX, " (the Event Grid topic's URL)", &topic,
                        err);
        if (rc == 0) rc = uri_check("TopicEndpoint", topic, web, 1, err);
        if (rc == 0)
            rc = req_string(props, "accessKey1", EP_SECRET_MAX,
                            " (the topic's key, sent as aeg-sas-key)", &k1, err);
        if (rc == 0) rc = opt_string(props, "accessKey2", EP_SECRET_MAX, &k2, err);
        if (rc < 0) return rc;
        set_str(p, "TopicEndpoint", topic);
        set_str(p, "accessKey1", NULL);
        set_str(p, "accessKey2", NULL);
        set_str(s, "accessKey1", k1);
        if (k2) set_str(s, "accessKey2", k2);
    } else if (b->type == types[1]) {
        const char *uri = NULL, *key = NULL, *ca = NULL;
        rc = req_string(props, "endpointUri", EP_URI_MAX, " (https://...)", &uri, err);
        if (rc == 0) rc = uri_check("endpointUri", uri, web, 1, err);
        if (rc == 0) rc = opt_string(props, "accessKey", EP_SECRET_MAX, &key, err);
        if (rc == 0) rc = opt_string(props, "caCertificate", EP_CA_MAX, &ca, err);
        if (rc == 0) rc = ca_check(ca, err);
        if (rc < 0) return rc;
        set_str(p, "endpointUri", uri);
        set_str(p, "accessKey", NULL);
        if (ca) set_str(p, "caCertificate", ca);
        if (key) set_str(s, "accessKey", key);
    } else {
        const char *uri = NULL, *topic = NULL, *user = NULL, *pass = NULL, *client = NULL,
                   *ca = NULL;
        rc = req_string(props, "endpointUri", EP_URI_MAX,
                        " (mqtt://host:port or mqtts://host:port)", &uri, err);
        if (rc == 0) rc = uri_check("endpointUri", uri, mq, 0, err);
        if (rc == 0) rc = opt_string(props, "topic", EP_TOPIC_MAX, &topic, err);
        if (rc == 0 && topic && !topic[0]) topic = NULL;
        if (rc == 0) rc = topic_check(topic ? topic : EP_DEFAULT_TOPIC, err);
        if (rc == 0) rc = opt_string(props, "username", EP_USER_MAX, &user, err);
        if (rc == 0) rc = opt_string(props, "password", EP_SECRET_MAX, &pass, err);
        if (rc == 0) rc = opt_string(props, "clientId", EP_CLIENT_ID_MAX, &client, err);
        if (rc == 0) rc = opt_string(props, "caCertificate", EP_CA_MAX, &ca, err);
        if (rc == 0) rc = ca_check(ca, err);
        if (rc < 0) return rc;
        if (pass && !user)
            return bad_content(err, "properties.password needs properties.username: MQTT sends a "
                                    "password only with a user name.");
        if (ca && strncasecmp(uri, "mqtts:", 6) != 0)
            return bad_content(err,
                               "properties.caCertificate is for mqtts:// only, and endpointUri "
                               "'%s' is not TLS.",
                               uri);
        set_str(p, "endpointUri", uri);
        set_str(p, "topic", topic ? topic : EP_DEFAULT_TOPIC);
        if (user) set_str(p, "username", user);
        set_str(p, "password", NULL);
        if (client) set_str(p, "clientId", client);
        if (ca) set_str(p, "caCertificate", ca);
        if (pass) set_str(s, "password", pass);
    }
    if (b->dead_letter) set_str(p, "deadLetterEndpoint", b->dead_letter);
    json_object_set_new(
        p, "retryPolicy",
        json_pack("{s:i, s:i}", "maxDeliveryAttempts", attempts, "eventTimeToLiveInMinutes", ttl));
    return CASTOR_OK;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The endpoint in ARM's shape. The stored properties are what GET shows (secrets as null);
 * the state, the creation time and, with no dead-letter endpoint, the folder the dispatcher
 * dead-letters to are added from the record and the server's data folder. */
/* An endpoint's ARM id, under the instance's in subscription sub. Arena memory. */
static const char *endpoint_id(http_request_t *req, const char *sub, const store_dt_instance_t *d,
                               const char *name)
{
    return arena_sprintf(&req->arena, "%s/endpoints/%s",
                         arm_instance_id(&req->arena, sub, d->resource_group, d->name), name);
}

static json_t *endpoint_json(http_request_t *req, const store_dt_instance_t *d,
                             const store_endpoint_t *ep)
{
    json_t *props = json_loads(ep->properties, 0, NULL);
    if (!json_is_object(props)) {
        json_decref(props);
        props = json_object();
    }
    arena_t *a = &req->arena;
    set_str(props, "provisioningState", ep->state);
    set_str(props, "createdTime", arm_time(a, ep->created / 1000));
    if (!json_object_get(props, "deadLetterEndpoint")) {
        const arm_deps_t *deps = arm_deps(req);
        const char *dir = deps && deps->data_dir ? deps->data_dir : "";
        char *abs = dir[0] ? realpath(dir, NULL) : NULL;
        set_str(props, "deadLetterFolder",
                arena_sprintf(a, "%s/deadletter/%s/%s/", abs ? abs : dir, d->name, ep->name));
        free(abs);
    }
    /* As the instance's systemData: castor records the caller's name, not its kind. */
    const char *created = arm_time(a, ep->created / 1000);
    const char *updated = arm_time(a, (ep->updated ? ep->updated : ep->created) / 1000);
    return json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s}, s:o}", "id",
                     endpoint_id(req, d->subscription_id, d, ep->name), "name", ep->name, "type",
                     EP_TYPE, "systemData", "createdBy", ep->created_by, "createdByType", "User",
                     "createdAt", created, "lastModifiedBy",
                     ep->updated_by[0] ? ep->updated_by : ep->created_by, "lastModifiedByType",
                     "User", "lastModifiedAt", updated, "properties", props);
}

static int not_found(castor_err *err, const char *name, const char *inst)
{
    return castor_err_http(err, CASTOR_ENOTFOUND, 404, "ResourceNotFound",
                           "The Resource '" EP_TYPE "/%s' under Azure Digital Twins instance "
                           "'%s' was not found.",
                           name, inst);
}

static int name_check(const char *name, castor_err *err)
{
    if (name_ok(name)) return CASTOR_OK;
    return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidResourceName",
                           "The resource name '%s' is invalid: an endpoint name is 3 to 49 "
                           "letters, digits or hyphens, not only digits, and does not start or "
                           "end with a hyphen (^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{2,49}[a-zA-Z0-9]$).",
                           name ? name : "");
}

typedef struct route_users {
    const char *name; /* the endpoint being deleted */
    int n;
    char ids[512]; /* the first routes that deliver to it, quoted, comma-separated */
} route_users_t;

static int route_user(const store_route_t *r, void *ctx)
{
    route_users_t *u = ctx;
    if (strcasecmp(r->endpoint_name, u->name) != 0) return 0;
    size_t used = strlen(u->ids);
    if (used + strlen(r->id) + 8 < sizeof u->ids)
        snprintf(u->ids + used, sizeof u->ids - used, "%s'%s'", used ? ", " : "", r->id);
    else if (!strstr(u->ids, ", ..."))
        snprintf(u->ids + used, sizeof u->ids - used, ", ...");
    return 0;
}

/* ADT documents no code for deleting an endpoint a route delivers to, so castor refuses with
 * ARM's generic 400 and names the routes, rather than leave routes that deliver nowhere. */
static int routes_check(store_txn_t *t, const store_dt_instance_t *d, const char *name,
                        castor_err *err)
{
    route_users_t u = {.name = name};
    int rc = store_route_count_for_endpoint(t, d->id, name, &u.n, err);
    if (rc < 0 || u.n == 0) return rc;
    rc = store_route_each(t, d->id, 0, -1, route_user, &u, err);
    if (rc < 0) return rc;
    return castor_err_http(err, CASTOR_EINVAL, 400, "BadRequest",
                           "The endpoint '%s' cannot be deleted: %d event route%s of the instance "
                           "'%s' deliver%s to it (%s). Delete them first (castor dt route delete "
                           "-n %s --rn ROUTE), or point them at another endpoint.",
                           name, u.n, u.n == 1 ? "" : "s", d->name, u.n == 1 ? "s" : "", u.ids,
                           d->name);
}

typedef struct dl_users {
    const char *name; /* the endpoint being deleted */
    char users[512];  /* endpoints that dead-letter to it */
} dl_users_t;

static int dl_user(const store_endpoint_t *ep, void *ctx)
{
    dl_users_t *u = ctx;
    json_t *p = json_loads(ep->properties, 0, NULL);
    const char *dl = json_string_value(json_object_get(p, "deadLetterEndpoint"));
    if (dl && strcasecmp(dl, u->name) == 0 && strcasecmp(ep->name, u->name) != 0)
        snprintf(u->users + strlen(u->users), sizeof u->users - strlen(u->users), "%s'%s'",
                 u->users[0] ? ", " : "", ep->name);
    json_decref(p);
    return 0;
}

int arm_h_endpoint_put(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *sub = http_request_param(req, "subscriptionId");
    const char *name = http_request_param(req, "endpointName");
    int rc = name_check(name, err);
    if (rc < 0) return rc;
    ep_body_t b;
    rc = body_parse(req->json, &b, err);
    if (rc == 0 && b.dead_letter && strcasecmp(b.dead_letter, name) == 0)
        rc = bad_content(err,
                         "properties.deadLetterEndpoint '%s' names the endpoint itself: an "
                         "endpoint cannot dead-letter to itself (leave it out to dead-letter "
                         "to the data folder).",
                         b.dead_letter);
    if (rc < 0) {
        ep_body_free(&b);
        return rc;
    }
    store_dt_instance_t *d = calloc(1, sizeof *d);
    store_endpoint_t ep = {0}, old = {0}, dl = {0};
    char op_id[CASTOR_GUID_LEN + 1] = "";
    int created = 0;
    store_txn_t *t = NULL;
    if (!d) {
        rc = castor_err_set(err, CASTOR_ENOMEM, "out of memory");
        goto out;
    }
    rc = arm_begin(req, STORE_WRITE, &t, err);
    if (rc < 0) goto out;
    rc = arm_dt_load(req, t, d, err);
    castor_err e;
    castor_err_clear(&e);
    int have = rc == 0 ? store_endpoint_get(t, d->id, name, &old, &e) : 0;
    if (rc == 0 && have < 0 && have != CASTOR_ENOTFOUND) {
        *err = e;
        rc = have;
    }
    created = rc == 0 && have == CASTOR_ENOTFOUND;
    if (rc == 0 && created) {
        int n = 0;
        rc = store_endpoint_count(t, d->id, &n, err);
        if (rc == 0 && n >= EP_PER_INSTANCE_MAX)
            rc = castor_err_http(err, CASTOR_EINVAL, 400, "LimitExceeded",
                                 "The instance '%s' has %d endpoints already, the most Azure "
                                 "Digital Twins allows: delete one before creating '%s'.",
                                 d->name, n, name);
    }
    if (rc == 0 && b.dead_letter) {
        int dl_rc = store_endpoint_get(t, d->id, b.dead_letter, &dl, &e);
        if (dl_rc == CASTOR_ENOTFOUND)
            rc = castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRequestContent",
                                 "properties.deadLetterEndpoint '%s' is not an endpoint of the "
                                 "instance '%s': create it first, or leave deadLetterEndpoint "
                                 "out to dead-letter to the data folder.",
                                 b.dead_letter, d->name);
        else if (dl_rc < 0) {
            *err = e;
            rc = dl_rc;
        } else {
            /* Keep the target's own spelling. */
            json_object_set_new(b.props, "deadLetterEndpoint", json_string(dl.name));
        }
    }
    if (rc == 0) {
        snprintf(ep.instance_id, sizeof ep.instance_id, "%s", d->id);
        snprintf(ep.name, sizeof ep.name, "%s", created ? name : old.name);
        snprintf(ep.type, sizeof ep.type, "%s", b.type);
        snprintf(ep.state, sizeof ep.state, "Succeeded");
        ep.created = created ? now_ms() : old.created;
        ep.updated = created ? ep.created : now_ms();
        const access_principal_t *c = req->caller;
        snprintf(ep.created_by, sizeof ep.created_by, "%s",
                 created ? access_caller_name(c) : old.created_by);
        snprintf(ep.updated_by, sizeof ep.updated_by, "%s", access_caller_name(c));
        ep.properties = json_dumps(b.props, JSON_COMPACT);
        ep.secrets = json_dumps(b.secrets, JSON_COMPACT);
        if (!ep.properties || !ep.secrets) rc = castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    }
    if (rc == 0) rc = store_endpoint_put(t, &ep, err);
    if (rc == 0 && created) {
        ids_guid(op_id);
        rc = arm_operation_record(t, op_id, sub, endpoint_id(req, sub, d, ep.name), time_now_s(),
                                  err);
    }
    rc = rc == 0 ? store_commit(t, err) : arm_fail(t, rc);
    if (rc < 0) goto out;
    if (created)
        http_response_header(req, resp, "Azure-AsyncOperation",
                             arm_operation_url(req, sub, d->location, "operationsStatuses", op_id));
    rc = arm_send(req, resp, created ? 201 : 200, endpoint_json(req, d, &ep), err);
out:
    store_endpoint_clear(&ep);
    store_endpoint_clear(&old);
    store_endpoint_clear(&dl);
    ep_body_free(&b);
    free(d);
    return rc;
}

/* castor's own read-only `delivery` figures on an endpoint's properties (docs/events.md): what
 * its routes have delivered, failed and dead-lettered, whether it is failing now, and how many
 * events still wait. item is an endpoint_json object; t a transaction that may read. */
static int add_delivery(http_request_t *req, store_txn_t *t, const char *instance_id, json_t *item,
                        castor_err *err)
{
    const char *name = json_string_value(json_object_get(item, "name"));
    json_t *props = json_object_get(item, "properties");
    store_endpoint_stats_t st;
    int rc = name && props ? store_endpoint_stats(t, instance_id, name, &req->arena, &st, err) : 0;
    if (rc < 0 || !name || !props) return rc;
    arena_t *a = &req->arena;
    json_t *lerr = st.last_error[0] ? json_string(st.last_error) : json_null();
    json_t *lerr_t =
        st.last_error_time ? json_string(arm_time(a, st.last_error_time / 1000)) : json_null();
    json_t *last_ok = st.last_delivered_time
                          ? json_string(arm_time(a, st.last_delivered_time / 1000))
                          : json_null();
    json_object_set_new(
        props, "delivery",
        json_pack("{s:i, s:I, s:I, s:I, s:b, s:I, s:I, s:o, s:o, s:o}", "routes", st.routes,
                  "delivered", (json_int_t)st.delivered, "failed", (json_int_t)st.failed,
                  "deadLettered", (json_int_t)st.dead_lettered, "failing", st.failing > 0,
                  "failuresInARow", (json_int_t)st.failing, "outboxLag", (json_int_t)st.lag,
                  "lastDeliveredTime", last_ok, "lastError", lerr, "lastErrorTime", lerr_t));
    return CASTOR_OK;
}

int arm_h_endpoint_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *name = http_request_param(req, "endpointName");
    store_dt_instance_t *d = malloc(sizeof *d);
    if (!d) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    store_endpoint_t ep = {0};
    store_txn_t *t = NULL;
    int rc = arm_begin(req, STORE_READ, &t, err);
    if (rc == 0) {
        rc = arm_dt_load(req, t, d, err);
        castor_err e;
        castor_err_clear(&e);
        int got = rc == 0 ? store_endpoint_get(t, d->id, name, &ep, &e) : 0;
        if (got == CASTOR_ENOTFOUND)
            rc = not_found(err, name, d->name);
        else if (got < 0) {
            *err = e;
            rc = got;
        }
    }
    json_t *body = rc == 0 ? endpoint_json(req, d, &ep) : NULL;
    if (rc == 0) rc = add_delivery(req, t, d->id, body, err);
    if (t) store_rollback(t);
    store_endpoint_clear(&ep);
    free(d);
    return rc < 0 ? rc : arm_send(req, resp, 200, body, err);
}

typedef struct ep_walk {
    http_request_t *req;
    const store_dt_instance_t *d;
    json_t *items;
} ep_walk_t;

static int ep_one(const store_endpoint_t *ep, void *ctx)
{
    ep_walk_t *w = ctx;
    json_array_append_new(w->items, endpoint_json(w->req, w->d, ep));
    return 0;
}

int arm_h_endpoint_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    store_dt_instance_t *d = malloc(sizeof *d);
    if (!d) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    ep_walk_t w = {req, d, json_array()};
    store_txn_t *t;
    int rc = arm_begin(req, STORE_READ, &t, err);
    if (rc == 0) {
        rc = arm_dt_load(req, t, d, err);
        if (rc == 0) rc = store_endpoint_each(t, d->id, ep_one, &w, err);
        for (size_t i = 0; rc == 0 && i < json_array_size(w.items); i++)
            rc = add_delivery(req, t, d->id, json_array_get(w.items, i), err);
        store_rollback(t);
    }
    free(d);
    if (rc < 0) {
        json_decref(w.items);
        return rc;
    }
    return arm_send_page(req, resp, w.items, err);
}

int arm_h_endpoint_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *sub = http_request_param(req, "subscriptionId");
    const char *name = http_request_param(req, "endpointName");
    store_dt_instance_t *d = malloc(sizeof *d);
    if (!d) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    store_endpoint_t ep = {0};
    char op_id[CASTOR_GUID_LEN + 1];
    ids_guid(op_id);
    store_txn_t *t;
    int rc = arm_begin(req, STORE_WRITE, &t, err);
    if (rc < 0) goto out;
    rc = arm_dt_load(req, t, d, err);
    castor_err e;
    castor_err_clear(&e);
    int got = rc == 0 ? store_endpoint_get(t, d->id, name, &ep, &e) : 0;
    if (got == CASTOR_ENOTFOUND) {
        /* ARM: deleting what is not there is 204; a missing instance stays a 404. */
        store_rollback(t);
        resp->status = 204;
        rc = CASTOR_OK;
        goto out;
    }
    if (rc == 0 && got < 0) {
        *err = e;
        rc = got;
    }
    if (rc == 0) rc = routes_check(t, d, ep.name, err);
    if (rc == 0) {
        dl_users_t u = {.name = ep.name};
        rc = store_endpoint_each(t, d->id, dl_user, &u, err);
        if (rc == 0 && u.users[0])
            rc = castor_err_http(err, CASTOR_EINVAL, 400, "BadRequest",
                                 "The endpoint '%s' cannot be deleted: the endpoints %s "
                                 "dead-letter to it. Change their deadLetterEndpoint first.",
                                 ep.name, u.users);
    }
    if (rc == 0) rc = store_endpoint_delete(t, d->id, ep.name, err);
    if (rc == 0)
        rc = arm_operation_record(t, op_id, sub, endpoint_id(req, sub, d, ep.name), time_now_s(),
                                  err);
    rc = rc == 0 ? store_commit(t, err) : arm_fail(t, rc);
    if (rc < 0) goto out;
    http_response_header(req, resp, "Location",
                         arm_operation_url(req, sub, d->location, "operationResults", op_id));
    http_response_header(req, resp, "Retry-After", "1");
    json_t *body = endpoint_json(req, d, &ep);
    if (body)
        json_object_set_new(json_object_get(body, "properties"), "provisioningState",
                            json_string("Deleting"));
    rc = arm_send(req, resp, 202, body, err);
out:
    store_endpoint_clear(&ep);
    free(d);
    return rc;
}
