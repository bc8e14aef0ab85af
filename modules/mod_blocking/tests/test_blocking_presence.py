"""mod_blocking with mod_roster and mod_presence (XEP-0191 3.3/3.4): blocking a subscribed
contact sends them unavailable presence, presence broadcasts to them stop, unblocking sends
the current presence. Skipped when those modules are not built."""
import os
import re
import socket
import time
import unittest

import harness
from harness import RawClient, Server

NEEDED = ("mod_roster.so", "mod_presence.so")
DIRS = [d for d in harness.MODULE_PATH.split(":") if d]
HAVE = all(any(os.path.exists(os.path.join(d, m)) for d in DIRS) for m in NEEDED)

def attr_is(xml, name, value):
    head = xml[:xml.index(">") + 1] if ">" in xml else xml
    return re.search(rf"""\s{name}=(['"]){re.escape(value)}\1""", head) is not None


def next_stanza(c, timeout=10):
    """The next top-level stanza on a logged-in RawClient (as text)."""
    end = time.time() + timeout
    while True:
        text = c.buf.decode(errors="replace")
        m = re.search(r"<(iq|message|presence)\b", text)
        if m:
            gt = text.find(">", m.start())
            stop = -1
            if gt > 0 and text[gt - 1] == "/":
                stop = gt + 1
            elif gt > 0:
                close = text.find(f"</{m.group(1)}>", gt)
                if close >= 0:
                    stop = close + len(m.group(1)) + 3
            if stop > 0:
                c.buf = text[stop:].encode()
                return text[m.start():stop]
        c.s.settimeout(max(0.01, end - time.time()))
        try:
            chunk = c.s.recv(65536)
        except socket.timeout:
            raise AssertionError(f"timeout waiting for a stanza; got {c.buf[-500:]!r}")
        if not chunk:
            raise AssertionError(f"connection closed; got {c.buf[-500:]!r}")
        c.buf += chunk


def wait_iq(c, id_, timeout=10):
    """Reads stanzas until the IQ with that id; others are kept in c.others."""
    while True:
        s = next_stanza(c, timeout)
        if s.startswith("<iq") and attr_is(s, "id", id_):
            return s
        c.__dict__.setdefault("others", []).append(s)


NS = "urn:xmpp:blocking"


def items(xml):
    return re.findall(r"""<item jid=['"]([^'"]+)['"]""", xml)


def wait_for(c, pred, timeout=10):
    """Next stanza matching pred (earlier ones are kept in c.others)."""
    end = time.time() + timeout
    for s in list(c.__dict__.get("others", [])):
        if pred(s):
            c.others.remove(s)
            return s
    while True:
        s = next_stanza(c, max(0.05, end - time.time()))
        if pred(s):
            return s
        c.__dict__.setdefault("others", []).append(s)


def is_message_from(who, body):
    return lambda s: s.startswith("<message") and attr_is(s, "from", who) and f"<body>{body}</body>" in s



def presence_from(who, unavailable=None):
    def pred(s):
        if not s.startswith("<presence") or not attr_is(s, "from", who):
            return False
        if unavailable is None:
            return True
        return attr_is(s, "type", "unavailable") == unavailable
    return pred


@unittest.skipUnless(HAVE, "mod_roster / mod_presence are not built")
class BlockingPresenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_modules="  mod_roster: {}\n  mod_presence: {}\n  mod_blocking: {}\n")
        for u in ("alice", "bob"):
            cls.server.register(u)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def client(self, user, resource):
        c = RawClient(self.server.plain_port).login(user, resource=resource)
        c.send("<presence/>")
        self.addCleanup(c.close)
        return c

    def test_presence_on_block_and_unblock(self):
        alice, bob = self.client("alice", "a1"), self.client("bob", "b1")
        alice.send("<presence to='bob@localhost' type='subscribe'/>")
        wait_for(bob, lambda s: s.startswith("<presence") and attr_is(s, "type", "subscribe"))
        bob.send("<presence to='alice@localhost' type='subscribed'/>")
        wait_for(alice, presence_from("bob@localhost/b1", unavailable=False))

        bob.send(f"<iq type='set' id='blk'><block xmlns='{NS}'><item jid='alice@localhost'/></block></iq>")
        self.assertTrue(attr_is(wait_iq(bob, "blk"), "type", "result"))
        wait_for(alice, presence_from("bob@localhost/b1", unavailable=True))

        bob.send("<presence><show>away</show><status>hidden</status></presence>")
        time.sleep(0.5)
        try:
            wait_for(alice, presence_from("bob@localhost/b1"), timeout=0.5)
            self.fail("alice got bob's presence while blocked")
        except AssertionError as e:
            if "timeout" not in str(e):
                raise

        bob.send(f"<iq type='set' id='ub'><unblock xmlns='{NS}'><item jid='alice@localhost'/></unblock></iq>")
        self.assertTrue(attr_is(wait_iq(bob, "ub"), "type", "result"))
        p = wait_for(alice, presence_from("bob@localhost/b1", unavailable=False))
        self.assertIn("<show>away</show>", p)
        self.assertIn("<status>hidden</status>", p)


if __name__ == "__main__":
    unittest.main(verbosity=2)
