"""mod_mam end to end (XEP-0313 with XEP-0059, 0359, 0424), driven by slixmpp's own xep_0313
plugin, on SQLite, and on PostgreSQL / MariaDB in the _pgsql / _mysql runs:

- a chat is archived on both sides; the delivered copy carries <stanza-id by=recipient/> with
  the id of the recipient's archive; a client's forged stanza-id is removed;
- 200 messages page forwards and backwards (slixmpp's RSM iterator) with no gap or repeat;
- filters: with, start/end, before-id/after-id, ids, full text, flip-page, RSM count/index,
  the last page, unknown ids -> item-not-found, unknown field -> feature-not-implemented;
- the form, archive metadata, disco features;
- prefs never stops archiving (and the stanza-id), and survives a restart;
- retraction turns the archived message into a tombstone on both sides;
- an offline recipient's archive gets the message once (also after it is delivered);
- the archive survives a restart; SIGTERM right after a burst loses nothing;
- aviaryctl stanza getLastMessages, mam removeArchive, mam stats; account removal.
"""
# e2e: also-pgsql
# e2e: also-mysql
import asyncio
import contextlib
import datetime
import json
import os
import re
import ssl
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
from harness import MariaDbServer, PgServer, RawClient, Server, want_mysql, want_pg  # noqa: E402

import slixmpp  # noqa: E402
from slixmpp.exceptions import IqError  # noqa: E402

T = 20
MAM = "urn:xmpp:mam:2"
SID = "urn:xmpp:sid:0"
MODULES = """  mod_roster: {}
  mod_presence: {}
  mod_disco: {}
  mod_offline: {}
  mod_mam: {async_writer: {flush_interval: 500}}
"""


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password="secret"):
        super().__init__(jid, password)
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        for p in ("xep_0030", "xep_0059", "xep_0313", "xep_0297", "xep_0203"):
            self.register_plugin(p)
        self.inbox = asyncio.Queue()
        self.started = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self._start)
        self.add_event_handler("message", lambda m: self.inbox.put_nowait(m))

    async def _start(self, _):
        self.send_presence()
        if not self.started.done():
            self.started.set_result(True)

    async def up(self, port):
        self.connect(("127.0.0.1", port))
        await asyncio.wait_for(self.started, T)
        return self

    async def next_message(self, pred=lambda m: True, timeout=T):
        while True:
            m = await asyncio.wait_for(self.inbox.get(), timeout)
            if m["mam_result"]["id"]:
                continue  # archive results are read through the plugin
            if pred(m):
                return m

    async def quit(self):
        self.disconnect()
        with contextlib.suppress(asyncio.TimeoutError, TypeError):
            await asyncio.wait_for(self.disconnected, 5)

    async def mam(self, **kw):
        """All pages of a query through slixmpp's RSM iterator: the forwarded messages."""
        out = []
        async for m in self["xep_0313"].iterate(jid=self.boundjid.bare, **kw):
            out.append(m)
        return out

    async def query_raw(self, fields=None, rsm=None, flip=False):
        """One query built by hand (the fields slixmpp has no keyword for): (results, fin)."""
        iq = self.make_iq_set(ito=self.boundjid.bare)
        q = ET.SubElement(iq.xml, f"{{{MAM}}}query", queryid=iq["id"])
        x = ET.SubElement(q, "{jabber:x:data}x", type="submit")
        for var, values in [("FORM_TYPE", [MAM])] + list((fields or {}).items()):
            f = ET.SubElement(x, "{jabber:x:data}field", var=var)
            for v in values if isinstance(values, list) else [values]:
                ET.SubElement(f, "{jabber:x:data}value").text = v
        if rsm is not None:
            s = ET.SubElement(q, "{http://jabber.org/protocol/rsm}set")
            for k, v in rsm.items():
                ET.SubElement(s, "{http://jabber.org/protocol/rsm}" + k).text = v
        if flip:
            ET.SubElement(q, f"{{{MAM}}}flip-page")
        got = []
        handler = slixmpp.xmlstream.handler.Callback(
            "mam-raw-" + iq["id"],
            slixmpp.xmlstream.matcher.MatchXPath(f"{{jabber:client}}message/{{{MAM}}}result"),
            lambda m: got.append(m) if m.xml.find(f"{{{MAM}}}result").get("queryid") == iq["id"] else None)
        self.register_handler(handler)
        try:
            res = await iq.send(timeout=T)
        finally:
            self.remove_handler("mam-raw-" + iq["id"])
        fin = res.xml.find(f"{{{MAM}}}fin")
        return [r.xml.find(f"{{{MAM}}}result") for r in got], fin


