"""mod_event_pusher_rabbit end to end, against a real RabbitMQ broker started on loopback
(Debian's rabbitmq-server, tests/scripts/rabbitmq_start.sh), consumed with python3-pika.

- the release scenario: chat_msg_exchange only; the exchange exists after start; a queue bound
  with *.chat_msg_recv receives exactly one message for `aviaryctl stanza sendMessage` from
  alice to an offline bob, with MongooseIM's JSON;
- presence online/offline and chat sent from a real client session, routing keys included;
- publisher confirms on;
- the broker stopped and started again under traffic: no crash, chat keeps flowing between the
  clients, the counters show what failed or dropped, publishing resumes after the restart;
- AMQPS with the broker's certificate verified (host name included); an untrusted one fails the start;
- a start that cannot declare its exchange (type clash, broker gone) fails with the reason.
"""
import json
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import RabbitMqServer, RawClient, Server, make_cert  # noqa: E402

PUSHER = "  mod_event_pusher:\n    rabbit:\n{exchanges}"


def modules(exchanges):
    return PUSHER.format(exchanges=exchanges)


def drain(ch, queue, want, timeout=10):
    """Waits until `queue` has yielded `want` messages; returns [(routing_key, json)]."""
    out, end = [], time.time() + timeout
    while len(out) < want and time.time() < end:
        method, _props, body = ch.basic_get(queue, auto_ack=True)
        if method is None:
            time.sleep(0.05)
            continue
        out.append((method.routing_key, json.loads(body)))
    return out


def bind(ch, queue, exchange, key):
    ch.queue_declare(queue, exclusive=True)
    ch.queue_bind(queue, exchange, routing_key=key)


def stats(server):
    return server.ctl("event_pusher", "rabbitStats").stdout.strip()


def counter(text, name):
    for part in text.replace("(", ",").replace(")", "").split(","):
        words = part.split()
        if len(words) == 2 and words[0] == name:
            return int(words[1])
    raise AssertionError(f"no counter {name} in {text!r}")


def chat(sender, to, body, n):
    sender.send(f"<message type='chat' to='{to}' id='m{n}'><body>{body}</body></message>")


class ReleaseScenario(unittest.TestCase):
    def test_send_message_to_offline_bob(self):
        with RabbitMqServer() as mq:
            server = Server(extra_pools=mq.pool, extra_modules=modules("      chat_msg_exchange: {}\n"))
            try:
                exchanges = mq.ctl("list_exchanges", "name", "type", "durable")
                self.assertIn("chat_msg\ttopic\tfalse", exchanges)
                self.assertNotIn("presence", exchanges)  # only configured exchanges
                ch = mq.channel()
                bind(ch, "recv", "chat_msg", "*.chat_msg_recv")
                server.register("alice")
                server.register("bob")
                r = server.ctl("stanza", "sendMessage", "--from", "alice@localhost", "--to", "bob@localhost",
                               "--body", "hello")
                self.assertEqual(r.returncode, 0)
                got = drain(ch, "recv", 1)
                self.assertEqual(got, [("bob@localhost.chat_msg_recv",
                                        {"to_user_id": "bob@localhost", "from_user_id": "alice@localhost",
                                         "message": "hello"})])
                time.sleep(0.5)
                self.assertEqual(drain(ch, "recv", 1, timeout=0.5), [], "exactly one message")
                ch.connection.close()
                self.assertEqual(counter(stats(server), "published"), 2)  # sent + received
            finally:
                server.stop()


