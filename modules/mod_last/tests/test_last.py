# e2e: also-pgsql
# e2e: also-mysql
"""mod_last end to end (XEP-0012): server uptime, 0 while online, seconds since logout with
the status of the last unavailable presence, unknown users, account removal; who may ask
(the user, or an entity with a presence subscription in the user's roster, mod_roster), to
the bare JID and to a full JID; without mod_roster only the user themself."""
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

def wait_stanza(c, pred, timeout=10):
    """Reads stanzas until one matching pred (others are kept in c.others)."""
    end = time.time() + timeout
    while True:
        s = next_stanza(c, max(0.05, end - time.time()))
        if pred(s):
            return s
        c.__dict__.setdefault("others", []).append(s)


Q = "<query xmlns='jabber:iq:last'/>"


def seconds(xml):
    m = re.search(r"""seconds=['"](\d+)['"]""", xml)
    return int(m.group(1)) if m else None


class LastTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer() if want_pg() else None
        cls.my = MariaDbServer() if want_mysql() and not cls.pg else None
        db = cls.pg or cls.my
        try:
            cls.server = Server(rdbms=db.rdbms if db else None,
                                extra_modules="  mod_roster: {}\n  mod_last: {}\n" + DISCO_MOD)
        except BaseException:
            if db:
                db.stop()
            raise
        for u in ("alice", "bob", "carol", "erin", "frank"):
            cls.server.register(u)
        # alice is subscribed to bob's presence (bob's roster: alice 'from').
        cls.subscribe("alice", "bob")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            if cls.pg or cls.my:
                (cls.pg or cls.my).stop()

    @classmethod
    def subscribe(cls, asker, owner):
        """asker subscribes to owner's presence and owner approves (owner's roster: asker
        'from', or 'both' when it already had 'to')."""
        a = RawClient(cls.server.plain_port).login(asker, resource="sub")
        o = RawClient(cls.server.plain_port).login(owner, resource="sub")
        try:
            o.send("<presence/>")
            a.send(f"<presence to='{owner}@localhost' type='subscribe'/>")
            wait_stanza(o, lambda s: s.startswith("<presence") and attr_is(s, "type", "subscribe"))
            o.send(f"<presence to='{asker}@localhost' type='subscribed'/>")
            q = (f"SELECT subscription FROM rosterusers WHERE username = '{owner}' "
                 f"AND jid = '{asker}@localhost'")
            for _ in range(100):
                if cls.sql(cls, q) in ("F", "B"):
                    break
                time.sleep(0.05)
            assert cls.sql(cls, q) in ("F", "B"), cls.sql(cls, q)
        finally:
            a.close()
            o.close()

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

    def client(self, user, resource="r1"):
        c = RawClient(self.server.plain_port).login(user, resource=resource)
        self.addCleanup(c.close)
        return c

    def iq(self, c, id_, to=None):
        to_attr = f" to='{to}'" if to else ""
        c.send(f"<iq type='get' id='{id_}'{to_attr}>{Q}</iq>")
        return wait_iq(c, id_)

    def test_server_uptime(self):
        alice = self.client("alice", "up")
        r = self.iq(alice, "u1", to="localhost")
        self.assertTrue(attr_is(r, "type", "result"), r)
        self.assertTrue(attr_is(r, "from", "localhost"), r)
        self.assertIsNotNone(seconds(r), r)
        self.assertLess(seconds(r), 600)

    def test_last_activity_after_logout(self):
        bob = RawClient(self.server.plain_port).login("bob", resource="b1")
        bob.send("<presence/>")
        alice = self.client("alice")
        r = self.iq(alice, "a1", to="bob@localhost")
        self.assertTrue(attr_is(r, "type", "result"), r)
        self.assertEqual(seconds(r), 0, r)
        bob.send("<presence type='unavailable'><status>Heading home &amp; away</status></presence>")
        bob.close()
        self.wait_sql("SELECT state FROM last WHERE username = 'bob'", "Heading home & away")
        time.sleep(1.1)
        r = self.iq(alice, "a2", to="bob@localhost")
        self.assertTrue(attr_is(r, "type", "result"), r)
        self.assertTrue(attr_is(r, "from", "bob@localhost"), r)
        self.assertGreaterEqual(seconds(r), 1, r)
        self.assertLess(seconds(r), 60, r)
        self.assertIn("Heading home &amp; away", r)
        # A disconnect without unavailable presence is recorded too, with no status.
        bob = RawClient(self.server.plain_port).login("bob", resource="b2")
        bob.send("<presence/>")
        r = self.iq(bob, "b0")  # own account, no 'to': online
        self.assertEqual(seconds(r), 0, r)
        bob.close()
        self.wait_sql("SELECT state FROM last WHERE username = 'bob'", "")
        r = self.iq(alice, "a3", to="bob@localhost")
        self.assertLess(seconds(r), 60, r)
        self.assertNotIn("Heading", r)

    def test_unknown_user(self):
        # Nobody is subscribed to an account that does not exist: forbidden, as for any
        # other non-subscriber (MongooseIM checks the subscription first too).
        alice = self.client("alice", "unk")
        r = self.iq(alice, "n1", to="nobody@localhost")
        self.assertTrue(attr_is(r, "type", "error"), r)
        self.assertIn("<forbidden", r)
        # A user who never went offline has nothing recorded: service-unavailable, also
        # for the user themself.
        self.server.register("neo")
        neo = self.client("neo", "n")
        r = self.iq(neo, "n2")
        self.assertTrue(attr_is(r, "type", "error"), r)
        self.assertIn("<service-unavailable", r)

    def test_who_may_ask(self):
        """XEP-0012 3, 4 and 9: only the user and entities with a presence subscription to
        the user (subscription 'from' or 'both' in the user's roster) learn anything."""
        # erin is subscribed to frank's presence, frank is not subscribed to erin's.
        self.subscribe("erin", "frank")
        erin = RawClient(self.server.plain_port).login("erin", resource="e1")
        erin.send("<presence/>")
        erin.send("<presence type='unavailable'><status>out</status></presence>")
        erin.close()
        self.wait_sql("SELECT state FROM last WHERE username = 'erin'", "out")
        frank = self.client("frank", "f1")
        frank.send("<presence/>")
        # frank is not subscribed to erin's presence (erin's roster: frank 'to'): he learns
        # nothing of erin's activity.
        r = self.iq(frank, "w1", to="erin@localhost")
        self.assertTrue(attr_is(r, "type", "error"), r)
        self.assertIn("<forbidden", r)
        self.assertTrue(attr_is(r, "from", "erin@localhost"), r)
        # carol has no roster item at all, and a pending request is no subscription either.
        carol = self.client("carol", "c1")
        r = self.iq(carol, "w2", to="erin@localhost")
        self.assertIn("<forbidden", r)
        self.assertIsNone(seconds(r), r)
        carol.send("<presence to='frank@localhost' type='subscribe'/>")
        wait_stanza(frank, lambda s: s.startswith("<presence") and attr_is(s, "type", "subscribe"))
        r = self.iq(carol, "w3", to="frank@localhost")
        self.assertIn("<forbidden", r)
        # erin (subscription 'from' in frank's roster) may ask, frank being online: 0.
        erin = self.client("erin", "e2")
        erin.send("<presence/>")
        r = self.iq(erin, "w4", to="frank@localhost")
        self.assertTrue(attr_is(r, "type", "result"), r)
        self.assertEqual(seconds(r), 0, r)
        # To frank's full JID: delivered to frank's client for erin...
        erin.send(f"<iq type='get' id='w5' to='frank@localhost/f1'>{Q}</iq>")
        got = wait_stanza(frank, lambda s: s.startswith("<iq") and attr_is(s, "id", "w5"))
        self.assertTrue(attr_is(got, "from", "erin@localhost/e2"), got)
        frank.send("<iq type='result' id='w5' to='erin@localhost/e2'>"
                   "<query xmlns='jabber:iq:last' seconds='42'/></iq>")
        r = wait_iq(erin, "w5")
        self.assertEqual(seconds(r), 42, r)
        # ...refused by the server for carol, and frank never sees it.
        carol.send(f"<iq type='get' id='w6' to='frank@localhost/f1'>{Q}</iq>")
        r = wait_iq(carol, "w6")
        self.assertTrue(attr_is(r, "type", "error"), r)
        self.assertIn("<forbidden", r)
        self.assertTrue(attr_is(r, "from", "frank@localhost/f1"), r)
        # A round trip to the server (any answer will do) as a barrier.
        frank.send("<iq type='get' id='barrier' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
        seen = []
        wait_stanza(frank, lambda s: seen.append(s) or (s.startswith("<iq") and attr_is(s, "id", "barrier")))
        self.assertFalse([s for s in seen + frank.__dict__.get("others", []) if attr_is(s, "id", "w6")], seen)
        # Other IQs to a full JID are not this module's business.
        carol.send("<iq type='get' id='w7' to='frank@localhost/f1'><query xmlns='jabber:iq:version'/></iq>")
        got = wait_stanza(frank, lambda s: s.startswith("<iq") and attr_is(s, "id", "w7"))
        self.assertTrue(attr_is(got, "from", "carol@localhost/c1"), got)
        # The user themself, from another resource, to the full JID: delivered.
        frank2 = self.client("frank", "f2")
        frank2.send(f"<iq type='get' id='w8' to='frank@localhost/f1'>{Q}</iq>")
        wait_stanza(frank, lambda s: s.startswith("<iq") and attr_is(s, "id", "w8"))

    def test_account_removal(self):
        self.server.register("dave")
        dave = RawClient(self.server.plain_port).login("dave", resource="d")
        dave.send("<presence/>")
        dave.send("<presence type='unavailable'/>")
        dave.close()
        self.wait_sql("SELECT COUNT(*) FROM last WHERE username = 'dave'", "1")
        self.server.ctl("account", "removeUser", "--user", "dave@localhost")
        self.wait_sql("SELECT COUNT(*) FROM last WHERE username = 'dave'", "0")


    def test_disco_feature(self):
        if not DISCO:
            self.skipTest("mod_disco is not built")
        c = RawClient(self.server.plain_port).login("alice", resource="disco")
        self.addCleanup(c.close)
        c.send("<iq type='get' id='disco1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        r = wait_iq(c, "disco1")
        self.assertTrue(attr_is(r, "type", "result"), r)
        self.assertRegex(r, r"""<feature var=(['"])jabber:iq:last\1""")

class LastWithoutRosterTest(unittest.TestCase):
    """Without mod_roster there is no subscription to look up: only the user may ask."""

    @classmethod
    def setUpClass(cls):
        if want_pg() or want_mysql():
            raise unittest.SkipTest("storage-independent: runs on SQLite only")
        cls.server = Server(extra_modules="  mod_last: {}\n")
        for u in ("alice", "bob"):
            cls.server.register(u)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_only_self(self):
        bob = RawClient(self.server.plain_port).login("bob", resource="b")
        self.addCleanup(bob.close)
        bob.send("<presence/>")
        bob.send(f"<iq type='get' id='s1'>{Q}</iq>")
        r = wait_iq(bob, "s1")
        self.assertTrue(attr_is(r, "type", "result"), r)
        self.assertEqual(seconds(r), 0, r)
        alice = RawClient(self.server.plain_port).login("alice", resource="a")
        self.addCleanup(alice.close)
        alice.send(f"<iq type='get' id='s2' to='bob@localhost'>{Q}</iq>")
        r = wait_iq(alice, "s2")
        self.assertTrue(attr_is(r, "type", "error"), r)
        self.assertIn("<forbidden", r)
        alice.send(f"<iq type='get' id='s3' to='bob@localhost/b'>{Q}</iq>")
        r = wait_iq(alice, "s3")
        self.assertIn("<forbidden", r)
        self.assertTrue(self.server.alive())


if __name__ == "__main__":
    unittest.main(verbosity=2)
