/* twins_query.h — `POST /query`: ADT queries compiled to SQL (src/query/query_sql.h), run on
 * the store (src/store/store_query.h), paged with signed continuation tokens.
 *
 * Paging: rows come in the order of their key (the rowids of the bound collections); a page
 * holds max-items-per-page rows (default CASTOR_QUERY_PAGE_DEFAULT, at most
 * CASTOR_QUERY_PAGE_MAX) and the next page continues after the last key. A continuation token
 * is base64url(payload) "." base64url(HMAC): the payload carries the query text, the last key
 * and what is left of TOP(n); the HMAC (libsodium crypto_auth, key from the store) covers the
 * payload together with the instance GUID and the caller's object id, so a token altered, or
 * replayed against another instance or by another caller, is refused with 400 BadRequest.
 *
 * Charge: query-charge = 1 + (store engine steps) / 10,000 query units per page, with two
 * decimals (docs/query.md). Time budget: CASTOR_QUERY_TIMEOUT_S per page (the environment's
 * CASTOR_QUERY_TIMEOUT_MS overrides it, for tests), then 400 TimeoutError. Overload: more than
 * CASTOR_QUERY_INFLIGHT_MAX queries at once answer 429 QuotaReachedError, Retry-After: 1. */
#ifndef CASTOR_TWINS_QUERY_H
#define CASTOR_TWINS_QUERY_H

#include "http/http.h"

int twins_query(http_request_t *req, http_response_t *resp, castor_err *err);

/* Admission: 0 and one more query in flight, or -1 when CASTOR_QUERY_INFLIGHT_MAX are. */
int twins_query_admit(void);
void twins_query_leave(void);

#endif
