#!/usr/bin/env bash
# Out-of-tree SDK test (DESIGN.md B5.5): install only the SDK, build the plugins-contrib
# modules against it with nothing but -DCMAKE_PREFIX_PATH, then load them in the real
# server and drive the C++ one through aviaryctl. Loopback only; every step is bounded.
#
# usage: run_oot.sh --source-dir DIR --build-dir DIR --work DIR --aviary EXE --aviaryctl EXE
#                   [--cmake EXE] [--generator NAME]
# Exit status: 0 when every check passed, 1 otherwise (the failing step is printed).
set -euo pipefail

SRC= BUILD= WORK= AVIARY= AVIARYCTL= CMAKE=cmake GEN=
while [ $# -gt 0 ]; do
  case "$1" in
    --source-dir) SRC=$2; shift 2 ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --aviary) AVIARY=$2; shift 2 ;;
    --aviaryctl) AVIARYCTL=$2; shift 2 ;;
    --cmake) CMAKE=$2; shift 2 ;;
    --generator) GEN=$2; shift 2 ;;
    *) echo "run_oot.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for v in SRC BUILD WORK AVIARY AVIARYCTL; do
  [ -n "${!v}" ] || { echo "run_oot.sh: missing --$(echo $v | tr A-Z a-z)" >&2; exit 2; }
done

MODULES=(mod_example_c mod_example_cpp mod_event_pusher_filter)
PREFIX=$WORK/prefix
SERVER_PID=
step() { echo; echo "== $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }
# Runs a command with a time limit, its output into a log file; prints the log on failure.
run_logged() { # <seconds> <log> <cmd...>
  local t=$1 log=$2; shift 2
  if ! timeout --kill-after=10 "$t" "$@" >"$log" 2>&1; then
    cat "$log" >&2
    die "command failed or timed out after ${t}s: $*"
  fi
}
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    echo "(killed aviary $SERVER_PID left running)" >&2
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}
SOCK_DIR=
cleanup() { stop_server; [ -z "$SOCK_DIR" ] || rm -rf "$SOCK_DIR"; }
trap cleanup EXIT

rm -rf "$WORK"
mkdir -p "$WORK"

# ---------------------------------------------------------------------------------------
step "install the SDK component only into $PREFIX"
run_logged 120 "$WORK/install.log" "$CMAKE" --install "$BUILD" --prefix "$PREFIX" --component sdk
[ -f "$PREFIX/lib/cmake/aviary-sdk/aviary-sdk-config.cmake" ] \
  || [ -n "$(find "$PREFIX" -name aviary-sdk-config.cmake -print -quit)" ] \
  || die "no aviary-sdk-config.cmake under $PREFIX"
# The sdk component is headers + CMake package, nothing of the host.
unexpected=$(cd "$PREFIX" && find . -type f ! -path './include/aviary/*' ! -path './lib*/cmake/aviary-sdk/*' | sort)
[ -z "$unexpected" ] || die "the sdk component installed unexpected files: $unexpected"
# Every public header is installed (and no more).
diff <(cd "$SRC/sdk/include" && find . -type f | sort) <(cd "$PREFIX/include" && find . -type f | sort) \
  || die "installed headers differ from sdk/include"
echo "installed $(find "$PREFIX/include" -type f | wc -l) headers + $(find "$PREFIX" -path '*cmake/aviary-sdk/*' -type f | wc -l) CMake files"

step "each installed header compiles on its own (C11 / C++17, -Wall -Wextra -pedantic -Werror)"
CC=${CC:-cc} CXX=${CXX:-c++}
while IFS= read -r h; do
  rel=${h#"$PREFIX/include/"}
  case "$h" in
    *.h)   printf '#include <%s>\ntypedef int oot_not_empty;\n' "$rel" | timeout 60 "$CC" -std=c11 -Wall -Wextra -pedantic -Werror \
             -I"$PREFIX/include" -fsyntax-only -x c - || die "$rel does not compile alone as C11"
           printf '#include <%s>\ntypedef int oot_not_empty;\n' "$rel" | timeout 60 "$CXX" -std=c++17 -Wall -Wextra -pedantic -Werror \
             -I"$PREFIX/include" -fsyntax-only -x c++ - || die "$rel does not compile alone as C++17" ;;
    *.hpp) printf '#include <%s>\ntypedef int oot_not_empty;\n' "$rel" | timeout 60 "$CXX" -std=c++17 -Wall -Wextra -pedantic -Werror \
             -I"$PREFIX/include" -fsyntax-only -x c++ - || die "$rel does not compile alone as C++17" ;;
  esac
