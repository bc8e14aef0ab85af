"""Start a real aviary on 127.0.0.1 for end-to-end tests, and talk to it.

Used by the tests/e2e/test_*.py scripts (run with /usr/bin/python3 by ctest). Paths come from
the environment ctest sets: AVIARY_BIN, AVIARYCTL_BIN, AVIARY_MODULE_PATH.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

AVIARY = os.environ.get("AVIARY_BIN", "aviary")
AVIARYCTL = os.environ.get("AVIARYCTL_BIN", "aviaryctl")
MODULE_PATH = os.environ.get("AVIARY_MODULE_PATH", "")

# What ASan, LSan and UBSan (an AV_SANITIZE=ON build) print on stderr, i.e. into the server's
# log. UBSan without halt_on_error only prints and goes on (exit code 0), so the log is read.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def sanitizer_lines(text):
    return [line for line in text.splitlines() if any(m in line for m in SANITIZER_MARKERS)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_cert(directory):
    key, cert = os.path.join(directory, "key.pem"), os.path.join(directory, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


class Server:
    """One aviary process with a starttls_required listener (port), a direct-TLS listener
    (tls_port) and a plaintext listener allowing PLAIN (plain_port), SQLite by default."""

    def __init__(self, rdbms=None, extra_modules="", max_stanza_size=65536, extra_pools=""):
        self.dir = tempfile.mkdtemp(prefix="aviary-e2e-")
        self.cert, self.key = make_cert(self.dir)
        self.port, self.tls_port, self.plain_port = free_port(), free_port(), free_port()
        self.sock = os.path.join(self.dir, "ctl.sock")
        self.config = os.path.join(self.dir, "aviary.yaml")
        rdbms = rdbms or "{driver: sqlite}"
        with open(self.config, "w") as f:
            f.write(f"""general:
  hosts: [localhost]
  loglevel: info
  data_dir: {self.dir}/data
  ctl_socket: {self.sock}
  threads: 2
  module_path: [{', '.join(p for p in MODULE_PATH.split(':') if p)}]
listen:
  c2s:
    - {{port: {self.port}, ip_address: 127.0.0.1, max_stanza_size: {max_stanza_size},
        tls: {{mode: starttls_required, certfile: {self.cert}, keyfile: {self.key}}}}}
    - {{port: {self.tls_port}, ip_address: 127.0.0.1,
        tls: {{mode: tls, certfile: {self.cert}, keyfile: {self.key}}}}}
    - {{port: {self.plain_port}, ip_address: 127.0.0.1, allow_unencrypted_plain: true,
        max_stanza_size: {max_stanza_size}}}
auth:
  password: {{scram_iterations: 4096}}
