/* rbac_scope.c — scope strings: parsing, normalization and the inheritance rule.
 *
 * Azure scopes nest as / ⊃ /subscriptions/{s} ⊃ .../resourceGroups/{rg} ⊃ .../providers/{ns}/
 * {type}/{name}; an assignment applies to its scope and every descendant. Comparison is
 * case-insensitive and on whole segments, so /subscriptions/abc never covers /subscriptions/abcd.
 * Management-group ancestry comes from the MG hierarchy, not the string, so here an MG scope
 * covers only itself and scopes spelled below it. */
#include "rbac/rbac_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SCOPE_SEGMENTS_MAX 64
#define SCOPE_SHAPES                                                                               \
    "expected '/', '/subscriptions/{subscriptionId}', "                                            \
    "'/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}', "                           \
    "'/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/{namespace}/"       \
    "{type}/"                                                                                      \
    "{name}' or '/providers/Microsoft.Management/managementGroups/{groupId}'"

long rbac_scope_norm(char *buf, size_t cap, const char *scope)
{
    if (!scope || scope[0] != '/') return -1;
    long len = rbac_lower_copy(buf, cap, scope);
    if (len < 0) return -1;
    while (len > 0 && buf[len - 1] == '/')
        buf[--len] = '\0';
    return len;
}

int rbac_scope_covers(const char *outer, const char *inner)
{
    char o[RBAC_SCOPE_MAX], i[RBAC_SCOPE_MAX];
    long ol = rbac_scope_norm(o, sizeof o, outer);
    long il = rbac_scope_norm(i, sizeof i, inner);
    if (ol < 0 || il < 0) return 0;
    return rbac_scope_norm_covers(o, (size_t)ol, i, (size_t)il);
}

typedef struct seg {
    const char *p;
    size_t len;
} seg_t;

static int seg_is(const seg_t *s, const char *word)
{
    return strlen(word) == s->len && strncasecmp(s->p, word, s->len) == 0;
}

static int put_part(char *dst, size_t cap, const seg_t *s, const char *what, const char *scope,
                    castor_err *err)
{
    if (s->len >= cap)
        return castor_err_set(err, CASTOR_EINVAL,
                              "scope '%s': the %s '%.*s' is longer than %zu characters", scope,
                              what, (int)s->len, s->p, cap - 1);
    memcpy(dst, s->p, s->len);
    dst[s->len] = '\0';
    return 0;
}

/* Appends "/seg" (or "seg" when dst is empty) for nested resource types and names. */
static int append_part(char *dst, size_t cap, const seg_t *s, const char *what, const char *scope,
                       castor_err *err)
{
    size_t used = strlen(dst);
    size_t need = used + (used ? 1 : 0) + s->len;
    if (need >= cap)
        return castor_err_set(err, CASTOR_EINVAL,
                              "scope '%s': the resource %s is longer than %zu characters", scope,
                              what, cap - 1);
    if (used) dst[used++] = '/';
    memcpy(dst + used, s->p, s->len);
    dst[used + s->len] = '\0';
    return 0;
}

static int namespace_ok(const seg_t *s)
{
    const char *dot = memchr(s->p, '.', s->len);
    return dot && dot != s->p && s->p[s->len - 1] != '.';
}

/* Resource group names: 1-90 of letters, digits, '-', '_', '.', '(', ')', not ending in '.'
 * (non-ASCII letters are allowed by Azure, so bytes >= 0x80 pass). */
static int rg_ok(const seg_t *s)
{
    if (s->len > 90 || s->p[s->len - 1] == '.') return 0;
    for (size_t i = 0; i < s->len; i++) {
        unsigned char c = (unsigned char)s->p[i];
        if (!(isalnum(c) || c >= 0x80 || strchr("-_.()", c))) return 0;
    }
    return 1;
}

/* segs[i] is a provider namespace; the rest are {type}/{name} pairs, where a "providers"
 * type starts an extension resource under a new namespace. */
static int parse_resource(const seg_t *segs, size_t n, size_t i, rbac_scope_t *out,
                          const char *scope, castor_err *err)
{
    out->kind = RBAC_SCOPE_RESOURCE;
    for (;;) {
        if (!namespace_ok(&segs[i]))
            return castor_err_set(err, CASTOR_EINVAL,
                                  "scope '%s': '%.*s' is not a provider namespace such as "
                                  "'Microsoft.DigitalTwins'; " SCOPE_SHAPES,
                                  scope, (int)segs[i].len, segs[i].p);
        if (put_part(out->provider, sizeof out->provider, &segs[i], "provider namespace", scope,
                     err))
            return CASTOR_EINVAL;
        out->type[0] = out->name[0] = '\0';
        i++;
        if (i >= n || (n - i) % 2 != 0)
            return castor_err_set(err, CASTOR_EINVAL,
                                  "scope '%s': after the provider '%s' come {type}/{name} pairs, "
                                  "and %s; " SCOPE_SHAPES,
                                  scope, out->provider,
                                  i >= n ? "there are none" : "the last type has no name");
        for (; i < n; i += 2) {
            if (seg_is(&segs[i], "providers")) break;
            if (append_part(out->type, sizeof out->type, &segs[i], "type", scope, err) ||
                append_part(out->name, sizeof out->name, &segs[i + 1], "name", scope, err))
                return CASTOR_EINVAL;
        }
        if (i >= n) return 0;
        if (!out->type[0])
            return castor_err_set(
                err, CASTOR_EINVAL,
                "scope '%s': 'providers' follows a namespace directly; " SCOPE_SHAPES, scope);
        i++; /* an extension resource: segs[i] is its namespace */
    }
}

