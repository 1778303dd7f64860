/* ev_dispatch.c — the event dispatcher (ev_dispatch.h).
 *
 * Threads: one dispatcher thread reads routes, endpoints and the outbox, matches events against
 * filters and queues them on lanes; one thread per lane sends. A route's lanes and counters
 * are guarded by the route's mutex. Only the dispatcher thread touches the route list, a
 * route's read position and the store (lane threads never open a transaction), so the store
 * sees at most one dispatcher transaction at a time.
 *
 * Durability: a route's cursor is saved as the highest seq below which every event it read is
 * finished: min(oldest unfinished item - 1, read position). Events are finished only once
 * delivered or durably dead-lettered, so a crash redelivers (never loses) what was in flight. */
#include "events/ev_dispatch.h"

#include "core/log.h"
#include "events/ev_deadletter.h"
#include "events/ev_endpoint.h"
#include "events/ev_filter.h"
#include "events/ev_sink.h"
#include "store/store_arm.h"
#include "store/store_endpoints.h"
#include "store/store_events.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Events queued per route before the dispatcher stops reading ahead for it. */
#define ROUTE_QUEUE_MAX 4096
/* Outbox rows read per route per pass. */
#define READ_BATCH 512
/* Progress is saved this often while it changes. */
#define SAVE_EVERY_MS 200
/* The outbox is trimmed this often, this many rows at most per pass (bounded writer time). */
#define TRIM_EVERY_MS 2000
#define TRIM_BATCH 20000
/* Idle passes wait this long for new events. */
#define IDLE_WAIT_MS 20

typedef struct item {
    int64_t seq;
    int64_t created_ms; /* when the change was committed, for the TTL */
    int attempts;
    int64_t next_try_ms;
    char *event; /* CloudEvents JSON */
    size_t event_len;
    char *twin_id;
    char *type;
    char *subject;
    struct item *next;
} item_t;

struct route;

typedef struct lane {
    struct route *route;
    unsigned index;
    pthread_t thread;
    int started;
    pthread_cond_t cv;
    item_t *head, *tail; /* route->mu */
    castor_err *errs;    /* EV_SINK_BATCH_MAX, the lane thread's */
} lane_t;

typedef struct route {
    char instance_id[64];
    char instance_name[64];
    char id[256];
    char endpoint_name[EV_ENDPOINT_NAME_MAX];
    char *fingerprint; /* filter + endpoint configuration: a change restarts the route */
    ev_filter_t *filter;
    int match_all; /* the filter is `true` */
    ev_endpoint_t ep;
    ev_endpoint_t dl_ep; /* the dead-letter endpoint, when has_dl */
    int has_dl;
    const ev_dispatch_config_t *cfg;
    char node_id[128];
    char dl_root[4096];
    char work_dir[4096];

    /* dispatcher thread only */
    int64_t read_pos;
    int64_t saved_cursor;
    int64_t lease_until;
    int seen;

    pthread_mutex_t mu;
    int stop;
    int64_t queued;
    unsigned nlanes;
    lane_t lanes[EV_LANES_MAX];
    int64_t d_delivered, d_failed, d_dead; /* since the last save */
    char last_error[512];
    int64_t last_error_time;
    int error_dirty;
    int failing; /* consecutive failures, for the log's failing/recovered lines */
    int64_t last_delivered_ms;
    struct route *next;
} route_t;

