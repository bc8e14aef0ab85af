#!/bin/sh
# A throwaway RabbitMQ broker for tests, on 127.0.0.1 only (Debian's rabbitmq-server).
#
#   rabbitmq_start.sh DIR PORT [CERT KEY]
#                                  wipe DIR (if it is one of ours), start a node with its AMQP
#                                  listener on 127.0.0.1:PORT, wait until it serves; with a PEM
#                                  certificate and key also an AMQPS listener on PORT+3
#   rabbitmq_start.sh stop DIR     stop the node (DIR and its data are kept)
#   rabbitmq_start.sh start DIR    start the stopped node in DIR again
#   rabbitmq_start.sh ctl DIR ARGS...   rabbitmqctl against that node
#
# The node's Erlang distribution (its epmd on PORT+1, the node on PORT+2) listens on loopback
# too; user guest/guest may log in over TCP (loopback_users = none). Prints nothing but errors.
# Exit 2 when the rabbitmq-server package is not installed.
set -eu

MARKER=.aviary-rabbitmq-test
BIN=/usr/lib/rabbitmq/bin
WAIT=60

die() { echo "rabbitmq_start.sh: $*" >&2; exit 1; }
[ -x "$BIN/rabbitmq-server" ] || { echo "rabbitmq_start.sh: install the Debian package 'rabbitmq-server'" >&2; exit 2; }

env_of() {  # DIR -> exports for the node living there
  d=$1
  port=$(cat "$d/port")
  export HOME="$d"
  export RABBITMQ_NODENAME="aviary_test_$port@localhost"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$port"
  export ERL_EPMD_ADDRESS=127.0.0.1
  export ERL_EPMD_PORT=$((port + 1))
  export RABBITMQ_DIST_PORT=$((port + 2))
  export RABBITMQ_MNESIA_BASE="$d/mnesia"
  export RABBITMQ_LOG_BASE="$d/log"
  export RABBITMQ_CONFIG_FILE="$d/rabbitmq"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins"
  export RABBITMQ_PID_FILE="$d/pid"
  # No busy-waiting schedulers: on a small shared box the broker's idle spinning would take
  # the CPU from the server under test and from the load generator.
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none"
}

ctl() { "$BIN/rabbitmqctl" -q -n "$RABBITMQ_NODENAME" "$@"; }

start_node() {
  d=$1
  env_of "$d"
  "$BIN/rabbitmq-server" >>"$d/server.out" 2>&1 &
  end=$(( $(date +%s) + WAIT ))
  # await_startup fails at once while the node is not registered with epmd yet: retry.
  until ctl await_startup --timeout 5 >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$end" ]; then
      tail -n 30 "$d/server.out" >&2
      die "the broker did not start within $WAIT s"
    fi
    sleep 0.5
  done
}

stop_node() {
  d=$1
  env_of "$d"
  ctl stop >/dev/null 2>&1 || true
  # the node's pid file names the Erlang VM; make sure it is gone
  if [ -f "$d/pid" ]; then kill "$(cat "$d/pid")" 2>/dev/null || true; fi
  epmd -port "$ERL_EPMD_PORT" -kill >/dev/null 2>&1 || true
  # epmd refuses -kill while it still lists a node (one that died uncleanly): end the daemon
  # listening on our epmd port by its pid, so that no test leaves one behind.
  for pid in $(ss -ltnpH "sport = :$ERL_EPMD_PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
    kill "$pid" 2>/dev/null || true
  done
}

case "${1:-}" in
  stop) [ -f "$2/$MARKER" ] || die "$2 is not a test broker"; stop_node "$2" ;;
  start) [ -f "$2/$MARKER" ] || die "$2 is not a test broker"; start_node "$2" ;;
  ctl) d=$2; shift 2; [ -f "$d/$MARKER" ] || die "$d is not a test broker"; env_of "$d"; ctl "$@" ;;
  "") die "usage: rabbitmq_start.sh DIR PORT | {stop|start} DIR | ctl DIR ARGS..." ;;
  *)
    d=$1
    port=${2:?port}
    if [ -e "$d" ]; then
      [ -f "$d/$MARKER" ] || die "$d exists and is not a test broker"
      stop_node "$d"
      rm -rf "$d"
    fi
    mkdir -p "$d"
    touch "$d/$MARKER"
    echo "$port" >"$d/port"
    echo '[].' >"$d/enabled_plugins"
    echo 'loopback_users = none' >"$d/rabbitmq.conf"
    if [ -n "${3:-}" ]; then
      cp "$3" "$d/cert.pem"
      cp "${4:?key}" "$d/key.pem"
      cat >>"$d/rabbitmq.conf" <<CONF
listeners.ssl.default = 127.0.0.1:$((port + 3))
ssl_options.certfile = $d/cert.pem
ssl_options.keyfile = $d/key.pem
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
CONF
    fi
    start_node "$d"
    ;;
esac
