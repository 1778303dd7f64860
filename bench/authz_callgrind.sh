#!/usr/bin/env bash
# authz_callgrind.sh — the cost of data-plane authorization in instructions, which, unlike
# req/s on a shared 2-core machine, is exact and repeatable: castor runs under callgrind for
# N1 and N2 sequential requests of each kind; the difference over N2-N1 is the cost of one
# request (start-up, including its random RSA key generation, cancels out once the key
# generation's own count is subtracted). Also prints the guard's own share (access_guard_data).
#   bench/authz_callgrind.sh [path/to/castor]     (needs valgrind; takes a few minutes)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
castor="${1:-$here/../build/castor}"
command -v valgrind >/dev/null || { echo "authz_callgrind: valgrind is not installed"; exit 0; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cat >"$out/wrap.sh" <<WRAP
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file=$out/cg.\$CGNAME.out "$castor" "\$@"
WRAP
chmod +x "$out/wrap.sh"
N1=500 N2=2500
# awk reads to the end (no early exit): with pipefail, a SIGPIPE'd callgrind_annotate fails.
total() { callgrind_annotate "$out/cg.$1.out" | awk '/PROGRAM TOTALS/ && !v { gsub(",", "", $1); v = $1 } END { print v }'; }
fn() { callgrind_annotate --inclusive=yes "$out/cg.$1.out" | awk -v f="$2" 'index($0, f) && !v { gsub(",", "", $1); v = $1 } END { print v + 0 }'; }
for kind in health auth; do
  for n in $N1 $N2; do
    WRAP="$out/wrap.sh" CGNAME="$kind$n" N=$n node "$here/authz_requests.mjs" "$kind" >/dev/null
  done
done
per() { # kind -> instructions per request, key generation subtracted
  local a b ka kb
  a=$(total "$1$N1"); b=$(total "$1$N2")
  ka=$(fn "$1$N1" gnutls_x509_privkey_generate2); kb=$(fn "$1$N2" gnutls_x509_privkey_generate2)
  echo $(( ((b - kb) - (a - ka)) / (N2 - N1) ))
}
h=$(per health); a=$(per auth)
g=$(( $(fn "auth$N2" "access_guard.c:access_guard_data [") / N2 ))
echo "authz (callgrind, instructions per request): /healthz $h, authorized GET /models $a, of which the guard $g"
awk -v h="$h" -v a="$a" -v g="$g" 'BEGIN { printf "guard = %.1f%% of an authorized request, %.1f%% of a /healthz request (target under 10%%)\n", 100*g/a, 100*g/h }'
