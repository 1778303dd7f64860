/* test_query_stress.c — thousands of mutated example queries, from a fixed seed: none may
 * crash; every failure carries a kind, a position inside the text and a reason; every success
 * prints to text that parses back to the same AST. A cheap, deterministic cousin of
 * tests/fuzz/fuzz_query.c that runs in every ctest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/limits.h"
#include "query/query.h"

#define ITERATIONS 6000

static const char *const seeds[] = {
    "SELECT * FROM DIGITALTWINS T WHERE T.firmwareVersion = '1.1' AND T.$dtId IN ['123','456'] "
    "AND T.Temperature = 70",
    "SELECT * FROM DIGITALTWINS WHERE NOT IS_DEFINED(tags.red) AND tags.size = 'small'",
    "SELECT * FROM DIGITALTWINS DT WHERE IS_OF_MODEL(DT, 'dtmi:example:thing;1', exact)",
    "SELECT T, SBT, R FROM DIGITALTWINS T JOIN SBT RELATED T.servicedBy R WHERE T.$dtId = 'ABC' "
    "AND R.reportedCondition = 'clean'",
    "SELECT COUNT() FROM DIGITALTWINS c WHERE IS_OF_MODEL('dtmi:sample:Room;1') AND c.Capacity > "
    "20",
    "SELECT TOP(5) FROM DIGITALTWINS",
    "SELECT Consumer.name AS consumerName, Factory FROM DIGITALTWINS Factory JOIN Consumer "
    "RELATED Factory.customer Edge WHERE Factory.$dtId = 'ABC'",
    "SELECT * FROM RELATIONSHIPS WHERE $sourceId IN ['A','B','C','D']",
    "SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, 'area1-') OR ENDS_WITH($dtId, 'x')",
    "SELECT Floor, Room, Cafe FROM DIGITALTWINS MATCH "
    "(Floor)-[r:contains|isAssociatedWith]->(Cafe)<-[:has|includes*..3]-(Room) WHERE "
    "Floor.$dtId = 'thermostat-15' AND r.length = 10 AND Cafe.temperature = 55",
    "SELECT Floor, Room FROM DIGITALTWINS MATCH (Floor)-[*1..3]-(Room) WHERE Floor.$dtId = 'x'",
    "SELECT * FROM DIGITALTWINS WHERE [[Group]] = 'Bravo\\'Team' AND x < -1.5e3 AND (y = true OR "
    "z != null)",
    "SELECT T.name FROM DIGITALTWINS T WHERE ARRAY_CONTAINS(T.floor_number, 2) AND T.a.[[1k]] NIN "
    "[1]",
};

/* Fragments that make mutations land on interesting syntax rather than only on noise. */
static const char *const fragments[] = {
    "SELECT",
    "FROM",
    "WHERE",
    "JOIN",
    "RELATED",
    "MATCH",
    "AND",
    "OR",
    "NOT",
    "IN",
    "NIN",
    "AS",
    "TOP(",
    "COUNT()",
    "*",
    "(",
    ")",
    "[",
    "]",
    "[[",
    "]]",
    "'",
    "\\'",
    ".",
    "..",
    ",",
    "-",
    "->",
    "<-",
    "=",
    "!=",
    "<=",
    ">=",
    "exact",
    "$dtId",
    "T.",
    "1",
    "-2.5",
    "1e9",
    "'s'",
    "null",
    "true",
    "*1..3",
    "\\u00e9",
    "\xc3\xa9",
    "\xff",
    "\0",
    "|",
    ":",
    " ",
    "IS_OF_MODEL(",
    "DIGITALTWINS",
};

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

/* xorshift64*: deterministic across platforms, so a failure reproduces from its iteration. */
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static size_t rnd_below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

/* Applies one random edit to buf (len bytes, capacity cap); returns the new length. */
static size_t mutate(char *buf, size_t len, size_t cap)
{
    size_t at = rnd_below(len + 1);
    switch (rnd_below(5)) {
    case 0: { /* delete a run */
        size_t n = rnd_below(len - at + 1) % 12;
        memmove(buf + at, buf + at + n, len - at - n);
        return len - n;
    }
    case 1: { /* insert a fragment */
        const char *f = fragments[rnd_below(sizeof fragments / sizeof *fragments)];
        size_t n = f[0] ? strlen(f) : 1;
        if (len + n > cap) return len;
        memmove(buf + at + n, buf + at, len - at);
        memcpy(buf + at, f, n);
        return len + n;
    }
    case 2: /* overwrite a byte */
        if (at < len) buf[at] = (char)rnd();
        return len;
    case 3: { /* duplicate a run */
        size_t n = rnd_below(len - at + 1) % 40;
        if (len + n > cap) return len;
        memmove(buf + at + n, buf + at, len - at);
        return len + n;
    }
    default: { /* swap two bytes */
        size_t b = rnd_below(len);
        if (at < len) {
            char t = buf[at];
            buf[at] = buf[b];
            buf[b] = t;
        }
        return len;
    }
    }
}

static size_t characters(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
    return c;
}

static void check_one(const char *buf, size_t len, unsigned iteration, unsigned *ok)
{
    arena_t a;
    arena_init(&a, CASTOR_REQUEST_ARENA_MAX);
    castor_err err;
    castor_err_clear(&err);
    query_t *q = NULL, *q2 = NULL;
    int rc = query_prepare(&a, buf, len, &q, &err);
    if (rc < 0) {
        static const char *const kinds[] = {"Syntax error at position ",
                                            "Semantic error at position ",
                                            "Limit exceeded at position "};
        const char *rest = NULL;
        for (size_t k = 0; k < 3 && !rest; k++)
            if (strncmp(err.message, kinds[k], strlen(kinds[k])) == 0)
                rest = err.message + strlen(kinds[k]);
        if (!rest) fail_msg("iteration %u: message without kind: %s", iteration, err.message);
        size_t pos = 0;
        char colon = 0;
        if (sscanf(rest, "%zu%c", &pos, &colon) != 2 || colon != ':')
            fail_msg("iteration %u: no position: %s", iteration, err.message);
        if (pos < 1 || pos > characters(buf, len) + 1)
            fail_msg("iteration %u: position %zu outside the text: %s", iteration, pos,
                     err.message);
        const char *why = strchr(rest, ':');
        assert_true(strlen(why) > 3);
        assert_true(rc == CASTOR_EINVAL || rc == CASTOR_ELIMIT);
        assert_int_equal(err.status, 400);
    } else {
        char *text;
        assert_int_equal(query_print(&a, q, &text, &err), 0);
        if (query_prepare(&a, text, strlen(text), &q2, &err) != 0 || !query_equal(q, q2))
            fail_msg("iteration %u: round trip failed for %.*s -> %s (%s)", iteration, (int)len,
                     buf, text, err.message);
        (*ok)++;
    }
    arena_free(&a);
}

static void mutated_examples_never_crash(void **state)
{
    (void)state;
    char buf[2048];
    unsigned ok = 0;
    for (unsigned it = 0; it < ITERATIONS; it++) {
        const char *seed = seeds[it % (sizeof seeds / sizeof *seeds)];
        size_t len = strlen(seed);
        memcpy(buf, seed, len);
        size_t edits = 1 + rnd_below(4);
        for (size_t e = 0; e < edits; e++)
            len = mutate(buf, len, sizeof buf);
        check_one(buf, len, it, &ok);
    }
    /* Some mutants must survive, or the loop only exercised the first error path. */
    assert_true(ok > ITERATIONS / 50);
    print_message("%u of %u mutants parsed and round-tripped\n", ok, ITERATIONS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mutated_examples_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
