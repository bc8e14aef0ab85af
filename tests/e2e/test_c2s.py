"""End-to-end c2s tests against the real aviary binary, with slixmpp clients.

- alice and bob log in with SCRAM-SHA-256 over STARTTLS (required) and chat both ways;
- `aviaryctl stanza sendMessage` reaches online bob, through the same routing;
- a message to a bare JID reaches the highest-priority resource; IQ to nobody: service-unavailable;
- a second login with the same resource replaces the first (<conflict/>);
- garbage XML and a 1 MB stanza get stream errors while alice and bob keep chatting;
- direct TLS (port 5223 style) logs in too.
"""
import asyncio
import logging
import os
import re
import socket
import ssl
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import RawClient, Server  # noqa: E402

import slixmpp  # noqa: E402

logging.basicConfig(level=os.environ.get("E2E_LOGLEVEL", "WARNING"))
TIMEOUT = 15


class Client(slixmpp.ClientXMPP):
    """A slixmpp client that records what it receives."""

    def __init__(self, jid, password="secret", mech="SCRAM-SHA-256", priority=0):
        super().__init__(jid, password, sasl_mech=mech)
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.priority = priority
        self.inbox = asyncio.Queue()
        self.stream_errors = []
        self.started = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self._on_start)
        self.add_event_handler("message", lambda m: self.inbox.put_nowait(m))
        self.add_event_handler("failed_auth", lambda *_: self._fail("authentication failed"))
        self.add_event_handler("stream_error", lambda e: self.stream_errors.append(e))

    def _fail(self, why):
        if not self.started.done():
            self.started.set_exception(AssertionError(why))

    async def _on_start(self, _):
        self.send_presence(ppriority=self.priority)
        if not self.started.done():
            self.started.set_result(True)

    async def login(self, port):
        self.connect(("127.0.0.1", port), force_starttls=True)
        await asyncio.wait_for(self.started, TIMEOUT)
        return self

    def mech(self):
        m = self.plugin["feature_mechanisms"].mech
        return m.name if m else None

    async def expect(self, body=None, timeout=TIMEOUT):
        while True:
            m = await asyncio.wait_for(self.inbox.get(), timeout)
            if body is None or m["body"] == body:
                return m

    async def quit(self):
        self.disconnect()
        try:
            await asyncio.wait_for(self.disconnected, 5)
        except (asyncio.TimeoutError, TypeError):
            pass


