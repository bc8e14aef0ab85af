"""plugins-contrib/mod_event_pusher_filter (built against the installed SDK by run_oot.sh) in
front of the in-tree mod_event_pusher_rabbit, with a real RabbitMQ on loopback: only presence
events reach the broker, each with the filter's metadata (timestamp, session_count) merged into
MongooseIM's JSON; chat events are dropped before the transport."""
import json
import os
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from harness import RabbitMqServer, RawClient, Server  # noqa: E402


def drain(ch, queue, want, timeout=10):
    out, end = [], time.time() + timeout
    while len(out) < want and time.time() < end:
        method, _props, body = ch.basic_get(queue, auto_ack=True)
        if method is None:
            time.sleep(0.05)
            continue
        out.append((method.routing_key, json.loads(body)))
    return out


class FilterTest(unittest.TestCase):
    def test_only_presence_with_metadata(self):
        with RabbitMqServer() as mq:
            server = Server(extra_pools=mq.pool, extra_modules=(
                "  mod_event_pusher_filter: {}\n"
                "  mod_event_pusher:\n    rabbit:\n      presence_exchange: {}\n      chat_msg_exchange: {}\n"))
            try:
                ch = mq.channel()
                for q, x in (("pres", "presence"), ("chat", "chat_msg")):
                    ch.queue_declare(q, exclusive=True)
                    ch.queue_bind(q, x, routing_key="#")
                for u in ("alice", "bob"):
                    server.register(u)
                before = int(time.time() * 1e6)
                alice = RawClient(server.plain_port).login("alice", resource="phone")
                alice.send("<presence/>")
                got = drain(ch, "pres", 1)
                self.assertEqual(len(got), 1, got)
                key, body = got[0]
                self.assertEqual(key, "alice@localhost")
                self.assertEqual(body["user_id"], "alice@localhost/phone")
                self.assertIs(body["present"], True)
                self.assertEqual(body["session_count"], 1)
                self.assertIsInstance(body["timestamp"], int)
                self.assertGreaterEqual(body["timestamp"], before)
                self.assertLessEqual(body["timestamp"], int(time.time() * 1e6))
                self.assertEqual(set(body), {"user_id", "present", "timestamp", "session_count"})
                # Chat events are dropped by the filter: nothing reaches the chat exchange.
                server.ctl("stanza", "sendMessage", "--from", "alice@localhost", "--to", "bob@localhost",
                           "--body", "hello")
                alice.send("<message type='chat' to='bob@localhost'><body>hi</body></message>")
                time.sleep(1)
                self.assertEqual(drain(ch, "chat", 1, timeout=0.5), [])
                stats = server.ctl("event_pusher", "rabbitStats").stdout
                self.assertIn("published 1,", stats)
                alice.close()
                got = drain(ch, "pres", 1)
                self.assertEqual(len(got), 1, got)
                self.assertIs(got[0][1]["present"], False)
                self.assertIn("session_count", got[0][1])
                ch.connection.close()
            finally:
                server.stop(keep=True)
            with open(os.path.join(server.dir, "aviary.log")) as f:
                log = f.read()
            shutil.rmtree(server.dir, ignore_errors=True)
            self.assertIn("mod_event_pusher_filter] stopping: kept 2 event(s), dropped 4", log)


if __name__ == "__main__":
    unittest.main()
