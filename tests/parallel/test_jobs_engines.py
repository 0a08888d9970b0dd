"""The jobs with their pure work in workers: the same archive inline, in a pool, on a cluster.

``snapshot``, ``verify --offline`` and ``verify`` (live) run through the real command three times,
each into its own archive: in this process, with ``--workers 2`` (a process pool) and with
``--scheduler`` (a Dask ``LocalCluster`` of two processes on loopback). The captures (their
order, bytes, extraction checksums) and the verdicts stored must be the same.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.verify import copies as copies_module
from tests.conftest import SEED, SEED_URL

FAST = ["--per-host-rate", "50", "--timeout", "5"]


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def _captures(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "select c.url, c.final_url, c.status, c.body_sha256, e.checksum, e.paragraphs"
            " from captures c left join extractions e on e.id = c.extraction_id order by c.id"
        ).fetchall()


def _verdicts(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "select v.canonical_path, v.url, v.capture_id, v.status, v.similarity,"
            " v.checksum_canonical, v.checksum_live, v.changes from verifications v order by v.id"
        ).fetchall()


def _copies(folder: Path) -> Path:
    """The seed, edited variants of it, copies of pages never captured, and an unreadable one."""
    folder.mkdir()
    seed = SEED.read_text(encoding="utf-8")
    (folder / "a-seed.md").write_text(seed, encoding="utf-8")
    edits = ["large-scale violence", "Russian business owners", "fashionable line of thought"]
    for n, phrase in enumerate(edits):
        (folder / f"b-edit-{n}.md").write_text(seed.replace(phrase, "X Y"), encoding="utf-8")
    for n in range(4):
        other = seed.replace(SEED_URL, f"{SEED_URL}-elsewhere-{n}")
        (folder / f"c-other-{n}.md").write_text(other, encoding="utf-8")
    (folder / "d-bad.md").write_bytes(b"\xff\xfe not utf-8 \x00")
    return folder


def _engines(cluster: str | None) -> dict[str, list[str]]:
    engines = {"inline": [], "pool": ["--workers", "2"]}
    if cluster is not None:
        engines["cluster"] = ["--scheduler", cluster]
    return engines


def _same_across(
    tmp_path: Path,
    engines: dict[str, list[str]],
    connect_to: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(copies_module, "PARSE_CHUNK", 2)  # several chunks in flight
    folder = _copies(tmp_path / "copies")
    archives: dict[str, tuple[list[object], list[object], dict[str, object], dict[str, object]]]
    archives = {}
    for name, options in engines.items():
        db = tmp_path / f"{name}.db"
        code, out = _run(
            "--db", str(db), "snapshot", SEED_URL, "--json", *FAST, *connect_to, *options
        )
        assert code == 0, out
        snapshots = json.loads(out)
        code, out = _run("--db", str(db), "verify", str(folder), "--offline", "--json", *options)
        assert code == 2, out  # the unreadable copy; the others are still verified
        offline = json.loads(out)
        assert len(offline["results"]) == 8 and len(offline["errors"]) == 1
        live = ["verify", str(SEED), "--json", "--no-check-links", *FAST, *connect_to, *options]
        code, out = _run("--db", str(db), *live)
        assert code == 0, out
        assert json.loads(out)["summary"] == {"cosmetic": 1}
        archives[name] = (_captures(db), _verdicts(db), snapshots, offline["summary"])
    reference = archives["inline"]
    captures, verdicts, snapshots, summary = reference
    assert len(captures) == 15  # the page and its 13 sources, the page again (live verify)
    assert sum(row[4] is not None for row in captures) >= 2  # extracted documents compared
    assert summary["unreachable"] == 4 and summary["cosmetic"] == 1 and summary["edited"] == 3
    for name, got in archives.items():
        assert got[0] == captures, name
        assert got[1] == [tuple(v) for v in verdicts], name
        assert got[2] == snapshots, name
        assert got[3] == summary, name


@pytest.mark.slow
def test_snapshot_and_verify_give_the_same_archive_in_a_pool(
    tmp_path: Path, connect_to: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _same_across(tmp_path, _engines(None), connect_to, monkeypatch)


@pytest.mark.slow
def test_snapshot_and_verify_give_the_same_archive_on_a_local_cluster(
    tmp_path: Path, connect_to: list[str], monkeypatch: pytest.MonkeyPatch, local_cluster: str
) -> None:
    _same_across(tmp_path, _engines(local_cluster), connect_to, monkeypatch)


@pytest.mark.slow
def test_links_keeps_the_same_sources_in_a_pool(tmp_path: Path, connect_to: list[str]) -> None:
    """``links`` extracts the sources it keeps in the workers: the same captures, the same
    verdicts (the seed page's 13 sources, some dead). The links job stores each source as its
    answer arrives (``links/keeper.py``), so the captures' order is the network's, in either
    engine: they are compared as a set, the page itself first."""
    got = {}
    for name, options in _engines(None).items():
        db = tmp_path / f"{name}.db"
        code, out = _run(
            "--db", str(db), "links", SEED_URL, "--json", "--no-archive-lookup",
            *FAST, *connect_to, *options,
        )  # fmt: skip
        assert code == 1, out  # the seed links dead sources
        verdicts = [(c["url"], c["status"], c["broken"]) for c in json.loads(out)["links"]]
        page, *sources = _captures(db)
        got[name] = ([page, *sorted(sources, key=repr)], verdicts)
    captures, verdicts = got["inline"]
    assert sum(row[4] is not None for row in captures) >= 5  # sources extracted
    assert any(broken for _, _, broken in verdicts) and any(not b for _, _, b in verdicts)
    assert got["pool"] == got["inline"]
