#!/usr/bin/env bash
# twins_callgrind.sh — instructions per twin-graph write (PATCH twin, PUT relationship, PUT new
# twin), exact and repeatable where req/s on a shared machine is not: castor runs under callgrind
# for N1 and N2 sequential requests of each kind, and the difference over N2-N1 is one request
# (start-up, less its random RSA key generation, cancels out).
#   bench/twins_callgrind.sh [path/to/castor] [kinds...]     (needs valgrind; a few minutes)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
castor="${1:-$here/../build/castor}"
shift || true
kinds="${*:-patch rel create}"
command -v valgrind >/dev/null || { echo "twins_callgrind: valgrind is not installed"; exit 0; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cat >"$out/wrap.sh" <<WRAP
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file=$out/cg.\$CGNAME.out "$castor" "\$@"
WRAP
chmod +x "$out/wrap.sh"
N1=${N1:-100} N2=${N2:-300}
total() { callgrind_annotate "$out/cg.$1.out" | awk '/PROGRAM TOTALS/ && !v { gsub(",", "", $1); v = $1 } END { print v }'; }
fn() { callgrind_annotate --inclusive=yes "$out/cg.$1.out" | awk -v f="$2" 'index($0, f) && !v { gsub(",", "", $1); v = $1 } END { print v + 0 }'; }
for kind in $kinds; do
  for n in $N1 $N2; do
    WRAP="$out/wrap.sh" CGNAME="$kind$n" N=$n node "$here/twins_requests.mjs" "$kind" >/dev/null
  done
  a=$(total "$kind$N1"); b=$(total "$kind$N2")
  ka=$(fn "$kind$N1" gnutls_x509_privkey_generate2); kb=$(fn "$kind$N2" gnutls_x509_privkey_generate2)
  echo "twins (callgrind): $kind $(( ((b - kb) - (a - ka)) / (N2 - N1) )) instructions per request"
  if [ -n "${KEEP:-}" ]; then cp "$out/cg.$kind$N2.out" "$KEEP.$kind.out"; fi
done
