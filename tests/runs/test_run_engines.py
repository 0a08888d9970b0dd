"""A run with its pure work in workers gives the same archive as a run without them.

The same site (articles whose sources answer, two that link a dead source, one whose live page
was edited since its copy) is archived by ``archiver run`` three times, each into its own
archive: in the run's process (``--workers 1``), in a process pool (``--workers 2``) and on a
Dask ``LocalCluster`` of two processes on loopback (``--scheduler``). The captures (order,
bytes, extraction checksums and paragraphs), the verdicts and the link checks must be the same.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from tests.run_web import Answer, NewsWeb, article, build_site, write_config

COUNT = 24  # more than one group (16 connections), so groups are fetched ahead


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def _archive(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "captures": _rows(
            db,
            "select c.url, c.final_url, c.status, c.body_sha256, e.checksum, e.paragraphs"
            " from captures c left join extractions e on e.id = c.extraction_id order by c.id",
        ),
        "verdicts": _rows(
            db,
            "select canonical_path, url, capture_id, status, similarity, checksum_canonical,"
            " checksum_live, changes from verifications order by id",
        ),
        "links": _rows(
            db,
            "select source_url, url, status, broken, capture_id from link_checks"
            " order by source_url, url",
        ),
        "items": _rows(db, "select item, outcome from run_items order by item"),
    }


def _same_run_everywhere(tmp_path: Path, engines: dict[str, list[str]]) -> None:
    archives = {}
    with NewsWeb() as web:
        build_site(web, tmp_path / "copies", COUNT, broken=2)
        # The live page of article 5 now says something else than its copy: drift.
        url, _, page = article(5, "news.test", [("https://sources.test/doc-5", "document 5")])
        web.add(url, Answer(body=page.replace(b"Paragraph three", b"A new third paragraph")))
        for name, options in engines.items():
            folder = tmp_path / name
            folder.mkdir()
            copies = (tmp_path / "copies").as_posix()
            body = f'[[sources]]\ncanonical = "{copies}"\n'
            config = write_config(folder / "a.toml", web, body)
            result = CliRunner().invoke(
                cli,
                ["run", "--config", str(config), "--json", *options],
                catch_exceptions=False,
            )
            assert result.exit_code == 1, result.output  # the dead sources, the edited page
            summary = json.loads(result.stdout)
            assert summary["items"]["visited"] == COUNT and summary["errors"] == 0
            archives[name] = (_archive(folder / "archive.db"), summary)
    reference, summary = archives["inline"]
    assert len(reference["captures"]) == COUNT * 3  # each page and its two sources
    assert sum(row[4] is not None for row in reference["captures"]) == COUNT * 3 - 2  # no 404s
    assert summary["drift"] == {"edited": 1, "unchanged": COUNT - 1}
    assert summary["links"]["not_found"] == 2
    for name, (archive, got) in archives.items():
        for table, rows in reference.items():
            assert archive[table] == rows, (name, table)
        assert got["drift"] == summary["drift"] and got["links"] == summary["links"], name


def test_a_run_in_a_process_pool_gives_the_same_archive(tmp_path: Path) -> None:
    _same_run_everywhere(tmp_path, {"inline": ["--workers", "1"], "pool": ["--workers", "2"]})


@pytest.mark.slow
def test_a_run_on_a_local_cluster_gives_the_same_archive(
    tmp_path: Path, local_cluster: str
) -> None:
    _same_run_everywhere(
        tmp_path, {"inline": ["--workers", "1"], "cluster": ["--scheduler", local_cluster]}
    )
