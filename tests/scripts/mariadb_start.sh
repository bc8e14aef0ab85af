#!/bin/sh
# A throwaway MariaDB (or MySQL) server for tests, on 127.0.0.1 only.
#
#   mariadb_start.sh DIR PORT      wipe DIR (if it is one of ours), install, start, create
#                                  database aviary_test and the user the tests log in as
#   mariadb_start.sh restart DIR   restart the server in DIR (clients are cut off)
#   mariadb_start.sh stop DIR      stop it (DIR is kept; `mariadb_start.sh DIR PORT` wipes it)
#   mariadb_start.sh start DIR     start the stopped server in DIR again, data kept
#   mariadb_start.sh sql DIR QUERY run QUERY in aviary_test as the server's root (tab-separated
#                                  rows, no column names), over the unix socket in DIR
#
# Tests connect over TCP: host 127.0.0.1, port PORT, database aviary_test, user aviary,
# password  av'pw\x  (a quote and a backslash on purpose: connection strings must quote them).
# The server's root account has no password and is meant for the unix socket DIR/mysqld.sock.
# Prints nothing but errors. Exit 2 when the MariaDB server package is not installed.
# As root, the server runs as the `mysql` system user (mariadbd refuses root), so DIR must be
# reachable by that user (e.g. under /tmp).
set -eu

MARKER=.aviary-mariadb-test
WAIT=60  # seconds, for start-up and for shutdown

die() { echo "mariadb_start.sh: $*" >&2; exit 1; }
usage() { echo "usage: mariadb_start.sh DIR PORT | mariadb_start.sh {restart|stop|start} DIR | mariadb_start.sh sql DIR QUERY" >&2; exit 1; }

# Binaries: Debian 12's mariadb-server names first, the historical MySQL names otherwise.
find_bin() {
  for n in "$@"; do
    for d in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin; do
      if [ -x "$d/$n" ]; then echo "$d/$n"; return 0; fi
    done
  done
  return 1
}
SERVER=$(find_bin mariadbd mysqld || true)
INSTALL_DB=$(find_bin mariadb-install-db mysql_install_db || true)
CLIENT=$(find_bin mariadb mysql || true)

need_server() {
  if [ -z "$SERVER" ] || [ -z "$INSTALL_DB" ] || [ -z "$CLIENT" ]; then
    echo "mariadb_start.sh: MariaDB server binaries not found (install the Debian package 'mariadb-server')" >&2
    exit 2
  fi
}

is_root() { [ "$(id -u)" = 0 ]; }

show_log() {
  for f in "$1/server.err" "$1/log"; do
    if [ -s "$f" ]; then
      echo "--- $f (last lines) ---" >&2
      tail -n 20 "$f" >&2
    fi
  done
}

# The server's pid if it is running, else nothing.
running_pid() {
  if [ -f "$1/mysqld.pid" ]; then
    pid=$(cat "$1/mysqld.pid" 2>/dev/null || true)
    case "$pid" in
      ''|*[!0-9]*) return 0 ;;
    esac
    if kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
  fi
  return 0
}

client() {  # client DIR ARGS...: root over the unix socket
  d=$1
  shift
  "$CLIENT" --no-defaults --protocol=socket --socket="$d/mysqld.sock" --user=root --connect-timeout=10 "$@"
}

start_server() {  # start_server DIR: the port and everything else come from DIR/my.cnf
  d=$1
  [ -f "$d/my.cnf" ] && [ -d "$d/data/mysql" ] || die "no server installed in $d"
  [ -z "$(running_pid "$d")" ] || die "the server in $d is already running"
  rm -f "$d/mysqld.pid" "$d/mysqld.sock"
  if is_root; then user_opt=--user=mysql; else user_opt=; fi
  # Detached (own session, no inherited descriptors), so that it outlives this script and
  # does not hold a test runner's output pipe open.
  # shellcheck disable=SC2086  # user_opt is one word or none
  setsid "$SERVER" --defaults-file="$d/my.cnf" $user_opt </dev/null >>"$d/log" 2>&1 &
  launched=$!
  i=0
  while [ $i -lt $((WAIT * 10)) ]; do
    if ! kill -0 "$launched" 2>/dev/null; then
      show_log "$d"
      die "the server did not start (port in use?)"
    fi
    if [ -S "$d/mysqld.sock" ] && client "$d" -e "SELECT 1" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
    i=$((i + 1))
  done
  kill -KILL "$launched" 2>/dev/null || true
  show_log "$d"
  die "the server in $d did not come up in ${WAIT}s"
}

