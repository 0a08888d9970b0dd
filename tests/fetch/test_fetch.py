"""The fetcher against a loopback server that misbehaves the way the web does."""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests
import responses

from archiver.errors import InputError, NetworkUnavailable
from archiver.fetch.fetcher import (
    DEFAULT_USER_AGENT,
    Fetcher,
    FetchPolicy,
    is_html,
    parse_retry_after,
    parse_routes,
    policy_from_options,
)
from archiver.models import Capture
from tests.conftest import FAST_POLICY
from tests.misbehaving_server import PAGE, MisbehavingServer, serve

FAST = replace(FAST_POLICY, retries=2, max_bytes=1024 * 1024)


@pytest.fixture
def server() -> Iterator[MisbehavingServer]:
    with serve("127.0.0.2") as srv:
        yield srv


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(FAST) as f:
        yield f


def test_plain_page_is_recorded_as_received(server: MisbehavingServer, fetcher: Fetcher) -> None:
    capture = fetcher.fetch(server.base + "/ok")
    assert capture.error is None and capture.status == 200
    assert capture.body == PAGE
    assert capture.sha256 == hashlib.sha256(PAGE).hexdigest()
    assert capture.content_type == "text/html"
    assert capture.fetched_at.endswith("Z")
    assert ("Content-Length", str(len(PAGE))) in capture.headers
    assert is_html(capture)
    assert fetcher.network_seen
    sent = server.stats.requests[-1][2]
    assert sent["User-Agent"] == DEFAULT_USER_AGENT
    assert "+https://" in DEFAULT_USER_AGENT


def test_repeated_headers_are_kept_apart(server: MisbehavingServer, fetcher: Fetcher) -> None:
    capture = fetcher.fetch(server.base + "/cookies")
    cookies = [value for key, value in capture.headers if key == "Set-Cookie"]
    assert cookies == ["a=1", "b=2"]


@pytest.mark.slow
def test_slow_drip_is_cut_at_the_total_deadline(server: MisbehavingServer) -> None:
    policy = replace(FAST, timeout=1.0, read_timeout=0.5, retries=0)
    with Fetcher(policy) as fetcher:
        started = time.monotonic()
        capture = fetcher.fetch(server.base + "/slow-drip")
        took = time.monotonic() - started
    assert capture.error == "timeout"
    assert capture.status == 200
    assert capture.truncated
    assert 0 < len(capture.body) < 1000
    assert took < 2.0, "a dripping server held the worker past its deadline"


@pytest.mark.slow
def test_header_drip_is_cut_at_the_total_deadline(server: MisbehavingServer) -> None:
    policy = replace(FAST, timeout=1.0, read_timeout=0.5, retries=0)
    with Fetcher(policy) as fetcher:
        started = time.monotonic()
        capture = fetcher.fetch(server.base + "/drip-headers")
        took = time.monotonic() - started
        after = fetcher.fetch(server.base + "/ok")  # the fetcher is still usable
    assert capture.error == "timeout", capture.detail
    assert "before the headers" in capture.detail
    assert took < 2.0, "a server dripping its headers held the worker past its deadline"
    assert after.status == 200


def test_reset_connection_is_a_connection_error_after_retries(
    server: MisbehavingServer, fetcher: Fetcher
) -> None:
    capture = fetcher.fetch(server.base + "/reset")
    assert capture.error == "connection_error"
    assert capture.status is None
    assert server.stats.paths().count("/reset") == 3  # retries=2: three attempts


def test_503_then_200_is_retried_to_success(server: MisbehavingServer, fetcher: Fetcher) -> None:
    capture = fetcher.fetch(server.base + "/flaky")
    assert capture.status == 200 and capture.error is None
    assert server.stats.paths().count("/flaky") == 3


def test_persistent_503_gives_the_last_answer(server: MisbehavingServer, fetcher: Fetcher) -> None:
    capture = fetcher.fetch(server.base + "/always-503")
    assert capture.status == 503 and capture.error is None
    assert "after 3 attempts" in capture.detail
    assert server.stats.paths().count("/always-503") == 3


