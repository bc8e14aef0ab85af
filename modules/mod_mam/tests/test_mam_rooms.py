"""mod_mam's room archives through av.mam/1 (what mod_muc uses), driven by a test-only module
(tests/fixture/mod_fx_mam_room.cpp) that plays the room: room messages archived with ids for
the room's stanza-id; a query on the room's JID answered from it (results, RSM, `with` =
room/nick, full text); `allowed` false -> forbidden; without `modules.mod_mam.muc` nothing is
archived.
"""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import RawClient, Server  # noqa: E402

ROOM = "lobby@conference.localhost"
MAM = "urn:xmpp:mam:2"


class RoomArchiveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_modules="  mod_mam: {muc: {}}\n  mod_fx_mam_room: {}\n")
        cls.server.register("alice")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def archive(self, nick, body, sender=None):
        args = ["fxroom", "archive", "--room", ROOM, "--nick", nick, "--body", body]
        if sender:
            args += ["--sender", sender]
        return int(self.server.ctl(*args).stdout.strip())

    def query(self, c, payload, allowed=True):
        self.server.ctl("fxroom", "query", "--room", ROOM, "--from", "alice@localhost/r", "--payload", payload,
                        "--allowed", "true" if allowed else "false")
        # raw text: result messages nest a <message/> (harness.next_stanza would stop inside)
        text = c.read_until("id='fxq'")
        return text + c.read_until("</iq>")  # fin or error: the reply always has a child

    def test_room_archive(self):
        ids = [self.archive("romeo", "hello lobby", "romeo@localhost"), self.archive("juliet", "hi romeo"),
               self.archive("romeo", "weather is fine", "romeo@localhost")]
        self.assertTrue(all(i > 0 for i in ids) and ids == sorted(ids))
        c = RawClient(self.server.plain_port).login("alice", resource="r")
        form = f"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>{MAM}</value></field>"
        text = self.query(c, f"<query xmlns='{MAM}' queryid='q1'>{form}</x></query>")
        bodies = re.findall(r"<body>(.*?)</body>", text)
        self.assertEqual(bodies, ["hello lobby", "hi romeo", "weather is fine"])
        self.assertIn(f"from='{ROOM}'", text)
        self.assertIn(f"from='{ROOM}/juliet'", text)
        self.assertIn("<count>3</count>", text)
        text = self.query(c, f"<query xmlns='{MAM}' queryid='q2'>{form}<field var='with'><value>{ROOM}/romeo"
                             f"</value></field></x></query>")
        self.assertEqual(re.findall(r"<body>(.*?)</body>", text), ["hello lobby", "weather is fine"])
        text = self.query(c, f"<query xmlns='{MAM}' queryid='q3'>{form}<field var='{{urn:xmpp:fulltext:0}}fulltext'>"
                             f"<value>weather</value></field></x></query>")
        self.assertEqual(re.findall(r"<body>(.*?)</body>", text), ["weather is fine"])
        text = self.query(c, f"<query xmlns='{MAM}' queryid='q4'/>", allowed=False)
        self.assertIn("<forbidden", text)
        c.close()


class RoomArchiveOffTest(unittest.TestCase):
    def test_without_muc_section_nothing_is_archived(self):
        with Server(extra_modules="  mod_mam: {}\n  mod_fx_mam_room: {}\n") as s:
            out = s.ctl("fxroom", "archive", "--room", ROOM, "--nick", "n", "--body", "b").stdout.strip()
            self.assertEqual(out, "0")


if __name__ == "__main__":
    unittest.main(verbosity=2)
