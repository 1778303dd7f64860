#!/usr/bin/env bash
# arm_az.sh — Debian's real Azure CLI 2.45 against castor's resource manager
# (real-clients-cli-python.md §1-5, §9). Run by arm_az.test.mjs with a castor it started:
#   CASTOR_BIN  the castor binary (for `castor cloud-config`)
#   CASTOR_URL  https://localhost:PORT     CASTOR_CA  its ca.pem
#   SUB TENANT  the bootstrap subscription and tenant
#   ADMIN_PW    the bootstrap admin's password
# Prints "ok - ..." per check; the first failed check prints what az said and exits 1.
#
# az's own `az role assignment|definition` commands crash on Debian before sending anything
# (a packaging mismatch, §5), and `az role assignment list --all` crashes too as soon as one
# assignment exists (it then maps role names through the same broken client). sh/azshim puts the
# missing attribute back (it changes nothing on the wire), so those commands run here with it;
# role assignment PUT/GET/DELETE are also driven through `az rest` with every api-version az
# 2.45 sends.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/az_env.sh"
MA=providers/Microsoft.Authorization
RD=/subscriptions/$SUB/$MA/roleDefinitions
OWNER=8e3af657-a8ff-443c-a75c-2fe8c4bcb635
READER=acdd72a7-3385-48ef-bd42-f606fba81ae7
DATA_READER=d57506d4-4c8d-48b1-8587-93c323f6a5a3
G=/subscriptions/$SUB/resourceGroups/rg-az
I=$G/providers/Microsoft.DigitalTwins/digitalTwinsInstances/dt-az
guid() { /usr/bin/python3 -c 'import uuid; print(uuid.uuid4())'; }

# is DESC EXPECTED: the last stdout, trimmed, must equal EXPECTED.
is() { local got; got=$(tr -d '\r' <"$OUT" | sed -e 's/[[:space:]]*$//'); [ "$got" = "$2" ] || fail "$1: expected '$2', got '$got'"; echo "ok - $1"; }

# ---- the cloud, from castor itself ----
"$CASTOR_BIN" cloud-config --server "$CASTOR_URL" --ca-file "$CASTOR_CA" >"$W/cloud.json" || exit 1
ok "cloud register --cloud-config" cloud register -n castor --cloud-config "@$W/cloud.json"
ok "cloud set" cloud set -n castor
ok "az login -u -p (admin)" login -u admin@castor.local -p "$ADMIN_PW" --query '[0].user.name' -o tsv
is "signed in as the admin" admin@castor.local
ok "account show" account show --query id -o tsv
is "the default subscription is castor's" "$SUB"

# ---- groups and resources ----
ok "az group create" group create -n rg-az -l westus2 --query properties.provisioningState -o tsv
is "group provisioned" Succeeded
ok "az group show" group show -n rg-az --query id -o tsv
is "group id" "$G"
ok "az resource create (instance; az sends Microsoft.DigitalTwins//digitalTwinsInstances)" \
  resource create -g rg-az -n dt-az --resource-type Microsoft.DigitalTwins/digitalTwinsInstances \
  -l westus2 -p '{}' --api-version 2023-01-31 --query properties.hostName -o tsv
is "hostName is the data-plane endpoint" "${CASTOR_URL#https://}/dt/dt-az"
ok "az resource list -g" resource list -g rg-az --query '[].[name,type]' -o tsv
is "resource list shows the instance" "dt-az	Microsoft.DigitalTwins/digitalTwinsInstances"
ok "az resource list --resource-type" resource list --resource-type Microsoft.DigitalTwins/digitalTwinsInstances --query '[].id' -o tsv
is "resource list by type" "$I"
ok "az resource tag" resource tag --tags env=az --ids "$I" --api-version 2023-01-31 --query tags.env -o tsv
is "tags written" az

# ---- role assignments: az role (shimmed) ----
export PYTHONPATH=$here/azshim
ok "az role assignment list --all" role assignment list --all --query "[?roleDefinitionName=='Owner'].principalName" -o tsv
is "the admin is Owner" admin@castor.local
ok "az role definition list --name" role definition list --name "Azure Digital Twins Data Owner" --query '[].name' -o tsv
is "Data Owner's GUID" bcd981a7-7f74-457b-83e1-cceb9e632ffe
ok "az ad user create (a non-Owner)" ad user create --display-name Bob --user-principal-name bob@castor.local --password Bob-Pw-12345 --query id -o tsv
BOB=$(tr -d '\r\n' <"$OUT")
ok "az role assignment create --assignee UPN" role assignment create --assignee bob@castor.local \
  --role "Azure Digital Twins Data Owner" --scope "$I" --query principalId -o tsv
is "assigned to bob's object id" "$BOB"
ok "az ad app create" ad app create --display-name az-arm-app --query appId -o tsv
APPID=$(tr -d '\r\n' <"$OUT")
ok "az ad sp create" ad sp create --id "$APPID" --query id -o tsv
SPID=$(tr -d '\r\n' <"$OUT")
ok "az role assignment create --assignee appId" role assignment create --assignee "$APPID" \
  --role "Azure Digital Twins Data Reader" --scope "$I" --query '[principalId,principalType]' -o tsv
is "assigned to the service principal" "$(printf '%s\n%s' "$SPID" ServicePrincipal)"
ok "az role assignment delete --ids" role assignment delete --ids "$(az role assignment list --scope "$I" --assignee "$APPID" --query '[0].id' -o tsv 2>/dev/null)"
ok "az role assignment list --scope" role assignment list --scope "$I" --query '[].[principalName,roleDefinitionName]' -o tsv
is "listed at the instance" "bob@castor.local	Azure Digital Twins Data Owner"
ok "az role assignment delete --assignee --role --scope" role assignment delete --assignee bob@castor.local \
  --role "Azure Digital Twins Data Owner" --scope "$I"