@pytest.mark.slow
def test_429_retry_after_is_honoured(server: MisbehavingServer, fetcher: Fetcher) -> None:
    capture = fetcher.fetch(server.base + "/rate-limited")
    assert capture.status == 200
    times = server.stats.request_times
    assert times[-1] - times[-2] >= 0.95, "Retry-After: 1 was not waited for"


@pytest.mark.slow
def test_retry_after_pauses_the_whole_host(server: MisbehavingServer, fetcher: Fetcher) -> None:
    first = threading.Thread(target=fetcher.fetch, args=(server.base + "/rate-limited",))
    first.start()
    time.sleep(0.3)  # the 429 has arrived; its retry waits for Retry-After: 1
    other = fetcher.fetch(server.base + "/page-other")
    first.join()
    assert other.status == 200
    seen = list(zip(server.stats.paths(), server.stats.request_times, strict=True))
    limited = next(when for path, when in seen if path == "/rate-limited")
    other_at = next(when for path, when in seen if path == "/page-other")
    assert other_at - limited >= 0.9, "another URL of the host went in during the pause"


def test_retry_after_beyond_the_cap_is_not_waited(
    server: MisbehavingServer, fetcher: Fetcher
) -> None:
    started = time.monotonic()
    capture = fetcher.fetch(server.base + "/rate-limited-long")
    assert time.monotonic() - started < 1.0
    assert capture.status == 429
    assert "cap" in capture.detail
    assert server.stats.paths().count("/rate-limited-long") == 1


def test_redirect_chain_is_recorded(server: MisbehavingServer, fetcher: Fetcher) -> None:
    capture = fetcher.fetch(server.base + "/chain/3")
    assert capture.status == 200
    assert capture.url == server.base + "/chain/3"
    assert capture.redirects == (
        server.base + "/chain/2",
        server.base + "/chain/1",
        server.base + "/ok",
    )
    assert capture.final_url == server.base + "/ok"


def test_redirect_loop_is_detected(server: MisbehavingServer, fetcher: Fetcher) -> None:
    capture = fetcher.fetch(server.base + "/loop/a")
    assert capture.error == "redirect_loop"
    assert capture.redirects == (server.base + "/loop/b", server.base + "/loop/a")
    assert len(server.stats.requests) == 3  # robots.txt, a, b — and not a again


def test_redirect_limit(server: MisbehavingServer) -> None:
    with Fetcher(replace(FAST, max_redirects=3)) as fetcher:
        capture = fetcher.fetch(server.base + "/chain/10")
    assert capture.error == "too_many_redirects"
    assert len(capture.redirects) == 3


def test_redirect_to_a_non_http_scheme_is_invalid(
    server: MisbehavingServer, fetcher: Fetcher
) -> None:
    capture = fetcher.fetch(server.base + "/to/ftp://example.org/file")
    assert capture.error == "invalid"
    assert capture.status == 302


def test_wrong_content_length_is_recorded_as_truncated(
    server: MisbehavingServer, fetcher: Fetcher
) -> None:
    capture = fetcher.fetch(server.base + "/short-body")
    assert capture.status == 200
    assert capture.body == b"0123456789"
    assert capture.truncated
    assert "cut short" in capture.detail


def test_gzip_is_decoded(server: MisbehavingServer, fetcher: Fetcher) -> None:
    capture = fetcher.fetch(server.base + "/gzip")
    assert capture.body == PAGE
    assert capture.header("Content-Encoding") == "gzip"
    assert not capture.truncated


def test_gzip_cut_short_is_truncated(server: MisbehavingServer, fetcher: Fetcher) -> None:
    capture = fetcher.fetch(server.base + "/gzip-cut")
    assert capture.truncated and "ended early" in capture.detail
    assert capture.body and (PAGE * 50).startswith(capture.body)


def test_only_get_and_head_are_sent(fetcher: Fetcher) -> None:
    with pytest.raises(ValueError):
        fetcher.fetch("http://127.0.0.2:9/", method="POST")


