/* test_ev_dispatch.c — event routes in the store and the dispatcher end to end: every event a
 * route passes reaches a real HTTP receiver on loopback at least once, one twin's events in
 * the order they were written; failures are retried; what cannot be delivered is
 * dead-lettered to a file; cursors, leases and outbox trimming keep the guarantees across
 * restarts and between two dispatchers sharing one database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/ids.h"
#include "events/ev_dispatch.h"
#include "store/store_arm.h"
#include "store/store_directory.h"
#include "store/store_endpoints.h"
#include "store/store_events.h"
#include "store/store_twins.h"
#include "test_seed.h"
#include "test_util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- a small HTTP/1.1 receiver: keeps connections alive, records each POST body ---- */

#define RX_MAX 4096

typedef struct receiver {
    int fd;
    int port;
    pthread_t thread;
    pthread_mutex_t mu;
    int stop;
    int fail_first; /* answer 500 to this many requests first */
    int status;     /* then answer this (200 by default) */
    int count;      /* requests answered 2xx */
    int requests;   /* requests seen */
    char *bodies[RX_MAX];
    char auth[256]; /* the last Authorization / aeg-sas-key header seen */
} receiver_t;

typedef struct conn_arg {
    receiver_t *rx;
    int fd;
} conn_arg_t;

static void *rx_conn(void *arg)
{
    conn_arg_t *ca = arg;
    receiver_t *rx = ca->rx;
    int fd = ca->fd;
    free(ca);
    char *buf = malloc(1 << 20);
    size_t have = 0;
    for (;;) {
        char *end = NULL;
        while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
            ssize_t n = read(fd, buf + have, (1 << 20) - have);
            if (n <= 0) goto done;
            have += (size_t)n;
        }
        size_t head = (size_t)(end - buf) + 4;
        char *cl = strcasestr(buf, "Content-Length:");
        size_t len = cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
        while (have < head + len) {
            ssize_t n = read(fd, buf + have, (1 << 20) - have);
            if (n <= 0) goto done;
            have += (size_t)n;
        }
        pthread_mutex_lock(&rx->mu);
        rx->requests++;
        int status = rx->fail_first > 0 ? 500 : rx->status;
        if (rx->fail_first > 0) rx->fail_first--;
        const char *auth = strcasestr(buf, "\r\nAuthorization: ");
        if (!auth || auth > end) auth = strcasestr(buf, "\r\naeg-sas-key: ");
        if (auth && auth < end) {
            const char *v = strchr(auth + 2, ':') + 2;
            snprintf(rx->auth, sizeof rx->auth, "%.*s", (int)strcspn(v, "\r"), v);
        }
        if (status / 100 == 2 && rx->count < RX_MAX)
            rx->bodies[rx->count++] = strndup(buf + head, len);
        pthread_mutex_unlock(&rx->mu);
        char reply[128];
        int rn =
            snprintf(reply, sizeof reply, "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n", status);
        if (write(fd, reply, (size_t)rn) != rn) goto done;
        memmove(buf, buf + head + len, have - head - len);
        have -= head + len;
    }
done:
    free(buf);
    close(fd);
    return NULL;
}

static void *rx_main(void *arg)
{
    receiver_t *rx = arg;
    for (;;) {
        int c = accept(rx->fd, NULL, NULL);
        if (c < 0) return NULL;
        pthread_mutex_lock(&rx->mu);
        int stop = rx->stop;
        pthread_mutex_unlock(&rx->mu);
        if (stop) {
            close(c);
            return NULL;
        }
        conn_arg_t *ca = malloc(sizeof *ca);
        ca->rx = rx;
        ca->fd = c;
        pthread_t t;
        pthread_create(&t, NULL, rx_conn, ca);
        pthread_detach(t);
    }
}

