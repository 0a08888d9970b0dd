"""A loopback HTTP server that misbehaves the way the web does, for the fetcher's tests.

Each path is one kind of trouble (see ``Handler.do_GET``). The server counts, on its own side,
every request and the largest number of connections open at once, so tests can check the
fetcher's politeness from where a site owner stands. Bind it to distinct loopback addresses
(127.0.0.2, 127.0.0.3, ...) to stand for distinct hosts.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from archiver.testserver import ServerThread

PAGE = b"<!doctype html><html><head><title>ok</title></head><body><p>Hello.</p></body></html>"


def _gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzipped: about a thousandth of that on the wire."""
    return gzip.compress(b"\0" * size, compresslevel=9)


@dataclass
class Stats:
    """What the server saw, from its side of the wire."""

    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    open_connections: int = 0
    max_open_connections: int = 0
    active_requests: int = 0
    max_active_requests: int = 0
    request_times: list[float] = field(default_factory=list)
    hits: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self) -> list[str]:
        with self.lock:
            return [path for _, path, _ in self.requests]


class MisbehavingServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        robots: str | int | None = None,
        latency: float = 0.0,
        bomb_size: int = 0,
    ) -> None:
        super().__init__(address, Handler)
        self.robots = robots  # text, a status code, or None for 404
        self.latency = latency
        self.stats = Stats()
        self.bomb = _gzip_bomb(bomb_size) if bomb_size else b""
        self.bomb_size = bomb_size

    @property
    def base(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def target(self) -> str:
        host, port = self.server_address[:2]
        return f"{host}:{port}"

    def process_request_thread(self, request: socket.socket, client_address: object) -> None:
        stats = self.stats
        with stats.lock:
            stats.open_connections += 1
            stats.max_open_connections = max(stats.max_open_connections, stats.open_connections)
        try:
            super().process_request_thread(request, client_address)  # type: ignore[misc]
        finally:
            with stats.lock:
                stats.open_connections -= 1

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hang up on purpose in these tests (size caps, deadlines): stay quiet."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server: MisbehavingServer
    timeout = 10

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    # -- helpers -----------------------------------------------------------------------------

    def _hit(self, key: str) -> int:
        stats = self.server.stats
        with stats.lock:
            stats.hits[key] = stats.hits.get(key, 0) + 1
            return stats.hits[key]

    def _send(
        self,
        status: int,
        body: bytes = b"",
        *,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _reset(self) -> None:
        """Slam the connection shut with a TCP RST, as an overloaded proxy does."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    # -- the routes --------------------------------------------------------------------------

    def do_HEAD(self) -> None:
        if self.path.startswith("/head-not-allowed"):
            self._record()
            self._send(405, headers={"Allow": "GET"})
            return
        self.do_GET()

    def _record(self) -> None:
        stats = self.server.stats
        with stats.lock:
            stats.requests.append((self.command, self.path, dict(self.headers.items())))
            stats.request_times.append(time.monotonic())

    def do_GET(self) -> None:
        stats = self.server.stats
        with stats.lock:
            stats.active_requests += 1
            stats.max_active_requests = max(stats.max_active_requests, stats.active_requests)
        try:
            self._record()
            if self.server.latency:
                time.sleep(self.server.latency)
            self._route()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            with stats.lock:
                stats.active_requests -= 1

    def _route(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/robots.txt":
            robots = self.server.robots
            if robots is None:
                self._send(404, b"not found", content_type="text/plain")
            elif isinstance(robots, int):
                self._send(robots, b"robots trouble", content_type="text/plain")
            else:
                self._send(200, robots.encode(), content_type="text/plain")
        elif path.startswith("/page") or path in ("/", "/ok", "/private", "/head-not-allowed"):
            self._send(200, PAGE)
        elif path == "/host":
            self._send(200, self.headers.get("Host", "").encode(), content_type="text/plain")
        elif path == "/slow-drip":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
        elif path == "/drip-headers":  # the status line, then a header one byte at a time
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Drip: ")
            for _ in range(600):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
            self.close_connection = True
        elif path == "/reset":
            self._reset()
        elif path == "/flaky":  # 503 twice, then fine
            if self._hit("flaky") <= 2:
                self._send(503, b"busy", headers={"Retry-After": "0"})
            else:
                self._send(200, PAGE)
        elif path == "/always-503":
            self._send(503, b"down for good")
        elif path == "/rate-limited":  # 429 with a short Retry-After, then fine
            if self._hit("rate-limited") == 1:
                self._send(429, b"slow down", headers={"Retry-After": "1"})
            else:
                self._send(200, PAGE)
        elif path == "/rate-limited-long":
            self._send(429, b"go away", headers={"Retry-After": "3600"})
        elif path.startswith("/chain/"):
            left = int(path.rsplit("/", 1)[1])
            target = "/ok" if left <= 1 else f"/chain/{left - 1}"
            self._send(302, headers={"Location": target})
        elif path == "/loop/a":
            self._send(301, headers={"Location": "/loop/b"})
        elif path == "/loop/b":
            self._send(301, headers={"Location": "/loop/a"})
        elif path == "/go-private":
            self._send(302, headers={"Location": "/private"})
        elif path == "/short-body":  # claims 1000 bytes, sends 10, hangs up
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
        elif path == "/gzip":
            self._send(200, gzip.compress(PAGE), headers={"Content-Encoding": "gzip"})
        elif path == "/gzip-cut":  # a gzip stream missing its end
            self._send(200, gzip.compress(PAGE * 50)[:-30], headers={"Content-Encoding": "gzip"})
        elif path == "/gzip-bomb":
            self._send(200, self.server.bomb, headers={"Content-Encoding": "gzip"})
        elif path == "/huge":  # 64 MiB of page, sent in 1 MiB pieces
            size = 64 * 1024 * 1024
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            piece = b"a" * (1024 * 1024)
            for _ in range(size // len(piece)):
                self.wfile.write(piece)
        elif path == "/wrong-charset":  # says UTF-8, is windows-1251
            body = "<html><body><p>Привет, мир</p></body></html>".encode("cp1251")
            self._send(200, body, content_type="text/html; charset=utf-8")
        elif path == "/etag":
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.send_header("ETag", '"v1"')
                self.end_headers()
            else:
                self._send(
                    200,
                    PAGE,
                    headers={"ETag": '"v1"', "Last-Modified": "Mon, 02 Jan 2023 10:00:00 GMT"},
                )
        elif path == "/paper.pdf":
            self._send(200, b"%PDF-1.4\n%fake but honest\n", content_type="application/pdf")
        elif path == "/cookies":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Set-Cookie", "a=1")
            self.send_header("Set-Cookie", "b=2")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)
        elif path.startswith("/status/"):
            self._send(int(path.rsplit("/", 1)[1]), b"status page")
        elif path.startswith("/to/"):  # redirect to an absolute URL given in the path
            self._send(302, headers={"Location": self.path[len("/to/") :]})
        else:
            self._send(404, b"no such page")


@contextlib.contextmanager
def serve(host: str = "127.0.0.2", **options: object) -> Iterator[MisbehavingServer]:
    """Run a :class:`MisbehavingServer` on a free port of ``host``; shut it down afterwards."""
    server = MisbehavingServer((host, 0), **options)  # type: ignore[arg-type]
    with ServerThread(server, poll_interval=0.05):
        yield server
