#!/usr/bin/env bash
# endpoints_az.sh — Debian's real Azure CLI 2.45 against castor's event endpoints: az has no
# `az dt` here (that is the azure-iot extension), so endpoints go through `az resource` and
# `az rest` at api-version 2023-01-31, as for any ARM sub-resource. Run by
# arm_endpoints.test.mjs with a castor it started (CASTOR_BIN, CASTOR_URL, CASTOR_CA, SUB,
# ADMIN_PW). Prints "ok - ..." per check; the first failed check prints what az said, exits 1.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/az_env.sh"
G=/subscriptions/$SUB/resourceGroups/rg-ep-az
I=$G/providers/Microsoft.DigitalTwins/digitalTwinsInstances/dt-ep-az
V=--api-version=2023-01-31
is() { local got; got=$(tr -d '\r' <"$OUT" | sed -e 's/[[:space:]]*$//'); [ "$got" = "$2" ] || fail "$1: expected '$2', got '$got'"; echo "ok - $1"; }

"$CASTOR_BIN" cloud-config --server "$CASTOR_URL" --ca-file "$CASTOR_CA" >"$W/cloud.json" || exit 1
ok "cloud register" cloud register -n castor --cloud-config "@$W/cloud.json"
ok "cloud set" cloud set -n castor
ok "az login" login -u admin@castor.local -p "$ADMIN_PW" -o none
ok "group create" group create -n rg-ep-az -l westus2 -o none
ok "instance create" resource create --id "$I" -l westus2 -p '{}' $V -o none

ok "webhook endpoint create" resource create --id "$I/endpoints/hook-az" $V \
  -p '{"endpointType":"webhook","endpointUri":"https://hooks.example/az","accessKey":"AZ-KEY-SECRET"}' \
  --query properties.provisioningState -o tsv
is "created and Succeeded" Succeeded
ok "mqtt endpoint create" resource create --id "$I/endpoints/mq-az" $V \
  -p '{"endpointType":"mqtt","endpointUri":"mqtt://127.0.0.1:1883","username":"u","password":"AZ-PW-SECRET","deadLetterEndpoint":"hook-az"}' -o none
ok "endpoint show" resource show --id "$I/endpoints/hook-az" $V -o json
has "the secret reads as null" '"accessKey": null'
grep -qF AZ-KEY-SECRET "$OUT" && fail "show printed the key"
ok "endpoint list (az rest)" rest --method get --url "$I/endpoints?api-version=2023-01-31" --query "value[].name" -o tsv
is "both listed" "hook-az
mq-az"
refused "an AMQP type is refused" resource create --id "$I/endpoints/hub-az" $V -p '{"endpointType":"EventHub"}'
has "saying why" "no AMQP driver"
# az resource delete hides the server's message ("Some resources failed to be deleted"); az
# rest prints it.
refused "a dead-letter target is kept" resource delete --id "$I/endpoints/hook-az" $V
refused "a dead-letter target is kept (az rest)" rest --method delete --url "$I/endpoints/hook-az?api-version=2023-01-31"
has "naming who uses it" "'mq-az'"
ok "endpoint delete" resource delete --id "$I/endpoints/mq-az" $V
ok "endpoint delete" resource delete --id "$I/endpoints/hook-az" $V
ok "list after delete" rest --method get --url "$I/endpoints?api-version=2023-01-31" --query "length(value)" -o tsv
is "none left" 0
cat "$W"/az/*.log 2>/dev/null | grep -qE 'AZ-(KEY|PW)-SECRET' && fail "a secret reached az's logs"
echo "endpoints_az.sh: all checks passed"
