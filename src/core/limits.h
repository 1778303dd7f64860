/* limits.h — every size cap castor enforces, in one place.
 *
 * Each cap matches an Azure Digital Twins limit where ADT has one
 * (../shared/reference/adt-limits-and-events.md) and otherwise says why it is what it is.
 * Modules refer to these names; a cap is never a bare number in code. */
#ifndef CASTOR_CORE_LIMITS_H
#define CASTOR_CORE_LIMITS_H

/* HTTP transport. */
#define CASTOR_HTTP_BODY_MAX (32u * 1024u)         /* ADT: max request payload 32 KB */
#define CASTOR_HTTP_MODEL_BODY_MAX (1024u * 1024u) /* ADT: one model upload up to 1 MB */
/* Request line + headers; libmicrohttpd answers 431 past it. */
#define CASTOR_HTTP_HEADERS_MAX (16u * 1024u)
#define CASTOR_HTTP_URL_MAX 8192u               /* request target, like common proxies */
#define CASTOR_HTTP_TIMEOUT_S 30u               /* idle/slow-client timeout (slowloris) */
#define CASTOR_HTTP_CONNECTIONS_MAX 1024u       /* open connections in all */
#define CASTOR_HTTP_PER_IP_CONNECTIONS_MAX 512u /* per client address */
#define CASTOR_HTTP_SHUTDOWN_GRACE_S 10u        /* in-flight requests get this long on SIGTERM */
#define CASTOR_REQUEST_ARENA_MAX (8u * 1024u * 1024u) /* per-request scratch memory */

/* Text that lands in fixed-size store records (store_*.h size their fields from these, and
 * every plane refuses longer input with a 400 where it enters; the store refuses to truncate).
 * Each is a buffer size: the longest accepted value is one byte less. */
/* An ARM scope or resource id. Azure documents no cap; URLs stop at CASTOR_HTTP_URL_MAX and
 * nested resource ids run past 512, so RBAC and the store agree on 2 KB. */
#define CASTOR_SCOPE_MAX 2048u
/* An OAuth scope list (space-separated permission values, as in a token's scp). */
#define CASTOR_OAUTH_SCOPES_MAX 2048u
/* A display name, user principal name, domain or mail nickname (Entra: UPN 113 characters,
 * displayName 256); UTF-8 bytes. */
#define CASTOR_NAME_MAX 256u
/* A custom role's name (Azure: up to 512) and a description of a role, role assignment or
 * group (Entra/ARM accept 1,024 characters; castor 1,023 bytes). */
#define CASTOR_ROLE_NAME_MAX 512u
#define CASTOR_DESCRIPTION_MAX 1024u
/* An Azure region name such as "westus2" (the longest real ones are under 25 characters). */
#define CASTOR_LOCATION_MAX 64u
/* A resource's tags as JSON text: Azure allows 50 tags of 512-character names and 256-character
 * values, but a request body stops at 32 KB; past this castor refuses rather than cut. */
#define CASTOR_TAGS_TEXT_MAX 16384u

/* JSON. */
#define CASTOR_JSON_DEPTH_MAX 64u /* nesting depth of any JSON body */

/* Digital twins (ADT functional limits). */
#define CASTOR_TWIN_SIZE_MAX (32u * 1024u)   /* one twin's JSON */
#define CASTOR_STRING_VALUE_MAX (4u * 1024u) /* one string property value, UTF-8 bytes */
#define CASTOR_PROPERTY_NAME_MAX 1024u       /* one property name */
#define CASTOR_REL_OUT_MAX 50000u            /* outgoing relationships of one twin */
#define CASTOR_REL_IN_MAX 50000u             /* incoming relationships of one twin */
/* ADT de-duplicates telemetry by Message-Id per twin and documents no window: castor
 * remembers a twin's message ids for an hour, so a client's retry never makes a second event. */
#define CASTOR_TELEMETRY_DEDUP_S 3600u

/* Models. */
#define CASTOR_MODELS_PER_UPLOAD_MAX 250u
#define CASTOR_MODELS_PER_INSTANCE_MAX 10000u
#define CASTOR_MODEL_SIZE_MAX (1024u * 1024u)
#define CASTOR_MODELS_PAGE_MAX 100u

/* Query. */
#define CASTOR_QUERY_LENGTH_MAX 8000u
#define CASTOR_QUERY_ANDOR_MAX 50u
#define CASTOR_QUERY_IN_ITEMS_MAX 100u
#define CASTOR_QUERY_JOINS_MAX 5u
#define CASTOR_QUERY_MATCH_HOPS_MAX 10u
#define CASTOR_QUERY_PAGE_MAX 1000u
#define CASTOR_QUERY_TIMEOUT_S 60u

/* Routing. */
#define CASTOR_ROUTES_PER_INSTANCE_MAX 6u
#define CASTOR_ENDPOINTS_PER_INSTANCE_MAX 6u
/* Event-route filters (src/events/ev_filter.c). ADT documents no cap; these keep a filter
 * readable and its compiled form small: half a query's 8,000 characters, NOT and parentheses
 * nested at most 32 deep (the matcher recurses that deep), and an IN list as long as a query's. */
#define CASTOR_EVENT_FILTER_LENGTH_MAX 4096u
#define CASTOR_EVENT_FILTER_DEPTH_MAX 32u
#define CASTOR_EVENT_FILTER_IN_ITEMS_MAX 100u

/* Query paging and admission (issue 8). A page holds max-items-per-page rows (default below,
 * at most CASTOR_QUERY_PAGE_MAX) and stops early past a byte budget so a page of large twins
 * still fits the request arena; more than CASTOR_QUERY_INFLIGHT_MAX queries running at once on
 * this node answer 429 QuotaReachedError with Retry-After. */
#define CASTOR_QUERY_PAGE_DEFAULT 100u
#define CASTOR_QUERY_PAGE_BYTES_MAX (4u * 1024u * 1024u)
#define CASTOR_QUERY_INFLIGHT_MAX 64u
#define CASTOR_QUERY_RETRY_AFTER_S 1u

#endif
