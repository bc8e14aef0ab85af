"""mod_register end to end: XEP-0077 in-band registration against the real server.

A new account registers before logging in and can then log in; a taken name gets <conflict/>;
missing fields get <not-acceptable/>; a second registration from the same IP within
registration_timeout gets <resource-constraint/>; the user changes the password and removes the
account in band (then cannot log in; the admin CLI agrees); access: deny refuses everything.
"""
# e2e: also-pgsql
import base64
import re
import time
import unittest

from harness import PgServer, RawClient, Server, want_pg

NS = "jabber:iq:register"


def fresh(server):
    c = RawClient(server.plain_port)
    features = c.open_stream()
    return c, features


def read_iq(c, timeout=10):
    """Reads up to the end of the next <iq> (either <iq .../> or <iq ...>...</iq>)."""
    end = time.time() + timeout
    while True:
        m = re.search(rb"<iq\b[^>]*/>|<iq\b.*?</iq>", c.buf, re.S)
        if m:
            out, c.buf = c.buf[:m.end()], c.buf[m.end():]
            return out.decode()
        c.s.settimeout(max(0.01, end - time.time()))
        chunk = c.s.recv(65536)
        if not chunk:
            raise AssertionError(f"closed while waiting for an iq; got {c.buf!r}")
        c.buf += chunk


def iq(c, body, id_="r1", type_="set"):
    c.send(f"<iq type='{type_}' id='{id_}'><query xmlns='{NS}'>{body}</query></iq>")
    return read_iq(c)


def login_ok(server, user, password):
    c = RawClient(server.plain_port)
    try:
        c.open_stream()
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        c.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
        return "<success" in c.read_until("</success>", "</failure>")
    finally:
        c.close()


class RegisterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer() if want_pg() else None
        cls.server = Server(rdbms=cls.pg.rdbms if cls.pg else None, extra_modules=(
            "  mod_register: {registration_timeout: 0, password_strength: 10,\n"
            "                 welcome_message: {subject: Hi, body: Welcome aboard}}\n"))

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        if cls.pg:
            cls.pg.stop()

    def test_register_login_change_remove(self):
        c, features = fresh(self.server)
        self.assertIn("<register xmlns='http://jabber.org/features/iq-register'/>", features)
        form = iq(c, "", type_="get")
        self.assertIn("<username/>", form)
        self.assertIn("<password/>", form)
        r = iq(c, "<username>Dora</username><password>explorer42</password>")
        self.assertIn("type='result'", r)
        c.close()
        self.assertTrue(login_ok(self.server, "dora", "explorer42"))
        out = self.server.ctl("account", "checkUser", "--user", "dora@localhost").stdout
        self.assertIn("exists", out)

        c, _ = fresh(self.server)
        r = iq(c, "<username>dora</username><password>another1</password>", id_="r2")
        self.assertIn("<conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>", r)
        r = iq(c, "<username>nopass</username>", id_="r3")
        self.assertIn("<not-acceptable", r)
        r = iq(c, "<username>weak</username><password>aaaa</password>", id_="r4")
        self.assertIn("<not-acceptable", r)
        self.assertIn("too weak", r)
        r = iq(c, "<remove/>", id_="r5")
        self.assertIn("<not-authorized", r)
        c.close()

        # Logged in: change the password, then remove the account.
        u = RawClient(self.server.plain_port).login("dora", "explorer42", resource="r")
        u.send(f"<iq type='get' id='g1'><query xmlns='{NS}'/></iq>")
        self.assertIn("<registered/>", read_iq(u))
        u.send(f"<iq type='set' id='c1'><query xmlns='{NS}'><username>dora</username>"
               f"<password>newsecret99</password></query></iq>")
        self.assertIn("type='result'", read_iq(u))
        u.send(f"<iq type='set' id='c2' to='bob@localhost'><query xmlns='{NS}'><remove/></query></iq>")
        self.assertIn("<forbidden", read_iq(u))
        self.assertFalse(login_ok(self.server, "dora", "explorer42"))
        self.assertTrue(login_ok(self.server, "dora", "newsecret99"))
        u.send(f"<iq type='set' id='d1'><query xmlns='{NS}'><remove/></query></iq>")
        out = u.read_to_close()
        self.assertIn("id='d1'", out)
        self.assertIn("type='result'", out)
        self.assertIn("<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", out)
        u.close()
        self.assertFalse(login_ok(self.server, "dora", "newsecret99"))
        r = self.server.ctl("account", "checkUser", "--user", "dora@localhost")
        self.assertIn("does not exist", r.stdout)


class RegisterPolicyTest(unittest.TestCase):
    def test_rate_limit_and_deny(self):
        with Server(extra_modules="  mod_register: {registration_timeout: 600}\n") as s:
            c, _ = fresh(s)
            self.assertIn("type='result'", iq(c, "<username>first</username><password>pw1</password>"))
            r = iq(c, "<username>second</username><password>pw2</password>", id_="r2")
            self.assertIn("<resource-constraint", r)
            c.close()
        with Server(extra_modules="  mod_register: {access: deny}\n") as s:
            c, _ = fresh(s)
            self.assertIn("<not-allowed", iq(c, "<username>x</username><password>y</password>"))
            c.close()
        with Server(extra_modules="  mod_register: {ip_access: ['deny:127.0.0.0/8']}\n") as s:
            c, _ = fresh(s)
            self.assertIn("<not-allowed", iq(c, "<username>x</username><password>y</password>"))
            c.close()

    def test_without_module_no_registration(self):
        with Server() as s:
            c, features = fresh(s)
            self.assertNotIn("iq-register", features)
            self.assertIn("<service-unavailable", iq(c, "<username>x</username><password>y</password>"))
            c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