static receiver_t *rx_start(int port)
{
    receiver_t *rx = calloc(1, sizeof *rx);
    pthread_mutex_init(&rx->mu, NULL);
    rx->status = 200;
    rx->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(rx->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(rx->fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname(rx->fd, (struct sockaddr *)&a, &al);
    rx->port = ntohs(a.sin_port);
    assert_int_equal(listen(rx->fd, 64), 0);
    pthread_create(&rx->thread, NULL, rx_main, rx);
    return rx;
}

static void rx_stop(receiver_t *rx)
{
    pthread_mutex_lock(&rx->mu);
    rx->stop = 1;
    pthread_mutex_unlock(&rx->mu);
    shutdown(rx->fd, SHUT_RDWR);
    close(rx->fd);
    pthread_join(rx->thread, NULL);
    for (int i = 0; i < rx->count; i++)
        free(rx->bodies[i]);
    pthread_mutex_destroy(&rx->mu);
    free(rx);
}

static int rx_count(receiver_t *rx)
{
    pthread_mutex_lock(&rx->mu);
    int n = rx->count;
    pthread_mutex_unlock(&rx->mu);
    return n;
}

/* Waits (up to 20 s) until the receiver has n events. */
static int rx_wait(receiver_t *rx, int n)
{
    for (int i = 0; i < 2000; i++) {
        if (rx_count(rx) >= n) return 1;
        usleep(10000);
    }
    return 0;
}

/* ---- the store fixture ---- */

typedef struct fixture {
    char *dir;
    store_t *store;
    char inst[STORE_ID_MAX];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (test_store_open_tmp(8, &f->dir, &f->store) < 0) return -1;
    castor_err err;
    assert_int_equal(test_seed_instances(f->store, (const char *const[]){"dt1", NULL},
                                         (char *const[]){f->inst}, &err),
                     0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    test_store_close_tmp(f->store, f->dir);
    free(f);
    return 0;
}

static void put_endpoint(fixture_t *f, const char *name, const char *type, const char *props,
                         const char *secrets)
{
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    store_endpoint_t ep = {.created = 1};
    snprintf(ep.instance_id, sizeof ep.instance_id, "%s", f->inst);
    snprintf(ep.name, sizeof ep.name, "%s", name);
    snprintf(ep.type, sizeof ep.type, "%s", type);
    snprintf(ep.state, sizeof ep.state, "Succeeded");
    ep.properties = (char *)props;
    ep.secrets = (char *)secrets;
    assert_int_equal(store_endpoint_put(t, &ep, &err), 0);
    assert_int_equal(store_commit(t, &err), 0);
}

static void put_webhook(fixture_t *f, const char *name, int port, const char *extra)
{
    char props[512];
    snprintf(props, sizeof props,
             "{\"endpointType\":\"webhook\",\"endpointUri\":"
             "\"http://127.0.0.1:%d/events\"%s}",
             port, extra ? extra : "");
    put_endpoint(f, name, "webhook", props, "{\"accessKey\":\"sekrit\"}");
}

static void put_route(fixture_t *f, const char *id, const char *endpoint, const char *filter)
{
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_route_put(t, f->inst, id, endpoint, filter, 1, NULL, &err), 0);
    assert_int_equal(store_commit(t, &err), 0);
}

/* Writes n events: twin "t<i % twins>", data {"n": i}, in one transaction each. */
static void write_events(fixture_t *f, int from, int n, int twins)
{
    castor_err err;
    for (int i = from; i < from + n; i++) {
        store_txn_t *t;
        char subject[32], ev[256];
        snprintf(subject, sizeof subject, "t%d", i % twins);
        snprintf(ev, sizeof ev,
                 "{\"specversion\":\"1.0\",\"id\":\"e%d\",\"source\":\"h/dt/dt1\","
                 "\"type\":\"Microsoft.DigitalTwins.Twin.Update\",\"subject\":\"%s\","
                 "\"datacontenttype\":\"application/json\",\"data\":{\"n\":%d}}",
                 i, subject, i);
        assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
        assert_int_equal(
            store_outbox_add(t, f->inst, "Microsoft.DigitalTwins.Twin.Update", subject, ev, &err),
            0);
        assert_int_equal(store_commit(t, &err), 0);
    }
}

static ev_dispatch_t *start_ex(fixture_t *f, const char *node, int64_t ttl_cap_ms, int exclusive,
                               int64_t refresh_ms);

static ev_dispatch_t *start(fixture_t *f, const char *node, int64_t ttl_cap_ms)
{
    return start_ex(f, node, ttl_cap_ms, 0, 50);
}

static ev_dispatch_t *start_ex(fixture_t *f, const char *node, int64_t ttl_cap_ms, int exclusive,
                               int64_t refresh_ms)
{
    ev_dispatch_config_t cfg = {
        .store = f->store,
        .data_dir = f->dir,
        .node_id = node,
        .lanes = 4,
        .retry_base_ms = 20,
        .retry_max_ms = 100,
        .ttl_cap_ms = ttl_cap_ms,
        .lease_ms = 2000,
        .refresh_ms = refresh_ms,
        .exclusive = exclusive,
    };
    ev_dispatch_t *d = NULL;
    castor_err err;
    assert_int_equal(ev_dispatch_start(&cfg, &d, &err), 0);
    return d;
}

static store_route_t get_route(fixture_t *f, arena_t *a, const char *id)
{
    castor_err err;
    store_txn_t *t;
    store_route_t r;
    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    assert_int_equal(store_route_get(t, f->inst, id, a, &r, &err), 0);
    store_rollback(t);
    return r;
}

/* Checks that each twin's events arrived in increasing n, and counts distinct n seen. */
static int check_order(receiver_t *rx, int twins, int *distinct)
{
    int last[64];
    for (int i = 0; i < 64; i++)
        last[i] = -1;
    char seen[RX_MAX] = {0};
    *distinct = 0;
    int ordered = 1;
    pthread_mutex_lock(&rx->mu);
    for (int i = 0; i < rx->count; i++) {
        json_t *ev = json_loads(rx->bodies[i], 0, NULL);
        assert_non_null(ev);
        int n = (int)json_integer_value(json_object_get(json_object_get(ev, "data"), "n"));
        int twin = n % twins;
        /* A redelivery may repeat an event, never put an older one after a newer one
         * unless it is a repeat of what came before. */
        if (n < last[twin] && !seen[n]) ordered = 0;
        if (n > last[twin]) last[twin] = n;
        if (!seen[n]) (*distinct)++;
        seen[n] = 1;
        json_decref(ev);
    }
    pthread_mutex_unlock(&rx->mu);
    return ordered;
}

/* ---- tests ---- */

static void routes_in_the_store(void **state)
{
    fixture_t *f = *state;
    castor_err err;
    arena_t a;
    arena_init(&a, 1 << 16);
    write_events(f, 0, 3, 1);
    put_endpoint(f, "Hook", "webhook", "{\"endpointUri\":\"http://127.0.0.1:1/\"}", "{}");
    put_route(f, "r1", "hook", "true");
    store_route_t r = get_route(f, &a, "r1");
    assert_string_equal(r.endpoint_name, "hook");
    assert_string_equal(r.filter, "true");
    /* A new route starts after the events that exist already. */
    store_txn_t *t;
    int64_t last = 0;
    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    assert_int_equal(store_outbox_last(t, &last, &err), 0);
    int n = 0;
    assert_int_equal(store_route_count_for_endpoint(t, f->inst, "HOOK", &n, &err), 0);
    assert_int_equal(n, 1);
    store_rollback(t);
    assert_int_equal(r.cursor, last);
    assert_true(last >= 3);

    /* Replacing keeps the cursor; leases go to one owner at a time. */
    put_route(f, "r1", "hook", "false");
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    int got = 0;
    assert_int_equal(store_route_lease(t, f->inst, "r1", "A", 1000, 5000, &got, &err), 0);
    assert_true(got);
    assert_int_equal(store_route_lease(t, f->inst, "r1", "B", 2000, 6000, &got, &err), 0);
    assert_false(got);
    int held = 0;
    store_route_progress_t p = {
        .cursor = last + 100, .delivered = 5, .last_error = "boom", .last_error_time = 7};
    assert_int_equal(store_route_progress(t, f->inst, "r1", "B", &p, &held, &err), 0);
    assert_false(held);
    assert_int_equal(store_route_progress(t, f->inst, "r1", "A", &p, &held, &err), 0);
    assert_true(held);
    p = (store_route_progress_t){.cursor = 1, .delivered = 1}; /* a cursor never moves back */
    assert_int_equal(store_route_progress(t, f->inst, "r1", "A", &p, &held, &err), 0);
    /* Expired: B takes it over. */
    assert_int_equal(store_route_lease(t, f->inst, "r1", "B", 5001, 9000, &got, &err), 0);
    assert_true(got);
    assert_int_equal(store_commit(t, &err), 0);
    r = get_route(f, &a, "r1");
    assert_string_equal(r.filter, "false");
    assert_int_equal(r.cursor, last + 100);
    assert_int_equal(r.delivered, 6);
    assert_string_equal(r.last_error, "boom");
    assert_int_equal(r.last_error_time, 7);
    assert_string_equal(r.lease_owner, "B");

    /* Trimming never removes the newest event (seqs must not be reused) and nothing a route
     * has not finished. */
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    int64_t deleted = -1;
    assert_int_equal(store_outbox_trim(t, INT64_MAX, 1000, &deleted, &err), 0);
    assert_int_equal(deleted, last - 1);
    assert_int_equal(store_commit(t, &err), 0);
    write_events(f, 3, 1, 1);
    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    int64_t now_last = 0;
    assert_int_equal(store_outbox_last(t, &now_last, &err), 0);
    store_rollback(t);
    assert_int_equal(now_last, last + 1);

    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_route_delete(t, f->inst, "r1", &err), 0);
    assert_int_equal(store_route_delete(t, f->inst, "r1", &err), CASTOR_ENOTFOUND);
    assert_int_equal(store_commit(t, &err), 0);
    arena_free(&a);
}

static void delivers_in_order_per_twin(void **state)
{
    fixture_t *f = *state;
    receiver_t *rx = rx_start(0);
    rx->fail_first = 7; /* some retries on the way */
    put_webhook(f, "hook", rx->port, NULL);
    put_route(f, "all", "hook", "true");
    put_route(f, "none", "hook", "false");
    ev_dispatch_t *d = start(f, "node-a", 0);
    write_events(f, 0, 300, 10);
    assert_true(rx_wait(rx, 300));
    usleep(300000); /* anything more would be a bug */
    int distinct = 0;
    assert_true(check_order(rx, 10, &distinct));
    assert_int_equal(distinct, 300);
    assert_int_equal(rx_count(rx), 300); /* the 'false' route sent nothing */
    assert_string_equal(rx->auth, "Bearer sekrit");
    ev_dispatch_stop(d);

    /* Progress was saved: a restart sends nothing again. */
    arena_t a;
    arena_init(&a, 1 << 16);
    store_route_t r = get_route(f, &a, "all");
    assert_int_equal(r.delivered, 300);
    assert_int_equal(r.failed, 7);
    assert_int_equal(r.failing, 0);
    assert_true(r.last_delivered_time > 0);
    assert_string_equal(r.lease_owner, "");
    /* The endpoint's figures sum its routes ('all' and the silent 'none'). */
    castor_err err;
    store_txn_t *t;
    store_endpoint_stats_t st;
    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    assert_int_equal(store_endpoint_stats(t, f->inst, "HOOK", &a, &st, &err), 0);
    store_rollback(t);
    assert_int_equal(st.routes, 2);
    assert_int_equal(st.delivered, 300);
    assert_int_equal(st.failed, 7);
    assert_int_equal(st.lag, 0);
    assert_non_null(strstr(st.last_error, "500"));
    d = start(f, "node-b", 0);
    write_events(f, 300, 5, 10);
    assert_true(rx_wait(rx, 305));
    usleep(300000);
    ev_dispatch_stop(d);
    assert_int_equal(rx_count(rx), 305);
    arena_free(&a);
    rx_stop(rx);
}

static int count_files(const char *dir)
{
    DIR *dd = opendir(dir);
    if (!dd) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dd)))
        if (strstr(e->d_name, ".json") && !strstr(e->d_name, ".tmp")) n++;
    closedir(dd);
    return n;
}

