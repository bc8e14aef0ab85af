"""An everyday-client scenario against the server with the module set of the packaged default
config (packaging/aviary.yaml), driven by slixmpp with its own XEP plugins:

a new account registers in band (XEP-0077); alice and bob add each other and see each other's
presence (RFC 6121); bob goes offline and gets what alice sent meanwhile at his next login
(XEP-0160, with XEP-0203 delay); carbons reach alice's second resource (XEP-0280); the vCard
round-trips (XEP-0054); disco lists the features of the loaded modules (XEP-0030); ping,
version and time answer; blocking stops delivery (XEP-0191).
"""
import asyncio
import os
import ssl
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import Server  # noqa: E402

import slixmpp  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
T = 15


def packaged_modules():
    """The `modules:` section of packaging/aviary.yaml, without mod_auth_internal (the harness
    always loads it), as YAML lines for Server(extra_modules=...)."""
    lines, inside = [], False
    with open(os.path.join(ROOT, "packaging", "aviary.yaml")) as f:
        for line in f:
            if line.startswith("modules:"):
                inside = True
                continue
            if inside:
                if line and not line.startswith(" ") and line.strip():
                    break
                if "mod_auth_internal" not in line and line.strip():
                    lines.append(line)
    return "".join(lines)


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password="secret", plugins=()):
        super().__init__(jid, password)
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        for p in ("xep_0030", "xep_0054", "xep_0092", "xep_0199", "xep_0202", "xep_0280", "xep_0191",
                  "xep_0203", *plugins):
            self.register_plugin(p)
        self.inbox = asyncio.Queue()
        self.presences = asyncio.Queue()
        self.started = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self._start)
        self.add_event_handler("message", lambda m: self.inbox.put_nowait(m))
        self.add_event_handler("carbon_received", lambda m: self.inbox.put_nowait(("carbon_received", m)))
        self.add_event_handler("carbon_sent", lambda m: self.inbox.put_nowait(("carbon_sent", m)))
        self.add_event_handler("changed_status", lambda p: self.presences.put_nowait(p))
        self.add_event_handler("presence_subscribe", lambda p: None)
        self.add_event_handler("failed_auth", lambda *_: self.started.done() or self.started.set_exception(
            AssertionError("auth failed")))

    async def _start(self, _):
        await self.get_roster()
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
            if pred(m):
                return m

    async def quit(self):
        self.disconnect()
        try:
            await asyncio.wait_for(self.disconnected, 5)
        except (asyncio.TimeoutError, TypeError):
            pass


def body_is(text):
    return lambda m: not isinstance(m, tuple) and m["body"] == text


class EverydayTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_modules=packaged_modules())
        cls.server.register("alice")
        cls.server.register("bob")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    async def asyncSetUp(self):
        self.clients = []

    async def asyncTearDown(self):
        for c in self.clients:
            await c.quit()
        self.assertTrue(self.server.alive(), self.server.log_text())

    async def login(self, jid, **kw):
        c = Client(jid, **kw)
        self.clients.append(c)
        return await c.up(self.server.port)

    async def test_1_in_band_registration(self):
        c = Client("carol@localhost/reg", password="c4rol-pw", plugins=("xep_0077",))
        # slixmpp 1.8 holds every IQ back until a session exists, the registration IQs too,
        # unless told to send everything.
        c._always_send_everything = True
        done = asyncio.get_event_loop().create_future()

        async def register(_):
            resp = c.Iq()
            resp["type"] = "set"
            resp["register"]["username"] = "carol"
            resp["register"]["password"] = "c4rol-pw"
            try:
                await resp.send(timeout=T)
                done.set_result(True)
            except Exception as e:  # noqa: BLE001 - reported by the assertion below
                done.set_exception(e)
            c.disconnect()

        c.add_event_handler("register", register)
        c.connect(("127.0.0.1", self.server.port))
        await asyncio.wait_for(done, T)
        carol = await self.login("carol@localhost/app", password="c4rol-pw")
        self.assertTrue(carol.is_connected())

    async def test_2_roster_presence_offline_carbons(self):
        alice = await self.login("alice@localhost/phone")
        bob = await self.login("bob@localhost/desk")
        # Mutual subscription, the way clients do it.
        alice.send_presence_subscription(pto="bob@localhost")
        bob.send_presence_subscription(pto="alice@localhost")
        for _ in range(100):
            ra, rb = alice.client_roster["bob@localhost"], bob.client_roster["alice@localhost"]
            if ra["subscription"] == "both" and rb["subscription"] == "both":
                break
            await asyncio.sleep(0.1)
        self.assertEqual(alice.client_roster["bob@localhost"]["subscription"], "both")
        self.assertEqual(bob.client_roster["alice@localhost"]["subscription"], "both")
        for _ in range(100):
            if alice.client_roster["bob@localhost"].resources:
                break
            await asyncio.sleep(0.1)
        self.assertIn("desk", alice.client_roster["bob@localhost"].resources)

        # Bob goes away; alice's messages wait for him.
        await bob.quit()
        self.clients.remove(bob)
        for _ in range(100):
            if not alice.client_roster["bob@localhost"].resources:
                break
            await asyncio.sleep(0.1)
        self.assertFalse(alice.client_roster["bob@localhost"].resources, "bob's unavailable presence not seen")
        for i in range(3):
            alice.send_message(mto="bob@localhost", mbody=f"while you were out {i}", mtype="chat")
        await asyncio.sleep(0.5)
        bob = await self.login("bob@localhost/desk")
        got = [await bob.next_message(lambda m: not isinstance(m, tuple) and m["body"].startswith("while"))
               for _ in range(3)]
        self.assertEqual([m["body"] for m in got], [f"while you were out {i}" for i in range(3)])
        self.assertTrue(got[0]["delay"]["stamp"], "no XEP-0203 delay on an offline message")

        # Carbons: alice's second resource sees both directions.
        alice2 = await self.login("alice@localhost/laptop")
        await alice["xep_0280"].enable()
        await alice2["xep_0280"].enable()
        await asyncio.sleep(0.2)
        alice.send_message(mto="bob@localhost/desk", mbody="sent from phone", mtype="chat")
        await bob.next_message(body_is("sent from phone"))
        kind, m = await alice2.next_message(lambda m: isinstance(m, tuple) and m[0] == "carbon_sent")
        self.assertEqual(m["carbon_sent"]["body"], "sent from phone")
        bob.send_message(mto="alice@localhost/phone", mbody="to the phone", mtype="chat")
        await alice.next_message(body_is("to the phone"))
        kind, m = await alice2.next_message(lambda m: isinstance(m, tuple) and m[0] == "carbon_received")
        self.assertEqual(m["carbon_received"]["body"], "to the phone")

    async def test_3_vcard_disco_ping_version_time(self):
        alice = await self.login("alice@localhost/vc")
        vcard = alice["xep_0054"].make_vcard()
        vcard["FN"] = "Alice Liddell"
        vcard["NICKNAME"] = "alice"
        await alice["xep_0054"].publish_vcard(vcard, timeout=T)
        bob = await self.login("bob@localhost/vc")
        res = await bob["xep_0054"].get_vcard("alice@localhost", cached=False, timeout=T)
        self.assertEqual(res["vcard_temp"]["FN"], "Alice Liddell")

        info = await alice["xep_0030"].get_info(jid="localhost", timeout=T)
        features = set(info["disco_info"]["features"])
        for f in ("urn:xmpp:ping", "jabber:iq:version", "urn:xmpp:time", "vcard-temp", "msgoffline",
                  "urn:xmpp:carbons:2", "urn:xmpp:blocking", "jabber:iq:register"):
            self.assertIn(f, features)
        await alice["xep_0199"].ping(jid="localhost", timeout=T)
        v = await alice["xep_0092"].get_version("localhost", timeout=T)
        self.assertEqual(v["software_version"]["name"], "Aviary")
        t = await alice["xep_0202"].get_entity_time("localhost", timeout=T)
        # Read the text itself: slixmpp 1.8's getter appends a second 'Z' to a correct stamp.
        utc = t.xml.find("{urn:xmpp:time}time/{urn:xmpp:time}utc").text
        self.assertRegex(utc, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

    async def test_4_blocking(self):
        alice = await self.login("alice@localhost/blk")
        bob = await self.login("bob@localhost/blk")
        await bob["xep_0191"].block("alice@localhost", timeout=T)
        alice.send_message(mto="bob@localhost/blk", mbody="can you hear me", mtype="chat")
        with self.assertRaises(asyncio.TimeoutError):
            await bob.next_message(body_is("can you hear me"), timeout=1)
        await bob["xep_0191"].unblock("alice@localhost", timeout=T)
        alice.send_message(mto="bob@localhost/blk", mbody="and now", mtype="chat")
        await bob.next_message(body_is("and now"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
