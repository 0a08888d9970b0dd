"""The parent's side of a parallel stage: records in, records out, in order, streamed.

A job holds :class:`~archiver.models.Capture` records (from its fetcher or its archive);
these functions send only their bytes and plain values to the executor's workers
(:mod:`archiver.parallel.tasks`) and hand back, in the input's order and as soon as each chunk
is done, what the job would have computed inline, so its one writer can store each result
while the workers go on. An error a worker met comes back as a value and is logged here, in
the parent, where the job's logging is configured.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor

from archiver.fetch.captures import is_html
from archiver.models import Capture, Document
from archiver.parallel.ordered import IN_FLIGHT_PER_WORKER, map_ordered
from archiver.parallel.tasks import TaskError, extract_batch

log = logging.getLogger(__name__)

#: Pages per chunk for extraction: ~2.5 ms a page here, so ~0.2 s of work per round trip.
EXTRACT_CHUNK = 80
#: Chunks a small batch is cut into, so that every worker of a pair gets some of it.
SPREAD = 4


def spread(count: int, *, chunks: int = SPREAD) -> int:
    """The chunk size that cuts a batch of ``count`` pages into ``chunks`` chunks (at most
    :data:`EXTRACT_CHUNK` pages each): a run's group of 32 pages sent as one chunk of 80
    would keep one worker busy and the other idle."""
    return max(1, min(EXTRACT_CHUNK, -(-count // chunks)))


def extract_captures(
    executor: Executor,
    captures: Iterable[Capture],
    *,
    chunk: int = EXTRACT_CHUNK,
    in_flight: int = 2 * IN_FLIGHT_PER_WORKER,
    known: Callable[[Capture], Document | None] | None = None,
) -> Iterator[tuple[Capture, Document | None]]:
    """Each capture with its document, as ``verify.job.extract_capture`` gives it, in order.

    Only a successful HTML answer's body travels to a worker; any other capture rides along
    as an empty item and comes back with None. ``captures`` is read lazily: at most
    ``(in_flight + 1) * chunk`` captures are held here at a time. ``known(capture)``, asked in
    the parent, gives a document already extracted from the same bytes (the archive's
    ``known_document``): that capture is not sent, and comes back with it.
    """
    waiting: deque[tuple[Capture, Document | None]] = deque()

    def items() -> Iterator[tuple[bytes, str, str | None]]:
        for capture in captures:
            ready = known(capture) if known is not None else None
            waiting.append((capture, ready))
            usable = ready is None and capture.ok and bool(capture.body) and is_html(capture)
            yield (capture.body if usable else b"", capture.final_url, capture.content_type)

    def empty(batch: list[tuple[bytes, str, str | None]]) -> bool:
        return not any(body for body, _, _ in batch)

    extracted = map_ordered(
        executor, extract_batch, items(), chunk=chunk, in_flight=in_flight, here=empty
    )
    for outcome in extracted:
        capture, ready = waiting.popleft()
        if ready is not None:
            outcome = ready
        elif isinstance(outcome, TaskError):
            log.warning("%s: not extracted: %s", capture.url, outcome.message)
            outcome = None
        yield capture, outcome