class C2sTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        for u in ("alice", "bob", "carol"):
            cls.server.register(u)

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        assert code == 0, f"aviary exited with {code} on SIGTERM"

    async def asyncSetUp(self):
        self.clients = []

    async def asyncTearDown(self):
        for c in self.clients:
            await c.quit()
        self.assertTrue(self.server.alive(), self.server.log_text())

    async def client(self, jid, port=None, **kw):
        c = Client(jid, **kw)
        self.clients.append(c)
        return await c.login(port or self.server.port)

    async def chat_round(self, a, b, tag):
        a.send_message(mto="bob@localhost", mbody=f"hello bob {tag}", mtype="chat")
        m = await b.expect(f"hello bob {tag}")
        self.assertEqual(m["from"].bare, "alice@localhost")
        b.send_message(mto=str(m["from"]), mbody=f"hi alice {tag}", mtype="chat")
        m = await a.expect(f"hi alice {tag}")
        self.assertEqual(str(m["from"]), str(b.boundjid))

    async def test_scram_sha256_starttls_chat_both_ways(self):
        a = await self.client("alice@localhost/phone")
        b = await self.client("bob@localhost/desk")
        self.assertEqual(a.mech(), "SCRAM-SHA-256")
        self.assertTrue(a.is_connected() and b.is_connected())
        await self.chat_round(a, b, "1")

    async def test_scram_sha1_and_wrong_password(self):
        a = await self.client("alice@localhost/sha1", mech="SCRAM-SHA-1")
        self.assertEqual(a.mech(), "SCRAM-SHA-1")
        bad = Client("bob@localhost/x", password="wrong")
        self.clients.append(bad)
        with self.assertRaises(AssertionError):
            await bad.login(self.server.port)

    async def test_aviaryctl_send_message_reaches_online_bob(self):
        b = await self.client("bob@localhost/ctl")
        r = self.server.ctl("stanza", "sendMessage", "--from", "alice@localhost", "--to", "bob@localhost",
                            "--body", "from the admin")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = await b.expect("from the admin")
        self.assertEqual(m["from"].bare, "alice@localhost")
        self.assertEqual(m["type"], "chat")

    async def test_bare_jid_goes_to_highest_priority(self):
        low = await self.client("carol@localhost/low", priority=1)
        high = await self.client("carol@localhost/high", priority=10)
        a = await self.client("alice@localhost/prio")
        await asyncio.sleep(0.2)  # both presences processed
        a.send_message(mto="carol@localhost", mbody="to the best", mtype="chat")
        await high.expect("to the best")
        with self.assertRaises(asyncio.TimeoutError):
            await low.expect("to the best", timeout=0.5)

    async def test_unhandled_iq_gets_service_unavailable(self):
        a = await self.client("alice@localhost/iq")
        iq = a.make_iq_get(queryxmlns="urn:example:nobody", ito="localhost")
        with self.assertRaises(slixmpp.exceptions.IqError) as cm:
            await iq.send(timeout=TIMEOUT)
        self.assertEqual(cm.exception.condition, "service-unavailable")

    async def test_same_resource_replaces_old_session(self):
        old = await self.client("bob@localhost/same")
        await self.client("bob@localhost/same")
        for _ in range(100):
            if old.stream_errors or not old.is_connected():
                break
            await asyncio.sleep(0.05)
        self.assertTrue(old.stream_errors, "the replaced session got no stream error")
        self.assertIn("conflict", str(old.stream_errors[0]))

    async def test_bad_input_gets_stream_errors_while_others_chat(self):
        a = await self.client("alice@localhost/steady")
        b = await self.client("bob@localhost/steady")
        await self.chat_round(a, b, "before")

        garbage = RawClient(self.server.plain_port)
        garbage.open_stream()
        garbage.send("<message><body>unclosed</bodyx></message>")
        out = garbage.read_to_close()
        self.assertIn("<not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", out)
        self.assertIn("</stream:stream>", out)

        big = RawClient(self.server.plain_port).login("carol", resource="big")
        big.send("<message to='bob@localhost' type='chat'><body>" + "x" * (1 << 20) + "</body></message>")
        out = big.read_to_close()
        self.assertIn("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", out)

        pre_auth = RawClient(self.server.plain_port)
        pre_auth.send("<?xml version='1.0'?><!DOCTYPE foo [<!ENTITY x 'y'>]><stream:stream>")
        self.assertIn("restricted-xml", pre_auth.read_to_close())

        wrong_ns = RawClient(self.server.plain_port)
        wrong_ns.send("<stream:stream to='localhost' xmlns='jabber:server' "
                      "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
        self.assertIn("invalid-namespace", wrong_ns.read_to_close())

        for c in (garbage, big, pre_auth, wrong_ns):
            c.close()
        await self.chat_round(a, b, "after")
        self.assertTrue(a.is_connected() and b.is_connected())

    async def test_plain_refused_without_tls(self):
        c = RawClient(self.server.port)
        features = c.open_stream()
        self.assertIn("<required/>", features)
        self.assertNotIn("PLAIN", features)
        c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHNlY3JldA==</auth>")
        self.assertIn("policy-violation", c.read_to_close())
        c.close()

    async def test_generated_resource_and_legacy_session(self):
        import base64
        c = RawClient(self.server.plain_port)
        c.open_stream()
        token = base64.b64encode(b"\0carol\0secret").decode()
        c.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
        self.assertIn("<success", c.read_until("</success>", "</failure>"))
        features = c.open_stream()
        self.assertIn("urn:ietf:params:xml:ns:xmpp-bind", features)
        # RFC 3921 session: advertised as optional (RFC 6121 keeps it for old clients).
        self.assertIn("urn:ietf:params:xml:ns:xmpp-session", features)
        # Bind without asking for a resource: the server makes one (RFC 6120 7.6).
        c.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
        r = c.read_until("</iq>")
        self.assertIn("type='result'", r.replace('"', "'"))
        m = re.search(r"<jid>carol@localhost/([^<]+)</jid>", r)
        self.assertTrue(m, r)
        self.assertGreaterEqual(len(m.group(1)), 8)
        c.send("<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>")
        r = c.read_until("</iq>", "/>")
        self.assertIn("s1", r)
        self.assertIn("result", r)
        # The session works: a message to the generated full JID arrives.
        self.server.ctl("stanza", "sendMessage", "--from", "alice@localhost", "--to",
                        f"carol@localhost/{m.group(1)}", "--body", "to the generated resource")
        c.read_until("to the generated resource")
        c.close()

    async def test_direct_tls(self):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        raw = socket.create_connection(("127.0.0.1", self.server.tls_port), timeout=10)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        s.sendall(b"<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "
                  b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
        data = b""
        while b"</stream:features>" not in data:
            chunk = s.recv(4096)
            self.assertTrue(chunk, data)
            data += chunk
        self.assertIn(b"SCRAM-SHA-256", data)
        self.assertIn(b"PLAIN", data)  # offered over TLS
        s.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
