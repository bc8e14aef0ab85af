"""End-to-end tests of mod_roster + mod_presence against the real aviary.

- slixmpp: alice adds bob, the subscription handshake runs both ways (slixmpp answers and
  subscribes back by itself), both see each other available, then unavailable when one
  disconnects abruptly;
- raw XML: roster pushes reach a second resource; roster versioning answers an empty result
  when nothing changed; a probe is answered (only for a subscriber); a non-contact's presence
  is not delivered (directed presence to a full JID is); roster remove unsubscribes both ways;
  roster-set errors; `aviaryctl account removeUser` drops the roster rows.
"""
# e2e: also-pgsql
# e2e: also-mysql
import asyncio
import logging
import os
import re
import socket
import sqlite3
import ssl
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import PgServer, RawClient, Server, want_pg  # noqa: E402

import slixmpp  # noqa: E402

logging.basicConfig(level=os.environ.get("E2E_LOGLEVEL", "WARNING"))
TIMEOUT = 15
MariaDbServer = getattr(harness, "MariaDbServer", None)
want_mysql = getattr(harness, "want_mysql", lambda: False)
MODULES = "  mod_roster: {versioning: true, store_current_id: true}\n  mod_presence: {}\n"


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password="secret"):
        super().__init__(jid, password, sasl_mech="SCRAM-SHA-256")
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.started = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self._on_start)

    async def _on_start(self, _):
        await self.get_roster()
        self.send_presence()
        if not self.started.done():
            self.started.set_result(True)

    async def login(self, port):
        self.connect(("127.0.0.1", port), force_starttls=True)
        await asyncio.wait_for(self.started, TIMEOUT)
        return self


async def until(cond, what, timeout=TIMEOUT):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


TAG = re.compile(r"<(/)?([^\s/>!?]+)[^>]*?(/)?>", re.S)


def stanzas(text):
    """(start, end) of each complete top-level message/presence/iq in text."""
    out, pos = [], 0
    while True:
        m = re.compile(r"<(message|presence|iq)\b").search(text, pos)
        if not m:
            return out
        depth, end = 0, None
        for t in TAG.finditer(text, m.start()):
            if t.group(1):
                depth -= 1
            elif not t.group(3):
                depth += 1
            if depth == 0:
                end = t.end()
                break
        if end is None:
            return out
        out.append((m.start(), end))
        pos = end


class Raw:
    """A plaintext client reading whole stanzas and matching them with regular expressions."""

    def __init__(self, server, user, resource, roster=True, presence=True):
        self.c = RawClient(server.plain_port).login(user, resource=resource)
        self.jid = f"{user}@localhost/{resource}"
        self.text = ""
        self.n = 0
        if roster:
            self.iq("<query xmlns='jabber:iq:roster'/>")
        if presence:
            self.send("<presence/>")
            self.expect(rf"<presence[^>]*from='{re.escape(self.jid)}'")  # own presence echoed

    def send(self, xml):
        self.c.send(xml)

    def expect(self, pattern, timeout=5):
        """Returns (and consumes) the first complete top-level stanza matching pattern."""
        rx = re.compile(pattern, re.S)
        end = time.time() + timeout
        while True:
            for start, stop in stanzas(self.text):
                stanza = self.text[start:stop]
                if rx.search(stanza):
                    self.text = self.text[:start] + self.text[stop:]  # others stay to be read
                    return stanza
            left = end - time.time()
            if left <= 0:
                raise AssertionError(f"{self.jid}: no stanza matching {pattern!r}; got {self.text[-1500:]!r}")
            self.c.s.settimeout(left)
            try:
                chunk = self.c.s.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise AssertionError(f"{self.jid}: closed waiting for {pattern!r}")
            self.text += chunk.decode(errors="replace")

    def nothing(self, pattern, timeout=1.0):
        try:
            s = self.expect(pattern, timeout)
        except AssertionError:
            return
        raise AssertionError(f"{self.jid}: unexpected {s}")

    def iq(self, payload, type_="get", to=None):
        self.n += 1
        iid = f"q{self.n}"
        t = f" to='{to}'" if to else ""
        self.send(f"<iq type='{type_}' id='{iid}'{t}>{payload}</iq>")
        return self.expect(rf"<iq[^>]*id='{iid}'")

    def roster_set(self, jid, extra="", body=""):
        return self.iq(f"<query xmlns='jabber:iq:roster'><item jid='{jid}'{extra}>{body}</item></query>", "set")

    def close(self):
        self.c.close()