static int parse_subscription(const seg_t *segs, size_t n, rbac_scope_t *out, const char *scope,
                              castor_err *err)
{
    if (n < 2)
        return castor_err_set(err, CASTOR_EINVAL,
                              "scope '%s' names no subscription id; " SCOPE_SHAPES, scope);
    char sub[64];
    if (put_part(sub, sizeof sub, &segs[1], "subscription id", scope, err)) return CASTOR_EINVAL;
    if (!rbac_is_guid(sub))
        return castor_err_set(err, CASTOR_EINVAL,
                              "scope '%s': subscription id '%s' is not a GUID "
                              "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                              scope, sub);
    memcpy(out->subscription, sub, sizeof sub);
    out->kind = RBAC_SCOPE_SUBSCRIPTION;
    if (n == 2) return 0;
    if (seg_is(&segs[2], "providers")) {
        if (n < 4)
            return castor_err_set(err, CASTOR_EINVAL,
                                  "scope '%s' ends after 'providers'; " SCOPE_SHAPES, scope);
        return parse_resource(segs, n, 3, out, scope, err);
    }
    if (!seg_is(&segs[2], "resourceGroups"))
        return castor_err_set(
            err, CASTOR_EINVAL,
            "scope '%s': '%.*s' after the subscription should be 'resourceGroups' "
            "or 'providers'; " SCOPE_SHAPES,
            scope, (int)segs[2].len, segs[2].p);
    if (n < 4)
        return castor_err_set(err, CASTOR_EINVAL,
                              "scope '%s' names no resource group; " SCOPE_SHAPES, scope);
    if (!rg_ok(&segs[3]))
        return castor_err_set(
            err, CASTOR_EINVAL,
            "scope '%s': resource group '%.*s' must be 1-90 letters, digits, '-', "
            "'_', '.', '(' or ')' and not end in '.'",
            scope, (int)segs[3].len, segs[3].p);
    if (put_part(out->resource_group, sizeof out->resource_group, &segs[3], "resource group", scope,
                 err))
        return CASTOR_EINVAL;
    out->kind = RBAC_SCOPE_RESOURCE_GROUP;
    if (n == 4) return 0;
    if (!seg_is(&segs[4], "providers") || n < 6)
        return castor_err_set(err, CASTOR_EINVAL,
                              "scope '%s': after the resource group comes "
                              "'providers/{namespace}/{type}/{name}'; " SCOPE_SHAPES,
                              scope);
    return parse_resource(segs, n, 5, out, scope, err);
}

static int parse_providers(const seg_t *segs, size_t n, rbac_scope_t *out, const char *scope,
                           castor_err *err)
{
    if (n == 4 && seg_is(&segs[1], "Microsoft.Management") &&
        seg_is(&segs[2], "managementGroups")) {
        out->kind = RBAC_SCOPE_MANAGEMENT_GROUP;
        return put_part(out->management_group, sizeof out->management_group, &segs[3],
                        "management group id", scope, err);
    }
    if (n < 2)
        return castor_err_set(err, CASTOR_EINVAL,
                              "scope '%s' ends after 'providers'; " SCOPE_SHAPES, scope);
    return parse_resource(segs, n, 1, out, scope, err);
}

int rbac_scope_parse(const char *scope, rbac_scope_t *out, castor_err *err)
{
    memset(out, 0, sizeof *out);
    if (!scope || !*scope)
        return castor_err_set(err, CASTOR_EINVAL, "the scope is empty; " SCOPE_SHAPES);
    if (scope[0] != '/')
        return castor_err_set(err, CASTOR_EINVAL,
                              "scope '%s' does not start with '/'; " SCOPE_SHAPES, scope);
    long len = rbac_scope_norm(out->norm, sizeof out->norm, scope);
    if (len < 0)
        return castor_err_set(err, CASTOR_EINVAL, "scope '%.64s...' is longer than %u characters",
                              scope, RBAC_SCOPE_MAX - 1);
    if (len == 0) {
        snprintf(out->norm, sizeof out->norm, "/");
        out->kind = RBAC_SCOPE_ROOT;
        return 0;
    }
    seg_t segs[SCOPE_SEGMENTS_MAX] = {{0}};
    size_t n = 0;
    const char *p = scope + 1, *end = scope + len;
    while (p <= end) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *stop = slash ? slash : end;
        if (stop == p)
            return castor_err_set(err, CASTOR_EINVAL,
                                  "scope '%s' has an empty segment ('//') at offset %zu", scope,
                                  (size_t)(p - scope));
        if (n == SCOPE_SEGMENTS_MAX)
            return castor_err_set(err, CASTOR_EINVAL, "scope '%s' has more than %d segments", scope,
                                  SCOPE_SEGMENTS_MAX);
        segs[n].p = p;
        segs[n++].len = (size_t)(stop - p);
        p = stop + 1;
    }
    if (seg_is(&segs[0], "subscriptions")) return parse_subscription(segs, n, out, scope, err);
    if (seg_is(&segs[0], "providers")) return parse_providers(segs, n, out, scope, err);
    return castor_err_set(err, CASTOR_EINVAL, "scope '%s' starts with '%.*s'; " SCOPE_SHAPES, scope,
                          (int)segs[0].len, segs[0].p);
}
