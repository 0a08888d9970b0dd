"""A small web on loopback: bundled pages served for the demo, the tests and the benchmarks.

A site manifest (TOML) lists what each URL answers::

    [[page]]
    url = "https://www.example.org/story"
    file = "pages/story.html"          # or: body = "<html>...</html>"
    status = 200                       # default 200
    content_type = "text/html; charset=utf-8"
    location = "https://www.example.org/new-story"   # for 3xx
    headers = { "Retry-After" = "1" }
    delay = 0.05                       # seconds before answering

One :class:`SiteServer` listens on one loopback address and answers for every host of the
manifest by the Host header, so the fetcher's ``routes`` (``--connect-to``) can send realistic
URLs to it. Unknown URLs get a plain 404. Nothing here is used against the real network.
"""

from __future__ import annotations

import logging
import threading
import time
import tomllib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from archiver.errors import ConfigError

log = logging.getLogger(__name__)

SITE_MANIFEST = Path(__file__).resolve().parent.parent / "tests" / "web" / "site.toml"


@dataclass(frozen=True, kw_only=True)
class Page:
    """What one URL of the loopback web answers."""

    url: str
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    location: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


@dataclass
class Site:
    """Pages keyed by (host, path-with-query), loaded from a manifest."""

    pages: dict[tuple[str, str], Page] = field(default_factory=dict)

    @property
    def hosts(self) -> list[str]:
        return sorted({host for host, _ in self.pages})

    def add(self, page: Page) -> None:
        self.pages[_key(page.url)] = page

    def lookup(self, host: str, path: str) -> Page | None:
        return self.pages.get((host.lower(), path or "/"))


def _key(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return (parts.hostname or "").lower(), path


def load_site(manifest: str | Path = SITE_MANIFEST) -> Site:
    """Read a site manifest; page files are relative to the manifest's folder."""
    manifest = Path(manifest)
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{manifest}: cannot read site manifest: {exc}") from exc
    site = Site()
    for entry in data.get("page", []):
        site.add(_page(entry, manifest.parent))
    return site


def _page(entry: dict[str, Any], base: Path) -> Page:
    if "file" in entry:
        body = (base / entry["file"]).read_bytes()
    else:
        body = str(entry.get("body", "")).encode("utf-8")
    return Page(
        url=entry["url"],
        status=int(entry.get("status", 200)),
        body=body,
        content_type=str(entry.get("content_type", "text/html; charset=utf-8")),
        location=entry.get("location"),
        headers=tuple((str(k), str(v)) for k, v in entry.get("headers", {}).items()),
        delay=float(entry.get("delay", 0.0)),
    )


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s " + format, self.address_string(), *args)

    def _answer(self, with_body: bool) -> None:
        host = (self.headers.get("Host") or "").split(":")[0]
        self.server.record(host, self.path)
        page = self.server.site.lookup(host, self.path)
        if page is None:
            page = Page(
                url=self.path, status=404, body=b"<html><title>404 Not Found</title></html>"
            )
        if page.delay:
            time.sleep(page.delay)
        self.send_response(page.status)
        self.send_header("Content-Type", page.content_type)
        self.send_header("Content-Length", str(len(page.body)))
        if page.location:
            self.send_header("Location", page.location)
        for name, value in page.headers:
            self.send_header(name, value)
        self.end_headers()
        if with_body:
            self.wfile.write(page.body)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._answer(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802 - stdlib naming
        self._answer(with_body=False)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], site: Site) -> None:
        super().__init__(address, _Handler)
        self.site = site
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def record(self, host: str, path: str) -> None:
        with self._lock:
            self.requests.append((host, path))


class ServerThread:
    """An HTTP server answering on its own daemon thread; a context manager.

    Stopping shuts the loop down, closes the listening socket and joins the thread, so that
    nothing is left open behind a test (the suite turns ResourceWarning into an error).
    """

    def __init__(self, server: ThreadingHTTPServer, *, poll_interval: float = 0.5) -> None:
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True
        )

    @property
    def address(self) -> str:
        """``host:port`` the server listens on (a free port when asked for port 0)."""
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SiteServer(ServerThread):
    """A running loopback server for a :class:`Site`; use as a context manager."""

    _server: _Server

    def __init__(self, site: Site, host: str = "127.0.0.2", port: int = 0) -> None:
        super().__init__(_Server((host, port), site))

    @property
    def requests(self) -> list[tuple[str, str]]:
        """Every (host, path) asked for, in order: what the server really saw."""
        return list(self._server.requests)

    def routes(self) -> dict[str, str]:
        """The fetcher routes that send every host of the site here."""
        return {host: self.address for host in self._server.site.hosts}

    def connect_to_options(self) -> list[str]:
        """The same routes as ``--connect-to`` command-line options."""
        out: list[str] = []
        for host, address in self.routes().items():
            out += ["--connect-to", f"{host}={address}"]
        return out
