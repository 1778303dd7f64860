/* rbac_match.c — permission patterns: syntax check, compilation and matching.
 *
 * Azure matches actions case-insensitively and lets `*` stand for any run of characters,
 * '/' included ('Microsoft.DigitalTwins/digitaltwins/' + '*' covers .../relationships/read).
 * Patterns are lower-cased once when the index is built; a decision lower-cases the action once and
 * then compares bytes. */
#include "rbac/rbac_internal.h"

#include <ctype.h>
#include <string.h>

/* Greedy glob with backtracking to the last star: linear in practice, never exponential. */
static int glob_match(const char *p, size_t plen, const char *s, size_t slen)
{
    size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;
    while (si < slen) {
        if (pi < plen && p[pi] == '*') {
            star = pi++;
            mark = si;
        } else if (pi < plen && p[pi] == s[si]) {
            pi++;
            si++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return 0;
        }
    }
    while (pi < plen && p[pi] == '*')
        pi++;
    return pi == plen;
}

int rbac_pat_match(const rbac_pat_t *p, const char *action, size_t len)
{
    size_t fixed = p->len - 1; /* pattern bytes other than its one star */
    switch (p->kind) {
    case RBAC_PAT_EXACT:
        return len == p->len && memcmp(action, p->s, len) == 0;
    case RBAC_PAT_ANY:
        return 1;
    case RBAC_PAT_PREFIX:
        return len >= fixed && memcmp(action, p->s, fixed) == 0;
    case RBAC_PAT_SUFFIX:
        return len >= fixed && memcmp(action + len - fixed, p->s + 1, fixed) == 0;
    default:
        return glob_match(p->s, p->len, action, len);
    }
}

const rbac_pat_t *rbac_patlist_find(const rbac_patlist_t *l, const char *action, size_t len)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (rbac_pat_match(&l->v[i], action, len)) return &l->v[i];
    return NULL;
}

int rbac_pat_compile(arena_t *a, const char *pattern, rbac_pat_t *out)
{
    size_t len = strlen(pattern);
    char *s = arena_alloc(a, len + 1);
    char *orig = arena_strdup(a, pattern);
    if (!s || !orig) return CASTOR_ENOMEM;
    size_t stars = 0;
    for (size_t i = 0; i <= len; i++) {
        s[i] = (char)tolower((unsigned char)pattern[i]);
        if (pattern[i] == '*') stars++;
    }
    out->s = s;
    out->len = (uint32_t)len;
    out->orig = orig;
    if (stars == 0)
        out->kind = RBAC_PAT_EXACT;
    else if (len == 1)
        out->kind = RBAC_PAT_ANY;
    else if (stars == 1 && s[len - 1] == '*')
        out->kind = RBAC_PAT_PREFIX;
    else if (stars == 1 && s[0] == '*')
        out->kind = RBAC_PAT_SUFFIX;
    else
        out->kind = RBAC_PAT_GLOB;
    return 0;
}

int rbac_action_matches(const char *pattern, const char *action)
{
    size_t plen = strlen(pattern), alen = strlen(action);
    if (plen >= RBAC_ACTION_MAX || alen >= RBAC_ACTION_MAX) return 0;
    char p[RBAC_ACTION_MAX], s[RBAC_ACTION_MAX];
    rbac_lower_copy(p, sizeof p, pattern);
    rbac_lower_copy(s, sizeof s, action);
    return glob_match(p, plen, s, alen);
}

static int action_char_ok(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_' || c == '/' || c == '*';
}

#define ACTION_SHAPE                                                                               \
    "expected 'Company.Provider/resourceType/.../verb' such as "                                   \
    "'Microsoft.DigitalTwins/digitaltwins/read', with '*' as a wildcard "                          \
    "('Microsoft.DigitalTwins/*', "                                                                \
    "'*/read', '*')"

int rbac_action_validate(const char *pattern, castor_err *err)
{
    if (!pattern || !*pattern)
        return castor_err_set(err, CASTOR_EINVAL, "a permission is empty; " ACTION_SHAPE);
    size_t len = strlen(pattern);
    if (len >= RBAC_ACTION_MAX)
        return castor_err_set(err, CASTOR_EINVAL,
                              "permission '%.64s...' is %zu characters; at most %u are allowed",
                              pattern, len, RBAC_ACTION_MAX - 1);
    for (size_t i = 0; i < len; i++)
        if (!action_char_ok(pattern[i]))
            return castor_err_set(
                err, CASTOR_EINVAL,
                "permission '%s' has the character '%c' at offset %zu; only letters, "
                "digits, '.', '-', '_', '/' and '*' are allowed",
                pattern, pattern[i], i);
    if (strcmp(pattern, "*") == 0) return 0;
    if (pattern[0] == '/' || pattern[len - 1] == '/' || strstr(pattern, "//"))
        return castor_err_set(err, CASTOR_EINVAL, "permission '%s' has an empty segment; %s",
                              pattern, ACTION_SHAPE);
    const char *slash = strchr(pattern, '/');
    if (!slash)
        return castor_err_set(err, CASTOR_EINVAL, "permission '%s' has no '/'; " ACTION_SHAPE,
                              pattern);
    /* The first segment is a provider namespace (Company.Provider) unless it is a wildcard. */
    size_t plen = (size_t)(slash - pattern);
    if (!memchr(pattern, '*', plen)) {
        const char *dot = memchr(pattern, '.', plen);
        if (!dot || dot == pattern || pattern[plen - 1] == '.')
            return castor_err_set(err, CASTOR_EINVAL,
                                  "permission '%s' does not start with a provider namespace such "
                                  "as 'Microsoft.DigitalTwins'; " ACTION_SHAPE,
                                  pattern);
    }
    return 0;
}
