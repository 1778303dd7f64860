#!/usr/bin/env bash
# token_bench.sh — token issuance throughput: client_credentials grants over keep-alive TLS.
# Starts castor on a scratch data folder, registers an app with a secret through Graph, then
# drives the token endpoint with wrk (bench/token_bench.lua). Prints tokens/s and p99; never
# fails on time. CASTOR_TOKEN_REUSE=SECS passes through to the server (0: sign every token).
# Usage: bench/token_bench.sh [path/to/castor] [seconds] [connections]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
castor=${1:-$here/../build/castor}
secs=${2:-10}
conns=${3:-32}
dir=$(mktemp -d /tmp/castor-bench-XXXXXX)
port=$((20000 + RANDOM % 20000))
CASTOR_ADMIN_PASSWORD=Bench-Pw-1 "$castor" serve --data "$dir" --listen "127.0.0.1:$port" \
  --log-level warn >/dev/null 2>"$dir/serve.err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -f "$dir/connection.json" ] && break; sleep 0.1; done
B=https://localhost:$port
C=(curl -sf --cacert "$dir/ca.pem")
tid=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['tenantId'])" "$dir/connection.json")
json() { python3 -c "import json,sys;print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
admin=$("${C[@]}" "$B/$tid/oauth2/v2.0/token" -d grant_type=password \
  -d client_id=04b07795-8ddb-461a-bbee-02f9e1bf7b46 -d username=admin@castor.local \
  -d password=Bench-Pw-1 --data-urlencode scope=https://graph.microsoft.com/.default | json access_token)
H=(-H "Authorization: Bearer $admin" -H "Content-Type: application/json")
app=$("${C[@]}" "${H[@]}" "$B/v1.0/applications" -d '{"displayName":"bench"}')
app_id=$(echo "$app" | json appId)
app_oid=$(echo "$app" | json id)
"${C[@]}" "${H[@]}" "$B/v1.0/servicePrincipals" -d "{\"appId\":\"$app_id\"}" >/dev/null
secret=$("${C[@]}" "${H[@]}" "$B/v1.0/applications/$app_oid/addPassword" -d '{}' | json secretText)
echo "castor token bench: $conns keep-alive TLS connections, ${secs}s, $(nproc) cores"
CLIENT_ID=$app_id CLIENT_SECRET=$secret wrk -t2 -c"$conns" -d"${secs}s" --latency \
  -s "$here/token_bench.lua" "$B/$tid/oauth2/v2.0/token" | grep -E "tokens/s|p50|p99|non-200|Socket"
