/* fuzz_rbac_scope.c — libFuzzer target for RBAC scopes and action patterns.
 *
 * The input is up to four lines: scope A, scope B, an action pattern and an action. Nothing
 * may crash, and these must hold for any of them:
 *   - a scope covers itself, root covers every scope, every segment-boundary prefix of a scope
 *     (its ancestors) covers it, a child ("A/x") is under it and a sibling ("Ax") is not;
 *   - coverage is case-insensitive, antisymmetric up to case and trailing slashes, and
 *     transitive;
 *   - a scope that parses has a normal form that parses to itself and covers it both ways;
 *   - a pattern matches itself and any case of itself, '*' matches everything, and the glob
 *     agrees with a plain dynamic-programming matcher;
 *   - rbac_check on an index with one custom role (Actions = [pattern]) assigned at A allows the
 *     action at B exactly when A covers B and the pattern matches the action.
 * Build: cmake -DCASTOR_FUZZ=ON with clang (make fuzz). */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rbac/rbac.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_rbac_scope: %s failed at line %d\n", #cond, __LINE__);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A scope the rules apply to: starts with '/', fits RBAC_SCOPE_MAX with room to add a child. */
static int usable(const char *s)
{
    return s[0] == '/' && strlen(s) + 4 < RBAC_SCOPE_MAX;
}

static size_t trimmed_len(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        n--;
    return n;
}

static void scope_rules(const char *a)
{
    if (!usable(a)) return;
    size_t n = strlen(a);
    char *buf = malloc(n + 8);
    CHECK(buf);
    CHECK(rbac_scope_covers(a, a));
    CHECK(rbac_scope_covers("/", a));
    /* Ancestors: every prefix that ends just before a '/' (other than a leading run of '/'). */
    for (size_t k = 1; k < n; k++) {
        if (a[k] != '/' || a[k - 1] == '/') continue;
        memcpy(buf, a, k);
        buf[k] = '\0';
        CHECK(rbac_scope_covers(buf, a));
    }
    if (trimmed_len(a) > 0) { /* not root */
        snprintf(buf, n + 8, "%.*s/x", (int)trimmed_len(a), a);
        CHECK(rbac_scope_covers(a, buf));
        CHECK(!rbac_scope_covers(buf, a));
        snprintf(buf, n + 8, "%.*sx", (int)trimmed_len(a), a);
        CHECK(!rbac_scope_covers(a, buf));
        CHECK(!rbac_scope_covers(buf, a));
    }
    /* Case does not matter. */
    for (size_t k = 0; k <= n; k++)
        buf[k] = (char)toupper((unsigned char)a[k]);
    CHECK(rbac_scope_covers(buf, a) && rbac_scope_covers(a, buf));
    free(buf);

    castor_err err;
    castor_err_clear(&err);
    rbac_scope_t *s = malloc(sizeof *s), *s2 = malloc(sizeof *s2);
    CHECK(s && s2);
    if (rbac_scope_parse(a, s, &err) == 0) {
        CHECK(rbac_scope_covers(s->norm, a) && rbac_scope_covers(a, s->norm));
        CHECK(rbac_scope_parse(s->norm, s2, &err) == 0);
        CHECK(strcmp(s->norm, s2->norm) == 0 && s->kind == s2->kind);
    } else {
        CHECK(err.message[0] != '\0');
    }
    free(s);
    free(s2);
}

/* Reference glob: '*' matches any run, everything else one byte, case-insensitively. */
static int reference_match(const char *p, const char *s)
{
    size_t pl = strlen(p), sl = strlen(s);
    unsigned char *row = calloc((pl + 1) * (sl + 1), 1);
    CHECK(row);
#define AT(i, j) row[(i) * (sl + 1) + (j)]
    AT(pl, sl) = 1;
    for (size_t i = pl + 1; i-- > 0;)
        for (size_t j = sl + 1; j-- > 0;) {
            if (i == pl) {
                AT(i, j) = j == sl;
            } else if (p[i] == '*') {
                AT(i, j) = AT(i + 1, j) || (j < sl && AT(i, j + 1));
            } else {
                AT(i, j) = j < sl && tolower((unsigned char)p[i]) == tolower((unsigned char)s[j]) &&
                           AT(i + 1, j + 1);
            }
        }
    int r = AT(0, 0);
#undef AT
    free(row);
    return r;
}

