#!/usr/bin/env bash
# transport.sh — castor's HTTPS transport under wrk -t2 -c64 over keep-alive TLS.
# Two responses: /healthz (33 bytes) and a ~430-byte JSON body the size of a twin (today the
# data plane's "no such instance" answer, which runs routing, the api-version check and error
# rendering; it becomes a real GET twin once twins exist). Also counts the TCP connections
# the server accepted, which shows whether keep-alive held (64 + wrk's one probe = 65).
set -euo pipefail
castor="$1"
duration="${2:-10s}"
command -v wrk >/dev/null || { echo "transport: wrk is not installed (apt-get install wrk)"; exit 0; }
data="$(mktemp -d)"
log="$data/castor.log"
CASTOR_ADMIN_PASSWORD=bench-only-Pw1 "$castor" serve --data "$data" --listen 127.0.0.1:0 \
  --log-level warn >"$data/out" 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do grep -q "port [0-9]*)" "$data/out" 2>/dev/null && break; sleep 0.1; done
port="$(sed -n 's/.*port \([0-9]*\)).*/\1/p' "$data/out" | head -1)"
[ -n "$port" ] || { echo "transport: castor did not start"; cat "$log"; exit 1; }

name="$(printf 'b%.0s' $(seq 323))"
twin_path="/dt/$name/models?api-version=2022-05-31"
bytes="$(curl -s --cacert "$data/ca.pem" "https://localhost:$port$twin_path" | wc -c)"

opens() { awk '/^Tcp:/ { if (!h) { for (i=1;i<=NF;i++) if ($i=="PassiveOpens") c=i; h=1 } else print $c }' /proc/net/snmp; }

run() {
  local label="$1" path="$2"
  local before after out
  before="$(opens)"
  out="$(wrk -t2 -c64 -d"$duration" --latency "https://127.0.0.1:$port$path" 2>&1)"
  after="$(opens)"
  local rps lat p99
  rps="$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
  lat="$(echo "$out" | awk '/^    Latency/ {print $2}')"
  p99="$(echo "$out" | awk '/^     99%/ {print $2}')"
  printf '%-34s %12s req/s   mean %8s   p99 %8s   connections accepted %s\n' \
    "$label" "$rps" "$lat" "$p99" "$((after - before))"
}

echo "transport: wrk -t2 -c64 -d$duration, keep-alive TLS, castor on 127.0.0.1:$port ($(nproc) cores)"
run "GET /healthz (33 B)" "/healthz"
run "GET data plane, $bytes B JSON" "$twin_path"
