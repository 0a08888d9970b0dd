"""Politeness toward the sites we archive: request rate, connection limits, circuit breakers.

The fetcher asks a :class:`HostGate` for a slot before every request it sends (robots.txt,
retries and redirect hops included), so a site owner sees at most ``per_host_connections``
simultaneous requests and at most ``per_host_rate`` requests a second from one run, however many
threads the run uses. A :class:`CircuitBreaker` stops a run from spending its time on a host that
has stopped answering; :func:`parse_retry_after` reads a host's own request for a pause. Both
are keyed by the *logical* host (the one in the URL), never by the
address a route sends the request to.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC

log = logging.getLogger(__name__)


# Intervals are this much longer than 1/rate: thread wake-ups and connection set-up jitter by a
# few milliseconds, and a server counting any one-second window must still see at most the rate.
RATE_MARGIN = 1.03


class HostGate:
    """Per-host and global limits on concurrent requests, and a per-host minimum interval.

    The rate limit is a reservation schedule rather than a token bucket: each request reserves
    the next start time ``interval`` after the previous one, so a burst never happens, which is
    what a site owner reading their access log calls polite. Two guards keep a server that
    counts requests in any one-second window from ever seeing more than the rate: the interval
    carries a small margin (:data:`RATE_MARGIN`), and once a request really starts (after any
    wait for a global slot) the next start is pushed to at least one interval after it.
    """

    def __init__(
        self,
        *,
        per_host_connections: int,
        max_connections: int,
        per_host_rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_host_connections < 1 or max_connections < 1:
            raise ValueError("connection limits must be at least 1")
        if per_host_rate <= 0:
            raise ValueError("per_host_rate must be positive")
        self._per_host_connections = per_host_connections
        self._interval = RATE_MARGIN / per_host_rate
        self._global = threading.BoundedSemaphore(max_connections)
        self._lock = threading.Lock()
        self._host_slots: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}
        self._min_interval: dict[str, float] = {}
        self._clock = clock
        self._sleep = sleep

    def set_min_interval(self, host: str, seconds: float) -> None:
        """Slow one host down further (robots.txt Crawl-delay); never speeds it up."""
        with self._lock:
            self._min_interval[host] = max(seconds, self._min_interval.get(host, 0.0))

    def defer(self, host: str, seconds: float) -> None:
        """Start nothing more on ``host`` for ``seconds`` (it said ``Retry-After``)."""
        with self._lock:
            until = self._clock() + seconds
            self._next_start[host] = max(self._next_start.get(host, 0.0), until)

    def interval(self, host: str) -> float:
        """Seconds between request starts to ``host``."""
        with self._lock:
            return max(self._interval, self._min_interval.get(host, 0.0))

    def ready_at(self, host: str) -> float:
        """The clock time at which a new request to ``host`` could start (for schedulers)."""
        with self._lock:
            return self._next_start.get(host, 0.0)

    def _slot(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            slot = self._host_slots.get(host)
            if slot is None:
                slot = threading.BoundedSemaphore(self._per_host_connections)
                self._host_slots[host] = slot
            return slot

    def _reserve_start(self, host: str) -> float:
        with self._lock:
            now = self._clock()
            interval = max(self._interval, self._min_interval.get(host, 0.0))
            start = max(now, self._next_start.get(host, 0.0))
            self._next_start[host] = start + interval
            return start - now

    @contextlib.contextmanager
    def request(self, host: str) -> Iterator[None]:
        """Hold one connection slot for ``host`` and one global slot while a request runs.

        The host slot is taken first and the global one last, so a thread waiting for a busy
        host never holds a global slot that another host could use.
        """
        slot = self._slot(host)
        with slot:
            wait = self._reserve_start(host)
            if wait > 0:
                self._sleep(wait)
            with self._global:
                self._mark_started(host)
                yield

    def _mark_started(self, host: str) -> None:
        with self._lock:
            interval = max(self._interval, self._min_interval.get(host, 0.0))
            earliest = self._clock() + interval
            self._next_start[host] = max(self._next_start.get(host, 0.0), earliest)


@dataclass
class _BreakerState:
    failures: int = 0
    opened_at: float | None = None
    last_error: str = ""


class CircuitBreaker:
    """Stops sending to a host after ``threshold`` consecutive connection-level failures.

    Only failures that cost time count (timeouts, refused or reset connections): a host that
    answers, even with an error status, is alive and resets the count. After ``cooldown``
    seconds one request is let through (half-open); its outcome closes or re-opens the circuit.
    """

    def __init__(
        self,
        *,
        threshold: int,
        cooldown: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._threshold = threshold
        self._cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._hosts: dict[str, _BreakerState] = {}

    def blocked(self, host: str) -> str | None:
        """Why ``host`` must not be tried now (the last error word), or None to go ahead."""
        if self._threshold <= 0:
            return None
        with self._lock:
            state = self._hosts.get(host)
            if state is None or state.opened_at is None:
                return None
            if self._clock() - state.opened_at >= self._cooldown:
                state.opened_at = self._clock()  # half-open: one try, others keep waiting
                return None
            return state.last_error

    def failures(self, host: str) -> int:
        with self._lock:
            state = self._hosts.get(host)
            return state.failures if state else 0

    def record_success(self, host: str) -> None:
        with self._lock:
            self._hosts.pop(host, None)

    def record_failure(self, host: str, error: str) -> None:
        if self._threshold <= 0:
            return
        with self._lock:
            state = self._hosts.setdefault(host, _BreakerState())
            state.failures += 1
            state.last_error = error
            if state.failures >= self._threshold and state.opened_at is None:
                log.warning(
                    "circuit open for %s after %d failures (%s)", host, state.failures, error
                )
                state.opened_at = self._clock()


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
