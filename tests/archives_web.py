"""Loopback fakes of web archives (Memento, pywb style) and of a news site that moved pages.

One real HTTP server answers for several logical hosts by the Host header (the fetcher's routes
send them there). An archive host answers ``/timemap/link/<original>`` with a link-format
TimeMap and ``/web/<14 digits>/<original>`` with the capture: a page (200, ``Link: rel=
"original"``, ``Memento-Datetime``), an archived error page, or a redirect to another capture
(what the archive saw the old URL do). Faults per archive: ``down`` (routed to a closed port),
``429`` (every answer), ``malformed`` (a TimeMap that is not link-format), ``slow`` (seconds
before any answer). Plain pages (the news site) answer from ``pages``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from archiver.links.memento import WebArchive
from archiver.testserver import ServerThread

PAGE = """<!DOCTYPE html><html><head><title>{title}</title></head><body><article>
<h1>{title}</h1><p>{text}</p></article></body></html>"""


@dataclass(frozen=True, kw_only=True)
class Shot:
    """One capture an archive holds: when, and what it replays (a page, an error, a redirect)."""

    stamp: str  # 14 digits
    title: str = ""
    error: bool = False  # an archived error page ("Page Not Found", 200 in the replay)
    status: int = 200  # the replay's status (404: the archive captured a 404)
    redirect: str = ""  # the original URL the old one redirected to when captured
    canonical: str = ""  # the original URL the captured page named canonical


@dataclass(frozen=True, kw_only=True)
class FakeArchive:
    host: str
    shots: Mapping[str, Sequence[Shot]] = field(default_factory=dict)
    fault: str = ""  # "", "429", "malformed", "slow"
    delay: float = 0.0

    def web_archive(self) -> WebArchive:
        return WebArchive(
            name=self.host.split(".")[0],
            timemap=f"http://{self.host}/timemap/link/{{url}}",
            timegate=f"http://{self.host}/web/{{datetime}}/{{url}}",
        )


@dataclass(frozen=True, kw_only=True)
class Page:
    status: int = 200
    body: str = ""
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


def page(title: str, text: str = "Text of the story.") -> Page:
    return Page(body=PAGE.format(title=title, text=text))


def http_date(stamp: str) -> str:
    return format_datetime(datetime.strptime(stamp + "+0000", "%Y%m%d%H%M%S%z"), usegmt=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _send(
        self, status: int, body: str, ctype: str, headers: Sequence[tuple[str, str]] = ()
    ) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        self.server.record(host, self.path)
        archive = self.server.archives.get(host)
        if archive is not None and self.path != "/robots.txt":
            self._archive(archive)
            return
        answer = self.server.pages.get((host, self.path))
        if answer is None:
            self._send(404, "<html><title>Not Found</title></html>", "text/html")
            return
        self._send(answer.status, answer.body, answer.content_type, answer.headers)

    def _archive(self, archive: FakeArchive) -> None:
        if archive.delay:
            time.sleep(archive.delay)
        if archive.fault == "429":
            self._send(429, "slow down", "text/plain", [("Retry-After", "1")])
            return
        base = f"http://{archive.host}"
        if self.path.startswith("/timemap/link/"):
            original = self.path.removeprefix("/timemap/link/")
            if archive.fault == "malformed":
                body = '<html><body>{"not": "a timemap"} <' + original + '; rel="memento"; da'
                self._send(200, body, "application/link-format")
                return
            shots = archive.shots.get(original)
            if not shots:
                self._send(404, "no captures", "text/plain")
                return
            entries = [f'<{original}>; rel="original"']
            entries.append(f'<{base}/timemap/link/{original}>; rel="self"')
            for shot in shots:
                entries.append(
                    f'<{base}/web/{shot.stamp}/{original}>;\n rel="memento"; '
                    f'datetime="{http_date(shot.stamp)}"'
                )
            self._send(200, ",\n".join(entries) + "\n", "application/link-format")
            return
        if self.path.startswith("/web/"):
            stamp, _, original = self.path.removeprefix("/web/").partition("/")
            shot = next((s for s in archive.shots.get(original, ()) if s.stamp == stamp), None)
            if shot is None:
                self._send(404, "<title>Not in archive</title>", "text/html")
                return
            memento = [
                ("Link", f'<{original}>; rel="original"'),
                ("Memento-Datetime", http_date(stamp)),
            ]
            if shot.redirect:
                location = f"{base}/web/{stamp}/{shot.redirect}"
                self._send(302, "", "text/html", [("Location", location), *memento])
                return
            title = "Page Not Found" if shot.error else shot.title
            body = PAGE.format(title=title, text="archived")
            if shot.canonical:  # rewritten to the archive's replay URL, as archives do
                link = f'<link rel="canonical" href="/web/{stamp}/{shot.canonical}">'
                body = body.replace("</head>", link + "</head>")
            self._send(shot.status, body, "text/html", memento)
            return
        self._send(404, "not found", "text/plain")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        archives: Mapping[str, FakeArchive],
        pages: Mapping[tuple[str, str], Page],
    ) -> None:
        super().__init__(address, _Handler)
        self.archives = dict(archives)
        self.pages = dict(pages)
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def record(self, host: str, path: str) -> None:
        with self._lock:
            self.requests.append((host, path))

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


def closed_port(address: str = "127.0.0.1") -> str:
    """ADDR:PORT where nothing listens (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind((address, 0))
        port = sock.getsockname()[1]
    return f"{address}:{port}"


class ArchivesWeb(ServerThread):
    """Fake archives and pages on one loopback address; ``down`` hosts route to a closed port."""

    _server: _Server

    def __init__(
        self,
        archives: Sequence[FakeArchive],
        *,
        pages: Mapping[str, Page] | None = None,
        down: Sequence[str] = (),
        address: str = "127.0.0.5",
    ) -> None:
        keyed = {}
        for url, answer in (pages or {}).items():
            host, _, path = url.removeprefix("https://").removeprefix("http://").partition("/")
            keyed[(host.lower(), "/" + path)] = answer
        super().__init__(_Server((address, 0), {a.host: a for a in archives}, keyed))
        hosts = {a.host for a in archives} | {host for host, _ in keyed}
        self.routes = {host: self.address for host in hosts}
        refused = closed_port(address)
        for host in down:
            self.routes[host] = refused

    @property
    def requests(self) -> list[tuple[str, str]]:
        with self._server._lock:
            return list(self._server.requests)