struct ev_dispatch {
    ev_dispatch_config_t cfg;
    char data_dir[4096];
    char node_id[128];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, poked;
    int woken;           /* a write came in: read the outbox now (mu) */
    atomic_int sleeping; /* the dispatcher waits for work: writers wake it */
    route_t *routes;
    /* The routes and instances change numbers (store.h) the running routes were read at. */
    int64_t routes_at, instances_at;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deadline_ts(struct timespec *ts, int64_t at_ms)
{
    ts->tv_sec = at_ms / 1000;
    ts->tv_nsec = (at_ms % 1000) * 1000000;
}

static void item_free(item_t *it)
{
    if (!it) return;
    free(it->event);
    free(it->twin_id);
    free(it->type);
    free(it->subject);
    free(it);
}

/* ---- lanes ---- */

static int64_t backoff_ms(const ev_dispatch_config_t *cfg, int attempts)
{
    int64_t d = cfg->retry_base_ms;
    for (int i = 1; i < attempts && d < cfg->retry_max_ms; i++)
        d *= 2;
    if (d > cfg->retry_max_ms) d = cfg->retry_max_ms;
    /* Jitter in [d/2, d]: lanes that failed together do not retry together. */
    return d / 2 + (int64_t)randombytes_uniform((uint32_t)(d / 2 + 1));
}

static void note_error(route_t *r, const char *msg)
{
    castor_text_cut(r->last_error, sizeof r->last_error,
                    snprintf(r->last_error, sizeof r->last_error, "%s", msg));
    r->last_error_time = wall_ms();
    r->error_dirty = 1;
}

/* Sends the dead letter to the dead-letter endpoint if there is one (one try), else, or if
 * that fails, writes it to the folder. 0 when it is kept. Called without r->mu. */
static int dead_letter(lane_t *lane, ev_sink_t **dl_sink, const item_t *it, const char *reason,
                       const char *last_error, char *where, size_t size)
{
    route_t *r = lane->route;
    ev_deadletter_t d = {r->dl_root, r->instance_name, r->endpoint_name, r->id,     it->seq,
                         it->event,  reason,           it->attempts,     last_error};
    castor_err err = {0};
    if (r->has_dl) {
        char *text = ev_deadletter_json(&d);
        int rc = text ? 0 : -1;
        if (rc == 0 && !*dl_sink) {
            char cid[sizeof r->node_id + 16]; /* node id, "-dl-" and a lane number */
            snprintf(cid, sizeof cid, "%s-dl-%u", r->node_id, lane->index);
            ev_sink_env_t env = {r->work_dir, cid};
            rc = ev_sink_open(&r->dl_ep, &env, dl_sink, &err);
        }
        if (rc == 0) {
            ev_delivery_t dv = {text,        strlen(text),        r->instance_name,
                                it->twin_id, "castor.deadletter", it->subject};
            rc = ev_sink_send(*dl_sink, &dv, NULL, &err);
        }
        free(text);
        if (rc == 0) {
            snprintf(where, size, "endpoint %s", r->dl_ep.name);
            return 0;
        }
        log_json(LOG_WARN, "dead-letter endpoint failed; writing the dead letter to its folder",
                 json_pack("{s:s, s:s, s:s}", "route", r->id, "deadLetterEndpoint", r->dl_ep.name,
                           "error", err.message));
    }
    if (ev_deadletter_write(&d, where, size, &err) < 0) {
        log_json(LOG_ERROR, "writing a dead letter failed; the event stays queued",
                 json_pack("{s:s, s:I, s:s}", "route", r->id, "seq", (json_int_t)it->seq, "error",
                           err.message));
        return -1;
    }
    return 0;
}

/* The events a lane sends next, into batch: from the head of its queue, each due and about a
 * twin none before it in the batch is about (so one twin's events still go one at a time, in
 * order, and the batch's outcomes are independent), at most EV_SINK_BATCH_MAX. They are the
 * first items of the queue. Called with r->mu held. */
static int take_batch(lane_t *lane, int64_t now, item_t **batch)
{
    int n = 0;
    for (item_t *it = lane->head; it && n < EV_SINK_BATCH_MAX; it = it->next) {
        if (it->next_try_ms > now) break;
        for (int j = 0; j < n; j++)
            if (strcmp(batch[j]->twin_id, it->twin_id) == 0) return n;
        batch[n++] = it;
    }
    return n;
}

/* Lowers the calling thread's CPU priority (Linux: niceness is per thread). Acknowledging a
 * write is what a client waits for; its event may wait in the outbox while every core is busy,
 * and is delivered as soon as one is free. A thread may always become nicer, so this fails
 * only on systems without per-thread niceness, where delivery keeps the writers' priority. */
static void lower_priority(int nice)
{
    if (nice > 0 && setpriority(PRIO_PROCESS, (id_t)gettid(), nice) != 0)
        log_json(LOG_DEBUG, "event delivery keeps the writers' CPU priority",
                 json_pack("{s:s}", "error", strerror(errno)));
}

static void *lane_main(void *arg)
{
    lane_t *lane = arg;
    route_t *r = lane->route;
    lower_priority(r->cfg->nice);
    ev_sink_t *sink = NULL, *dl_sink = NULL;
    char cid[160];
    snprintf(cid, sizeof cid, "%s-%u", r->ep.client_id ? r->ep.client_id : r->node_id, lane->index);
    ev_sink_env_t env = {r->work_dir, cid};
    item_t *batch[EV_SINK_BATCH_MAX];
    ev_delivery_t dv[EV_SINK_BATCH_MAX];
    int rcs[EV_SINK_BATCH_MAX], retryable[EV_SINK_BATCH_MAX], kept[EV_SINK_BATCH_MAX];
    castor_err *errs = lane->errs;
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        item_t *head = lane->head;
        if (!head) {
            pthread_cond_wait(&lane->cv, &r->mu);
            continue;
        }
        int64_t now = wall_ms();
        if (head->next_try_ms > now) {
            struct timespec ts;
            deadline_ts(&ts, head->next_try_ms);
            pthread_cond_timedwait(&lane->cv, &r->mu, &ts);
            continue;
        }
        int n = take_batch(lane, now, batch);
        pthread_mutex_unlock(&r->mu);

        int open_rc = 0;
        if (!sink) open_rc = ev_sink_open(&r->ep, &env, &sink, &errs[0]);
        if (open_rc == 0) {
            for (int i = 0; i < n; i++) {
                item_t *it = batch[i];
                dv[i] = (ev_delivery_t){it->event,   it->event_len, r->instance_name,
                                        it->twin_id, it->type,      it->subject};
            }
            ev_sink_send_many(sink, dv, n, rcs, retryable, errs);
        } else {
            for (int i = 0; i < n; i++) {
                rcs[i] = open_rc;
                retryable[i] = errs[0].rc != CASTOR_EINVAL;
                if (i > 0) errs[i] = errs[0];
            }
        }
        now = wall_ms();
        for (int i = 0; i < n; i++) {
            item_t *it = batch[i];
            const char *reason = NULL;
            if (rcs[i] < 0) {
                it->attempts++;
                int64_t ttl = r->ep.ttl_ms;
                if (r->cfg->ttl_cap_ms > 0 && r->cfg->ttl_cap_ms < ttl) ttl = r->cfg->ttl_cap_ms;
                if (!retryable[i])
                    reason = "DeliveryRefused";
                else if (it->attempts >= r->ep.max_attempts)
                    reason = "MaxDeliveryAttemptsExceeded";
                else if (now - it->created_ms >= ttl)
                    reason = "TimeToLiveExceeded";
            }
            char where[4400] = "";
            kept[i] = reason ? dead_letter(lane, &dl_sink, it, reason, errs[i].message, where,
                                           sizeof where) == 0
                             : 0;
            if (kept[i])
                log_json(LOG_WARN, "event dead-lettered",
                         json_pack("{s:s, s:s, s:s, s:I, s:s, s:i, s:s, s:s}", "instance",
                                   r->instance_name, "route", r->id, "endpoint", r->endpoint_name,
                                   "seq", (json_int_t)it->seq, "reason", reason, "attempts",
                                   it->attempts, "lastError", errs[i].message, "deadLetter",
                                   where));
        }

        pthread_mutex_lock(&r->mu);
        /* The batch is still the queue's first n items (only this thread takes items off):
         * finished ones leave, the rest stay first, in order, to be retried. */
        item_t *rest = batch[n - 1]->next, *keep = NULL, **link = &keep, *last_kept = NULL;
        for (int i = 0; i < n; i++) {
            item_t *it = batch[i];
            if (rcs[i] == 0) {
                r->d_delivered++;
                r->last_delivered_ms = now;
                if (r->failing) {
                    log_json(LOG_INFO, "event delivery recovered",
                             json_pack("{s:s, s:s, s:s, s:i}", "instance", r->instance_name,
                                       "route", r->id, "endpoint", r->endpoint_name, "failures",
                                       r->failing));
                    r->failing = 0;
                }
            } else if (rcs[i] < 0) {
                r->d_failed++;
                note_error(r, errs[i].message);
                if (r->failing++ == 0)
                    log_json(LOG_WARN, "event delivery failing",
                             json_pack("{s:s, s:s, s:s, s:s}", "instance", r->instance_name,
                                       "route", r->id, "endpoint", r->endpoint_name, "error",
                                       errs[i].message));
                if (kept[i]) r->d_dead++;
            }
            if (rcs[i] == 0 || kept[i]) {
                r->queued--;
                item_free(it);
            } else {
                /* Not sent (EV_SINK_NOT_SENT) is no attempt: it goes again when due. */
                if (rcs[i] < 0) it->next_try_ms = now + backoff_ms(r->cfg, it->attempts);
                *link = it;
                link = &it->next;
                last_kept = it;
            }
        }
        *link = rest;
        lane->head = keep;
        if (!rest) lane->tail = last_kept;
    }
    pthread_mutex_unlock(&r->mu);
    ev_sink_close(sink);
    ev_sink_close(dl_sink);
    return NULL;
}

