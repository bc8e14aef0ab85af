"""mod_disco end to end (XEP-0030, XEP-0128, XEP-0157).

- disco#info to the server: identity server/im, disco#info/#items, the features of mod_ping,
  mod_time, mod_version and mod_offline (sorted, unique), and the serverinfo form;
- disco#items to the server lists extra_domains; an unclaimed node is item-not-found;
- disco#info to a user's bare JID: account/registered; unknown user: service-unavailable;
- without the optional modules only disco's own features are listed.
"""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import RawClient, Server  # noqa: E402

INFO = "http://jabber.org/protocol/disco#info"
ITEMS = "http://jabber.org/protocol/disco#items"
MODULES = """  mod_disco:
    server_info:
      - {name: abuse-addresses, urls: ["mailto:abuse@localhost"]}
      - {name: support-addresses, urls: ["xmpp:support@localhost", "mailto:support@localhost"]}
      - {name: muc-only, urls: ["mailto:x@localhost"], modules: [mod_muc]}
    extra_domains: [pubsub.localhost]
  mod_ping: {}
  mod_time: {}
  mod_version: {}
  mod_offline: {}
"""


def features(xml):
    return re.findall(r"<feature var='([^']*)'/>", xml)


class DiscoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_modules=MODULES)
        for u in ("alice", "bob"):
            cls.server.register(u)
        cls.c = RawClient(cls.server.plain_port).login("alice")

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        cls.server.stop()

    def ask(self, to, ns, id_, node=None):
        n = f" node='{node}'" if node else ""
        self.c.send(f"<iq type='get' id='{id_}' to='{to}'><query xmlns='{ns}'{n}/></iq>")
        return self.read_iq(id_)

    def read_iq(self, id_):
        while True:
            chunk = self.c.read_until("</iq>")
            if f"id='{id_}'" in chunk:
                return chunk

    def test_server_info(self):
        r = self.ask("localhost", INFO, "i1")
        self.assertIn("type='result'", r)
        self.assertIn("<identity category='server' type='im' name='Aviary'/>", r)
        f = features(r)
        self.assertEqual(f, sorted(set(f)))
        for want in (INFO, ITEMS, "urn:xmpp:ping", "urn:xmpp:time", "jabber:iq:version", "msgoffline"):
            self.assertIn(want, f)
        self.assertIn("<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/network/serverinfo</value></field>", r)
        self.assertIn("<field var='abuse-addresses'><value>mailto:abuse@localhost</value></field>", r)
        self.assertIn("<field var='support-addresses'><value>xmpp:support@localhost</value>"
                      "<value>mailto:support@localhost</value></field>", r)
        self.assertNotIn("muc-only", r)

    def test_server_items_and_nodes(self):
        r = self.ask("localhost", ITEMS, "t1")
        self.assertIn("<item jid='pubsub.localhost'/>", r)
        r = self.ask("localhost", INFO, "t2", node="no-such-node")
        self.assertIn("type='error'", r)
        self.assertIn("<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>", r)
        r = self.ask("localhost", ITEMS, "t3", node="no-such-node")
        self.assertIn("<item-not-found", r)

    def test_user_info(self):
        r = self.ask("bob@localhost", INFO, "u1")
        self.assertIn("type='result'", r)
        self.assertIn("from='bob@localhost'", r)
        self.assertIn("<identity category='account' type='registered'/>", r)
        self.assertIn(INFO, features(r))
        r = self.ask("alice@localhost", INFO, "u2")  # one's own account
        self.assertIn("<identity category='account' type='registered'/>", r)
        r = self.ask("bob@localhost", ITEMS, "u3")
        self.assertIn("type='result'", r)
        r = self.ask("nobody@localhost", INFO, "u4")
        self.assertIn("type='error'", r)
        self.assertIn("<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>", r)

    def test_set_not_allowed(self):
        self.c.send(f"<iq type='set' id='s1' to='localhost'><query xmlns='{INFO}'/></iq>")
        r = self.read_iq("s1")
        self.assertIn("<not-allowed", r)


class DiscoAloneTest(unittest.TestCase):
    def test_only_own_features(self):
        with Server(extra_modules="  mod_disco: {}\n") as server:
            server.register("alice")
            c = RawClient(server.plain_port).login("alice")
            c.send(f"<iq type='get' id='a1' to='localhost'><query xmlns='{INFO}'/></iq>")
            r = c.read_until("</iq>")
            self.assertEqual(features(r), [INFO, ITEMS])
            self.assertNotIn("jabber:x:data", r)
            c.send(f"<iq type='get' id='a2' to='localhost'><query xmlns='{ITEMS}'/></iq>")
            r = c.read_until("</iq>")
            self.assertIn("id='a2'", r)
            self.assertNotIn("<item ", r)
            c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
