# az_env.sh — sourced by the az test scripts: an isolated az (its own config folder and home, no
# telemetry, plain output) that trusts the system roots plus castor's CA ($CASTOR_CA), with its
# scratch folder in $W, removed on exit.
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export AZURE_CONFIG_DIR=$W/az HOME=$W AZURE_CORE_COLLECT_TELEMETRY=false AZURE_CORE_NO_COLOR=true \
  AZURE_CORE_ONLY_SHOW_ERRORS=true
cat /etc/ssl/certs/ca-certificates.crt "$CASTOR_CA" > "$W/bundle.pem"
export REQUESTS_CA_BUNDLE=$W/bundle.pem
AZ=/usr/bin/az
OUT=$W/out ERR=$W/err
fail() { echo "not ok - $1"; echo "--- stdout"; cat "$OUT"; echo "--- stderr"; cat "$ERR"; exit 1; }
# run ARGS...: runs az; its stdout/stderr land in $OUT/$ERR and its status in $RC.
run() { "$AZ" "$@" >"$OUT" 2>"$ERR"; RC=$?; }
# ok DESC ARGS...: az must succeed.  refused DESC ARGS...: az must fail.
ok() { local d=$1; shift; run "$@"; [ "$RC" = 0 ] || fail "$d (exit $RC): az $*"; echo "ok - $d"; }
refused() { local d=$1; shift; run "$@"; [ "$RC" != 0 ] || fail "$d should fail: az $*"; echo "ok - $d"; }
# has DESC TEXT: stdout+stderr must contain TEXT (fixed string).
has() { cat "$OUT" "$ERR" | grep -qF -- "$2" || fail "$1: no '$2'"; echo "ok - $1"; }
