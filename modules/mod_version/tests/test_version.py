"""mod_version end to end (XEP-0092): name and version; <os/> only with os_info."""
import os
import platform
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import RawClient, Server  # noqa: E402

ASK = "<iq type='get' id='v1' to='localhost'><query xmlns='jabber:iq:version'/></iq>"


class VersionTest(unittest.TestCase):
    def test_default_no_os(self):
        with Server(extra_modules="  mod_version: {}\n  mod_disco: {}\n") as server:
            server.register("alice")
            c = RawClient(server.plain_port).login("alice")
            c.send(ASK)
            r = c.read_until("</iq>")
            self.assertIn("type='result'", r)
            self.assertIn("<name>Aviary</name>", r)
            self.assertRegex(r, r"<version>\d+\.\d+\.\d+[^<]*</version>")
            self.assertNotIn("<os>", r)
            c.send("<iq type='set' id='v2' to='localhost'><query xmlns='jabber:iq:version'/></iq>")
            self.assertIn("<not-allowed", c.read_until("</iq>"))
            c.send("<iq type='get' id='v3' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
            self.assertIn("<feature var='jabber:iq:version'/>", c.read_until("</iq>"))
            c.close()

    def test_os_info(self):
        with Server(extra_modules="  mod_version: {os_info: true}\n") as server:
            server.register("alice")
            c = RawClient(server.plain_port).login("alice")
            c.send(ASK)
            r = c.read_until("</iq>")
            self.assertIn(f"<os>{platform.system()} {platform.release()}</os>", r)
            c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
