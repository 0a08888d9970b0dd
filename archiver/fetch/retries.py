"""Retrying one request: which failures earn another try, and how long to wait before it.

A refused or reset connection and a connect timeout are cheap to try again; so are 5xx (not
501/505) and 429, after the host's own ``Retry-After`` (up to ``retry_after_cap``; a longer one
is not waited for) or a jittered backoff. A deadline that passed mid-answer, TLS and DNS
failures are not retried. Every wait goes through ``pause``, which a stopped fetcher ends at
once; a host whose circuit breaker is open is not tried at all.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace

from archiver.fetch.captures import failed
from archiver.fetch.policy import FetchPolicy
from archiver.fetch.politeness import CircuitBreaker, HostGate, parse_retry_after
from archiver.fetch.urls import host_of
from archiver.models import Capture

#: Errors that mean "nothing answered": they count against a host's circuit breaker.
STALLING_ERRORS = frozenset({"timeout", "connection_error"})


def backoff(policy: FetchPolicy, attempt: int, rng: random.Random) -> float:
    """Seconds to wait before retry ``attempt + 1``: exponential, with "equal jitter" (half to
    all of ``backoff_base * 2**attempt``, at most ``backoff_max``): never zero, never in step."""
    ceiling = min(policy.backoff_max, policy.backoff_base * (2**attempt))
    return ceiling * rng.uniform(0.5, 1.0)


def with_retries(
    url: str,
    method: str,
    send: Callable[[], tuple[Capture, str | None, bool]],
    *,
    policy: FetchPolicy,
    breaker: CircuitBreaker,
    gate: HostGate,
    pause: Callable[[float], None],
    rng: random.Random,
) -> tuple[Capture, str | None]:
    """``send()`` (one request: capture, Location, whether connecting failed) until it is worth
    no more tries; the last capture and its Location, ``detail`` saying how many were made."""
    host = host_of(url)
    capture: Capture | None = None
    location: str | None = None
    for attempt in range(policy.retries + 1):
        blocked = breaker.blocked(host)
        if blocked is not None:
            detail = (
                f"not tried: {host} failed {breaker.failures(host)} times in a row "
                f"(circuit breaker open; last error {blocked})"
            )
            if capture is not None:
                detail = f"{capture.detail}; {detail}"
            return failed(url, url, [], method, blocked, detail), None
        capture, location, connect_failed = send()
        last_try = attempt >= policy.retries
        if capture.error is not None:
            if capture.error in STALLING_ERRORS:
                breaker.record_failure(host, capture.error)
            # A connect failure is cheap to retry; a deadline that passed mid-answer is not.
            if capture.error == "connection_error" or connect_failed:
                if not last_try:
                    pause(backoff(policy, attempt, rng))
                    continue
            return capture, location
        breaker.record_success(host)
        status = capture.status or 0
        if status == 429 or (500 <= status < 600 and status not in (501, 505)):
            if last_try:
                break
            wait_for = parse_retry_after(capture.header("Retry-After"))
            if wait_for is not None:
                # The whole host asked for a pause, not just this URL.
                gate.defer(host, min(wait_for, policy.retry_after_cap))
            if wait_for is not None and wait_for > policy.retry_after_cap:
                detail = (
                    f"Retry-After {wait_for:.0f} s is more than the cap of "
                    f"{policy.retry_after_cap:g} s; not retried"
                )
                return replace(capture, detail=detail), location
            if wait_for is None:
                pause(backoff(policy, attempt, rng))
            continue  # the host gate holds the next attempt until Retry-After has passed
        return capture, location
    assert capture is not None
    tries = policy.retries + 1
    detail = f"still {capture.status} after {tries} attempts"
    if capture.error is not None:
        detail = f"{capture.detail} (after {tries} attempts)"
    return replace(capture, detail=detail), location
