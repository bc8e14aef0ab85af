"""mod_auth_internal: accounts and aviaryctl end to end, on SQLite, and on a real PostgreSQL
(the _pgsql run, tests/scripts/pg_start.sh) and MariaDB (the _mysql run,
tests/scripts/mariadb_start.sh) started here on loopback.

Covers: registerUser / duplicate / checkPassword / changeUserPassword / listUsers / countUsers /
removeUser through aviaryctl, logins with the stored SCRAM credentials (PLAIN and SCRAM
checked by the server), no clear-text passwords at rest, data kept across a restart, the CLI's
errors and exit codes, and the admin socket's mode.
"""
import os
import stat
import subprocess
import sys
import tempfile
import unittest

# e2e: also-pgsql
# e2e: also-mysql

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import AVIARYCTL, MariaDbServer, RawClient, Server, free_port, want_mysql, want_pg  # noqa: E402

PG_START = os.path.join(os.path.dirname(os.path.abspath(harness.__file__)), "..", "scripts", "pg_start.sh")
USE_PG = want_pg()
USE_MYSQL = want_mysql()


def login_ok(server, user, password):
    c = RawClient(server.plain_port)
    try:
        c.open_stream()
        import base64
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        c.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
        return "<success" in c.read_until("</success>", "</failure>")
    finally:
        c.close()


class AccountsTest(unittest.TestCase):
    pg_dir = None
    mysql = None

    @classmethod
    def setUpClass(cls):
        rdbms = None
        if USE_PG:
            cls.pg_dir = tempfile.mkdtemp(prefix="aviary-pg-")
            os.rmdir(cls.pg_dir)
            cls.pg_port = free_port()
            subprocess.run(["sh", PG_START, cls.pg_dir, str(cls.pg_port)], check=True, timeout=120)
            rdbms = (f"{{driver: pgsql, host: 127.0.0.1, port: {cls.pg_port}, database: aviary_test, "
                     f"username: postgres, password: x}}")
        if USE_MYSQL:
            cls.mysql = MariaDbServer()
            rdbms = cls.mysql.rdbms
        cls.rdbms = rdbms
        try:
            cls.server = Server(rdbms=rdbms)
        except BaseException:
            cls.stop_databases()  # tearDownClass does not run when setUpClass fails
            raise

    @classmethod
    def stop_databases(cls):
        if cls.pg_dir:
            subprocess.run(["sh", PG_START, "stop", cls.pg_dir], timeout=120)
            subprocess.run(["rm", "-rf", cls.pg_dir])
        if cls.mysql:
            cls.mysql.stop()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()  # raises on a non-zero exit or a sanitizer report
        finally:
            cls.stop_databases()

    def ctl(self, *args):
        return self.server.ctl(*args, check=False)

    def sql(self, query):
        """Runs a query on the server's database and returns stdout."""
        if USE_MYSQL:
            return self.mysql.sql(query)
        if USE_PG:
            cmd = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
            cmd += ["psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres",
                    "-d", "aviary_test", "-c", query]
        else:
            cmd = ["sqlite3", os.path.join(self.server.dir, "data", "aviary.db"), query]
        return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=30).stdout

    def test_account_lifecycle(self):
        r = self.ctl("account", "registerUser", "--username", "alice", "--domain", "localhost", "--password", "secret")
        self.assertEqual((r.returncode, r.stdout), (0, "User alice@localhost successfully registered\n"), r.stderr)
        r = self.ctl("account", "registerUser", "--username", "Alice", "--domain", "localhost", "--password", "x")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "aviaryctl: User alice@localhost already registered\n")
        self.ctl("account", "registerUser", "--username", "bob", "--domain", "localhost", "--password", "pw2")

        r = self.ctl("account", "checkPassword", "--user", "alice@localhost", "--password", "secret")
        self.assertEqual(r.stdout, "Password is correct\n")
        r = self.ctl("account", "checkPassword", "--user", "alice@localhost", "--password", "nope")
        self.assertEqual(r.stdout, "Password is incorrect\n")

        stored = self.sql("SELECT password, pass_details FROM users WHERE username = 'alice'")
        self.assertNotIn("secret", stored)
        self.assertIn("==MULTI_SCRAM==", stored)

        self.assertTrue(login_ok(self.server, "alice", "secret"))
        self.assertFalse(login_ok(self.server, "alice", "wrong"))
        r = self.ctl("account", "changeUserPassword", "--user", "alice@localhost", "--newPassword", "fresh")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(login_ok(self.server, "alice", "secret"))
        self.assertTrue(login_ok(self.server, "alice", "fresh"))

        r = self.ctl("account", "listUsers", "--domain", "localhost")
        self.assertEqual(r.stdout.split(), ["alice@localhost", "bob@localhost"])
        self.assertEqual(self.ctl("account", "countUsers", "--domain", "localhost").stdout, "2\n")

        r = self.ctl("account", "removeUser", "--user", "bob@localhost")
        self.assertEqual((r.returncode, r.stdout), (0, "User bob@localhost successfully unregistered\n"))
        r = self.ctl("account", "removeUser", "--user", "bob@localhost")
        self.assertEqual((r.returncode, r.stderr), (1, "aviaryctl: User bob@localhost does not exist\n"))
        self.assertFalse(login_ok(self.server, "bob", "pw2"))
        self.assertEqual(self.ctl("account", "countUsers", "--domain", "localhost").stdout, "1\n")

        # Data survives a restart of the server.
        self.server.restart()
        self.assertTrue(login_ok(self.server, "alice", "fresh"))
        self.assertEqual(self.ctl("account", "countUsers", "--domain", "localhost").stdout, "1\n")

    def test_cli_errors(self):
        r = self.ctl("account", "registerUser", "--domain", "localhost")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "aviaryctl: Missing required argument --password for account registerUser\n")
        r = self.ctl("account", "nosuch")
        self.assertEqual((r.returncode, r.stderr),
                         (2, "aviaryctl: Unknown command 'nosuch' in category 'account'\n"))
        r = self.ctl("nosuch", "thing")
        self.assertEqual((r.returncode, r.stderr), (2, "aviaryctl: Unknown category 'nosuch'\n"))
        r = self.ctl("account", "registerUser", "--domain", "example.org", "--username", "x", "--password", "y")
        self.assertEqual((r.returncode, r.stderr), (1, "aviaryctl: Domain 'example.org' is not served here\n"))
        r = self.ctl("account", "removeUser", "--user", "not a jid@@")
        self.assertEqual(r.returncode, 2)
        self.assertIn("is not a valid JID", r.stderr)
        r = self.ctl("account")
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing COMMAND", r.stderr)
        r = subprocess.run([AVIARYCTL, "--socket", "/nonexistent/aviary.sock", "server", "status"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 3)
        self.assertIn("is aviary running?", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1)

    def test_help_and_status(self):
        r = self.ctl("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("Categories: account server session stanza", r.stdout)
        r = self.ctl("account", "--help")
        self.assertIn("registerUser", r.stdout)
        self.assertIn("--password <string> (required)", r.stdout)
        r = self.ctl("server", "status")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith("Aviary "), r.stdout)
        mode = stat.S_IMODE(os.stat(self.server.sock).st_mode)
        self.assertEqual(mode, 0o600)


if __name__ == "__main__":
    unittest.main(verbosity=2)
