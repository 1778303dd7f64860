/* fuzz_ev_filter.c — libFuzzer target for the event-route filter language.
 *
 * Any text must compile or be refused with a positioned 400 EventRouteFilterInvalid, never
 * crash, leak or hang; a filter that compiles is matched against a few fixed events, and a
 * filter and its negation NOT (...) never both pass one event (undefined passes neither).
 * Build: cmake -DCASTOR_FUZZ=ON with clang (make fuzz). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "events/ev_filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const event_text[] = {
    "{\"specversion\":\"1.0\",\"id\":\"e1\",\"type\":\"Microsoft.DigitalTwins.Twin.Create\","
    "\"source\":\"dt1.api.local\",\"subject\":\"room1\",\"time\":\"2021-12-09T20:28:52Z\","
    "\"datacontenttype\":\"application/json\",\"traceparent\":\"00-aa-bb-01\","
    "\"data\":{\"$dtId\":\"room1\",\"name\":\"Room\",\"temperature\":21,\"humidity\":40.5,"
    "\"occupied\":true,\"note\":null,\"tags\":[\"a\"],\"zone\":{\"floor\":3,\"a\":{\"b\":\"c\"}},"
    "\"$metadata\":{\"$model\":\"dtmi:example:Room;1\"}}}",
    "{\"specversion\":\"1.0\",\"id\":\"m-7\",\"type\":\"microsoft.iot.telemetry\","
    "\"source\":\"dt1.api.local/digitaltwins/room1\",\"subject\":\"\","
    "\"dataschema\":\"dtmi:example:T;1\",\"data\":{\"Temperature\":-50.25,\"x\":\"\"}}",
    "{\"id\":7,\"type\":null,\"data\":\"text\"}",
    "{}",
};
#define EVENT_COUNT (sizeof event_text / sizeof *event_text)

static json_t *events[EVENT_COUNT];

static void load_events(void)
{
    for (size_t i = 0; i < EVENT_COUNT; i++)
        if (!events[i] && !(events[i] = json_loads(event_text[i], 0, NULL))) abort();
}

static void check_refusal(int rc, const castor_err *err)
{
    if (rc == CASTOR_ENOMEM) return;
    if (rc != CASTOR_EINVAL && rc != CASTOR_ELIMIT) abort();
    if (err->status != 400 || strcmp(err->code, "EventRouteFilterInvalid") != 0) abort();
    /* Every refusal says where, except the two that are about the whole text. */
    if (!strstr(err->message, " at offset ") && !strstr(err->message, "is empty") &&
        !strstr(err->message, "characters long"))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load_events();
    castor_err err;
    castor_err_clear(&err);
    ev_filter_t *f = NULL;
    int rc = ev_filter_compile((const char *)data, size, &f, &err);
    if (rc < 0) {
        if (f) abort();
        check_refusal(rc, &err);
        return 0;
    }
    /* NOT (text): one more level and 6 more characters, which the caps may refuse. */
    char *neg_text = malloc(size + 6);
    if (!neg_text) abort();
    memcpy(neg_text, "NOT (", 5);
    memcpy(neg_text + 5, data, size);
    neg_text[size + 5] = ')';
    ev_filter_t *neg = NULL;
    castor_err err2;
    castor_err_clear(&err2);
    int rc2 = ev_filter_compile(neg_text, size + 6, &neg, &err2);
    if (rc2 < 0 && rc2 != CASTOR_ELIMIT && rc2 != CASTOR_ENOMEM) abort();
    for (size_t i = 0; i < EVENT_COUNT; i++) {
        bool m = ev_filter_match(f, events[i]);
        if (neg && m && ev_filter_match(neg, events[i])) abort();
    }
    ev_filter_free(neg);
    free(neg_text);
    ev_filter_free(f);
    return 0;
}
