#!/bin/bash
# Event pusher benchmark (issue 5), on ../shared/bench's load generator; aviary on CPU 0, the
# load generator and the broker on CPU 1 (run.sh's pinning). Every chat message makes a
# "sent" and a "received" event.
#   tests/bench/event-pusher-bench.sh [BUILD_DIR]
#   env: RUNS ("baseline pusher rabbit delivery broker kafka") REPEAT (1) DURATION (20) WORKERS (4)
#        RABBIT_BROKER (idle) DELIVERY_BROKER (normal): the broker's CPU policy in those runs
#        DELIVERY_RATE (25000 msg/s) BIND (1; 0: no queue bound, the broker routes events nowhere)
#        OUTDIR
# Runs (each RUNS entry, REPEAT times, interleaved so that drifts of the machine hit all alike):
#   baseline  scenario 3 (1,000 clients in pairs, closed loop): msg/s without the event pusher
#   pusher    the same with mod_event_pusher alone: events made, handed to no transport
#   rabbit    the same with the rabbit transport (chat_msg_exchange) and a throwaway RabbitMQ;
#             the broker runs at SCHED_IDLE on the load generator's CPU, so it takes only what
#             the load generator leaves and the routing figure measures aviary, not a starved
#             load generator. What the broker cannot take is dropped and counted.
#   baseline_open  scenario 4 at DELIVERY_RATE without the event pusher (compare with delivery)
#   delivery  events delivered: scenario 4 (open loop) at DELIVERY_RATE msg/s with the broker
#             at normal priority; prints rabbitStats (published should be 2 x sent, 0 dropped).
#   broker    the broker's own ceiling, without aviary: rabbit_flood (this module's AMQP code,
#             4 connections on CPU 0) publishing for 10 s to the broker alone on CPU 1
#   kafka     scenario 3 with the kafka transport against librdkafka's mock cluster
#             (kafka_mock_tool of the build, on CPU 1): delivered = acknowledged by the cluster.
# One queue (x-max-length 100000) is bound to the chat exchange, so the broker stores what it
# gets. On this 2-core machine one RabbitMQ queue takes at most ~52k msg/s with a whole core.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
export OUTDIR=${OUTDIR:-/tmp/aviary-bench/results}
export DURATION=${DURATION:-20}
WORKERS=${WORKERS:-4}
REPEAT=${REPEAT:-1}
DELIVERY_RATE=${DELIVERY_RATE:-25000}
RUNS=${RUNS:-baseline pusher rabbit delivery broker kafka}
MQDIR=/tmp/aviary-bench-rabbitmq
MQPORT=${MQPORT:-20672}  # below the ephemeral range the load generator's clients use
SCRIPT=$ROOT/tests/scripts/rabbitmq_start.sh

wants() { case " $RUNS " in *" $1 "*) return 0 ;; esac; return 1; }
# The result line of a run: msg/s, server and loadgen CPU; and any "aviaryctl" line.
summary() { grep -E '^\| custom|^aviaryctl' | sed -E 's/^\| custom \| ([^|]*)\| ([^;]*); latency ms (p50 [0-9.]+) p90 [0-9.]+ (p99 [0-9.]+).*(server CPU util [0-9.]+, loadgen CPU util [0-9.]+).*/  \1: \2; latency ms \3 \4; \5/'; }

baseline() {
  echo "== baseline: no event pusher"
  SCENARIOS=3 bash "$ROOT/tests/bench/run-aviary.sh" "$BUILD" | summary
}

baseline_open() {
  echo "== baseline: no event pusher, open loop at $DELIVERY_RATE msg/s"
  SCENARIOS=4 FIXED_RATES="$DELIVERY_RATE" bash "$ROOT/tests/bench/run-aviary.sh" "$BUILD" | summary
}

pusher() {
  echo "== mod_event_pusher without a transport"
  EXTRA_MODULES="  mod_event_pusher: {}" SCENARIOS=3 bash "$ROOT/tests/bench/run-aviary.sh" "$BUILD" | summary
}

