/* twins_rel.c — relationships: PUT (validated against the source model's relationship: name,
 * target model with inheritance, properties, maxMultiplicity), GET, PATCH, DELETE, and the
 * outgoing / incoming lists with absolute nextLinks. */
#include "twins/twins_api.h"
#include "twins/twins_routes.h"

#include "core/json.h"
#include "core/limits.h"
#include "store/store_twins.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *parse_doc(const char *text, castor_err *err)
{
    json_t *doc = json_read(text, strlen(text));
    if (!doc) castor_err_set(err, CASTOR_EINTERNAL, "a stored relationship is not valid JSON");
    return doc;
}

/* The relationship definition `name` on the source's model, or NULL. */
static const dtdl_content_t *rel_def(const twins_ctx_t *ctx, const char *model, const char *name)
{
    const dtdl_interface_t *iface = twins_iface(ctx, model);
    const dtdl_content_t *c = iface && name ? dtdl_interface_content(iface, name) : NULL;
    return c && c->kind == DTDL_CONTENT_RELATIONSHIP ? c : NULL;
}

static int ids(http_request_t *req, const char **src, const char **rel, castor_err *err)
{
    int rc = twins_param_id(req, "id", src, err);
    if (rc == 0) rc = twins_param_id(req, "relationshipId", rel, err);
    return rc;
}

/* After a relationship lookup missed: is it the twin or the relationship that is absent? */
static int rel_missing(store_txn_t *t, twins_ctx_t *ctx, const char *src, const char *rel,
                       castor_err *err)
{
    store_twin_t tw;
    int rc = store_twin_get(t, ctx->instance, src, &ctx->req->arena, &tw, err);
    if (rc == CASTOR_ENOTFOUND) return twins_err_twin_not_found(err, src);
    if (rc < 0) return rc;
    return twins_err_rel_not_found(err, src, rel);
}

