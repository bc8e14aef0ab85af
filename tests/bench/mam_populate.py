#!/usr/bin/python3
"""Fills mod_mam_rdbms's tables with a synthetic archive for tests/bench/mam-bench.sh:
USERS users (user1..userN@localhost) with PER_USER messages each, every user talking to
PARTNERS partners, plus one heavy user (userheavy) with HEAVY messages to PARTNERS partners.
Ids are MAM ids ((us << 8) | 0) spread over the last 30 days, increasing per archive.

  mam_populate.py sqlite DBFILE         (the tables must exist: start aviary with mod_mam once)
  mam_populate.py pgsql  'host=... port=... dbname=... user=...'   (through psql COPY)
Env: USERS (10000) PER_USER (90) HEAVY (100000) PARTNERS (5)
"""
import os
import random
import sqlite3
import subprocess
import sys
import time

USERS = int(os.environ.get("USERS", 10000))
PER_USER = int(os.environ.get("PER_USER", 90))
HEAVY = int(os.environ.get("HEAVY", 100000))
PARTNERS = int(os.environ.get("PARTNERS", 5))
NOW_US = int(time.time() * 1e6) - 60_000_000  # a minute ago: new messages come after
SPAN_US = 30 * 86400 * 1_000_000
WORDS = "hello world weather lunch meeting tomorrow coffee train paper review music call".split()


def archives():
    rnd = random.Random(42)
    names = [f"user{i}" for i in range(1, USERS + 1)] + ["userheavy"]
    for uid, name in enumerate(names, 1):
        n = HEAVY if name == "userheavy" else PER_USER
        partners = [f"user{rnd.randrange(1, USERS + 1)}@localhost" for _ in range(PARTNERS)]
        step = SPAN_US // n
        t = NOW_US - SPAN_US
        for k in range(n):
            t += rnd.randrange(1, 2 * step)
            peer = partners[k % PARTNERS]
            out = k % 2 == 0
            frm = f"{name}@localhost/phone" if out else f"{peer}/laptop"
            to = f"{peer}" if out else f"{name}@localhost"
            words = " ".join(rnd.choice(WORDS) for _ in range(6))
            xml = (f"<message xmlns='jabber:client' from='{frm}' to='{to}' type='chat' id='m{k}'>"
                   f"<body>{words}</body><origin-id xmlns='urn:xmpp:sid:0' id='o{uid}-{k}'/></message>")
            yield (uid, name, t << 8, frm, peer, "laptop" if not out else "", "O" if out else "I", xml,
                   " " + words + " ", f"o{uid}-{k}")


def sqlite_fill(path):
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    names = [f"user{i}" for i in range(1, USERS + 1)] + ["userheavy"]
    db.executemany("INSERT INTO mam_server_user (id, server, user_name) VALUES (?, 'localhost', ?)",
                   [(i, n) for i, n in enumerate(names, 1)])
    db.executemany("INSERT INTO mam_message (user_id, id, from_jid, remote_bare_jid, remote_resource, direction,"
                   " message, search_body, origin_id) VALUES (?,?,?,?,?,?,?,?,?)",
                   ((r[0], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]) for r in archives()))
    db.commit()
    db.execute("ANALYZE")
    db.commit()
    db.close()


def pg_fill(conninfo):
    names = [f"user{i}" for i in range(1, USERS + 1)] + ["userheavy"]

    def esc(s):
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    p = subprocess.Popen(["psql", conninfo, "-q", "-v", "ON_ERROR_STOP=1", "-c",
                          "COPY mam_server_user (id, server, user_name) FROM STDIN"], stdin=subprocess.PIPE, text=True)
    for i, n in enumerate(names, 1):
        p.stdin.write(f"{i}\tlocalhost\t{n}\n")
    p.stdin.close()
    assert p.wait() == 0
    p = subprocess.Popen(["psql", conninfo, "-q", "-v", "ON_ERROR_STOP=1", "-c",
                          "COPY mam_message (user_id, id, from_jid, remote_bare_jid, remote_resource, direction,"
                          " message, search_body, origin_id) FROM STDIN"], stdin=subprocess.PIPE, text=True)
    for r in archives():
        p.stdin.write("\t".join(esc(str(x)) for x in (r[0], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9])) + "\n")
    p.stdin.close()
    assert p.wait() == 0
    subprocess.run(["psql", conninfo, "-q", "-c",
                    f"SELECT setval('mam_server_user_id_seq', {len(names)}); ANALYZE mam_message; ANALYZE mam_server_user"],
                   check=True)


if __name__ == "__main__":
    t0 = time.time()
    {"sqlite": sqlite_fill, "pgsql": pg_fill}[sys.argv[1]](sys.argv[2])
    print(f"populated {USERS * PER_USER + HEAVY} rows in {time.time() - t0:.1f} s", file=sys.stderr)
