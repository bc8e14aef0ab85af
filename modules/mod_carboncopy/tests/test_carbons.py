"""End-to-end XEP-0280 Message Carbons against the real aviary (raw clients, exact XML).

alice logs in three times: r1 (priority 10) and r2 (priority 0) enable carbons, r3 does not;
bob logs in once.
- bob -> alice (bare): r1 gets the message, r2 a <received/> carbon, r3 nothing;
- bob -> alice/r2 (full): r2 gets it, r1 a <received/> carbon;
- alice/r1 -> bob: bob gets it, r2 a <sent/> carbon, r1 and r3 nothing;
- <private/> + <no-copy/> (either direction) and <disable/> stop the copies;
- disco#info of the server lists urn:xmpp:carbons:2 (with mod_disco);
- enable/disable errors: IQ get (bad-request), another user's account (not-allowed);
- a closed carbons-enabled session gets no copies and breaks nothing; a session replacing
  another one with the same resource starts without carbons.
"""
import os
import sys
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
from harness import RawClient, Server  # noqa: E402

CLIENT = "{jabber:client}"
CARBONS = "urn:xmpp:carbons:2"
FORWARD = "urn:xmpp:forward:0"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


class Xmpp:
    """A logged-in raw client that parses what it receives into ElementTree elements."""

    def __init__(self, server, user, resource, priority=None):
        self.jid = f"{user}@localhost/{resource}"
        self.raw = RawClient(server.plain_port).login(user, resource=resource)
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.parser.feed("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
        self.depth = 0
        self.inbox = []
        self._feed(self.raw.buf)
        self.raw.buf = b""
        self.n = 0
        if priority is not None:
            self.send(f"<presence><priority>{priority}</priority></presence>")

    def _feed(self, data):
        self.parser.feed(data)
        for ev, el in self.parser.read_events():
            if ev == "start":
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth == 1:
                    self.inbox.append(el)

    def send(self, xml):
        self.raw.send(xml)

    def next(self, timeout=10):
        end = time.time() + timeout
        while not self.inbox:
            left = end - time.time()
            if left <= 0:
                raise AssertionError(f"{self.jid}: nothing received in {timeout} s")
            self.raw.s.settimeout(left)
            try:
                data = self.raw.s.recv(65536)
            except OSError:
                raise AssertionError(f"{self.jid}: nothing received in {timeout} s")
            if not data:
                raise AssertionError(f"{self.jid}: connection closed")
            self._feed(data)
        return self.inbox.pop(0)

    def iq(self, payload, type_="set", to=None):
        self.n += 1
        i = f"q{self.n}"
        to_attr = f" to='{to}'" if to else ""
        self.send(f"<iq type='{type_}' id='{i}'{to_attr}>{payload}</iq>")
        while True:
            el = self.next()
            if el.tag == CLIENT + "iq" and el.get("id") == i:
                return el
            self.inbox_skipped = getattr(self, "inbox_skipped", []) + [el]

    def barrier(self):
        """Returns what arrived before the answer to an IQ sent now (anything routed to this
        session earlier is written before that answer)."""
        self.n += 1
        i = f"b{self.n}"
        self.send(f"<iq type='get' id='{i}' to='localhost'><query xmlns='urn:example:barrier'/></iq>")
        got = []
        while True:
            el = self.next()
            if el.tag == CLIENT + "iq" and el.get("id") == i:
                return got
            got.append(el)

    def close(self):
        try:
            self.raw.send("</stream:stream>")
        except OSError:
            pass
        self.raw.close()


def text_of(el, path):
    x = el.find(path)
    return None if x is None else x.text


class CarbonsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_modules="  mod_disco: {}\n  mod_carboncopy: {}\n")
        for u in ("alice", "bob"):
            cls.server.register(u)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.r1 = Xmpp(self.server, "alice", "r1", priority=10)
        self.r2 = Xmpp(self.server, "alice", "r2", priority=0)
        self.r3 = Xmpp(self.server, "alice", "r3", priority=0)
        self.bob = Xmpp(self.server, "bob", "b", priority=0)
        for c in (self.r1, self.r2):
            r = c.iq(f"<enable xmlns='{CARBONS}'/>")
            self.assertEqual(r.get("type"), "result", ET.tostring(r))
        for c in (self.r1, self.r2, self.r3, self.bob):
            self.assertEqual(c.barrier(), [])

    def tearDown(self):
        for c in (self.r1, self.r2, self.r3, self.bob):
            c.close()

    def assert_carbon(self, el, kind, to, inner_from, inner_to, body):
        self.assertEqual(el.tag, CLIENT + "message", ET.tostring(el))
        self.assertEqual(el.get("from"), "alice@localhost")
        self.assertEqual(el.get("to"), to)
        self.assertEqual(el.get("type"), "chat")
        wrapper = el.find(f"{{{CARBONS}}}{kind}")
        self.assertIsNotNone(wrapper, ET.tostring(el))
        inner = wrapper.find(f"{{{FORWARD}}}forwarded/{CLIENT}message")
        self.assertIsNotNone(inner, ET.tostring(el))
        self.assertEqual(inner.get("from"), inner_from)
        self.assertEqual(inner.get("to"), inner_to)
        self.assertEqual(text_of(inner, CLIENT + "body"), body)

    def test_received_to_bare_jid(self):
        self.bob.send("<message to='alice@localhost' type='chat' id='m1'><body>hello bare</body></message>")
        m = self.r1.next()
        self.assertEqual(m.tag, CLIENT + "message")
        self.assertEqual(text_of(m, CLIENT + "body"), "hello bare")
        self.assertIsNone(m.find(f"{{{CARBONS}}}received"))
        self.assert_carbon(self.r2.next(), "received", "alice@localhost/r2", "bob@localhost/b", "alice@localhost",
                           "hello bare")
        self.assertEqual(self.r1.barrier(), [])
        self.assertEqual(self.r2.barrier(), [])
        self.assertEqual(self.r3.barrier(), [])  # carbons not enabled there

    def test_received_to_full_jid(self):
        self.bob.send("<message to='alice@localhost/r2' type='chat'><body>hello r2</body></message>")
        self.assertEqual(text_of(self.r2.next(), CLIENT + "body"), "hello r2")
        self.assert_carbon(self.r1.next(), "received", "alice@localhost/r1", "bob@localhost/b",
                           "alice@localhost/r2", "hello r2")
        self.assertEqual(self.r2.barrier(), [])
        self.assertEqual(self.r3.barrier(), [])

    def test_sent(self):
        self.r1.send("<message to='bob@localhost' type='chat'><body>from r1</body></message>")
        self.assertEqual(text_of(self.bob.next(), CLIENT + "body"), "from r1")
        self.assert_carbon(self.r2.next(), "sent", "alice@localhost/r2", "alice@localhost/r1", "bob@localhost",
                           "from r1")
        self.assertEqual(self.r1.barrier(), [])  # never to the sender itself
        self.assertEqual(self.r3.barrier(), [])

    def test_sent_by_a_session_without_carbons(self):
        self.r3.send("<message to='bob@localhost' type='chat'><body>from r3</body></message>")
        self.assertEqual(text_of(self.bob.next(), CLIENT + "body"), "from r3")
        self.assert_carbon(self.r1.next(), "sent", "alice@localhost/r1", "alice@localhost/r3", "bob@localhost",
                           "from r3")
        self.assert_carbon(self.r2.next(), "sent", "alice@localhost/r2", "alice@localhost/r3", "bob@localhost",
                           "from r3")

    def test_private_stops_copies(self):
        priv = f"<private xmlns='{CARBONS}'/><no-copy xmlns='urn:xmpp:hints'/>"
        self.r1.send(f"<message to='bob@localhost' type='chat'><body>secret out</body>{priv}</message>")
        self.assertEqual(text_of(self.bob.next(), CLIENT + "body"), "secret out")
        self.bob.send(f"<message to='alice@localhost' type='chat'><body>secret in</body>{priv}</message>")
        self.assertEqual(text_of(self.r1.next(), CLIENT + "body"), "secret in")
        self.assertEqual(self.r2.barrier(), [])
        self.assertEqual(self.r1.barrier(), [])

    def test_ineligible_messages(self):
        # groupchat (bounced by the router, never copied), headline, normal without a body.
        self.bob.send("<message to='alice@localhost/r1' type='headline'><body>news</body></message>")
        self.assertEqual(text_of(self.r1.next(), CLIENT + "body"), "news")
        self.bob.send("<message to='alice@localhost/r1'><thread>t</thread></message>")
        self.assertEqual(self.r1.next().find(CLIENT + "thread").text, "t")
        self.assertEqual(self.r2.barrier(), [])
        # A normal message with a chat state is eligible.
        self.bob.send("<message to='alice@localhost/r1'><active xmlns='http://jabber.org/protocol/chatstates'/></message>")
        self.r1.next()
        c = self.r2.next()
        self.assertIsNotNone(c.find(f"{{{CARBONS}}}received"), ET.tostring(c))
        self.assertIsNone(c.get("type"))  # the wrapper keeps the original's type (normal)

    def test_disable(self):
        r = self.r2.iq(f"<disable xmlns='{CARBONS}'/>")
        self.assertEqual(r.get("type"), "result")
        r = self.r2.iq(f"<disable xmlns='{CARBONS}'/>")  # twice is not an error
        self.assertEqual(r.get("type"), "result")
        self.bob.send("<message to='alice@localhost' type='chat'><body>after disable</body></message>")
        self.assertEqual(text_of(self.r1.next(), CLIENT + "body"), "after disable")
        self.r1.send("<message to='bob@localhost' type='chat'><body>reply</body></message>")
        self.bob.next()
        self.assertEqual(self.r2.barrier(), [])
        # Enabled again: copies again.
        self.assertEqual(self.r2.iq(f"<enable xmlns='{CARBONS}'/>").get("type"), "result")
        self.r1.send("<message to='bob@localhost' type='chat'><body>again</body></message>")
        self.assert_carbon(self.r2.next(), "sent", "alice@localhost/r2", "alice@localhost/r1", "bob@localhost",
                           "again")

    def test_errors(self):
        r = self.r3.iq(f"<enable xmlns='{CARBONS}'/>", type_="get")
        self.assertEqual(r.get("type"), "error")
        self.assertIsNotNone(r.find(f"{CLIENT}error/{{{STANZAS}}}bad-request"), ET.tostring(r))
        r = self.r3.iq(f"<enable xmlns='{CARBONS}'/>", to="bob@localhost")
        self.assertEqual(r.get("type"), "error")
        self.assertIsNotNone(r.find(f"{CLIENT}error/{{{STANZAS}}}not-allowed"), ET.tostring(r))
        r = self.r3.iq(f"<private xmlns='{CARBONS}'/>")
        self.assertIsNotNone(r.find(f"{CLIENT}error/{{{STANZAS}}}bad-request"), ET.tostring(r))
        # r3 still gets no copies, bob's carbons are untouched.
        self.bob.send("<message to='alice@localhost' type='chat'><body>x</body></message>")
        self.r1.next()
        self.r2.next()
        self.assertEqual(self.r3.barrier(), [])

    def test_closed_session(self):
        self.r2.close()
        time.sleep(0.3)  # let the server see the close
        self.bob.send("<message to='alice@localhost' type='chat'><body>r2 gone</body></message>")
        self.assertEqual(text_of(self.r1.next(), CLIENT + "body"), "r2 gone")
        self.r1.send("<message to='bob@localhost' type='chat'><body>still here</body></message>")
        self.assertEqual(text_of(self.bob.next(), CLIENT + "body"), "still here")
        self.assertEqual(self.r1.barrier(), [])
        self.assertEqual(self.r3.barrier(), [])
        # A new r2 without carbons gets nothing.
        self.r2 = Xmpp(self.server, "alice", "r2", priority=0)
        self.r1.send("<message to='bob@localhost' type='chat'><body>new r2</body></message>")
        self.bob.next()
        self.assertEqual(self.r2.barrier(), [])
        self.assertTrue(self.server.alive())

    def test_disco_feature(self):
        r = self.r3.iq("<query xmlns='http://jabber.org/protocol/disco#info'/>", type_="get", to="localhost")
        self.assertEqual(r.get("type"), "result", ET.tostring(r))
        features = [f.get("var") for f in r.iter("{http://jabber.org/protocol/disco#info}feature")]
        self.assertIn(CARBONS, features)

    def test_resource_conflict(self):
        # A new session with r1's resource replaces the old one: it starts without carbons,
        # and the old one closing afterwards does not undo what the new one enables.
        old = self.r1
        self.r1 = Xmpp(self.server, "alice", "r1", priority=10)
        old.close()
        self.bob.send("<message to='alice@localhost/r2' type='chat'><body>one</body></message>")
        self.assertEqual(text_of(self.r2.next(), CLIENT + "body"), "one")
        self.assertEqual(self.r1.barrier(), [])
        self.assertEqual(self.r1.iq(f"<enable xmlns='{CARBONS}'/>").get("type"), "result")
        time.sleep(0.3)
        self.bob.send("<message to='alice@localhost/r2' type='chat'><body>two</body></message>")
        self.assertEqual(text_of(self.r2.next(), CLIENT + "body"), "two")
        self.assert_carbon(self.r1.next(), "received", "alice@localhost/r1", "bob@localhost/b",
                           "alice@localhost/r2", "two")


if __name__ == "__main__":
    unittest.main(verbosity=2)