# broker_up POLICY(idle|normal): a throwaway broker on CPU 1; unless BIND=0 the chat_msg
# exchange (declared as the transport declares it) with one queue "bench" bound to it.
broker_up() {
  sh "$SCRIPT" "$MQDIR" "$MQPORT"
  trap broker_down EXIT
  taskset -a -p -c 1 "$(cat "$MQDIR/pid")" >/dev/null
  if [ "$1" = idle ]; then chrt -a -i -p 0 "$(cat "$MQDIR/pid")"; fi
  [ "${BIND:-1}" = 0 ] && return
  /usr/bin/python3 - "$MQPORT" <<'PY'
import sys, pika
ch = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", int(sys.argv[1]))).channel()
ch.exchange_declare("chat_msg", exchange_type="topic")
ch.queue_declare("bench", arguments={"x-max-length": 100000})
ch.queue_bind("bench", "chat_msg", routing_key="#")
PY
}

broker_down() {
  sh "$SCRIPT" stop "$MQDIR" >/dev/null 2>&1 || true
  trap - EXIT
}

# rabbit_run SCENARIO BROKER_POLICY [extra env for run-aviary.sh]
rabbit_run() {
  local scenario=$1
  broker_up "$2"
  shift 2
  env "$@" EXTRA_POOLS="  rabbit:
    event_pusher:
      workers: $WORKERS
      connection: {host: 127.0.0.1, port: $MQPORT, max_worker_queue_len: 100000}" \
    EXTRA_MODULES="  mod_event_pusher:
    rabbit:
      chat_msg_exchange: {}" \
    AFTER="event_pusher rabbitStats" SCENARIOS=$scenario bash "$ROOT/tests/bench/run-aviary.sh" "$BUILD" | summary
  echo "  queue: $(sh "$SCRIPT" ctl "$MQDIR" list_queues name messages | tr '\n\t' '  ')"
  broker_down
}

rabbit() {
  echo "== mod_event_pusher + rabbit ($WORKERS workers), broker at ${RABBIT_BROKER:-idle} priority"
  rabbit_run 3 "${RABBIT_BROKER:-idle}"
}

delivery() {
  echo "== mod_event_pusher + rabbit, open loop at $DELIVERY_RATE msg/s, broker at ${DELIVERY_BROKER:-normal} priority"
  rabbit_run 4 "${DELIVERY_BROKER:-normal}" FIXED_RATES="$DELIVERY_RATE"
}

broker() {
  echo "== the broker alone (rabbit_flood, 4 connections; queue bound: ${BIND:-1})"
  broker_up normal
  local tool=$BUILD/modules/mod_event_pusher_rabbit/tests/rabbit_flood
  echo "  $(taskset -c 0 "$tool" "$MQPORT" 4 10 0)"
  echo "  $(taskset -c 0 "$tool" "$MQPORT" 4 10 1)"
  broker_down
}

kafka() {
  echo "== mod_event_pusher + kafka (chat_msg_topic, librdkafka's mock cluster, 4 partitions)"
  local tool=$BUILD/modules/mod_event_pusher_kafka/tests/kafka_mock_tool line boot
  coproc MOCK { exec taskset -c 1 "$tool" chat_msg:4; }
  read -r line <&"${MOCK[0]}"
  boot=${line#bootstrap }
  EXTRA_POOLS="  kafka:
    event_pusher:
      connection: {bootstrap_servers: '$boot', max_queue_len: 1000000}" \
    EXTRA_MODULES="  mod_event_pusher:
    kafka:
      chat_msg_topic: chat_msg" \
    AFTER="event_pusher kafkaStats" SCENARIOS=3 bash "$ROOT/tests/bench/run-aviary.sh" "$BUILD" | summary
  echo quit >&"${MOCK[1]}"
  wait "$MOCK_PID" 2>/dev/null || true
}

for _ in $(seq "$REPEAT"); do
  for run in baseline pusher rabbit baseline_open delivery broker kafka; do
    if wants $run; then $run; fi
  done
done