static const char *str_field(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

int twins_rel_put(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *src, *rid;
    twins_cond_t cond;
    twins_ctx_t ctx;
    int rc = ids(req, &src, &rid, err);
    if (rc == 0) rc = twins_conditions(req, &cond, err);
    if (rc < 0) return rc;
    const json_t *body = req->json;
    if (!json_is_object(body))
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                               "The relationship must be a JSON object with $targetId, "
                               "$relationshipName and its properties.");
    const char *target = str_field(body, "$targetId"), *name = str_field(body, "$relationshipName");
    if (!target || !*target)
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                               "The relationship has no $targetId: name the twin it points to.");
    if (!name || !*name)
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                               "The relationship has no $relationshipName: name one of the "
                               "relationships the source twin's model declares.");
    const char *bid = str_field(body, "$relationshipId"), *bsrc = str_field(body, "$sourceId");
    if ((bid && strcmp(bid, rid) != 0) || (bsrc && strcmp(bsrc, src) != 0))
        return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                               "The body's $relationshipId/$sourceId (%s/%s) differ from the "
                               "path's (%s/%s).",
                               bsrc ? bsrc : src, bid ? bid : rid, src, rid);
    if (strcmp(src, target) == 0)
        return castor_err_http(err, CASTOR_EINVAL, 400, "OperationNotAllowed",
                               "A relationship cannot point from the twin %s to itself.", src);
    rc = twins_begin(req, &ctx, 1, err);
    if (rc < 0) return rc;
    char etag[64];
    twins_new_etag(etag, sizeof etag);
    store_txn_t *t = NULL;
    store_twin_t stw, ttw;
    store_rel_t old;
    int exists = 0;
    const dtdl_content_t *def = NULL;
    /* The document and its create event depend on nothing stored: made before the writer lock,
     * which every write waits for. */
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s}", "$relationshipId", rid, "$etag", etag,
                            "$sourceId", src, "$targetId", target, "$relationshipName", name);
    if (doc) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)body, k, v)
        {
            if (k[0] != '$') json_object_set(doc, k, v);
        }
    }
    char *text = doc ? json_dump_compact(doc) : NULL;
    const char *subject = arena_sprintf(&req->arena, "%s/relationships/%s", src, rid);
    char *created = NULL;
    if (text && subject)
        created = twins_event_text_raw(&ctx, "Microsoft.DigitalTwins.Relationship.Create", subject,
                                       NULL, NULL, NULL, text, NULL, NULL, err);
    if (!created) rc = castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    if (rc == 0) rc = store_begin(ctx.store, STORE_WRITE, &t, err);
    if (rc == 0) {
        rc = store_twin_get(t, ctx.instance, src, &req->arena, &stw, err);
        if (rc == CASTOR_ENOTFOUND) rc = twins_err_twin_not_found(err, src);
    }
    if (rc == 0) {
        rc = store_twin_get(t, ctx.instance, target, &req->arena, &ttw, err);
        if (rc == CASTOR_ENOTFOUND)
            rc = castor_err_http(err, CASTOR_ENOTFOUND, 404, "TargetTwinNotFound",
                                 "The target digital twin %s does not exist. Create it before "
                                 "relating twins to it.",
                                 target);
    }
    if (rc == 0) {
        rc = store_rel_get(t, ctx.instance, src, rid, &req->arena, &old, err);
        exists = rc == 0;
        if (rc == CASTOR_ENOTFOUND) rc = 0;
    }
    if (rc == 0 && exists && cond.if_none_match_any)
        rc = castor_err_http(err, CASTOR_EPRECOND, 412, "PreconditionFailed",
                             "The relationship %s of the twin %s already exists, and "
                             "If-None-Match: * asks to create it only if it does not.",
                             rid, src);
    if (rc == 0 && exists) rc = twins_check_if_match(&cond, old.etag, err);
    if (rc == 0 && !(def = rel_def(&ctx, stw.model_id, name)))
        rc = castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRelationship",
                             "The model %s of the twin %s declares no relationship named %s.",
                             stw.model_id, src, name);
    if (rc == 0 && def->target) {
        const dtdl_interface_t *ti = twins_iface(&ctx, ttw.model_id);
        if (!ti || !dtdl_interface_is_of(ti, def->target))
            rc = castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRelationship",
                                 "The relationship %s of the model %s must target a twin of "
                                 "the model %s (or one extending it); the twin %s is a %s.",
                                 name, stw.model_id, def->target, target, ttw.model_id);
    }
    if (rc == 0) rc = twins_rel_validate_props(def, body, err);
    if (rc == 0 && def->max_multiplicity >= 0) {
        int64_t n = 0;
        rc = store_rel_count_out(t, ctx.instance, src, name, rid, &n, err);
        if (rc == 0 && n + 1 > def->max_multiplicity)
            rc = castor_err_http(err, CASTOR_ELIMIT, 400, "InvalidRelationship",
                                 "The twin %s already has %lld %s relationship(s); the model %s "
                                 "allows at most %ld (maxMultiplicity). castor enforces it, ADT "
                                 "does not.",
                                 src, (long long)n, name, stw.model_id, def->max_multiplicity);
    }
    if (rc == 0 && !exists) {
        int64_t nout = 0, nin = 0;
        rc = store_rel_count_out(t, ctx.instance, src, NULL, NULL, &nout, err);
        if (rc == 0) rc = store_rel_count_in(t, ctx.instance, target, &nin, err);
        if (rc == 0 && (nout >= CASTOR_REL_OUT_MAX || nin >= CASTOR_REL_IN_MAX))
            rc = castor_err_http(err, CASTOR_ELIMIT, 400, "RelationshipLimitReached",
                                 "The twin %s has %lld outgoing and the twin %s %lld incoming "
                                 "relationships; ADT allows at most %u each.",
                                 src, (long long)nout, target, (long long)nin, CASTOR_REL_OUT_MAX);
    }
    if (rc == 0) {
        store_rel_t r = {0, src, rid, target, name, etag, text};
        rc = store_rel_put(t, ctx.instance, &r, err);
    }
    if (rc == 0 && !exists)
        rc = store_outbox_add(t, ctx.instance, "Microsoft.DigitalTwins.Relationship.Create",
                              subject, created, err);
    if (rc == 0 && exists) {
        json_t *od = parse_doc(old.doc, err), *patch = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(doc, k, v)
        {
            json_t *o = od ? json_object_get(od, k) : NULL;
            if (strcmp(k, "$etag") == 0 || (o && json_equal(o, v))) continue;
            json_array_append_new(patch, json_pack("{s:s, s:s+, s:O}", "op", o ? "replace" : "add",
                                                   "path", "/", k, "value", v));
        }
        json_object_foreach(od, k, v)
        {
            if (!json_object_get(doc, k))
                json_array_append_new(patch,
                                      json_pack("{s:s, s:s+}", "op", "remove", "path", "/", k));
        }
        json_t *data = json_pack("{s:s, s:o}", "modelId", stw.model_id, "patch", patch);
        rc = twins_emit(&ctx, t, "Microsoft.DigitalTwins.Relationship.Update", subject, NULL, NULL,
                        NULL, data, NULL, NULL, err);
        json_decref(data);
        json_decref(od);
    }
    rc = twins_end(&ctx, t, rc, err);
    if (rc == 0) twins_respond_text(req, resp, text, etag);
    free(created);
    free(text);
    json_decref(doc);
    twins_done(&ctx);
    return rc;
}

