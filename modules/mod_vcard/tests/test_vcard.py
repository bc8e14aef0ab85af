# e2e: also-pgsql
# e2e: also-mysql
"""mod_vcard end to end (XEP-0054): round trip, another user's vCard readable but not
writable, errors, size limit, account removal deletes the row.
"""
import os
import subprocess
import time
import unittest

import harness
from harness import PgServer, RawClient, Server, attr_is, wait_iq, want_pg

# MySQL/MariaDB runs (ctest *_mysql) when the harness offers them.
MariaDbServer = getattr(harness, "MariaDbServer", None)
want_mysql = getattr(harness, "want_mysql", lambda: False)
# mod_disco is another module: the disco check runs when it is built next to this one.
DISCO = any(os.path.exists(os.path.join(d, "mod_disco.so")) for d in harness.MODULE_PATH.split(":") if d)
DISCO_MOD = "  mod_disco: {}\n" if DISCO else ""

MODS = "  mod_vcard: {max_vcard_size: 2000}\n"


class VcardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer() if want_pg() else None
        cls.my = MariaDbServer() if want_mysql() and not cls.pg else None
        db = cls.pg or cls.my
        try:
            cls.server = Server(rdbms=db.rdbms if db else None, extra_modules=MODS + DISCO_MOD)
        except BaseException:
            if db:
                db.stop()
            raise
        for u in ("alice", "bob", "carol"):
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
        """Polls until the query returns `want` (columns joined with |)."""
        got = None
        for _ in range(100):
            got = "|".join(self.sql(query).replace("\t", "|").split("|"))
            if got == want:
                return got
            time.sleep(0.05)
        self.assertEqual(got, want)

    def client(self, user, resource="r1"):
        c = RawClient(self.server.plain_port).login(user, resource=resource)
        self.addCleanup(c.close)
        return c

    def iq(self, c, body, id_, type_="get", to=None):
        to_attr = f" to='{to}'" if to else ""
        c.send(f"<iq type='{type_}' id='{id_}'{to_attr}>{body}</iq>")
        return wait_iq(c, id_)

    def test_round_trip_and_others(self):
        alice = self.client("alice")
        card = ("<vCard xmlns='vcard-temp'><FN>Alice Liddell</FN><NICKNAME>al</NICKNAME>"
                "<N><FAMILY>Liddell</FAMILY><GIVEN>Alice</GIVEN></N>"
                "<EMAIL><INTERNET/><USERID>Alice@Wonderland.lit</USERID></EMAIL>"
                "<ORG><ORGNAME>Tea Party</ORGNAME></ORG></vCard>")
        r = self.iq(alice, card, "s1", "set")
        self.assertTrue(attr_is(r, "type", "result"), r)
        r = self.iq(alice, "<vCard xmlns='vcard-temp'/>", "g1")
        self.assertTrue(attr_is(r, "type", "result"), r)
        self.assertIn("<FN>Alice Liddell</FN>", r)
        r = self.iq(alice, "<vCard xmlns='vcard-temp'/>", "g2", to="alice@localhost")
        self.assertIn("<NICKNAME>al</NICKNAME>", r)
        # The search index (MongooseIM's vcard_search) follows.
        row = self.wait_sql("SELECT lfn, lfamily, lgiven, lnickname, lemail, lorgname FROM vcard_search "
                            "WHERE lusername = 'alice'", "alice liddell|liddell|alice|al|alice@wonderland.lit|tea party")
        # Update replaces.
        self.iq(alice, "<vCard xmlns='vcard-temp'><FN>Alice</FN></vCard>", "s2", "set", to="alice@localhost")
        r = self.iq(alice, "<vCard xmlns='vcard-temp'/>", "g3")
        self.assertIn("<FN>Alice</FN>", r)
        self.assertNotIn("NICKNAME", r)

        bob = self.client("bob")
        r = self.iq(bob, "<vCard xmlns='vcard-temp'/>", "b1", to="alice@localhost")
        self.assertTrue(attr_is(r, "type", "result"), r)
        self.assertTrue(attr_is(r, "from", "alice@localhost"), r)
        self.assertIn("<FN>Alice</FN>", r)
        r = self.iq(bob, "<vCard xmlns='vcard-temp'><FN>Mallory</FN></vCard>", "b2", "set", to="alice@localhost")
        self.assertTrue(attr_is(r, "type", "error"), r)
        self.assertIn("<forbidden", r)
        r = self.iq(alice, "<vCard xmlns='vcard-temp'/>", "g4")
        self.assertIn("<FN>Alice</FN>", r)

        # Bob has none yet: an empty vCard; nobody does not exist: service-unavailable.
        r = self.iq(bob, "<vCard xmlns='vcard-temp'/>", "b3")
        self.assertTrue(attr_is(r, "type", "result"), r)
        self.assertRegex(r, r"<vCard xmlns=(['\"])vcard-temp\1\s*/>")
        r = self.iq(bob, "<vCard xmlns='vcard-temp'/>", "b4", to="nobody@localhost")
        self.assertTrue(attr_is(r, "type", "error"), r)
        self.assertIn("<service-unavailable", r)

    def test_errors(self):
        carol = self.client("carol")
        r = self.iq(carol, "<PHOTO xmlns='vcard-temp'/>", "e1", "set")
        self.assertIn("<bad-request", r)
        r = self.iq(carol, "<PHOTO xmlns='vcard-temp'/>", "e2")
        self.assertIn("<bad-request", r)
        big = "<vCard xmlns='vcard-temp'><DESC>" + "x" * 3000 + "</DESC></vCard>"
        r = self.iq(carol, big, "e3", "set")
        self.assertTrue(attr_is(r, "type", "error"), r[:300])
        self.assertIn("<not-acceptable", r)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM vcard WHERE username = 'carol'"), "0")

    def test_account_removal(self):
        self.server.register("dave")
        dave = self.client("dave")
        r = self.iq(dave, "<vCard xmlns='vcard-temp'><FN>Dave</FN></vCard>", "d1", "set")
        self.assertTrue(attr_is(r, "type", "result"), r)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM vcard WHERE username = 'dave'"), "1")
        dave.close()
        self.server.ctl("account", "removeUser", "--user", "dave@localhost")
        for _ in range(100):
            if self.sql("SELECT COUNT(*) FROM vcard WHERE username = 'dave'") == "0":
                break
            time.sleep(0.05)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM vcard WHERE username = 'dave'"), "0")
        self.wait_sql("SELECT COUNT(*) FROM vcard_search WHERE lusername = 'dave'", "0")


    def test_disco_feature(self):
        if not DISCO:
            self.skipTest("mod_disco is not built")
        c = RawClient(self.server.plain_port).login("alice", resource="disco")
        self.addCleanup(c.close)
        c.send("<iq type='get' id='disco1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        r = wait_iq(c, "disco1")
        self.assertTrue(attr_is(r, "type", "result"), r)
        self.assertRegex(r, r"""<feature var=(['"])vcard\-temp\1""")

if __name__ == "__main__":
    unittest.main(verbosity=2)
