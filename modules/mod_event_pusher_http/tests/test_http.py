"""mod_event_pusher_http end to end: a real aviary POSTs to a recording HTTP server on loopback
(tests/e2e/http_sink.py).

- a chat message sent from a client session, and one sent with `aviaryctl stanza sendMessage`,
  become exactly one form-encoded POST per handler (MongooseIM's body and content-type, the
  URL host + path_prefix + path); received messages, presence, body-less, headline, normal and
  groupchat messages make none;
- the response status is ignored and nothing is retried; connection errors and timeouts count
  as failed; the server and the chat keep working while the sink is down, and requests resume
  when it is back; a full queue drops and counts;
- HTTPS with the pool's tls options;
- a handler naming a pool that does not exist, or another callback module, fails the start.
"""
import os
import re
import shutil
import sys
import time
import unittest
import warnings
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "e2e"))
from harness import RawClient, Server, make_cert  # noqa: E402
from http_sink import HttpSink  # noqa: E402

FORM = "application/x-www-form-urlencoded"
# The harness leaves the log of a server that failed to start open; not this test's concern.
warnings.simplefilter("ignore", ResourceWarning)
sys.warnoptions.append("ignore::ResourceWarning")  # and unittest keeps that filter


def pool(name, host, workers=2, path_prefix="/", extra=""):
    return (f"    {name}:\n      workers: {workers}\n"
            f"      connection: {{host: '{host}', path_prefix: '{path_prefix}'{extra}}}\n")


def pools(*entries):
    return "  http:\n" + "".join(entries)


def handlers(*items):
    out = "  mod_event_pusher:\n    http:\n      handlers:\n"
    for it in items:
        out += "        - {" + ", ".join(f"{k}: '{v}'" for k, v in it.items()) + "}\n"
    return out


def stats(server):
    return server.ctl("event_pusher", "httpStats").stdout.strip()


def counter(text, name):
    """The first (total) value of counter `name` in httpStats' output."""
    m = re.search(rf"\b{name} (\d+)", text)
    assert m, f"no counter {name} in {text!r}"
    return int(m.group(1))


