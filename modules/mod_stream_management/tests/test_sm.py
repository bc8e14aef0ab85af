"""End-to-end XEP-0198 Stream Management (urn:xmpp:sm:3) against the real aviary, raw clients.

ResumeTest (resume_timeout 60):
- <sm/> is advertised after authentication; <enable/> before binding fails (unexpected-request);
- <enable resume='true'/> -> <enabled id resume='true' max='60'/>; <r/> -> <a h/> counting the
  client's stanzas; a stanza written to the client is followed by <r/> (ack_freq 1);
- the socket dies without </stream:stream>; messages to the full JID are kept; a new
  connection authenticates, sends <resume previd h/> -> <resumed previd h/>, then the stanzas
  the client never acknowledged, in order; the connection is then bound as the old full JID;
- a wrong previd -> <failed><item-not-found/></failed>, and binding still works after it;
- an ack of more stanzas than were sent ends the stream (undefined-condition).
ExpiryTest (resume_timeout 2, buffer_max 3, mod_offline):
- a session not resumed in time: its unacknowledged messages (and those that arrived while it
  was detached) go to offline storage and arrive at the next login; its previd then fails;
- a clean </stream:stream>: the unacknowledged messages are stored offline at once;
- more than buffer_max unacknowledged stanzas: stream error resource-constraint, and the
  messages are not lost either.
"""
import base64
import os
import re
import socket
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import RawClient, Server  # noqa: E402

SM = "urn:xmpp:sm:3"


def authed(server, user):
    """A raw connection authenticated as user, stream restarted; returns (client, features)."""
    c = RawClient(server.plain_port)
    c.open_stream()
    token = base64.b64encode(f"\0{user}\0secret".encode()).decode()
    c.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
    r = c.read_until("</success>", "</failure>")
    assert "<success" in r, r
    return c, c.open_stream()


def bind(c, resource):
    c.send(f"<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
           f"<resource>{resource}</resource></bind></iq>")
    r = c.read_until("</iq>")
    assert "type='result'" in r or 'type="result"' in r, r


def enable(c, max_expected):
    c.send(f"<enable xmlns='{SM}' resume='true'/>")
    r = c.read_until("/>")
    assert "<enabled" in r, r
    assert "resume='true'" in r and f"max='{max_expected}'" in r, r
    return re.search(r"id='([^']+)'", r).group(1)


def kill(c):
    """Drop the TCP connection without closing the XML stream."""
    try:
        c.s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    c.s.close()


def msg(to, body, i):
    return f"<message to='{to}' type='chat' id='m{i}'><body>{body}</body></message>"


def bodies(text):
    return re.findall(r"<body>([^<]*)</body>", text)


class ResumeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_modules="  mod_stream_management: {resume_timeout: 60}\n  mod_csi: {}\n")
        for u in ("alice", "bob", "carol", "gina"):
            cls.server.register(u)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_enable_before_bind_fails(self):
        c, feats = authed(self.server, "carol")
        self.assertIn(f"<sm xmlns='{SM}'", feats)
        c.send(f"<enable xmlns='{SM}'/>")
        r = c.read_until("</failed>")
        self.assertIn("unexpected-request", r)
        bind(c, "c1")
        c.close()

    def test_resume_after_connection_loss(self):
        a, feats = authed(self.server, "alice")
        self.assertIn(f"<sm xmlns='{SM}'", feats)
        bind(a, "r1")
        smid = enable(a, 60)
        a.send("<presence/>")
        bob = RawClient(self.server.plain_port).login("bob", resource="b")

        bob.send(msg("alice@localhost/r1", "one", 1))
        got = a.read_until(f"<r xmlns='{SM}'/>")
        self.assertEqual(bodies(got), ["one"])
        self.assertLess(got.index("<body>one"), got.index("<r xmlns"))  # the request follows the stanza
        a.send(f"<r xmlns='{SM}'/>")
        self.assertIn("h='1'", a.read_until("/>"))  # the presence
        a.send(f"<a xmlns='{SM}' h='1'/>")  # "one" handled

        bob.send(msg("alice@localhost/r1", "two", 2))
        self.assertEqual(bodies(a.read_until(f"<r xmlns='{SM}'/>")), ["two"])
        kill(a)  # "two" was never acknowledged
        time.sleep(0.5)
        bob.send(msg("alice@localhost/r1", "three", 3))
        bob.send(msg("alice@localhost/r1", "four", 4))
        time.sleep(0.3)

        # wrong previd first, on another connection: failed, then binding still works
        w, _ = authed(self.server, "alice")
        w.send(f"<resume xmlns='{SM}' previd='nope{smid}' h='0'/>")
        r = w.read_until("</failed>")
        self.assertIn("item-not-found", r)
        bind(w, "other")
        w.close()

        a2, _ = authed(self.server, "alice")
        a2.send(f"<resume xmlns='{SM}' previd='{smid}' h='1'/>")
        r = a2.read_until("<body>four</body>")
        m = re.search(r"<resumed[^>]*/>", r)
        self.assertIsNotNone(m, r)
        self.assertIn(f"previd='{smid}'", m.group(0))
        self.assertIn("h='1'", m.group(0))
        self.assertEqual(bodies(r[m.end():]), ["two", "three", "four"])

        # bound as alice@localhost/r1 again: new messages arrive, counting goes on
        bob.send(msg("alice@localhost/r1", "five", 5))
        got = a2.read_until(f"<r xmlns='{SM}'/>")
        self.assertEqual(bodies(got), ["five"])
        a2.send(f"<a xmlns='{SM}' h='5'/>")
        a2.send(f"<r xmlns='{SM}'/>")
        self.assertIn("h='1'", a2.read_until("/>"))
        # an IQ round trip shows the session is bound with the old JID
        a2.send("<iq type='get' id='v1' to='alice@localhost/r1'><query xmlns='jabber:iq:version'/></iq>")
        self.assertIn("</iq>", a2.read_until("</iq>"))
        a2.send(f"<r xmlns='{SM}'/>")
        self.assertIn("h='2'", a2.read_until(f"xmlns='{SM}' h='2'/>"))

        # the old id resumed once; the still-open connection may be resumed again (takeover)
        a3, _ = authed(self.server, "alice")
        a3.send(f"<resume xmlns='{SM}' previd='{smid}' h='5'/>")
        r = a3.read_until("/>")
        self.assertIn("<resumed", r)
        self.assertIn("conflict", a2.read_to_close())
        bob.send(msg("alice@localhost/r1", "six", 6))
        self.assertEqual(bodies(a3.read_until("<body>six</body>")), ["six"])
        a3.close()
        bob.close()

    def test_csi_held_stanzas_are_counted(self):
        g, feats = authed(self.server, "gina")
        if "urn:xmpp:csi:0" not in feats:
            self.skipTest("mod_csi not built or not offered")
        bind(g, "r1")
        smid = enable(g, 60)
        g.send("<inactive xmlns='urn:xmpp:csi:0'/>")
        bob = RawClient(self.server.plain_port).login("bob", resource="b9")
        bob.send("<message to='gina@localhost/r1' type='chat'>"
                 "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>")  # held by CSI
        time.sleep(0.3)
        bob.send(msg("gina@localhost/r1", "urgent", 1))  # writes the held one, then itself
        got = g.read_until("<body>urgent</body>")
        self.assertIn("composing", got)
        g.send(f"<a xmlns='{SM}' h='1'/>")  # the chat state only
        g.send(f"<r xmlns='{SM}'/>")
        g.read_until("h='0'/>")  # gina sent no stanza
        kill(g)
        time.sleep(0.5)
        g2, _ = authed(self.server, "gina")
        g2.send(f"<resume xmlns='{SM}' previd='{smid}' h='1'/>")
        # h counted the held chat state as stanza 1: only "urgent" (2) is sent again
        r = g2.read_until("<body>urgent</body>")
        self.assertIn("<resumed", r)
        self.assertNotIn("composing", r[r.index("<resumed"):])
        g2.close()
        bob.close()

    def test_ack_too_high_ends_stream(self):
        c, _ = authed(self.server, "carol")
        bind(c, "c2")
        enable(c, 60)
        c.send(f"<a xmlns='{SM}' h='7'/>")
        r = c.read_to_close()
        self.assertIn("undefined-condition", r)


class ExpiryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_modules="  mod_offline: {}\n"
                                          "  mod_stream_management: {resume_timeout: 2, buffer_max: 3}\n")
        for u in ("dave", "erin", "frank", "bob"):
            cls.server.register(u)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def online(self, user, resource):
        c, _ = authed(self.server, user)
        bind(c, resource)
        return c

    def stored(self, user):
        db = sqlite3.connect(os.path.join(self.server.dir, "data", "aviary.db"), timeout=10)
        try:
            return db.execute("SELECT COUNT(*) FROM offline_message WHERE server = 'localhost' "
                              "AND username = ?", (user,)).fetchone()[0]
        finally:
            db.close()

    def offline_delivery(self, user, expected, within=10):
        # mod_offline stores asynchronously: wait for the rows before logging in
        end = time.time() + within
        while self.stored(user) < len(expected) and time.time() < end:
            time.sleep(0.05)
        self.assertEqual(self.stored(user), len(expected))
        c = self.online(user, "later")
        c.send("<presence/>")
        got = c.read_until(f"<body>{expected[-1]}</body>")
        self.assertEqual(bodies(got), expected)
        c.close()

    def test_expired_session_goes_offline(self):
        d = self.online("dave", "r1")
        smid = enable(d, 2)
        d.send("<presence/>")
        bob = RawClient(self.server.plain_port).login("bob", resource="b1")
        bob.send(msg("dave@localhost/r1", "hello", 1))
        d.read_until("<body>hello</body>")
        kill(d)
        time.sleep(0.5)
        bob.send(msg("dave@localhost/r1", "while away", 2))
        time.sleep(3.5)  # resume_timeout 2 s
        late, _ = authed(self.server, "dave")
        late.send(f"<resume xmlns='{SM}' previd='{smid}' h='0'/>")
        self.assertIn("item-not-found", late.read_until("</failed>"))
        late.close()
        self.offline_delivery("dave", ["hello", "while away"])
        bob.close()

    def test_clean_close_reroutes_at_once(self):
        e = self.online("erin", "r1")
        enable(e, 2)
        e.send("<presence/>")
        bob = RawClient(self.server.plain_port).login("bob", resource="b2")
        bob.send(msg("erin@localhost/r1", "unacked", 1))
        e.read_until("<body>unacked</body>")
        e.send("</stream:stream>")
        e.read_to_close()
        self.offline_delivery("erin", ["unacked"], within=1.5)  # at once, not after resume_timeout (2 s)
        bob.close()

    def test_buffer_overflow(self):
        f = self.online("frank", "r1")
        enable(f, 2)
        f.send("<presence/>")
        bob = RawClient(self.server.plain_port).login("bob", resource="b3")
        for i in range(4):
            bob.send(msg("frank@localhost/r1", f"n{i}", i))
        r = f.read_to_close()
        self.assertIn("resource-constraint", r)
        self.offline_delivery("frank", ["n0", "n1", "n2", "n3"])
        bob.close()


if __name__ == "__main__":
    unittest.main()