/* ---- routes ---- */

static void route_free(route_t *r)
{
    if (!r) return;
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    for (unsigned i = 0; i < r->nlanes; i++)
        pthread_cond_broadcast(&r->lanes[i].cv);
    pthread_mutex_unlock(&r->mu);
    for (unsigned i = 0; i < r->nlanes; i++) {
        if (r->lanes[i].started) pthread_join(r->lanes[i].thread, NULL);
        for (item_t *it = r->lanes[i].head, *nx; it; it = nx) {
            nx = it->next;
            item_free(it);
        }
        pthread_cond_destroy(&r->lanes[i].cv);
        free(r->lanes[i].errs);
    }
    pthread_mutex_destroy(&r->mu);
    ev_filter_free(r->filter);
    ev_endpoint_clear(&r->ep);
    ev_endpoint_clear(&r->dl_ep);
    free(r->fingerprint);
    free(r);
}

/* The smallest seq not yet finished, less one: everything up to it is done. */
static int64_t route_cursor(route_t *r)
{
    int64_t c = r->read_pos;
    pthread_mutex_lock(&r->mu);
    for (unsigned i = 0; i < r->nlanes; i++)
        if (r->lanes[i].head && r->lanes[i].head->seq - 1 < c) c = r->lanes[i].head->seq - 1;
    pthread_mutex_unlock(&r->mu);
    return c;
}

/* The twin an event is about: telemetry names it in its source (<host>/digitaltwins/<id>),
 * relationship events in their subject (<twin>/relationships/<id>), twin events are the twin. */
static char *event_twin(const char *type, const char *subject, const json_t *ev)
{
    if (type && strcmp(type, "microsoft.iot.telemetry") == 0) {
        const char *src = json_string_value(json_object_get(ev, "source"));
        const char *p = src ? strstr(src, "/digitaltwins/") : NULL;
        return strdup(p ? p + strlen("/digitaltwins/") : "");
    }
    const char *rel = subject ? strstr(subject, "/relationships/") : NULL;
    return rel ? strndup(subject, (size_t)(rel - subject)) : strdup(subject ? subject : "");
}

typedef struct read_ctx {
    route_t *route;
    int64_t rows;      /* rows handed over */
    int64_t last_done; /* the last row queued or skipped */
    /* What this pass queues, per lane, handed over at its end: one lock and one wake-up per
     * lane and pass, so a lane wakes to a batch rather than to the pass's first event. */
    item_t *head[EV_LANES_MAX], *tail[EV_LANES_MAX];
    int64_t queued;
} read_ctx_t;

