#!/bin/sh
# A throwaway PostgreSQL for tests, on 127.0.0.1 only, trust authentication.
#
#   pg_start.sh DIR PORT      wipe DIR (if it is one of ours), initdb, start, create aviary_test
#   pg_start.sh restart DIR   restart the server in DIR (fast shutdown: clients are cut off)
#   pg_start.sh stop DIR      stop it (DIR is kept; `pg_start.sh DIR PORT` wipes it)
#   pg_start.sh start DIR     start the stopped server in DIR again, data kept
#
# Connect with "host=127.0.0.1 port=PORT dbname=aviary_test user=postgres".
# Prints nothing but errors. Exit 2 when the PostgreSQL server package is not installed.
# As root, the server runs as the `postgres` system user (PostgreSQL refuses root), so DIR
# must be reachable by that user (e.g. under /tmp).
set -eu

# Server binaries: $PG_BINDIR, else Debian's, preferring 15 (bookworm), else the newest.
BIN=${PG_BINDIR:-}
if [ -z "$BIN" ]; then
  # shellcheck disable=SC2012  # Debian's version directories are plain numbers
  for d in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then BIN=$d; break; fi
  done
fi
MARKER=.aviary-pg-test

die() { echo "pg_start.sh: $*" >&2; exit 1; }
usage() { echo "usage: pg_start.sh DIR PORT | pg_start.sh {restart|stop|start} DIR" >&2; exit 1; }

need_pg() {
  if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
    echo "pg_start.sh: PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin" \
         "(install the Debian package 'postgresql')" >&2
    exit 2
  fi
}

# Run a command as the cluster owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

show_log() {
  if [ -f "$1/log" ]; then
    echo "--- $1/log (last lines) ---" >&2
    tail -n 20 "$1/log" >&2
  fi
}

[ $# -ge 1 ] || usage

case "$1" in
  stop)
    [ $# -eq 2 ] || usage
    need_pg
    DIR=$2
    if [ -f "$DIR/data/postmaster.pid" ]; then
      as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop >/dev/null || { show_log "$DIR"; die "cannot stop the server in $DIR"; }
    fi
    exit 0
    ;;
  start)
    [ $# -eq 2 ] || usage
    need_pg
    DIR=$2
    [ -f "$DIR/data/PG_VERSION" ] || die "no cluster in $DIR/data"
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -t 60 start >/dev/null \
      || { show_log "$DIR"; die "cannot start the server in $DIR"; }
    exit 0
    ;;
  restart)
    [ $# -eq 2 ] || usage
    need_pg
    DIR=$2
    [ -f "$DIR/data/PG_VERSION" ] || die "no cluster in $DIR/data"
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -m fast -w -t 60 restart >/dev/null \
      || { show_log "$DIR"; die "cannot restart the server in $DIR"; }
    exit 0
    ;;
esac

[ $# -eq 2 ] || usage
need_pg
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

# A leftover from a previous run: stop its server, then wipe it. Anything else is left alone.
if [ -e "$DIR" ]; then
  if [ -f "$DIR/$MARKER" ]; then
    if [ -f "$DIR/data/postmaster.pid" ]; then
      as_owner "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
  elif [ -d "$DIR" ] && [ -z "$(ls -A "$DIR")" ]; then
    rmdir "$DIR"
  else
    die "$DIR exists and was not made by pg_start.sh; refusing to wipe it"
  fi
fi

mkdir -p "$DIR"
touch "$DIR/$MARKER"
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$DIR"
  runuser -u postgres -- test -w "$DIR" || die "$DIR is not reachable by the postgres user (its parents must be searchable)"
fi

as_owner "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --no-locale --no-sync \
  >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }

cat >>"$DIR/data/postgresql.conf" <<EOF
# pg_start.sh: throwaway test server
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
shared_buffers = 32MB
log_min_messages = warning
EOF
cat >"$DIR/data/pg_hba.conf" <<EOF
# pg_start.sh: trust, loopback only
local all all trust
host  all all 127.0.0.1/32 trust
EOF

as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -t 60 start >/dev/null \
  || { show_log "$DIR"; die "the server did not start (port $PORT in use?)"; }

as_owner "$BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
  -c "CREATE DATABASE aviary_test" >/dev/null || die "cannot create database aviary_test"
