"""The one fetcher: every byte the archiver knows comes through :class:`Fetcher`.

It is polite (robots.txt, per-host rate and connection limits, a global limit, an identifying
User-Agent), careful (retries with jittered backoff on connection errors, 5xx and 429,
``Retry-After`` honoured up to a cap, a per-host circuit breaker), bounded (connect, read-silence
and total deadlines; a cap on the *decoded* body, so a gzip bomb cannot exhaust memory) and
honest (a fetch never raises for network or HTTP trouble: it returns a :class:`Capture` whose
``error`` names what went wrong, and :meth:`Fetcher.traffic` tells "the link is dead" from "the
machine is offline"). It stops when asked (:meth:`Fetcher.stop`, or a signal's
KeyboardInterrupt in the thread that waits): every wait it makes ends within a fraction of a
second.

Redirects are followed by hand, hop by hop, so the whole chain is recorded, loops are caught,
robots.txt and politeness apply to every hop, and routed hosts (``routes``, the CLI's
``--connect-to``) keep their logical URLs in the record. The same door serves the one POST the
archiver sends (a run's webhook, :meth:`Fetcher.post`).
"""

from __future__ import annotations

import functools
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import replace
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import urllib3.exceptions

from archiver.errors import NetworkUnavailable
from archiver.fetch.captures import failed, is_html, summarize
from archiver.fetch.decoding import Body, read_body
from archiver.fetch.policy import (
    DEFAULT_USER_AGENT,
    FetchPolicy,
    parse_routes,
    policy_from_options,
)
from archiver.fetch.politeness import CircuitBreaker, HostGate, parse_retry_after
from archiver.fetch.retries import with_retries
from archiver.fetch.robots import RobotsCache
from archiver.fetch.scheduler import fetch_all
from archiver.fetch.transport import (
    Watchdog,
    classify,
    describe,
    raw_headers,
    route,
    watched_session,
)
from archiver.fetch.urls import check_url, host_of, normalize_host, refuse_schemeless
from archiver.models import Capture, Traffic, utc_iso

__all__ = [
    "DEFAULT_USER_AGENT",
    "FetchPolicy",
    "FetchStopped",
    "Fetcher",
    "check_url",
    "fetch_urls",
    "host_of",
    "is_html",
    "parse_retry_after",
    "parse_routes",
    "policy_from_options",
    "summarize",
]

log = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Answers to HEAD that mean "not HEAD" more often than "not here": asked again with GET.
HEAD_REFUSED = frozenset({400, 403, 405, 501})


class FetchStopped(KeyboardInterrupt):
    """The fetcher was stopped (:meth:`Fetcher.stop`) while a fetch waited: like Ctrl-C, it is
    not a result, so nothing is recorded of the fetch it ended."""