static int read_row(const store_outbox_row_t *row, void *ctx)
{
    read_ctx_t *rc = ctx;
    route_t *r = rc->route;
    rc->rows++;
    if (strcmp(row->instance_id, r->instance_id) != 0) {
        rc->last_done = row->seq;
        return 0;
    }
    /* A route that takes everything (filter `true`, the usual one) needs the event parsed only
     * to find a telemetry's twin: castor wrote the text, so it is JSON. */
    json_t *ev = NULL;
    if (!r->match_all || strcmp(row->type, "microsoft.iot.telemetry") == 0) {
        json_error_t jerr;
        ev = json_loads(row->event, 0, &jerr);
        if (!ev) {
            log_json(LOG_ERROR, "an outbox event is not JSON; skipped",
                     json_pack("{s:I, s:s}", "seq", (json_int_t)row->seq, "error", jerr.text));
            rc->last_done = row->seq;
            return 0;
        }
    }
    int pass = r->match_all || ev_filter_match(r->filter, ev);
    item_t *it = pass ? calloc(1, sizeof *it) : NULL;
    if (it) {
        it->seq = row->seq;
        it->created_ms = row->created * 1000;
        it->event = strdup(row->event);
        it->event_len = strlen(row->event);
        it->type = strdup(row->type);
        it->subject = strdup(row->subject);
        it->twin_id = event_twin(row->type, row->subject, ev);
    }
    json_decref(ev);
    if (!pass) {
        rc->last_done = row->seq;
        return 0;
    }
    if (!it || !it->event || !it->type || !it->subject || !it->twin_id) {
        item_free(it);
        return 1; /* out of memory: stop here; this row is read again next pass */
    }
    unsigned char h[8];
    crypto_generichash(h, sizeof h, (const unsigned char *)it->twin_id, strlen(it->twin_id), NULL,
                       0);
    unsigned lane = (h[0] | (unsigned)h[1] << 8) % r->nlanes;
    if (rc->tail[lane])
        rc->tail[lane]->next = it;
    else
        rc->head[lane] = it;
    rc->tail[lane] = it;
    rc->queued++;
    rc->last_done = row->seq;
    return 0;
}

/* Appends what a pass read to the lanes' queues and wakes the lanes that got some. */
static void hand_over(read_ctx_t *ctx)
{
    route_t *r = ctx->route;
    if (!ctx->queued) return;
    pthread_mutex_lock(&r->mu);
    for (unsigned i = 0; i < r->nlanes; i++) {
        lane_t *lane = &r->lanes[i];
        if (!ctx->head[i]) continue;
        if (lane->tail)
            lane->tail->next = ctx->head[i];
        else
            lane->head = ctx->head[i];
        lane->tail = ctx->tail[i];
        pthread_cond_signal(&lane->cv);
    }
    r->queued += ctx->queued;
    pthread_mutex_unlock(&r->mu);
}

/* Reads what the route has not read yet; 1 when it read a full batch (more may wait). */
static int route_read(store_txn_t *t, route_t *r, castor_err *err)
{
    pthread_mutex_lock(&r->mu);
    int64_t room = ROUTE_QUEUE_MAX - r->queued;
    pthread_mutex_unlock(&r->mu);
    if (room <= 0) return 0;
    int limit = room < READ_BATCH ? (int)room : READ_BATCH;
    read_ctx_t ctx = {.route = r, .last_done = r->read_pos};
    int64_t next = r->read_pos;
    int rc = store_outbox_next(t, r->read_pos, limit, read_row, &ctx, &next, err);
    hand_over(&ctx);
    /* Resume after the last row queued or skipped: a row refused for want of memory, or not
     * reached because the read failed midway, is read again. */
    r->read_pos = ctx.last_done;
    if (rc < 0) return rc;
    return ctx.rows >= limit;
}

/* ---- the dispatcher ---- */

typedef struct snapshot {
    json_t *instances; /* id -> name */
    json_t *endpoints; /* "<instance id>/<lower-cased name>" -> {type, properties, secrets} */
    json_t *routes;    /* array of {instance, id, endpoint, filter, cursor} */
} snapshot_t;

static int snap_instance(const store_dt_instance_t *inst, void *ctx)
{
    json_object_set_new(((snapshot_t *)ctx)->instances, inst->id, json_string(inst->name));
    return 0;
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z') *s = (char)(*s - 'A' + 'a');
}

static int snap_endpoint(const store_endpoint_t *ep, void *ctx)
{
    char key[256];
    snprintf(key, sizeof key, "%s/%s", ep->instance_id, ep->name);
    lower(key);
    json_object_set_new(((snapshot_t *)ctx)->endpoints, key,
                        json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", ep->name, "type", ep->type,
                                  "state", ep->state, "properties",
                                  ep->properties ? ep->properties : "{}", "secrets",
                                  ep->secrets ? ep->secrets : "{}"));
    return 0;
}

static int snap_route(const store_route_t *r, void *ctx)
{
    json_array_append_new(((snapshot_t *)ctx)->routes,
                          json_pack("{s:s, s:s, s:s, s:s, s:I}", "instance", r->instance_id, "id",
                                    r->id, "endpoint", r->endpoint_name, "filter", r->filter,
                                    "cursor", (json_int_t)r->cursor));
    return 0;
}