ok "az role assignment list --scope (after delete)" role assignment list --scope "$I" -o tsv
is "nothing left at the instance" ""
unset PYTHONPATH

# ---- role assignments through az rest, with each api-version az 2.45 sends ----
RA1=$(guid)
BODY="{\"properties\":{\"roleDefinitionId\":\"$RD/$DATA_READER\",\"principalId\":\"$BOB\",\"principalType\":\"User\"}}"
ok "az rest PUT roleAssignment (2020-04-01-preview)" rest --method put \
  --url "$I/$MA/roleAssignments/$RA1?api-version=2020-04-01-preview" --body "$BODY" --query properties.scope -o tsv
is "assignment scope" "$I"
ok "az rest GET roleAssignment (2022-04-01)" rest --method get \
  --url "$I/$MA/roleAssignments/$RA1?api-version=2022-04-01" --query properties.principalId -o tsv
is "assignment read back" "$BOB"
ok "az rest GET roleAssignments atScope() (2018-01-01-preview)" rest --method get \
  --url "$I/$MA/roleAssignments?\$filter=atScope()&api-version=2018-01-01-preview" --query 'value[].name' -o tsv
has "atScope() lists it" "$RA1"
ok "az rest GET roleDefinitions roleName eq (2018-01-01-preview)" rest --method get \
  --url "/subscriptions/$SUB/$MA/roleDefinitions?\$filter=roleName%20eq%20'Azure%20Digital%20Twins%20Data%20Reader'&api-version=2018-01-01-preview" \
  --query 'value[].name' -o tsv
is "Data Reader by name" "$DATA_READER"
refused "az rest PUT duplicate assignment" rest --method put \
  --url "$I/$MA/roleAssignments/$(guid)?api-version=2020-04-01-preview" --body "$BODY"
has "duplicate is RoleAssignmentExists" '"code":"RoleAssignmentExists"'
ok "az rest DELETE roleAssignment (2020-04-01-preview)" rest --method delete \
  --url "$I/$MA/roleAssignments/$RA1?api-version=2020-04-01-preview" --query properties.principalId -o tsv
is "DELETE answers the deleted assignment" "$BOB"
refused "az rest GET deleted assignment" rest --method get --url "$I/$MA/roleAssignments/$RA1?api-version=2022-04-01"
has "deleted assignment is gone" RoleAssignmentNotFound
# Bob gets Reader on the group: he may look, not change.
ok "az rest PUT Reader for bob on the group (2022-04-01)" rest --method put \
  --url "$G/$MA/roleAssignments/$(guid)?api-version=2022-04-01" \
  --body "{\"properties\":{\"roleDefinitionId\":\"$RD/$READER\",\"principalId\":\"$BOB\"}}" --query properties.principalType -o tsv
is "principalType filled in from the directory" User
ok "the admin's Owner assignment" rest --method get \
  --url "/subscriptions/$SUB/$MA/roleAssignments?\$filter=principalId%20eq%20'$(az ad signed-in-user show --query id -o tsv 2>/dev/null)'&api-version=2022-04-01" \
  --query "value[?ends_with(properties.roleDefinitionId,'$OWNER')].id" -o tsv
OWNER_RA=$(tr -d '\r\n' <"$OUT")
refused "deleting the subscription's last Owner" rest --method delete --url "$OWNER_RA?api-version=2022-04-01"
has "last Owner refused" LastOwnerRoleAssignment

# ---- bob, a non-Owner, signs in with his own az ----
export AZURE_CONFIG_DIR=$W/az-bob
ok "cloud register (bob)" cloud register -n castor --cloud-config "@$W/cloud.json"
ok "cloud set (bob)" cloud set -n castor
ok "az login -u -p (bob)" login -u bob@castor.local -p Bob-Pw-12345 --query '[0].user.name' -o tsv
is "signed in as bob" bob@castor.local
ok "bob may list the group's resources" resource list -g rg-az --query '[].name' -o tsv
is "bob sees the instance" dt-az
AF="The client 'bob@castor.local' with object id '$BOB' does not have authorization to perform action"
TAIL="or the scope is invalid. If access was recently granted, please refresh your credentials."
refused "bob: az group create" group create -n rg-bob -l westus2
has "AuthorizationFailed for resourceGroups/write, ARM's exact message" \
  "(AuthorizationFailed) $AF 'Microsoft.Resources/subscriptions/resourceGroups/write' over scope '/subscriptions/$SUB/resourceGroups/rg-bob' $TAIL"
refused "bob: az resource delete --verbose" resource delete --ids "$I" --api-version 2023-01-31 --verbose
has "AuthorizationFailed for digitalTwinsInstances/delete" \
  "$AF 'Microsoft.DigitalTwins/digitalTwinsInstances/delete' over scope '$I' $TAIL"
refused "bob: az rest PUT roleAssignment" rest --method put \
  --url "$I/$MA/roleAssignments/$(guid)?api-version=2020-04-01-preview" --body "$BODY"
has "AuthorizationFailed for roleAssignments/write" \
  "\"code\":\"AuthorizationFailed\",\"message\":\"$AF 'Microsoft.Authorization/roleAssignments/write' over scope '$I' $TAIL\""

# ---- the admin cleans up ----
export AZURE_CONFIG_DIR=$W/az
ok "az resource delete" resource delete --ids "$I" --api-version 2023-01-31
ok "az resource list -g (after delete)" resource list -g rg-az -o tsv
is "instance gone" ""
ok "az group delete" group delete -n rg-az --yes
refused "az group show (deleted)" group show -n rg-az
has "group gone" ResourceGroupNotFound
echo "arm_az.sh: all checks passed"
