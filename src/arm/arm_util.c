/* arm_util.c — what every resource-manager handler needs: URLs, paging with absolute
 * nextLinks, $filter terms, tags, role definition JSON. */
#include "arm/arm_internal.h"

#include "core/json.h"
#include "core/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ARM_PAGE_SIZE 100 /* items per page of every list; past it, nextLink */
#define ARM_TAGS_MAX 50   /* Azure: 50 tags per resource */

const char *arm_base_url(const http_request_t *req)
{
    const arm_deps_t *d = arm_deps(req);
    return d && d->public_url ? d->public_url : "";
}

const char *arm_host_name(http_request_t *req, const char *name)
{
    const char *base = arm_base_url(req);
    const char *host = strstr(base, "://");
    host = host ? host + 3 : base;
    size_t n = strlen(host);
    while (n && host[n - 1] == '/')
        n--;
    return arena_sprintf(&req->arena, "%.*s/dt/%s", (int)n, host, name);
}

const char *arm_instance_id(arena_t *a, const char *sub, const char *group, const char *name)
{
    return arena_sprintf(a,
                         "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.DigitalTwins/"
                         "digitalTwinsInstances/%s",
                         sub, group, name);
}

int arm_operation_record(store_txn_t *t, const char *op_id, const char *sub,
                         const char *resource_id, int64_t created, castor_err *err)
{
    store_arm_operation_t op = {.created = created};
    snprintf(op.id, sizeof op.id, "%s", op_id);
    snprintf(op.subscription_id, sizeof op.subscription_id, "%s", sub);
    if (snprintf(op.resource_id, sizeof op.resource_id, "%s", resource_id) >=
        (int)sizeof op.resource_id)
        return castor_err_set(err, CASTOR_ELIMIT,
                              "the resource id '%.100s...' is longer than an operation record "
                              "holds (%zu bytes)",
                              resource_id, sizeof op.resource_id - 1);
    snprintf(op.status, sizeof op.status, "Succeeded");
    return store_arm_operation_create(t, &op, err);
}

const char *arm_operation_url(http_request_t *req, const char *sub, const char *location,
                              const char *kind, const char *op_id)
{
    return arena_sprintf(&req->arena,
                         "%s/subscriptions/%s/providers/Microsoft.DigitalTwins/locations/%s/%s/"
                         "%s?api-version=%s",
                         arm_base_url(req), sub, location, kind, op_id,
                         req->api_version ? req->api_version : "2023-01-31");
}

int arm_send(http_request_t *req, http_response_t *resp, int status, json_t *value, castor_err *err)
{
    if (!value) return castor_err_set(err, CASTOR_ENOMEM, "out of memory building the answer");
    int rc = http_response_json(req, resp, status, value, err);
    json_decref(value);
    return rc;
}

/* The request's query without $skipToken, for building the next page's link. */
static const char *query_without_skiptoken(http_request_t *req)
{
    const char *q = req->query ? req->query : "";
    char *out = arena_alloc(&req->arena, strlen(q) + 1);
    if (!out) return "";
    size_t o = 0;
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        if (!(n >= 10 && strncasecmp(q, "$skiptoken", 10) == 0) &&
            !(n >= 12 && strncasecmp(q, "%24skiptoken", 12) == 0)) {
            if (o) out[o++] = '&';
            memcpy(out + o, q, n);
            o += n;
        }
        q = amp ? amp + 1 : q + n;
    }
    out[o] = '\0';
    return out;
}

int arm_send_page(http_request_t *req, http_response_t *resp, json_t *items, castor_err *err)
{
    if (!items) return castor_err_set(err, CASTOR_ENOMEM, "out of memory building the list");
    size_t skip = 0;
    const char *tok = http_request_query(req, "$skipToken");
    if (tok && tok[0]) {
        char *end;
        unsigned long v = strtoul(tok, &end, 10);
        if (*end || v > json_array_size(items)) {
            json_decref(items);
            return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidSkipToken",
                                   "The $skipToken '%s' is not one this server issued.", tok);
        }
        skip = v;
    }
    json_t *page = json_array();
    size_t total = json_array_size(items);
    for (size_t i = skip; i < total && i < skip + ARM_PAGE_SIZE; i++)
        json_array_append(page, json_array_get(items, i));
    json_t *body = json_pack("{s:o}", "value", page);
    if (body && skip + ARM_PAGE_SIZE < total) {
        /* Absolute, always: the JS SDK doubles a relative link's path prefix. */
        const char *q = query_without_skiptoken(req);
        const char *link =
            arena_sprintf(&req->arena, "%s%s?%s%s%%24skipToken=%zu", arm_base_url(req), req->path,
                          q, q[0] ? "&" : "", skip + ARM_PAGE_SIZE);
        json_object_set_new(body, "nextLink", json_string(link));
    }
    json_decref(items);
    return arm_send(req, resp, 200, body, err);
}

