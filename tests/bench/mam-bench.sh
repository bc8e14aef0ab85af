#!/bin/bash
# Message archive benchmark (issue "mod_mam"): loopback only.
#   tests/bench/mam-bench.sh BUILD_DIR query [sqlite|pgsql ...]
#       One million archived rows (USERS=10000 x PER_USER=90 + one user with HEAVY=100000),
#       filled straight into mod_mam_rdbms's tables, then p50/p99 of a page of 50 by `with`
#       (last page) and by `after-id`, through XMPP (tests/bench/mam_query_bench.py), for
#       QUSERS random users and the heavy one (Q queries of each kind per user).
#   tests/bench/mam-bench.sh BUILD_DIR rate      (RATES="10000 20000": open loop, msg/s)
#       ../shared/bench scenario 4 at fixed rates with mod_mam: latency, rows written, drops.
#   tests/bench/mam-bench.sh BUILD_DIR write
#       ../shared/bench scenario 3 (1,000 clients in pairs, closed loop) without and with mod_mam
#       (every message archived twice) on SQLite, server on one core; rows written, writer
#       counters, CPU per message. REPEAT=N alternates the two runs N times.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:?BUILD_DIR}" && pwd)
MODE=${2:?query|write}
shift 2
WORK=${WORK:-/tmp/aviary-mam-bench}
PORT=${PORT:-36222}
mkdir -p "$WORK"

start_aviary() {  # $1 = rdbms line, $2 = data dir
  mkdir -p "$2"
  cat > "$WORK/aviary.yaml" <<YAML
general:
  hosts: [localhost]
  loglevel: warning
  data_dir: $2
  threads: 1
  module_path: [$BUILD/modules]
listen:
  c2s:
    - {port: $PORT, ip_address: 127.0.0.1, allow_unencrypted_plain: true, backlog: 4096}
outgoing_pools:
  rdbms:
    default: $1
modules:
  mod_auth_internal: {}
  mod_mam: {}
YAML
  taskset -c 0 "$BUILD/host/aviary" --config "$WORK/aviary.yaml" > "$WORK/aviary.log" 2>&1 &
  PID=$!
  for _ in $(seq 200); do [ -S "$2/aviary.sock" ] && break; kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  if ! kill -0 "$PID" 2>/dev/null; then cat "$WORK/aviary.log" >&2; exit 1; fi
  CTL=("$BUILD/host/aviaryctl" --socket "$2/aviary.sock")
}
stop_aviary() { kill -TERM "$PID"; wait "$PID" || true; }

query_run() {  # $1 = sqlite|pgsql
  local db=$1 rdbms conninfo="" data="$WORK/data-$1"
  rm -rf "$data"
  if [ "$db" = pgsql ]; then
    PGDIR="$WORK/pg"
    PGPORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    sh "$ROOT/tests/scripts/pg_start.sh" "$PGDIR" "$PGPORT"
    conninfo="host=127.0.0.1 port=$PGPORT dbname=aviary_test user=postgres"
    rdbms="{driver: pgsql, host: 127.0.0.1, port: $PGPORT, database: aviary_test, username: postgres, workers: 4}"
  else
    rdbms="{driver: sqlite}"
  fi
  start_aviary "$rdbms" "$data"   # creates the tables
  stop_aviary
  if [ "$db" = pgsql ]; then
    /usr/bin/python3 "$ROOT/tests/bench/mam_populate.py" pgsql "$conninfo"
  else
    /usr/bin/python3 "$ROOT/tests/bench/mam_populate.py" sqlite "$data/aviary.db"
  fi
  start_aviary "$rdbms" "$data"
  local users=(userheavy) specs=()
  for i in $(seq 1 "${QUSERS:-20}"); do users+=("user$(( (i * 7919) % ${USERS:-10000} + 1 ))"); done
  for u in "${users[@]}"; do
    "${CTL[@]}" account registerUser --domain localhost --username "$u" --password secret >/dev/null
    specs+=("$u:${Q:-25}")
  done
  echo "== $db: $(du -sh "$data" ${PGDIR:+"$PGDIR"} 2>/dev/null | awk '{print $1}' | paste -sd+ -) on disk"
  taskset -c 1 /usr/bin/python3 "$ROOT/tests/bench/mam_query_bench.py" "$PORT" "userheavy:${Q:-25}" | sed 's/^/heavy user (100k rows): /'
  taskset -c 1 /usr/bin/python3 "$ROOT/tests/bench/mam_query_bench.py" "$PORT" "${specs[@]:1}" | sed 's/^/normal users: /'
  stop_aviary
  if [ "$db" = pgsql ]; then sh "$ROOT/tests/scripts/pg_start.sh" stop "$PGDIR"; fi
}

case "$MODE" in
  query)
    for db in "${@:-sqlite pgsql}"; do query_run "$db"; done
    ;;
  write)
    for i in $(seq 1 "${REPEAT:-1}"); do
      for variant in baseline mam; do
        extra=""
        [ "$variant" = mam ] && extra="  mod_mam: {}"
        rm -f /tmp/aviary-bench/data/aviary.db-wal
        echo "== $variant (run $i)"
        # A fresh archive each time (the accounts stay).
        [ -f /tmp/aviary-bench/data/aviary.db ] && sqlite3 /tmp/aviary-bench/data/aviary.db \
          "DROP TABLE IF EXISTS mam_message; DROP TABLE IF EXISTS mam_server_user;" 2>/dev/null || true
        SCENARIOS=3 EXTRA_MODULES="$extra" AFTER="${extra:+mam stats --json}" \
          bash "$ROOT/tests/bench/run-aviary.sh" "$BUILD" > "$WORK/write-$variant-$i.log" 2>&1 || true
        grep -E '^\| custom' "$WORK/write-$variant-$i.log" || tail -5 "$WORK/write-$variant-$i.log"
        grep -o '"server_cpu_s": [0-9.]*' "$WORK/write-$variant-$i.log" || true
        sed -n '/^aviaryctl mam stats/,$p' "$WORK/write-$variant-$i.log" | tr -d ' \n'; echo
        if [ "$variant" = mam ]; then
          echo "rows in mam_message: $(sqlite3 /tmp/aviary-bench/data/aviary.db 'SELECT COUNT(*) FROM mam_message')"
        fi
      done
    done
    ;;
  rate)
    # Open loop (scenario 4) at RATES msg/s with mod_mam (MAM_OPTS: its options as YAML flow):
    # what the archive keeps up with.
    sqlite3 /tmp/aviary-bench/data/aviary.db "DROP TABLE IF EXISTS mam_message; DROP TABLE IF EXISTS mam_server_user;" \
      2>/dev/null || true
    opts=${MAM_OPTS:-"{}"}
    SCENARIOS=4 FIXED_RATES="${RATES:-10000 20000}" EXTRA_MODULES="  mod_mam: $opts" AFTER="mam stats --json" \
      bash "$ROOT/tests/bench/run-aviary.sh" "$BUILD" > "$WORK/rate.log" 2>&1 || true
    grep -E '^\| custom' "$WORK/rate.log" || tail -5 "$WORK/rate.log"
    grep -o '"server_cpu_s": [0-9.]*' "$WORK/rate.log" || true
    sed -n '/^aviaryctl mam stats/,$p' "$WORK/rate.log" | tr -d ' \n'; echo
    echo "rows in mam_message: $(sqlite3 /tmp/aviary-bench/data/aviary.db 'SELECT COUNT(*) FROM mam_message')"
    ;;
  *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
