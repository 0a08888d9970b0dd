"""The one fetcher: every byte the archiver knows comes through :class:`Fetcher`.

It is polite (robots.txt, per-host rate and connection limits, a global limit, an identifying
User-Agent), careful (retries with jittered backoff on connection errors, 5xx and 429,
``Retry-After`` honoured up to a cap, a per-host circuit breaker), bounded (connect, read-silence
and total deadlines; a cap on the *decoded* body, so a gzip bomb cannot exhaust memory) and
honest (a fetch never raises for network or HTTP trouble: it returns a :class:`Capture` whose
``error`` names what went wrong, and ``network_seen`` tells "the link is dead" from "the machine
is offline").

Redirects are followed by hand, hop by hop, so the whole chain is recorded, loops are caught,
robots.txt and politeness apply to every hop, and routed hosts (``routes``, the CLI's
``--connect-to``) keep their logical URLs in the record.
"""

from __future__ import annotations

import email.utils
import heapq
import ipaddress
import logging
import random
import socket
import threading
import time
import zlib
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import UTC
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions

from archiver import __version__
from archiver.errors import InputError, NetworkUnavailable
from archiver.fetch.politeness import CircuitBreaker, HostGate
from archiver.fetch.robots import RobotsCache
from archiver.models import Capture, Traffic, utc_iso

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = (
    f"archiver/{__version__} "
    "(+https://github.com/archiver-project/archiver; archival verification bot)"
)
MiB = 1024 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024
#: Answers to HEAD that mean "not HEAD" more often than "not here": asked again with GET.
HEAD_REFUSED = frozenset({400, 403, 405, 501})
#: Errors that mean "nothing answered": they count against a host's circuit breaker.
STALLING_ERRORS = frozenset({"timeout", "connection_error"})
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
_NO_PROXY: dict[str, str | None] = {"http": None, "https": None, "all": None}


@dataclass(frozen=True, kw_only=True)
class FetchPolicy:
    """Every limit the fetcher keeps; the defaults are what a site owner would call polite.

    ``timeout`` is the total deadline of one attempt, body included; ``read_timeout`` the longest
    silence allowed between two reads. ``max_bytes`` caps the body *after* content decoding.
    """

    user_agent: str = DEFAULT_USER_AGENT
    timeout: float = 30.0
    connect_timeout: float = 10.0
    read_timeout: float = 15.0
    per_host_rate: float = 1.0
    per_host_connections: int = 2
    max_connections: int = 16
    max_redirects: int = 10
    max_bytes: int = 32 * MiB
    retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_cap: float = 60.0
    respect_robots: bool = True
    max_crawl_delay: float = 60.0
    breaker_threshold: int = 5
    breaker_cooldown: float = 60.0
    head_fallback: bool = True

    def __post_init__(self) -> None:
        positive = {
            "timeout": self.timeout,
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "per_host_rate": self.per_host_rate,
        }
        for name, value in positive.items():
            if not value > 0:
                raise InputError(f"{name} must be a positive number of seconds, not {value!r}")
        at_least_one = {
            "per_host_connections": self.per_host_connections,
            "max_connections": self.max_connections,
            "max_bytes": self.max_bytes,
        }
        for name, number in at_least_one.items():
            if number < 1:
                raise InputError(f"{name} must be at least 1, not {number!r}")
        if self.retries < 0 or self.max_redirects < 0:
            raise InputError("retries and max_redirects cannot be negative")
        if not self.user_agent.strip():
            raise InputError("the User-Agent cannot be empty")


def policy_from_options(
    *,
    per_host_rate: float | None = None,
    per_host_connections: int | None = None,
    timeout: float | None = None,
    user_agent: str | None = None,
    base: FetchPolicy | None = None,
) -> FetchPolicy:
    """A policy from the CLI's fetch options put over ``base`` (default: the defaults); None
    keeps what ``base`` says. A ``timeout`` caps the connect and read timeouts too, so that one
    option bounds the whole request, as ``curl --max-time`` does."""
    base = base or FetchPolicy()
    changes: dict[str, Any] = {}
    if per_host_rate is not None:
        changes["per_host_rate"] = per_host_rate
    if per_host_connections is not None:
        changes["per_host_connections"] = per_host_connections
    if timeout is not None:
        changes["timeout"] = timeout
        changes["connect_timeout"] = min(base.connect_timeout, timeout)
        changes["read_timeout"] = min(base.read_timeout, timeout)
    if user_agent is not None:
        changes["user_agent"] = user_agent
    return replace(base, **changes)


