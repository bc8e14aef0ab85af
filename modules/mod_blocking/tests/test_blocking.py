# e2e: also-pgsql
# e2e: also-mysql
"""mod_blocking end to end (XEP-0191): bob blocks alice -> alice's message and IQ do not
reach bob (service-unavailable), bob's message to alice gets not-acceptable + <blocked/>,
pushes reach bob's second resource, unblock and unblock-all restore delivery, the list is
loaded from SQL for an offline user, account removal deletes the rows."""
import os
import re
import subprocess
import time
import unittest

import harness
from harness import PgServer, RawClient, Server, attr_is, next_stanza, wait_iq, want_pg

# MySQL/MariaDB runs (ctest *_mysql) when the harness offers them.
MariaDbServer = getattr(harness, "MariaDbServer", None)
want_mysql = getattr(harness, "want_mysql", lambda: False)
# mod_disco is another module: the disco check runs when it is built next to this one.
DISCO = any(os.path.exists(os.path.join(d, "mod_disco.so")) for d in harness.MODULE_PATH.split(":") if d)
DISCO_MOD = "  mod_disco: {}\n" if DISCO else ""

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


class BlockingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer() if want_pg() else None
        cls.my = MariaDbServer() if want_mysql() and not cls.pg else None
        db = cls.pg or cls.my
        try:
            cls.server = Server(rdbms=db.rdbms if db else None, extra_modules="  mod_blocking: {}\n" + DISCO_MOD)
        except BaseException:
            if db:
                db.stop()
            raise
        for u in ("alice", "bob", "carol", "dave"):
            cls.server.register(u)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            if cls.pg or cls.my:
                (cls.pg or cls.my).stop()

    def sql(self, query):
        if self.pg:
            return self.pg.psql(query).strip()
        if self.my:
            return self.my.sql(query).strip()
        db = os.path.join(self.server.dir, "data", "aviary.db")
        return subprocess.run(["sqlite3", db, query], capture_output=True, text=True, check=True,
                              timeout=30).stdout.strip()

    def wait_sql(self, query, want):
        for _ in range(100):
            if self.sql(query) == want:
                break
            time.sleep(0.05)
        self.assertEqual(self.sql(query), want)

    def client(self, user, resource):
        c = RawClient(self.server.plain_port).login(user, resource=resource)
        c.send("<presence/>")
        self.addCleanup(c.close)
        return c

    def iq(self, c, body, id_, type_="set"):
        c.send(f"<iq type='{type_}' id='{id_}'>{body}</iq>")
        return wait_iq(c, id_)

    def ok(self, r):
        self.assertTrue(attr_is(r, "type", "result"), r)

    def message(self, c, to, body):
        c.send(f"<message to='{to}' type='chat' id='m-{body}'><body>{body}</body></message>")

    def test_block_unblock(self):
        alice, carol = self.client("alice", "a1"), self.client("carol", "c1")
        bob1, bob2 = self.client("bob", "b1"), self.client("bob", "b2")
        for c, i in ((bob1, "l1"), (bob2, "l2")):
            r = self.iq(c, f"<blocklist xmlns='{NS}'/>", i, "get")
            self.ok(r)
            self.assertEqual(items(r), [])

        r = self.iq(bob1, f"<block xmlns='{NS}'><item jid='Alice@localhost'/></block>", "blk1")
        self.ok(r)
        push = wait_for(bob2, lambda s: s.startswith("<iq") and "<block" in s)
        self.assertTrue(attr_is(push, "type", "set"), push)
        self.assertTrue(attr_is(push, "to", "bob@localhost/b2"), push)
        self.assertEqual(items(push), ["alice@localhost"])
        wait_for(bob1, lambda s: s.startswith("<iq") and "<block" in s)  # the requester gets it too
        r = self.iq(bob2, f"<blocklist xmlns='{NS}'/>", "l3", "get")
        self.assertEqual(items(r), ["alice@localhost"])
        self.assertEqual(self.sql("SELECT jid FROM blocking_list WHERE username = 'bob'"), "alice@localhost")

        # Alice -> bob: not delivered; the message and the IQ get service-unavailable.
        self.message(alice, "bob@localhost", "hidden1")
        err = wait_for(alice, lambda s: s.startswith("<message") and attr_is(s, "type", "error"))
        self.assertIn("<service-unavailable", err)
        self.message(alice, "bob@localhost/b2", "hidden2")
        wait_for(alice, lambda s: s.startswith("<message") and attr_is(s, "type", "error"))
        alice.send("<iq type='get' id='q1' to='bob@localhost/b1'><query xmlns='jabber:iq:version'/></iq>")
        r = wait_iq(alice, "q1")
        self.assertTrue(attr_is(r, "type", "error"), r)
        self.assertIn("<service-unavailable", r)
        # Carol still gets through; nothing from alice arrived before her.
        self.message(carol, "bob@localhost/b1", "fromcarol")
        wait_for(bob1, is_message_from("carol@localhost/c1", "fromcarol"))
        self.message(carol, "bob@localhost/b2", "fromcarol2")
        wait_for(bob2, is_message_from("carol@localhost/c1", "fromcarol2"))
        for c in (bob1, bob2):
            self.assertFalse([s for s in c.__dict__.get("others", []) if "hidden" in s or "jabber:iq:version" in s])

        # Bob -> alice: not-acceptable with <blocked/>.
        self.message(bob1, "alice@localhost", "nope")
        err = wait_for(bob1, lambda s: s.startswith("<message") and attr_is(s, "type", "error"))
        self.assertIn("<not-acceptable", err)
        self.assertRegex(err, r"""<blocked xmlns=(['"])urn:xmpp:blocking:errors\1\s*/>""")
        self.assertIn("<body>nope</body>", err)

        # Unblock: push, then delivery both ways.
        r = self.iq(bob1, f"<unblock xmlns='{NS}'><item jid='alice@localhost'/></unblock>", "ub1")
        self.ok(r)
        push = wait_for(bob2, lambda s: s.startswith("<iq") and "<unblock" in s)
        self.assertEqual(items(push), ["alice@localhost"])
        self.message(alice, "bob@localhost/b1", "visible")
        wait_for(bob1, is_message_from("alice@localhost/a1", "visible"))
        self.message(bob1, "alice@localhost", "hello")
        wait_for(alice, is_message_from("bob@localhost/b1", "hello"))
        self.wait_sql("SELECT COUNT(*) FROM blocking_list WHERE username = 'bob'", "0")

        # Unblock-all.
        self.ok(self.iq(bob1, f"<block xmlns='{NS}'><item jid='alice@localhost'/><item jid='carol@localhost'/></block>",
                        "blk2"))
        self.assertEqual(self.sql("SELECT COUNT(*) FROM blocking_list WHERE username = 'bob'"), "2")
        self.ok(self.iq(bob1, f"<unblock xmlns='{NS}'/>", "ub2"))
        push = wait_for(bob2, lambda s: s.startswith("<iq") and re.search(r"<unblock xmlns=['\"]urn:xmpp:blocking['\"]\s*/>", s))
        self.message(carol, "bob@localhost/b1", "back")
        wait_for(bob1, is_message_from("carol@localhost/c1", "back"))
        self.assertEqual(self.sql("SELECT COUNT(*) FROM blocking_list WHERE username = 'bob'"), "0")

    def test_errors_and_matching(self):
        carol = self.client("carol", "e1")
        r = self.iq(carol, f"<block xmlns='{NS}'/>", "e1")
        self.assertIn("<bad-request", r)
        r = self.iq(carol, f"<block xmlns='{NS}'><item jid='a@b@c'/></block>", "e2")
        self.assertIn("<jid-malformed", r)
        carol.send(f"<iq type='get' id='e3' to='dave@localhost'><blocklist xmlns='{NS}'/></iq>")
        self.assertIn("<forbidden", wait_iq(carol, "e3"))
        # A full-JID item blocks only that resource.
        alice1, alice2 = self.client("alice", "x1"), self.client("alice", "x2")
        self.ok(self.iq(carol, f"<block xmlns='{NS}'><item jid='alice@localhost/x1'/></block>", "e4"))
        self.message(alice1, "carol@localhost/e1", "from-x1")
        wait_for(alice1, lambda s: s.startswith("<message") and attr_is(s, "type", "error"))
        self.message(alice2, "carol@localhost/e1", "from-x2")
        wait_for(carol, is_message_from("alice@localhost/x2", "from-x2"))
        self.ok(self.iq(carol, f"<unblock xmlns='{NS}'/>", "e5"))
        # A domain item blocks every JID at it, but never the user's own server.
        self.ok(self.iq(carol, f"<block xmlns='{NS}'><item jid='localhost'/></block>", "e6"))
        self.message(alice2, "carol@localhost/e1", "domain-blocked")
        wait_for(alice2, lambda s: s.startswith("<message") and attr_is(s, "type", "error"))
        carol.send("<iq type='get' id='e7' to='localhost'><query xmlns='urn:test:nothing'/></iq>")
        r = wait_iq(carol, "e7")
        self.assertTrue(attr_is(r, "from", "localhost"), r)
        self.assertIn("<service-unavailable", r)
        self.assertNotIn("blocked", r)
        self.ok(self.iq(carol, f"<unblock xmlns='{NS}'/>", "e8"))
        self.assertFalse([s for s in carol.__dict__.get("others", []) if "domain-blocked" in s])

    def test_offline_user_and_account_removal(self):
        dave = RawClient(self.server.plain_port).login("dave", resource="d1")
        self.ok(self.iq(dave, f"<block xmlns='{NS}'><item jid='alice@localhost'/></block>", "d1"))
        dave.close()
        time.sleep(0.3)
        # Dave is offline: his list is loaded from SQL; alice's message is refused, not stored.
        alice = self.client("alice", "off")
        self.message(alice, "dave@localhost", "offline-hidden")
        err = wait_for(alice, lambda s: s.startswith("<message") and attr_is(s, "type", "error"))
        self.assertIn("<service-unavailable", err)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM blocking_list WHERE username = 'dave'"), "1")
        alice.close()
        # The list survives a restart: loaded when dave's session opens.
        self.server.restart()
        dave = self.client("dave", "d2")
        alice, carol = self.client("alice", "r"), self.client("carol", "r")
        self.message(alice, "dave@localhost/d2", "after-restart")
        wait_for(alice, lambda s: s.startswith("<message") and attr_is(s, "type", "error"))
        self.message(carol, "dave@localhost/d2", "carol-ok")
        wait_for(dave, is_message_from("carol@localhost/r", "carol-ok"))
        self.assertFalse([s for s in dave.__dict__.get("others", []) if "after-restart" in s])
        dave.close()
        self.server.ctl("account", "removeUser", "--user", "dave@localhost")
        self.wait_sql("SELECT COUNT(*) FROM blocking_list WHERE username = 'dave'", "0")


    def test_disco_feature(self):
        if not DISCO:
            self.skipTest("mod_disco is not built")
        c = RawClient(self.server.plain_port).login("alice", resource="disco")
        self.addCleanup(c.close)
        c.send("<iq type='get' id='disco1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        r = wait_iq(c, "disco1")
        self.assertTrue(attr_is(r, "type", "result"), r)
        self.assertRegex(r, r"""<feature var=(['"])urn:xmpp:blocking\1""")

if __name__ == "__main__":
    unittest.main(verbosity=2)