class ClientEvents(unittest.TestCase):
    def test_presence_and_chat_sent_from_a_session(self):
        with RabbitMqServer() as mq:
            server = Server(extra_pools=mq.pool, extra_modules=modules(
                "      presence_exchange: {}\n      chat_msg_exchange: {name: msgs, type: direct, durable: true}\n"
                "      groupchat_msg_exchange: {}\n"))
            try:
                self.assertIn("msgs\tdirect\ttrue", mq.ctl("list_exchanges", "name", "type", "durable"))
                ch = mq.channel()
                bind(ch, "pres", "presence", "alice@localhost")
                bind(ch, "sent", "msgs", "alice@localhost.chat_msg_sent")
                bind(ch, "recv", "msgs", "bob@localhost.chat_msg_recv")
                for u in ("alice", "bob"):
                    server.register(u)
                alice = RawClient(server.plain_port).login("alice", resource="Phone")
                bob = RawClient(server.plain_port).login("bob", resource="pc")
                bob.send("<presence/>")
                alice.send("<presence/>")
                self.assertEqual(drain(ch, "pres", 1),
                                 [("alice@localhost", {"user_id": "alice@localhost/Phone", "present": True})])
                chat(alice, "Bob@LocalHost", "hi bob", 1)
                bob.read_until("hi bob")
                # Chat states and other body-less messages make no event.
                alice.send("<message type='chat' to='bob@localhost'>"
                           "<active xmlns='http://jabber.org/protocol/chatstates'/></message>")
                alice.send("<message type='headline' to='bob@localhost'><body>news</body></message>")
                bob.read_until("news")
                self.assertEqual(drain(ch, "sent", 1), [(
                    "alice@localhost.chat_msg_sent",
                    {"to_user_id": "bob@localhost", "from_user_id": "alice@localhost/Phone", "message": "hi bob"})])
                self.assertEqual(drain(ch, "recv", 1), [(
                    "bob@localhost.chat_msg_recv",
                    {"to_user_id": "bob@localhost", "from_user_id": "alice@localhost/Phone", "message": "hi bob"})])
                alice.send("<presence type='unavailable'/>")
                self.assertEqual(drain(ch, "pres", 1),
                                 [("alice@localhost", {"user_id": "alice@localhost/Phone", "present": False})])
                time.sleep(0.3)
                self.assertEqual(drain(ch, "sent", 1, timeout=0.3), [])
                self.assertEqual(drain(ch, "recv", 1, timeout=0.3), [])
                alice.close()
                bob.close()
                ch.connection.close()
            finally:
                server.stop()

    def test_confirms(self):
        with RabbitMqServer(confirms=True, workers=1) as mq:
            server = Server(extra_pools=mq.pool, extra_modules=modules("      chat_msg_exchange: {}\n"))
            try:
                ch = mq.channel()
                bind(ch, "all", "chat_msg", "#")
                server.register("alice")
                server.register("bob")
                for i in range(20):
                    server.ctl("stanza", "sendMessage", "--from", "alice@localhost", "--to", "bob@localhost",
                               "--body", f"n{i}")
                got = drain(ch, "all", 40)
                self.assertEqual(len(got), 40)
                s = stats(server)
                self.assertEqual(counter(s, "published"), 40, s)
                self.assertEqual(counter(s, "failed"), 0, s)
                self.assertEqual(counter(s, "timeout"), 0, s)
                ch.connection.close()
            finally:
                server.stop()


class Tls(unittest.TestCase):
    def test_amqps_with_a_verified_certificate(self):
        with RabbitMqServer(tls=True, workers=1, confirms=True) as mq:
            server = Server(extra_pools=mq.pool, extra_modules=modules("      chat_msg_exchange: {}\n"))
            try:
                ch = mq.channel()  # plain AMQP for the test's own consumer
                bind(ch, "recv", "chat_msg", "*.chat_msg_recv")
                server.register("alice")
                server.register("bob")
                server.ctl("stanza", "sendMessage", "--from", "alice@localhost", "--to", "bob@localhost",
                           "--body", "over tls")
                self.assertEqual(drain(ch, "recv", 1), [("bob@localhost.chat_msg_recv",
                                                         {"to_user_id": "bob@localhost",
                                                          "from_user_id": "alice@localhost",
                                                          "message": "over tls"})])
                # The workers' connections are AMQPS ones.
                conns = mq.ctl("list_connections", "ssl", "peer_host")
                self.assertIn("true", conns, conns)
                ch.connection.close()
            finally:
                server.stop()

    def test_an_untrusted_certificate_fails_the_start(self):
        with RabbitMqServer(tls=True) as mq:
            other = make_cert(tempfile.mkdtemp(prefix="aviary-other-ca-"))[0]
            pool = mq.pool.replace(mq.cert, other)
            with self.assertRaises(RuntimeError) as cm:
                Server(extra_pools=pool, extra_modules=modules("      chat_msg_exchange: {}\n"))
            self.assertIn("cannot declare the exchanges", str(cm.exception))