class Fetcher:
    """Fetches URLs politely and records each answer, or the lack of one, as a :class:`Capture`.

    Safe to share between threads. ``routes`` maps a host name to ``ADDR:PORT``: requests for
    that host go there over plain HTTP with the original Host header, while the capture keeps the
    logical URL (this is how tests and the offline demo stand in for real sites). Route hosts
    are matched in their one spelling, so a Unicode and a punycode name are one route.
    """

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        routes: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.policy = policy or FetchPolicy()
        self.routes = {_route_key(host): target for host, target in (routes or {}).items()}
        self._own_session = session is None
        self.session = session or watched_session(self.policy.max_connections)
        self._stopped = threading.Event()
        self.gate = HostGate(
            per_host_connections=self.policy.per_host_connections,
            max_connections=self.policy.max_connections,
            per_host_rate=self.policy.per_host_rate,
            sleep=self._pause,
        )
        self.breaker = CircuitBreaker(
            threshold=self.policy.breaker_threshold, cooldown=self.policy.breaker_cooldown
        )
        self.robots = RobotsCache(self._fetch_robots, self.policy.user_agent)
        self._rng = random.Random()
        self._watchdog = Watchdog()
        self._lock = threading.RLock()  # reentrant: stop() may run in a signal handler
        self._reading: set[Any] = set()  # sockets whose bodies are being read, for stop()
        self._network_seen = False
        self._asked = 0
        self._attempts = 0
        self._answers = 0

    # -- public API --------------------------------------------------------------------------

    @property
    def network_seen(self) -> bool:
        """Whether any host answered anything in this fetcher's life: any HTTP status, or a
        connection accepted and then left silent (a read timeout is that host's fault)."""
        return self._network_seen

    @property
    def attempts(self) -> int:
        """How many requests were sent (or tried) in this fetcher's life, retries included."""
        return self._attempts

    @property
    def asked(self) -> int:
        """How many URLs callers asked for (:meth:`fetch` and :meth:`post` calls)."""
        return self._asked

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
            urls = "the URL" if self._asked == 1 else f"any of the {self._asked} URLs"
            raise NetworkUnavailable(
                f"network_unavailable: nothing answered {urls} asked for "
                f"({self._attempts} requests, retries and robots.txt included)"
            )

    def stop(self) -> None:
        """End every fetch now: waits (backoff, Retry-After, rate limit) end, requests being
        read are cut, and the fetches raise :class:`FetchStopped`. Safe from any thread or a
        signal handler; a stopped fetcher stays stopped."""
        self._stopped.set()
        self._watchdog.fire_all()
        with self._lock:
            reading = list(self._reading)
        for sock in reading:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

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
            raise ValueError(f"fetch sends GET and HEAD (post() sends POST), not {method}")
        started = time.monotonic()
        fetched_at = utc_iso()
        with self._lock:
            self._asked += 1
        problem = check_url(url)
        if problem:
            return replace(failed(url, url, [], method, "invalid", problem), fetched_at=fetched_at)
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

    def post(self, url: str, body: bytes, headers: Mapping[str, str] | None = None) -> Capture:
        """POST ``body`` to ``url`` once (a webhook): the same limits, routes, deadlines and
        User-Agent as a fetch, and the same counting of answers; never raises for network or
        HTTP problems. A POST is not retried once sent (it is not idempotent), robots.txt does
        not apply (nothing is crawled), and a redirect is recorded, not followed."""
        started = time.monotonic()
        fetched_at = utc_iso()
        with self._lock:
            self._asked += 1
        problem = check_url(url)
        if problem:
            return replace(failed(url, url, [], "POST", "invalid", problem), fetched_at=fetched_at)
        extra = {"Accept": "*/*", **(headers or {})}
        capture, _, _ = self._once(url, "POST", extra, body=body)
        return replace(capture, fetched_at=fetched_at, elapsed=time.monotonic() - started)

    def fetch_many(
        self,
        urls: Iterable[str],
        *,
        method: str = "GET",
        each: Callable[[int, Capture], None] | None = None,
    ) -> list[Capture]:
        """Fetch many URLs concurrently within every limit; results keep the input's order
        (:func:`~archiver.fetch.scheduler.fetch_all`). ``each(index, capture)`` hears of every
        answer as it arrives, while the rest are fetched (it must return quickly). An interrupt
        (a signal's KeyboardInterrupt, or :meth:`stop`) ends every worker's fetch and returns
        at once."""
        try:
            return fetch_all(
                list(urls),
                lambda url: self.fetch(url, method=method),
                gate=self.gate,
                max_connections=self.policy.max_connections,
                per_host_connections=self.policy.per_host_connections,
                pause=self._pause,
                each=each,
            )
        except BaseException:
            self.stop()
            raise

    def fetch_ahead(self, urls: Iterable[str]) -> Future[list[Capture]]:
        """:meth:`fetch_many` in a background thread, for a caller with other work to do
        meanwhile (imports, opening the archive); the future gives the captures, or raises
        what the fetch raised (:class:`FetchStopped` once the fetcher is stopped)."""
        future: Future[list[Capture]] = Future()
        wanted = list(urls)

        def fetch() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(self.fetch_many(wanted))
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)

        threading.Thread(target=fetch, name="archiver-fetch-ahead", daemon=True).start()
        return future

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

    # -- waiting -----------------------------------------------------------------------------

    def _pause(self, seconds: float) -> None:
        """Sleep ``seconds`` unless stopped first (then FetchStopped). The wait is an Event's,
        so a signal handler that raises (Ctrl-C, SIGTERM made an interrupt) ends it at once in
        the main thread, and :meth:`stop` ends it in every other."""
        if self._stopped.wait(max(0.0, seconds)):
            raise FetchStopped("the fetcher was stopped")

    def read_robots_ahead(self, urls: Iterable[str]) -> int:
        """Ask the robots.txt of the sites of ``urls`` now, each in a background thread, for
        a caller about to fetch from them (so their first requests need not wait for it).

        Asked as every robots.txt is (the host's rate and connection limits apply), once per
        site for the fetcher's life; none when robots.txt is not respected or the fetcher
        stopped. Returns how many sites were asked.
        """
        if not self.policy.respect_robots or self.stopped:
            return 0
        sites = []
        for url in dict.fromkeys(urls):
            if not check_url(url) and not self.robots.asked(url):
                sites.append(url)
        for url in sites:
            threading.Thread(
                target=self._robots_quietly, args=(url,), name="archiver-robots", daemon=True
            ).start()
        return len(sites)

    def _robots_quietly(self, url: str) -> None:
        try:
            self.robots.check(url)
        except Exception as exc:  # stopped, or a bug that the real fetch will meet and report
            log.debug("reading robots.txt ahead for %s failed: %s", url, exc)

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
                    return failed(url, current, chain, method, verdict.error, verdict.detail)
                if not verdict.allowed:
                    return failed(url, current, chain, method, "robots_disallowed", verdict.detail)
                if verdict.crawl_delay:
                    delay = min(verdict.crawl_delay, self.policy.max_crawl_delay)
                    self.gate.set_min_interval(host_of(current), delay)
            capture, location = with_retries(
                current,
                method,
                functools.partial(self._once, current, method, conditional),
                policy=self.policy,
                breaker=self.breaker,
                gate=self.gate,
                pause=self._pause,
                rng=self._rng,
            )
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
                return failed(url, current, chain, method, "invalid", detail, capture)
            if target in seen:
                chain.append(target)
                detail = f"redirect loop: {target} again after {len(chain)} redirects"
                return failed(url, target, chain, method, "redirect_loop", detail, capture)
            if len(chain) >= limit:
                detail = f"more than {limit} redirects"
                return failed(url, current, chain, method, "too_many_redirects", detail, capture)
            chain.append(target)
            seen.add(target)
            if capture.status == 303 and method != "HEAD":
                method = "GET"
            current = target

    # -- one request -------------------------------------------------------------------------

    def _once(
        self, url: str, method: str, extra: Mapping[str, str], *, body: bytes | None = None
    ) -> tuple[Capture, str | None, bool]:
        """One request, no redirects followed: (capture, Location, whether connecting failed)."""
        policy = self.policy
        host = host_of(url)
        sent_url, routed, proxies = route(url, host, self.routes)
        headers = {
            "User-Agent": policy.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.8",
            "Accept-Encoding": "gzip, deflate",
            **extra,
            **routed,
        }
        connect = min(policy.connect_timeout, policy.timeout)
        read = min(policy.read_timeout, policy.timeout)
        with self.gate.request(host):
            if self._stopped.is_set():
                raise FetchStopped("the fetcher was stopped")
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
                    data=body,
                    stream=True,
                    allow_redirects=False,
                    timeout=(connect, read),
                    proxies=proxies,  # type: ignore[arg-type]  # None unsets a proxy
                )
            except (
                requests.RequestException,
                urllib3.exceptions.HTTPError,
                OSError,
                ValueError,  # urllib.parse on a malformed URL or Location
            ) as exc:
                fired = watch.stop()
                if self._stopped.is_set():
                    raise FetchStopped("the fetcher was stopped") from exc
                error = "invalid" if type(exc) is ValueError else classify(exc)
                connect_failed = isinstance(exc, requests.exceptions.ConnectTimeout)
                # A read timeout before the headers: the host accepted the connection and then
                # said nothing. That is an answer of sorts (the network works); the host is slow.
                accepted = error == "timeout" and not connect_failed
                if fired:
                    detail = f"total deadline of {policy.timeout:g} s passed before the headers"
                    error, accepted = "timeout", True
                else:
                    waited = connect if connect_failed else read
                    port = urlsplit(sent_url).port or (443 if sent_url.startswith("https") else 80)
                    detail = describe(exc, host=host, port=port, waited=waited)
                log.info("%s %s: %s (%s)", method, url, error, detail)
                if accepted:
                    self._answered()
                unanswered = failed(url, url, [], method, error, detail, started=started)
                return unanswered, None, connect_failed and not fired
            if watch.stop():
                response.close()
                if self._stopped.is_set():
                    raise FetchStopped("the fetcher was stopped")
                # Connected and sent, but the headers never finished: a timeout, not an answer.
                self._answered()
                detail = f"total deadline of {policy.timeout:g} s passed before the headers"
                timed_out = failed(url, url, [], method, "timeout", detail, started=started)
                return timed_out, None, False
            self._answered()
            try:
                received = raw_headers(response)
                if method == "HEAD" or response.status_code in (204, 304):
                    content = Body()
                elif response.status_code in REDIRECT_STATUSES:
                    content = Body()  # the redirect's own page is not kept
                else:
                    content = self._read(response, deadline, host)
            finally:
                response.close()
        content_type = response.headers.get("Content-Type")
        media = content_type.split(";", 1)[0].strip().lower() if content_type else None
        answer = Capture(
            url=url,
            final_url=url,
            status=response.status_code,
            headers=received,
            body=content.data,
            content_type=media or None,
            truncated=content.truncated,
            not_modified=response.status_code == 304,
            error=content.error,
            detail=content.detail,
            method=method,
            elapsed=time.monotonic() - started,
        )
        return answer, response.headers.get("Location"), False

    def _answered(self) -> None:
        with self._lock:
            self._network_seen = True
            self._answers += 1

    def _read(self, response: requests.Response, deadline: float, host: str) -> Body:
        """The body, read with the socket registered so :meth:`stop` can cut it."""
        sock = getattr(getattr(response.raw, "connection", None), "sock", None)
        if sock is not None:
            with self._lock:
                self._reading.add(sock)
        try:
            content = read_body(response, self.policy, deadline, host=host, stopped=self._stopped)
        finally:
            if sock is not None:
                with self._lock:
                    self._reading.discard(sock)
        if self._stopped.is_set():
            raise FetchStopped("the fetcher was stopped")
        return content


def _route_key(host: str) -> str:
    try:
        return normalize_host(host)
    except ValueError:
        return host.lower()


def fetch_urls(
    urls: Iterable[str],
    policy: FetchPolicy | None = None,
    *,
    routes: Mapping[str, str] | None = None,
    method: str = "GET",
) -> list[Capture]:
    """Fetch every URL with one fetcher; NetworkUnavailable if nothing answered at all.

    A URL typed without its scheme (``www.example.org/x``) is refused before any request
    (InputError, with the hint ``did you mean https://...?``).
    """
    items = list(urls)
    refuse_schemeless(items)
    with Fetcher(policy, routes=routes) as fetcher:
        captures = fetcher.fetch_many(items, method=method)
        fetcher.raise_if_offline()
    return captures
