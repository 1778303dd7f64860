#!/usr/bin/env bash
# seed_az.sh — the seed's cause #1 with Debian's real Azure CLI 2.45 (`az rest` for the data
# plane, as real-clients-cli-python.md §9 does): the bootstrap admin, a subscription Owner,
# creates an instance and is refused its data with 403 naming the cause and the fix; the fix
# (`az role assignment create`, shimmed as in arm_az.sh) makes the very next call succeed.
# Environment as arm_az.sh: CASTOR_BIN CASTOR_URL CASTOR_CA SUB ADMIN_PW.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/az_env.sh"
I=/subscriptions/$SUB/resourceGroups/rg-seed/providers/Microsoft.DigitalTwins/digitalTwinsInstances/seed-az
DP="$CASTOR_URL/dt/seed-az/models?api-version=2022-05-31"

"$CASTOR_BIN" cloud-config --server "$CASTOR_URL" --ca-file "$CASTOR_CA" >"$W/cloud.json" || exit 1
ok "cloud register" cloud register -n castor --cloud-config "@$W/cloud.json"
ok "cloud set" cloud set -n castor
ok "az login as the subscription Owner" login -u admin@castor.local -p "$ADMIN_PW" -o none
ok "az group create" group create -n rg-seed -l westus2 -o none
ok "az resource create (the instance)" resource create -g rg-seed -n seed-az \
  --resource-type Microsoft.DigitalTwins/digitalTwinsInstances -l westus2 -p '{}' --api-version 2023-01-31 -o none

refused "the Owner's data-plane call is refused" rest --method get --url "$DP" --resource https://digitaltwins.azure.net
has "403 Forbidden" "Forbidden"
has "castor names seed cause #1" "seed cause #1"
has "and the fix" "castor dt role-assignment create --dt-name seed-az --assignee admin@castor.local"
has "and az's fix" "az dt role-assignment create --dt-name seed-az --assignee admin@castor.local"

export PYTHONPATH=$here/azshim
ok "the fix: az role assignment create (legacy role name)" role assignment create --assignee admin@castor.local \
  --role "Azure Digital Twins Owner (Preview)" --scope "$I" -o none
ok "the very next data-plane call succeeds" rest --method get --url "$DP" --resource https://digitaltwins.azure.net
has "models list" '"value"'
echo "seed_az.sh: all checks passed"