def parse_routes(items: Iterable[str]) -> dict[str, str]:
    """``["host=127.0.0.2:8080"]`` to ``{"host": "127.0.0.2:8080"}``; InputError if malformed."""
    routes: dict[str, str] = {}
    for item in items:
        host, sep, target = item.partition("=")
        host = host.strip().lower()
        addr, colon, port = target.strip().rpartition(":")
        if not sep or not host or ":" in host or "/" in host or not colon or not addr:
            raise InputError(f"--connect-to wants HOST=ADDR:PORT, got {item!r}")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise InputError(f"--connect-to has a bad port in {item!r}")
        routes[host] = f"{addr}:{int(port)}"
    return routes


def host_of(url: str) -> str:
    """The logical host politeness is keyed by: the URL's host name, lower-case, no port."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def check_url(url: str) -> str | None:
    """Why ``url`` is not a fetchable http(s) URL, or None if it is."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"not a well-formed URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return f"not an http(s) URL: {url[:200]!r}"
    if not parts.hostname:
        return "URL has no host"
    if port == 0:
        return "URL has port 0"
    if any(ch in url for ch in "\r\n\t\x00 "):
        return "URL contains whitespace or control characters"
    return None


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def is_html(capture: Capture) -> bool:
    """Whether the capture is a page to extract (HTML), rather than a file to store as is."""
    media = (capture.content_type or "").split(";")[0].strip().lower()
    if media:
        return media in ("text/html", "application/xhtml+xml")
    head = capture.body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _classify(exc: BaseException) -> str:
    """The contract's error word for an exception raised while sending a request."""
    if isinstance(exc, requests.exceptions.SSLError):
        return "tls_error"
    if isinstance(exc, requests.exceptions.Timeout):
        return "timeout"
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.URLRequired):
        return "invalid"
    if isinstance(exc, requests.exceptions.MissingSchema | requests.exceptions.InvalidSchema):
        return "invalid"
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, urllib3.exceptions.NameResolutionError | socket.gaierror):
            return "dns_error"
        if isinstance(current, urllib3.exceptions.SSLError):
            return "tls_error"
        nested = current.args[0] if current.args else None
        if isinstance(nested, BaseException):
            current = nested
        elif isinstance(current, urllib3.exceptions.MaxRetryError) and current.reason:
            current = current.reason
        else:
            current = current.__cause__ or current.__context__
    return "connection_error"


class _Decoder:
    """Content decoding with a hard cap on output, fed one network chunk at a time.

    urllib3 would decode too, but only ``zlib``'s ``max_length`` lets us stop a gzip bomb after
    exactly ``limit`` bytes of output instead of one whole inflated chunk later.
    """

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._zlib: Any = None
        self._produced = False
        if encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS)

    @property
    def decodes(self) -> bool:
        return self._zlib is not None

    def feed(self, data: bytes, limit: int) -> bytes:
        """Decoded bytes of ``data``; more than ``limit - 1`` bytes means the cap was reached."""
        if self._zlib is None:
            return data[:limit]
        out = b""
        while data and len(out) < limit:
            try:
                part = self._zlib.decompress(data, limit - len(out))
            except zlib.error:
                if self.encoding == "deflate" and not self._produced:
                    # Many servers send raw deflate without the zlib header the RFC asks for.
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._produced = True
                    continue
                raise
            self._produced = True
            out += part
            if self._zlib.unconsumed_tail:
                data = self._zlib.unconsumed_tail
            elif self._zlib.eof and self._zlib.unused_data and self.encoding != "deflate":
                data = self._zlib.unused_data  # a further gzip member
                self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:
                data = b""
        return out

    @property
    def finished(self) -> bool:
        """Whether the compressed stream reached its proper end (always true for identity)."""
        return self._zlib is None or bool(self._zlib.eof)

    def flush(self, limit: int) -> bytes:
        if self._zlib is None:
            return b""
        return bytes(self._zlib.flush())[:limit]


