"""A small recording HTTP server for end-to-end tests of the HTTP-speaking transports
(mod_event_pusher_http, mod_event_pusher_sns, ...). Python stdlib only.

    with HttpSink() as sink:                 # 127.0.0.1, a free port, threaded, HTTP/1.1 keep-alive
        sink.url                             # "http://127.0.0.1:PORT"
        sink.respond(500, 500)               # the next two requests get 500, then the default (200)
        sink.delay = 3.0                     # wait this long before answering
        reqs = sink.wait_for(2, timeout=10)  # the first two recorded requests (AssertionError if not)
        reqs[0].method, reqs[0].path, reqs[0].headers, reqs[0].body, reqs[0].header("content-type")
        sink.stop()                          # closes the port and every open connection ("sink down")
        sink.start()                         # listens again on the same port
    HttpSink(tls=(certfile, keyfile))        # HTTPS; sink.url is then "https://localhost:PORT"

Every request is recorded (method, path with query, headers in wire order and case, body bytes)
before it is answered, also when the answer is delayed or fails.
"""
import socket
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Request:
    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers  # [(name, value)] as received
        self.body = body        # bytes
        self.at = time.monotonic()

    def header(self, name):
        """The value of header `name` (case-insensitive); None when absent. Asserts it is
        not repeated."""
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        assert len(values) <= 1, f"header {name} repeated: {values}"
        return values[0] if values else None

    def header_names(self):
        return sorted(k.lower() for k, _ in self.headers)

    def form(self):
        """The body as application/x-www-form-urlencoded pairs, in order."""
        return urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True, strict_parsing=bool(self.body))

    def __repr__(self):
        return f"<{self.method} {self.path} {self.headers} {self.body!r}>"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients under test use it

    def setup(self):
        super().setup()
        self.server.sink._opened(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.sink._closed(self.connection)

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, delay, payload = self.server.sink._record(
            Request(self.command, self.path, list(self.headers.items()), body))
        if delay:
            time.sleep(delay)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up (timeout) or the sink is stopping
            self.close_connection = True

    do_POST = do_GET = do_PUT = do_DELETE = _handle

    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # a connection reset by the client under test is not an error of the sink


class HttpSink:
    def __init__(self, statuses=(), delay=0.0, default_status=200, port=0, tls=None,
                 response_body=b"<PublishResponse><PublishResult><MessageId>m-1</MessageId>"
                               b"</PublishResult></PublishResponse>"):
        self.default_status = default_status
        self.delay = delay
        self.response_body = response_body
        self._statuses = list(statuses)
        self._requests = []
        self._conns = set()
        self._cv = threading.Condition()
        self._server = None
        self.port = port
        self.tls = tls
        self.start()

    # -- control --
    def start(self):
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.sink = self
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def stop(self):
        """Stops listening and cuts every open (kept-alive) connection."""
        if not self._server:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._cv:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server = None

    def respond(self, *statuses):
        """The next requests get these statuses, in order; then default_status."""
        with self._cv:
            self._statuses.extend(statuses)

    @property
    def url(self):
        if self.tls:  # the name in the test certificates (harness.make_cert)
            return f"https://localhost:{self.port}"
        return f"http://127.0.0.1:{self.port}"

    # -- what was received --
    @property
    def requests(self):
        with self._cv:
            return list(self._requests)

    def wait_for(self, n, timeout=10):
        """Waits until at least n requests arrived; returns the first n."""
        end = time.monotonic() + timeout
        with self._cv:
            while len(self._requests) < n:
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {n} request(s) within {timeout} s, got "
                                         f"{len(self._requests)}: {self._requests!r}")
                self._cv.wait(left)
            return list(self._requests[:n])

    def assert_quiet(self, count, duration=0.5):
        """Asserts that after `duration` seconds there are still exactly `count` requests."""
        time.sleep(duration)
        got = self.requests
        assert len(got) == count, f"expected exactly {count} request(s), got {len(got)}: {got!r}"

    def clear(self):
        with self._cv:
            self._requests.clear()

    # -- handler side --
    def _record(self, req):
        with self._cv:
            self._requests.append(req)
            status = self._statuses.pop(0) if self._statuses else self.default_status
            self._cv.notify_all()
            return status, self.delay, self.response_body

    def _opened(self, conn):
        with self._cv:
            self._conns.add(conn)

    def _closed(self, conn):
        with self._cv:
            self._conns.discard(conn)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
