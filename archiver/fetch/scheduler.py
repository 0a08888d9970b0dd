"""Many URLs at once, politely: which URL a worker may start next, and when.

A small scheduler hands a URL to the thread pool only when its host has a free connection slot
and its next polite start time has come, so one slow host never ties up the workers that other
hosts could use. It never waits longer than :data:`STOP_POLL` without looking up, so an
interrupt ends it at once; then the pool is left without waiting for its workers (the fetcher
cuts their requests).
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from archiver.fetch.politeness import HostGate
from archiver.fetch.urls import host_of
from archiver.models import Capture

#: The longest the scheduler waits without looking whether it was interrupted.
STOP_POLL = 0.25


def fetch_all(
    items: Sequence[str],
    fetch: Callable[[str], Capture],
    *,
    gate: HostGate,
    max_connections: int,
    per_host_connections: int,
    pause: Callable[[float], None],
) -> list[Capture]:
    """``fetch`` every URL of ``items`` on a thread pool within the gate's limits; the results
    keep the input's order. ``pause`` waits when nothing is in flight (and raises if stopped)."""
    results: list[Capture | None] = [None] * len(items)
    queues: dict[str, deque[int]] = {}
    for index, url in enumerate(items):
        queues.setdefault(host_of(url), deque()).append(index)
    busy: Counter[str] = Counter()
    planned: dict[str, float] = {}  # the next polite start time per host, as dispatched
    inflight: dict[Future[Capture], tuple[str, int]] = {}
    workers = max(1, min(max_connections, len(items)))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="archiver-fetch")
    try:
        while queues or inflight:
            now = time.monotonic()
            wake: float | None = None
            for host in list(queues):
                while host in queues and len(inflight) < max_connections:
                    if host and busy[host] >= per_host_connections:
                        break
                    ready = max(planned.get(host, 0.0), gate.ready_at(host))
                    if host and ready > now:
                        wake = ready if wake is None else min(wake, ready)
                        break
                    index = queues[host].popleft()
                    if not queues[host]:
                        del queues[host]
                    planned[host] = max(ready, now) + gate.interval(host)
                    inflight[pool.submit(fetch, items[index])] = (host, index)
                    busy[host] += 1
            timeout = STOP_POLL if wake is None else min(STOP_POLL, max(0.0, wake - now))
            if not inflight:
                pause(timeout)
                continue
            done, _ = wait(list(inflight), timeout=timeout, return_when=FIRST_COMPLETED)
            pause(0)  # raises at once if the fetcher was stopped meanwhile
            for future in done:
                host, index = inflight.pop(future)
                busy[host] -= 1
                results[index] = future.result()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [capture for capture in results if capture is not None]
