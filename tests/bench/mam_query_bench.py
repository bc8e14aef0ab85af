#!/usr/bin/python3
"""Times XEP-0313 queries against a running aviary (plaintext listener, PLAIN): for a set of
users, a page of 50 by `with` (the last page, as a client opening a chat) and by `after-id`
(the next 50 after a known id, as a client resuming sync), sequentially, one IQ at a time.
Latency = from sending the IQ to reading its result (the 50 result messages come before it).

  mam_query_bench.py PORT ARCHIVE_SPEC...   prints JSON {"with": {...}, "after_id": {...}}
ARCHIVE_SPEC = user:N  (N queries of each kind in user's archive; password 'secret')
Peers and ids come from a first query of each archive (the oldest 200 messages).
"""
import base64
import json
import os
import random
import re
import socket
import sys
import time


class Conn:
    def __init__(self, port, user):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.open()
        tok = base64.b64encode(f"\0{user}\0secret".encode()).decode()
        self.s.sendall(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{tok}</auth>".encode())
        assert b"<success" in self.until(b"</success>", b"</failure>")
        self.open()
        self.s.sendall(b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>bench"
                       b"</resource></bind></iq>")
        self.until(b"</iq>")

    def open(self):
        self.s.sendall(b"<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "
                       b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
        self.until(b"</stream:features>")

    def until(self, *needles):
        while not any(n in self.buf for n in needles):
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise RuntimeError("closed: " + self.buf[-300:].decode(errors="replace"))
            self.buf += chunk
        i = min(self.buf.index(n) + len(n) for n in needles if n in self.buf)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def query(self, qid, fields="", rsm="<max>50</max>"):
        x = ("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2"
             "</value></field>" + fields + "</x>")
        simple = "<simple/>" if os.environ.get("SIMPLE") else ""
        req = (f"<iq type='set' id='{qid}'><query xmlns='urn:xmpp:mam:2' queryid='{qid}'>{x}"
               f"<set xmlns='http://jabber.org/protocol/rsm'>{rsm}</set>{simple}</query></iq>").encode()
        t0 = time.perf_counter()
        self.s.sendall(req)
        pat = re.compile(rb"<iq[^>]*\sid='" + qid.encode() + rb"'[^>]*?(/>|>.*?</iq>)", re.S)
        while True:
            m = pat.search(self.buf)
            if m:
                break
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise RuntimeError("closed")
            self.buf += chunk
        dt = time.perf_counter() - t0
        data, self.buf = self.buf[:m.end()], self.buf[m.end():]
        text = data.decode(errors="replace")
        if "type='error'" in m.group(0).decode(errors="replace"):
            raise RuntimeError("query failed: " + text[-500:])
        return dt, text


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    port = int(sys.argv[1])
    rnd = random.Random(7)
    res = {"with": [], "after_id": []}
    for spec in sys.argv[2:]:
        user, n = spec.split(":")
        c = Conn(port, user)
        _, text = c.query("seed", rsm="<max>50</max>")  # the oldest 50
        ids = re.findall(r"<result xmlns='urn:xmpp:mam:2' queryid='seed' id='([0-9A-V]+)'", text)
        peers = sorted(set(re.findall(r"<message xmlns='jabber:client' from='([^'/]+)@localhost/laptop'", text)))
        assert ids and peers, text[:500]
        for i in range(int(n)):
            peer = rnd.choice(peers)
            dt, t = c.query(f"w{i}", f"<field var='with'><value>{peer}@localhost</value></field>",
                            "<max>50</max><before/>")
            assert t.count("<result ") >= 1, t[-400:]
            res["with"].append(dt)
            # One of the oldest 40: at least 50 newer messages follow (normal users have 90).
            dt, t = c.query(f"a{i}", f"<field var='after-id'><value>{rnd.choice(ids[:40])}</value></field>")
            assert t.count("<result ") == 50, t[-400:]
            res["after_id"].append(dt)
        c.s.close()
    out = {k: {"n": len(v), "p50_ms": round(pct(v, 50) * 1e3, 3), "p99_ms": round(pct(v, 99) * 1e3, 3),
               "max_ms": round(max(v) * 1e3, 3)} for k, v in res.items()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
