"""A loopback news site for the tests of scheduled runs: articles, their sources, feeds.

Unlike :mod:`archiver.testserver`, it answers conditional GETs (``ETag`` / ``If-None-Match``
gives 304) and can be changed while it runs (an article edited, a source taken down, a delay
added, some paths held until released), which is what the schedule, resume and notification
tests need.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archiver.models import sha256_hex
from archiver.testserver import ServerThread


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    location: str | None = None
    etag: bool = True


PARAGRAPHS = (
    "Paragraph one of story {n} tells what happened in the city on that day.",
    "Paragraph two of story {n} quotes a source who saw it, see the report.",
    "Paragraph three closes the story with what comes next for everyone.",
)


def article(n: int, host: str, sources: list[tuple[str, str]]) -> tuple[str, str, bytes]:
    """(url, canonical Markdown, live HTML) of a small article linking to ``sources``."""
    url = f"https://{host}/{n:05d}/story-{n}"
    paras = [p.format(n=n) for p in PARAGRAPHS]
    anchors_md = "".join(f" [{text}]({target})" for target, text in sources)
    anchors_html = "".join(f' <a href="{target}">{text}</a>' for target, text in sources)
    markdown = (
        f"---\nurl: {url}\n---\n\n# Story {n}\n\nA short subtitle for story {n}.\n\n"
        f"By Ann Reporter\n\nMarch 30, 2017\n\n{paras[0]}\n\n{paras[1]}{anchors_md}\n\n"
        f"{paras[2]}\n"
    )
    page = (
        f"<!doctype html><html><head><title>Story {n}</title>"
        f'<meta name="description" content="A short subtitle for story {n}.">'
        '<meta name="author" content="Ann Reporter">'
        '<meta property="article:published_time" content="2017-03-30T10:00:00Z"></head>'
        f"<body><header><h1>Story {n}</h1></header><article><p>{paras[0]}</p>"
        f"<p>{paras[1]}{anchors_html}</p><p>{paras[2]}</p></article></body></html>"
    )
    return url, markdown, page.encode("utf-8")


def source_page(title: str) -> bytes:
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body><article>"
        f"<h1>{title}</h1><p>The source document called {title}, as it stands.</p>"
        "</article></body></html>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    server: NewsWeb._Server  # type: ignore[name-defined]
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body in separate writes: no 40 ms stall

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _answer(self, with_body: bool) -> None:
        web: NewsWeb = self.server.web
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        answer = web.pages.get((host, self.path))
        web.record(host, self.path, self.command, self.headers.get("If-None-Match"))
        if web.delay:
            time.sleep(web.delay)
        if self.path in web.held:
            web.released.wait(30)  # bounded: a test that forgets to release still ends
        if answer is None:
            answer = Answer(status=404, body=b"<html><title>404 Not Found</title></html>")
        tag = f'"{sha256_hex(answer.body)[:16]}"'
        if answer.etag and answer.status == 200 and self.headers.get("If-None-Match") == tag:
            self.send_response(304)
            self.send_header("ETag", tag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        if answer.etag and answer.status == 200:
            self.send_header("ETag", tag)
        if answer.location:
            self.send_header("Location", answer.location)
        self.end_headers()
        if with_body:
            self.wfile.write(answer.body)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(False)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        self.server.web.posts.append((self.path, json.loads(data)))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()


class NewsWeb(ServerThread):
    """A running loopback site; ``add`` pages by URL, read ``requests`` and ``posts`` after."""

    class _Server(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True
        web: NewsWeb

    def __init__(self, address: str = "127.0.0.3") -> None:
        self.pages: dict[tuple[str, str], Answer] = {}
        self.requests: list[tuple[str, str, str, str | None]] = []
        self.posts: list[tuple[str, Any]] = []
        self.delay = 0.0
        self.held: set[str] = set()  # paths that wait for ``released`` before answering
        self.released = threading.Event()
        self._lock = threading.Lock()
        server = NewsWeb._Server((address, 0), _Handler)
        server.web = self
        super().__init__(server)

    def add(self, url: str, answer: Answer) -> None:
        parts = urlsplit(url)
        self.pages[((parts.hostname or "").lower(), parts.path or "/")] = answer

    def record(self, host: str, path: str, method: str, etag: str | None) -> None:
        with self._lock:
            self.requests.append((host, path, method, etag))

    def hits(self, url: str) -> int:
        parts = urlsplit(url)
        return sum(1 for h, p, _, _ in self.requests if (h, p) == (parts.hostname, parts.path))

    def routes(self) -> list[str]:
        hosts = sorted({host for host, _ in self.pages})
        return [f"{host}={self.address}" for host in hosts]


def build_site(
    web: NewsWeb, folder: Path, count: int, *, broken: int = 0
) -> list[tuple[str, Path]]:
    """``count`` articles (each linking two sources, the first ``broken`` to a 404) written as
    canonical copies under ``folder`` and served by ``web``; returns (url, copy path)."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for n in range(1, count + 1):
        good = f"https://sources.test/doc-{n}"
        dead = f"https://sources.test/gone-{n}"
        targets = [(good, f"document {n}"), (dead if n <= broken else good + "b", f"report {n}")]
        url, markdown, page = article(n, "news.test", targets)
        path = folder / f"story-{n:05d}.md"
        path.write_text(markdown, encoding="utf-8")
        web.add(url, Answer(body=page))
        web.add(good, Answer(body=source_page(f"Document {n}")))
        if n > broken:
            web.add(good + "b", Answer(body=source_page(f"Report {n}")))
        made.append((url, path))
    return made


def write_config(path: Path, web: NewsWeb, body: str, *, batch: int = 64) -> Path:
    """A run config with fast politeness for loopback and ``web``'s routes, then ``body``."""
    routes = ", ".join(f'"{r}"' for r in web.routes())
    path.write_text(
        "[archive]\n"
        'db = "archive.db"\n\n'
        "[fetch]\n"
        "per_host_rate = 200\n"
        "per_host_connections = 4\n"
        "timeout = 5\n"
        "retries = 0\n"
        "respect_robots = false\n"
        f"batch = {batch}\n"
        f"connect_to = [{routes}]\n\n" + body,
        encoding="utf-8",
    )
    return path
