#!/usr/bin/env bash
# transport.sh — castor's HTTPS transport under wrk -t2 -c64 over keep-alive TLS.
# Two responses: /healthz (33 bytes) and a ~430-byte JSON body the size of a twin (today the
# data plane's "no such instance" answer, which runs routing, the api-version check and error
# rendering; it becomes a real GET twin once twins exist). Also counts the TCP connections
# the server accepted, which shows whether keep-alive held (64 + wrk's one probe = 65).
# The baseline, measured in the same run: bench/baseline_mhd.c, a bare libmicrohttpd TLS server
# with the same certificate and threads answering fixed bodies of the same sizes, so the ratio
# is castor's own cost over the library's.
set -euo pipefail
castor="$1"
duration="${2:-10s}"
command -v wrk >/dev/null || { echo "transport: wrk is not installed (apt-get install wrk)"; exit 0; }
data="$(mktemp -d)"
log="$data/castor.log"
CASTOR_ADMIN_PASSWORD=bench-only-Pw1 "$castor" serve --data "$data" --listen 127.0.0.1:0 \
  --log-level warn --threads 2 >"$data/out" 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do grep -q "port [0-9]*)" "$data/out" 2>/dev/null && break; sleep 0.1; done
port="$(sed -n 's/.*port \([0-9]*\)).*/\1/p' "$data/out" | head -1)"
[ -n "$port" ] || { echo "transport: castor did not start"; cat "$log"; exit 1; }

name="$(printf 'b%.0s' $(seq 323))"
twin_path="/dt/$name/models?api-version=2022-05-31"
bytes="$(curl -s --cacert "$data/ca.pem" "https://localhost:$port$twin_path" | wc -c)"

opens() { awk '/^Tcp:/ { if (!h) { for (i=1;i<=NF;i++) if ($i=="PassiveOpens") c=i; h=1 } else print $c }' /proc/net/snmp; }

here="$(cd "$(dirname "$0")" && pwd)"
cc -O2 -std=c11 -D_GNU_SOURCE "$here/baseline_mhd.c" $(pkg-config --cflags --libs libmicrohttpd) \
  -o "$data/baseline_mhd"

declare -A RPS
run() {
  local key="$1" label="$2" p="$3" path="$4"
  local before after out rps lat p99
  before="$(opens)"
  out="$(wrk -t2 -c64 -d"$duration" --latency "https://127.0.0.1:$p$path" 2>&1)"
  after="$(opens)"
  rps="$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
  lat="$(echo "$out" | awk '/^    Latency/ {print $2}')"
  p99="$(echo "$out" | awk '/^     99%/ {print $2}')"
  RPS[$key]="$rps"
  printf '%-40s %12s req/s   mean %8s   p99 %8s   connections accepted %s\n' \
    "$label" "$rps" "$lat" "$p99" "$((after - before))"
}

baseline() {
  local key="$1" size="$2" bport
  bport=$((20000 + RANDOM % 20000))
  "$data/baseline_mhd" "$bport" "$data/server.pem" "$data/server-key.pem" "$size" &
  local bpid=$!
  sleep 0.5
  run "$key" "baseline: bare libmicrohttpd, $size B" "$bport" "/x"
  kill "$bpid"; wait "$bpid" 2>/dev/null || true
}

echo "transport: wrk -t2 -c64 -d$duration, keep-alive TLS ($(nproc) cores, wrk on the same cores)"
run healthz "castor GET /healthz (33 B)" "$port" "/healthz"
baseline healthz_base 33
run twin "castor GET data plane ($bytes B JSON)" "$port" "$twin_path"
baseline twin_base "$bytes"
awk -v a="${RPS[healthz]}" -v b="${RPS[healthz_base]}" -v c="${RPS[twin]}" -v d="${RPS[twin_base]}" \
  'BEGIN { printf "ratio castor/baseline: /healthz %.2f, %s-byte body %.2f\n", a/b, "'"$bytes"'", c/d }'
