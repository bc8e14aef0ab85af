#!/bin/sh
# Runs a command against a throwaway MariaDB on 127.0.0.1 (tests/scripts/mariadb_start.sh):
#   with_mariadb.sh COMMAND ARGS...
# Exports AVIARY_TEST_MYSQL (connection settings as "key=value ...") and
# AVIARY_TEST_MYSQL_{RESTART,STOP,START} (shell commands acting on that server), runs COMMAND,
# stops the server, removes its directory, exits with COMMAND's status.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d /tmp/aviary-mariadb-XXXXXX)
rmdir "$DIR"
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap 'sh "$HERE/mariadb_start.sh" stop "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
sh "$HERE/mariadb_start.sh" "$DIR" "$PORT"
# The password of mariadb_start.sh's user `aviary` is  av'pw\x
export AVIARY_TEST_MYSQL="host=127.0.0.1 port=$PORT dbname=aviary_test user=aviary password=av'pw\\x"
export AVIARY_TEST_MYSQL_RESTART="sh $HERE/mariadb_start.sh restart $DIR"
export AVIARY_TEST_MYSQL_STOP="sh $HERE/mariadb_start.sh stop $DIR"
export AVIARY_TEST_MYSQL_START="sh $HERE/mariadb_start.sh start $DIR"
set +e
"$@"
rc=$?
exit $rc
