"""mod_ping end to end (XEP-0199).

- a ping to the server and to one's own bare JID is answered with a result; a ping to somebody
  else's bare JID gets service-unavailable; type='set' gets not-allowed;
- server pings (send_pings, ping_interval 1, ping_req_timeout 1, timeout_action kill): a client
  that answers them stays connected, one that ignores them is disconnected with
  <connection-timeout/>; with timeout_action none a silent client is pinged again and stays.
"""
import os
import re
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import RawClient, Server  # noqa: E402

PING = "<ping xmlns='urn:xmpp:ping'/>"


def read_iq(c, id_):
    while True:
        chunk = c.read_until("</iq>", "/>")
        if f"id='{id_}'" in chunk:
            # a result without payload ends with '/>', otherwise read to </iq>
            if chunk.endswith("/>") and "type='result'" in chunk:
                return chunk
            if not chunk.endswith("</iq>"):
                chunk += c.read_until("</iq>")
            return chunk


class PingAnswerTest(unittest.TestCase):
    def test_answers(self):
        with Server(extra_modules="  mod_ping: {}\n") as server:
            for u in ("alice", "bob"):
                server.register(u)
            c = RawClient(server.plain_port).login("alice")
            c.send(f"<iq type='get' id='p1' to='localhost'>{PING}</iq>")
            r = read_iq(c, "p1")
            self.assertIn("type='result'", r)
            self.assertIn("from='localhost'", r)
            c.send(f"<iq type='get' id='p2'>{PING}</iq>")  # no 'to': one's own account
            self.assertIn("type='result'", read_iq(c, "p2"))
            c.send(f"<iq type='get' id='p3' to='alice@localhost'>{PING}</iq>")
            self.assertIn("type='result'", read_iq(c, "p3"))
            c.send(f"<iq type='get' id='p4' to='bob@localhost'>{PING}</iq>")
            r = read_iq(c, "p4")
            self.assertIn("<service-unavailable", r)
            c.send(f"<iq type='set' id='p5' to='localhost'>{PING}</iq>")
            self.assertIn("<not-allowed", read_iq(c, "p5"))
            c.close()


class ServerPingTest(unittest.TestCase):
    def test_kill_silent_client(self):
        mods = ("  mod_ping: {send_pings: true, ping_interval: 1, ping_req_timeout: 1, "
                "timeout_action: kill}\n")
        with Server(extra_modules=mods) as server:
            for u in ("alice", "bob"):
                server.register(u)
            good = RawClient(server.plain_port).login("alice", resource="good")
            bad = RawClient(server.plain_port).login("bob", resource="bad")
            answered = 0
            bad_closed = None
            end = time.time() + 8
            while time.time() < end and (answered < 2 or bad_closed is None):
                # The good client answers every ping it gets.
                good.s.settimeout(0.1)
                try:
                    data = good.s.recv(65536)
                    if not data:
                        self.fail("the answering client was disconnected: " + good.buf.decode(errors="replace"))
                    good.buf += data
                except socket.timeout:
                    pass
                text = good.buf.decode(errors="replace")
                last = 0
                for m in re.finditer(r"<iq[^>]*>\s*<ping xmlns='urn:xmpp:ping'/>\s*</iq>", text):
                    iq = m.group(0)
                    last = m.end()
                    self.assertIn("type='get'", iq)
                    self.assertIn("from='localhost'", iq)
                    self.assertIn("to='alice@localhost/good'", iq)
                    pid = re.search(r"id='([^']+)'", iq).group(1)
                    good.send(f"<iq type='result' id='{pid}' to='localhost'/>")
                    answered += 1
                good.buf = good.buf[len(text[:last].encode()):]
                # The bad client reads but never answers.
                bad.s.settimeout(0.05)
                try:
                    data = bad.s.recv(65536)
                    if data:
                        bad.buf += data
                    else:
                        bad_closed = bad.buf.decode(errors="replace")
                except socket.timeout:
                    pass
                except ConnectionResetError:
                    bad_closed = bad.buf.decode(errors="replace")
            self.assertGreaterEqual(answered, 2, "the server pinged the good client less than twice")
            self.assertIsNotNone(bad_closed, "the silent client was not disconnected")
            self.assertIn("<ping xmlns='urn:xmpp:ping'/>", bad_closed)
            self.assertIn("connection-timeout", bad_closed)
            # The good client is still served.
            good.send(f"<iq type='get' id='alive' to='localhost'>{PING}</iq>")
            good.buf = b""
            self.assertIn("type='result'", read_iq(good, "alive"))
            good.close()
            bad.close()


class ServerPingNoneTest(unittest.TestCase):
    def test_none_keeps_silent_client(self):
        mods = "  mod_ping: {send_pings: true, ping_interval: 1, ping_req_timeout: 1}\n"  # timeout_action none
        with Server(extra_modules=mods) as server:
            server.register("bob")
            bad = RawClient(server.plain_port).login("bob", resource="quiet")
            got = bad.read_until("<ping xmlns='urn:xmpp:ping'/>", timeout=5)
            got += bad.read_until("<ping xmlns='urn:xmpp:ping'/>", timeout=5)  # pinged again, not kicked
            self.assertNotIn("connection-timeout", got)
            bad.send(f"<iq type='get' id='alive' to='localhost'>{PING}</iq>")
            self.assertIn("type='result'", read_iq(bad, "alive"))
            bad.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
