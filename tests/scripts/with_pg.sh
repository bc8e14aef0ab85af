#!/bin/sh
# Runs a command against a throwaway PostgreSQL on 127.0.0.1 (tests/scripts/pg_start.sh):
#   with_pg.sh COMMAND ARGS...
# Exports AVIARY_TEST_PG (connection string) and AVIARY_TEST_PG_{RESTART,STOP,START} (shell
# commands acting on that server), runs COMMAND, stops the server, exits with COMMAND's status.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d /tmp/aviary-pg-XXXXXX)
rmdir "$DIR"
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sh "$HERE/pg_start.sh" "$DIR" "$PORT"
trap 'sh "$HERE/pg_start.sh" stop "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
export AVIARY_TEST_PG="host=127.0.0.1 port=$PORT dbname=aviary_test user=postgres"
export AVIARY_TEST_PG_RESTART="sh $HERE/pg_start.sh restart $DIR"
export AVIARY_TEST_PG_STOP="sh $HERE/pg_start.sh stop $DIR"
export AVIARY_TEST_PG_START="sh $HERE/pg_start.sh start $DIR"
set +e
"$@"
rc=$?
exit $rc