class BrokerOutage(unittest.TestCase):
    def test_restart_under_traffic(self):
        with RabbitMqServer(workers=2, max_queue=50) as mq:
            server = Server(extra_pools=mq.pool, extra_modules=modules("      chat_msg_exchange: {}\n"))
            try:
                for u in ("alice", "bob"):
                    server.register(u)
                alice = RawClient(server.plain_port).login("alice")
                bob = RawClient(server.plain_port).login("bob")
                ch = mq.channel()
                bind(ch, "recv", "chat_msg", "*.chat_msg_recv")
                chat(alice, "bob@localhost/raw", "before", 0)
                bob.read_until("before")
                self.assertEqual(len(drain(ch, "recv", 1)), 1)
                ch.connection.close()

                mq.stop_broker()
                # Chat keeps flowing while the broker is away; events fail or drop, counted.
                for i in range(300):
                    chat(alice, "bob@localhost/raw", f"during{i}", i)
                bob.read_until("during299", timeout=30)
                self.assertTrue(server.alive())
                s = stats(server)
                lost = counter(s, "failed") + counter(s, "dropped")
                self.assertGreater(lost, 0, s)
                self.assertLessEqual(counter(s, "queued"), 2 * 50, s)

                mq.start_broker()
                ch = mq.channel()
                # The restarted broker lost the non-durable exchange; the workers declare it again.
                end = time.time() + 30
                while time.time() < end and "chat_msg\ttopic" not in mq.ctl("list_exchanges", "name", "type"):
                    time.sleep(0.2)
                bind(ch, "recv2", "chat_msg", "*.chat_msg_recv")
                published_before = counter(stats(server), "published")
                got = []
                end = time.time() + 30
                n = 0
                while time.time() < end and not any(j["message"].startswith("after") for _, j in got):
                    chat(alice, "bob@localhost/raw", f"after{n}", 1000 + n)
                    bob.read_until(f"after{n}<")
                    n += 1
                    got += drain(ch, "recv2", 1, timeout=0.3)
                self.assertTrue(any(j["message"].startswith("after") for _, j in got), stats(server))
                self.assertGreater(counter(stats(server), "published"), published_before)
                ch.connection.close()
                alice.close()
                bob.close()
            finally:
                server.stop()


class StartFailures(unittest.TestCase):
    def expect_start_failure(self, mq_pool, exchanges, needle):
        with self.assertRaises(RuntimeError) as cm:
            Server(extra_pools=mq_pool, extra_modules=modules(exchanges))
        self.assertIn(needle, str(cm.exception))

    def test_exchange_type_clash(self):
        with RabbitMqServer() as mq:
            ch = mq.channel()
            ch.exchange_declare("chat_msg", exchange_type="direct")
            ch.connection.close()
            self.expect_start_failure(mq.pool, "      chat_msg_exchange: {}\n",
                                      "creating exchanges failed on 127.0.0.1:")

    def test_broker_unreachable(self):
        with RabbitMqServer() as mq:
            pool = mq.pool
        # The broker is gone now: the start says so instead of dropping events silently.
        self.expect_start_failure(pool, "      chat_msg_exchange: {}\n", "cannot declare the exchanges: cannot connect")

    def test_pool_missing(self):
        with self.assertRaises(RuntimeError) as cm:
            Server(extra_modules=modules("      chat_msg_exchange: {}\n"))
        self.assertIn("outgoing_pools.rabbit.event_pusher", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
