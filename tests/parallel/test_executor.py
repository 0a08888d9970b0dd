"""open_executor: inline, a process pool, a Dask scheduler; one-line errors when it cannot."""

from __future__ import annotations

import os
import socket
import sys
from concurrent.futures import ProcessPoolExecutor

import pytest

from archiver.errors import InputError, JobError
from archiver.parallel import executor as executor_module
from archiver.parallel.executor import InlineExecutor, open_executor, pool_context


def _pid(_: object = None) -> int:
    return os.getpid()


def _boom() -> None:
    raise ValueError("inside the task")


def test_none_or_one_worker_runs_inline_in_this_process() -> None:
    for workers in (None, 1):
        with open_executor(workers=workers) as executor:
            assert isinstance(executor, InlineExecutor)
            future = executor.submit(_pid)
            assert future.done() and future.result() == os.getpid()
            failed = executor.submit(_boom)
            assert isinstance(failed.exception(), ValueError)
        with pytest.raises(RuntimeError, match="after shutdown"):
            executor.submit(_pid)


def test_workers_run_in_other_processes_started_without_fork() -> None:
    assert pool_context().get_start_method() in ("forkserver", "spawn")
    with open_executor(workers=2) as executor:
        assert isinstance(executor, ProcessPoolExecutor)
        pids = set(executor.map(_pid, range(8)))
        assert os.getpid() not in pids
        with pytest.raises(ValueError, match="inside the task"):
            executor.submit(_boom).result()


def test_bad_worker_count_is_an_input_error() -> None:
    with pytest.raises(InputError, match="workers must be"), open_executor(workers=-2):
        pass


def test_missing_cluster_extra_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with (
        pytest.raises(InputError, match=r"pip install 'archiver\[cluster\]'"),
        open_executor(scheduler="tcp://127.0.0.1:8786"),
    ):
        pass


def test_not_an_address_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not host:port"), open_executor(scheduler="nonsense"):
        pass


@pytest.mark.slow
def test_unreachable_scheduler_is_a_one_line_job_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed", reason="the cluster extra is not installed")
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(executor_module, "CONNECT_TIMEOUT", 1.0)
    address = f"tcp://127.0.0.1:{port}"
    with pytest.raises(JobError) as caught, open_executor(scheduler=address):
        pass
    message = str(caught.value)
    assert message.startswith(f"cannot reach the Dask scheduler at {address}")
    assert "\n" not in message
