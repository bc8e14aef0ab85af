"""mod_blocking with mod_roster and mod_presence (XEP-0191 3.3/3.4): blocking a subscribed
contact sends them unavailable presence, presence broadcasts to them stop, unblocking sends
the current presence. Skipped when those modules are not built."""
import os
import re
import time
import unittest

import harness
from harness import RawClient, Server, attr_is, next_stanza, wait_iq

NEEDED = ("mod_roster.so", "mod_presence.so")
DIRS = [d for d in harness.MODULE_PATH.split(":") if d]
HAVE = all(any(os.path.exists(os.path.join(d, m)) for d in DIRS) for m in NEEDED)

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
