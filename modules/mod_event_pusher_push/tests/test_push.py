# e2e: also-pgsql
# e2e: also-mysql
"""mod_event_pusher_push (XEP-0357) end to end, with mod_push_service_mongoosepush:

- enable/disable IQs: errors (get -> not-allowed, missing node / empty jid / bad forms ->
  bad-request, another user's JID -> forbidden), the three ways to address it (no 'to', the
  bare JID, the server), the rows in event_pusher_push_subscription, disco features;
- virtual PubSub host: a user with a registration goes offline, receives a message
  (aviaryctl stanza sendMessage) -> MongoosePush gets POST /v3/notification/<device_id> with
  MongooseIM's exact JSON (alert; silent data; groupchat sender); HTTP 410 disables it;
- PubSub path: the PubSub JID is an "app server" client's full JID, which receives the publish
  IQ with the exact payload; an error of type cancel disables the registration (wait does not);
- disable without node, account removal;
- plugin_module enhanced: a message a lost XEP-0198 session never acknowledged notifies that
  session's registration although another resource is online.
Runs on SQLite, and on PostgreSQL / MariaDB in its _pgsql / _mysql registrations.
"""
import json
import os
import re
import socket
import subprocess
import sys
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import PgServer, RawClient, Server, attr_is, next_stanza, wait_iq, want_pg  # noqa: E402
from http_sink import HttpSink  # noqa: E402

MariaDbServer = getattr(harness, "MariaDbServer", None)
want_mysql = getattr(harness, "want_mysql", lambda: False)

NS_PUSH = "urn:xmpp:push:0"
NS_XDATA = "jabber:x:data"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
PUBLISH_OPTIONS = "http://jabber.org/protocol/pubsub#publish-options"


def form(fields, form_type=PUBLISH_OPTIONS, type_="submit"):
    x = f"<x xmlns='{NS_XDATA}' type='{type_}'><field var='FORM_TYPE'><value>{form_type}</value></field>"
    for k, v in fields:
        vals = v if isinstance(v, list) else [v]
        x += f"<field var='{k}'>" + "".join(f"<value>{e}</value>" for e in vals) + "</field>"
    return x + "</x>"


def enable(jid, node, fields=None):
    attrs = (f" jid='{jid}'" if jid is not None else "") + (f" node='{node}'" if node is not None else "")
    return f"<enable xmlns='{NS_PUSH}'{attrs}>" + (form(fields) if fields is not None else "") + "</enable>"


def disable(jid, node=None):
    return f"<disable xmlns='{NS_PUSH}' jid='{jid}'" + (f" node='{node}'" if node is not None else "") + "/>"


def form_fields(x):
    """{var: [values]} of a jabber:x:data element, and the order of the vars."""
    out, order = {}, []
    for f in x.findall(f"{{{NS_XDATA}}}field"):
        out[f.get("var")] = [v.text or "" for v in f.findall(f"{{{NS_XDATA}}}value")]
        order.append(f.get("var"))
    return out, order


class PushTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = HttpSink()
        cls.pg = PgServer() if want_pg() else None
        cls.my = MariaDbServer() if want_mysql() and not cls.pg else None
        db = cls.pg or cls.my
        pools = (f"  http:\n    mongoose_push:\n      connection: {{host: '{cls.sink.url}', path_prefix: /,"
                 f" request_timeout: 3000}}\n")
        modules = ("  mod_disco: {}\n"
                   "  mod_event_pusher:\n    push:\n      virtual_pubsub_hosts: ['push.@HOST@']\n"
                   "  mod_push_service_mongoosepush: {pool_name: mongoose_push}\n")
        try:
            cls.server = Server(rdbms=db.rdbms if db else None, extra_pools=pools, extra_modules=modules)
        except BaseException:
            cls.sink.stop()
            if db:
                db.stop()
            raise
        for u in ("alice", "bob", "carol", "dave", "erin", "appserver", "frank", "gina"):
            cls.server.register(u)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.sink.stop()
            if cls.pg or cls.my:
                (cls.pg or cls.my).stop()

    # -- helpers --
    def sql(self, query):
        if self.pg:
            return self.pg.psql(query).strip()
        if self.my:
            return self.my.sql(query).strip()
        db = os.path.join(self.server.dir, "data", "aviary.db")
        return subprocess.run(["sqlite3", db, query], capture_output=True, text=True, check=True,
                              timeout=30).stdout.strip()

    def nodes(self, owner):
        out = self.sql(f"SELECT node FROM event_pusher_push_subscription WHERE owner_jid = '{owner}' ORDER BY node")
        return [line.strip() for line in out.splitlines() if line.strip()]

    def wait_nodes(self, owner, want, timeout=10):
        end = time.time() + timeout
        while self.nodes(owner) != want and time.time() < end:
            time.sleep(0.05)
        self.assertEqual(self.nodes(owner), want)

    def client(self, user, resource="r1"):
        c = RawClient(self.server.plain_port).login(user, resource=resource)
        self.addCleanup(c.close)
        return c

    def iq(self, c, body, id_, type_="set", to=None):
        to_attr = f" to='{to}'" if to else ""
        c.send(f"<iq type='{type_}' id='{id_}'{to_attr}>{body}</iq>")
        return wait_iq(c, id_)

    def assert_result(self, r):
        self.assertTrue(attr_is(r, "type", "result"), r)

    def assert_error(self, r, cond, type_):
        self.assertTrue(attr_is(r, "type", "error"), r)
        self.assertRegex(r, rf"<error[^>]*type=['\"]{type_}['\"]")
        self.assertIn(f"<{cond} xmlns", r)

    def go_offline(self, c, user):
        c.close()
        end = time.time() + 10
        while time.time() < end:
            out = self.server.ctl("session", "listSessions", "--domain", "localhost").stdout
            if f"{user}@localhost/" not in out:
                return
            time.sleep(0.05)
        self.fail(f"{user} still has a session")

    def send(self, to, body, sender="bob@localhost"):
        self.server.ctl("stanza", "sendMessage", "--from", sender, "--to", to, "--body", body)

    def stats(self):
        return self.server.ctl("event_pusher", "pushStats").stdout.strip()

    def counter(self, name, text=None):
        m = re.search(rf"\b{re.escape(name)} (\d+)", text if text is not None else self.stats())
        self.assertIsNotNone(m, f"no counter {name}")
        return int(m.group(1))

    def wait_counter(self, name, want, timeout=10):
        end = time.time() + timeout
        while self.counter(name) < want and time.time() < end:
            time.sleep(0.05)
        self.assertEqual(self.counter(name), want, self.stats())

    # -- tests --
    def test_1_iq_errors_and_addressing(self):
        alice = self.client("alice")
        self.assert_error(self.iq(alice, enable("push.localhost", "n1"), "g1", "get"), "not-allowed", "cancel")
        self.assert_error(self.iq(alice, enable("push.localhost", None), "e1"), "bad-request", "modify")
        self.assert_error(self.iq(alice, enable("push.localhost", ""), "e2"), "bad-request", "modify")
        self.assert_error(self.iq(alice, enable("", "n1"), "e3"), "bad-request", "modify")
        self.assert_error(self.iq(alice, enable(None, "n1"), "e4"), "bad-request", "modify")
        self.assert_error(self.iq(alice, enable("a@", "n1"), "e5"), "bad-request", "modify")
        bad_forms = [form([("device_id", "d")], type_="form"),
                     form([("device_id", "d")], form_type="urn:other"),
                     form([("device_id", ["d1", "d2"])]),
                     form([("device_id", [])])]
        for i, f in enumerate(bad_forms):
            body = f"<enable xmlns='{NS_PUSH}' jid='push.localhost' node='n1'>{f}</enable>"
            self.assert_error(self.iq(alice, body, f"f{i}"), "bad-request", "modify")
        self.assert_error(self.iq(alice, disable("push.localhost", ""), "d1"), "bad-request", "modify")
        self.assert_error(self.iq(alice, disable(""), "d2"), "bad-request", "modify")
        self.assert_error(self.iq(alice, f"<query xmlns='{NS_PUSH}'/>", "q1"), "bad-request", "modify")
        self.assert_error(self.iq(alice, enable("push.localhost", "n1"), "o1", to="bob@localhost"),
                          "forbidden", "cancel")
        self.assertEqual(self.nodes("alice@localhost"), [])
        self.assertEqual(self.nodes("bob@localhost"), [])

        # No 'to', the own bare JID, the server: each enables for alice.
        r = self.iq(alice, enable("push.localhost", "n1", [("device_id", "a1"), ("service", "fcm")]), "ok1")
        self.assert_result(r)
        self.assertTrue(attr_is(r, "from", "alice@localhost"), r)
        self.assert_result(self.iq(alice, enable("Push.LocalHost", "n2"), "ok2", to="alice@localhost"))
        r = self.iq(alice, enable("push.localhost", "n3", []), "ok3", to="localhost")
        self.assert_result(r)
        self.assertTrue(attr_is(r, "from", "localhost"), r)
        self.assertEqual(self.nodes("alice@localhost"), ["n1", "n2", "n3"])
        stored = self.sql("SELECT pubsub_jid FROM event_pusher_push_subscription WHERE owner_jid = 'alice@localhost'"
                          " AND node = 'n2'")
        self.assertEqual(stored, "push.localhost")
        form_json = self.sql("SELECT form FROM event_pusher_push_subscription WHERE owner_jid = 'alice@localhost'"
                             " AND node = 'n1'")
        self.assertEqual(json.loads(form_json), {"device_id": "a1", "service": "fcm"})
        self.assertEqual(json.loads(self.sql("SELECT form FROM event_pusher_push_subscription"
                                             " WHERE owner_jid = 'alice@localhost' AND node = 'n2'")), {})
        # Enabling again replaces the form.
        self.assert_result(self.iq(alice, enable("push.localhost", "n1", [("device_id", "a2"), ("service", "fcm")]),
                                   "ok4"))
        form_json = self.sql("SELECT form FROM event_pusher_push_subscription WHERE owner_jid = 'alice@localhost'"
                             " AND node = 'n1'")
        self.assertEqual(json.loads(form_json), {"device_id": "a2", "service": "fcm"})
        # Disable one node, then every node of the service; disabling nothing is fine.
        self.assert_result(self.iq(alice, disable("push.localhost", "n2"), "x1"))
        self.assertEqual(self.nodes("alice@localhost"), ["n1", "n3"])
        self.assert_result(self.iq(alice, disable("push.localhost"), "x2"))
        self.assertEqual(self.nodes("alice@localhost"), [])
        self.assert_result(self.iq(alice, disable("nothing.localhost", "zz"), "x3"))

        # Disco: the user's account and the server offer urn:xmpp:push:0.
        q = "<query xmlns='http://jabber.org/protocol/disco#info'/>"
        feature = rf"""<feature var=(['"]){re.escape(NS_PUSH)}\1"""
        self.assertRegex(self.iq(alice, q, "di1", "get", to="alice@localhost"), feature)
        self.assertRegex(self.iq(alice, q, "di2", "get", to="localhost"), feature)

    def test_2_virtual_host_mongoosepush(self):
        self.sink.clear()
        carol = self.client("carol")
        opts = [("device_id", "dev-carol"), ("service", "fcm"), ("silent", "false"), ("mode", "prod"),
                ("priority", "high"), ("topic", "com.example.app"), ("sound", "bing"), ("click_action", "OPEN"),
                ("time_to_live", "3600"), ("mutable_content", "true"), ("tags", "pool-x")]
        self.assert_result(self.iq(carol, enable("push.localhost", "carol-node", opts), "en"))
        # Online: no notification.
        carol.send("<presence/>")
        self.send("carol@localhost", "while online")
        carol.read_until("while online")
        self.sink.assert_quiet(0, 0.5)
        self.go_offline(carol, "carol")

        self.send("carol@localhost", "hello <carol> & \"co\"")
        req = self.sink.wait_for(1)[0]
        self.assertEqual(req.method, "POST")
        self.assertEqual(req.path, "/v3/notification/dev-carol")
        self.assertEqual(req.header("content-type"), "application/json")
        expected = {"alert": {"badge": 1, "body": "hello <carol> & \"co\"", "tag": "bob@localhost",
                              "title": "bob@localhost", "click_action": "OPEN", "sound": "bing"},
                    "service": "fcm", "mode": "prod", "mutable_content": "true", "priority": "high",
                    "time_to_live": "3600", "topic": "com.example.app"}
        self.assertEqual(json.loads(req.body), expected)
        # Byte for byte as MongooseIM (jiffy) writes it.
        self.assertEqual(req.body.decode(), json.dumps(expected, separators=(",", ":"), ensure_ascii=False))

        # A groupchat message: the sender is the full JID (room@muc/nick in MongooseIM).
        self.server.ctl("stanza", "sendStanza", "--stanza",
                        "<message from='bob@localhost/Desk' to='carol@localhost' type='groupchat'>"
                        "<body>group hi</body></message>")
        req = self.sink.wait_for(2)[1]
        self.assertEqual(json.loads(req.body)["alert"]["title"], "bob@localhost/Desk")

        # 410: the registration is disabled, the next message notifies nobody.
        self.sink.respond(410)
        self.send("carol@localhost", "second")
        self.assertEqual(self.sink.wait_for(3)[2].path, "/v3/notification/dev-carol")
        self.wait_counter("deactivated", 1)
        self.wait_nodes("carol@localhost", [])
        self.send("carol@localhost", "third")
        self.sink.assert_quiet(3, 1.0)
        mp = self.server.ctl("event_pusher", "mongoosepushStats").stdout
        self.assertRegex(mp, r"\bok 2\b")
        self.assertRegex(mp, r"device_not_registered 1\b")

    def test_3_silent_and_errors_keep_it(self):
        self.sink.clear()
        dave = self.client("dave")
        self.assert_result(self.iq(dave, enable("push.localhost", "dn", [("device_id", "dev/dave"), ("service", "apns"),
                                                                          ("silent", "true"), ("mode", "dev")]), "en"))
        self.go_offline(dave, "dave")
        self.sink.respond(500)  # an error: logged, the registration stays
        self.send("dave@localhost", "silent one")
        req = self.sink.wait_for(1)[0]
        self.assertEqual(req.path, "/v3/notification/dev%2Fdave")
        self.assertEqual(req.body.decode(),
                         '{"data":{"last-message-body":"silent one","last-message-sender":"bob@localhost",'
                         '"message-count":1},"service":"apns","mode":"dev"}')
        self.send("dave@localhost", "silent two")
        self.assertEqual(json.loads(self.sink.wait_for(2)[1].body)["data"]["last-message-body"], "silent two")
        self.assertEqual(self.nodes("dave@localhost"), ["dn"])

    def test_4_pubsub_iq_path(self):
        app = self.client("appserver", "app")
        erin = self.client("erin")
        self.assert_result(self.iq(erin, enable("appserver@localhost/app", "erin-node",
                                                [("device_id", "d-erin"), ("service", "apns")]), "en"))
        self.assertEqual(self.sql("SELECT pubsub_jid FROM event_pusher_push_subscription"
                                  " WHERE owner_jid = 'erin@localhost'"), "appserver@localhost/app")
        self.go_offline(erin, "erin")
        before = self.counter("via_pubsub")

        self.send("erin@localhost", "ping erin")
        iq = next_stanza(app)
        el = ET.fromstring(iq)
        self.assertEqual((el.tag, el.get("type"), el.get("from"), el.get("to")),
                         ("iq", "set", "localhost", "appserver@localhost/app"))
        pubsub = el.find(f"{{{NS_PUBSUB}}}pubsub")
        self.assertEqual([c.tag for c in pubsub], [f"{{{NS_PUBSUB}}}publish", f"{{{NS_PUBSUB}}}publish-options"])
        publish = pubsub.find(f"{{{NS_PUBSUB}}}publish")
        self.assertEqual(publish.get("node"), "erin-node")
        x = publish.find(f"{{{NS_PUBSUB}}}item/{{{NS_PUSH}}}notification/{{{NS_XDATA}}}x")
        self.assertEqual(x.get("type"), "submit")
        fields, order = form_fields(x)
        self.assertEqual(order, ["FORM_TYPE", "message-count", "last-message-sender", "last-message-body"])
        self.assertEqual(fields, {"FORM_TYPE": ["urn:xmpp:push:summary"], "message-count": ["1"],
                                  "last-message-sender": ["bob@localhost"], "last-message-body": ["ping erin"]})
        po = pubsub.find(f"{{{NS_PUBSUB}}}publish-options/{{{NS_XDATA}}}x")
        self.assertEqual(po.get("type"), "submit")
        self.assertEqual(form_fields(po), ({"FORM_TYPE": [PUBLISH_OPTIONS], "device_id": ["d-erin"],
                                            "service": ["apns"]}, ["FORM_TYPE", "device_id", "service"]))
        app.send(f"<iq type='result' id='{el.get('id')}' to='localhost'/>")
        self.wait_counter("pubsub_result", 1)

        # An error of type wait keeps the registration.
        self.send("erin@localhost", "second")
        el = ET.fromstring(next_stanza(app))
        app.send(f"<iq type='error' id='{el.get('id')}' to='localhost'><error type='wait'>"
                 "<resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
        self.wait_counter("pubsub_error", 1)
        self.assertEqual(self.nodes("erin@localhost"), ["erin-node"])

        # An answer with another id, or from someone else, changes nothing.
        self.send("erin@localhost", "third")
        el = ET.fromstring(next_stanza(app))
        bob = self.client("bob", "spoof")
        bob.send(f"<iq type='error' id='{el.get('id')}' to='localhost'><error type='cancel'>"
                 "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
        app.send(f"<iq type='error' id='{el.get('id')}-other' to='localhost'><error type='cancel'>"
                 "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
        time.sleep(0.3)
        self.assertEqual(self.nodes("erin@localhost"), ["erin-node"])
        # Its own answer, type cancel: disabled.
        app.send(f"<iq type='error' id='{el.get('id')}' to='localhost'><error type='cancel'>"
                 "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
        self.wait_counter("pubsub_cancel", 1)
        self.wait_nodes("erin@localhost", [])
        self.send("erin@localhost", "fourth")
        with self.assertRaises(AssertionError):
            next_stanza(app, timeout=1.0)
        self.assertEqual(self.counter("via_pubsub") - before, 3)

    def test_5_disable_all_and_account_removal(self):
        frank = self.client("frank")
        for i, (jid, node) in enumerate([("push.localhost", "f1"), ("push.localhost", "f2"),
                                         ("appserver@localhost/app", "f3")]):
            self.assert_result(self.iq(frank, enable(jid, node, [("device_id", f"d{i}"), ("service", "fcm")]), f"e{i}"))
        self.assertEqual(self.nodes("frank@localhost"), ["f1", "f2", "f3"])
        self.assert_result(self.iq(frank, disable("push.localhost"), "dis"))
        self.assertEqual(self.nodes("frank@localhost"), ["f3"])
        self.assert_result(self.iq(frank, enable("push.localhost", "f4", [("device_id", "d4"), ("service", "fcm")]),
                                   "e4"))
        self.go_offline(frank, "frank")
        self.server.ctl("account", "removeUser", "--user", "frank@localhost")
        self.wait_nodes("frank@localhost", [])
        # Registered again: no registration left, no notification.
        self.sink.clear()
        self.server.register("frank")
        self.send("frank@localhost", "anyone?")
        self.sink.assert_quiet(0, 1.0)


class EnhancedTest(unittest.TestCase):
    """plugin_module enhanced: a message a lost XEP-0198 session never acknowledged notifies
    that session's registration (once), also when another resource is online (SQLite only:
    nothing here depends on the storage)."""

    @classmethod
    def setUpClass(cls):
        cls.skip = want_pg() or want_mysql()
        if cls.skip:
            return
        cls.sink = HttpSink()
        pools = f"  http:\n    mp:\n      connection: {{host: '{cls.sink.url}'}}\n"
        modules = ("  mod_stream_management: {resume_timeout: 1}\n"
                   "  mod_event_pusher:\n    push:\n      plugin_module: enhanced\n"
                   "      virtual_pubsub_hosts: ['push.@HOST@']\n"
                   "  mod_push_service_mongoosepush: {pool_name: mp, api_version: v2}\n")
        try:
            cls.server = Server(extra_pools=pools, extra_modules=modules)
        except BaseException:
            cls.sink.stop()
            raise
        for u in ("gina", "hank", "bob"):
            cls.server.register(u)

    @classmethod
    def tearDownClass(cls):
        if cls.skip:
            return
        try:
            cls.server.stop()
        finally:
            cls.sink.stop()

    def setUp(self):
        if self.skip:
            self.skipTest("storage-independent; runs on SQLite only")
        self.sink.clear()

    def phone(self, user, device):
        phone = RawClient(self.server.plain_port).login(user, resource="phone")
        body = enable("push.localhost", "phone-node", [("device_id", device), ("service", "fcm")])
        phone.send(f"<iq type='set' id='en'>{body}</iq>")
        r = wait_iq(phone, "en")
        self.assertTrue(attr_is(r, "type", "result"), r)
        phone.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
        phone.read_until("<enabled")
        phone.send("<presence><priority>5</priority></presence>")
        return phone

    def lose(self, phone):
        phone.s.shutdown(socket.SHUT_RDWR)
        phone.close()

    def duplicates(self):
        m = re.search(r"\bduplicates (\d+)", self.server.ctl("event_pusher", "pushStats").stdout)
        return int(m.group(1))

    def test_another_resource_online(self):
        desk = RawClient(self.server.plain_port).login("gina", resource="desk")
        self.addCleanup(desk.close)
        desk.send("<presence/>")
        phone = self.phone("gina", "ph-gina")
        time.sleep(0.3)
        self.server.ctl("stanza", "sendMessage", "--from", "bob@localhost", "--to", "gina@localhost/phone",
                        "--body", "for the phone")
        phone.read_until("for the phone")
        # Lost without acknowledging it: after resume_timeout the message goes to the desk
        # (online, so the default rule would notify nobody) and the phone's registration is
        # notified.
        self.lose(phone)
        desk.read_until("for the phone", timeout=15)
        req = self.sink.wait_for(1, timeout=10)[0]
        self.assertEqual(req.path, "/v2/notification/ph-gina")
        self.assertEqual(json.loads(req.body)["alert"]["body"], "for the phone")
        self.sink.assert_quiet(1, 1.0)

    def test_alone_notified_once(self):
        before = self.duplicates()
        phone = self.phone("hank", "ph-hank")
        time.sleep(0.3)
        self.server.ctl("stanza", "sendMessage", "--from", "bob@localhost", "--to", "hank@localhost",
                        "--body", "only once")
        phone.read_until("only once")
        # Lost: the unacknowledged message notifies the phone's registration, then goes to the
        # bare JID of a user without any session, which would notify the same registration
        # again under the default rule: it is the same message, so it does not.
        self.lose(phone)
        req = self.sink.wait_for(1, timeout=10)[0]
        self.assertEqual(req.path, "/v2/notification/ph-hank")
        self.sink.assert_quiet(1, 2.0)
        self.assertEqual(self.duplicates(), before + 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