static int snapshot_read(ev_dispatch_t *d, snapshot_t *s, castor_err *err)
{
    s->instances = json_object();
    s->endpoints = json_object();
    s->routes = json_array();
    store_txn_t *t = NULL;
    int rc = store_begin(d->cfg.store, STORE_READ, &t, err);
    if (rc == 0) rc = store_dt_instance_each(t, NULL, NULL, snap_instance, s, err);
    if (rc == 0) rc = store_endpoint_each(t, NULL, snap_endpoint, s, err);
    if (rc == 0) rc = store_route_each(t, NULL, 0, -1, snap_route, s, err);
    store_rollback(t);
    return rc;
}

static void snapshot_free(snapshot_t *s)
{
    json_decref(s->instances);
    json_decref(s->endpoints);
    json_decref(s->routes);
}

static json_t *endpoint_of(snapshot_t *s, const char *instance, const char *name)
{
    char key[256];
    snprintf(key, sizeof key, "%s/%s", instance, name);
    lower(key);
    return json_object_get(s->endpoints, key);
}

static char *fingerprint_of(json_t *route, json_t *ep, json_t *dl)
{
    json_t *f = json_pack("{s:O, s:O, s:O?}", "filter", json_object_get(route, "filter"),
                          "endpoint", ep, "deadLetter", dl);
    char *s = f ? json_dumps(f, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(f);
    return s;
}

static int parse_ep(json_t *ep, ev_endpoint_t *out, castor_err *err)
{
    return ev_endpoint_parse(json_string_value(json_object_get(ep, "name")),
                             json_string_value(json_object_get(ep, "type")),
                             json_string_value(json_object_get(ep, "properties")),
                             json_string_value(json_object_get(ep, "secrets")), out, err);
}

/* Whether a filter's text is the keyword `true` alone (keywords are case-insensitive). */
static int is_true(const char *filter)
{
    filter += strspn(filter, " \t\r\n");
    if (strncasecmp(filter, "true", 4) != 0) return 0;
    filter += 4;
    return filter[strspn(filter, " \t\r\n")] == '\0';
}

static route_t *route_new(ev_dispatch_t *d, snapshot_t *s, json_t *jr, json_t *ep, json_t *dl,
                          char *fingerprint, castor_err *err)
{
    route_t *r = calloc(1, sizeof *r);
    if (!r) {
        free(fingerprint);
        castor_err_set(err, CASTOR_ENOMEM, "out of memory starting a route");
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    r->fingerprint = fingerprint;
    r->cfg = &d->cfg;
    const char *inst = json_string_value(json_object_get(jr, "instance"));
    const char *name = json_string_value(json_object_get(s->instances, inst));
    snprintf(r->instance_id, sizeof r->instance_id, "%s", inst);
    snprintf(r->instance_name, sizeof r->instance_name, "%s", name ? name : inst);
    snprintf(r->id, sizeof r->id, "%s", json_string_value(json_object_get(jr, "id")));
    snprintf(r->endpoint_name, sizeof r->endpoint_name, "%s",
             json_string_value(json_object_get(ep, "name")));
    snprintf(r->node_id, sizeof r->node_id, "%s", d->node_id);
    int rc = 0;
    /* A cut folder would be some other folder: refuse instead. */
    if (snprintf(r->dl_root, sizeof r->dl_root, "%s/deadletter", d->data_dir) >=
            (int)sizeof r->dl_root ||
        snprintf(r->work_dir, sizeof r->work_dir, "%s/events", d->data_dir) >=
            (int)sizeof r->work_dir)
        rc = castor_err_set(err, CASTOR_EINVAL,
                            "the data folder's path is too long for event delivery's folders");
    r->read_pos = r->saved_cursor = json_integer_value(json_object_get(jr, "cursor"));
    const char *filter = json_string_value(json_object_get(jr, "filter"));
    if (!filter) filter = "false"; /* the column is NOT NULL; a missing one sends nothing */
    if (rc == 0) rc = ev_filter_compile(filter, strlen(filter), &r->filter, err);
    r->match_all = is_true(filter);
    if (rc == 0) rc = parse_ep(ep, &r->ep, err);
    if (rc == 0 && dl) {
        rc = parse_ep(dl, &r->dl_ep, err);
        r->has_dl = rc == 0;
    }
    r->nlanes = d->cfg.lanes;
    for (unsigned i = 0; i < r->nlanes; i++) {
        r->lanes[i].route = r;
        r->lanes[i].index = i;
        pthread_cond_init(&r->lanes[i].cv, NULL);
        r->lanes[i].errs = calloc(EV_SINK_BATCH_MAX, sizeof(castor_err));
        if (!r->lanes[i].errs && rc == 0)
            rc = castor_err_set(err, CASTOR_ENOMEM, "out of memory starting a route");
    }
    for (unsigned i = 0; rc == 0 && i < r->nlanes; i++) {
        if (pthread_create(&r->lanes[i].thread, NULL, lane_main, &r->lanes[i]) != 0)
            rc = castor_err_set(err, CASTOR_EINTERNAL, "cannot start a delivery thread: %s",
                                strerror(errno));
        else {
            r->lanes[i].started = 1;
            pthread_setname_np(r->lanes[i].thread, "castor-lane");
        }
    }
    if (rc < 0) {
        route_free(r);
        return NULL;
    }
    return r;
}

static route_t *route_find(ev_dispatch_t *d, const char *instance, const char *id)
{
    for (route_t *r = d->routes; r; r = r->next)
        if (strcmp(r->instance_id, instance) == 0 && strcmp(r->id, id) == 0) return r;
    return NULL;
}

static void route_unlink(ev_dispatch_t *d, route_t *dead)
{
    for (route_t **p = &d->routes; *p; p = &(*p)->next)
        if (*p == dead) {
            *p = dead->next;
            return;
        }
}

/* Writes every route's progress; drops routes whose lease another process has taken. */
static void save_progress(ev_dispatch_t *d, int release)
{
    store_txn_t *t = NULL;
    castor_err err = {0};
    int any = 0;
    for (route_t *r = d->routes; r && !any; r = r->next) {
        pthread_mutex_lock(&r->mu);
        any = r->d_delivered || r->d_failed || r->d_dead || r->error_dirty;
        pthread_mutex_unlock(&r->mu);
        any = any || route_cursor(r) != r->saved_cursor || release;
    }
    if (!any) return;
    if (store_begin(d->cfg.store, STORE_WRITE, &t, &err) < 0) {
        log_json(LOG_WARN, "saving event delivery progress failed",
                 json_pack("{s:s}", "error", err.message));
        return;
    }
    route_t *lost[64];
    int nlost = 0;
    int rc = 0;
    for (route_t *r = d->routes; r && rc == 0; r = r->next) {
        int64_t cursor = route_cursor(r);
        pthread_mutex_lock(&r->mu);
        store_route_progress_t p = {cursor,
                                    r->d_delivered,
                                    r->d_failed,
                                    r->d_dead,
                                    r->error_dirty ? r->last_error : NULL,
                                    r->last_error_time,
                                    r->failing,
                                    r->last_delivered_ms};
        r->d_delivered = r->d_failed = r->d_dead = 0;
        r->error_dirty = 0;
        pthread_mutex_unlock(&r->mu);
        int held = 1;
        rc = store_route_progress(t, r->instance_id, r->id, d->node_id, &p, &held, &err);
        if (rc == 0 && release)
            rc = store_route_release(t, r->instance_id, r->id, d->node_id, &err);
        if (rc == 0 && held) r->saved_cursor = cursor;
        if (rc == 0 && !held && nlost < 64) lost[nlost++] = r;
    }
    if (rc == 0)
        rc = store_commit(t, &err);
    else
        store_rollback(t);
    if (rc < 0) {
        log_json(LOG_WARN, "saving event delivery progress failed",
                 json_pack("{s:s}", "error", err.message));
        return;
    }
    for (int i = 0; i < nlost; i++) {
        log_json(LOG_INFO, "route lease lost; another castor delivers it now",
                 json_pack("{s:s, s:s}", "instance", lost[i]->instance_name, "route", lost[i]->id));
        route_unlink(d, lost[i]);
        route_free(lost[i]);
    }
}

/* What refresh decided for one stored route. */
typedef struct wanted {
    json_t *route;
    json_t *ep, *dl;
    char *fingerprint; /* owned until a route takes it */
    route_t *running;  /* the unchanged running route, or NULL */
} wanted_t;

/* Re-reads routes and endpoints: stops deleted and changed routes (saving their progress
 * first), renews leases, and starts routes newly leased. */
static void refresh(ev_dispatch_t *d)
{
    snapshot_t s = {0};
    castor_err err = {0};
    if (snapshot_read(d, &s, &err) < 0) {
        log_json(LOG_WARN, "reading event routes failed", json_pack("{s:s}", "error", err.message));
        snapshot_free(&s);
        return;
    }
    size_t n = json_array_size(s.routes);
    wanted_t *w = calloc(n ? n : 1, sizeof *w);
    if (!w) {
        snapshot_free(&s);
        return;
    }
    for (route_t *r = d->routes; r; r = r->next)
        r->seen = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *jr = json_array_get(s.routes, i);
        const char *inst = json_string_value(json_object_get(jr, "instance"));
        w[i].route = jr;
        w[i].ep = endpoint_of(&s, inst, json_string_value(json_object_get(jr, "endpoint")));
        if (!w[i].ep) continue; /* its endpoint is gone: nothing to deliver to */
        json_t *props =
            json_loads(json_string_value(json_object_get(w[i].ep, "properties")), 0, NULL);
        const char *dl_name = json_string_value(json_object_get(props, "deadLetterEndpoint"));
        w[i].dl = dl_name ? endpoint_of(&s, inst, dl_name) : NULL;
        json_decref(props);
        w[i].fingerprint = fingerprint_of(jr, w[i].ep, w[i].dl);
        route_t *r = route_find(d, inst, json_string_value(json_object_get(jr, "id")));
        if (r && w[i].fingerprint && strcmp(r->fingerprint, w[i].fingerprint) == 0) {
            r->seen = 1;
            w[i].running = r;
        }
    }
    /* Save first, so a route restarted with a new configuration resumes where the old one
     * stopped (and the stopped ones' last deliveries are counted). */
    save_progress(d, 0);
    for (route_t **p = &d->routes; *p;) {
        route_t *r = *p;
        if (r->seen) {
            p = &r->next;
            continue;
        }
        *p = r->next;
        for (size_t i = 0; i < n; i++)
            if (strcmp(json_string_value(json_object_get(w[i].route, "instance")),
                       r->instance_id) == 0 &&
                strcmp(json_string_value(json_object_get(w[i].route, "id")), r->id) == 0 &&
                r->saved_cursor > json_integer_value(json_object_get(w[i].route, "cursor")))
                json_object_set_new(w[i].route, "cursor", json_integer(r->saved_cursor));
        route_free(r);
    }
    int64_t now = wall_ms();
    store_txn_t *t = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!w[i].ep || !w[i].fingerprint) continue;
        route_t *r = w[i].running;
        if (r && r->lease_until - now > d->cfg.lease_ms / 2) continue; /* renew at half-time */
        if (!t && store_begin(d->cfg.store, STORE_WRITE, &t, &err) < 0) {
            log_json(LOG_WARN, "renewing route leases failed",
                     json_pack("{s:s}", "error", err.message));
            break;
        }
        const char *inst = json_string_value(json_object_get(w[i].route, "instance"));
        const char *id = json_string_value(json_object_get(w[i].route, "id"));
        int got = 0;
        if (store_route_lease(t, inst, id, d->node_id, now, now + d->cfg.lease_ms, &got, &err) < 0)
            got = 0;
        if (r) {
            /* Not renewed: the next save finds the lease gone and stops the route. */
            if (got) r->lease_until = now + d->cfg.lease_ms;
            continue;
        }
        if (!got) continue;
        r = route_new(d, &s, w[i].route, w[i].ep, w[i].dl, w[i].fingerprint, &err);
        w[i].fingerprint = NULL;
        if (!r) {
            log_json(LOG_WARN, "a route cannot deliver",
                     json_pack("{s:s, s:s}", "route", id, "error", err.message));
            continue;
        }
        r->lease_until = now + d->cfg.lease_ms;
        r->seen = 1;
        r->next = d->routes;
        d->routes = r;
        log_json(LOG_INFO, "delivering a route",
                 json_pack("{s:s, s:s, s:s, s:I}", "instance", r->instance_name, "route", r->id,
                           "endpoint", r->endpoint_name, "cursor", (json_int_t)r->read_pos));
    }
    if (t && store_commit(t, &err) < 0)
        log_json(LOG_WARN, "renewing route leases failed",
                 json_pack("{s:s}", "error", err.message));
    for (size_t i = 0; i < n; i++)
        free(w[i].fingerprint);
    free(w);
    snapshot_free(&s);
}

