"""mod_mam with the modules that re-deliver messages, and with the database failing, on SQLite
and (the _pgsql run) PostgreSQL:

- carbons (XEP-0280): a message to a user with two resources, and one that user sends, are
  archived once each; the carbon copy carries the stanza-id of the recipient's archive;
- stream management (XEP-0198): an unacknowledged message of a session that was never resumed
  goes to offline storage and is delivered at the next login, still archived once, with the
  same stanza-id;
- PostgreSQL stopped under traffic (the _pgsql run only): chat keeps flowing, the writer
  retries, nothing is dropped, and every message is in the archive once the database is back;
  `aviaryctl mam stats` shows the failed and retried batches.
"""
# e2e: also-pgsql
import json
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import PgServer, RawClient, Server, want_pg  # noqa: E402

SM = "urn:xmpp:sm:3"


def stanza_ids(xml, by):
    return re.findall(rf"<stanza-id xmlns='urn:xmpp:sid:0' by='{re.escape(by)}' id='([0-9A-V]+)'/>", xml) + \
        re.findall(rf"<stanza-id xmlns='urn:xmpp:sid:0' id='([0-9A-V]+)' by='{re.escape(by)}'/>", xml)


class DeliveryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer() if want_pg() else None
        cls.server = Server(rdbms=cls.pg.rdbms if cls.pg else None,
                            extra_modules="  mod_offline: {}\n  mod_carboncopy: {}\n"
                                          "  mod_stream_management: {resume_timeout: 1}\n"
                                          "  mod_mam: {async_writer: {flush_interval: 200}}\n")
        for u in ("alice", "bob", "carol", "dave"):
            cls.server.register(u)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            if cls.pg:
                cls.pg.stop()

    def login(self, user, resource, presence=True):
        c = RawClient(self.server.plain_port).login(user, resource=resource)
        if presence:
            c.send("<presence/>")
        return c

    def stats(self):
        return json.loads(self.server.ctl("mam", "stats", "--json").stdout)

    def archive(self, user, expect=None, timeout=10):
        """Bodies and ids in user's archive (through aviaryctl stanza getLastMessages)."""
        end = time.time() + timeout
        while True:
            out = json.loads(self.server.ctl("stanza", "getLastMessages", "--caller", f"{user}@localhost",
                                             "--limit", "500", "--json").stdout)
            rows = [(re.search(r"<body>(.*?)</body>", s["stanza"]).group(1), s["stanza_id"]) for s in out["stanzas"]]
            if expect is None or len(rows) >= expect or time.time() > end:
                return rows
            time.sleep(0.1)

    def test_carbons_do_not_duplicate(self):
        b1, b2 = self.login("bob", "one"), self.login("bob", "two")
        for c in (b1, b2):
            c.send("<iq type='set' id='cc'><enable xmlns='urn:xmpp:carbons:2'/></iq>")
            c.read_until("id='cc'")
        a = self.login("alice", "a")
        a.send("<message to='bob@localhost' type='chat' id='c1'><body>to both</body></message>")
        got1 = b1.read_until("</message>")
        got2 = b2.read_until("</message>\n", "</message>")
        both = got1 + got2
        while both.count("to both") < 2:
            both += b2.read_until("</message>")
        b1.send("<message to='alice@localhost' type='chat' id='c2'><body>from one</body></message>")
        b2.read_until("from one")
        rows = self.archive("bob", expect=2)
        time.sleep(0.5)
        rows = self.archive("bob")
        self.assertEqual([r[0] for r in rows], ["to both", "from one"])
        # the direct copy and the carbon copy carry the same stanza-id, that of bob's archive
        ids = set(stanza_ids(both, "bob@localhost"))
        self.assertEqual(ids, {rows[0][1]})
        for c in (a, b1, b2):
            c.close()

    def test_stream_management_redelivery_is_not_archived_again(self):
        d = self.login("dave", "r1", presence=False)
        d.send(f"<enable xmlns='{SM}' resume='true'/>")
        d.read_until("<enabled")
        d.send("<presence/>")
        c = self.login("carol", "c")
        c.send("<message to='dave@localhost/r1' type='chat'><body>unacked</body></message>")
        first = d.read_until("</message>")
        sid = stanza_ids(first, "dave@localhost")
        self.assertEqual(len(sid), 1, first)
        d.s.close()  # no ack, no clean close: resumable for 1 s, then re-routed to offline
        time.sleep(2.0)
        d2 = self.login("dave", "r2")
        again = d2.read_until("</message>")
        self.assertIn("unacked", again)
        self.assertEqual(stanza_ids(again, "dave@localhost"), sid)
        time.sleep(0.5)
        self.assertEqual(self.archive("dave"), [("unacked", sid[0])])
        c.close()
        d2.close()

    @unittest.skipUnless(want_pg(), "stopping the database is tested on PostgreSQL")
    def test_database_outage(self):
        a, b = self.login("alice", "outage"), self.login("bob", "outage")
        before = len(self.archive("bob"))
        subprocess.run(["sh", self.pg.script, "stop", self.pg.dir], check=True, timeout=120)
        try:
            for i in range(40):
                a.send(f"<message to='bob@localhost/outage' type='chat'><body>down {i}</body></message>")
            got = ""
            while got.count("<body>down") < 40:
                got += b.read_until("</message>")  # chat flows without the database
            end = time.time() + 10
            while self.stats()["pm"]["failed_batches"] == 0 and time.time() < end:
                time.sleep(0.1)
            st = self.stats()["pm"]
            self.assertGreater(st["failed_batches"], 0)
            self.assertGreater(st["retrying"] + st["queued"], 0)
        finally:
            subprocess.run(["sh", self.pg.script, "start", self.pg.dir], check=True, timeout=120)
        end = time.time() + 20
        while time.time() < end:
            st = self.stats()["pm"]
            if st["retrying"] == 0 and st["queued"] == 0 and st["inflight_batches"] == 0:
                break
            time.sleep(0.2)
        self.assertEqual(st["dropped"], 0, st)
        self.assertEqual(st["retrying"], 0, st)
        self.assertGreater(st["retried_batches"], 0, st)
        rows = self.archive("bob")
        self.assertEqual([r[0] for r in rows[before:]], [f"down {i}" for i in range(40)])
        self.assertEqual(self.server.log_text().count("not archived"), 0)
        a.close()
        b.close()