outgoing_pools:
  rdbms:
    default: {rdbms}
{extra_pools}
modules:
  mod_auth_internal: {{}}
{extra_modules}""")
        self.start()

    def start(self):
        self.log = open(os.path.join(self.dir, "aviary.log"), "a+")
        self.proc = subprocess.Popen([AVIARY, "--config", self.config], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                text = self.log_text()
                self.log.close()
                raise RuntimeError("aviary exited at start-up:\n" + text)
            if os.path.exists(self.sock) and self._listening():
                return
            time.sleep(0.05)
        text = self.log_text()
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        raise RuntimeError("aviary did not start in 20 s:\n" + text)

    def _listening(self):
        # Every listener: they open one after the other, the TLS ones after loading their
        # certificate, which can take a while (e.g. under AddressSanitizer).
        try:
            for port in (self.port, self.tls_port, self.plain_port):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    def log_text(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def ctl(self, *args, check=True):
        r = subprocess.run([AVIARYCTL, "--socket", self.sock, *args], capture_output=True, text=True, timeout=30)
        if sanitizer_lines(r.stderr):
            raise AssertionError(f"aviaryctl {' '.join(args)}: sanitizer report:\n{r.stderr}")
        if check and r.returncode != 0:
            raise AssertionError(f"aviaryctl {' '.join(args)} -> {r.returncode}: {r.stderr}")
        return r

    def register(self, user, password="secret"):
        self.ctl("account", "registerUser", "--username", user, "--domain", "localhost", "--password", password)

    def alive(self):
        return self.proc.poll() is None

    def restart(self):
        """Stops the process (keeping its files) and starts it again on the same config."""
        self.stop(keep=True)
        self.start()

    def stop(self, keep=False):
        """Stops the process with SIGTERM. Raises AssertionError (keeping the files) when it
        did not exit with 0 or when its log holds a sanitizer report."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        code = self.proc.returncode
        with open(self.log.name, errors="replace") as f:
            log = f.read()
        if code != 0 or sanitizer_lines(log):
            raise AssertionError(f"aviary exited with {code} on SIGTERM; files kept in {self.dir}; log:\n{log[-20000:]}")
        if keep:
            pass
        elif os.environ.get("AVIARY_E2E_KEEP"):
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        return code

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class PgServer:
    """A throwaway PostgreSQL on 127.0.0.1 (tests/scripts/pg_start.sh), as a context manager;
    .rdbms is the value for outgoing_pools.rdbms.default."""

    def __init__(self):
        here = os.path.dirname(os.path.abspath(__file__))
        self.script = os.path.join(here, "..", "scripts", "pg_start.sh")
        self.dir = tempfile.mkdtemp(prefix="aviary-pg-")
        os.rmdir(self.dir)
        self.port = free_port()
        subprocess.run(["sh", self.script, self.dir, str(self.port)], check=True, timeout=120)
        self.rdbms = (f"{{driver: pgsql, host: 127.0.0.1, port: {self.port}, database: aviary_test, "
                      f"username: postgres, password: x}}")

    def psql(self, query):
        cmd = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        cmd += ["psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                "-d", "aviary_test", "-c", query]
        return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=30).stdout

    def stop(self):
        subprocess.run(["sh", self.script, "stop", self.dir], timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def want_pg():
    """True when this run should use PostgreSQL (ctest's *_pgsql registrations set it)."""
    return os.environ.get("AVIARY_E2E_PG") == "1"


class MariaDbServer:
    """A throwaway MariaDB on 127.0.0.1 (tests/scripts/mariadb_start.sh), as a context manager;
    .rdbms is the value for outgoing_pools.rdbms.default (driver mysql, over TCP as the
    script's user `aviary`), .sql(query) runs a query in database aviary_test as the server's
    root over its unix socket and returns the rows as tab-separated lines."""

    USER = "aviary"
    PASSWORD = "av'pw\\x"  # as mariadb_start.sh creates it: a quote and a backslash

    def __init__(self):
        here = os.path.dirname(os.path.abspath(__file__))
        self.script = os.path.join(here, "..", "scripts", "mariadb_start.sh")
        self.dir = tempfile.mkdtemp(prefix="aviary-mariadb-")
        os.rmdir(self.dir)
        self.port = free_port()
        try:
            subprocess.run(["sh", self.script, self.dir, str(self.port)], check=True, timeout=180)
        except BaseException:
            self.stop()
            raise
        password = '"' + self.PASSWORD.replace("\\", "\\\\").replace('"', '\\"') + '"'  # YAML
        self.rdbms = (f"{{driver: mysql, host: 127.0.0.1, port: {self.port}, database: aviary_test, "
                      f"username: {self.USER}, password: {password}}}")

    def sql(self, query):
        return subprocess.run(["sh", self.script, "sql", self.dir, query], capture_output=True, text=True,
                              check=True, timeout=30).stdout

    def stop(self):
        subprocess.run(["sh", self.script, "stop", self.dir], timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def want_mysql():
    """True when this run should use MySQL/MariaDB (ctest's *_mysql registrations set it)."""
    return os.environ.get("AVIARY_E2E_MYSQL") == "1"


def free_port_run(n):
    """A free port P such that P..P+n-1 all look free (a broker that needs neighbours)."""
    for _ in range(50):
        p = free_port()
        if p + n > 65535:
            continue
        try:
            for q in range(p, p + n):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", q))
            return p
        except OSError:
            continue
    raise RuntimeError("no run of free ports")


class RabbitMqServer:
    """A throwaway RabbitMQ broker on 127.0.0.1 (tests/scripts/rabbitmq_start.sh), as a
    context manager; .pool is the YAML for outgoing_pools (rabbit.event_pusher), guest/guest."""

    def __init__(self, workers=2, confirms=False, max_queue=1000, tls=False):
        here = os.path.dirname(os.path.abspath(__file__))
        self.script = os.path.join(here, "..", "scripts", "rabbitmq_start.sh")
        self.dir = tempfile.mkdtemp(prefix="aviary-rabbitmq-")
        os.rmdir(self.dir)
        self.port = free_port_run(4)
        args = [self.dir, str(self.port)]
        if tls:  # an AMQPS listener on port + 3 with a certificate for "localhost"
            self.certdir = tempfile.mkdtemp(prefix="aviary-rabbitmq-cert-")
            self.cert, key = make_cert(self.certdir)
            args += [self.cert, key]
        try:
            subprocess.run(["sh", self.script, *args], check=True, timeout=120)
        except BaseException:
            self.stop()
            raise
        if tls:
            # verified: the broker's certificate against itself as CA, host name checked
            conn = (f"{{host: localhost, port: {self.port + 3}, max_worker_queue_len: {max_queue},"
                    f" confirms_enabled: {str(confirms).lower()}, tls: {{cacertfile: {self.cert}}}}}")
        else:
            conn = (f"{{host: 127.0.0.1, port: {self.port}, confirms_enabled: {str(confirms).lower()},"
                    f" max_worker_queue_len: {max_queue}}}")
        self.pool = f"  rabbit:\n    event_pusher:\n      workers: {workers}\n      connection:\n        {conn}\n"

    def ctl(self, *args):
        return subprocess.run(["sh", self.script, "ctl", self.dir, *args], capture_output=True, text=True,
                              check=True, timeout=60).stdout

    def stop_broker(self):
        subprocess.run(["sh", self.script, "stop", self.dir], check=True, timeout=120)

    def start_broker(self):
        subprocess.run(["sh", self.script, "start", self.dir], check=True, timeout=120)

    def channel(self):
        """A pika channel to the broker (the caller closes its .connection)."""
        import pika
        conn = pika.BlockingConnection(pika.ConnectionParameters(host="127.0.0.1", port=self.port))
        return conn.channel()

    def stop(self):
        if os.path.exists(self.dir):
            subprocess.run(["sh", self.script, "stop", self.dir], timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)
        if getattr(self, "certdir", None):
            shutil.rmtree(self.certdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class RawClient:
    """A raw-socket client for protocol tests (plaintext listener, SASL PLAIN)."""

    def __init__(self, port, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data.encode() if isinstance(data, str) else data)

    def read_until(self, *needles, timeout=10):
        needles = [n.encode() if isinstance(n, str) else n for n in needles]
        end = time.time() + timeout
        while not any(n in self.buf for n in needles):
            self.s.settimeout(max(0.01, end - time.time()))
            try:
                chunk = self.s.recv(65536)
            except socket.timeout:
                raise AssertionError(f"timeout waiting for {needles!r}; got {self.buf[-500:]!r}")
            if not chunk:
                raise AssertionError(f"connection closed waiting for {needles!r}; got {self.buf[-500:]!r}")
            self.buf += chunk
        i = min(self.buf.index(n) + len(n) for n in needles if n in self.buf)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out.decode(errors="replace")

    def read_to_close(self, timeout=10):
        end = time.time() + timeout
        while True:
            self.s.settimeout(max(0.01, end - time.time()))
            try:
                chunk = self.s.recv(65536)
            except socket.timeout:
                raise AssertionError(f"server did not close the stream; got {self.buf[-500:]!r}")
            except ConnectionResetError:
                break
            if not chunk:
                break
            self.buf += chunk
        out, self.buf = self.buf, b""
        return out.decode(errors="replace")

    def open_stream(self):
        self.send("<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
        return self.read_until("</stream:features>")

    def login(self, user, password="secret", resource="raw"):
        import base64
        self.open_stream()
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        self.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
        r = self.read_until("</success>", "</failure>")
        assert "<success" in r, r
        self.open_stream()
        self.send(f"<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                  f"<resource>{resource}</resource></bind></iq>")
        self.read_until("</iq>")
        return self

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


# Reading whole stanzas from a RawClient (for IQ round trips in module tests).

def attr_is(xml, name, value):
    head = xml[:xml.index(">") + 1] if ">" in xml else xml
    return re.search(rf"""\s{name}=(['"]){re.escape(value)}\1""", head) is not None


def next_stanza(c, timeout=10):
    """The next top-level stanza on a logged-in RawClient (as text)."""
    end = time.time() + timeout
    while True:
        text = c.buf.decode(errors="replace")
        m = re.search(r"<(iq|message|presence)\b", text)
        if m:
            gt = text.find(">", m.start())
            stop = -1
            if gt > 0 and text[gt - 1] == "/":
                stop = gt + 1
            elif gt > 0:
                close = text.find(f"</{m.group(1)}>", gt)
                if close >= 0:
                    stop = close + len(m.group(1)) + 3
            if stop > 0:
                c.buf = text[stop:].encode()
                return text[m.start():stop]
        c.s.settimeout(max(0.01, end - time.time()))
        try:
            chunk = c.s.recv(65536)
        except socket.timeout:
            raise AssertionError(f"timeout waiting for a stanza; got {c.buf[-500:]!r}")
        if not chunk:
            raise AssertionError(f"connection closed; got {c.buf[-500:]!r}")
        c.buf += chunk


def wait_iq(c, id_, timeout=10):
    """Reads stanzas until the IQ with that id; others are kept in c.others."""
    while True:
        s = next_stanza(c, timeout)
        if s.startswith("<iq") and attr_is(s, "id", id_):
            return s
        c.__dict__.setdefault("others", []).append(s)
