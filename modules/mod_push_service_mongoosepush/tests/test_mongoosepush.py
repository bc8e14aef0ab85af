"""mod_push_service_mongoosepush end to end, against a recording HTTP server on 127.0.0.1
(tests/e2e/http_sink.py) standing in for MongoosePush, with mod_event_pusher_push making the
notifications:

- v2 path under a path_prefix; a slow MongoosePush does not slow message routing; a request
  over request_timeout and a MongoosePush that is down are errors that keep the registration,
  and requests flow again once it is back; a burst of notifications all arrive;
- a registration without device_id is not for this service (skipped, no request);
- a request in flight at shutdown does not hold the server up;
- start-up fails with the reason when pool_name names no pool.
"""
import json
import os
import re
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import RawClient, Server  # noqa: E402
from http_sink import HttpSink  # noqa: E402

NS_PUSH = "urn:xmpp:push:0"
PUBLISH_OPTIONS = "http://jabber.org/protocol/pubsub#publish-options"


def enable_iq(id_, node, fields):
    x = (f"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>{PUBLISH_OPTIONS}</value></field>"
         + "".join(f"<field var='{k}'><value>{v}</value></field>" for k, v in fields) + "</x>")
    return f"<iq type='set' id='{id_}'><enable xmlns='{NS_PUSH}' jid='push.localhost' node='{node}'>{x}</enable></iq>"


def counter(text, name):
    m = re.search(rf"\b{re.escape(name)} (\d+)", text)
    assert m, f"no counter {name} in {text!r}"
    return int(m.group(1))


class MongoosePushTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = HttpSink()
        pools = (f"  http:\n    mp:\n      workers: 4\n      connection: {{host: '{cls.sink.url}',"
                 f" path_prefix: /api/, request_timeout: 700}}\n")
        modules = ("  mod_event_pusher:\n    push:\n      virtual_pubsub_hosts: ['push.@HOST@']\n"
                   "  mod_push_service_mongoosepush: {pool_name: mp, api_version: v2, max_http_connections: 8}\n")
        try:
            cls.server = Server(extra_pools=pools, extra_modules=modules)
        except BaseException:
            cls.sink.stop()
            raise
        cls.server.register("bob")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.sink.stop()

    def setUp(self):
        self.sink.clear()
        self.sink.delay = 0.0

    def registered_offline(self, user, fields):
        """Registers `user`, enables push with `fields`, and leaves it without a session."""
        self.server.register(user)
        c = RawClient(self.server.plain_port).login(user)
        c.send(enable_iq("en", "node-" + user, fields))
        r = c.read_until("</iq>", "/>")
        self.assertIn("type='result'", r.replace('"', "'"))
        c.close()
        end = time.time() + 10
        while f"{user}@localhost/" in self.server.ctl("session", "listSessions").stdout:
            self.assertLess(time.time(), end, "the session did not end")
            time.sleep(0.05)

    def send(self, to, body):
        t0 = time.monotonic()
        self.server.ctl("stanza", "sendMessage", "--from", "bob@localhost", "--to", to, "--body", body)
        return time.monotonic() - t0

    def stats(self):
        return self.server.ctl("event_pusher", "mongoosepushStats").stdout

    def wait_stat(self, name, want, timeout=10):
        end = time.time() + timeout
        while counter(self.stats(), name) < want and time.time() < end:
            time.sleep(0.05)
        self.assertEqual(counter(self.stats(), name), want, self.stats())

    def test_path_slow_timeout_down_and_back(self):
        self.registered_offline("ann", [("device_id", "ann-dev"), ("service", "fcm"), ("priority", "normal")])
        self.send("ann@localhost", "one")
        req = self.sink.wait_for(1)[0]
        self.assertEqual(req.path, "/api/v2/notification/ann-dev")
        self.assertEqual(req.header("content-type"), "application/json")
        self.assertEqual(json.loads(req.body), {"alert": {"badge": 1, "body": "one", "tag": "bob@localhost",
                                                          "title": "bob@localhost"},
                                                "service": "fcm", "priority": "normal"})

        # Slower than request_timeout: the message is routed at once, the request fails.
        failed = counter(self.stats(), "failed")
        self.sink.delay = 1.5
        took = self.send("ann@localhost", "slow")
        self.assertLess(took, 1.0, "routing waited for MongoosePush")
        self.sink.wait_for(2)
        self.wait_stat("failed", failed + 1)
        self.sink.delay = 0.0

        # Down: a connection error, logged and counted; the registration stays.
        self.sink.stop()
        self.send("ann@localhost", "while down")
        self.wait_stat("failed", failed + 2)
        self.sink.start()
        self.send("ann@localhost", "back")
        reqs = self.sink.wait_for(3)
        self.assertEqual(json.loads(reqs[2].body)["alert"]["body"], "back")
        push = self.server.ctl("event_pusher", "pushStats").stdout
        self.assertEqual(counter(push, "deactivated"), 0, push)

    def test_burst(self):
        self.registered_offline("bea", [("device_id", "bea-dev"), ("service", "apns"), ("silent", "true")])
        ok = counter(self.stats(), "ok")
        for i in range(12):
            self.send("bea@localhost", f"m{i}")
        reqs = self.sink.wait_for(12)
        self.assertEqual(sorted(json.loads(r.body)["data"]["last-message-body"] for r in reqs),
                         sorted(f"m{i}" for i in range(12)))
        self.wait_stat("ok", ok + 12)
        self.assertEqual(counter(self.stats(), "dropped"), 0)

    def test_without_device_id_not_for_this_service(self):
        self.registered_offline("cid", [("service", "fcm")])
        skipped = counter(self.stats(), "skipped")
        self.send("cid@localhost", "nobody")
        self.wait_stat("skipped", skipped + 1)
        self.sink.assert_quiet(0, 0.5)
        push = self.server.ctl("event_pusher", "pushStats").stdout
        self.assertGreaterEqual(counter(push, "hook_unhandled"), 1, push)


