"""Shared fixtures: the seed copy, and the loopback test web served by a real HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.canonical import read_canonical
from archiver.models import CanonicalCopy
from archiver.testserver import SiteServer, load_site

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