int twins_rel_get(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *src, *rid;
    twins_ctx_t ctx;
    int rc = ids(req, &src, &rid, err);
    if (rc == 0) rc = twins_begin(req, &ctx, 0, err);
    if (rc < 0) return rc;
    store_txn_t *t = NULL;
    store_rel_t r;
    rc = store_begin(ctx.store, STORE_READ, &t, err);
    if (rc == 0) rc = store_rel_get(t, ctx.instance, src, rid, &req->arena, &r, err);
    if (rc == CASTOR_ENOTFOUND) rc = rel_missing(t, &ctx, src, rid, err);
    store_rollback(t);
    if (rc < 0) return rc;
    twins_respond_text(req, resp, r.doc, r.etag);
    return CASTOR_OK;
}

int twins_rel_patch(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *src, *rid;
    twins_cond_t cond;
    twins_ctx_t ctx;
    int rc = ids(req, &src, &rid, err);
    if (rc == 0) rc = twins_conditions(req, &cond, err);
    if (rc == 0) rc = twins_begin(req, &ctx, 1, err);
    if (rc < 0) return rc;
    char etag[64];
    twins_new_etag(etag, sizeof etag);
    store_txn_t *t = NULL;
    store_rel_t old;
    store_twin_t stw;
    json_t *doc = NULL;
    char *text = NULL;
    rc = store_begin(ctx.store, STORE_WRITE, &t, err);
    if (rc == 0) {
        rc = store_twin_get(t, ctx.instance, src, &req->arena, &stw, err);
        if (rc == CASTOR_ENOTFOUND) rc = twins_err_twin_not_found(err, src);
    }
    if (rc == 0) {
        rc = store_rel_get(t, ctx.instance, src, rid, &req->arena, &old, err);
        if (rc == CASTOR_ENOTFOUND) rc = twins_err_rel_not_found(err, src, rid);
    }
    if (rc == 0) rc = twins_check_if_match(&cond, old.etag, err);
    if (rc == 0 && !(doc = parse_doc(old.doc, err))) rc = CASTOR_EINTERNAL;
    if (rc == 0) rc = twins_rel_doc_patch(doc, req->json, err);
    if (rc == 0) {
        const dtdl_content_t *def = rel_def(&ctx, stw.model_id, old.name);
        rc = def ? twins_rel_validate_props(def, doc, err)
                 : castor_err_http(err, CASTOR_EINVAL, 400, "InvalidRelationship",
                                   "The model %s of the twin %s no longer declares the "
                                   "relationship %s.",
                                   stw.model_id, src, old.name);
    }
    if (rc == 0) {
        json_object_set_new(doc, "$etag", json_string(etag));
        text = json_dump_compact(doc);
        if (!text) rc = castor_err_set(err, CASTOR_ENOMEM, "out of memory");
    }
    if (rc == 0) {
        store_rel_t r = {0, src, rid, old.target_id, old.name, etag, text};
        rc = store_rel_put(t, ctx.instance, &r, err);
    }
    if (rc == 0) {
        json_t *data = json_pack("{s:s, s:O}", "modelId", stw.model_id, "patch", req->json);
        rc = twins_emit(&ctx, t, "Microsoft.DigitalTwins.Relationship.Update",
                        arena_sprintf(&req->arena, "%s/relationships/%s", src, rid), NULL, NULL,
                        NULL, data, NULL, NULL, err);
        json_decref(data);
    }
    rc = twins_end(&ctx, t, rc, err);
    free(text);
    json_decref(doc);
    twins_done(&ctx);
    if (rc < 0) return rc;
    resp->status = 204;
    http_response_header(req, resp, "ETag", etag);
    return CASTOR_OK;
}

int twins_rel_delete(http_request_t *req, http_response_t *resp, castor_err *err)
{
    const char *src, *rid;
    twins_cond_t cond;
    twins_ctx_t ctx;
    int rc = ids(req, &src, &rid, err);
    if (rc == 0) rc = twins_conditions(req, &cond, err);
    if (rc == 0) rc = twins_begin(req, &ctx, 0, err);
    if (rc < 0) return rc;
    store_txn_t *t = NULL;
    store_rel_t old;
    rc = store_begin(ctx.store, STORE_WRITE, &t, err);
    if (rc == 0) rc = store_rel_get(t, ctx.instance, src, rid, &req->arena, &old, err);
    if (rc == CASTOR_ENOTFOUND) rc = rel_missing(t, &ctx, src, rid, err);
    if (rc == 0) rc = twins_check_if_match(&cond, old.etag, err);
    if (rc == 0) rc = store_rel_delete(t, ctx.instance, src, rid, err);
    if (rc == 0) {
        json_t *doc = parse_doc(old.doc, err);
        rc = doc ? twins_emit(&ctx, t, "Microsoft.DigitalTwins.Relationship.Delete",
                              arena_sprintf(&req->arena, "%s/relationships/%s", src, rid), NULL,
                              NULL, NULL, doc, NULL, NULL, err)
                 : CASTOR_EINTERNAL;
        json_decref(doc);
    }
    rc = twins_end(&ctx, t, rc, err);
    if (rc < 0) return rc;
    resp->status = 204;
    return CASTOR_OK;
}