static void dead_letters_what_cannot_be_delivered(void **state)
{
    fixture_t *f = *state;
    /* A receiver that refuses (400): dead-lettered at once. */
    receiver_t *rx = rx_start(0);
    rx->status = 400;
    put_webhook(f, "refuses", rx->port, NULL);
    put_route(f, "r-refused", "refuses", "true");
    /* Nobody listening and a short TTL cap: dead-lettered after it. */
    receiver_t *gone = rx_start(0);
    int gone_port = gone->port;
    rx_stop(gone);
    put_webhook(f, "down", gone_port, ",\"retryPolicy\":{\"maxDeliveryAttempts\":100}");
    put_route(f, "r-down", "down", "true");
    ev_dispatch_t *d = start(f, "node-a", 600);
    write_events(f, 0, 4, 2);
    char dir1[4200], dir2[4200];
    snprintf(dir1, sizeof dir1, "%s/deadletter/dt1/refuses", f->dir);
    snprintf(dir2, sizeof dir2, "%s/deadletter/dt1/down", f->dir);
    for (int i = 0; i < 1000 && (count_files(dir1) < 4 || count_files(dir2) < 4); i++)
        usleep(10000);
    ev_dispatch_stop(d);
    assert_int_equal(count_files(dir1), 4);
    assert_int_equal(count_files(dir2), 4);
    assert_int_equal(rx->count, 0);
    assert_true(rx->requests >= 4);

    /* A record says why, and holds the event. */
    DIR *dd = opendir(dir2);
    struct dirent *e;
    char path[4400] = "";
    while ((e = readdir(dd)))
        if (strstr(e->d_name, ".json"))
            assert_true(snprintf(path, sizeof path, "%s/%s", dir2, e->d_name) < (int)sizeof path);
    closedir(dd);
    char *text = test_read_file(path, NULL);
    json_t *rec = json_loads(text, 0, NULL);
    assert_non_null(rec);
    assert_string_equal(json_string_value(json_object_get(rec, "deadLetterReason")),
                        "TimeToLiveExceeded");
    assert_string_equal(json_string_value(json_object_get(rec, "route")), "r-down");
    assert_true(json_integer_value(json_object_get(rec, "deliveryAttempts")) >= 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "event"), "type")),
                        "Microsoft.DigitalTwins.Twin.Update");
    json_decref(rec);
    free(text);

    arena_t a;
    arena_init(&a, 1 << 16);
    store_route_t r = get_route(f, &a, "r-refused");
    assert_int_equal(r.dead_lettered, 4);
    assert_non_null(strstr(r.last_error, "400"));
    r = get_route(f, &a, "r-down");
    assert_int_equal(r.dead_lettered, 4);
    arena_free(&a);
    rx_stop(rx);
}

