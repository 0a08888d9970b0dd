"""What the fetcher may do: :class:`FetchPolicy` (every limit, each with a sane range), the
command line's options put over it, and ``--connect-to`` routes.

Every number has a range (:data:`RANGES`), checked here once; the run config and the command
line read the same table, so ``--timeout inf``, ``timeout = 1e309`` and ``retries = 1000`` are
refused with one line (exit 2) wherever they are written, before anything is fetched.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from archiver import __version__
from archiver.errors import InputError
from archiver.fetch.urls import normalize_host

DEFAULT_USER_AGENT = (
    f"archiver/{__version__} "
    "(+https://github.com/archiver-project/archiver; archival verification bot)"
)
MiB = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class Range:
    """The values a number may take: ``low`` < or <= value <= ``high``, finite."""

    low: float
    high: float
    low_open: bool = False  # True: the value must be above ``low``, not equal to it
    integer: bool = False
    unit: str = ""

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is out of range (one line), or None."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be {'a whole number' if self.integer else 'a number'}, not {value!r}"
        if self.integer and not isinstance(value, int):
            return f"must be a whole number, not {value!r}"
        if not math.isfinite(value):
            return f"must be a finite number, not {value!r}"
        too_low = value <= self.low if self.low_open else value < self.low
        if too_low or value > self.high:
            return f"must be {self.describe()}, not {value!r}"
        return None

    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        low = f"above {self.low:g}" if self.low_open else f"at least {self.low:g}"
        return f"{low} and at most {self.high:g}{unit}"


_SECONDS = Range(low=0, high=3600, low_open=True, unit="s")
#: Every number of :class:`FetchPolicy`, with the values it may take.
RANGES: dict[str, Range] = {
    "timeout": _SECONDS,
    "connect_timeout": _SECONDS,
    "read_timeout": _SECONDS,
    "per_host_rate": Range(low=0, high=1000, low_open=True, unit="requests/s"),
    "per_host_connections": Range(low=1, high=256, integer=True),
    "max_connections": Range(low=1, high=1024, integer=True),
    "max_redirects": Range(low=0, high=50, integer=True),
    "max_bytes": Range(low=1, high=4096 * MiB, integer=True, unit="bytes"),
    "retries": Range(low=0, high=10, integer=True),
    "backoff_base": Range(low=0, high=60, unit="s"),
    "backoff_max": Range(low=0, high=600, unit="s"),
    "retry_after_cap": Range(low=0, high=300, unit="s"),
    "max_crawl_delay": Range(low=0, high=600, unit="s"),
    "breaker_threshold": Range(low=1, high=1000, integer=True),
    "breaker_cooldown": Range(low=0, high=86400, unit="s"),
}


@dataclass(frozen=True, kw_only=True)
class FetchPolicy:
    """Every limit the fetcher keeps; the defaults are what a site owner would call polite.

    ``timeout`` is the total deadline of one attempt, body included; ``read_timeout`` the longest
    silence allowed between two reads. ``max_bytes`` caps the body *after* content decoding.
    Each number must lie in its :data:`RANGES` entry (InputError, one line, otherwise).
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
        for name, allowed in RANGES.items():
            problem = allowed.problem(getattr(self, name))
            if problem:
                raise InputError(f"{name} {problem}")
        if not isinstance(self.user_agent, str) or not self.user_agent.strip():
            raise InputError("the User-Agent cannot be empty")
        if not self.user_agent.isprintable() or len(self.user_agent) > 1000:
            raise InputError("the User-Agent must be one printable line of at most 1000 characters")


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
        problem = RANGES["timeout"].problem(timeout)
        if problem:
            raise InputError(f"timeout {problem}")
        changes["timeout"] = timeout
        changes["connect_timeout"] = min(base.connect_timeout, timeout)
        changes["read_timeout"] = min(base.read_timeout, timeout)
    if user_agent is not None:
        changes["user_agent"] = user_agent
    return replace(base, **changes)


def parse_routes(items: Iterable[str]) -> dict[str, str]:
    """``["host=127.0.0.2:8080"]`` to ``{"host": "127.0.0.2:8080"}``; InputError if malformed.

    The host is kept in its one spelling (:func:`~archiver.fetch.urls.normalize_host`), so a
    route written ``bücher.example`` serves ``xn--bcher-kva.example`` too, and the other way.
    """
    routes: dict[str, str] = {}
    for item in items:
        host, sep, target = item.partition("=")
        host = host.strip().lower()
        addr, colon, port = target.strip().rpartition(":")
        if not sep or not host or ":" in host or "/" in host or not colon or not addr:
            raise InputError(f"--connect-to wants HOST=ADDR:PORT, got {item!r}")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise InputError(f"--connect-to has a bad port in {item!r}")
        try:
            host = normalize_host(host)
        except ValueError as exc:
            raise InputError(f"--connect-to has a bad host in {item!r}: {exc}") from exc
        routes[host] = f"{addr}:{int(port)}"
    return routes