@dataclass(frozen=True, kw_only=True)
class _Body:
    data: bytes = b""
    truncated: bool = False
    error: str | None = None
    detail: str = ""


class Fetcher:
    """Fetches URLs politely and records each answer, or the lack of one, as a :class:`Capture`.

    Safe to share between threads. ``routes`` maps a host name to ``ADDR:PORT``: requests for
    that host go there over plain HTTP with the original Host header, while the capture keeps the
    logical URL (this is how tests and the offline demo stand in for real sites).
    """

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        routes: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.policy = policy or FetchPolicy()
        self.routes = {host.lower(): target for host, target in (routes or {}).items()}
        self._own_session = session is None
        self.session = session or _ManualRedirectSession()
        adapter = _WatchedAdapter(
            pool_connections=self.policy.max_connections,
            pool_maxsize=self.policy.max_connections,
            max_retries=0,
        )
        if self._own_session:
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)
        self.gate = HostGate(
            per_host_connections=self.policy.per_host_connections,
            max_connections=self.policy.max_connections,
            per_host_rate=self.policy.per_host_rate,
        )
        self.breaker = CircuitBreaker(
            threshold=self.policy.breaker_threshold, cooldown=self.policy.breaker_cooldown
        )
        self.robots = RobotsCache(self._fetch_robots, self.policy.user_agent)
        self._rng = random.Random()
        self._watchdog = _Watchdog()
        self._lock = threading.Lock()
        self._network_seen = False
        self._attempts = 0
        self._answers = 0

    # -- public API --------------------------------------------------------------------------

    @property
    def network_seen(self) -> bool:
        """Whether any host answered anything (any HTTP status) in this fetcher's life."""
        return self._network_seen

    @property
    def attempts(self) -> int:
        """How many requests were sent (or tried) in this fetcher's life."""
        return self._attempts

    def traffic(self) -> Traffic:
        """Requests sent and answers had so far; a job subtracts two of these (the one rule
        for "did nothing answer?", :attr:`Traffic.nothing_answered`)."""
        with self._lock:
            return Traffic(requests=self._attempts, answers=self._answers)

    def raise_if_offline(self) -> None:
        """Raise :class:`NetworkUnavailable` if requests were tried and nothing ever answered.

        Callers run this before turning failures into verdicts, so a machine without a network
        never records a link as dead.
        """
        if self._attempts and not self._network_seen:
            raise NetworkUnavailable(
                f"network_unavailable: none of {self._attempts} requests got any answer"
            )

    def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Capture:
        """Fetch one URL, following redirects; never raises for network or HTTP problems."""
        method = method.upper()
        if method not in ("GET", "HEAD"):
            raise ValueError(f"the fetcher only sends GET and HEAD, not {method}")
        started = time.monotonic()
        fetched_at = utc_iso()
        problem = check_url(url)
        if problem:
            return Capture(
                url=url,
                final_url=url,
                status=None,
                error="invalid",
                detail=problem,
                fetched_at=fetched_at,
                method=method,
            )
        conditional: dict[str, str] = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        capture = self._follow(url, method, conditional, robots=self.policy.respect_robots)
        if (
            method == "HEAD"
            and self.policy.head_fallback
            and capture.error is None
            and capture.status in HEAD_REFUSED
        ):
            note = f"HEAD answered {capture.status}; asked again with GET"
            capture = self._follow(url, "GET", conditional, robots=self.policy.respect_robots)
            capture = replace(capture, detail="; ".join(filter(None, [note, capture.detail])))
        return replace(capture, fetched_at=fetched_at, elapsed=time.monotonic() - started)

    def fetch_many(self, urls: Iterable[str], *, method: str = "GET") -> list[Capture]:
        """Fetch many URLs concurrently within every limit; results keep the input's order.

        A small scheduler hands a URL to the thread pool only when its host has a free
        connection slot and its next polite start time has come, so one slow host never
        ties up the workers that other hosts could use.
        """
        items = list(urls)
        results: list[Capture | None] = [None] * len(items)
        queues: dict[str, deque[int]] = {}
        for index, url in enumerate(items):
            queues.setdefault(host_of(url), deque()).append(index)
        limit = self.policy.max_connections
        busy: Counter[str] = Counter()
        planned: dict[str, float] = {}  # the next polite start time per host, as dispatched
        inflight: dict[Future[Capture], tuple[str, int]] = {}
        workers = max(1, min(limit, len(items)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="archiver-fetch") as pool:
            while queues or inflight:
                now = time.monotonic()
                wake: float | None = None
                for host in list(queues):
                    while host in queues and len(inflight) < limit:
                        if host and busy[host] >= self.policy.per_host_connections:
                            break
                        ready = max(planned.get(host, 0.0), self.gate.ready_at(host))
                        if host and ready > now:
                            wake = ready if wake is None else min(wake, ready)
                            break
                        index = queues[host].popleft()
                        if not queues[host]:
                            del queues[host]
                        planned[host] = max(ready, now) + self.gate.interval(host)
                        future = pool.submit(self.fetch, items[index], method=method)
                        inflight[future] = (host, index)
                        busy[host] += 1
                timeout = None if wake is None else max(0.0, wake - now)
                if not inflight:
                    time.sleep(timeout or 0.0)
                    continue
                done, _ = wait(list(inflight), timeout=timeout, return_when=FIRST_COMPLETED)
                for future in done:
                    host, index = inflight.pop(future)
                    busy[host] -= 1
                    results[index] = future.result()
        return [capture for capture in results if capture is not None]

    def close(self) -> None:
        self._watchdog.close()
        if self._own_session:
            self.session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- redirects and robots ----------------------------------------------------------------

    def _fetch_robots(self, robots_url: str) -> Capture:
        return self._follow(robots_url, "GET", {}, robots=False, max_redirects=5)

    def _follow(
        self,
        url: str,
        method: str,
        conditional: Mapping[str, str],
        *,
        robots: bool,
        max_redirects: int | None = None,
    ) -> Capture:
        limit = self.policy.max_redirects if max_redirects is None else max_redirects
        chain: list[str] = []
        seen = {url}
        current = url
        while True:
            if robots:
                verdict = self.robots.check(current)
                if verdict.error is not None:
                    return self._failed(url, current, chain, method, verdict.error, verdict.detail)
                if not verdict.allowed:
                    return self._failed(
                        url, current, chain, method, "robots_disallowed", verdict.detail
                    )
                if verdict.crawl_delay:
                    delay = min(verdict.crawl_delay, self.policy.max_crawl_delay)
                    self.gate.set_min_interval(host_of(current), delay)
            capture, location = self._with_retries(current, method, conditional)
            if capture.error is not None or capture.status not in REDIRECT_STATUSES:
                return replace(capture, url=url, final_url=current, redirects=tuple(chain))
            if not location:
                return replace(capture, url=url, final_url=current, redirects=tuple(chain))
            problem: str | None
            try:
                target = urljoin(current, location.strip())
                target = urlunsplit(urlsplit(target)._replace(fragment=""))
            except ValueError as exc:
                target, problem = location, f"not a well-formed URL: {exc}"
            else:
                problem = check_url(target)
            if problem:
                detail = f"redirect to an unusable Location: {problem}"
                return self._failed(url, current, chain, method, "invalid", detail, capture)
            if target in seen:
                chain.append(target)
                detail = f"redirect loop: {target} again after {len(chain)} redirects"
                return self._failed(url, target, chain, method, "redirect_loop", detail, capture)
            if len(chain) >= limit:
                detail = f"more than {limit} redirects"
                return self._failed(
                    url, current, chain, method, "too_many_redirects", detail, capture
                )
            chain.append(target)
            seen.add(target)
            if capture.status == 303 and method != "HEAD":
                method = "GET"
            current = target

    @staticmethod
    def _failed(
        url: str,
        final_url: str,
        chain: list[str],
        method: str,
        error: str,
        detail: str,
        last: Capture | None = None,
    ) -> Capture:
        return Capture(
            url=url,
            final_url=final_url,
            status=last.status if last else None,
            headers=last.headers if last else (),
            content_type=last.content_type if last else None,
            redirects=tuple(chain),
            error=error,
            detail=detail,
            method=method,
        )

    # -- retries -----------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.policy.backoff_max, self.policy.backoff_base * (2**attempt))
        return ceiling * self._rng.uniform(0.5, 1.0)  # "equal jitter": never zero, never in step

    def _with_retries(
        self, url: str, method: str, conditional: Mapping[str, str]
    ) -> tuple[Capture, str | None]:
        host = host_of(url)
        capture: Capture | None = None
        location: str | None = None
        for attempt in range(self.policy.retries + 1):
            blocked = self.breaker.blocked(host)
            if blocked is not None:
                detail = (
                    f"not tried: {host} failed {self.breaker.failures(host)} times in a row "
                    f"(circuit breaker open; last error {blocked})"
                )
                if capture is not None:
                    detail = f"{capture.detail}; {detail}"
                return self._failed(url, url, [], method, blocked, detail), None
            capture, location, connect_failed = self._once(url, method, conditional)
            last_try = attempt >= self.policy.retries
            if capture.error is not None:
                if capture.error in STALLING_ERRORS:
                    self.breaker.record_failure(host, capture.error)
                # A connect failure is cheap to retry; a deadline that passed mid-answer is not.
                if capture.error == "connection_error" or connect_failed:
                    if not last_try:
                        time.sleep(self._backoff(attempt))
                        continue
                return capture, location
            self.breaker.record_success(host)
            status = capture.status or 0
            if status == 429 or (500 <= status < 600 and status not in (501, 505)):
                if last_try:
                    break
                wait_for = parse_retry_after(capture.header("Retry-After"))
                if wait_for is not None:
                    # The whole host asked for a pause, not just this URL.
                    self.gate.defer(host, min(wait_for, self.policy.retry_after_cap))
                if wait_for is not None and wait_for > self.policy.retry_after_cap:
                    detail = (
                        f"Retry-After {wait_for:.0f} s is more than the cap of "
                        f"{self.policy.retry_after_cap:g} s; not retried"
                    )
                    return replace(capture, detail=detail), location
                if wait_for is None:
                    time.sleep(self._backoff(attempt))
                continue  # the host gate holds the next attempt until Retry-After has passed
            return capture, location
        assert capture is not None
        tries = self.policy.retries + 1
        detail = f"still {capture.status} after {tries} attempts"
        if capture.error is not None:
            detail = f"{capture.detail} (after {tries} attempts)"
        return replace(capture, detail=detail), location

    # -- one request -------------------------------------------------------------------------

    def _transport(self, url: str) -> tuple[str, dict[str, str], dict[str, str | None] | None]:
        """Where a request for logical ``url`` is really sent, extra headers, and proxies."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        target = self.routes.get(host)
        if target is None:
            return url, {}, (_NO_PROXY if _is_loopback(host) else None)
        netloc = parts.netloc.rpartition("@")[2]
        path = parts.path or "/"
        sent = urlunsplit(("http", target, path, parts.query, ""))
        return sent, {"Host": netloc}, _NO_PROXY

    def _once(
        self, url: str, method: str, conditional: Mapping[str, str]
    ) -> tuple[Capture, str | None, bool]:
        """One request, no redirects followed: (capture, Location, whether connecting failed)."""
        policy = self.policy
        host = host_of(url)
        sent_url, extra, proxies = self._transport(url)
        headers = {
            "User-Agent": policy.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.8",
            "Accept-Encoding": "gzip, deflate",
            **conditional,
            **extra,
        }
        with self.gate.request(host):
            with self._lock:
                self._attempts += 1
            started = time.monotonic()
            deadline = started + policy.timeout
            watch = self._watchdog.watch(policy.timeout)
            try:
                response = self.session.request(
                    method,
                    sent_url,
                    headers=headers,
                    stream=True,
                    allow_redirects=False,
                    timeout=(
                        min(policy.connect_timeout, policy.timeout),
                        min(policy.read_timeout, policy.timeout),
                    ),
                    proxies=proxies,  # type: ignore[arg-type]  # None unsets a proxy
                )
            except (
                requests.RequestException,
                urllib3.exceptions.HTTPError,
                OSError,
                ValueError,  # urllib.parse on a malformed URL or Location
            ) as exc:
                error = "invalid" if type(exc) is ValueError else _classify(exc)
                log.info("%s %s: %s (%s)", method, url, error, exc)
                failed = Capture(
                    url=url,
                    final_url=url,
                    status=None,
                    error=error,
                    detail=f"{type(exc).__name__}: {_first_line(exc)}",
                    method=method,
                    elapsed=time.monotonic() - started,
                )
                if not watch.stop():
                    connect_failed = isinstance(exc, requests.exceptions.ConnectTimeout)
                    return failed, None, connect_failed
                response = None
            if watch.stop() or response is None:
                # Connected and sent, but the headers never finished: a timeout, not an answer.
                if response is not None:
                    response.close()
                with self._lock:
                    self._network_seen = True
                    self._answers += 1
                detail = f"total deadline of {policy.timeout:g} s passed before the headers"
                return (
                    Capture(
                        url=url,
                        final_url=url,
                        status=None,
                        error="timeout",
                        detail=detail,
                        method=method,
                        elapsed=time.monotonic() - started,
                    ),
                    None,
                    False,
                )
            with self._lock:
                self._network_seen = True
                self._answers += 1
            try:
                raw_headers = _raw_headers(response)
                if method == "HEAD" or response.status_code in (204, 304):
                    body = _Body()
                elif response.status_code in REDIRECT_STATUSES:
                    body = _Body()  # the redirect's own page is not kept
                else:
                    body = self._read_body(response, deadline)
            finally:
                response.close()
        content_type = response.headers.get("Content-Type")
        media = content_type.split(";", 1)[0].strip().lower() if content_type else None
        return (
            Capture(
                url=url,
                final_url=url,
                status=response.status_code,
                headers=raw_headers,
                body=body.data,
                content_type=media or None,
                truncated=body.truncated,
                not_modified=response.status_code == 304,
                error=body.error,
                detail=body.detail,
                method=method,
                elapsed=time.monotonic() - started,
            ),
            response.headers.get("Location"),
            False,
        )

    def _read_body(self, response: requests.Response, deadline: float) -> _Body:
        """Stream the body within the total deadline and the decoded-size cap."""
        policy = self.policy
        raw = response.raw
        encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
        decoder = _Decoder(encoding)
        notes: list[str] = []
        if not decoder.decodes and encoding not in ("identity", ""):
            notes.append(f"Content-Encoding {encoding!r} kept as received")
        chunks: list[bytes] = []
        size = 0
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                notes.append(f"total deadline of {policy.timeout:g} s passed after {size} bytes")
                return _Body(
                    data=b"".join(chunks), truncated=True, error="timeout", detail="; ".join(notes)
                )
            if sock is not None:
                try:
                    sock.settimeout(min(policy.read_timeout, remaining))
                except OSError:
                    sock = None
            try:
                data = raw.read1(CHUNK, decode_content=False)
            except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
                notes.append(f"no data for {min(policy.read_timeout, remaining):.1f} s")
                return _Body(
                    data=b"".join(chunks), truncated=True, error="timeout", detail="; ".join(notes)
                )
            except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
                notes.append(f"body cut short after {size} bytes: {_first_line(exc)}")
                return _Body(data=b"".join(chunks), truncated=True, detail="; ".join(notes))
            if not data:
                break
            try:
                out = decoder.feed(data, policy.max_bytes - size + 1)
            except zlib.error as exc:
                notes.append(f"{encoding} decoding failed after {size} bytes: {exc}")
                return _Body(data=b"".join(chunks), truncated=True, detail="; ".join(notes))
            if size + len(out) > policy.max_bytes:
                chunks.append(out[: policy.max_bytes - size])
                notes.append(f"body larger than {policy.max_bytes} bytes; kept the first part")
                return _Body(data=b"".join(chunks), truncated=True, detail="; ".join(notes))
            chunks.append(out)
            size += len(out)
        tail = decoder.flush(policy.max_bytes - size + 1)
        if size + len(tail) > policy.max_bytes:
            chunks.append(tail[: policy.max_bytes - size])
            notes.append(f"body larger than {policy.max_bytes} bytes; kept the first part")
            return _Body(data=b"".join(chunks), truncated=True, detail="; ".join(notes))
        chunks.append(tail)
        if not decoder.finished:
            notes.append(f"the {encoding} stream ended early")
            return _Body(data=b"".join(chunks), truncated=True, detail="; ".join(notes))
        return _Body(data=b"".join(chunks), detail="; ".join(notes))


_LOCAL = threading.local()


class _Watch:
    """A total deadline for the part of a request that requests cannot bound: the headers.

    requests' read timeout is per socket read, so a server that drips its status line and headers
    one byte at a time would hold a worker for hours. The connection registers itself with the
    watch of its thread when it sends the request; if the deadline passes before the headers are
    in, the :class:`_Watchdog` shuts the socket down and the blocked read returns. The body has
    its own deadline check in ``Fetcher._read_body``.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self._lock = threading.Lock()
        self._conn: Any = None
        self._done = False
        self.fired = False
        _LOCAL.watch = self

    def __lt__(self, other: _Watch) -> bool:
        return self.deadline < other.deadline

    def attach(self, conn: Any) -> None:
        with self._lock:
            self._conn = conn

    def fire(self) -> None:
        with self._lock:
            sock = getattr(self._conn, "sock", None)
            if self._done or sock is None:
                return  # still connecting: the connect timeout bounds that part
            self.fired = True
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> bool:
        """Stand down; True if the deadline had already passed."""
        with self._lock:
            self._done = True
            _LOCAL.watch = None
            return self.fired


class _Watchdog:
    """One thread that fires every :class:`_Watch` whose deadline has passed.

    One thread for the whole fetcher rather than a timer per request: a timer thread costs about
    half a millisecond to start, which a fast run would notice.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[_Watch] = []
        self._thread: threading.Thread | None = None
        self._closed = False

    def watch(self, seconds: float) -> _Watch:
        watch = _Watch(time.monotonic() + seconds)
        with self._cond:
            if self._closed:
                return watch
            heapq.heappush(self._heap, watch)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="archiver-watchdog", daemon=True
                )
                self._thread.start()
            elif self._heap[0] is watch:
                self._cond.notify()
        return watch

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                while self._heap and self._heap[0].deadline <= now:
                    heapq.heappop(self._heap).fire()
                wait = self._heap[0].deadline - now if self._heap else None
                self._cond.wait(wait)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)


def _attach_to_watch(conn: Any) -> None:
    watch = getattr(_LOCAL, "watch", None)
    if watch is not None:
        watch.attach(conn)


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach_to_watch(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach_to_watch(self)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(requests.adapters.HTTPAdapter):
    """An adapter whose connections report to the request's :class:`_Watch`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }


class _ManualRedirectSession(requests.Session):
    """A session that never looks at ``Location`` itself: the fetcher follows redirects by hand.

    Even with ``allow_redirects=False`` requests parses the Location of every 3xx to prepare the
    next hop, and a malformed one raises before the fetcher sees the response.
    """

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        return None


def fetch_urls(
    urls: Iterable[str],
    policy: FetchPolicy | None = None,
    *,
    routes: Mapping[str, str] | None = None,
    method: str = "GET",
) -> list[Capture]:
    """Fetch every URL with one fetcher; NetworkUnavailable if nothing answered at all."""
    with Fetcher(policy, routes=routes) as fetcher:
        captures = fetcher.fetch_many(urls, method=method)
        fetcher.raise_if_offline()
    return captures


def summarize(capture: Capture) -> dict[str, Any]:
    """A capture as JSON-ready data, the body replaced by its size and checksum."""
    return {
        "url": capture.url,
        "final_url": capture.final_url,
        "status": capture.status,
        "error": capture.error,
        "detail": capture.detail,
        "redirects": list(capture.redirects),
        "content_type": capture.content_type,
        "bytes": len(capture.body),
        "sha256": capture.sha256,
        "truncated": capture.truncated,
        "not_modified": capture.not_modified,
        "method": capture.method,
        "fetched_at": capture.fetched_at,
        "elapsed": round(capture.elapsed, 3),
    }


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _raw_headers(response: requests.Response) -> tuple[tuple[str, str], ...]:
    """Response headers in the order and spelling received, repeated ones kept apart."""
    original = getattr(response.raw, "_original_response", None)
    message = getattr(original, "msg", None)
    if message is not None:
        return tuple((str(k), str(v)) for k, v in message.items())
    return tuple((str(k), str(v)) for k, v in response.headers.items())