static void one_dispatcher_per_route(void **state)
{
    fixture_t *f = *state;
    receiver_t *rx = rx_start(0);
    put_webhook(f, "hook", rx->port, NULL);
    put_route(f, "all", "hook", "true");
    ev_dispatch_t *a = start(f, "node-a", 0);
    ev_dispatch_t *b = start(f, "node-b", 0);
    write_events(f, 0, 200, 8);
    assert_true(rx_wait(rx, 200));
    usleep(300000);
    /* Both ran over one database; the lease let only one deliver. */
    assert_int_equal(rx_count(rx), 200);
    ev_dispatch_stop(a);
    /* a gave the lease up: b takes over and delivers what comes next. */
    write_events(f, 200, 20, 8);
    assert_true(rx_wait(rx, 220));
    usleep(200000);
    assert_int_equal(rx_count(rx), 220);
    ev_dispatch_stop(b);
    int distinct = 0;
    assert_true(check_order(rx, 8, &distinct));
    assert_int_equal(distinct, 220);
    rx_stop(rx);
}

/* A route deleted in the store by someone else (another node: no dispatcher of this process is
 * told) sends nothing written after the deletion, though the periodic re-read of the routes is
 * a minute away: the dispatcher sees the routes' change number move in the very snapshot that
 * holds the new events. */
