"""End-to-end XEP-0352 Client State Indication against the real aviary (raw clients).

Needs the host's c2s/nonza hook (sdk/include/aviary/ext/draft/c2s_nonza.h): mod_csi only
advertises <csi xmlns='urn:xmpp:csi:0'/> when the host runs it, and this test SKIPS (with a
message) when the feature is not advertised.

alice/r1 goes <inactive/>; bob sends her presence, chat states, messages and IQs:
- presence and body-less chat states are held; nothing is written meanwhile;
- a message with a body (or an IQ) writes the held stanzas first, in order, then itself;
- <active/> writes what is held, in order; afterwards everything passes at once;
- buffer_max (3 here): the 4th held stanza writes all four;
- a session closing with held stanzas breaks nothing (the server stops cleanly);
- with mod_carboncopy: carbons of chat states are held, a carbon with a body flushes them.
"""
import base64
import os
import sys
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
from harness import RawClient, Server  # noqa: E402

CLIENT = "{jabber:client}"
CSI = "urn:xmpp:csi:0"
CHATSTATES = "http://jabber.org/protocol/chatstates"


class Xmpp:
    """A raw client logged in by hand (to see the post-authentication features) that parses
    what it receives into ElementTree elements."""

    def __init__(self, server, user, resource, priority=0):
        self.jid = f"{user}@localhost/{resource}"
        self.raw = RawClient(server.plain_port)
        self.raw.open_stream()
        token = base64.b64encode(f"\0{user}\0secret".encode()).decode()
        self.raw.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
        r = self.raw.read_until("</success>", "</failure>")
        assert "<success" in r, r
        self.features = self.raw.open_stream()
        self.raw.send(f"<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                      f"<resource>{resource}</resource></bind></iq>")
        self.raw.read_until("</iq>")
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.parser.feed("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
        self.depth = 0
        self.inbox = []
        self._feed(self.raw.buf)
        self.raw.buf = b""
        self.send(f"<presence><priority>{priority}</priority></presence>")

    def has_csi(self):
        return f"<csi xmlns='{CSI}'" in self.features or f'<csi xmlns="{CSI}"' in self.features

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

    def _recv(self, timeout):
        self.raw.s.settimeout(timeout)
        try:
            data = self.raw.s.recv(65536)
        except OSError:
            return False
        if not data:
            raise AssertionError(f"{self.jid}: connection closed")
        self._feed(data)
        return True

    def next(self, timeout=10):
        end = time.time() + timeout
        while not self.inbox:
            left = end - time.time()
            if left <= 0 or not self._recv(left):
                raise AssertionError(f"{self.jid}: nothing received in {timeout} s")
        return self.inbox.pop(0)

    def take(self, n, timeout=10):
        return [self.next(timeout) for _ in range(n)]

    def quiet(self, seconds=0.7):
        """Asserts nothing arrives for `seconds`."""
        end = time.time() + seconds
        while not self.inbox and time.time() < end:
            self._recv(max(0.01, end - time.time()))
        if self.inbox:
            raise AssertionError(f"{self.jid}: unexpected {[ET.tostring(e) for e in self.inbox]}")

    def sync(self):
        """Sends an IQ to the server and waits for its answer: what this client sent before is
        processed (an IQ answer is urgent, it is never held)."""
        self.send("<iq type='get' id='sync' to='localhost'><query xmlns='urn:example:sync'/></iq>")
        el = self.next()
        assert el.tag == CLIENT + "iq" and el.get("id") == "sync", ET.tostring(el)

    def inactive(self):
        self.send(f"<inactive xmlns='{CSI}'/>")
        self.sync()

    def close(self):
        try:
            self.raw.send("</stream:stream>")
        except OSError:
            pass
        self.raw.close()


def label(el):
    """A short name for a received stanza: its id."""
    return el.get("id")


class CsiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_modules="  mod_csi: {buffer_max: 3}\n")
        for u in ("alice", "bob"):
            cls.server.register(u)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.alice = Xmpp(self.server, "alice", "r1")
        if not self.alice.has_csi():
            self.alice.close()
            self.skipTest("the server does not advertise <csi xmlns='urn:xmpp:csi:0'/> (mod_csi needs the host's "
                          "c2s/nonza hook and av.sessions/1 send_to; see ext/draft/c2s_nonza.h)")
        self.bob = Xmpp(self.server, "bob", "b")
        self.to = "alice@localhost/r1"

    def tearDown(self):
        for c in (getattr(self, "alice", None), getattr(self, "bob", None)):
            if c:
                c.close()

    def presence(self, i):
        self.bob.send(f"<presence to='{self.to}' id='{i}'/>")

    def chatstate(self, i):
        self.bob.send(f"<message to='{self.to}' type='chat' id='{i}'><composing xmlns='{CHATSTATES}'/></message>")

    def body(self, i):
        self.bob.send(f"<message to='{self.to}' type='chat' id='{i}'><body>{i}</body></message>")

    def test_urgent_message_flushes_in_order(self):
        self.alice.inactive()
        self.presence("p1")
        self.chatstate("c1")
        self.alice.quiet()
        self.body("m1")
        self.assertEqual([label(e) for e in self.alice.take(3)], ["p1", "c1", "m1"])
        # Still inactive: held again.
        self.chatstate("c2")
        self.alice.quiet()
        self.bob.send(f"<iq type='get' id='iq1' to='{self.to}'><ping xmlns='urn:xmpp:ping'/></iq>")
        got = self.alice.take(2)
        self.assertEqual([label(e) for e in got], ["c2", "iq1"])
        self.assertEqual(got[1].tag, CLIENT + "iq")

    def test_active_flushes_in_order(self):
        self.alice.inactive()
        self.chatstate("c1")
        self.presence("p1")
        self.chatstate("c2")
        self.alice.quiet()
        self.alice.send(f"<active xmlns='{CSI}'/>")
        got = self.alice.take(3)
        self.assertEqual([label(e) for e in got], ["c1", "p1", "c2"])
        self.assertIsNotNone(got[0].find(f"{{{CHATSTATES}}}composing"))
        # Active: passes at once.
        self.chatstate("c3")
        self.assertEqual(label(self.alice.next(timeout=5)), "c3")
        # <active/> twice, and <active/> without <inactive/>, are fine.
        self.alice.send(f"<active xmlns='{CSI}'/>")
        self.presence("p2")
        self.assertEqual(label(self.alice.next(timeout=5)), "p2")

    def test_buffer_max(self):
        self.alice.inactive()
        for i in ("c1", "c2", "c3"):
            self.chatstate(i)
        self.alice.quiet()
        self.presence("p4")
        self.assertEqual([label(e) for e in self.alice.take(4)], ["c1", "c2", "c3", "p4"])
        self.chatstate("c5")
        self.alice.quiet()
        self.alice.send(f"<active xmlns='{CSI}'/>")
        self.assertEqual(label(self.alice.next()), "c5")

    def test_close_while_holding(self):
        self.alice.inactive()
        self.chatstate("c1")
        self.presence("p1")
        self.alice.quiet(0.3)
        self.alice.close()
        self.alice = None
        time.sleep(0.3)
        self.assertTrue(self.server.alive())
        # Another session of alice is not affected.
        other = Xmpp(self.server, "alice", "r2")
        self.bob.send("<message to='alice@localhost/r2' type='chat' id='x'><composing "
                      f"xmlns='{CHATSTATES}'/></message>")
        self.assertEqual(label(other.next()), "x")
        other.close()


class CsiCarbonsTest(unittest.TestCase):
    """With mod_carboncopy: carbons of chat states are held, carbons of messages with a body
    are urgent and flush what was held before them."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_modules="  mod_carboncopy: {}\n  mod_csi: {}\n")
        for u in ("alice", "bob"):
            cls.server.register(u)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_carbons_of_chat_states_are_held(self):
        r1 = Xmpp(self.server, "alice", "r1")
        if not r1.has_csi():
            r1.close()
            self.skipTest("the server does not advertise <csi xmlns='urn:xmpp:csi:0'/> (host c2s/nonza missing)")
        r2 = Xmpp(self.server, "alice", "r2")
        bob = Xmpp(self.server, "bob", "b")
        try:
            r1.send("<iq type='set' id='en'><enable xmlns='urn:xmpp:carbons:2'/></iq>")
            self.assertEqual(r1.next().get("id"), "en")
            r1.inactive()
            r2.send(f"<message to='bob@localhost' type='chat' id='s1'><composing xmlns='{CHATSTATES}'/></message>")
            self.assertEqual(label(bob.next()), "s1")
            r1.quiet()
            r2.send("<message to='bob@localhost' type='chat' id='s2'><body>hi</body></message>")
            self.assertEqual(label(bob.next()), "s2")
            got = r1.take(2)
            inner = [e.find("{urn:xmpp:carbons:2}sent/{urn:xmpp:forward:0}forwarded/{jabber:client}message")
                     for e in got]
            self.assertEqual([i.get("id") for i in inner], ["s1", "s2"])
        finally:
            for c in (r1, r2, bob):
                c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