class StopFlushTest(unittest.TestCase):
    """SIGTERM writes what the batch writer still holds: with a batch size and an interval
    that never come, nothing is written before the stop, and everything is there after it."""

    def test_sigterm_writes_everything_queued(self):
        pg = PgServer() if want_pg() else None
        try:
            s = Server(rdbms=pg.rdbms if pg else None,
                       extra_modules="  mod_mam: {async_writer: {flush_interval: 3600000, batch_size: 1000}}\n")
            s.register("erin")
            s.register("frank")
            e = RawClient(s.plain_port).login("erin", resource="e")
            f = RawClient(s.plain_port).login("frank", resource="f")
            f.send("<presence/>")
            for i in range(250):
                e.send(f"<message to='frank@localhost/f' type='chat'><body>q{i}</body></message>")
            got = ""
            while got.count("<body>q") < 250:
                got += f.read_until("</message>")
            st = json.loads(s.ctl("mam", "stats", "--json").stdout)["pm"]
            self.assertEqual(st["written"], 0, st)
            self.assertEqual(st["queued"], 500, st)  # both archives of every message
            e.close()
            f.close()
            s.restart()
            for user in ("erin", "frank"):
                out = json.loads(s.ctl("stanza", "getLastMessages", "--caller", f"{user}@localhost", "--limit", "500",
                                       "--json").stdout)
                bodies = [re.search(r"<body>(.*?)</body>", x["stanza"]).group(1) for x in out["stanzas"]]
                self.assertEqual(bodies, [f"q{i}" for i in range(250)], user)
            s.stop()
        finally:
            if pg:
                pg.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