static void a_route_changed_elsewhere_applies_before_the_next_event(void **state)
{
    fixture_t *f = *state;
    receiver_t *rx = rx_start(0), *rx2 = rx_start(0);
    put_webhook(f, "hook", rx->port, NULL);
    put_webhook(f, "hook2", rx2->port, NULL);
    put_route(f, "gone", "hook", "true");
    put_route(f, "stays", "hook2", "true");
    ev_dispatch_t *d = start_ex(f, "node-a", 0, 0, 60000);
    write_events(f, 0, 3, 3);
    assert_true(rx_wait(rx, 3));
    assert_true(rx_wait(rx2, 3));
    castor_err err;
    store_txn_t *t;
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_route_delete(t, f->inst, "gone", &err), 0);
    assert_int_equal(store_commit(t, &err), 0);
    write_events(f, 3, 4, 3);
    assert_true(rx_wait(rx2, 7)); /* the dispatcher has read past the deletion */
    usleep(200000);
    assert_int_equal(rx_count(rx), 3);
    assert_int_equal(rx_count(rx2), 7);
    ev_dispatch_stop(d);
    rx_stop(rx);
    rx_stop(rx2);
}

static int count_row(const store_outbox_row_t *row, void *ctx)
{
    (void)row;
    (*(int *)ctx)++;
    return 0;
}