/* ---- $filter ---- */

int arm_filter_parse(arena_t *a, const char *text, arm_filter_t *out, castor_err *err)
{
    int rc = http_filter_parse(a, text, out, err);
    if (rc < 0 && out->n >= HTTP_FILTER_TERMS_MAX) /* too many terms: its message stands */
        return arm_err_recode(err, 400, "InvalidFilterInQueryString");
    int bad = rc < 0;
    /* ARM's filters are name eq 'value' and fn()/fn('value'); Graph's forms are not. */
    for (int i = 0; !bad && i < out->n; i++)
        bad = out->t[i].kind == HTTP_FILTER_ANY || out->t[i].arg != NULL;
    if (!bad) return CASTOR_OK;
    return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidFilterInQueryString",
                           "The $filter '%s' could not be parsed at offset %d: castor accepts "
                           "terms such as name eq 'value' or atScope() or assignedTo('id'), "
                           "joined by 'and'.",
                           text, out->error_offset);
}

const char *arm_filter_get(const arm_filter_t *f, const char *name, int *present)
{
    for (int i = 0; i < f->n; i++)
        if (strcasecmp(f->t[i].name, name) == 0) {
            if (present) *present = 1;
            return f->t[i].value;
        }
    if (present) *present = 0;
    return NULL;
}

/* ---- small things ---- */

const char *arm_time(arena_t *a, int64_t epoch_s)
{
    /* Azure Resource Manager writes seven fractional digits (.NET ticks); castor keeps seconds. */
    char buf[40];
    time_format_rfc3339(epoch_s, 0, buf, sizeof buf);
    size_t n = strlen(buf); /* "...:SS.000000Z" */
    return arena_sprintf(a, "%.*s0Z", (int)(n - 1), buf);
}

json_t *arm_tags_load(const char *text)
{
    json_t *v = text && text[0] ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_object(v)) {
        json_decref(v);
        v = json_object();
    }
    return v;
}

int arm_tags_check(http_request_t *req, const json_t *tags, const char **text_out, castor_err *err)
{
    if (!tags || json_is_null(tags)) {
        *text_out = "{}";
        return CASTOR_OK;
    }
    if (!json_is_object(tags))
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidTag",
                               "tags must be an object of name/value strings");
    if (json_object_size(tags) > ARM_TAGS_MAX)
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidTagCount",
                               "A resource can have at most %d tags; this has %zu.", ARM_TAGS_MAX,
                               json_object_size(tags));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)tags, k, v)
    {
        if (!json_is_string(v) || strlen(k) > 512 || strlen(k) == 0 ||
            strlen(json_string_value(v)) > 256)
            return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidTagNameCharacters",
                                   "Tag '%s' is invalid: names are 1-512 characters, values are "
                                   "strings of at most 256 characters.",
                                   k);
    }
    char *text = json_dump_compact(tags);
    if (!text) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    /* 50 maximal tags can outgrow the record that keeps them; refuse rather than cut. */
    size_t n = strlen(text);
    if (n >= CASTOR_TAGS_TEXT_MAX) {
        free(text);
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidTagNameCharacters",
                               "The tags take %zu bytes as JSON; castor keeps at most %u. Use "
                               "fewer or shorter tags.",
                               n, CASTOR_TAGS_TEXT_MAX - 1);
    }
    *text_out = arena_strdup(&req->arena, text);
    free(text);
    return CASTOR_OK;
}

