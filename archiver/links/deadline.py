"""Work on daemon threads with one deadline: what finished in time, and why the rest did not.

Web archives and slow sites must never hold a check beyond its bound, nor the program at exit:
``concurrent.futures`` joins its worker threads when the interpreter exits, so a lookup left
behind would keep ``archiver links`` waiting for a slow archive's timeouts after its answer was
printed. Daemon threads end with the program; what they fetch after the deadline is dropped.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import TypeVar

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


def run_within(
    tasks: Mapping[K, Callable[[], T]], seconds: float, *, name: str = "archiver-work"
) -> tuple[dict[K, T], dict[K, str]]:
    """Run every task at once; (results of those done within ``seconds``, why each other one
    gave none: ``"late"`` or its exception). Never raises for a task's failure."""
    results: dict[K, T] = {}
    failed: dict[K, str] = {}
    lock = threading.Lock()

    def runner(key: K, task: Callable[[], T]) -> None:
        try:
            value = task()
        except Exception as exc:  # noqa: BLE001 - one task's trouble is its own
            exiting = sys.is_finalizing() or "interpreter shutdown" in str(exc)
            if exiting:  # left behind by its deadline, then ended by the program's exit
                return
            log.warning("%s %s failed: %s", name, key, exc)
            with lock:
                failed[key] = f"{type(exc).__name__}: {str(exc)[:200]}"
            return
        with lock:
            results[key] = value

    threads = []
    for key, task in tasks.items():
        thread = threading.Thread(target=runner, args=(key, task), name=name, daemon=True)
        thread.start()
        threads.append(thread)
    end = time.monotonic() + seconds
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    with lock:
        done = dict(results)
        why = dict(failed)
    for key in tasks:
        if key not in done and key not in why:
            why[key] = "late"
    return done, why
