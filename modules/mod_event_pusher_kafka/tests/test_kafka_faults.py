"""mod_event_pusher_kafka under broker faults injected through librdkafka's mock cluster API
(kafka_mock_tool): the server survives, chat keeps flowing, the counters say what happened and
every user's records stay in order.

- retriable Produce errors: retried by the idempotent producer, nothing lost, order kept;
- the broker down under traffic, then up again: everything queued meanwhile is delivered,
  in order;
- a fatal error of the idempotent producer (out-of-sequence on the head-of-line request): a
  new producer takes over, the lost events are counted, later events are delivered;
- a full queue while the broker is down: drops counted, the queued ones delivered later;
- a clean stop waits for slow brokers (nothing lost); flush_timeout bounds a stop whose
  broker is gone, and the log says how many events were not delivered.
"""
import os
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import RawClient, Server  # noqa: E402
from kafka_mock import KafkaMock, modules, stats  # noqa: E402

# Quick reconnects after the broker comes back (librdkafka's default backs off up to 10 s).
# One request in flight: librdkafka 2.0.2's mock cluster checks produce sequence numbers only
# for transactional producers (a real broker checks them for every idempotent one), so with
# several requests in flight a retried batch could be overtaken and then taken as written
# ("implicitly acked" by the later batch's success), which only a real broker guarantees.
FAST = {"reconnect.backoff.ms": "50", "reconnect.backoff.max.ms": "300",
        "max.in.flight.requests.per.connection": "1"}


def chat(sender, to, body, n):
    sender.send(f"<message type='chat' to='{to}' id='m{n}'><body>{body}</body></message>")