class _FailingServer(Server):
    """A Server whose failed start-up leaves no files behind."""

    def start(self):
        try:
            super().start()
        except RuntimeError:
            self.log.close()
            shutil.rmtree(self.dir, ignore_errors=True)
            raise


class Lifecycle(unittest.TestCase):
    def test_stop_with_a_request_in_flight(self):
        """A request still running at shutdown is answered (as an error) within the 2 s grace
        period: the server exits cleanly and promptly (no leak under the sanitizers)."""
        with HttpSink(delay=8.0) as sink:
            pools = f"  http:\n    mp:\n      connection: {{host: '{sink.url}', request_timeout: 20000}}\n"
            modules = ("  mod_event_pusher:\n    push:\n      virtual_pubsub_hosts: ['push.@HOST@']\n"
                       "  mod_push_service_mongoosepush: {pool_name: mp}\n")
            server = Server(extra_pools=pools, extra_modules=modules)
            try:
                server.register("bob")
                server.register("dan")
                c = RawClient(server.plain_port).login("dan")
                c.send(enable_iq("en", "n", [("device_id", "dd"), ("service", "fcm")]))
                c.read_until("</iq>", "/>")
                c.close()
                end = time.time() + 10
                while "dan@localhost/" in server.ctl("session", "listSessions").stdout and time.time() < end:
                    time.sleep(0.05)
                server.ctl("stanza", "sendMessage", "--from", "bob@localhost", "--to", "dan@localhost",
                           "--body", "in flight")
                sink.wait_for(1)
                self.assertEqual(counter(server.ctl("event_pusher", "mongoosepushStats").stdout, "in_flight"), 1)
            finally:
                t0 = time.monotonic()
                server.stop()  # raises on a non-zero exit or a sanitizer report
                self.assertLess(time.monotonic() - t0, 6.0)

    def test_missing_pool(self):
        with self.assertRaises(RuntimeError) as cm:
            _FailingServer(extra_modules="  mod_push_service_mongoosepush: {pool_name: nope}\n")
        self.assertIn("outgoing_pools.http.nope", str(cm.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