done < <(find "$PREFIX/include" -type f \( -name '*.h' -o -name '*.hpp' \) | sort)
echo "ok"

# ---------------------------------------------------------------------------------------
gen_args=()
[ -n "$GEN" ] && gen_args=(-G "$GEN")
for m in "${MODULES[@]}"; do
  step "configure + build plugins-contrib/$m against the installed SDK only"
  b=$WORK/build-$m
  # A clean environment: nothing but the install prefix may lead CMake to the SDK.
  run_logged 180 "$WORK/$m.configure.log" env -u CMAKE_PREFIX_PATH -u CMAKE_MODULE_PATH \
    "$CMAKE" -S "$SRC/plugins-contrib/$m" -B "$b" "${gen_args[@]}" -DCMAKE_PREFIX_PATH="$PREFIX"
  sdk_dir=$(sed -n 's/^aviary-sdk_DIR:[A-Z]*=//p' "$b/CMakeCache.txt")
  case "$sdk_dir" in
    "$PREFIX"/*) echo "aviary-sdk found at $sdk_dir" ;;
    *) die "$m: aviary-sdk resolved to '$sdk_dir', not under $PREFIX" ;;
  esac
  run_logged 300 "$WORK/$m.build.log" "$CMAKE" --build "$b" -j2 --verbose
  if grep -n -i 'warning' "$WORK/$m.build.log"; then die "$m: the build printed warnings"; fi
  # The compiler saw the installed headers, never the Aviary tree or its build directory.
  grep -q -- "-isystem $PREFIX/include\|-I$PREFIX/include" "$WORK/$m.build.log" \
    || die "$m: the compile command does not use $PREFIX/include"
  if grep -n -- "$SRC/sdk\|$BUILD/sdk\|$BUILD/host" "$WORK/$m.build.log"; then die "$m: the build refers to the Aviary tree"; fi
  so=$b/$m.so
  [ -f "$so" ] || die "$m: $so was not produced"

  step "$m exports only av_module_entry"
  syms=$(nm -D --defined-only "$so" | awk '{print $NF}' | sort | tr '\n' ' ')
  echo "dynamic symbols: $syms"
  [ "$syms" = "av_module_entry " ] || die "$m exports [$syms], expected only av_module_entry"
  mkdir -p "$WORK/modules"
  cp "$so" "$WORK/modules/"
done

# ---------------------------------------------------------------------------------------
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null \
    || echo $((20000 + RANDOM % 30000))
}
PORT=$(free_port)
DATA=$WORK/data
SOCK=$DATA/ctl.sock
if [ ${#SOCK} -gt 100 ]; then  # sockaddr_un.sun_path holds 108 bytes
  SOCK_DIR=$(mktemp -d /tmp/aviary-oot.XXXXXX)
  SOCK=$SOCK_DIR/ctl.sock
fi
CFG=$WORK/aviary.yaml
write_config() { # <modules yaml block...>
  cat >"$CFG" <<YAML
general:
  hosts: [localhost]
  loglevel: debug
  data_dir: $DATA
  ctl_socket: $SOCK
  module_path: [$WORK/modules]
  threads: 1
  worker_threads: 1
listen:
  c2s:
    - {port: $PORT, ip_address: 127.0.0.1, allow_unencrypted_plain: true}
auth:
  methods: []            # no auth module: this test only needs the admin socket
outgoing_pools:
  rdbms:
    default: {driver: sqlite}
modules:
$1
YAML
}
MODS_OK='  mod_example_c:
    greeting: "Hi from the OOT test"
  mod_example_cpp:
    salutation: Howdy'

step "aviary --check-config loads and starts both modules"
write_config "$MODS_OK"
run_logged 60 "$WORK/check.log" env -u AVIARY_MODULE_PATH "$AVIARY" --config "$CFG" --check-config
cat "$WORK/check.log"
grep -q 'configuration OK' "$WORK/check.log" || die "--check-config did not say 'configuration OK'"
for m in mod_example_c mod_example_cpp; do
  grep -q "module $m 0.1.0 started" "$WORK/check.log" || die "$m was not started by --check-config"
done

step "aviary --check-config rejects an undeclared option of an OOT module"
write_config '  mod_example_c:
    greting: typo
  mod_example_cpp: {}'
if timeout --kill-after=10 60 env -u AVIARY_MODULE_PATH "$AVIARY" --config "$CFG" --check-config >"$WORK/check-bad.log" 2>&1; then
  cat "$WORK/check-bad.log"; die "a config with modules.mod_example_c.greting was accepted"
fi
cat "$WORK/check-bad.log"
grep -q 'greting' "$WORK/check-bad.log" || die "the rejection does not name the bad key"

# ---------------------------------------------------------------------------------------
step "start aviary on 127.0.0.1:$PORT"
write_config "$MODS_OK"
env -u AVIARY_MODULE_PATH "$AVIARY" --config "$CFG" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
ready=
for _ in $(seq 1 100); do   # up to 20 s
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "aviary exited during start-up"; }
  if [ -S "$SOCK" ] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then ready=1; break; fi
  sleep 0.2
done
[ -n "$ready" ] || { cat "$WORK/server.log" >&2; die "aviary did not open $SOCK and port $PORT within 20 s"; }
echo "aviary $SERVER_PID is up"

ctl() { timeout --kill-after=5 15 "$AVIARYCTL" --socket "$SOCK" "$@"; }
expect_ctl() { # <expected substring> <aviaryctl args...>
  local want=$1 out; shift
  out=$(ctl "$@" 2>&1) || { echo "$out" >&2; die "aviaryctl $* failed"; }
  echo "\$ aviaryctl $*"; echo "$out"
  case "$out" in *"$want"*) ;; *) die "aviaryctl $*: expected '$want'" ;; esac
}

step "the C++ module's admin command runs"
expect_ctl "Howdy, X! mod_example_cpp has seen 0 message(s), 0 with a body." example hello --name X

step "the C++ module counts messages on c2s/user-send-message"
expect_ctl "Message sent" stanza sendMessage --from alice@localhost --to bob@localhost --body hello
expect_ctl '"messages": 1' example messageCount
expect_ctl "Howdy, Y! mod_example_cpp has seen 1 message(s), 1 with a body." example hello --name Y
if ctl example hello >"$WORK/ctl-missing.log" 2>&1; then die "'example hello' without --name succeeded"; fi
grep -q -- '--name' "$WORK/ctl-missing.log" || die "the missing --name error does not name the argument"

step "the C module answers iq/server/urn:example:echo"
expect_ctl "Stanza sent" stanza sendStanza --stanza \
  "<iq type='get' id='oot1' from='alice@localhost/pc' to='localhost'><query xmlns='urn:example:echo'><text>ping</text></query></iq>"
answered=
for _ in $(seq 1 50); do
  grep -q 'answered urn:example:echo get from alice@localhost/pc (answer #1)' "$WORK/server.log" && { answered=1; break; }
  sleep 0.1
done
[ -n "$answered" ] || { cat "$WORK/server.log" >&2; die "mod_example_c did not answer the echo query"; }
echo "mod_example_c answered"

step "SIGTERM stops the server cleanly"
kill -TERM "$SERVER_PID"
rc=
for _ in $(seq 1 100); do  # up to 10 s
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    set +e; wait "$SERVER_PID"; rc=$?; set -e
    SERVER_PID=
    break
  fi
  sleep 0.1
done
[ -n "$rc" ] || { cat "$WORK/server.log" >&2; die "aviary did not stop within 10 s of SIGTERM"; }
echo "--- server log ---"; cat "$WORK/server.log"; echo "------------------"
[ "$rc" = 0 ] || die "aviary exited with status $rc after SIGTERM"
# AV_SANITIZE builds: UBSan without halt_on_error only prints, the exit status stays 0.
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WORK/server.log"; then
  die "sanitizer report in the server log"
fi
grep -q 'mod_example_cpp\] stopping after 1 message(s)' "$WORK/server.log" || die "mod_example_cpp was not stopped"
grep -q 'mod_example_c\] stopping after 1 answer(s)' "$WORK/server.log" || die "mod_example_c was not stopped"
[ ! -e "$SOCK" ] || echo "note: $SOCK was left behind"

# ---------------------------------------------------------------------------------------
step "the OOT event pusher filter in front of the in-tree rabbit transport (real RabbitMQ)"
run_logged 300 "$WORK/filter.log" env AVIARY_BIN="$AVIARY" AVIARYCTL_BIN="$AVIARYCTL" \
  AVIARY_MODULE_PATH="$BUILD/modules:$WORK/modules" PYTHONPATH="$SRC/tests/e2e" \
  /usr/bin/python3 "$SRC/tests/oot/test_event_pusher_filter.py"
tail -n 3 "$WORK/filter.log"

echo
echo "PASS: out-of-tree modules built against the installed SDK, loaded and exercised"