def wait_for(pred, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def check_order(test, recs, prefix):
    """Every key's records whose message starts with prefix carry increasing numbers."""
    by_key = {}
    for r in sorted(recs, key=lambda r: (r["partition"], r["offset"])):
        if r["json"]["message"].startswith(prefix):
            by_key.setdefault(r["key"], []).append(int(r["json"]["message"].split()[1]))
    for key, seq in by_key.items():
        test.assertEqual(seq, sorted(seq), f"order of {prefix!r} records under {key}")
    return by_key


class BrokerFaults(unittest.TestCase):
    def setUp(self):
        self.kafka = KafkaMock({"chat": 2})
        self.server = None

    def start(self, **connection):
        props = dict(FAST)
        props.update(connection.pop("properties", {}))
        self.server = Server(extra_pools=self.kafka.pool(properties=props, **connection),
                             extra_modules=modules(chat_msg_topic="chat"))
        for u in ("alice", "bob"):
            self.server.register(u)

    def tearDown(self):
        try:
            if self.server:
                self.server.stop()
        finally:
            self.kafka.close()

    def sessions(self):
        return RawClient(self.server.plain_port).login("alice"), RawClient(self.server.plain_port).login("bob")

    def test_retriable_errors_and_outage_survived(self):
        self.start()
        alice, bob = self.sessions()
        # Retriable errors on the next produce requests: retried, in order, nothing lost.
        self.kafka.cmd("request_errors", "Produce", 4, "NOT_LEADER_FOR_PARTITION")
        for i in range(20):
            chat(alice, "bob@localhost/raw", f"first {i}", i)
        bob.read_until("first 19<")
        recs = self.kafka.consume("chat", 40, timeout=20)
        self.assertEqual(len(recs), 40, (stats(self.server), self.kafka.count("chat"), sorted((r["key"], r["json"]["message"]) for r in recs)))
        by_key = check_order(self, recs, "first")
        self.assertEqual(by_key, {"alice@localhost": list(range(20)), "bob@localhost": list(range(20))})
        self.assertEqual(stats(self.server)["failed"], 0)

        # The broker goes away under traffic: chat keeps flowing, events wait in the queue.
        self.kafka.cmd("broker_down", 1)
        for i in range(30):
            chat(alice, "bob@localhost/raw", f"during {i}", 100 + i)
        bob.read_until("during 29<")
        time.sleep(1)
        self.assertTrue(self.server.alive())
        s = stats(self.server)
        self.assertEqual(s["delivered"], 40, s)
        self.assertEqual(s["queued"], 60, s)
        self.assertGreater(s["errors"], 0, s)
        self.kafka.cmd("broker_up", 1)
        recs = self.kafka.consume("chat", 60, timeout=20)
        self.assertEqual(len(recs), 60, stats(self.server))
        by_key = check_order(self, recs, "during")
        self.assertEqual(by_key, {"alice@localhost": list(range(30)), "bob@localhost": list(range(30))})
        s = stats(self.server)
        self.assertEqual((s["delivered"], s["failed"], s["dropped"], s["queued"]), (100, 0, 0, 0), s)
        # Errors are logged, but rate limited: not one line per reconnection attempt.
        errors_logged = [ln for ln in self.server.log_text().splitlines() if "Kafka client error" in ln]
        self.assertLess(len(errors_logged), 10, errors_logged)
        alice.close()
        bob.close()

    def test_fatal_error_replaces_the_producer(self):
        self.start()
        self.server.ctl("stanza", "sendMessage", "--from", "alice@localhost", "--to", "bob@localhost",
                        "--body", "before 0")
        self.assertEqual(len(self.kafka.consume("chat", 2)), 2)
        # The broker says the head-of-line request is out of sequence: librdkafka can no longer
        # vouch for order and once-ness and raises a fatal error.
        self.kafka.cmd("request_errors", "Produce", 1, "OUT_OF_ORDER_SEQUENCE_NUMBER")
        self.server.ctl("stanza", "sendMessage", "--from", "alice@localhost", "--to", "bob@localhost",
                        "--body", "lost 0")
        self.assertTrue(wait_for(lambda: stats(self.server)["restarts"] == 1), stats(self.server))
        self.assertIn("fatal producer error", self.server.log_text())
        s = stats(self.server)
        self.assertGreaterEqual(s["failed"], 1, s)
        for i in range(5):
            self.server.ctl("stanza", "sendMessage", "--from", "alice@localhost", "--to", "bob@localhost",
                            "--body", f"after {i}")
        recs = [r for r in self.kafka.consume("chat", 12, timeout=10) if r["json"]["message"].startswith("after")]
        self.assertEqual(len(recs), 10)
        check_order(self, recs, "after")
        self.assertTrue(self.server.alive())

    def test_full_queue_drops_and_counts(self):
        self.start(max_queue_len=10)
        self.kafka.cmd("broker_down", 1)
        for i in range(8):  # 16 events: 10 queued, 6 dropped
            self.server.ctl("stanza", "sendMessage", "--from", "alice@localhost", "--to", "bob@localhost",
                            "--body", f"m {i}")
        s = stats(self.server)
        self.assertEqual((s["produced"], s["dropped"], s["queued"]), (10, 6, 10), s)
        self.assertIn("the producer queue is full", self.server.log_text())
        self.kafka.cmd("broker_up", 1)
        self.assertEqual(len(self.kafka.consume("chat", 10, timeout=20)), 10)
        self.assertTrue(wait_for(lambda: stats(self.server)["delivered"] == 10), stats(self.server))
        time.sleep(0.3)
        self.assertEqual(self.kafka.count("chat"), 10)

    def stop_and_log(self):
        server, self.server = self.server, None
        t0 = time.time()
        server.stop(keep=True)
        took = time.time() - t0
        with open(os.path.join(server.dir, "aviary.log")) as f:
            log = f.read()
        shutil.rmtree(server.dir, ignore_errors=True)
        return took, log

    def test_clean_stop_flushes_slow_brokers(self):
        self.start(flush_timeout=20000)
        alice, bob = self.sessions()
        self.kafka.cmd("rtt", 1, 1500)
        for i in range(25):
            chat(alice, "bob@localhost/raw", f"late {i}", i)
        bob.read_until("late 24<")
        self.assertLess(stats(self.server)["delivered"], 50)
        alice.close()
        bob.close()
        took, log = self.stop_and_log()
        self.assertIn("delivered 50, failed 0, dropped 0, queued 0", log)
        self.assertNotIn("not delivered within the flush timeout", log)
        self.assertGreater(took, 0.5)  # it did wait for the broker
        self.kafka.cmd("rtt", 1, 0)
        recs = self.kafka.consume("chat", 50, timeout=10)
        self.assertEqual(len(recs), 50)
        check_order(self, recs, "late")

    def test_flush_timeout_bounds_the_stop(self):
        self.start(flush_timeout=500)
        self.kafka.cmd("broker_down", 1)
        for i in range(3):
            self.server.ctl("stanza", "sendMessage", "--from", "alice@localhost", "--to", "bob@localhost",
                            "--body", f"m {i}")
        took, log = self.stop_and_log()
        self.assertLess(took, 5)
        self.assertIn("6 event(s) not delivered within the flush timeout (500 ms) at stop", log)
        self.assertIn("delivered 0, failed 6, dropped 0", log)


if __name__ == "__main__":
    unittest.main()
