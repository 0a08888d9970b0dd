"""The scheduled-run tests share the parallel tests' Dask cluster on loopback."""

from tests.parallel.conftest import local_cluster

__all__ = ["local_cluster"]
