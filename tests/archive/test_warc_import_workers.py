"""``import-warc --workers N``: pages extracted in worker processes, the same archive as inline.

The file is read and the archive written in the parent, in file order; only the pages' bytes
go to the workers (``parallel.stages.extract_captures``). What is read ahead of the writer is
the tricky part: a revisit of a page not stored yet, the same record twice, an archiver export
(documents from metadata, not extracted). Real files from tests/data/warc and, when it is
there, ../shared/corpus/warc; and one written here with many pages, revisits and a repeat, so
records are read well ahead of the writer.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.archive.store import Archive
from archiver.archive.warc_export import export_warc
from archiver.archive.warc_import import CHUNK, IN_FLIGHT, import_file
from archiver.cli import cli
from archiver.parallel.executor import open_executor
from tests.archive.test_warc_import import CORPUS, DATA

REAL = [DATA / "example.warc.gz", DATA / "example-trunc.warc", DATA / "example.arc"]
for name in ("resiliparse/data/warcfile.warc.gz", "warcio/data/example-iana.org-chunked.warc"):
    if (CORPUS / name).exists():
        REAL.append(CORPUS / name)


@pytest.fixture(scope="module")
def pool() -> Iterator[Any]:
    with open_executor(workers=2) as executor:
        yield executor


def _page(n: int) -> bytes:
    return (
        f"<html><head><title>Harbour story {n}</title></head><body><article><h1>Harbour story "
        f"{n}</h1><p>Story {n}: boats came in and went out again, {n} of them. "
        + "The water was calm and grey. "
        * 20
        + f'</p><p>See <a href="https://other.example/{n}">the source</a>.</p></article></body>'
        "</html>"
    ).encode()


def _record(make: Any) -> bytes:
    """One record's bytes (gzipped member), written by ``make(writer)``."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    writer.write_record(make(writer))
    return out.getvalue()


def _many(path: Path, pages: int) -> None:
    """A WARC of ``pages`` responses, each page's revisit (a day later) right after the next
    page, one record twice, and a non-HTML resource: more records than the reader runs ahead."""
    http = StatusAndHeaders(
        "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
    )
    day1, day2 = {"WARC-Date": "2026-01-01T00:00:00Z"}, {"WARC-Date": "2026-01-02T00:00:00Z"}
    responses, revisits = [], []
    for n in range(pages):
        url, payload = f"https://news.example/story/{n}", _page(n)
        responses.append(_record(lambda w, u=url, p=payload: w.create_warc_record(
            u, "response", payload=io.BytesIO(p), length=len(p), http_headers=http,
            warc_headers_dict=day1,
        )))  # fmt: skip
        digest = "sha1:" + base64.b32encode(hashlib.sha1(payload).digest()).decode()
        revisits.append(_record(lambda w, u=url, d=digest: w.create_revisit_record(
            u, digest=d, refers_to_uri=u, refers_to_date="2026-01-01T00:00:00Z",
            warc_headers_dict=day2,
        )))  # fmt: skip
    data = b"%PDF-1.4 not really"
    with path.open("wb") as out:
        for n in range(pages):
            out.write(responses[n])
            if n == 5:
                out.write(responses[3])  # the same record again, not stored yet
            if n >= 1:
                out.write(revisits[n - 1])
        out.write(_record(lambda w: w.create_warc_record(
            "https://news.example/report.pdf", "resource", payload=io.BytesIO(data),
            length=len(data), warc_content_type="application/pdf", warc_headers_dict=day1,
        )))  # fmt: skip


def _fingerprint(archive: Archive) -> dict[str, Any]:
    """Everything an import stores, in the order it was stored (ids aside)."""
    _, captures = archive.query(
        """SELECT c.url, c.fetched_at, c.kind, c.status, c.body_sha256, c.truncated,
        e.checksum, e.title, (SELECT count(*) FROM links l WHERE l.extraction_id = e.id)
        FROM captures c LEFT JOIN extractions e ON e.id = c.extraction_id ORDER BY c.id"""
    )
    _, flags = archive.query(
        """SELECT c.url, f.flag, f.detail FROM capture_flags f JOIN captures c
        ON c.id = f.capture_id ORDER BY f.capture_id, f.flag"""
    )
    return {"captures": [list(row) for row in captures], "flags": [list(row) for row in flags]}


def _both(path: Path, executor: Any, archive_of: Any = Archive.memory) -> None:
    results = []
    for engine in (None, executor):
        with archive_of() as archive:
            summary = import_file(archive, str(path), executor=engine)
            again = import_file(archive, str(path), executor=engine)  # nothing added twice
            results.append((summary.to_json(), again.to_json(), _fingerprint(archive)))
    assert results[0] == results[1]
    assert results[0][2]["captures"], "nothing was imported"


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_a_real_file_gives_the_same_archive_in_a_pool(path: Path, pool: Any) -> None:
    _both(path, pool)


def test_many_records_read_ahead_of_the_writer(tmp_path: Path, pool: Any) -> None:
    pages = 3 * CHUNK * IN_FLIGHT
    path = tmp_path / "many.warc.gz"
    _many(path, pages)
    with Archive.memory() as archive:
        summary = import_file(archive, str(path), executor=pool)
        assert summary.imported == {"response": pages, "revisit": pages - 1, "resource": 1}
        assert summary.already_present == 1 and summary.extracted == 2 * pages - 1
        assert not any("neither in the file" in reason for reason in summary.skipped)
    _both(path, pool)


def test_an_archiver_export_comes_back_the_same(tmp_path: Path, pool: Any) -> None:
    source = tmp_path / "many.warc.gz"
    _many(source, 12)
    exported = tmp_path / "export.warc.gz"
    with Archive.memory() as archive:
        import_file(archive, str(source))
        export_warc(archive, str(exported))
    _both(exported, pool)


def test_the_command_takes_workers(tmp_path: Path) -> None:
    path = tmp_path / "many.warc.gz"
    _many(path, 40)
    printed = []
    for extra in ([], ["--workers", "2"]):
        db = tmp_path / f"archive{len(extra)}.db"
        result = CliRunner().invoke(
            cli, ["--db", str(db), "import-warc", str(path), "--json", *extra]
        )
        assert result.exit_code == 0, result.output
        printed.append(json.loads(result.output))
        with Archive(db, readonly=True) as archive:
            printed.append(_fingerprint(archive))
    assert printed[0] == printed[2] and printed[1] == printed[3]
    assert printed[0]["files"][0]["added"] == 40 + 39 + 1
