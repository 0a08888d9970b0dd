"""Politeness seen from the site owner's side: robots.txt, rates, connections, breakers."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from archiver.fetch.fetcher import Fetcher
from archiver.fetch.politeness import CircuitBreaker, HostGate
from archiver.fetch.robots import product_token, robots_url, rules_from_capture
from archiver.models import Capture
from tests.conftest import FAST_POLICY
from tests.misbehaving_server import serve

FAST = FAST_POLICY
ROBOTS = "User-agent: *\nDisallow: /private\n"


def test_robots_disallow_is_honoured_and_not_fetched() -> None:
    with serve("127.0.0.2", robots=ROBOTS) as server:
        with Fetcher(FAST) as fetcher:
            capture = fetcher.fetch(server.base + "/private")
            allowed = fetcher.fetch(server.base + "/ok")
        paths = server.stats.paths()
    assert capture.error == "robots_disallowed"
    assert capture.status is None
    assert allowed.status == 200
    assert "/private" not in paths
    assert paths.count("/robots.txt") == 1, "robots.txt must be cached per host"


def test_robots_applies_to_every_redirect_hop() -> None:
    with serve("127.0.0.2", robots=ROBOTS) as server:
        with Fetcher(FAST) as fetcher:
            capture = fetcher.fetch(server.base + "/go-private")
        paths = server.stats.paths()
    assert capture.error == "robots_disallowed"
    assert capture.redirects == (server.base + "/private",)
    assert "/private" not in paths


def test_robots_can_be_switched_off() -> None:
    with serve("127.0.0.2", robots=ROBOTS) as server:
        with Fetcher(replace(FAST, respect_robots=False)) as fetcher:
            capture = fetcher.fetch(server.base + "/private")
        paths = server.stats.paths()
    assert capture.status == 200
    assert "/robots.txt" not in paths


def test_missing_robots_allows_all() -> None:
    with serve("127.0.0.2", robots=None) as server:
        with Fetcher(FAST) as fetcher:
            assert fetcher.fetch(server.base + "/private").status == 200


def test_robots_5xx_disallows_all_as_rfc_9309_says() -> None:
    with serve("127.0.0.2", robots=503) as server:
        with Fetcher(FAST) as fetcher:
            capture = fetcher.fetch(server.base + "/ok")
        paths = server.stats.paths()
    assert capture.error == "robots_disallowed"
    assert "RFC 9309" in capture.detail
    assert "/ok" not in paths
    assert paths.count("/robots.txt") == 3  # retried like any 5xx, then believed


def test_dead_host_is_a_connection_error_not_robots_disallowed() -> None:
    with serve("127.0.0.2") as server:
        base = server.base
    with Fetcher(FAST) as fetcher:
        capture = fetcher.fetch(base + "/ok")
    assert capture.error == "connection_error"
    assert "robots.txt" in capture.detail


def test_crawl_delay_slows_the_host_down() -> None:
    robots = "User-agent: archiver\nCrawl-delay: 0.3\n"
    with serve("127.0.0.2", robots=robots) as server:
        with Fetcher(FAST) as fetcher:
            fetcher.fetch_many([f"{server.base}/page{i}" for i in range(3)])
        times = server.stats.request_times[1:]  # after robots.txt
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(gaps) == 2 and min(gaps) >= 0.25 and sum(gaps) >= 0.58, gaps


def test_robots_rules_from_capture() -> None:
    def capture(status: int | None, body: bytes = b"", error: str | None = None) -> Capture:
        return Capture(
            url="http://h/robots.txt", final_url="", status=status, body=body, error=error
        )

    parsed = rules_from_capture(capture(200, ROBOTS.encode()))
    assert parsed is not None
    assert not parsed.verdict("http://h/private/x", "archiver").allowed
    assert parsed.verdict("http://h/public", "archiver").allowed
    for status in (401, 403, 404, 410):
        rules = rules_from_capture(capture(status))
        assert rules is not None and rules.verdict("http://h/x", "archiver").allowed
    for status in (429, 500, 503):
        rules = rules_from_capture(capture(status))
        assert rules is not None and not rules.verdict("http://h/x", "archiver").allowed
    assert rules_from_capture(capture(None, error="timeout")) is None
    assert robots_url("https://Example.org:8443/a/b?c") == "https://Example.org:8443/robots.txt"
    assert product_token("archiver/0.1.0 (+https://x)") == "archiver"


def test_host_gate_never_exceeds_the_per_host_limit() -> None:
    gate = HostGate(per_host_connections=2, max_connections=10, per_host_rate=10_000)
    active = 0
    peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal active, peak
        with gate.request("h"):
            with lock:
                active += 1
                peak = max(peak, active)
            time.sleep(0.02)
            with lock:
                active -= 1

    threads = [threading.Thread(target=work) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 2


def test_circuit_breaker_opens_and_half_opens() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, cooldown=10.0, clock=lambda: now[0])
    breaker.record_failure("h", "timeout")
    assert breaker.blocked("h") is None
    breaker.record_failure("h", "timeout")
    assert breaker.blocked("h") == "timeout"
    assert breaker.blocked("other") is None
    now[0] = 11.0
    assert breaker.blocked("h") is None  # one trial after the cooldown
    assert breaker.blocked("h") == "timeout"  # ... and only one
    breaker.record_success("h")
    assert breaker.blocked("h") is None


def test_many_threads_share_one_robots_fetch() -> None:
    with serve("127.0.0.2", robots=ROBOTS, latency=0.05) as server:
        with Fetcher(replace(FAST, per_host_connections=4)) as fetcher:
            captures = fetcher.fetch_many([f"{server.base}/page{i}" for i in range(8)])
        paths = server.stats.paths()
    assert all(c.status == 200 for c in captures)
    assert paths.count("/robots.txt") == 1


def test_a_url_waits_for_its_start_in_the_gate_not_in_the_hand_over() -> None:
    """The scheduler hands a URL to a worker a little before its host's start time
    (scheduler.LEAD), so the worker is awake and waiting in the gate when the time comes; the
    gate alone decides the start, and starts stay at least an interval apart."""
    from archiver.fetch.scheduler import fetch_all

    rate = 20.0
    gate = HostGate(per_host_connections=2, max_connections=4, per_host_rate=rate)
    handed: list[float] = []
    started: list[float] = []

    def fetch(url: str) -> Capture:
        handed.append(time.monotonic())
        with gate.request("h.example"):
            started.append(time.monotonic())
            time.sleep(0.005)
        return Capture(url=url, final_url=url, status=200)

    urls = [f"http://h.example/{i}" for i in range(8)]
    fetch_all(urls, fetch, gate=gate, max_connections=4, per_host_connections=2,
              pause=time.sleep)  # fmt: skip
    gaps = [b - a for a, b in zip(sorted(started), sorted(started)[1:], strict=False)]
    assert min(gaps) >= 1 / rate, gaps  # the gate's interval (with its margin) holds
    waited = [s - h for h, s in zip(sorted(handed)[1:], sorted(started)[1:], strict=True)]
    assert sum(waited) / len(waited) > 0.01, waited  # handed over before the start time
