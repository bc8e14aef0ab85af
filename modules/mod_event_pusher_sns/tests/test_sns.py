"""mod_event_pusher_sns end to end: a real aviary publishes to a recording HTTP server on
loopback (tests/e2e/http_sink.py) standing in for SNS (option sns_endpoint), while the signed
Host stays sns_host.

- presence (online/offline), chat sent (pm topic) and groupchat sent (muc topic) become one
  SNS Publish each: exact method, path, headers and body (Action=Publish, MessageStructure=json
  with the "default" key, TopicArn, Version), the event JSON with bare lowercased JIDs, and an
  AWS SigV4 signature recomputed here independently (hmac/hashlib) from the recorded request;
- received, body-less and headline messages make none; a topic that is not configured
  disables its events;
- a failed publish (500, 410, no response) is retried publish_retry_count times with backoff,
  then given up; counters; the server and the chat keep working while the sink is down;
- start failures: a missing required option, another plugin_module, a bad sns_endpoint.
"""
import hashlib
import hmac
import json
import os
import re
import sys
import time
import unittest
import urllib.parse
import warnings
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "e2e"))
from harness import RawClient, Server  # noqa: E402
from http_sink import HttpSink  # noqa: E402

# The harness leaves the log of a server that failed to start open; not this test's concern.
warnings.simplefilter("ignore", ResourceWarning)
sys.warnoptions.append("ignore::ResourceWarning")  # and unittest keeps that filter

HOST = "sns.eu-west-1.amazonaws.com"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:"


def sns_module(endpoint, topics=None, extra=""):
    topics = topics if topics is not None else {
        "presence_updates_topic": "user_presence_updated",
        "pm_messages_topic": "user_message_sent",
        "muc_messages_topic": "user_messagegroup_sent"}
    lines = "".join(f"      {k}: {v}\n" for k, v in topics.items())
    return ("  mod_event_pusher:\n    sns:\n" + lines +
            f"      sns_host: {HOST}\n      region: {REGION}\n      access_key_id: {KEY_ID}\n"
            f"      secret_access_key: {SECRET}\n      account_id: {ACCOUNT}\n"  # unquoted: a YAML number
            f"      pool_size: 4\n      sns_endpoint: '{endpoint}'\n" + extra)


def stats(server):
    return server.ctl("event_pusher", "snsStats").stdout.strip()


def counter(text, name):
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


def send_message(server, body, to="bob@localhost"):
    server.ctl("stanza", "sendMessage", "--from", "alice@localhost", "--to", to, "--body", body)


# ---- an independent SigV4 check (AWS docs, "Create a signed AWS API request") ----

def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _sha256(data):
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()


def _uri_encode(s):
    return urllib.parse.quote(s, safe="-._~")


def expected_signature(req, secret, region, service):
    """Recomputes the signature of a recorded request from its Authorization header's scope
    and signed headers. Returns (signature, signed_headers, credential)."""
    auth = req.header("authorization")
    m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([a-z0-9;-]+), "
                     r"Signature=([0-9a-f]{64})", auth or "")
    assert m, f"not a SigV4 Authorization header: {auth!r}"
    credential, signed, _ = m.groups()
    amz_date = req.header("x-amz-date")
    date = amz_date[:8]
    path, _, query = req.path.partition("?")
    pairs = sorted((_uri_encode(urllib.parse.unquote(k)), _uri_encode(urllib.parse.unquote(v)))
                   for k, _, v in (p.partition("=") for p in query.split("&") if p))
    canonical_query = "&".join(f"{k}={v}" for k, v in pairs)
    canonical_headers = "".join(f"{h}:{' '.join(req.header(h).split())}\n" for h in signed.split(";"))
    canonical_request = "\n".join([req.method, _uri_encode(path).replace("%2F", "/"), canonical_query,
                                   canonical_headers, signed, _sha256(req.body)])
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, _sha256(canonical_request)])
    k = _hmac(("AWS4" + secret).encode(), date)
    for part in (region, service, "aws4_request"):
        k = _hmac(k, part)
    return hmac.new(k, string_to_sign.encode(), hashlib.sha256).hexdigest(), signed, credential


def form_encode(pairs):
    return "&".join(f"{_uri_encode(k)}={_uri_encode(v)}" for k, v in pairs).encode()


