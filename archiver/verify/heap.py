"""A verify job keeps what it finds until it is reported: no full garbage collections meanwhile.

A job over 10,000 copies holds every copy, page and verdict until the report is written
(~1.4 GB of objects for 10,000 copies of a long article). Python's cyclic collector then
walks that whole, still-live heap again and again as it grows: measured on
``bench/verify.py``'s 10,000 new copies, ~30 % of ``verify --offline``'s CPU (17.1 s -> 11.3 s
of user time with the collector off). :func:`few_full_collections` keeps the young
generations collected as usual (short-lived cycles are still freed) and only puts off the
full collection of the old one while the job runs; the threshold it had is restored after.
Objects are freed by their reference counts either way: only cyclic garbage that lived
long enough to reach the old generation waits, and a job creates little of that.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: The old generation's threshold while a job runs: full collections every ~7e9 allocations.
OLD_GENERATION_THRESHOLD = 1_000_000


@contextmanager
def few_full_collections() -> Iterator[None]:
    """Put off full collections (the oldest generation) for the time of the block."""
    young, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, max(old, OLD_GENERATION_THRESHOLD))
    try:
        yield
    finally:
        now = gc.get_threshold()  # restored unless someone else changed it meanwhile
        if now == (young, middle, max(old, OLD_GENERATION_THRESHOLD)):
            gc.set_threshold(young, middle, old)