def befriend(a, b, a_bare, b_bare):
    """Mutual subscription between two raw clients (both end with subscription='both')."""
    a.send(f"<presence to='{b_bare}' type='subscribe'/>")
    b.expect(rf"<presence[^>]*type='subscribe'")
    b.send(f"<presence to='{a_bare}' type='subscribed'/>")
    a.expect(rf"<presence[^>]*type='subscribed'")
    b.send(f"<presence to='{a_bare}' type='subscribe'/>")
    a.expect(rf"<presence[^>]*type='subscribe'")
    a.send(f"<presence to='{b_bare}' type='subscribed'/>")
    b.expect(rf"<presence[^>]*type='subscribed'")
    a.expect(rf"jid='{b_bare}'[^>]*subscription='both'")
    b.expect(rf"jid='{a_bare}'[^>]*subscription='both'")


class RosterTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer() if want_pg() else None
        cls.my = MariaDbServer() if want_mysql() and MariaDbServer else None
        rdbms = cls.pg.rdbms if cls.pg else cls.my.rdbms if cls.my else None
        cls.server = Server(rdbms=rdbms, extra_modules=MODULES)
        for u in ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
                  "oscar", "peggy"):
            cls.server.register(u)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            for db in (cls.pg, cls.my):
                if db:
                    db.stop()

    def rows(self, table, user):
        q = f"SELECT COUNT(*) FROM {table} WHERE server = 'localhost' AND username = '{user}'"
        if self.pg:
            return int(self.pg.psql(q).strip())
        if self.my:
            return int(self.my.sql(q).strip().splitlines()[-1])
        db = sqlite3.connect(os.path.join(self.server.dir, "data", "aviary.db"), timeout=10)
        try:
            return db.execute(q).fetchone()[0]
        finally:
            db.close()

    async def asyncTearDown(self):
        self.assertTrue(self.server.alive(), self.server.log_text())

    async def test_slixmpp_handshake_both_ways_and_presence(self):
        a = await Client("alice@localhost/phone").login(self.server.port)
        b = await Client("bob@localhost/desk").login(self.server.port)
        try:
            # slixmpp accepts subscription requests and subscribes back (auto_authorize/auto_subscribe).
            a.send_presence(pto="bob@localhost", ptype="subscribe")
            await until(lambda: a.client_roster["bob@localhost"]["subscription"] == "both"
                        and b.client_roster["alice@localhost"]["subscription"] == "both", "subscription both")
            await until(lambda: "desk" in a.client_roster["bob@localhost"].resources, "alice sees bob")
            await until(lambda: "phone" in b.client_roster["alice@localhost"].resources, "bob sees alice")
            b.transport.abort()  # abrupt: no </stream:stream>, no unavailable presence from the client
            await until(lambda: not a.client_roster["bob@localhost"].resources, "alice sees bob go")
        finally:
            for c in (a, b):
                c.disconnect()
        self.assertEqual(self.rows("rosterusers", "alice"), 1)

    async def test_pushes_to_second_resource_and_versioning(self):
        r1 = Raw(self.server, "carol", "r1")
        r2 = Raw(self.server, "carol", "r2")
        res = r1.roster_set("oscar@localhost", " name='Oscar'", "<group>Friends</group>")
        self.assertIn("type='result'", res)
        for r in (r1, r2):
            push = r.expect(r"<iq[^>]*type='set'.*jid='oscar@localhost'")
            self.assertIn("name='Oscar'", push)
            self.assertIn("<group>Friends</group>", push)
            self.assertIn("subscription='none'", push)
            pid = re.search(r"id='([^']+)'", push).group(1)
            r.send(f"<iq type='result' id='{pid}'/>")
        full = r1.iq("<query xmlns='jabber:iq:roster' ver=''/>")
        ver = re.search(r"ver='([^']*)'", full).group(1)
        self.assertIn("jid='oscar@localhost'", full)
        same = r1.iq(f"<query xmlns='jabber:iq:roster' ver='{ver}'/>")
        self.assertNotIn("<query", same)  # XEP-0237: unchanged roster, empty result
        self.assertIn("type='result'", same)
        r1.roster_set("oscar@localhost", " name='O.'")
        r2.expect(r"name='O\.'")
        changed = r1.iq(f"<query xmlns='jabber:iq:roster' ver='{ver}'/>")
        self.assertIn("name='O.'", changed)
        self.assertNotIn(f"ver='{ver}'", changed)
        # RFC 6121 2.3.3 / 2.5.3 errors.
        self.assertIn("<bad-request", r1.iq("<query xmlns='jabber:iq:roster'><item jid='a@localhost'/>"
                                            "<item jid='b@localhost'/></query>", "set"))
        self.assertIn("<bad-request", r1.roster_set("peggy@localhost", "", "<group>g</group><group>g</group>"))
        self.assertIn("<not-acceptable", r1.roster_set("peggy@localhost", "", "<group></group>"))
        self.assertIn("<jid-malformed", r1.roster_set("a@@b"))
        self.assertIn("<item-not-found", r1.roster_set("nobody@localhost", " subscription='remove'"))
        self.assertIn("<forbidden", r1.iq("<query xmlns='jabber:iq:roster'/>", to="dave@localhost"))
        r1.close()
        r2.close()

    async def test_probe_filter_and_remove(self):
        dave = Raw(self.server, "dave", "r1")
        erin = Raw(self.server, "erin", "r1")
        befriend(dave, erin, "dave@localhost", "erin@localhost")
        # A new session of dave probes its contacts with its initial presence: erin's
        # server answers with erin's presence.
        dave2 = Raw(self.server, "dave", "r2", presence=False)
        dave2.send("<presence/>")
        dave2.expect(r"<presence[^>]*from='erin@localhost/r1'")
        erin.expect(r"<presence[^>]*from='dave@localhost/r2'")  # and erin hears of dave2
        # An explicit probe from a subscriber is answered, from a stranger it is not.
        dave.send("<presence type='probe' to='erin@localhost'/>")
        dave.expect(r"<presence[^>]*from='erin@localhost/r1'[^>]*to='dave@localhost/r1'")
        mal = Raw(self.server, "mallory", "r1")
        mal.send("<presence type='probe' to='erin@localhost'/>")
        mal.nothing(r"from='erin@localhost")
        # A non-contact's presence to the bare JID is not delivered; directed to a full JID it is.
        mal.send("<presence to='erin@localhost'><status>hello</status></presence>")
        erin.nothing(r"from='mallory@localhost")
        mal.send("<presence to='erin@localhost/r1'><status>direct</status></presence>")
        erin.expect(r"<presence[^>]*from='mallory@localhost/r1'.*direct")
        # Mallory logs out: erin, who got directed presence, hears it.
        mal.send("<presence type='unavailable'/>")
        erin.expect(r"<presence[^>]*from='mallory@localhost/r1'[^>]*type='unavailable'|"
                    r"<presence[^>]*type='unavailable'[^>]*from='mallory@localhost/r1'")
        # Roster remove: both directions are cancelled, both rosters get pushes.
        res = dave.roster_set("erin@localhost", " subscription='remove'")
        self.assertIn("type='result'", res)
        dave.expect(r"jid='erin@localhost' subscription='remove'")
        dave2.expect(r"jid='erin@localhost' subscription='remove'")
        erin.expect(r"<presence[^>]*type='unsubscribe'")
        erin.expect(r"<presence[^>]*type='unsubscribed'")
        erin.expect(r"jid='dave@localhost'[^>]*subscription='none'")
        erin.expect(r"<presence[^>]*type='unavailable'[^>]*from='dave@localhost/r1'|"
                    r"<presence[^>]*from='dave@localhost/r1'[^>]*type='unavailable'")  # RFC 6121 3.2.2
        # Erin no longer gets dave's presence.
        dave.send("<presence><status>still here</status></presence>")
        erin.nothing(r"still here")
        for c in (dave, dave2, erin, mal):
            c.close()

    async def test_pre_approval(self):
        ivan = Raw(self.server, "ivan", "r1")
        judy = Raw(self.server, "judy", "r1")
        ivan.send("<presence to='judy@localhost' type='subscribed'/>")  # nothing pending: pre-approval
        ivan.expect(r"jid='judy@localhost'[^>]*approved='true'")
        judy.nothing(r"type='subscribed'", timeout=0.5)
        judy.send("<presence to='ivan@localhost' type='subscribe'/>")
        judy.expect(r"<presence[^>]*type='subscribed'")
        judy.expect(r"<presence[^>]*from='ivan@localhost/r1'")  # ivan's presence follows
        ivan.expect(r"jid='judy@localhost'[^>]*subscription='from'")
        ivan.nothing(r"type='subscribe'", timeout=0.5)  # handled by the server
        ivan.close()
        judy.close()

    async def test_request_to_jid_without_account(self):
        """RFC 6121 3.1.3: a subscribe to a local bare JID that has no account is answered with
        an automatic unsubscribed from that JID; nothing is stored for it."""
        self.server.register("quinn")
        quinn = Raw(self.server, "quinn", "r1")
        quinn.send("<presence to='ghost@localhost' type='subscribe'><status>anyone?</status></presence>")
        quinn.expect(r"<iq[^>]*type='set'.*jid='ghost@localhost'[^>]*ask='subscribe'")  # pending out
        refusal = quinn.expect(r"<presence[^>]*type='unsubscribed'")
        self.assertIn("from='ghost@localhost'", refusal)
        self.assertIn("to='quinn@localhost'", refusal)
        # The refusal ends quinn's pending request (RFC 6121 3.2 / A.3.4): pushed without ask.
        push = quinn.expect(r"<iq[^>]*type='set'.*jid='ghost@localhost'[^>]*subscription='none'")
        self.assertNotIn("ask=", push)
        roster = quinn.iq("<query xmlns='jabber:iq:roster'/>")
        self.assertRegex(roster, r"jid='ghost@localhost' subscription='none'/>")
        # Other subscription types to it: no answer. Nothing is ever stored for the JID.
        quinn.send("<presence to='ghost@localhost' type='subscribed'/>")  # a pre-approval for quinn
        quinn.nothing(r"from='ghost@localhost'", timeout=0.5)
        self.assertEqual(self.rows("rosterusers", "ghost"), 0)
        # Once the account exists, a request is stored as usual (offline: ask 'I').
        self.server.register("ghost")
        quinn.send("<presence to='ghost@localhost' type='subscribe'/>")
        quinn.nothing(r"<presence[^>]*type='unsubscribed'", timeout=0.5)
        for _ in range(40):
            if self.rows("rosterusers", "ghost") == 1:
                break
            time.sleep(0.05)
        self.assertEqual(self.rows("rosterusers", "ghost"), 1)
        quinn.close()

    async def test_pending_request_delivered_at_login_and_account_removal(self):
        # Heidi is offline when grace asks: the request is stored and delivered at login.
        grace = Raw(self.server, "grace", "r1")
        grace.send("<presence to='heidi@localhost' type='subscribe'><status>hi heidi</status></presence>")
        grace.expect(r"jid='heidi@localhost'[^>]*ask='subscribe'")
        heidi = Raw(self.server, "heidi", "r1", presence=False)
        heidi.send("<presence/>")
        req = heidi.expect(r"<presence[^>]*type='subscribe'")
        self.assertIn("from='grace@localhost'", req)
        self.assertIn("hi heidi", req)
        # Not in heidi's roster until she answers (hidden pending request).
        self.assertNotIn("grace@localhost", heidi.iq("<query xmlns='jabber:iq:roster'/>"))
        heidi.send("<presence to='grace@localhost' type='subscribed'/>")
        heidi.expect(r"jid='grace@localhost'[^>]*subscription='from'")
        grace.expect(r"jid='heidi@localhost'[^>]*subscription='to'")
        grace.expect(r"<presence[^>]*from='heidi@localhost/r1'")  # heidi's presence follows
        self.assertEqual(self.rows("rosterusers", "grace"), 1)
        self.server.ctl("account", "removeUser", "--user", "grace@localhost")
        heidi.expect(r"<presence[^>]*type='unsubscribe'")  # grace's subscription to heidi ends
        heidi.expect(r"jid='grace@localhost'[^>]*subscription='none'")
        for _ in range(20):  # the deletes run after the hook, asynchronously
            time.sleep(0.25)
            if self.rows("rosterusers", "grace") == 0:
                break
        self.assertEqual(self.rows("rosterusers", "grace"), 0)
        self.assertEqual(self.rows("rostergroups", "grace"), 0)
        self.assertEqual(self.rows("roster_version", "grace"), 0)
        heidi.close()
        grace.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