static void trim(ev_dispatch_t *d)
{
    store_txn_t *t = NULL;
    castor_err err = {0};
    int64_t n = 0;
    int rc = store_begin(d->cfg.store, STORE_WRITE, &t, &err);
    int64_t before = (wall_ms() - d->cfg.retention_ms) / 1000;
    if (rc == 0) rc = store_outbox_trim(t, before, TRIM_BATCH, &n, &err);
    if (rc == 0)
        rc = store_commit(t, &err);
    else
        store_rollback(t);
    if (rc < 0)
        log_json(LOG_WARN, "trimming the outbox failed", json_pack("{s:s}", "error", err.message));
}

/* A process alone on its store takes over a dead predecessor's leases at once instead of
 * waiting up to a lease's length after a crash. */
static void take_stale_leases(ev_dispatch_t *d)
{
    store_txn_t *t = NULL;
    castor_err err = {0};
    int rc = store_begin(d->cfg.store, STORE_WRITE, &t, &err);
    if (rc == 0) rc = store_route_release_others(t, d->node_id, &err);
    if (rc == 0)
        rc = store_commit(t, &err);
    else
        store_rollback(t);
    if (rc < 0)
        log_json(LOG_WARN, "freeing stale route leases failed",
                 json_pack("{s:s}", "error", err.message));
}

