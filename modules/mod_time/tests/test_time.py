"""mod_time end to end (XEP-0202): the server answers with tzo +00:00 and a UTC time."""
import datetime
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import RawClient, Server  # noqa: E402


class TimeTest(unittest.TestCase):
    def test_time(self):
        with Server(extra_modules="  mod_time: {}\n  mod_disco: {}\n") as server:
            server.register("alice")
            c = RawClient(server.plain_port).login("alice")
            c.send("<iq type='get' id='t1' to='localhost'><time xmlns='urn:xmpp:time'/></iq>")
            r = c.read_until("</iq>")
            self.assertIn("type='result'", r)
            self.assertIn("<tzo>+00:00</tzo>", r)
            m = re.search(r"<utc>(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)</utc>", r)
            self.assertIsNotNone(m, r)
            t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
            now = datetime.datetime.now(datetime.timezone.utc)
            self.assertLess(abs((now - t).total_seconds()), 60)
            c.send("<iq type='set' id='t2' to='localhost'><time xmlns='urn:xmpp:time'/></iq>")
            self.assertIn("<not-allowed", c.read_until("</iq>"))
            c.send("<iq type='get' id='t3' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
            self.assertIn("<feature var='urn:xmpp:time'/>", c.read_until("</iq>"))
            c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
