"""Many URLs at once, politely: which URL a worker may start next, and when.

A small scheduler hands a URL to the thread pool only when its host has a free connection slot
and its next polite start time has come, so one slow host never ties up the workers that other
hosts could use. It never waits longer than :data:`STOP_POLL` without looking up, so an
interrupt ends it at once; then the workers are left without waiting for them (the fetcher ends
their waits and cuts their reads). The workers are daemon threads, so one still connecting
(bounded by ``connect_timeout``) does not hold the process open after an interrupt either.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait

from archiver.fetch.politeness import HostGate
from archiver.fetch.urls import host_of
from archiver.models import Capture

#: The longest the scheduler waits without looking whether it was interrupted.
STOP_POLL = 0.25
#: A URL is handed to a worker this long before its host's polite start time: the worker then
#: waits in the gate (:meth:`HostGate.request`, which keeps the start time) rather than the
#: start waiting for the hand-over and a thread's wake-up, which used to add ~1-5 ms to every
#: interval (the gate spaces each start from the previous one's real start).
LEAD = 0.02


class _Workers:
    """A fixed pool of daemon threads running ``fetch`` on URLs, each result a Future."""

    def __init__(self, fetch: Callable[[str], Capture], size: int) -> None:
        self._fetch = fetch
        self._jobs: queue.SimpleQueue[tuple[Future[Capture], str] | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"archiver-fetch_{i}", daemon=True)
            for i in range(size)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, url: str) -> Future[Capture]:
        future: Future[Capture] = Future()
        self._jobs.put((future, url))
        return future

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, url = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self._fetch(url))
            except BaseException as exc:  # handed to the caller, as an executor does
                future.set_exception(exc)

    def shutdown(self, *, wait: bool) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        if wait:
            for thread in self._threads:
                thread.join()


def fetch_all(
    items: Sequence[str],
    fetch: Callable[[str], Capture],
    *,
    gate: HostGate,
    max_connections: int,
    per_host_connections: int,
    pause: Callable[[float], None],
    each: Callable[[int, Capture], None] | None = None,
) -> list[Capture]:
    """``fetch`` every URL of ``items`` on a thread pool within the gate's limits; the results
    keep the input's order. ``pause`` waits when nothing is in flight (and raises if stopped).

    ``each(index, capture)`` is called in this thread as each fetch ends (in the order they
    end), so a caller can hand the answers on while the others are still being fetched; it
    must return quickly (a queue's ``put``), since no request is dispatched while it runs.
    """
    results: list[Capture | None] = [None] * len(items)
    queues: dict[str, deque[int]] = {}
    for index, url in enumerate(items):
        queues.setdefault(host_of(url), deque()).append(index)
    busy: Counter[str] = Counter()
    planned: dict[str, float] = {}  # the next polite start time per host, as dispatched
    inflight: dict[Future[Capture], tuple[str, int]] = {}
    workers = max(1, min(max_connections, len(items)))
    pool = _Workers(fetch, workers)
    try:
        while queues or inflight:
            now = time.monotonic()
            wake: float | None = None
            for host in list(queues):
                while host in queues and len(inflight) < max_connections:
                    if host and busy[host] >= per_host_connections:
                        break
                    ready = max(planned.get(host, 0.0), gate.ready_at(host))
                    if host and ready - LEAD > now:
                        wake = ready - LEAD if wake is None else min(wake, ready - LEAD)
                        break
                    index = queues[host].popleft()
                    if not queues[host]:
                        del queues[host]
                    planned[host] = max(ready, now) + gate.interval(host)
                    inflight[pool.submit(items[index])] = (host, index)
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
                results[index] = capture = future.result()
                if each is not None:
                    each(index, capture)
    except BaseException:
        for future in inflight:
            future.cancel()  # those not started yet never start
        pool.shutdown(wait=False)
        raise
    pool.shutdown(wait=True)
    return [capture for capture in results if capture is not None]