def wait_counter(server, name, want, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        s = stats(server)
        if counter(s, name) >= want:
            return s
        time.sleep(0.05)
    raise AssertionError(f"{name} did not reach {want}: {stats(server)}")


def chat(sender, to, body, n=0, type_="chat"):
    sender.send(f"<message type='{type_}' to='{to}' id='m{n}'><body>{escape(body)}</body></message>")


def assert_form_post(test, req, path, host, body):
    test.assertEqual(req.method, "POST")
    test.assertEqual(req.path, path)
    test.assertEqual(req.header_names(), ["content-length", "content-type", "host"], req.headers)
    test.assertEqual(req.header("content-type"), FORM)
    test.assertEqual(req.header("host"), host)
    test.assertEqual(req.header("content-length"), str(len(body)))
    test.assertEqual(req.body, body)


class Delivery(unittest.TestCase):
    def test_chat_sent_posts_one_form_per_handler(self):
        with HttpSink() as a, HttpSink() as b:
            server = Server(
                extra_pools=pools(pool("http_pool", a.url, path_prefix="/hook/"), pool("second", b.url + "/")),
                extra_modules=handlers({"path": "/notifications"},
                                       {"pool_name": "second", "path": "alerts",
                                        "callback_module": "mod_event_pusher_http_defaults"}))
            try:
                server.register("alice")
                server.register("bob")
                alice = RawClient(server.plain_port).login("alice", resource="Phone")
                bob = RawClient(server.plain_port).login("bob", resource="pc")
                alice.send("<presence/>")
                bob.send("<presence/>")
                # Not for this transport: body-less (chat state), headline, normal, groupchat.
                alice.send("<message type='chat' to='bob@localhost'>"
                           "<active xmlns='http://jabber.org/protocol/chatstates'/></message>")
                chat(alice, "bob@localhost", "news", 1, type_="headline")
                chat(alice, "bob@localhost", "plain", 2, type_="normal")
                alice.send("<message to='bob@localhost' id='m3'><body>no type</body></message>")
                chat(alice, "Bob@LocalHost", "Hi, Bob! a&b=c 100% za\u017c\u00f3\u0142\u0107 ~*", 4)
                bob.read_until("~*")
                want = (b"author=alice&server=localhost&receiver=bob"
                        b"&message=Hi%2C+Bob%21+a%26b%3Dc+100%25+za%C5%BC%C3%B3%C5%82%C4%87+%7E%2A")
                assert_form_post(self, a.wait_for(1)[0], "/hook/notifications", f"127.0.0.1:{a.port}", want)
                assert_form_post(self, b.wait_for(1)[0], "/alerts", f"127.0.0.1:{b.port}", want)

                # The admin API sends as the user: the same request. Bob is offline now.
                bob.close()
                server.ctl("stanza", "sendMessage", "--from", "alice@localhost", "--to", "bob@localhost",
                           "--body", "are you there?")
                want2 = b"author=alice&server=localhost&receiver=bob&message=are+you+there%3F"
                assert_form_post(self, a.wait_for(2)[1], "/hook/notifications", f"127.0.0.1:{a.port}", want2)
                assert_form_post(self, b.wait_for(2)[1], "/alerts", f"127.0.0.1:{b.port}", want2)
                # Exactly one request per sent message and handler: none for the received side,
                # presence or the other messages.
                alice.send("<presence type='unavailable'/>")
                a.assert_quiet(2)
                b.assert_quiet(2, duration=0.1)
                s = stats(server)
                self.assertEqual((counter(s, "sent"), counter(s, "failed"), counter(s, "dropped")), (4, 0, 0), s)
                self.assertIn("pool http_pool: sent 2", s)
                self.assertIn("pool second: sent 2", s)
                alice.close()
            finally:
                server.stop(keep=True)
            with open(server.log.name) as f:
                self.assertIn("sent 4, failed 0, dropped 0, queued 0", f.read())  # logged at stop
            shutil.rmtree(server.dir, ignore_errors=True)

    def test_status_ignored_nothing_retried(self):
        with HttpSink(statuses=(500, 410, 404)) as sink:
            server = Server(extra_pools=pools(pool("http_pool", sink.url)), extra_modules=handlers({}))
            try:
                for i in range(4):
                    server.ctl("stanza", "sendMessage", "--from", "alice@localhost", "--to", "bob@localhost",
                               "--body", f"n{i}")
                got = sink.wait_for(4)
                self.assertEqual([r.path for r in got], ["/"] * 4)  # path "" after path_prefix "/"
                self.assertEqual(sorted(r.body for r in got),
                                 [f"author=alice&server=localhost&receiver=bob&message=n{i}".encode()
                                  for i in range(4)])
                sink.assert_quiet(4)
                s = wait_counter(server, "sent", 4)
                self.assertEqual(counter(s, "failed"), 0, s)
            finally:
                server.stop()


class Failures(unittest.TestCase):
    def test_sink_down_then_back(self):
        sink = HttpSink()
        server = Server(extra_pools=pools(pool("http_pool", sink.url, workers=1, extra=", request_timeout: 1000")),
                        extra_modules=handlers({"path": "n"}))
        try:
            server.register("alice")
            server.register("bob")
            alice = RawClient(server.plain_port).login("alice")
            bob = RawClient(server.plain_port).login("bob")
            chat(alice, "bob@localhost/raw", "before", 0)
            bob.read_until("before")
            sink.wait_for(1)
            wait_counter(server, "sent", 1)  # answered before the sink goes away
            sink.stop()  # also cuts the kept-alive connection
            for i in range(5):
                chat(alice, "bob@localhost/raw", f"during{i}", i)
            bob.read_until("during4")  # chat keeps flowing
            s = wait_counter(server, "failed", 5)
            self.assertEqual(counter(s, "sent"), 1, s)
            self.assertTrue(server.alive())
            self.assertIn("failed:", server.log_text())  # the first failure is logged

            sink.start()  # same port
            chat(alice, "bob@localhost/raw", "after", 9)
            bob.read_until("after")
            got = sink.wait_for(2)
            self.assertEqual(got[1].body, b"author=alice&server=localhost&receiver=bob&message=after")
            self.assertEqual(got[1].path, "/n")
            wait_counter(server, "sent", 2)
            self.assertIn("requests get through again", server.log_text())
            alice.close()
            bob.close()
        finally:
            server.stop()
            sink.stop()

    def test_request_timeout_and_full_queue(self):
        with HttpSink(delay=1.5) as sink:
            server = Server(
                extra_pools=pools(pool("http_pool", sink.url, workers=1,
                                       extra=", request_timeout: 300, max_queue_len: 2")),
                extra_modules=handlers({}))
            try:
                server.register("alice")
                alice = RawClient(server.plain_port).login("alice")
                # One burst: one request in flight (or about to be), two queued, the rest dropped.
                alice.send("".join(f"<message type='chat' to='bob@localhost' id='b{i}'><body>n{i}</body></message>"
                                   for i in range(8)))
                t0 = time.time()
                s = wait_counter(server, "dropped", 5)
                # Each attempt gives up after request_timeout (300 ms), not after the sink's 1.5 s.
                s = wait_counter(server, "failed", 8 - counter(s, "dropped"))
                self.assertLess(time.time() - t0, 3 * 1.5, "request_timeout not applied")
                self.assertEqual(counter(s, "sent"), 0, s)
                self.assertEqual(counter(s, "failed") + counter(s, "dropped"), 8, s)
                self.assertIn(counter(s, "dropped"), (5, 6), s)
                self.assertIn("queue full (max_queue_len 2)", server.log_text())
                self.assertTrue(server.alive())
                alice.close()
            finally:
                server.stop()


class Https(unittest.TestCase):
    def test_tls_options(self):
        import tempfile
        d = tempfile.mkdtemp(prefix="aviary-http-tls-")
        cert, key = make_cert(d)
        with HttpSink(tls=(cert, key)) as sink:
            server = Server(
                extra_pools=pools(pool("trusted", sink.url, extra=f", tls: {{cacertfile: '{cert}'}}"),
                                  pool("unchecked", sink.url, extra=", tls: {verify_mode: none}"),
                                  pool("untrusted", sink.url, extra=", tls: {verify_mode: peer}")),
                extra_modules=handlers({"pool_name": "trusted", "path": "t"},
                                       {"pool_name": "unchecked", "path": "u"},
                                       {"pool_name": "untrusted", "path": "x"}))
            try:
                server.ctl("stanza", "sendMessage", "--from", "alice@localhost", "--to", "bob@localhost",
                           "--body", "secret")
                got = sink.wait_for(2)
                sink.assert_quiet(2)
                self.assertEqual(sorted(r.path for r in got), ["/t", "/u"])
                for r in got:
                    self.assertEqual(r.body, b"author=alice&server=localhost&receiver=bob&message=secret")
                    self.assertEqual(r.header("host"), f"localhost:{sink.port}")
                s = wait_counter(server, "failed", 1)  # the self-signed certificate is not trusted
                self.assertIn("pool untrusted: sent 0, failed 1", s)
                self.assertEqual(counter(s, "sent"), 2, s)
            finally:
                server.stop()


class StartFailures(unittest.TestCase):
    def start_error(self, extra_pools, extra_modules):
        with self.assertRaises(RuntimeError) as cm:
            Server(extra_pools=extra_pools, extra_modules=extra_modules).stop()
        return str(cm.exception)

    def test_missing_pool(self):
        err = self.start_error(pools(pool("http_pool", "http://127.0.0.1:9")),
                               handlers({}, {"pool_name": "nope", "path": "x"}))
        self.assertIn("handlers[1] uses the pool 'nope', but the config has no outgoing_pools.http.nope", err)

    def test_only_the_default_callback_module(self):
        err = self.start_error(pools(pool("http_pool", "http://127.0.0.1:9")),
                               handlers({"callback_module": "my_callbacks"}))
        self.assertRegex(err, r"aviary\.yaml:\d+: modules\.mod_event_pusher_http\.handlers\[0\]\.callback_module: "
                              r"expected one of mod_event_pusher_http_defaults, got 'my_callbacks'")

    def test_unknown_handler_key_and_bad_host(self):
        err = self.start_error(pools(pool("http_pool", "http://127.0.0.1:9")), handlers({"pool": "x"}))
        self.assertRegex(err, r"aviary\.yaml:\d+: modules\.mod_event_pusher_http\.handlers\[0\]\.pool: unknown key")
        err = self.start_error(pools(pool("http_pool", "127.0.0.1:9")), handlers({}))
        self.assertIn("outgoing_pools.http.http_pool.connection.host must look like http://host[:port]", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
