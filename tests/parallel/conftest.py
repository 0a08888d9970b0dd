"""Fixtures shared by the parallel tests: one real Dask cluster on loopback for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[str]:
    """A real Dask cluster of two worker processes, bound to loopback only, ended after."""
    distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed")
    # No warning filter on purpose: with a free loopback port for the scheduler's HTTP
    # server and a loopback host, Dask starts and stops here without a warning (filterwarnings
    # = error would fail the test if one appeared). Not dashboard_address=None: the scheduler
    # then still takes port 8787 for its HTTP routes, and warns when another suite on the
    # same machine holds it. Should a Dask release add a warning, filter that one message.
    cluster = distributed.LocalCluster(
        processes=True,
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )
    try:
        yield cluster.scheduler_address
        workers = cluster.scheduler_info["workers"]
        assert len(workers) == 2
        assert all(address.startswith("tcp://127.0.0.1:") for address in workers)
    finally:
        cluster.close()