stop_server() {  # stop_server DIR: SIGTERM (a normal shutdown that cuts clients off), bounded
  d=$1
  pid=$(running_pid "$d")
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  i=0
  while kill -0 "$pid" 2>/dev/null; do
    if [ $i -ge $((WAIT * 10)) ]; then
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      show_log "$d"
      die "the server in $d did not stop in ${WAIT}s (killed)"
    fi
    sleep 0.1
    i=$((i + 1))
  done
  rm -f "$d/mysqld.pid"
}

[ $# -ge 1 ] || usage

case "$1" in
  stop)
    [ $# -eq 2 ] || usage
    stop_server "$2"
    exit 0
    ;;
  start)
    [ $# -eq 2 ] || usage
    need_server
    start_server "$2"
    exit 0
    ;;
  restart)
    [ $# -eq 2 ] || usage
    need_server
    stop_server "$2"
    start_server "$2"
    exit 0
    ;;
  sql)
    [ $# -eq 3 ] || usage
    need_server
    client "$2" --batch --skip-column-names --database=aviary_test -e "$3"
    exit $?
    ;;
esac

[ $# -eq 2 ] || usage
need_server
DIR=$1
PORT=$2
case "$PORT" in
  ''|*[!0-9]*) die "PORT must be a number, got '$PORT'" ;;
esac
case "$DIR" in
  /*) ;;
  *) DIR=$(pwd)/$DIR ;;
esac
DIR=${DIR%/}
if [ -z "$DIR" ] || [ "$DIR" = / ]; then die "refusing DIR '/'"; fi
# sun_path holds 108 bytes.
[ ${#DIR} -le 90 ] || die "DIR is too long for a unix socket path: $DIR"

# A leftover from a previous run: stop its server, then wipe it. Anything else is left alone.
if [ -e "$DIR" ]; then
  if [ -f "$DIR/$MARKER" ]; then
    stop_server "$DIR" 2>/dev/null || true
    rm -rf "$DIR"
  elif [ -d "$DIR" ] && [ -z "$(ls -A "$DIR")" ]; then
    rmdir "$DIR"
  else
    die "$DIR exists and was not made by mariadb_start.sh; refusing to wipe it"
  fi
fi

mkdir -p "$DIR/tmp"
touch "$DIR/$MARKER"
if is_root; then
  id mysql >/dev/null 2>&1 || die "there is no 'mysql' system user to run the server as"
  chown -R mysql: "$DIR"
  runuser -u mysql -- test -w "$DIR" || die "$DIR is not reachable by the mysql user (its parents must be searchable)"
fi

# Small, fast and unsafe on purpose: a test server whose data may be lost.
cat >"$DIR/my.cnf" <<EOF
# mariadb_start.sh: throwaway test server, loopback only
[mysqld]
datadir = $DIR/data
tmpdir = $DIR/tmp
socket = $DIR/mysqld.sock
pid-file = $DIR/mysqld.pid
log-error = $DIR/server.err
bind-address = 127.0.0.1
port = $PORT
skip-name-resolve
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
max_connections = 50
innodb_buffer_pool_size = 32M
innodb_log_file_size = 16M
innodb_flush_log_at_trx_commit = 0
innodb_doublewrite = 0
innodb_use_native_aio = 0
performance_schema = OFF
skip-log-bin
EOF

if is_root; then owner_opts="--user=mysql"; else owner_opts=; fi
# shellcheck disable=SC2086
"$INSTALL_DB" --defaults-file="$DIR/my.cnf" $owner_opts --auth-root-authentication-method=normal \
  --skip-test-db >"$DIR/install.log" 2>&1 || { cat "$DIR/install.log" >&2; die "mariadb-install-db failed"; }

start_server "$DIR"

client "$DIR" <<'EOF' || die "cannot create database aviary_test and user aviary"
CREATE DATABASE aviary_test CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'aviary'@'127.0.0.1' IDENTIFIED BY 'av''pw\\x';
GRANT ALL PRIVILEGES ON aviary_test.* TO 'aviary'@'127.0.0.1';
EOF
# Root without a password is for the socket in DIR only: drop its TCP (loopback) accounts.
for acct in $(client "$DIR" --batch --skip-column-names \
                -e "SELECT CONCAT(QUOTE(User), '@', QUOTE(Host)) FROM mysql.user WHERE User = 'root' AND Host <> 'localhost'"); do
  client "$DIR" -e "DROP USER $acct" || die "cannot drop $acct"
done
