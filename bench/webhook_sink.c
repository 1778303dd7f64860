/* webhook_sink.c — the events bench's HTTPS webhook receiver: accepts CloudEvents POSTs with
 * 200 and prints "<event time ms> <receipt ms>" per event on stdout (unix ms, one clock), for
 * bench/events_bench.mjs to turn into rates and latencies. A C receiver because the bench shares
 * two cores with castor: a node receiver cost about a third of a core at 5,000 events/s, which
 * castor's own figures then paid for.
 *
 *   webhook_sink PORT CERT.pem KEY.pem      prints "listening" once ready; stops on SIGTERM
 *
 * libmicrohttpd answers on the request's last access-handler call, never its first (0.9.75 closes
 * a keep-alive connection whose response is queued in the first call). */
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct body {
    char buf[8192];
    size_t len;
} body_t;

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* "time":"2026-12-07T04:16:29.1234567Z" -> unix ms with the fraction kept, or -1. */
static double event_time_ms(const char *s, size_t len)
{
    static const char key[] = "\"time\":\"";
    const char *end = s + len, *p = NULL;
    for (const char *q = s; q + sizeof key - 1 <= end; q++)
        if (memcmp(q, key, sizeof key - 1) == 0) {
            p = q + sizeof key - 1;
            break;
        }
    if (!p || end - p < 20) return -1;
    struct tm tm = {0};
    if (sscanf(p, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    double ms = (double)timegm(&tm) * 1000.0, scale = 100.0;
    for (p += 19; p < end && *p == '.'; p++) {
        for (p++; p < end && *p >= '0' && *p <= '9'; p++, scale /= 10)
            ms += (*p - '0') * scale;
        break;
    }
    return ms;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **state)
{
    (void)cls;
    (void)url;
    (void)version;
    body_t *b = *state;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b) return MHD_NO;
        *state = b;
        return MHD_YES;
    }
    if (*data_size) {
        size_t n = *data_size < sizeof b->buf - b->len ? *data_size : sizeof b->buf - b->len;
        memcpy(b->buf + b->len, data, n);
        b->len += n;
        *data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") == 0) {
        double t = event_time_ms(b->buf, b->len), at = now_ms();
        pthread_mutex_lock(&out_mu);
        printf("%.3f %.3f\n", t, at);
        pthread_mutex_unlock(&out_mu);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

static void on_done(void *cls, struct MHD_Connection *c, void **state,
                    enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    (void)why;
    free(*state);
    *state = NULL;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *s = calloc(1, 1 << 16);
    if (s) s[fread(s, 1, (1 << 16) - 1, f)] = '\0';
    fclose(f);
    return s;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: webhook_sink PORT CERT.pem KEY.pem\n");
        return 2;
    }
    char *cert = slurp(argv[2]), *key = slurp(argv[3]);
    if (!cert || !key) {
        fprintf(stderr, "webhook_sink: cannot read %s or %s\n", argv[2], argv[3]);
        return 1;
    }
    static char out_buf[1 << 16];
    setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* MHD's threads inherit it; main waits below */
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS, (uint16_t)atoi(argv[1]),
        NULL, NULL, on_request, NULL, MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY,
        key, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)120, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "webhook_sink: cannot listen on port %s\n", argv[1]);
        return 1;
    }
    printf("listening\n");
    fflush(stdout);
    /* Lines go out in blocks: every 20 ms is soon enough for the bench, cheap for the sink. */
    for (;;) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        siginfo_t si;
        if (sigtimedwait(&set, &si, &ts) > 0) break;
        pthread_mutex_lock(&out_mu);
        fflush(stdout);
        pthread_mutex_unlock(&out_mu);
    }
    MHD_stop_daemon(d);
    pthread_mutex_lock(&out_mu);
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
    free(cert);
    free(key);
    return 0;
}
