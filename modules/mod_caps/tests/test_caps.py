"""mod_caps end to end (XEP-0115).

- raw sockets: a client's presence with caps makes the server send disco#info (from the
  domain, node 'node#ver') to its full JID; a correct answer is verified and cached (a second
  client with the same ver is not asked; `aviaryctl caps getCaps` shows the features); the
  XEP's complex example (identities in two languages, an XEP-0128 form) verifies; an answer
  that does not match the ver is not cached (logged) and the next client with that ver is
  asked; an IQ error and unavailable presence are handled; an unsupported hash is asked and
  kept for that JID only;
- slixmpp with its xep_0115 plugin: the server asks, slixmpp answers, the ver verifies.
"""
import asyncio
import json
import logging
import os
import re
import socket
import ssl
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import RawClient, Server  # noqa: E402

import slixmpp  # noqa: E402

logging.basicConfig(level=os.environ.get("E2E_LOGLEVEL", "WARNING"))

CAPS = "http://jabber.org/protocol/caps"
INFO = "http://jabber.org/protocol/disco#info"
EXODUS_NODE = "http://code.google.com/p/exodus"
EXODUS_VER = "QgayPKawpkPSDYmwT/WM94uAlu0="
EXODUS_INFO = ("<identity category='client' name='Exodus 0.9.1' type='pc'/>"
               "<feature var='http://jabber.org/protocol/caps'/>"
               "<feature var='http://jabber.org/protocol/disco#info'/>"
               "<feature var='http://jabber.org/protocol/disco#items'/>"
               "<feature var='http://jabber.org/protocol/muc'/>")
PSI_NODE = "http://psi-im.org"
PSI_VER = "q07IKJEyjvHSyhy//CH0CxmKi8w="
PSI_INFO = ("<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>"
            "<identity xml:lang='el' category='client' name='\u03a8 0.11' type='pc'/>"
            "<feature var='http://jabber.org/protocol/caps'/>"
            "<feature var='http://jabber.org/protocol/disco#info'/>"
            "<feature var='http://jabber.org/protocol/disco#items'/>"
            "<feature var='http://jabber.org/protocol/muc'/>"
            "<x xmlns='jabber:x:data' type='result'>"
            "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>"
            "<field var='ip_version' type='text-multi'><value>ipv4</value><value>ipv6</value></field>"
            "<field var='os'><value>Mac</value></field>"
            "<field var='os_version'><value>10.5.1</value></field>"
            "<field var='software'><value>Psi</value></field>"
            "<field var='software_version'><value>0.11</value></field>"
            "</x>")

TAG = re.compile(r"<(/)?([^\s/>!?]+)[^>]*?(/)?>", re.S)


def attr(stanza, name):
    head = stanza[:stanza.index(">") + 1]
    m = re.search(rf"""\s{re.escape(name)}=(['"])(.*?)\1""", head)
    return m.group(2) if m else None


class Raw:
    """A plaintext client reading whole top-level stanzas."""

    def __init__(self, server, user, resource):
        self.c = RawClient(server.plain_port).login(user, resource=resource)
        self.jid = f"{user}@localhost/{resource}"
        self.text = ""

    def send(self, xml):
        self.c.send(xml)

    def _complete(self):
        out, pos = [], 0
        while True:
            m = re.compile(r"<(message|presence|iq)\b").search(self.text, pos)
            if not m:
                return out
            depth, end = 0, None
            for t in TAG.finditer(self.text, m.start()):
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

    def expect(self, pred, timeout=5, what="a stanza"):
        end = time.time() + timeout
        while True:
            for start, stop in self._complete():
                s = self.text[start:stop]
                if pred(s):
                    self.text = self.text[:start] + self.text[stop:]
                    return s
            left = end - time.time()
            if left <= 0:
                raise AssertionError(f"{self.jid}: no {what}; got {self.text[-1500:]!r}")
            self.c.s.settimeout(left)
            try:
                chunk = self.c.s.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise AssertionError(f"{self.jid}: closed waiting for {what}")
            self.text += chunk.decode(errors="replace")

    def nothing(self, pred, timeout=1.0):
        try:
            s = self.expect(pred, timeout)
        except AssertionError:
            return
        raise AssertionError(f"{self.jid}: unexpected {s}")

    def caps_presence(self, node, ver, hash_="sha-1"):
        h = f" hash='{hash_}'" if hash_ else ""
        self.send(f"<presence><c xmlns='{CAPS}'{h} node='{node}' ver='{ver}'/></presence>")

    def disco_query(self, timeout=5):
        return self.expect(lambda s: s.startswith("<iq") and attr(s, "type") == "get" and f"xmlns='{INFO}'" in s,
                           timeout, "disco#info query")

    def is_disco_query(self, s):
        return s.startswith("<iq") and f"xmlns='{INFO}'" in s

    def answer(self, q, payload):
        node = re.search(r"node='([^']*)'", q).group(1)
        self.send(f"<iq type='result' id='{attr(q, 'id')}' to='{attr(q, 'from')}'>"
                  f"<query xmlns='{INFO}' node='{node}'>{payload}</query></iq>")

    def close(self):
        self.c.close()


class CapsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_modules="  mod_caps: {}\n")
        for u in ("alice", "bob", "carol", "dave", "erin", "frank", "gina", "slix"):
            cls.server.register(u)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def tearDown(self):
        self.assertTrue(self.server.alive(), self.server.log_text())

    def client(self, user, resource):
        c = Raw(self.server, user, resource)
        self.addCleanup(c.close)
        return c

    def caps(self, jid, check=True):
        r = self.server.ctl("caps", "getCaps", "--jid", jid, "--json", check=check)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def wait_caps(self, jid, state, timeout=10):
        end = time.time() + timeout
        while True:
            c = self.caps(jid, check=False)
            if c and c["state"] == state:
                return c
            if time.time() > end:
                raise AssertionError(f"{jid}: caps not {state}: {c}; log:\n{self.server.log_text()[-3000:]}")
            time.sleep(0.1)

    def test_query_verify_and_cache(self):
        alice = self.client("alice", "exodus")
        alice.caps_presence(EXODUS_NODE, EXODUS_VER)
        q = alice.disco_query()
        # XEP-0115 6.2: from the server, to the exact full JID, node = node#ver.
        self.assertEqual(attr(q, "from"), "localhost")
        self.assertEqual(attr(q, "to"), "alice@localhost/exodus")
        self.assertIn(f"node='{EXODUS_NODE}#{EXODUS_VER}'", q)
        self.assertEqual(self.caps("alice@localhost/exodus")["state"], "pending")
        alice.answer(q, EXODUS_INFO)
        c = self.wait_caps("alice@localhost/exodus", "known")
        self.assertTrue(c["verified"])
        self.assertEqual(c["node"], EXODUS_NODE)
        self.assertEqual(c["ver"], EXODUS_VER)
        self.assertEqual(c["hash"], "sha-1")
        self.assertEqual(c["features"], ["http://jabber.org/protocol/caps", "http://jabber.org/protocol/disco#info",
                                         "http://jabber.org/protocol/disco#items", "http://jabber.org/protocol/muc"])
        self.assertEqual(c["identities"], [{"category": "client", "type": "pc", "lang": "", "name": "Exodus 0.9.1"}])
        self.assertIn("verified", self.server.log_text())
        # Another client with the same ver: known from the cache, never asked.
        bob = self.client("bob", "exodus")
        bob.caps_presence(EXODUS_NODE, EXODUS_VER)
        c = self.wait_caps("bob@localhost/exodus", "known")
        self.assertTrue(c["verified"])
        bob.nothing(bob.is_disco_query)
        # A status change with the same caps asks nothing either.
        alice.send(f"<presence><show>away</show><c xmlns='{CAPS}' hash='sha-1' node='{EXODUS_NODE}' "
                   f"ver='{EXODUS_VER}'/></presence>")
        alice.nothing(alice.is_disco_query, timeout=0.5)
        # Unavailable: forgotten.
        alice.send("<presence type='unavailable'/>")
        end = time.time() + 5
        while self.caps("alice@localhost/exodus", check=False) is not None and time.time() < end:
            time.sleep(0.1)
        r = self.server.ctl("caps", "getCaps", "--jid", "alice@localhost/exodus", check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("No caps", r.stderr + r.stdout)

    def test_complex_example_verifies(self):
        carol = self.client("carol", "psi")
        carol.caps_presence(PSI_NODE, PSI_VER)
        q = carol.disco_query()
        self.assertIn(f"node='{PSI_NODE}#{PSI_VER}'", q)
        carol.answer(q, PSI_INFO)
        c = self.wait_caps("carol@localhost/psi", "known")
        self.assertTrue(c["verified"])
        self.assertEqual(sorted(i["lang"] for i in c["identities"]), ["el", "en"])

    def test_wrong_answer_not_cached(self):
        bogus = "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
        dave = self.client("dave", "liar")
        dave.caps_presence(EXODUS_NODE, bogus)
        erin = self.client("erin", "same")
        erin.caps_presence(EXODUS_NODE, bogus)  # waits for dave's answer
        q = dave.disco_query()
        erin.nothing(erin.is_disco_query, timeout=0.5)
        dave.answer(q, EXODUS_INFO)  # the features of another ver
        c = self.wait_caps("dave@localhost/liar", "invalid")
        self.assertNotIn("features", c)
        log = self.server.log_text()
        self.assertIn("does not verify (mismatch): not cached", log)
        self.assertIn(bogus, log)
        # Not cached: the next client advertising it is asked in turn.
        q2 = erin.disco_query()
        self.assertIn(f"node='{EXODUS_NODE}#{bogus}'", q2)
        erin.answer(q2, EXODUS_INFO)
        self.wait_caps("erin@localhost/same", "invalid")
        frank = self.client("frank", "later")
        frank.caps_presence(EXODUS_NODE, bogus)
        frank.send("<iq type='error' id='%s' to='localhost'><query xmlns='%s'/>"
                   "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                   "</error></iq>" % (attr(frank.disco_query(), "id"), INFO))
        self.wait_caps("frank@localhost/later", "invalid")

    def test_unsupported_hash_kept_for_that_jid(self):
        gina = self.client("gina", "md5")
        gina.caps_presence(EXODUS_NODE, "whatever", hash_="md5")
        gina.answer(gina.disco_query(), EXODUS_INFO)
        c = self.wait_caps("gina@localhost/md5", "known")
        self.assertFalse(c["verified"])
        self.assertIn("http://jabber.org/protocol/muc", c["features"])

    def test_slixmpp_with_xep_0115(self):
        asyncio.run(self._slixmpp())

    async def _slixmpp(self):
        c = slixmpp.ClientXMPP("slix@localhost/caps", "secret")
        c.ssl_context.check_hostname = False
        c.ssl_context.verify_mode = ssl.CERT_NONE
        c.register_plugin("xep_0030")
        c.register_plugin("xep_0115")
        c.register_plugin("xep_0199")
        started = asyncio.get_event_loop().create_future()

        async def on_start(_):
            # slixmpp computes its ver only in update_caps; its presence filter then adds <c/>.
            await c["xep_0115"].update_caps(broadcast=False)
            c.send_presence()
            started.set_result(True)

        c.add_event_handler("session_start", on_start)
        c.connect(("127.0.0.1", self.server.port), force_starttls=True)
        try:
            await asyncio.wait_for(started, 15)
            end = time.time() + 15
            info = None
            while time.time() < end:
                info = await asyncio.get_event_loop().run_in_executor(None, self.caps, "slix@localhost/caps", False)
                if info and info["state"] != "pending":
                    break
                await asyncio.sleep(0.1)
            self.assertIsNotNone(info, self.server.log_text()[-3000:])
            self.assertEqual(info["state"], "known", f"{info}\n{self.server.log_text()[-3000:]}")
            self.assertTrue(info["verified"], info)
            self.assertEqual(info["hash"], "sha-1")
            self.assertTrue(info["node"].startswith("http://slixmpp.com/ver/"), info)
            for f in (CAPS, INFO, "urn:xmpp:ping"):
                self.assertIn(f, info["features"])
        finally:
            c.disconnect()
            await asyncio.sleep(0.2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
