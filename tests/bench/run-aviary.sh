#!/bin/bash
# Runs ../shared/bench (xmppload scenarios 1-4) against aviary on 127.0.0.1:$PORT.
#   tests/bench/run-aviary.sh [BUILD_DIR]      env: PORT (35222) USERS (10000) THREADS (1) SCENARIOS OUTDIR
#   EXTRA_POOLS / EXTRA_MODULES: YAML lines added under outgoing_pools / modules (indented);
#   AFTER: an aviaryctl command (e.g. "event_pusher rabbitStats") printed after the run.
# Starts aviary with a plaintext c2s listener (PLAIN allowed, as the reference runs of ejabberd and
# prosody), registers user1..user$USERS / secret with aviaryctl (once, kept in $WORK), runs the
# shared harness, stops the server. Loopback only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
BENCH=${BENCH:-$ROOT/../shared/bench}
PORT=${PORT:-35222}
USERS=${USERS:-10000}
THREADS=${THREADS:-1}
WORK=${WORK:-/tmp/aviary-bench}
export OUTDIR=${OUTDIR:-$WORK/results}
mkdir -p "$WORK/data" "$OUTDIR"
cat > "$WORK/aviary.yaml" <<YAML
general:
  hosts: [localhost]
  loglevel: warning
  data_dir: $WORK/data
  threads: $THREADS
  module_path: [$BUILD/modules]
listen:
  c2s:
    - {port: $PORT, ip_address: 127.0.0.1, allow_unencrypted_plain: true, backlog: 4096}
outgoing_pools:
  rdbms:
    default: {driver: sqlite}
${EXTRA_POOLS:-}
modules:
  mod_auth_internal: {}
${EXTRA_MODULES:-}
YAML
ulimit -n 20000
"$BUILD/host/aviary" --config "$WORK/aviary.yaml" > "$WORK/aviary.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -S "$WORK/data/aviary.sock" ] && break; sleep 0.1; done
CTL=("$BUILD/host/aviaryctl" --socket "$WORK/data/aviary.sock")
have=$("${CTL[@]}" account countUsers --domain localhost)
if [ "$have" -lt "$USERS" ]; then
  echo "registering user1..user$USERS (have $have)"
  seq 1 "$USERS" | xargs -P 4 -I{} "${CTL[@]}" account registerUser --domain localhost --username user{} --password secret >/dev/null 2>&1 || true
  echo "users: $("${CTL[@]}" account countUsers --domain localhost)"
fi
bash "$BENCH/run.sh" custom 127.0.0.1 "$PORT" "$PID"
if [ -n "${AFTER:-}" ]; then
  # shellcheck disable=SC2086
  echo "aviaryctl $AFTER: $("${CTL[@]}" $AFTER)"
fi
