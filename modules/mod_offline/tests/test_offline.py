"""mod_offline end to end (XEP-0160) on SQLite, and on PostgreSQL in the _pgsql run.

- bob is offline; alice sends 3 messages; bob logs in, sends initial presence and gets them in
  order, each with an XEP-0203 <delay/> from the domain; the rows are gone afterwards;
- a standalone chat state is not stored and not bounced;
- past max_user_messages the sender gets resource-constraint (type wait), nothing more stored;
- a message to a user that does not exist: service-unavailable, nothing stored;
- removing an account deletes its offline messages;
- disco#info of the server lists msgoffline.
"""
# e2e: also-pgsql
# e2e: also-mysql
import contextlib
import os
import re
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import MariaDbServer, PgServer, RawClient, Server, want_mysql, want_pg  # noqa: E402

STAMP = re.compile(r"stamp='(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)'")


class OfflineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = contextlib.ExitStack()
        cls.pg = cls.stack.enter_context(PgServer()) if want_pg() else None
        cls.my = cls.stack.enter_context(MariaDbServer()) if want_mysql() else None
        db = cls.pg or cls.my
        cls.server = Server(rdbms=db.rdbms if db else None,
                            extra_modules="  mod_offline: {max_user_messages: 5}\n  mod_disco: {}\n")
        cls.stack.callback(cls.server.stop)
        for u in ("alice", "bob", "carol", "dave"):
            cls.server.register(u)

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def count(self, user):
        q = f"SELECT COUNT(*) FROM offline_message WHERE server = 'localhost' AND username = '{user}'"
        if self.pg:
            return int(self.pg.psql(q).strip())
        if self.my:
            return int(self.my.sql(q).strip().splitlines()[-1])
        db = sqlite3.connect(os.path.join(self.server.dir, "data", "aviary.db"), timeout=10)
        try:
            return db.execute(q).fetchone()[0]
        finally:
            db.close()

    def wait_count(self, user, n, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            if self.count(user) == n:
                return
            time.sleep(0.05)
        self.assertEqual(self.count(user), n)

    def test_store_and_deliver_in_order(self):
        alice = RawClient(self.server.plain_port).login("alice", resource="a1")
        for i in (1, 2, 3):
            alice.send(f"<message to='bob@localhost' type='chat' id='m{i}'><body>hello {i}</body></message>")
        # A standalone chat state is neither stored nor bounced (XEP-0085).
        alice.send("<message to='bob@localhost' type='chat'>"
                   "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>")
        self.wait_count("bob", 3)
        bob = RawClient(self.server.plain_port).login("bob", resource="r1")
        bob.send("<presence/>")
        got = [bob.read_until("</message>") for _ in range(3)]
        for i, m in enumerate(got, 1):
            self.assertIn(f"<body>hello {i}</body>", m)
            self.assertIn("to='bob@localhost/r1'", m)
            self.assertIn("from='alice@localhost/a1'", m)
            self.assertIn("xmlns='urn:xmpp:delay'", m)
            self.assertIn("from='localhost'", m)
            self.assertRegex(m, STAMP)
        self.wait_count("bob", 0)
        # Nothing more arrives (no chat state, no duplicate).
        bob.send("<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
        rest = bob.read_until("id='p1'")
        self.assertNotIn("<message", rest)
        self.assertNotIn("error", alice.buf.decode())
        bob.close()
        alice.close()

    def test_limit_resource_constraint(self):
        alice = RawClient(self.server.plain_port).login("alice", resource="a2")
        for i in range(5):
            alice.send(f"<message to='carol@localhost' id='c{i}'><body>c{i}</body></message>")
        self.wait_count("carol", 5)
        alice.send("<message to='carol@localhost' id='c5'><body>c5</body></message>")
        err = alice.read_until("</message>")
        self.assertIn("type='error'", err)
        self.assertIn("id='c5'", err)
        self.assertIn("type='wait'", err)
        self.assertIn("<resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>", err)
        self.assertEqual(self.count("carol"), 5)
        # Removing the account deletes what was stored for it.
        self.server.ctl("account", "removeUser", "--user", "carol@localhost")
        self.wait_count("carol", 0)
        alice.close()

    def test_unknown_user_service_unavailable(self):
        alice = RawClient(self.server.plain_port).login("alice", resource="a3")
        alice.send("<message to='nobody@localhost' id='n1' type='chat'><body>hi</body></message>")
        err = alice.read_until("</message>")
        self.assertIn("type='error'", err)
        self.assertIn("id='n1'", err)
        self.assertIn("<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>", err)
        self.assertEqual(self.count("nobody"), 0)
        alice.close()

    def test_disco_feature(self):
        dave = RawClient(self.server.plain_port).login("dave")
        dave.send("<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        r = dave.read_until("</iq>")
        self.assertIn("<feature var='msgoffline'/>", r)
        dave.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
