"""Shared fixtures: the seed copy, and the loopback test web served by a real HTTP server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.fetch.fetcher import FetchPolicy
from archiver.models import CanonicalCopy
from archiver.testserver import SiteServer, load_site
from archiver.verify.canonical import read_canonical

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "snapshots" / "2017-03-30-trump-le-pen-and-other-fleeting-relationships-a57583.md"
SEED_PAGE = ROOT / "tests" / "web" / "pages" / "mt-a57583.html"
SEED_URL = (
    "https://www.themoscowtimes.com/2017/03/30/"
    "trump-le-pen-and-other-fleeting-relationships-is-the-russian-scare-real-a57583"
)


@pytest.fixture(scope="session")
def seed_copy() -> CanonicalCopy:
    return read_canonical(SEED)


@pytest.fixture(scope="session")
def site_server() -> Iterator[SiteServer]:
    """The bundled site on 127.0.0.2, a free port; every host of the manifest answers there."""
    with SiteServer(load_site(), host="127.0.0.2") as server:
        yield server


@pytest.fixture()
def connect_to(site_server: SiteServer) -> list[str]:
    """--connect-to options routing every host of the test web to the loopback server."""
    return site_server.connect_to_options()


#: The one fast fetch policy of the tests: loopback servers answer at once, so timeouts,
#: backoff and rate limits can be small. A test that needs other numbers derives its own with
#: ``dataclasses.replace(FAST_POLICY, ...)``, so each difference is stated where it matters.
FAST_POLICY = FetchPolicy(
    per_host_rate=1000.0,
    timeout=2.0,
    connect_timeout=1.0,
    read_timeout=1.0,
    backoff_base=0.01,
    backoff_max=0.05,
    retry_after_cap=2.0,
)


@pytest.fixture()
def fast_policy() -> FetchPolicy:
    """The tests' fast fetch policy (:data:`FAST_POLICY`)."""
    return FAST_POLICY


@pytest.fixture(autouse=True)
def _signing_key(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs sign checkpoints with a key made on first use: the tests' key lives in a temporary
    folder, never in the user's ~/.config."""
    if "ARCHIVER_KEY" not in os.environ:
        folder = tmp_path_factory.getbasetemp() / "signing-key"
        monkeypatch.setenv("ARCHIVER_KEY", str(folder / "signing.key"))