static int outbox_rows(fixture_t *f)
{
    castor_err err;
    store_txn_t *t;
    int n = 0;
    int64_t next = 0;
    assert_int_equal(store_begin(f->store, STORE_READ, &t, &err), 0);
    assert_int_equal(store_outbox_next(t, 0, 100000, count_row, &n, &next, &err), 0);
    store_rollback(t);
    return n;
}

static void outbox_is_trimmed_once_delivered(void **state)
{
    fixture_t *f = *state;
    receiver_t *rx = rx_start(0);
    rx->status = 503; /* down: nothing may be trimmed */
    put_webhook(f, "hook", rx->port, ",\"retryPolicy\":{\"maxDeliveryAttempts\":100}");
    put_route(f, "all", "hook", "true");
    ev_dispatch_t *d = start(f, "node-a", 0);
    write_events(f, 0, 50, 5);
    usleep(2500000); /* past one trim pass */
    assert_int_equal(outbox_rows(f), 50);
    pthread_mutex_lock(&rx->mu);
    rx->status = 200;
    pthread_mutex_unlock(&rx->mu);
    assert_true(rx_wait(rx, 50));
    int rows = -1;
    for (int i = 0; i < 500 && rows != 1; i++) {
        usleep(10000);
        rows = outbox_rows(f);
    }
    /* Everything delivered is gone but the newest row, which keeps seqs growing. */
    assert_int_equal(rows, 1);
    ev_dispatch_stop(d);
    rx_stop(rx);
}

/* A crash leaves its lease behind. Sharing the store, a new process waits for it to run out;
 * alone on it (SQLite), it takes the lease at once. */
static void a_lone_process_takes_a_dead_predecessors_lease(void **state)
{
    fixture_t *f = *state;
    receiver_t *rx = rx_start(0);
    put_webhook(f, "hook", rx->port, NULL);
    put_route(f, "all", "hook", "true");
    castor_err err;
    store_txn_t *t;
    int got = 0;
    assert_int_equal(store_begin(f->store, STORE_WRITE, &t, &err), 0);
    assert_int_equal(store_route_lease(t, f->inst, "all", "dead-node", 0, INT64_MAX, &got, &err),
                     0);
    assert_true(got);
    assert_int_equal(store_commit(t, &err), 0);
    write_events(f, 0, 10, 2);
    ev_dispatch_t *shared = start(f, "node-a", 0);
    usleep(700000);
    assert_int_equal(rx_count(rx), 0); /* the lease is someone else's, for all it knows */
    ev_dispatch_stop(shared);
    ev_dispatch_t *alone = start_ex(f, "node-b", 0, 1, 50);
    assert_true(rx_wait(rx, 10));
    ev_dispatch_stop(alone);
    rx_stop(rx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(routes_in_the_store, setup, teardown),
        cmocka_unit_test_setup_teardown(delivers_in_order_per_twin, setup, teardown),
        cmocka_unit_test_setup_teardown(dead_letters_what_cannot_be_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown(one_dispatcher_per_route, setup, teardown),
        cmocka_unit_test_setup_teardown(a_route_changed_elsewhere_applies_before_the_next_event,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(outbox_is_trimmed_once_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown(a_lone_process_takes_a_dead_predecessors_lease, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