int arm_body_location_tags(http_request_t *req, const json_t **loc, const char **tags,
                           castor_err *err)
{
    *loc = json_object_get(req->json, "location");
    if (!json_is_string(*loc) || !json_string_value(*loc)[0])
        return castor_err_http(err, CASTOR_EINVAL, 400, "LocationRequired",
                               "The location property is required for this definition.");
    size_t n = strlen(json_string_value(*loc));
    if (n >= CASTOR_LOCATION_MAX)
        return castor_err_http(err, CASTOR_EINVAL, 400, "LocationNotAvailableForResourceType",
                               "The provided location '%.32s...' is not available: a location "
                               "is an Azure region name such as 'westus2', at most %u "
                               "characters; this one has %zu.",
                               json_string_value(*loc), CASTOR_LOCATION_MAX - 1, n);
    return arm_tags_check(req, json_object_get(req->json, "tags"), tags, err);
}

static json_t *strlist_json(const rbac_strlist_t *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < l->n; i++)
        json_array_append_new(arr, json_string(l->v[i]));
    return arr;
}

json_t *arm_roledef_json(arena_t *a, const rbac_role_def_t *def, const char *sub,
                         const store_role_definition_t *meta)
{
    char guid[RBAC_GUID_LEN + 1];
    if (rbac_roledef_guid(def->id, guid, NULL) < 0) return NULL;
    const char *id =
        sub ? arena_sprintf(a,
                            "/subscriptions/%s/providers/Microsoft.Authorization/"
                            "roleDefinitions/%s",
                            sub, guid)
            : arena_sprintf(a, "/providers/Microsoft.Authorization/roleDefinitions/%s", guid);
    json_t *perm =
        json_pack("{s:o, s:o, s:o, s:o}", "actions", strlist_json(&def->actions), "notActions",
                  strlist_json(&def->not_actions), "dataActions", strlist_json(&def->data_actions),
                  "notDataActions", strlist_json(&def->not_data_actions));
    json_t *props =
        json_pack("{s:s, s:s, s:s, s:o, s:[o]}", "roleName", def->role_name, "type",
                  def->type == RBAC_ROLE_CUSTOM ? "CustomRole" : "BuiltInRole", "description",
                  def->description ? def->description : "", "assignableScopes",
                  strlist_json(&def->assignable_scopes), "permissions", perm);
    if (props) {
        const char *created = meta ? arm_time(a, meta->created) : "2019-12-09T00:00:00.0000000Z";
        const char *updated = meta ? arm_time(a, meta->updated) : created;
        json_object_set_new(props, "createdOn", json_string(created));
        json_object_set_new(props, "updatedOn", json_string(updated));
        json_object_set_new(props, "createdBy", meta ? json_string(meta->created_by) : json_null());
        json_object_set_new(props, "updatedBy", meta ? json_string(meta->created_by) : json_null());
    }
    return json_pack("{s:s, s:s, s:s, s:o}", "id", id, "name", guid, "type",
                     "Microsoft.Authorization/roleDefinitions", "properties", props);
}

/* ---- store ---- */

int arm_err_recode(castor_err *err, int status, const char *code)
{
    err->status = status;
    snprintf(err->code, sizeof err->code, "%s", code);
    return err->rc;
}

int arm_fail(store_txn_t *t, int rc)
{
    store_rollback(t);
    return rc;
}

int arm_begin(http_request_t *req, store_mode_t mode, store_txn_t **t, castor_err *err)
{
    return store_begin(arm_deps(req)->store, mode, t, err);
}

int arm_subscription_check(store_txn_t *t, const char *sub, castor_err *err)
{
    store_subscription_t s;
    castor_err e;
    castor_err_clear(&e);
    int rc = store_subscription_get(t, sub, &s, &e);
    if (rc == CASTOR_ENOTFOUND)
        return castor_err_http(err, rc, 404, "SubscriptionNotFound",
                               "The subscription '%s' could not be found.", sub);
    if (rc < 0) *err = e;
    return rc;
}

int arm_group_check(store_txn_t *t, const char *sub, const char *group, castor_err *err)
{
    store_resource_group_t *rg = malloc(sizeof *rg);
    if (!rg) return castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    int rc = store_resource_group_get(t, sub, group, rg, err);
    free(rg);
    if (rc == CASTOR_ENOTFOUND)
        return castor_err_http(err, rc, 404, "ResourceGroupNotFound",
                               "Resource group '%s' could not be found.", group);
    return rc;
}