def test_gzip_bomb_stops_at_the_decoded_cap() -> None:
    with serve("127.0.0.2", bomb_size=64 * 1024 * 1024) as server:
        assert len(server.bomb) < 200_000  # the point of a bomb: small on the wire
        with Fetcher(FAST) as fetcher:
            capture = fetcher.fetch(server.base + "/gzip-bomb")
    assert capture.truncated
    assert len(capture.body) == FAST.max_bytes
    assert capture.status == 200 and capture.error is None


def test_huge_body_stops_at_the_cap(server: MisbehavingServer, fetcher: Fetcher) -> None:
    capture = fetcher.fetch(server.base + "/huge")
    assert capture.truncated
    assert len(capture.body) == FAST.max_bytes
    assert "larger than" in capture.detail


def test_wrong_charset_header_keeps_the_bytes(server: MisbehavingServer, fetcher: Fetcher) -> None:
    capture = fetcher.fetch(server.base + "/wrong-charset")
    assert capture.body == "<html><body><p>Привет, мир</p></body></html>".encode("cp1251")
    assert capture.header("Content-Type") == "text/html; charset=utf-8"


def test_head_not_allowed_falls_back_to_get(server: MisbehavingServer, fetcher: Fetcher) -> None:
    capture = fetcher.fetch(server.base + "/head-not-allowed", method="HEAD")
    assert capture.status == 200
    assert capture.method == "GET"
    assert "HEAD answered 405" in capture.detail
    methods = [m for m, path, _ in server.stats.requests if path == "/head-not-allowed"]
    assert methods == ["HEAD", "GET"]


def test_head_reads_no_body(server: MisbehavingServer, fetcher: Fetcher) -> None:
    capture = fetcher.fetch(server.base + "/ok", method="HEAD")
    assert capture.status == 200 and capture.method == "HEAD" and capture.body == b""


def test_conditional_get_records_not_modified(server: MisbehavingServer, fetcher: Fetcher) -> None:
    first = fetcher.fetch(server.base + "/etag")
    assert first.status == 200 and first.header("ETag") == '"v1"'
    second = fetcher.fetch(
        server.base + "/etag",
        etag=first.header("ETag"),
        last_modified=first.header("Last-Modified"),
    )
    assert second.status == 304 and second.not_modified
    assert second.body == b""
    sent = server.stats.requests[-1][2]
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == "Mon, 02 Jan 2023 10:00:00 GMT"


def test_pdf_is_kept_with_its_checksum(server: MisbehavingServer, fetcher: Fetcher) -> None:
    capture = fetcher.fetch(server.base + "/paper.pdf")
    assert capture.content_type == "application/pdf"
    assert not is_html(capture)
    assert capture.sha256 == hashlib.sha256(capture.body).hexdigest()
    assert capture.body.startswith(b"%PDF")


def test_invalid_urls_never_touch_the_network(fetcher: Fetcher) -> None:
    for url in ["", "ftp://example.org/", "http://", "not a url", "http://exa mple.org/"]:
        capture = fetcher.fetch(url)
        assert capture.error == "invalid", url
    assert fetcher.attempts == 0


@responses.activate
def test_unresolvable_host_is_a_dns_error() -> None:
    # The real resolver is never asked here (that would send a query off the machine): the
    # failure urllib3 raises for a name that does not resolve is staged with `responses`.
    # tests/test_offline.py shows the same with the network really absent.
    import socket

    import urllib3.exceptions

    name_error = urllib3.exceptions.NameResolutionError(
        "no-such-host.invalid", None, socket.gaierror(-2, "Name or service not known")
    )
    responses.add(
        responses.GET,
        "http://no-such-host.invalid/",
        body=requests.exceptions.ConnectionError(
            urllib3.exceptions.MaxRetryError(None, "/", name_error)
        ),
    )
    with Fetcher(replace(FAST, respect_robots=False)) as fetcher:
        capture = fetcher.fetch("http://no-such-host.invalid/")
    assert capture.error == "dns_error"
    assert len(responses.calls) == 1  # a name that does not resolve is not retried
    assert not fetcher.network_seen
    with pytest.raises(NetworkUnavailable):
        fetcher.raise_if_offline()