/* ---- lists ---- */

typedef struct page {
    json_t *value;
    int incoming;
    int64_t last;
    int64_t count;
    int64_t limit;
    int more;
} page_t;

static int page_row(const store_rel_t *r, void *ctx)
{
    page_t *p = ctx;
    if (p->count == p->limit) {
        p->more = 1;
        return 1;
    }
    p->count++;
    p->last = r->seq;
    if (p->incoming) {
        json_array_append_new(
            p->value, json_pack("{s:s, s:s, s:s, s:s+++}", "$relationshipId", r->id, "$sourceId",
                                r->source_id, "$relationshipName", r->name, "$relationshipLink",
                                "/digitaltwins/", r->source_id, "/relationships/", r->id));
        return 0;
    }
    json_t *d = json_read(r->doc, strlen(r->doc));
    if (d) json_array_append_new(p->value, d);
    return 0;
}

static void url_append(arena_t *a, char **s, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(value);
    char *enc = arena_alloc(a, n * 3 + 1);
    if (!enc || !*s) return;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            enc[o++] = (char)c;
        } else {
            enc[o++] = '%';
            enc[o++] = hex[c >> 4];
            enc[o++] = hex[c & 15];
        }
    }
    enc[o] = '\0';
    *s = arena_sprintf(a, "%s&%s=%s", *s, name, enc);
}

static int list_rels(http_request_t *req, http_response_t *resp, int incoming, castor_err *err)
{
    const char *id;
    twins_ctx_t ctx;
    int rc = twins_param_id(req, "id", &id, err);
    if (rc == 0) rc = twins_begin(req, &ctx, 0, err);
    if (rc < 0) return rc;
    int64_t after = 0, limit = TWINS_REL_PAGE_MAX;
    const char *tok = http_request_query(req, "continuationToken");
    if (tok) {
        char *end;
        long long v = strtoll(tok, &end, 10);
        if (!*tok || *end || v < 0)
            return castor_err_http(err, CASTOR_EINVAL, 400, "InvalidArgument",
                                   "The continuationToken %s is not one this server issued.", tok);
        after = v;
    }
    const char *mip = http_request_header(req, "max-items-per-page");
    if (mip) {
        long v = strtol(mip, NULL, 10);
        if (v > 0 && v < limit) limit = v;
    }
    const char *name = incoming ? NULL : http_request_query(req, "relationshipName");
    page_t p = {json_array(), incoming, after, 0, limit, 0};
    store_txn_t *t = NULL;
    store_twin_t tw;
    rc = store_begin(ctx.store, STORE_READ, &t, err);
    if (rc == 0) {
        rc = store_twin_get(t, ctx.instance, id, &req->arena, &tw, err);
        if (rc == CASTOR_ENOTFOUND) rc = twins_err_twin_not_found(err, id);
    }
    if (rc == 0)
        rc = store_rel_list(t, ctx.instance, id, incoming, name, after, limit + 1, page_row, &p,
                            err);
    store_rollback(t);
    if (rc == 0) {
        json_t *body = json_pack("{s:O}", "value", p.value);
        if (p.more) {
            /* Absolute, with the /dt/{name} prefix: the SDK would double a relative one's. */
            const twins_deps_t *deps = twins_deps(req);
            const char *base = deps && deps->public_url ? deps->public_url : "";
            size_t bl = strlen(base);
            while (bl && base[bl - 1] == '/')
                bl--;
            char *link = arena_sprintf(&req->arena, "%.*s%s?continuationToken=%lld", (int)bl, base,
                                       req->path, (long long)p.last);
            if (name) url_append(&req->arena, &link, "relationshipName", name);
            if (req->api_version) url_append(&req->arena, &link, "api-version", req->api_version);
            json_object_set_new(body, "nextLink", json_string(link));
        } else {
            json_object_set_new(body, "nextLink", json_null());
        }
        rc = http_response_json(req, resp, 200, body, err);
        json_decref(body);
    }
    json_decref(p.value);
    return rc;
}

int twins_rel_list(http_request_t *req, http_response_t *resp, castor_err *err)
{
    return list_rels(req, resp, 0, err);
}

int twins_rel_list_incoming(http_request_t *req, http_response_t *resp, castor_err *err)
{
    return list_rels(req, resp, 1, err);
}
