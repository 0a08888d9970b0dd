"""A loopback web with every case a link checker meets, for the link-rot tests.

One real HTTP server answers for several logical hosts by the Host header (the fetcher's routes
send them here). Unlike the bundled site it can lie to HEAD, answer 2xx to any path on a
catch-all host, and record the method of every request, so tests can see what was asked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from archiver.testserver import ServerThread

ARTICLE = """<!DOCTYPE html><html><head><title>{title}</title></head><body><article>
<h1>{title}</h1><p>{text}</p></article></body></html>"""


@dataclass(frozen=True, kw_only=True)
class Answer:
    """What one URL answers; ``head`` overrides the status of HEAD requests (a lying server)."""

    status: int = 200
    body: str = ""
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    head: int | None = None


def article(title: str, text: str) -> Answer:
    return Answer(body=ARTICLE.format(title=title, text=text))


def moved(location: str, status: int = 301) -> Answer:
    return Answer(status=status, headers=(("Location", location),))


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _answer(self, method: str) -> None:
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        self.server.record(method, host, self.path)
        answer = self.server.pages.get((host, self.path))
        if answer is None:
            answer = self.server.fallback.get(host) or Answer(
                status=404, body="<html><title>Not Found</title></html>"
            )
        if answer.delay:
            time.sleep(answer.delay)
        status = answer.head if method == "HEAD" and answer.head is not None else answer.status
        body = answer.body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in answer.headers:
            self.send_header(name, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self._answer("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer("HEAD")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        pages: Mapping[tuple[str, str], Answer],
        fallback: Mapping[str, Answer],
    ) -> None:
        super().__init__(address, _Handler)
        self.pages = dict(pages)
        self.fallback = dict(fallback)
        self.requests: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    def record(self, method: str, host: str, path: str) -> None:
        with self._lock:
            self.requests.append((method, host, path))

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeout tests) is not an error of the server


class LinkWeb(ServerThread):
    """Runs the server on ``address`` (port 0: a free one); a context manager."""

    _server: _Server

    def __init__(
        self,
        pages: Mapping[str, Answer],
        *,
        fallback: Mapping[str, Answer] | None = None,
        address: str = "127.0.0.3",
    ) -> None:
        keyed = {}
        for url, answer in pages.items():
            host, _, path = url.removeprefix("https://").removeprefix("http://").partition("/")
            keyed[(host.lower(), "/" + path)] = answer
        super().__init__(_Server((address, 0), keyed, fallback or {}))
        hosts = {host for host, _ in keyed} | set(fallback or {})
        self.routes = {host: self.address for host in hosts}

    @property
    def requests(self) -> list[tuple[str, str, str]]:
        """(method, host, path) of every request, in order."""
        return list(self._server.requests)
