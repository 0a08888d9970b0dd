"""The commands start with their own imports only: ``--help`` and ``extract`` of a page of a
site with its own profile load no HTTP client, no SQLite layer and no trafilatura."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT, SEED_PAGE

HEAVY = ("trafilatura", "requests", "urllib3", "sqlite_utils", "markdown_it", "multiprocessing")


def imported(*args: str) -> set[str]:
    """Top-level packages a fresh ``python -m archiver ARGS`` imports (``-X importtime``)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "archiver", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-500:]
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


@pytest.mark.slow
def test_help_loads_no_job() -> None:
    loaded = imported("--help")
    assert "click" in loaded and "archiver" in loaded  # the probe sees imports at all
    assert not loaded & {*HEAVY, "lxml"}, loaded & {*HEAVY, "lxml"}


@pytest.mark.slow
def test_extracting_a_profiled_page_loads_no_trafilatura() -> None:
    loaded = imported("extract", str(SEED_PAGE))
    assert "lxml" in loaded
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


@pytest.mark.slow
def test_a_page_no_profile_claims_still_loads_it(tmp_path: object) -> None:
    page = ROOT / "tests" / "web" / "pages"
    other = next(p for p in sorted(page.glob("*.html")) if not p.name.startswith("mt-"))
    assert "trafilatura" in imported("extract", str(other))
