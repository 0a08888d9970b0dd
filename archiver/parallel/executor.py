"""Where the pure work runs: inline, in a pool of local processes, or on a Dask cluster.

:func:`open_executor` gives a ``concurrent.futures.Executor`` whatever the choice, so a job
submits the same task functions (:mod:`archiver.parallel.tasks`) to any of them:

- no workers, or one: :class:`InlineExecutor` runs each task at once in the calling thread
  (no process, no pickling): tests, tiny jobs, and the reference every other result must equal;
- ``workers=N``: a ``ProcessPoolExecutor`` of N processes started by *forkserver* (Linux) or
  *spawn* (elsewhere). Not *fork*: the parent that calls us already runs threads (the fetcher's
  connection pool and watchdog, a progress thread), and forking a threaded process copies
  locks held by other threads into a child where no thread will ever release them; Python 3.12
  warns about exactly that. The fork server is a clean single-threaded process, started once
  and told to import the task module first, so each worker forks from it already warm (a
  worker starts in milliseconds, not the ~0.3 s a spawned interpreter needs to import lxml);
- ``scheduler="tcp://host:8786"``: the Dask cluster at that address, through
  ``distributed.Client(address).get_executor()``. Dask is imported only here, and only then;
  it is the optional extra ``archiver[cluster]``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from archiver.errors import InputError, JobError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Modules each pool worker imports before its first task (the fork server preloads them);
#: the generic profile (trafilatura) is imported on first use elsewhere, so it is named here.
PRELOAD = ("archiver.parallel.tasks", "archiver.extract.profiles.generic")
#: Seconds to wait for a Dask scheduler to answer before saying it cannot be reached.
CONNECT_TIMEOUT = 10.0
CLUSTER_HINT = "pip install 'archiver[cluster]'"


class InlineExecutor(Executor):
    """An executor that runs each task at once, in the caller's thread.

    Its futures are already done when ``submit`` returns; an exception the task raises is set
    on its future, as a pool would do, so callers handle both the same way. Ctrl-C
    (KeyboardInterrupt) is not caught: it stops the job at once.
    """

    def __init__(self) -> None:
        self._shutdown = False
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
        future: Future[T] = Future()
        future.set_running_or_notify_cancel()
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # handed to the caller through the future, as a pool does
            future.set_exception(exc)
        else:
            future.set_result(result)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True


def pool_context() -> multiprocessing.context.BaseContext:
    """The start method for worker processes: forkserver where it exists, else spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(PRELOAD))
        return context
    return multiprocessing.get_context("spawn")


def default_workers() -> int:
    """One worker per CPU this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def open_executor(
    *, workers: int | None = None, scheduler: str | None = None
) -> Iterator[Executor]:
    """An executor for pure tasks; closed (pool processes ended, client closed) on exit.

    ``scheduler`` wins over ``workers``. ``workers`` None or 1 runs inline; 0 means one worker
    per CPU. Raises :class:`InputError` for a bad value or a missing extra, and
    :class:`JobError` when the scheduler cannot be reached.
    """
    if scheduler is not None and scheduler.strip():
        with _dask_executor(scheduler.strip()) as executor:
            yield executor
        return
    if workers is not None and workers < 0:
        raise InputError(f"workers must be 0 (one per CPU) or more, not {workers}")
    count = default_workers() if workers == 0 else (workers or 1)
    if count == 1:
        inline = InlineExecutor()
        try:
            yield inline
        finally:
            inline.shutdown()
        return
    pool = ProcessPoolExecutor(max_workers=count, mp_context=pool_context())
    log.info("process pool of %d workers", count)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _dask_executor(address: str) -> Iterator[Executor]:
    """``Client(address).get_executor()``, with one-line errors for what usually goes wrong."""
    if "://" not in address and ":" not in address:
        raise InputError(f"scheduler address {address!r} is not host:port or tcp://host:port")
    try:
        from distributed import Client
    except ImportError as exc:
        raise InputError(f"a scheduler address needs the cluster extra: {CLUSTER_HINT}") from exc
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise JobError(f"cannot reach the Dask scheduler at {address}: {_first_line(exc)}") from exc
    except ValueError as exc:  # an address Dask cannot parse
        raise InputError(f"scheduler address {address!r}: {_first_line(exc)}") from exc
    log.info("Dask scheduler %s", address)
    try:
        # pure=False: Dask would otherwise hash every argument (page bytes) to name the task.
        yield client.get_executor(pure=False)
    finally:
        client.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
