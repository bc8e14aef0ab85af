#!/bin/bash
# Event pusher benchmark (issue 5): scenario 3 of ../shared/bench (1,000 clients in 500 pairs,
# closed loop) against aviary without and with the rabbit transport; every message makes a
# "sent" and a "received" event. A throwaway RabbitMQ runs on loopback, pinned to the load
# generator's CPU (1), so aviary keeps its one core (0) as in the reference runs; one queue is
# bound to the chat exchange (x-max-length 100000) so the broker stores what it gets.
#   tests/bench/event-pusher-bench.sh [BUILD_DIR]     env: DURATION (20) WORKERS (4) OUTDIR
#                                  RUNS ("baseline rabbit kafka"; also "pusher": mod_event_pusher
#                                  alone, events made and handed to no transport)
# Then the same with the kafka transport against librdkafka's mock cluster (kafka_mock_tool of
# the build, pinned to CPU 1).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
export OUTDIR=${OUTDIR:-/tmp/aviary-bench/results}
export DURATION=${DURATION:-20}
WORKERS=${WORKERS:-4}
MQDIR=/tmp/aviary-bench-rabbitmq
MQPORT=${MQPORT:-20672}  # below the ephemeral range the load generator's clients use
SCRIPT=$ROOT/tests/scripts/rabbitmq_start.sh

RUNS=${RUNS:-baseline rabbit kafka}
wants() { case " $RUNS " in *" $1 "*) return 0 ;; esac; return 1; }

if wants baseline; then
echo "== baseline: no event pusher"
SCENARIOS=3 bash "$ROOT/tests/bench/run-aviary.sh" "$BUILD" | grep -E '"scenario"|msg' | tail -2
fi

if wants pusher; then
echo "== mod_event_pusher without a transport"
EXTRA_MODULES="  mod_event_pusher: {}" SCENARIOS=3 bash "$ROOT/tests/bench/run-aviary.sh" "$BUILD" | grep -E '"scenario"|msg' | tail -2
fi

if wants rabbit; then
echo "== with mod_event_pusher + rabbit (chat_msg_exchange, $WORKERS workers)"
sh "$SCRIPT" "$MQDIR" "$MQPORT"
trap 'sh "$SCRIPT" stop "$MQDIR" >/dev/null 2>&1 || true' EXIT
taskset -a -p -c 1 "$(cat "$MQDIR/pid")" >/dev/null
[ -n "${BROKER_IDLE:-}" ] && chrt -a -i -p 0 "$(cat "$MQDIR/pid")"
export EXTRA_POOLS="  rabbit:
    event_pusher:
      workers: $WORKERS
      connection: {host: 127.0.0.1, port: $MQPORT, max_worker_queue_len: 100000}"
export EXTRA_MODULES="  mod_event_pusher:
    rabbit:
      chat_msg_exchange: {}"
export AFTER="event_pusher rabbitStats"
# Bind the queue once the server has declared the exchange: a background waiter does it.
/usr/bin/python3 - "$MQPORT" <<'PY' &
import sys, time, pika
port = int(sys.argv[1])
for _ in range(600):
    try:
        ch = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", port)).channel()
        ch.exchange_declare("chat_msg", exchange_type="topic", passive=True)
        ch.queue_declare("bench", arguments={"x-max-length": 100000})
        ch.queue_bind("bench", "chat_msg", routing_key="#")
        print("bench queue bound")
        break
    except Exception:
        time.sleep(0.5)
PY
SCENARIOS=3 bash "$ROOT/tests/bench/run-aviary.sh" "$BUILD" | grep -E '"scenario"|msg|rabbitStats' | tail -3
wait
sh "$SCRIPT" ctl "$MQDIR" list_queues name messages
sh "$SCRIPT" stop "$MQDIR" >/dev/null 2>&1 || true
trap - EXIT
fi

if wants kafka; then
echo "== with mod_event_pusher + kafka (chat_msg_topic, librdkafka's mock cluster, 4 partitions)"
TOOL=$BUILD/modules/mod_event_pusher_kafka/tests/kafka_mock_tool
coproc MOCK { exec taskset -c 1 "$TOOL" chat_msg:4; }
read -r line <&"${MOCK[0]}"
BOOT=${line#bootstrap }
echo "mock cluster at $BOOT"
export EXTRA_POOLS="  kafka:
    event_pusher:
      connection: {bootstrap_servers: '$BOOT', max_queue_len: 1000000}"
export EXTRA_MODULES="  mod_event_pusher:
    kafka:
      chat_msg_topic: chat_msg"
export AFTER="event_pusher kafkaStats"
SCENARIOS=3 bash "$ROOT/tests/bench/run-aviary.sh" "$BUILD" | grep -E '"scenario"|msg|kafkaStats' | tail -3
echo quit >&"${MOCK[1]}"
wait "$MOCK_PID" 2>/dev/null || true
fi
