/* idn.h — the identity plane: Entra-ID-compatible token service, directory and the Microsoft
 * Graph subset. serve.c calls idn_start() after bootstrap and registers idn_routes on
 * HTTP_PLANE_IDENTITY and idn_graph_routes on HTTP_PLANE_GRAPH.
 *
 * First-party applications are seeded in every tenant with their real appIds so that
 * unmodified clients find them. The public clients among them (the Azure CLI's and castor's
 * own CLI) are pre-authorized for ADT, ARM and Graph: their delegated tokens carry every
 * delegated scope of those resources without a consent step, as in Entra. */
#ifndef CASTOR_IDENTITY_IDN_H
#define CASTOR_IDENTITY_IDN_H

#include "core/arena.h"
#include "core/err.h"
#include "http/router.h"
#include "store/store.h"

/* Azure Digital Twins (resource). */
#define IDN_APP_ADT "0b07f429-9f4b-4714-9392-cc5e8e80c8b0"
#define IDN_ADT_RESOURCE "https://digitaltwins.azure.net"
#define IDN_ADT_SCOPE_READ_WRITE "Read.Write"
#define IDN_ADT_SCOPE_READ_WRITE_ID "4589bd03-58cb-4e6c-b17f-b580e39652f8"
/* Azure Resource Manager (resource). */
#define IDN_APP_ARM "797f4846-ba00-4fd7-ba43-dac1f8f63013"
#define IDN_ARM_RESOURCE "https://management.azure.com/"
#define IDN_ARM_SCOPE_ID "41094075-9dad-400e-a0bd-54e686782033"
/* Microsoft Graph (resource). */
#define IDN_APP_GRAPH "00000003-0000-0000-c000-000000000000"
#define IDN_GRAPH_RESOURCE "https://graph.microsoft.com"
/* The Azure CLI (public client). */
#define IDN_APP_AZURE_CLI "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
/* castor's own CLI (public client): `castor login` uses this client id. */
#define IDN_APP_CASTOR_CLI "ca570c11-0000-4c1a-9d00-000000000001"

/* Lifetimes. */
#define IDN_ACCESS_TOKEN_TTL_S 3600 /* >= 3600: clients cache 5 min before expiry */
#define IDN_REFRESH_TOKEN_TTL_S (90 * 24 * 3600)
#define IDN_DEVICE_CODE_TTL_S 900
#define IDN_DEVICE_POLL_INTERVAL_S 1 /* keeps tests fast; Entra says 5 */
#define IDN_AUTH_CODE_TTL_S 600
#define IDN_LOCKOUT_THRESHOLD 10 /* failed sign-ins before the account locks (Entra: 10) */
#define IDN_LOCKOUT_S 60         /* how long it stays locked (Entra: 60 s first) */

/* What the identity plane's handlers (token service and Graph) use; serve.c registers
 * idn_routes and idn_graph_routes with one. */
typedef struct idn_deps {
    store_t *store;
    const char *public_url;     /* issuer and audience base when a request names no Host */
    unsigned device_code_ttl_s; /* --device-code-lifetime; 0 = IDN_DEVICE_CODE_TTL_S */
    unsigned token_reuse_s;     /* --token-reuse; 0 = a fresh token for every grant */
} idn_deps_t;

/* Loads or creates the signing keys and seeds the first-party applications in every tenant
 * (idempotent). admin_id is made a directory administrator. */
int idn_start(store_t *store, const char *public_url, const char *admin_id, castor_err *err);
void idn_stop(void);

/* Seeds one tenant with the first-party service principals (idempotent). */
int idn_tenant_seed(store_txn_t *t, const char *tenant_id, castor_err *err);

/* The base URL the client used: "https://" + Host when present, else the public URL. Clients
 * check that the issuer shares scheme, host and port with their authority. (Reads req->deps:
 * only for requests routed to the identity or Graph plane.) */
const char *idn_base_url(http_request_t *req);

/* JSON for `az cloud register --cloud-config @file` pointing the real az at this castor
 * (ADFS-style authority, see ../shared/reference/real-clients-cli-python.md §1, §3). Returns
 * a new reference. `castor cloud-config` prints it. */
json_t *idn_cloud_config(const char *public_url);

extern const http_route_t idn_routes[];
extern const http_route_t idn_graph_routes[];

#endif