def test_refused_connection(fetcher: Fetcher) -> None:
    with serve("127.0.0.2") as server:
        base = server.base
    capture = fetcher.fetch(base + "/ok")  # the server is gone: nothing listens there now
    assert capture.error == "connection_error"
    assert not fetcher.network_seen


def test_circuit_breaker_stops_a_dead_host_stalling_the_run() -> None:
    with serve("127.0.0.2") as server:
        base = server.base
    policy = replace(FAST, breaker_threshold=3, respect_robots=False)
    with Fetcher(policy) as fetcher:
        captures = [fetcher.fetch(f"{base}/page{i}") for i in range(5)]
        assert fetcher.attempts == 3
    assert [c.error for c in captures] == ["connection_error"] * 5
    assert "circuit breaker" in captures[-1].detail


def test_routes_keep_logical_urls_and_host_header(server: MisbehavingServer) -> None:
    routes = {"www.themoscowtimes.com": server.target, "archive.example": server.target}
    with Fetcher(FAST, routes=routes) as fetcher:
        capture = fetcher.fetch("https://www.themoscowtimes.com/host")
        redirected = fetcher.fetch(
            "https://www.themoscowtimes.com/to/https://archive.example/chain/1"
        )
    assert capture.body == b"www.themoscowtimes.com"
    assert capture.url == capture.final_url == "https://www.themoscowtimes.com/host"
    assert redirected.redirects == ("https://archive.example/chain/1", "https://archive.example/ok")
    assert redirected.status == 200


def test_parse_routes() -> None:
    assert parse_routes(["WWW.Example.com=127.0.0.2:8080"]) == {"www.example.com": "127.0.0.2:8080"}
    for bad in ["nohost", "=127.0.0.1:80", "h=127.0.0.1", "h=127.0.0.1:x", "h=1.2.3.4:70000"]:
        with pytest.raises(InputError):
            parse_routes([bad])


def test_policy_from_options_and_validation() -> None:
    assert policy_from_options() == FetchPolicy()
    policy = policy_from_options(per_host_rate=5, per_host_connections=4, timeout=3, user_agent="x")
    assert (policy.per_host_rate, policy.per_host_connections) == (5, 4)
    assert policy.timeout == 3 and policy.connect_timeout <= 3 and policy.user_agent == "x"
    with pytest.raises(InputError):
        FetchPolicy(per_host_rate=0)
    with pytest.raises(InputError):
        FetchPolicy(max_connections=0)


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0


def test_fetch_many_keeps_order_and_limits_connections_per_host() -> None:
    policy = replace(FAST, per_host_connections=2, max_connections=8)
    with serve("127.0.0.2", latency=0.05) as a, serve("127.0.0.3", latency=0.05) as b:
        urls = [f"{srv.base}/page{i}" for i in range(10) for srv in (a, b)]
        with Fetcher(policy) as fetcher:
            captures = fetcher.fetch_many(urls)
        for srv in (a, b):
            assert srv.stats.max_active_requests == 2, "the limit was not reached or exceeded"
            assert srv.stats.max_open_connections <= 2
    assert [c.url for c in captures] == urls
    assert all(c.status == 200 for c in captures)


def test_per_host_rate_spaces_requests() -> None:
    policy = replace(FAST, per_host_rate=20.0, per_host_connections=4)
    with serve("127.0.0.2") as server:
        with Fetcher(policy) as fetcher:
            fetcher.fetch_many([f"{server.base}/page{i}" for i in range(6)])
        times = sorted(server.stats.request_times)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # Starts are reserved 1/20 s apart; arrival at the server adds a little scheduling jitter.
    assert times[-1] - times[0] >= 6 * 0.05 * 0.95, gaps  # robots.txt + 6 pages
    assert min(gaps) >= 0.03, gaps