static void action_rules(const char *pattern, const char *action)
{
    if (strlen(pattern) >= RBAC_ACTION_MAX || strlen(action) >= RBAC_ACTION_MAX) {
        CHECK(!rbac_action_matches(pattern, action));
        return;
    }
    CHECK(rbac_action_matches(pattern, pattern));
    CHECK(rbac_action_matches("*", action));
    char up[RBAC_ACTION_MAX];
    size_t n = strlen(pattern);
    for (size_t k = 0; k <= n; k++)
        up[k] = (char)toupper((unsigned char)pattern[k]);
    CHECK(rbac_action_matches(up, pattern) && rbac_action_matches(pattern, up));
    CHECK(rbac_action_matches(pattern, action) == reference_match(pattern, action));
}

static void check_rule(const char *a, const char *b, const char *pattern, const char *action)
{
    static const char *const all_scopes[] = {"/"};
    const char *const actions[] = {pattern};
    rbac_role_def_t role = {
        .id = "0f000000-0000-4000-8000-00000000f00d",
        .role_name = "Fuzz role",
        .type = RBAC_ROLE_CUSTOM,
        .actions = {actions, 1},
        .assignable_scopes = {all_scopes, 1},
    };
    rbac_assignment_t as = {
        .name = "0a000000-0000-4000-8000-00000000a55a",
        .scope = a,
        .principal_id = "0b000000-0000-4000-8000-00000000b0b0",
        .principal_type = RBAC_PRINCIPAL_USER,
        .role_definition_id = role.id,
    };
    castor_err err;
    castor_err_clear(&err);
    rbac_index_t *ix = rbac_index_new(&role, 1, &as, 1, &err);
    if (!ix) { /* a malformed row is refused, never granted */
        CHECK(err.message[0] != '\0');
        return;
    }
    rbac_principal_t who = {.object_id = as.principal_id};
    rbac_request_t req = {.principal = &who, .action = action, .data_action = 0, .scope = b};
    rbac_decision_t d;
    int rc = rbac_check(ix, &req, &d, &err);
    if (rc >= 0) {
        int want = rbac_scope_covers(a, b) && rbac_action_matches(pattern, action);
        if (rc != want)
            fprintf(stderr, "rbac_check %d, rule %d: A=%s B=%s pattern=%s action=%s\n", rc, want, a,
                    b, pattern, action);
        CHECK(rc == want);
        /* The other plane never grants through Actions. */
        req.data_action = 1;
        CHECK(rbac_check(ix, &req, &d, &err) != RBAC_ALLOW);
    } else {
        CHECK(err.message[0] != '\0');
    }
    rbac_index_free(ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Four NUL-terminated fields cut at newlines; a NUL byte ends its field early. */
    char *copy = malloc(size + 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *field[4] = {"", "", "", ""};
    char *p = copy;
    for (int i = 0; i < 4 && p; i++) {
        field[i] = p;
        p = strchr(p, '\n');
        if (p) *p++ = '\0';
    }
    const char *a = field[0], *b = field[1], *pattern = field[2], *action = field[3];

    scope_rules(a);
    scope_rules(b);
    if (usable(a) && usable(b)) {
        int ab = rbac_scope_covers(a, b), ba = rbac_scope_covers(b, a);
        if (ab && ba)
            CHECK(trimmed_len(a) == trimmed_len(b) && strncasecmp(a, b, trimmed_len(a)) == 0);
        /* Transitivity through A's parent. */
        const char *slash = strrchr(a, '/');
        if (ab && slash && slash > a) {
            char parent[RBAC_SCOPE_MAX];
            snprintf(parent, sizeof parent, "%.*s", (int)(slash - a), a);
            if (rbac_scope_covers(parent, a)) CHECK(rbac_scope_covers(parent, b));
        }
    }
    action_rules(pattern, action);
    if (*action) check_rule(a, b, pattern, action);
    free(copy);
    return 0;
}
