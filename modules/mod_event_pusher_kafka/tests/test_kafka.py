"""mod_event_pusher_kafka end to end against librdkafka's mock cluster (the real Kafka protocol
on 127.0.0.1, run by kafka_mock_tool), consumed with a real librdkafka consumer:

- the release scenario on Kafka: `aviaryctl stanza sendMessage` from alice to an offline bob
  gives exactly two records in the chat topic, the sent one keyed alice@localhost and the
  received one keyed bob@localhost, with headers event_type and host, MongooseIM's JSON as the
  value and the event's time as the record timestamp;
- presence online/offline, chat and groupchat sent/received from client sessions; body-less
  and headline messages make no record; topics not configured get nothing;
- per-user order: two users' messages interleaved, each user's records in one partition (the
  one the Java client's murmur2 partitioner picks) and in order;
- start failures: a property librdkafka refuses (named), an invalid topic name, a missing
  topic, no cluster, no pool.
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import RawClient, Server, free_port  # noqa: E402
from kafka_mock import KafkaMock, java_partition, modules, stats  # noqa: E402


def chat(sender, to, body, n, kind="chat"):
    sender.send(f"<message type='{kind}' to='{to}' id='m{n}'><body>{body}</body></message>")


class ReleaseScenario(unittest.TestCase):
    def test_send_message_to_offline_bob(self):
        with KafkaMock({"chat": 3}) as kafka:
            server = Server(extra_pools=kafka.pool(), extra_modules=modules(chat_msg_topic="chat"))
            try:
                server.register("alice")
                server.register("bob")
                before = int(time.time() * 1000)
                r = server.ctl("stanza", "sendMessage", "--from", "alice@localhost", "--to", "bob@localhost",
                               "--body", "hello")
                self.assertEqual(r.returncode, 0)
                got = kafka.consume("chat", 2)
                self.assertEqual(len(got), 2, got)
                by_type = {rec["headers"]["event_type"]: rec for rec in got}
                self.assertEqual(sorted(by_type), ["chat_msg_recv", "chat_msg_sent"])
                payload = {"to_user_id": "bob@localhost", "from_user_id": "alice@localhost", "message": "hello"}
                sent, recv = by_type["chat_msg_sent"], by_type["chat_msg_recv"]
                self.assertEqual(sent["key"], "alice@localhost")
                self.assertEqual(recv["key"], "bob@localhost")
                for rec in (sent, recv):
                    self.assertEqual(rec["json"], payload)
                    self.assertEqual(rec["headers"], {"event_type": rec["headers"]["event_type"], "host": "localhost"})
                    self.assertLessEqual(before - 1000, rec["timestamp"])
                    self.assertLessEqual(rec["timestamp"], int(time.time() * 1000))
                    self.assertEqual(rec["partition"], java_partition(rec["key"], 3))
                time.sleep(0.5)
                self.assertEqual(kafka.count("chat"), 2, "exactly two records")
                s = stats(server)
                self.assertEqual((s["delivered"], s["failed"], s["dropped"], s["produced"]), (2, 0, 0, 2), s)
            finally:
                server.stop()


class OfflineRedelivery(unittest.TestCase):
    def test_stored_message_makes_no_second_event_and_a_forged_stamp_hides_none(self):
        with KafkaMock({"chat": 1}) as kafka:
            server = Server(extra_pools=kafka.pool(),
                            extra_modules="  mod_offline: {}\n" + modules(chat_msg_topic="chat"))
            try:
                for u in ("alice", "bob"):
                    server.register(u)
                alice = RawClient(server.plain_port).login("alice", resource="a")
                chat(alice, "bob@localhost", "while you were away", 1)  # bob offline: stored
                self.assertEqual(len(kafka.consume("chat", 2)), 2)
                bob = RawClient(server.plain_port).login("bob", resource="b")
                bob.send("<presence/>")
                got = bob.read_until("Offline Storage</delay>")
                self.assertIn("while you were away", got)
                # Delivered from storage: its "received" event was made when it arrived.
                time.sleep(0.5)
                self.assertEqual(kafka.count("chat"), 2)
                # A client cannot hide a message from the event export by stamping it as the
                # server's offline storage would.
                alice.send("<message type='chat' to='bob@localhost' id='f1'><body>forged stamp</body>"
                           "<delay xmlns='urn:xmpp:delay' from='localhost' stamp='2020-01-01T00:00:00Z'>"
                           "Offline Storage</delay></message>")
                bob.read_until("forged stamp")
                recs = kafka.consume("chat", 2)
                self.assertEqual(sorted(r["headers"]["event_type"] for r in recs), ["chat_msg_recv", "chat_msg_sent"])
                self.assertTrue(all(r["json"]["message"] == "forged stamp" for r in recs), recs)
                alice.close()
                bob.close()
            finally:
                server.stop()


class ClientEvents(unittest.TestCase):
    def test_presence_chat_and_groupchat_from_sessions(self):
        with KafkaMock({"presence": 2, "chat": 2, "muc": 2, "unused": 1}) as kafka:
            server = Server(extra_pools=kafka.pool(), extra_modules=modules(
                presence_topic="presence", chat_msg_topic="chat", groupchat_msg_topic="muc"))
            try:
                for u in ("alice", "bob"):
                    server.register(u)
                alice = RawClient(server.plain_port).login("alice", resource="Phone")
                bob = RawClient(server.plain_port).login("bob", resource="pc")
                bob.send("<presence/>")
                self.assertEqual(kafka.consume("presence", 1)[0]["key"], "bob@localhost")
                alice.send("<presence/>")
                [online] = kafka.consume("presence", 1)
                self.assertEqual(online["key"], "alice@localhost")
                self.assertEqual(online["headers"], {"event_type": "presence", "host": "localhost"})
                self.assertEqual(online["json"], {"user_id": "alice@localhost/Phone", "present": True})

                chat(alice, "Bob@LocalHost", "hi bob", 1)
                bob.read_until("hi bob")
                # Chat states (no body) and headlines make no record.
                alice.send("<message type='chat' to='bob@localhost'>"
                           "<active xmlns='http://jabber.org/protocol/chatstates'/></message>")
                alice.send("<message type='headline' to='bob@localhost'><body>news</body></message>")
                bob.read_until("news")
                chat(alice, "bob@localhost", "to the group", 2, kind="groupchat")

                recs = kafka.consume("chat", 2)
                self.assertEqual(sorted((r["headers"]["event_type"], r["key"]) for r in recs),
                                 [("chat_msg_recv", "bob@localhost"), ("chat_msg_sent", "alice@localhost")])
                for r in recs:
                    self.assertEqual(r["json"], {"to_user_id": "bob@localhost", "from_user_id": "alice@localhost/Phone",
                                                 "message": "hi bob"})
                groups = kafka.consume("muc", 2)
                self.assertEqual(sorted((r["headers"]["event_type"], r["key"]) for r in groups),
                                 [("groupchat_msg_recv", "bob@localhost"), ("groupchat_msg_sent", "alice@localhost")])
                self.assertEqual(groups[0]["json"]["message"], "to the group")

                alice.send("<presence type='unavailable'/>")
                [offline] = kafka.consume("presence", 1)
                self.assertEqual(offline["key"], "alice@localhost")
                self.assertEqual(offline["json"], {"user_id": "alice@localhost/Phone", "present": False})

                time.sleep(0.5)
                self.assertEqual(kafka.count("chat"), 2)
                self.assertEqual(kafka.count("muc"), 2)
                self.assertEqual(kafka.count("presence"), 3)
                self.assertEqual(kafka.count("unused"), 0)
                s = stats(server)
                self.assertEqual((s["delivered"], s["failed"], s["dropped"]), (7, 0, 0), s)
                alice.close()
                bob.close()
            finally:
                server.stop()

    def test_only_configured_topics(self):
        with KafkaMock({"presence": 1, "chat": 1}) as kafka:
            server = Server(extra_pools=kafka.pool(), extra_modules=modules(presence_topic="presence"))
            try:
                server.register("alice")
                server.register("bob")
                server.ctl("stanza", "sendMessage", "--from", "alice@localhost", "--to", "bob@localhost",
                           "--body", "not for kafka")
                alice = RawClient(server.plain_port).login("alice")
                alice.send("<presence/>")
                self.assertEqual(kafka.consume("presence", 1)[0]["json"]["present"], True)
                time.sleep(0.5)
                self.assertEqual(kafka.count("chat"), 0)
                self.assertEqual(stats(server)["produced"], 1)
                alice.close()
            finally:
                server.stop()


class PerUserOrder(unittest.TestCase):
    def test_each_users_events_in_order_in_one_partition(self):
        n, parts = 150, 4
        with KafkaMock({"chat": parts}) as kafka:
            server = Server(extra_pools=kafka.pool(), extra_modules=modules(chat_msg_topic="chat"))
            try:
                for u in ("alice", "carol", "bob"):
                    server.register(u)
                alice = RawClient(server.plain_port).login("alice")
                carol = RawClient(server.plain_port).login("carol")
                bob = RawClient(server.plain_port).login("bob")
                for i in range(n):
                    chat(alice, "bob@localhost/raw", f"alice {i}", i)
                    chat(carol, "bob@localhost/raw", f"carol {i}", i)
                seen = ""
                while f"alice {n - 1}<" not in seen or f"carol {n - 1}<" not in seen:
                    seen += bob.read_until(f"alice {n - 1}<", f"carol {n - 1}<", timeout=20)
                recs = kafka.consume("chat", 4 * n, timeout=20)
                self.assertEqual(len(recs), 4 * n)
                by_key = {}
                for r in recs:
                    by_key.setdefault(r["key"], []).append(r)
                self.assertEqual(sorted(by_key), ["alice@localhost", "bob@localhost", "carol@localhost"])
                for key, rs in by_key.items():
                    # One partition per user, the one Java producers would pick for the key.
                    self.assertEqual({r["partition"] for r in rs}, {java_partition(key, parts)}, key)
                    rs.sort(key=lambda r: r["offset"])
                    kinds = {r["headers"]["event_type"] for r in rs}
                    self.assertEqual(kinds, {"chat_msg_recv"} if key == "bob@localhost" else {"chat_msg_sent"})
                    for sender in ("alice", "carol"):
                        seq = [int(r["json"]["message"].split()[1]) for r in rs
                               if r["json"]["message"].startswith(sender)]
                        if key in ("bob@localhost", f"{sender}@localhost"):
                            self.assertEqual(seq, list(range(n)), f"{sender}'s messages under key {key}")
                        else:
                            self.assertEqual(seq, [])
                s = stats(server)
                self.assertEqual((s["delivered"], s["failed"], s["dropped"]), (4 * n, 0, 0), s)
                for c in (alice, carol, bob):
                    c.close()
            finally:
                server.stop()


class StartFailures(unittest.TestCase):
    def expect_start_failure(self, pools, mods, *needles):
        with self.assertRaises(RuntimeError) as cm:
            Server(extra_pools=pools, extra_modules=mods)
        for needle in needles:
            self.assertIn(needle, str(cm.exception))

    def test_bad_property_is_named(self):
        with KafkaMock({"chat": 1}) as kafka:
            self.expect_start_failure(
                kafka.pool(properties={"no.such.property": "1"}), modules(chat_msg_topic="chat"),
                "librdkafka property 'no.such.property' "
                "(outgoing_pools.kafka.event_pusher.connection.properties.no.such.property)",
                "No such configuration property")
            self.expect_start_failure(
                kafka.pool(properties={"acks": "1", "enable.idempotence": "true"}), modules(chat_msg_topic="chat"),
                "librdkafka refused the producer configuration", "acks")

    def test_invalid_and_missing_topics(self):
        with KafkaMock({"chat": 1}) as kafka:
            self.expect_start_failure(kafka.pool(), modules(chat_msg_topic="'chat msgs'"),
                                      "chat_msg_topic: 'chat msgs' is not a valid topic name")
            # The mock creates unknown topics on request; make it answer as a cluster that
            # does not.
            kafka.cmd("topic_error", "gone", "UNKNOWN_TOPIC_OR_PART")
            self.expect_start_failure(kafka.pool(), modules(chat_msg_topic="chat", presence_topic="gone"),
                                      "topic 'gone' does not exist on the Kafka cluster at " + kafka.bootstrap)

    def test_no_cluster(self):
        where = f"127.0.0.1:{free_port()}"
        pool = f"  kafka:\n    event_pusher:\n      connection: {{bootstrap_servers: '{where}'}}\n"
        self.expect_start_failure(pool, modules(chat_msg_topic="chat"),
                                  f"no answer from the Kafka cluster at {where} within 5000 ms")

    def test_pool_missing(self):
        self.expect_start_failure("", modules(chat_msg_topic="chat"), "outgoing_pools.kafka.event_pusher")


if __name__ == "__main__":
    unittest.main()