static void *dispatch_main(void *arg)
{
    ev_dispatch_t *d = arg;
    /* Not niced, unlike the lanes: this thread takes the store's write lock (progress, leases,
     * trimming), and a niced holder would keep the writers queued behind it while the very
     * writers it yields to fill the cores (priority inversion). Its own CPU is small. */
    if (d->cfg.exclusive) take_stale_leases(d);
    int64_t next_refresh = 0, next_save = 0, next_trim = 0;
    pthread_mutex_lock(&d->mu);
    while (!d->stop) {
        int poked = d->poked;
        d->poked = 0;
        pthread_mutex_unlock(&d->mu);
        int64_t now = wall_ms();
        if (poked || now >= next_refresh) {
            refresh(d);
            next_refresh = now + d->cfg.refresh_ms;
        }
        int more = 0;
        if (d->routes) {
            store_txn_t *t = NULL;
            castor_err err = {0};
            /* The read's first statement fixes what it sees; events are handed to lanes
             * only once all of that is on disk, so a power loss cannot undo a change whose
             * event went out (readers see a commit before its group's sync). */
            int64_t last = 0;
            int64_t changes[STORE_CHANGE_KINDS] = {0};
            if (store_begin(d->cfg.store, STORE_READ, &t, &err) == 0 &&
                (store_outbox_last(t, &last, &err) < 0 ||
                 store_changes_read(t, changes, &err) < 0 ||
                 store_wait_durable(d->cfg.store, &err) < 0)) {
                log_json(LOG_WARN, "reading the outbox failed",
                         json_pack("{s:s}", "error", err.message));
                store_rollback(t);
                t = NULL;
            }
            /* A route or endpoint changed, perhaps through another node, before some event this
             * snapshot holds: the routes are read again before anything past it is delivered,
             * so no event goes out under a route that was already changed or deleted. */
            if (t && (changes[STORE_CHANGE_ROUTES] != d->routes_at ||
                      changes[STORE_CHANGE_INSTANCES] != d->instances_at)) {
                store_rollback(t);
                t = NULL;
                refresh(d);
                next_refresh = wall_ms() + d->cfg.refresh_ms;
                d->routes_at = changes[STORE_CHANGE_ROUTES];
                d->instances_at = changes[STORE_CHANGE_INSTANCES];
                more = 1;
            }
            if (t) {
                for (route_t *r = d->routes; r; r = r->next) {
                    int rc = route_read(t, r, &err);
                    if (rc > 0) more = 1;
                    if (rc < 0) {
                        log_json(LOG_WARN, "reading the outbox failed",
                                 json_pack("{s:s}", "error", err.message));
                        break;
                    }
                }
                store_rollback(t);
            }
        }
        now = wall_ms();
        if (now >= next_save) {
            save_progress(d, 0);
            next_save = now + SAVE_EVERY_MS;
        }
        if (now >= next_trim) {
            trim(d);
            next_trim = now + TRIM_EVERY_MS;
        }
        pthread_mutex_lock(&d->mu);
        if (!more && !d->stop && !d->poked && !d->woken) {
            struct timespec ts;
            deadline_ts(&ts, wall_ms() + IDLE_WAIT_MS);
            atomic_store(&d->sleeping, 1);
            pthread_cond_timedwait(&d->cv, &d->mu, &ts);
            atomic_store(&d->sleeping, 0);
        }
        d->woken = 0;
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

int ev_dispatch_start(const ev_dispatch_config_t *cfg, ev_dispatch_t **out, castor_err *err)
{
    *out = NULL;
    ev_dispatch_t *d = calloc(1, sizeof *d);
    if (!d) return castor_err_set(err, CASTOR_ENOMEM, "out of memory starting the dispatcher");
    d->cfg = *cfg;
    snprintf(d->data_dir, sizeof d->data_dir, "%s", cfg->data_dir ? cfg->data_dir : ".");
    snprintf(d->node_id, sizeof d->node_id, "%s", cfg->node_id ? cfg->node_id : "castor");
    d->cfg.data_dir = d->data_dir;
    d->cfg.node_id = d->node_id;
    if (d->cfg.lanes < 1) d->cfg.lanes = 4;
    if (d->cfg.lanes > EV_LANES_MAX) d->cfg.lanes = EV_LANES_MAX;
    if (d->cfg.retry_base_ms <= 0) d->cfg.retry_base_ms = 250;
    if (d->cfg.retry_max_ms <= 0) d->cfg.retry_max_ms = 10000;
    if (d->cfg.retry_max_ms < d->cfg.retry_base_ms) d->cfg.retry_max_ms = d->cfg.retry_base_ms;
    if (d->cfg.lease_ms <= 0) d->cfg.lease_ms = 10000;
    if (d->cfg.refresh_ms <= 0) d->cfg.refresh_ms = 500;
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    ev_sink_global_init();
    if (pthread_create(&d->thread, NULL, dispatch_main, d) != 0) {
        pthread_mutex_destroy(&d->mu);
        pthread_cond_destroy(&d->cv);
        free(d);
        return castor_err_set(err, CASTOR_EINTERNAL, "cannot start the event dispatcher: %s",
                              strerror(errno));
    }
    pthread_setname_np(d->thread, "castor-events");
    *out = d;
    return CASTOR_OK;
}

void ev_dispatch_wake(ev_dispatch_t *d)
{
    /* Only a sleeping dispatcher needs the signal: a busy one reads again at once anyway. A
     * write that slips in as it goes to sleep waits for the idle poll (IDLE_WAIT_MS) at worst. */
    if (!d || !atomic_load_explicit(&d->sleeping, memory_order_relaxed)) return;
    pthread_mutex_lock(&d->mu);
    d->woken = 1;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

void ev_dispatch_poke(ev_dispatch_t *d)
{
    if (!d) return;
    pthread_mutex_lock(&d->mu);
    d->poked = 1;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

void ev_dispatch_stop(ev_dispatch_t *d)
{
    if (!d) return;
    pthread_mutex_lock(&d->mu);
    d->stop = 1;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->thread, NULL);
    /* Let lanes finish what they are sending, then save and give the leases up. */
    for (route_t *r = d->routes; r; r = r->next) {
        pthread_mutex_lock(&r->mu);
        r->stop = 1;
        for (unsigned i = 0; i < r->nlanes; i++)
            pthread_cond_broadcast(&r->lanes[i].cv);
        pthread_mutex_unlock(&r->mu);
    }
    for (route_t *r = d->routes; r; r = r->next)
        for (unsigned i = 0; i < r->nlanes; i++)
            if (r->lanes[i].started) {
                pthread_join(r->lanes[i].thread, NULL);
                r->lanes[i].started = 0;
            }
    save_progress(d, 1);
    while (d->routes) {
        route_t *r = d->routes;
        d->routes = r->next;
        route_free(r);
    }
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    free(d);
}