def test_global_limit_holds_across_hosts() -> None:
    policy = replace(FAST, per_host_connections=2, max_connections=2)
    with serve("127.0.0.2", latency=0.05) as a, serve("127.0.0.3", latency=0.05) as b:
        urls = [f"{srv.base}/page{i}" for i in range(4) for srv in (a, b)]
        active: list[int] = []
        with Fetcher(policy) as fetcher:
            fetcher.fetch_many(urls)
        active = [a.stats.max_active_requests, b.stats.max_active_requests]
    assert sum(active) <= 2 or max(active) <= 2
    assert all(n >= 1 for n in active)


@responses.activate
def test_responses_level_faults() -> None:
    """Request-level faults that a real server cannot easily stage."""
    responses.add(responses.GET, "http://faults.example/robots.txt", status=404)
    responses.add(
        responses.GET,
        "http://faults.example/tls",
        body=requests.exceptions.SSLError("certificate verify failed"),
    )
    responses.add(
        responses.GET,
        "http://faults.example/connect-timeout",
        body=requests.exceptions.ConnectTimeout("connect timed out"),
    )
    responses.add(
        responses.GET,
        "http://faults.example/moved",
        status=301,
        headers={"Location": "http://[bad"},
    )
    policy = replace(FAST, retries=1)
    with Fetcher(policy) as fetcher:
        tls = fetcher.fetch("http://faults.example/tls")
        slow = fetcher.fetch("http://faults.example/connect-timeout")
        moved = fetcher.fetch("http://faults.example/moved")
    assert tls.error == "tls_error"
    assert slow.error == "timeout"
    assert moved.error == "invalid" and moved.status == 301
    hits = [call.request.url for call in responses.calls]
    assert hits.count("http://faults.example/tls") == 1  # TLS errors are not retried
    assert hits.count("http://faults.example/connect-timeout") == 2  # connect timeouts are


def test_gzip_multi_member_and_raw_deflate() -> None:
    from archiver.fetch.decoding import Decoder as _Decoder

    two = gzip.compress(b"abc") + gzip.compress(b"def")
    assert _Decoder("gzip").feed(two, 100) == b"abcdef"
    import zlib

    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    data = raw.compress(b"hello") + raw.flush()
    assert _Decoder("deflate").feed(data, 100) == b"hello"
    assert _Decoder("deflate").feed(zlib.compress(b"hello"), 100) == b"hello"


def test_routed_hosts_bypass_environment_proxies(
    server: MisbehavingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy that does not exist: if a routed request went to it, it would fail.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.9:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.9:9")
    with Fetcher(FAST, routes={"www.themoscowtimes.com": server.target}) as fetcher:
        assert fetcher.fetch("https://www.themoscowtimes.com/ok").status == 200
        assert fetcher.fetch(server.base + "/ok").status == 200


def test_limits_are_per_logical_host_even_on_one_address() -> None:
    policy = replace(FAST, per_host_connections=1)
    with serve("127.0.0.2", latency=0.05) as server:
        routes = {"one.example": server.target, "two.example": server.target}
        urls = [f"https://{host}/page{i}" for i in range(4) for host in routes]
        with Fetcher(policy, routes=routes) as fetcher:
            captures = fetcher.fetch_many(urls)
        hosts = {headers["Host"] for _, path, headers in server.stats.requests}
        assert server.stats.max_active_requests == 2  # one per logical host, both at once
    assert hosts == {"one.example", "two.example"}
    assert all(c.status == 200 for c in captures)


def test_each_hears_of_every_answer_as_it_arrives() -> None:
    policy = replace(FAST, per_host_rate=20.0, per_host_connections=1)
    heard: list[tuple[int, Capture, int]] = []
    with serve("127.0.0.2") as server:
        urls = [f"{server.base}/page{i}" for i in range(5)]
        with Fetcher(policy) as fetcher:
            captures = fetcher.fetch_many(
                urls, each=lambda i, c: heard.append((i, c, len(server.stats.request_times)))
            )
    assert sorted(i for i, _, _ in heard) == list(range(5))
    assert all(captures[i] is capture for i, capture, _ in heard)
    # the first answer is heard before the last request reached the server (1/20 s apart)
    assert heard[0][2] < 6, heard  # robots.txt + 5 pages
