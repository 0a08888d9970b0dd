"""Trusted time: checkpoints stamped by a real RFC 3161 TSA on loopback (openssl ts -reply).

The TSA's certificate is made in the test; the request goes through the fetcher's door
(``Fetcher.post``). With the TSA down, the seal (and a run) still finishes, untimestamped.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from archiver.archive import evidence_log
from archiver.archive.store import Archive
from archiver.evidence import tsa
from archiver.evidence.seal import seal
from archiver.evidence.settings import EvidenceSettings
from archiver.fetch.fetcher import Fetcher
from tests.conftest import FAST_POLICY
from tests.links.test_linkcheck import _closed_port
from tests.tsa_server import TSAServer

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl for a TSA")


def test_a_checkpoint_carries_a_token_that_verifies(tmp_path: Path) -> None:
    with TSAServer(tmp_path / "tsa") as server, Fetcher(FAST_POLICY) as fetcher:
        settings = EvidenceSettings(
            key=tmp_path / "k" / "key", tsa=server.url, tsa_cert=server.cert
        )
        with Archive(tmp_path / "a.db") as archive:
            done = seal(archive, settings=settings, fetcher=fetcher)
            stored = evidence_log.checkpoints(archive.db)
        queries = server.queries
    point = done.checkpoint
    assert queries == 1 and point.token is not None
    assert point.timestamp_detail == "timestamp verified"
    roots = tsa.load_roots(server.cert.read_bytes())
    again = tsa.verify(stored[0][0].token or b"", point.note(), roots)
    assert again.detail == "timestamp verified" and again.time is not None
    # the token stamps this checkpoint's note, not another one
    assert tsa.verify(point.token, point.note() + b"x", roots).detail != "timestamp verified"


def test_with_the_tsa_down_the_checkpoint_is_signed_and_says_untimestamped(tmp_path: Path) -> None:
    down = f"http://127.0.0.5:{_closed_port('127.0.0.5')}/tsa"
    with Fetcher(FAST_POLICY) as fetcher, Archive(tmp_path / "a.db") as archive:
        done = seal(
            archive,
            settings=EvidenceSettings(key=tmp_path / "k" / "key", tsa=down),
            fetcher=fetcher,
        )
    assert done.checkpoint.token is None and done.checkpoint.signature
    assert done.checkpoint.timestamp_detail.startswith("untimestamped: the TSA did not answer")


def test_a_run_with_the_tsa_down_still_finishes(tmp_path: Path) -> None:
    from archiver.runs.config import load_config
    from archiver.runs.run import run
    from tests.run_web import NewsWeb, build_site, write_config

    down = f"http://127.0.0.5:{_closed_port('127.0.0.5')}/tsa"
    with NewsWeb() as web:
        build_site(web, tmp_path / "copies", 1)
        body = f'[evidence]\ntsa = "{down}"\n\n[[sources]]\ncanonical = "copies"\n'
        config = load_config(str(write_config(tmp_path / "a.toml", web, body)))
        result = run(config, db_path=str(tmp_path / "archive.db"))
    summary = result.to_json()
    assert summary["status"] == "done"
    assert summary["checkpoint"]["size"] > 0 and summary["checkpoint"]["timestamped"] is False
    assert "untimestamped" in summary["checkpoint"]["detail"]