class Publish(unittest.TestCase):
    def assert_publish(self, req, topic, event_json):
        """req is exactly the SNS Publish of event_json (a str, byte for byte) to topic."""
        self.assertEqual(req.method, "POST")
        self.assertEqual(req.path, "/")
        self.assertEqual(req.header_names(),
                         ["authorization", "content-length", "content-type", "host", "x-amz-date"], req.headers)
        self.assertEqual(req.header("host"), HOST)  # the signed Host, not the endpoint's
        self.assertEqual(req.header("content-type"), "application/x-www-form-urlencoded; charset=utf-8")
        self.assertEqual(req.header("content-length"), str(len(req.body)))
        amz_date = req.header("x-amz-date")
        self.assertRegex(amz_date, r"^\d{8}T\d{6}Z$")
        sent_at = time.mktime(time.strptime(amz_date, "%Y%m%dT%H%M%SZ")) - time.timezone
        self.assertLess(abs(sent_at - time.time()), 120)
        # MessageStructure=json with the "default" key AWS requires (MongooseIM omits it).
        message = json.dumps({"default": event_json}, ensure_ascii=False, separators=(",", ":"))
        self.assertEqual(req.body, form_encode([("Action", "Publish"), ("Message", message),
                                                ("MessageStructure", "json"), ("TopicArn", ARN + topic),
                                                ("Version", "2010-03-31")]))
        form = dict(req.form())
        self.assertEqual(json.loads(form["Message"])["default"], event_json)
        signature, signed, credential = expected_signature(req, SECRET, REGION, "sns")
        self.assertEqual(signed, "content-type;host;x-amz-date")
        self.assertEqual(credential, f"{KEY_ID}/{amz_date[:8]}/{REGION}/sns/aws4_request")
        self.assertTrue(req.header("authorization").endswith(f"Signature={signature}"),
                        f"{req.header('authorization')} != {signature}")
        # The check can fail: another secret gives another signature.
        self.assertNotEqual(expected_signature(req, SECRET + "x", REGION, "sns")[0], signature)

    def test_presence_chat_and_groupchat(self):
        with HttpSink() as sink:
            server = Server(extra_modules=sns_module(sink.url))
            try:
                server.register("alice")
                server.register("bob")
                alice = RawClient(server.plain_port).login("alice", resource="Phone")
                bob = RawClient(server.plain_port).login("bob", resource="pc")
                alice.send("<presence/>")
                got = sink.wait_for(1)
                self.assert_publish(got[0], "user_presence_updated", '{"user_id":"alice@localhost","present":true}')
                bob.send("<presence/>")
                sink.wait_for(2)

                # Not published: body-less, headline, normal.
                alice.send("<message type='chat' to='bob@localhost'>"
                           "<active xmlns='http://jabber.org/protocol/chatstates'/></message>")
                alice.send("<message type='headline' to='bob@localhost'><body>news</body></message>")
                alice.send("<message to='bob@localhost'><body>normal</body></message>")
                body = 'hi "Bob" & <all> za\u017c\u00f3\u0142\u0107 \\ 100%'
                alice.send(f"<message type='chat' to='Bob@LocalHost/pc' id='c1'><body>{escape(body)}</body></message>")
                bob.read_until("id='c1'")
                got = sink.wait_for(3)
                self.assert_publish(got[2], "user_message_sent", json.dumps(
                    {"from_user_id": "alice@localhost", "to_user_id": "bob@localhost", "message": body},
                    ensure_ascii=False, separators=(",", ":")))
                # A groupchat message sent to a room: to_user_id is the room's bare JID.
                alice.send("<message type='groupchat' to='Room@muc.localhost/nick' id='g1'><body>hello room</body>"
                           "</message>")
                got = sink.wait_for(4)
                self.assert_publish(got[3], "user_messagegroup_sent",
                                    '{"from_user_id":"alice@localhost","to_user_id":"room@muc.localhost",'
                                    '"message":"hello room"}')
                alice.send("<presence type='unavailable'/>")
                got = sink.wait_for(5)
                self.assert_publish(got[4], "user_presence_updated", '{"user_id":"alice@localhost","present":false}')
                # Nothing else: bob receiving is not published, nor were the other messages.
                sink.assert_quiet(5)
                s = stats(server)
                self.assertEqual(s, "published 5, retried 0, failed 0, dropped 0, queued 0")
                alice.close()
                bob.close()
            finally:
                server.stop()

    def test_only_configured_topics(self):
        with HttpSink() as sink:
            server = Server(extra_modules=sns_module(sink.url, topics={"pm_messages_topic": "pm"}))
            try:
                server.register("alice")
                alice = RawClient(server.plain_port).login("alice")
                alice.send("<presence/>")  # no presence topic
                alice.send("<message type='groupchat' to='room@muc.localhost'><body>x</body></message>")  # no muc topic
                send_message(server, "only this")
                got = sink.wait_for(1)
                self.assert_publish(got[0], "pm", '{"from_user_id":"alice@localhost","to_user_id":"bob@localhost",'
                                                  '"message":"only this"}')
                sink.assert_quiet(1)
                alice.close()
            finally:
                server.stop()


