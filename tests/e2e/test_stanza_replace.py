"""Stanza hooks replacing the stanza (av_stanza_acc.replace, SDK ABI 1.1), end to end.

The fixture module mod_test_replace (tests/e2e/fixtures/mod_test_replace.cpp) changes
stanzas only by cloning params.stanza and handing the clone back; mod_offline stores what it
is given. On SQLite, raw clients:
- alice -> bob (bare JID, online): bob gets what the hooks made of it: user-send-packet's
  <packet-seen/>, then user-send-message's removal of every <strip-me/> (the result has both,
  so user-send-message saw user-send-packet's replacement), filter-local-packet's <replaced/>
  and a later filter handler's <later saw-replaced='yes'/> (it saw the replacement), and
  user-receive-packet's <received/>;
- a message without a body is left alone;
- a filter handler that replaces and drops: nothing arrives, nothing is stored;
- carol offline: the stored row already holds the filter's replacement (sm/offline-message
  got it), and on login carol gets it, each marker once;
- `aviaryctl stanza sendStanza` (route_as_user) routes the user-send replacement too;
- c2s/nonza ignores a replacement (the element is still handled, the stream goes on);
- the server stops cleanly (no sanitizer report in its log under tests/run-sanitizers.sh).
"""
import os
import re
import sqlite3
import sys
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
from harness import RawClient, Server, next_stanza, wait_iq  # noqa: E402

NS = "urn:aviary:test"
T = "{" + NS + "}"


def markers(stanza):
    """Local names of the urn:aviary:test children, in document order."""
    return [c.tag[len(T):] for c in ET.fromstring(stanza) if c.tag.startswith(T)]


class StanzaReplaceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_modules="  mod_offline: {}\n  mod_test_replace: {}\n")
        for u in ("alice", "bob", "carol", "dave", "erin", "frank", "grace"):
            cls.server.register(u)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def online(self, user, resource):
        """Logged in and available; the IQ round trip makes sure the presence was handled."""
        c = RawClient(self.server.plain_port).login(user, resource=resource)
        self.addCleanup(c.close)
        c.send("<presence/>")
        c.send("<iq type='get' id='sync' to='localhost'><query xmlns='urn:aviary:test:none'/></iq>")
        wait_iq(c, "sync")
        return c

    def stored(self, user):
        db = sqlite3.connect(os.path.join(self.server.dir, "data", "aviary.db"), timeout=10)
        try:
            return [r[0] for r in db.execute("SELECT packet FROM offline_message WHERE server = 'localhost' "
                                             "AND username = ? ORDER BY id", (user,))]
        finally:
            db.close()

    def wait_stored(self, user, n, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            rows = self.stored(user)
            if len(rows) >= n:
                return rows
            time.sleep(0.05)
        self.fail(f"{user}: {n} offline message(s) expected, got {self.stored(user)}")

    def test_send_filter_and_receive_replacements(self):
        alice = self.online("alice", "a1")
        bob = self.online("bob", "b1")
        alice.send(f"<message to='bob@localhost' type='chat' id='m1'><body>hi</body><strip-me xmlns='{NS}'/>"
                   f"<tag-packet xmlns='{NS}'/><strip-me xmlns='{NS}'>again</strip-me></message>")
        m = next_stanza(bob)
        el = ET.fromstring(m)
        self.assertEqual(el.get("id"), "m1")
        self.assertEqual(el.get("from"), "alice@localhost/a1")
        self.assertEqual(el.findtext("body"), "hi")
        self.assertEqual(markers(m), ["tag-packet", "packet-seen", "replaced", "later", "received"], m)
        self.assertEqual(el.find(T + "later").get("saw-replaced"), "yes", m)
        self.assertNotIn("strip-me", m)

    def test_message_without_body_is_left_alone(self):
        alice = self.online("alice", "a2")
        erin = self.online("erin", "e1")
        alice.send("<message to='erin@localhost' type='chat' id='cs1'>"
                   "<active xmlns='http://jabber.org/protocol/chatstates'/></message>")
        m = next_stanza(erin)
        self.assertIn("id='cs1'", m.replace('"', "'"))
        self.assertEqual(markers(m), [], m)

    def test_replaced_and_dropped_arrives_nowhere(self):
        alice = self.online("alice", "a3")
        dave = self.online("dave", "d1")
        alice.send(f"<message to='dave@localhost' type='chat' id='d1'><body>no</body><drop-me xmlns='{NS}'/></message>")
        alice.send("<message to='dave@localhost' type='chat' id='d2'><body>yes</body></message>")
        m = next_stanza(dave)
        self.assertEqual(ET.fromstring(m).get("id"), "d2", m)  # d1 was dropped (routing is in order)
        self.assertEqual(markers(m), ["replaced", "later", "received"], m)
        self.assertEqual(self.stored("dave"), [])

    def test_offline_recipient_gets_the_replacement(self):
        alice = self.online("alice", "a4")
        alice.send(f"<message to='carol@localhost' type='chat' id='o1'><body>later</body>"
                   f"<strip-me xmlns='{NS}'/></message>")
        rows = self.wait_stored("carol", 1)
        self.assertEqual(len(rows), 1, rows)
        # What sm/offline-message got (and mod_offline stored): the filter's last replacement.
        self.assertEqual(markers(rows[0]), ["replaced", "later"], rows[0])
        self.assertEqual(ET.fromstring(rows[0]).find(T + "later").get("saw-replaced"), "yes")
        self.assertNotIn("strip-me", rows[0])
        carol = RawClient(self.server.plain_port).login("carol", resource="c1")
        self.addCleanup(carol.close)
        carol.send("<presence/>")
        m = next_stanza(carol)
        el = ET.fromstring(m)
        self.assertEqual(el.get("id"), "o1", m)
        self.assertEqual(el.findtext("body"), "later")
        self.assertEqual(markers(m), ["replaced", "later", "received"], m)  # each once
        self.assertIsNotNone(el.find("{urn:xmpp:delay}delay"), m)

    def test_admin_send_stanza_routes_the_replacement(self):
        frank = self.online("frank", "f1")
        self.server.ctl("stanza", "sendStanza", "--stanza",
                        f"<message from='alice@localhost/ctl' to='frank@localhost' type='chat' id='c1'>"
                        f"<body>from ctl</body><strip-me xmlns='{NS}'/><tag-packet xmlns='{NS}'/></message>")
        m = next_stanza(frank)
        self.assertEqual(ET.fromstring(m).get("id"), "c1", m)
        self.assertEqual(markers(m), ["tag-packet", "packet-seen", "replaced", "later", "received"], m)

    def test_nonza_replacement_is_ignored(self):
        alice = self.online("alice", "a5")
        grace = self.online("grace", "g1")
        alice.send(f"<test-nonza xmlns='{NS}'/>")  # handled (drop) with a replacement set
        alice.send("<message to='grace@localhost' type='chat' id='n1'><body>still here</body></message>")
        m = next_stanza(grace)
        self.assertEqual(ET.fromstring(m).get("id"), "n1", m)
        self.assertNotIn("stream:error", alice.buf.decode(errors="replace"))
        self.assertTrue(self.server.alive())


if __name__ == "__main__":
    unittest.main()
