"""A Kafka cluster for mod_event_pusher_kafka's end-to-end tests: librdkafka's mock cluster
(the real Kafka protocol on 127.0.0.1) run by kafka_mock_tool (built next to this module:
<AVIARY_MODULE_PATH>/mod_event_pusher_kafka/tests/kafka_mock_tool, or $KAFKA_MOCK_TOOL) and
driven over its stdin. Also: Kafka's murmur2 partitioner, to check where keys land.
"""
import json
import os
import queue
import subprocess
import tempfile
import threading

from harness import MODULE_PATH


def tool_path():
    if os.environ.get("KAFKA_MOCK_TOOL"):
        return os.environ["KAFKA_MOCK_TOOL"]
    for d in MODULE_PATH.split(":"):
        p = os.path.join(d, "mod_event_pusher_kafka", "tests", "kafka_mock_tool")
        if d and os.path.exists(p):
            return p
    raise RuntimeError("kafka_mock_tool not found under AVIARY_MODULE_PATH (or set KAFKA_MOCK_TOOL)")


class KafkaMock:
    """kafka_mock_tool as a context manager. topics: {name: partitions}."""

    def __init__(self, topics, brokers=1):
        self.stderr = tempfile.TemporaryFile(mode="w+")
        args = [tool_path(), "--brokers", str(brokers)] + [f"{t}:{n}" for t, n in topics.items()]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     text=True, bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        first = self._line(10)
        if not first.startswith("bootstrap "):
            self.close()
            raise RuntimeError(f"kafka_mock_tool: unexpected first line {first!r}")
        self.bootstrap = first.split(" ", 1)[1]

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _line(self, timeout):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("kafka_mock_tool did not answer in time")
        if line is None:
            self.stderr.seek(0)
            raise AssertionError("kafka_mock_tool exited: " + self.stderr.read()[-2000:])
        return line

    def cmd(self, *words, timeout=15):
        """Sends one command; returns its one-line answer; raises on 'error ...'."""
        self.proc.stdin.write(" ".join(str(w) for w in words) + "\n")
        self.proc.stdin.flush()
        answer = self._line(timeout)
        if answer.startswith("error"):
            raise AssertionError(f"kafka_mock_tool {' '.join(map(str, words))}: {answer}")
        return answer

    def consume(self, topic, n, timeout=10):
        """Up to n records of topic not consumed yet, as dicts (key, headers, value parsed
        from JSON as 'json', partition, offset, timestamp)."""
        self.proc.stdin.write(f"consume {topic} {n} {int(timeout * 1000)}\n")
        self.proc.stdin.flush()
        out = []
        while True:
            line = self._line(timeout + 15)
            if line.startswith("done "):
                assert int(line.split()[1]) == len(out)
                return out
            if line.startswith("error"):
                raise AssertionError(f"consume {topic}: {line}")
            rec = json.loads(line)
            rec["json"] = json.loads(rec["value"]) if rec["value"] is not None else None
            out.append(rec)

    def count(self, topic):
        return int(self.cmd("count", topic).split()[1])

    def pool(self, **connection):
        """YAML for outgoing_pools: kafka.event_pusher pointing at this cluster.
        connection: extra keys (flush_timeout=..., properties={...})."""
        lines = ["  kafka:", "    event_pusher:", "      connection:", f"        bootstrap_servers: '{self.bootstrap}'"]
        for k, v in connection.items():
            if isinstance(v, dict):
                lines.append(f"        {k}:")
                lines += [f"          {pk}: '{pv}'" for pk, pv in v.items()]
            else:
                lines.append(f"        {k}: {v}")
        return "\n".join(lines) + "\n"

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=15)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def modules(**topics):
    """modules: YAML for mod_event_pusher with the kafka transport and these topics."""
    body = "".join(f"      {k}: {v}\n" for k, v in topics.items())
    return "  mod_event_pusher:\n    kafka:\n" + (body or "      {}\n")


def murmur2(data):
    """Kafka's murmur2 (the Java client's default partitioner; librdkafka's murmur2_random)."""
    m, length = 0x5BD1E995, len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(length // 4):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    rest, base = length % 4, length & ~3
    if rest == 3:
        h ^= data[base + 2] << 16
    if rest >= 2:
        h ^= data[base + 1] << 8
    if rest >= 1:
        h ^= data[base]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def java_partition(key, partitions):
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def stats(server):
    """kafkaStats as {name: number}."""
    text = server.ctl("event_pusher", "kafkaStats").stdout.strip()
    out = {}
    for part in text.split(","):
        name, value = part.split()
        out[name] = int(value)
    return out
