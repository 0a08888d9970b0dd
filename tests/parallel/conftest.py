"""Fixtures shared by the parallel tests: one real Dask cluster on loopback for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[str]:
    """A real Dask cluster of two worker processes, bound to loopback only, ended after."""
    distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed")
    # No warning filter on purpose: with dashboard_address=None and a loopback host, Dask
    # starts and stops here without a warning (filterwarnings = error would fail the test if
    # one appeared). Should a Dask release add one, filter that one message here, not all.
    cluster = distributed.LocalCluster(
        processes=True,
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    )
    try:
        yield cluster.scheduler_address
        workers = cluster.scheduler_info["workers"]
        assert len(workers) == 2
        assert all(address.startswith("tcp://127.0.0.1:") for address in workers)
    finally:
        cluster.close()