def body_of(result):
    """The body of a forwarded message in a <result/> element or a slixmpp message."""
    el = result.xml if hasattr(result, "xml") else result
    b = el.find(".//{jabber:client}body")
    return b.text if b is not None else None


def result_id(result):
    el = result.xml if hasattr(result, "xml") else result
    r = el if el.tag == f"{{{MAM}}}result" else el.find(f"{{{MAM}}}result")
    return r.get("id")


def rsm(fin, name):
    el = fin.find("{http://jabber.org/protocol/rsm}set/{http://jabber.org/protocol/rsm}" + name)
    return el


class MamTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = contextlib.ExitStack()
        cls.pg = cls.stack.enter_context(PgServer()) if want_pg() else None
        cls.my = cls.stack.enter_context(MariaDbServer()) if want_mysql() else None
        db = cls.pg or cls.my
        cls.server = Server(rdbms=db.rdbms if db else None, extra_modules=MODULES)
        cls.stack.callback(lambda: cls.server.stop())
        cls.users = set()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    async def asyncSetUp(self):
        self.clients = []

    async def asyncTearDown(self):
        for c in self.clients:
            await c.quit()
        self.assertTrue(self.server.alive(), self.server.log_text()[-3000:])

    def user(self, name):
        if name not in self.users:
            self.server.register(name)
            self.users.add(name)
        return f"{name}@localhost"

    async def login(self, name, resource="r"):
        c = Client(self.user(name) + "/" + resource)
        self.clients.append(c)
        return await c.up(self.server.port)

    def ctl_json(self, *args):
        return json.loads(self.server.ctl(*args, "--json").stdout)

    async def chat(self, sender, to, bodies, receiver=None):
        for b in bodies:
            sender.send_message(mto=to, mbody=b, mtype="chat")
        got = []
        if receiver:
            for b in bodies:
                got.append(await receiver.next_message(lambda m, b=b: m["body"] == b))
        return got

    # ------------------------------------------------------------------ tests

    async def test_archive_both_sides_with_stanza_id(self):
        alice, bob = await self.login("a1"), await self.login("b1")
        got = await self.chat(alice, "b1@localhost", ["one", "two", "three"], bob)
        sids = []
        for m in got:
            sid = m.xml.find(f"{{{SID}}}stanza-id")
            self.assertIsNotNone(sid, str(m))
            self.assertEqual(sid.get("by"), "b1@localhost")
            sids.append(sid.get("id"))
        mine = await alice.mam(with_jid=slixmpp.JID("b1@localhost"))
        self.assertEqual([body_of(m) for m in mine], ["one", "two", "three"])
        theirs = await bob.mam()
        self.assertEqual([body_of(m) for m in theirs], ["one", "two", "three"])
        self.assertEqual([result_id(m) for m in theirs], sids)
        fwd = theirs[0]["mam_result"]["forwarded"]
        self.assertEqual(str(fwd["stanza"]["from"]), str(alice.boundjid))
        self.assertTrue(fwd["delay"].xml.get("stamp"))

    async def test_forged_stanza_id_is_removed(self):
        alice, bob = await self.login("a2"), await self.login("b2")
        m = alice.make_message(mto="b2@localhost", mbody="forged", mtype="chat")
        ET.SubElement(m.xml, f"{{{SID}}}stanza-id", by="b2@localhost", id="FAKE")
        m.send()
        got = await bob.next_message(lambda m: m["body"] == "forged")
        ids = [e.get("id") for e in got.xml.findall(f"{{{SID}}}stanza-id")]
        self.assertEqual(len(ids), 1)
        self.assertNotEqual(ids[0], "FAKE")
        theirs = await bob.mam()
        self.assertEqual([result_id(r) for r in theirs], ids)

    async def test_paging_200_forwards_and_backwards(self):
        alice, bob = await self.login("a3"), await self.login("b3")
        bodies = [f"m{i:03d}" for i in range(200)]
        await self.chat(alice, "b3@localhost", bodies, bob)
        fwd = await bob.mam(rsm={"max": 17})
        self.assertEqual([body_of(m) for m in fwd], bodies)
        # Backwards as clients scroll up: <before/> the oldest message seen. (slixmpp 1.8's own
        # reverse iterator stops after the last page, whose index + size equals the count.)
        back, before = [], ""
        while True:
            res, fin = await bob.query_raw(rsm={"max": "23", "before": before})
            back = [body_of(r) for r in res] + back
            if fin.get("complete") == "true":
                break
            before = rsm(fin, "first").text
        self.assertEqual(back, bodies)
        ids = [result_id(m) for m in fwd]
        self.assertEqual(len(set(ids)), 200)
        # The last page: count, index of its first message, complete.
        res, fin = await bob.query_raw(rsm={"max": "10", "before": ""})
        self.assertEqual([body_of(r) for r in res], bodies[-10:])
        self.assertEqual(rsm(fin, "count").text, "200")
        self.assertEqual(rsm(fin, "first").get("index"), "190")
        self.assertEqual(rsm(fin, "first").text, ids[190])
        self.assertEqual(rsm(fin, "last").text, ids[199])
        self.assertIsNone(fin.get("complete"))
        # The first page is complete only when nothing follows.
        res, fin = await bob.query_raw(rsm={"max": "10", "after": ids[189]})
        self.assertEqual(fin.get("complete"), "true")
        self.assertEqual(len(res), 10)
        # Flipped: same page, sent newest first; RSM unchanged.
        res, fin = await bob.query_raw(rsm={"max": "5", "after": ids[9]}, flip=True)
        self.assertEqual([body_of(r) for r in res], list(reversed(bodies[10:15])))
        self.assertEqual(rsm(fin, "first").text, ids[10])
        # before-id / after-id fields, and ids
        res, _ = await bob.query_raw({"after-id": ids[49], "before-id": ids[53]})
        self.assertEqual([body_of(r) for r in res], bodies[50:53])
        res, _ = await bob.query_raw({"ids": [ids[7], ids[3]]})
        self.assertEqual([body_of(r) for r in res], [bodies[3], bodies[7]])
        # RSM index paging
        res, fin = await bob.query_raw(rsm={"max": "3", "index": "100"})
        self.assertEqual([body_of(r) for r in res], bodies[100:103])

    async def test_filters_time_with_fulltext(self):
        alice, bob, carol = await self.login("a4"), await self.login("b4"), await self.login("c4")
        await self.chat(alice, "b4@localhost", ["Hello Bob, nice weather"], bob)
        await asyncio.sleep(1.1)
        t_mid = datetime.datetime.now(datetime.timezone.utc)
        await asyncio.sleep(0.1)
        await self.chat(carol, "b4@localhost", ["weather report: rain"], bob)
        await self.chat(alice, "b4@localhost", ["bye"], bob)
        with_alice = await bob.mam(with_jid=slixmpp.JID("a4@localhost"))
        self.assertEqual([body_of(m) for m in with_alice], ["Hello Bob, nice weather", "bye"])
        with_full = await bob.mam(with_jid=alice.boundjid)
        self.assertEqual(len(with_full), 2)
        after = await bob.mam(start=t_mid)
        self.assertEqual([body_of(m) for m in after], ["weather report: rain", "bye"])
        before = await bob.mam(end=t_mid)
        self.assertEqual([body_of(m) for m in before], ["Hello Bob, nice weather"])
        res, _ = await bob.query_raw({"{urn:xmpp:fulltext:0}fulltext": "WEATHER"})
        self.assertEqual(len(res), 2)
        res, _ = await bob.query_raw({"{urn:xmpp:fulltext:0}fulltext": "weather rain"})
        self.assertEqual([body_of(r) for r in res], ["weather report: rain"])
        res, _ = await bob.query_raw({"{urn:xmpp:fulltext:0}fulltext": "snow"})
        self.assertEqual(res, [])

    async def test_errors(self):
        bob = await self.login("b5")
        for fields, rsmv, cond in [({"bogus": "1"}, None, "feature-not-implemented"),
                                   ({"start": "yesterday"}, None, "bad-request"),
                                   ({"after-id": "AAAAAAAAAA"}, None, "item-not-found"),
                                   ({"ids": ["ZZ"]}, None, "item-not-found"),
                                   (None, {"after": "AAAAAAAAAA"}, "item-not-found"),
                                   ({"with": "@@@"}, None, "jid-malformed")]:
            with self.assertRaises(IqError) as e:
                await bob.query_raw(fields, rsmv)
            self.assertEqual(e.exception.iq["error"]["condition"], cond, (fields, rsmv))
        # another user's archive
        iq = bob.make_iq_set(ito="a1@localhost")
        ET.SubElement(iq.xml, f"{{{MAM}}}query")
        with self.assertRaises(IqError) as e:
            await iq.send(timeout=T)
        self.assertEqual(e.exception.iq["error"]["condition"], "forbidden")

    async def test_form_metadata_disco(self):
        alice, bob = await self.login("a6"), await self.login("b6")
        form = await bob["xep_0313"].get_fields(jid=bob.boundjid.bare)
        names = [f["var"] for f in form["fields"]]
        self.assertIn("{urn:xmpp:fulltext:0}fulltext", names)
        self.assertIn("before-id", names)
        md = await bob["xep_0313"].get_archive_metadata(jid=bob.boundjid.bare)
        self.assertIsNone(md.xml.find(f"{{{MAM}}}metadata/{{{MAM}}}start"))
        await self.chat(alice, "b6@localhost", ["x", "y"], bob)
        ids = [result_id(m) for m in await bob.mam()]
        md = await bob["xep_0313"].get_archive_metadata(jid=bob.boundjid.bare)
        self.assertEqual(md.xml.find(f"{{{MAM}}}metadata/{{{MAM}}}start").get("id"), ids[0])
        self.assertEqual(md.xml.find(f"{{{MAM}}}metadata/{{{MAM}}}end").get("id"), ids[-1])
        info = await bob["xep_0030"].get_info(jid=bob.boundjid.bare)
        for f in ("urn:xmpp:mam:1", "urn:xmpp:mam:2", "urn:xmpp:mam:2#extended"):
            self.assertIn(f, info["disco_info"]["features"])

    async def prefs(self, c, default=None, never=()):
        iq = c.make_iq_set() if default else c.make_iq_get()
        iq["to"] = c.boundjid.bare
        p = ET.SubElement(iq.xml, f"{{{MAM}}}prefs")
        if default:
            p.set("default", default)
            ET.SubElement(p, f"{{{MAM}}}always")
            n = ET.SubElement(p, f"{{{MAM}}}never")
            for j in never:
                ET.SubElement(n, f"{{{MAM}}}jid").text = j
        res = await iq.send(timeout=T)
        return res.xml.find(f"{{{MAM}}}prefs")

    async def test_prefs_never(self):
        alice, bob, carol = await self.login("a7"), await self.login("b7"), await self.login("c7")
        self.assertEqual((await self.prefs(bob)).get("default"), "always")
        p = await self.prefs(bob, "always", never=["a7@localhost"])
        self.assertEqual([j.text for j in p.findall(f"{{{MAM}}}never/{{{MAM}}}jid")], ["a7@localhost"])
        got = await self.chat(alice, "b7@localhost", ["not archived for bob"], bob)
        self.assertIsNone(got[0].xml.find(f"{{{SID}}}stanza-id"))  # no row, no id
        await self.chat(carol, "b7@localhost", ["archived"], bob)
        self.assertEqual([body_of(m) for m in await bob.mam()], ["archived"])
        self.assertEqual([body_of(m) for m in await alice.mam()], ["not archived for bob"])
        p = await self.prefs(bob, "never")
        await self.chat(carol, "b7@localhost", ["never mode"], bob)
        self.assertEqual([body_of(m) for m in await bob.mam()], ["archived"])
        self.assertEqual((await self.prefs(bob)).get("default"), "never")

    async def test_retraction(self):
        alice, bob = await self.login("a8"), await self.login("b8")
        m = alice.make_message(mto="b8@localhost", mbody="oops", mtype="chat")
        ET.SubElement(m.xml, f"{{{SID}}}origin-id", id="orig-1")
        m.send()
        await bob.next_message(lambda m: m["body"] == "oops")
        r = alice.make_message(mto="b8@localhost", mbody="This person attempted to retract a previous message",
                               mtype="chat")
        ET.SubElement(r.xml, "{urn:xmpp:message-retract:1}retract", id="orig-1")
        ET.SubElement(r.xml, "{urn:xmpp:hints}store")
        r.send()
        await bob.next_message(lambda m: m.xml.find("{urn:xmpp:message-retract:1}retract") is not None)
        for c in (alice, bob):
            for _ in range(50):
                res = await c.mam()
                first = res[0]["mam_result"]["forwarded"]["stanza"].xml
                if first.find("{urn:xmpp:message-retract:1}retracted") is not None:
                    break
                await asyncio.sleep(0.1)
            self.assertIsNotNone(first.find("{urn:xmpp:message-retract:1}retracted"), ET.tostring(first))
            self.assertIsNone(first.find("{jabber:client}body"))
            self.assertEqual(len(res), 2)  # the tombstone and the retraction itself

    async def test_offline_recipient_archived_once(self):
        alice = await self.login("a9")
        self.user("b9")
        await self.chat(alice, "b9@localhost", ["while you were out"])
        await asyncio.sleep(0.3)
        bob = await self.login("b9")
        got = await bob.next_message(lambda m: m["body"] == "while you were out")
        sid = got.xml.find(f"{{{SID}}}stanza-id")
        self.assertIsNotNone(sid)
        await asyncio.sleep(0.3)
        res = await bob.mam()
        self.assertEqual([body_of(m) for m in res], ["while you were out"])
        self.assertEqual(result_id(res[0]), sid.get("id"))

    async def test_z_restart_sigterm_commands(self):
        alice, bob = await self.login("a10"), await self.login("b10")
        await self.chat(alice, "b10@localhost", ["before restart"], bob)
        await self.prefs(alice, "always", never=["nobody@localhost"])
        # A burst, then SIGTERM before the writer's interval: the stop flushes it.
        raw = RawClient(self.server.plain_port).login("a10", resource="raw")
        for i in range(300):
            raw.send(f"<message to='b10@localhost' type='chat'><body>burst {i}</body></message>")
        for i in range(300):
            await bob.next_message(lambda m, i=i: m["body"] == f"burst {i}")
        raw.close()
        for c in self.clients:
            await c.quit()
        self.clients = []
        self.server.restart()
        bob = await self.login("b10")
        res = await bob.mam()
        self.assertEqual([body_of(m) for m in res], ["before restart"] + [f"burst {i}" for i in range(300)])
        alice = await self.login("a10")
        p = await self.prefs(alice)
        self.assertEqual([j.text for j in p.findall(f"{{{MAM}}}never/{{{MAM}}}jid")], ["nobody@localhost"])
        last = self.ctl_json("stanza", "getLastMessages", "--caller", "b10@localhost", "--limit", "3")
        self.assertEqual([re.search(r"<body>(.*?)</body>", s["stanza"]).group(1) for s in last["stanzas"]],
                         ["burst 297", "burst 298", "burst 299"])
        self.assertEqual(last["stanzas"][0]["sender"], "a10@localhost/raw")
        stats = self.ctl_json("mam", "stats")
        self.assertEqual(stats["pm"]["dropped"], 0)
        self.server.ctl("mam", "removeArchive", "--user", "b10@localhost")
        self.assertEqual(await bob.mam(), [])
        self.assertEqual(len(await alice.mam()), 301)
        await alice.quit()
        self.clients.remove(alice)
        self.server.ctl("account", "removeUser", "--user", "a10@localhost")
        self.users.discard("a10")
        alice = await self.login("a10")
        self.assertEqual(await alice.mam(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