class Retries(unittest.TestCase):
    def test_retried_with_backoff_then_given_up(self):
        with HttpSink() as sink:
            server = Server(extra_modules=sns_module(sink.url, topics={"pm_messages_topic": "pm"},
                                                     extra="      publish_retry_time_ms: 100\n"))
            try:
                sink.respond(500, 500)  # then 200
                send_message(server, "third time lucky")
                got = sink.wait_for(3)
                sink.assert_quiet(3)
                self.assertEqual(len({r.body for r in got}), 1)  # the same publish, signed again each time
                for r in got:
                    Publish.assert_publish(self, r, "pm", '{"from_user_id":"alice@localhost",'
                                                          '"to_user_id":"bob@localhost","message":"third time lucky"}')
                # backoff: 2^0*100 - rand[1,100] = 0..99 ms, then 2^1*100 - rand = 100..199 ms
                self.assertGreaterEqual(got[2].at - got[1].at, 0.1)
                s = stats(server)
                self.assertEqual(s, "published 1, retried 2, failed 0, dropped 0, queued 0")

                sink.clear()
                sink.respond(410, 500, 503)  # every attempt fails: 1 + publish_retry_count (2)
                send_message(server, "doomed")
                sink.wait_for(3)
                sink.assert_quiet(3, duration=0.8)
                s = wait_counter(server, "failed", 1)
                self.assertEqual(s, "published 1, retried 4, failed 1, dropped 0, queued 0")
                self.assertIn("failed (HTTP 410", server.log_text())
            finally:
                server.stop()

    def test_sink_down(self):
        sink = HttpSink()
        server = Server(extra_modules=sns_module(sink.url, topics={"pm_messages_topic": "pm"},
                                                 extra="      publish_retry_count: 1\n      publish_retry_time_ms: 10\n"))
        try:
            server.register("alice")
            server.register("bob")
            alice = RawClient(server.plain_port).login("alice")
            bob = RawClient(server.plain_port).login("bob")
            alice.send("<message type='chat' to='bob@localhost/raw'><body>before</body></message>")
            bob.read_until("before")
            sink.wait_for(1)
            wait_counter(server, "published", 1)
            sink.stop()
            for i in range(5):
                alice.send(f"<message type='chat' to='bob@localhost/raw'><body>during{i}</body></message>")
            bob.read_until("during4")  # chat keeps flowing
            s = wait_counter(server, "failed", 5)
            self.assertEqual(counter(s, "retried"), 5, s)  # each tried twice: publish_retry_count 1
            self.assertTrue(server.alive())
            sink.start()
            alice.send("<message type='chat' to='bob@localhost/raw'><body>after</body></message>")
            got = sink.wait_for(2)
            self.assertIn(b"after", got[1].body)
            wait_counter(server, "published", 2)
            self.assertIn("publishing to SNS works again", server.log_text())
            alice.close()
            bob.close()
        finally:
            server.stop()
            sink.stop()


class StartFailures(unittest.TestCase):
    def start_error(self, modules):
        with self.assertRaises(RuntimeError) as cm:
            Server(extra_modules=modules).stop()
        return str(cm.exception)

    def test_missing_required_option(self):
        modules = sns_module("http://127.0.0.1:9").replace(f"      sns_host: {HOST}\n", "")
        self.assertRegex(self.start_error(modules),
                         r"aviary\.yaml:\d+: modules\.mod_event_pusher_sns: missing required key 'sns_host'")

    def test_other_plugin_module(self):
        err = self.start_error(sns_module("http://127.0.0.1:9", extra="      plugin_module: my_plugin\n"))
        self.assertRegex(err, r"aviary\.yaml:\d+: modules\.mod_event_pusher_sns\.plugin_module: expected one of "
                              r"mod_event_pusher_sns_defaults, got 'my_plugin'")

    def test_bad_endpoint(self):
        err = self.start_error(sns_module("127.0.0.1:9"))
        self.assertIn("sns_endpoint must look like https://host[:port] or http://host[:port], not '127.0.0.1:9'", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
