# e2e: also-pgsql
# e2e: also-mysql
"""mod_private end to end (XEP-0049): round trip, several namespaces, isolation between
users, forbidden on another user's JID, bad-request / not-acceptable, account removal."""
import os
import subprocess
import time
import unittest

import harness
from harness import PgServer, RawClient, Server, attr_is, wait_iq, want_pg

# MySQL/MariaDB runs (ctest *_mysql) when the harness offers them.
MariaDbServer = getattr(harness, "MariaDbServer", None)
want_mysql = getattr(harness, "want_mysql", lambda: False)

Q = "<query xmlns='jabber:iq:private'>{}</query>"


class PrivateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer() if want_pg() else None
        cls.my = MariaDbServer() if want_mysql() and not cls.pg else None
        db = cls.pg or cls.my
        try:
            cls.server = Server(rdbms=db.rdbms if db else None, extra_modules="  mod_private: {}\n")
        except BaseException:
            if db:
                db.stop()
            raise
        for u in ("alice", "bob"):
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

    def client(self, user, resource="r1"):
        c = RawClient(self.server.plain_port).login(user, resource=resource)
        self.addCleanup(c.close)
        return c

    def iq(self, c, body, id_, type_="get", to=None):
        to_attr = f" to='{to}'" if to else ""
        c.send(f"<iq type='{type_}' id='{id_}'{to_attr}>{body}</iq>")
        return wait_iq(c, id_)

    def test_round_trip_and_isolation(self):
        alice = self.client("alice")
        prefs = "<exodus xmlns='exodus:prefs'><defaultnick>Hamlet</defaultnick></exodus>"
        marks = "<storage xmlns='storage:bookmarks'><conference jid='r@conf.localhost'/></storage>"
        r = self.iq(alice, Q.format(prefs + marks), "s1", "set")
        self.assertTrue(attr_is(r, "type", "result"), r)
        r = self.iq(alice, Q.format("<exodus xmlns='exodus:prefs'/>"), "g1")
        self.assertTrue(attr_is(r, "type", "result"), r)
        self.assertIn("<defaultnick>Hamlet</defaultnick>", r)
        self.assertNotIn("bookmarks", r)
        r = self.iq(alice, Q.format("<storage xmlns='storage:bookmarks'/>"), "g2", to="alice@localhost")
        self.assertIn("r@conf.localhost", r)
        # Overwrite one namespace.
        self.iq(alice, Q.format("<exodus xmlns='exodus:prefs'><defaultnick>Ophelia</defaultnick></exodus>"), "s2", "set")
        r = self.iq(alice, Q.format("<exodus xmlns='exodus:prefs'/>"), "g3")
        self.assertIn("Ophelia", r)
        self.assertNotIn("Hamlet", r)

        bob = self.client("bob")
        # Bob's own storage is empty: the request element comes back as it was.
        r = self.iq(bob, Q.format("<exodus xmlns='exodus:prefs'/>"), "b1")
        self.assertTrue(attr_is(r, "type", "result"), r)
        self.assertNotIn("Ophelia", r)
        self.assertRegex(r, r"<exodus xmlns=(['\"])exodus:prefs\1\s*/>")
        # Alice's is not Bob's to read or write.
        r = self.iq(bob, Q.format("<exodus xmlns='exodus:prefs'/>"), "b2", to="alice@localhost")
        self.assertTrue(attr_is(r, "type", "error"), r)
        self.assertIn("<forbidden", r)
        self.assertNotIn("Ophelia", r)
        r = self.iq(bob, Q.format("<exodus xmlns='exodus:prefs'><defaultnick>X</defaultnick></exodus>"), "b3",
                    "set", to="alice@localhost")
        self.assertIn("<forbidden", r)
        r = self.iq(alice, Q.format("<exodus xmlns='exodus:prefs'/>"), "g4")
        self.assertIn("Ophelia", r)

    def test_errors(self):
        bob = self.client("bob", "e")
        r = self.iq(bob, Q.format(""), "e1", "set")
        self.assertIn("<bad-request", r)
        r = self.iq(bob, Q.format(""), "e2")
        self.assertIn("<bad-request", r)
        for i, bad in enumerate(["<x xmlns='jabber:client'/>", "<x xmlns='jabber:server'/>",
                                 "<x xmlns='jabber:iq:private'/>", "<x/>"]):
            r = self.iq(bob, Q.format(bad), f"n{i}", "set")
            self.assertTrue(attr_is(r, "type", "error"), r)
            self.assertIn("<not-acceptable", r)

    def test_account_removal(self):
        self.server.register("dave")
        dave = self.client("dave")
        r = self.iq(dave, Q.format("<a xmlns='urn:test:a'>1</a><b xmlns='urn:test:b'>2</b>"), "d1", "set")
        self.assertTrue(attr_is(r, "type", "result"), r)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM private_storage WHERE username = 'dave'"), "2")
        dave.close()
        self.server.ctl("account", "removeUser", "--user", "dave@localhost")
        for _ in range(100):
            if self.sql("SELECT COUNT(*) FROM private_storage WHERE username = 'dave'") == "0":
                break
            time.sleep(0.05)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM private_storage WHERE username = 'dave'"), "0")


if __name__ == "__main__":
    unittest.main(verbosity=2)
