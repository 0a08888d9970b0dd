"""The one URL predicate and normalizer (``archiver.fetch.urls``): one rule for the five places
that used to judge URLs each their own way, and one spelling of a host (IDNA) for the archive,
politeness and ``--connect-to``."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from archiver.errors import InputError
from archiver.fetch.fetcher import Fetcher
from tests.conftest import FAST_POLICY

ROOT = Path(__file__).resolve().parents[2]
FAST = replace(FAST_POLICY, respect_robots=False)


# -- issue 11: one URL predicate, pure ----------------------------------------------------------


URLS = [
    "https://example.org/ok",
    "HTTPS://Example.org/ok",
    "https://bücher.example/x",
    "https://example.org:99999/",  # a port no host has
    "https://example.org:0/",
    "https://exa<mple.org/",  # a host no host name can be
    "https://a..b/",
    "https://example.org/a b",
    "https://example.org/\x1b[31m",
    "https://",
    "http:/example.org",
    "www.example.org/x",
    "javascript:alert(1)",
    "ftp://example.org/",
]


def test_the_five_url_checks_are_one_rule() -> None:
    """fetch, the link precheck, the canonical parser, repair and the Wayback lookup said five
    different things of these URLs (the canonical parser took ``https://a..b/`` and a port of
    99999; Wayback took ports out of range); they now ask one function and agree."""
    from archiver.links import wayback
    from archiver.links.check import precheck
    from archiver.models import Link
    from archiver.verify import repair
    from archiver.verify.canonical import parse_canonical

    def canonical_ok(url: str) -> bool:
        try:
            parse_canonical(f"---\nurl: '{url}'\n---\nBody text.\n")
        except InputError:
            return False
        return True

    expected = {url: i < 3 for i, url in enumerate(URLS)}
    with Fetcher(FAST) as fetcher:
        fetched = {url: fetcher.fetch(url).error != "invalid" for url in URLS[3:]}
    verdicts = {
        "precheck": {url: precheck(Link(url=url, text="t")) is None for url in URLS},
        "canonical": {url: canonical_ok(url) for url in URLS},
        "repair": {url: repair._web_url(url) for url in URLS},
        "wayback": {url: wayback._http_url(url) is not None for url in URLS},
    }
    for name, said in verdicts.items():
        assert said == expected, name
    assert not any(fetched.values())  # every bad one is refused before the network


def test_the_url_predicate_loads_no_http_client() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, archiver.fetch.urls, archiver.links.check;"
            "print(sorted(m for m in ('requests', 'urllib3', 'http.client') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- issue 14 item 11: one spelling of a host ---------------------------------------------------


class _HostEcho(http.server.BaseHTTPRequestHandler):
    active = 0
    most = 0
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802
        with _HostEcho.lock:
            _HostEcho.active += 1
            _HostEcho.most = max(_HostEcho.most, _HostEcho.active)
        time.sleep(0.05)
        body = (self.headers.get("Host") or "").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with _HostEcho.lock:
            _HostEcho.active -= 1

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.mark.parametrize("route", ["bücher.example", "xn--bcher-kva.example", "BÜCHER.example"])
def test_unicode_and_punycode_hosts_are_one_host(route: str) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), _HostEcho)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _HostEcho.most = 0
    try:
        target = f"127.0.0.2:{server.server_address[1]}"
        policy = replace(FAST, per_host_connections=1)
        urls = ["https://bücher.example/a", "https://xn--bcher-kva.example/b"] * 2
        with Fetcher(policy, routes={route: target}) as fetcher:
            captures = fetcher.fetch_many(urls)
    finally:
        server.shutdown()
        server.server_close()
    assert [c.status for c in captures] == [200] * 4, [c.detail for c in captures]
    assert {c.body for c in captures} == {b"xn--bcher-kva.example"}  # one Host, in ASCII
    assert _HostEcho.most == 1  # one host for politeness: one connection at a time
    assert [c.url for c in captures] == urls  # each caller's URL is kept as given


def test_parse_routes_and_normalize_url_use_the_idna_spelling() -> None:
    from archiver.fetch.policy import parse_routes
    from archiver.fetch.urls import normalize_url

    routes = parse_routes(["Bücher.Example=127.0.0.2:80"])
    assert routes == {"xn--bcher-kva.example": "127.0.0.2:80"}
    assert normalize_url("https://BÜCHER.example/Path?q=1") == normalize_url(
        "https://xn--bcher-kva.example/Path?q=1"
    )
    assert normalize_url("https://xn--bcher-kva.example/Path?q=1") == (
        "https://xn--bcher-kva.example/Path?q=1"
    )


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("www.example.org/x", "https://www.example.org/x"),
        ("example.org", "https://example.org"),
        ("example.org:8080/a?b", "https://example.org:8080/a?b"),
        ("localhost/x", "https://localhost/x"),
        ("mailto:a@example.org", None),
        ("javascript:alert(1)", None),
        ("/relative/path", None),
        ("notes.txt extra", None),
        ("https://example.org/", None),
    ],
)
def test_scheme_hint(url: str, hint: str | None) -> None:
    from archiver.fetch.urls import check_url, scheme_hint

    assert scheme_hint(url) == hint
    if hint:
        assert f"did you mean {hint}?" in (check_url(url) or "")


def test_normalize_host() -> None:
    from archiver.fetch.urls import host_of, normalize_host

    assert normalize_host("Bücher.Example") == "xn--bcher-kva.example"
    assert normalize_host("XN--BCHER-KVA.example") == "xn--bcher-kva.example"
    assert normalize_host("例え.テスト") == "xn--r8jz45g.xn--zckzah"
    assert normalize_host("[::1]") == "[::1]"
    assert normalize_host("example.org.") == "example.org."
    assert host_of("https://Bücher.example:8443/x") == "xn--bcher-kva.example"
    for bad in ("", "a..b", "exa mple", "a" * 64 + ".org", "[zz]", "ex<ample"):
        with pytest.raises(ValueError):
            normalize_host(bad)


def test_refuse_schemeless_names_the_url_and_the_hint() -> None:
    from archiver.fetch.urls import refuse_schemeless

    refuse_schemeless(["https://example.org/", "ftp://example.org/"])  # not ours to refuse
    with pytest.raises(InputError, match=r"did you mean https://www\.example\.org/x\?"):
        refuse_schemeless(["https://example.org/", "www.example.org/x"])


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://a.example/x y", "URL contains white space"),
        ("https://a.example/x\ty", "URL contains white space"),
        ("https://a.example/x\u00a0y", "URL contains white space"),
        ("https://a.example/x\u3000y", "URL contains white space"),
        ("https://a.example/x\u2028y", "URL contains white space"),
        ("https://a.example/x\x1cy", "URL contains white space"),
        ("https://a.example/x\x07y", "URL contains control characters"),
        ("https://a.example/x\u200by", "URL contains control characters"),
        ("https://a.example/ёлка", None),
    ],
)
def test_white_space_and_control_characters_are_told_apart(url: str, why: str | None) -> None:
    from archiver.fetch.urls import check_url

    assert check_url(url) == why
