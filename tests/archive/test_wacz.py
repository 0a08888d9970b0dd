"""WACZ export: the package py-wacz validates, with an index that matches the WARC and the pages
listed with their titles."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from archiver.archive.store import Archive
from archiver.archive.wacz import surt
from archiver.cli import cli
from archiver.models import Capture, Document

WACZ = Path(sys.executable).with_name("wacz")
CDXJ_INDEXER = Path(sys.executable).with_name("cdxj-indexer")
URL = "https://www.example.org/2026/01/story"
PAGE = b"<html><head><title>Story</title></head><body><p>A story.</p></body></html>"


def _document(title: str) -> Document:
    return Document(
        url=URL, title=title, subtitle=None, authors=(), published=None, modified=None,
        paragraphs=("A story.",), links=(), images=(), profile="generic", checksum="sha256:0",
    )  # fmt: skip


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "a.db"
    with Archive(path) as archive:
        archive.save_capture(
            Capture(
                url="http://example.org/story", final_url=URL, status=200,
                redirects=(URL,), headers=(("Content-Type", "text/html"),), body=PAGE,
                content_type="text/html", fetched_at="2026-01-01T00:00:00Z",
            ),
            _document("Story – the first version"),
        )  # fmt: skip
        archive.save_capture(
            Capture(
                url=URL, final_url=URL, status=200, headers=(("Content-Type", "text/html"),),
                body=PAGE, content_type="text/html", fetched_at="2026-02-01T00:00:00Z",
            ),
            _document("Story"),
        )  # fmt: skip
        archive.save_capture(
            Capture(
                url="https://cdn.example.org/a.png?b=2&a=1", final_url="https://cdn.example.org/a.png?b=2&a=1",
                status=200, headers=(("Content-Type", "image/png"),), body=b"\x89PNG....",
                content_type="image/png", fetched_at="2026-01-01T00:00:01Z",
            )
        )  # fmt: skip
    return path


def test_surt() -> None:
    assert surt("https://www.Example.org/A?b=2&a=1") == "org,example)/a?a=1&b=2"
    assert surt("http://example.org:8080/") == "org,example:8080)/"
    assert surt("https://example.org:443/x") == "org,example)/x"
    assert surt("http://www2.example.co.uk") == "uk,co,example)/"


@pytest.mark.skipif(not WACZ.exists(), reason="py-wacz is not installed (the dev extra has it)")
def test_wacz_validates_and_lists_pages(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.wacz"
    result = CliRunner().invoke(
        cli, ["--db", str(db), "export-wacz", str(out), "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["pages"] == 2
    proc = subprocess.run(
        [str(WACZ), "validate", "-f", str(out)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "is valid" in proc.stdout
    with zipfile.ZipFile(out) as wacz:
        names = set(wacz.namelist())
        assert {"archive/data.warc.gz", "indexes/index.cdx", "pages/pages.jsonl",
                "datapackage.json", "datapackage-digest.json"} <= names  # fmt: skip
        assert wacz.getinfo("archive/data.warc.gz").compress_type == zipfile.ZIP_STORED
        header, *pages = [json.loads(line) for line in wacz.read("pages/pages.jsonl").splitlines()]
        package = json.loads(wacz.read("datapackage.json"))
        assert {r["path"] for r in package["resources"]} == names - {
            "datapackage.json",
            "datapackage-digest.json",
        }
        index = wacz.read("indexes/index.cdx").decode()
        (tmp_path / "data.warc.gz").write_bytes(wacz.read("archive/data.warc.gz"))
    assert header["format"] == "json-pages-1.0"
    assert [(p["url"], p["title"]) for p in pages] == [
        ("http://example.org/story", "Story – the first version"),
        (URL, "Story"),
    ]
    assert pages[0]["ts"] == "2026-01-01T00:00:00Z"
    # Every line of our index is where the record really is: the same lines py-wacz's own
    # indexer (cdxj-indexer) writes for the file, http records (not our urn: metadata) compared.
    ours = index.splitlines()
    assert ours == sorted(ours) and len(ours) == 4  # a hop, a response, a revisit, the image
    proc = subprocess.run(
        [str(CDXJ_INDEXER), str(tmp_path / "data.warc.gz")], capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr

    def parsed(lines: list[str]) -> list[tuple[str, str, dict[str, str]]]:
        out = []
        for line in lines:
            key, ts, data = line.split(" ", 2)
            out.append((key, ts, json.loads(data)))
        return sorted(out, key=lambda x: (x[0], x[1], x[2]["offset"]))

    theirs = [line for line in proc.stdout.splitlines() if not line.startswith("urn:")]
    assert parsed(ours) == parsed(theirs)
    with open(tmp_path / "data.warc.gz", "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "warcinfo":
                info = record.content_stream().read().decode()
                assert '"title": "Story"' in info  # the pages, for py-wacz --detect-pages
                break


def test_export_wacz_refuses_to_overwrite(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.wacz"
    out.write_bytes(b"precious")
    result = CliRunner().invoke(cli, ["--db", str(db), "export-wacz", str(out)])
    assert result.exit_code == 2 and "--force" in result.output
    assert out.read_bytes() == b"precious"
    result = CliRunner().invoke(cli, ["--db", str(db), "export-wacz", str(out), "--force"])
    assert result.exit_code == 0 and zipfile.is_zipfile(out)
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith((".part", ".warc.gz"))]
