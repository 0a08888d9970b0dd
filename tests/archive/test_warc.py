"""WARC: an export warcio accepts and that imports back identically; captures from wget."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.archive.store import Archive
from archiver.archive.warc_import import import_file
from archiver.cli import cli
from archiver.errors import ArchiveCorrupt, InputError
from archiver.models import Capture, Document, Link

URL = "https://www.themoscowtimes.com/2017/03/30/trump-le-pen-a57583"
PAGE = b"<html><body><p>One old friend is better than two new ones.</p></body></html>"


def document() -> Document:
    return Document(
        url=URL, title="Trump, Le Pen", subtitle=None, authors=("Andrei Babitsky",),
        published="2017-03-30", modified=None,
        paragraphs=("One old friend is better than two new ones.",),
        links=(Link(url="#", text="France"),), images=(), profile="moscowtimes",
        checksum="sha256:00", normalizer="1",
    )  # fmt: skip


def captures() -> list[tuple[Capture, Document | None]]:
    """Every kind of capture the archive holds, with the headers that trip replay tools."""
    return [
        (
            Capture(
                url="http://themoscowtimes.com/a57583",
                final_url=URL,
                status=200,
                headers=(
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("Content-Encoding", "gzip"),  # the body is stored decoded
                    ("Transfer-Encoding", "chunked"),
                    ("Set-Cookie", "a=1"),
                    ("Set-Cookie", "b=2"),
                ),
                body=PAGE,
                content_type="text/html; charset=utf-8",
                fetched_at="2026-01-01T10:00:00.123456+00:00",
                redirects=("https://themoscowtimes.com/a57583", URL),
                elapsed=0.5,
            ),
            document(),
        ),
        (
            Capture(
                url=URL,
                final_url=URL,
                status=200,
                body=PAGE,
                headers=(("Content-Type", "text/html"),),
                fetched_at="2026-01-01T12:00:00Z",
            ),
            document(),
        ),
        (
            Capture(
                url=URL,
                final_url=URL,
                status=304,
                not_modified=True,
                headers=(("ETag", '"x"'),),
                fetched_at="2026-01-02T00:00:00Z",
            ),  # fmt: skip
            None,
        ),
        (
            Capture(
                url="https://gone.example/",
                final_url="https://gone.example/",
                status=None,
                error="dns_error",
                detail="no such host",
                fetched_at="2026-01-03T00:00:00Z",
            ),  # fmt: skip
            None,
        ),
        (
            Capture(
                url="https://slow.example/long",
                final_url="https://slow.example/long",
                status=200,
                headers=(("Content-Type", "text/html"),),
                body=b"<html><p>the first half of a page that never fin",
                fetched_at="2026-01-03T12:00:00Z",
                truncated=True,
                error="timeout",
                detail="total deadline passed",
            ),
            None,
        ),
        (
            Capture(
                url="https://static.example/img.jpg?w=10&h=2",
                final_url="https://static.example/img.jpg?w=10&h=2",
                status=200,
                headers=(("Content-Type", "image/jpeg"), ("Content-Length", "999")),
                body=bytes(range(256)) * 40,
                content_type="image/jpeg",
                fetched_at="2026-01-04T00:00:00Z",
            ),
            None,
        ),
        (
            Capture(
                url="https://gz.example/data.gz",
                final_url="https://gz.example/data.gz",
                status=200,
                headers=(("Content-Encoding", "gzip"),),
                body=gzip.compress(b"still gzipped", mtime=0),
                fetched_at="2026-01-05T00:00:00Z",
            ),  # fmt: skip
            None,
        ),
    ]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "source.db"
    with Archive(path) as archive:
        for capture, doc in captures():
            archive.save_capture(capture, doc)
    return path


def warcio_check(path: Path) -> subprocess.CompletedProcess[str]:
    warcio = Path(sys.executable).with_name("warcio")
    command = [str(warcio)] if warcio.exists() else [sys.executable, "-m", "warcio.cli"]
    return subprocess.run(
        [*command, "check", "-v", str(path)], capture_output=True, text=True, timeout=60
    )


def test_export_is_warc_1_1_that_warcio_check_accepts(source: Path, tmp_path: Path) -> None:
    warc = tmp_path / "out.warc.gz"
    with Archive(source, readonly=True) as archive:
        assert archive.export_warc(str(warc)) == 7
    proc = warcio_check(warc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "digest pass" in proc.stdout
    records = []
    with open(warc, "rb") as fh:
        for record in ArchiveIterator(fh):
            assert record.rec_headers.protocol == "WARC/1.1"
            headers = dict(record.rec_headers.headers)
            records.append((record.rec_type, headers, record))
            if record.rec_type == "response" and headers["WARC-Target-URI"] == URL:
                http = record.http_headers
                if http.get_statuscode() == "200":
                    assert http.get_header("Content-Encoding") is None
                    assert http.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
                    assert http.get_header("Content-Length") == str(len(PAGE))
                    assert record.content_stream().read() == PAGE
    types = [r[0] for r in records]
    # Two redirect hops of the first capture are responses (302) of their own.
    assert types.count("response") == 6 and types.count("request") == 8
    assert types.count("metadata") == 7 and types[0] == "warcinfo"
    # The page fetched twice is written once; the second capture is a revisit pointing at it.
    [revisit] = [
        h
        for t, h, _ in records
        if t == "revisit" and h["WARC-Profile"].endswith("/identical-payload-digest")
    ]
    assert revisit["WARC-Profile"].endswith("/revisit/identical-payload-digest")
    [original] = [h for t, h, _ in records if h.get("WARC-Record-ID") == revisit["WARC-Refers-To"]]
    assert original["WARC-Payload-Digest"] == revisit["WARC-Payload-Digest"]
    # The 304 points replay at the body it said had not changed.
    [unchanged] = [
        h
        for t, h, _ in records
        if t == "revisit" and h["WARC-Profile"].endswith("/server-not-modified")
    ]
    assert unchanged["WARC-Payload-Digest"] == original["WARC-Payload-Digest"]
    # Every metadata record links to its response and is not found under the page's URL.
    ids = {h.get("WARC-Record-ID") for _, h, _ in records}
    for rec_type, headers, _ in records:
        if rec_type == "metadata" and "WARC-Refers-To" in headers:
            assert headers["WARC-Concurrent-To"] in ids
            assert headers["WARC-Target-URI"].startswith("urn:archiver:capture:")
        if rec_type == "request":
            assert headers["WARC-Concurrent-To"] in ids
    for rec_type, headers, _ in records:
        if rec_type == "response":
            assert headers["WARC-Payload-Digest"].startswith("sha1:")
            assert headers["WARC-Block-Digest"].startswith("sha1:")
    assert [h.get("WARC-Truncated") for t, h, _ in records if t == "response"].count("time") == 1
    dates = [h["WARC-Date"] for t, h, _ in records if t == "response"]
    assert dates[0] == "2026-01-01T10:00:00.123456Z"


def test_round_trip_keeps_every_byte_and_checksum(source: Path, tmp_path: Path) -> None:
    warc = tmp_path / "out.warc.gz"
    target = tmp_path / "copy.db"
    with Archive(source) as archive:
        archive.export_warc(str(warc))
        before = [archive.get_capture(i) for i in archive.capture_ids()]
    with Archive(target) as copy:
        assert copy.import_warc(str(warc)) == 7
        after = [copy.get_capture(i) for i in copy.capture_ids()]
        assert copy.import_warc(str(warc)) == 0  # importing twice adds nothing
        assert copy.fsck().ok
    key = lambda s: s.capture.fetched_at  # noqa: E731
    before_sorted = sorted((s for s in before if s), key=key)
    after_sorted = sorted((s for s in after if s), key=key)
    assert [s.capture for s in after_sorted] == [s.capture for s in before_sorted]
    assert [s.document for s in after_sorted] == [s.document for s in before_sorted]
    assert [s.capture.sha256 for s in after_sorted] == [c.sha256 for c, _ in captures()]


def test_cli_export_and_import(source: Path, tmp_path: Path) -> None:
    warc = tmp_path / "cli.warc.gz"
    copy = tmp_path / "cli.db"
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--db", str(source), "export-warc", str(warc), "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0 and json.loads(result.output)["captures"] == 7
    result = runner.invoke(
        cli, ["--db", str(copy), "import-warc", str(warc), "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0 and json.loads(result.output)["imported"] == {str(warc): 7}


def test_export_without_revisits_writes_every_body(source: Path, tmp_path: Path) -> None:
    warc = tmp_path / "full.warc.gz"
    with Archive(source) as archive:
        archive.export_warc(str(warc), revisits=False)
    with open(warc, "rb") as fh:
        types = [record.rec_type for record in ArchiveIterator(fh)]
    # Five bodies in full (the page twice) and the two hops; the 304 points at its body.
    assert types.count("response") == 7 and types.count("revisit") == 1


def test_import_resolves_revisits_from_other_tools(tmp_path: Path) -> None:
    """A deduplicating crawler (Browsertrix) writes a revisit for an unchanged payload."""
    warc = tmp_path / "crawl.warc.gz"
    with open(warc, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        response = writer.create_warc_record(
            "https://a.example/", "response", payload=io.BytesIO(PAGE), length=len(PAGE),
            http_headers=http,
            warc_headers_dict={"WARC-Date": "2026-01-01T00:00:00Z"},
        )  # fmt: skip
        writer.write_record(response)
        writer.write_record(
            writer.create_revisit_record(
                "https://a.example/",
                response.rec_headers.get_header("WARC-Payload-Digest"),
                "https://a.example/",
                "2026-01-01T00:00:00Z",
                http_headers=http,
                warc_headers_dict={"WARC-Date": "2026-01-02T00:00:00Z"},
            )
        )
    with Archive.memory() as archive:
        assert archive.import_warc(str(warc)) == 2
        timeline = archive.history("https://a.example/")
        assert [t.vs_previous for t in timeline] == ["first", "same_body"]
        assert archive.query("SELECT count(*) FROM bodies")[1] == [(1,)]


def test_import_from_a_wacz(source: Path, tmp_path: Path) -> None:
    """Browsertrix and ArchiveWeb.page package their WARCs in a WACZ (a zip)."""
    warc = tmp_path / "data.warc.gz"
    with Archive(source) as archive:
        archive.export_warc(str(warc))
    wacz = tmp_path / "crawl.wacz"
    with zipfile.ZipFile(wacz, "w") as z:
        z.write(warc, "archive/data.warc.gz")
        z.writestr("datapackage.json", "{}")
    with Archive.memory() as archive:
        assert archive.import_warc(str(wacz)) == 7
    empty = tmp_path / "empty.wacz"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("datapackage.json", "{}")
    with Archive.memory() as archive, pytest.raises(InputError, match="without archive"):
        archive.import_warc(str(empty))


def test_a_failed_export_leaves_no_half_warc(source: Path, tmp_path: Path) -> None:
    conn = sqlite3.connect(source)
    with conn:
        conn.execute("UPDATE bodies SET data = x'00' || data WHERE compression = 'zlib'")
    conn.close()
    warc = tmp_path / "out.warc.gz"
    with Archive(source, readonly=True) as archive:
        with pytest.raises(ArchiveCorrupt, match="fsck"):
            archive.export_warc(str(warc))
        with pytest.raises(InputError, match="cannot write"):
            archive.export_warc(str(tmp_path / "no" / "such" / "dir.warc.gz"))
    assert list(tmp_path.glob("out.warc.gz*")) == []


def test_a_record_failing_its_digest_is_imported_and_flagged(tmp_path: Path) -> None:
    """warcio checks each record's digests as it reads: a flipped payload byte does not reject
    the file (one bad record in a real crawl would lose the rest); it is imported, flagged."""
    warc = tmp_path / "plain.warc"
    with open(warc, "wb") as fh:
        writer = WARCWriter(fh, gzip=False)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        for url in ("https://a.example/", "https://b.example/"):
            writer.write_record(
                writer.create_warc_record(
                    url, "response", payload=io.BytesIO(PAGE), length=len(PAGE),
                    http_headers=http,
                )
            )  # fmt: skip
    data = bytearray(warc.read_bytes())
    data[data.index(b"One old friend")] ^= 0x20
    warc.write_bytes(bytes(data))
    with Archive.memory() as archive:
        summary = import_file(archive, str(warc))
        assert summary.added == 2 and summary.problems
        [flag] = summary.flags
        assert flag.url == "https://a.example/" and flag.flag == "digest_failed"
        assert "digest failed" in flag.detail
        assert archive.query("SELECT count(*) FROM captures")[1] == [(2,)]
        assert archive.query("SELECT capture_id, flag FROM capture_flags")[1] == [
            (flag.capture_id, "digest_failed")
        ]
        assert archive.query("SELECT status FROM runs")[1] == [("done",)]
    proc = subprocess.run(
        [sys.executable, "-m", "archiver", "--db", str(tmp_path / "a.db"), "import-warc",
         str(warc)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "flagged 1 digest_failed: https://a.example/" in proc.stderr


def test_a_malformed_metadata_record_is_an_input_error(tmp_path: Path) -> None:
    warc = tmp_path / "meta.warc.gz"
    meta = json.dumps({"url": "https://a.example/", "sha256": "x"}).encode()
    with open(warc, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(
            writer.create_warc_record(
                "https://a.example/", "metadata", payload=io.BytesIO(meta), length=len(meta),
                warc_content_type="application/vnd.archiver.capture+json",
            )
        )  # fmt: skip
    with Archive.memory() as archive, pytest.raises(InputError, match="malformed"):
        archive.import_warc(str(warc))


def test_not_a_warc_is_an_input_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.warc"
    bogus.write_bytes(b"GET / HTTP/1.1\r\n\r\nnot a warc at all")
    with Archive.memory() as archive:
        with pytest.raises(InputError, match="bogus.warc"):
            archive.import_warc(str(bogus))
        with pytest.raises(InputError, match="no such WARC"):
            archive.import_warc(str(tmp_path / "missing.warc.gz"))
    proc = subprocess.run(
        [sys.executable, "-m", "archiver", "--db", str(tmp_path / "a.db"), "import-warc",
         str(bogus)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


class _Site(BaseHTTPRequestHandler):
    """A tiny site that answers like a real one: gzip, chunked, a redirect."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        if self.path == "/old":
            self.send_response(301)
            self.send_header("Location", "/article")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        packed = gzip.compress(PAGE, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for start in range(0, len(packed), 16):
            chunk = packed[start : start + 16]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.2", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.2:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.skipif(shutil.which("wget") is None, reason="wget is not installed")
def test_import_of_a_wget_warc(site: str, tmp_path: Path) -> None:
    proc = subprocess.run(
        ["wget", "--quiet", "--no-proxy", "--tries=1", "--timeout=10",
         "--warc-file", str(tmp_path / "wget"), "-O", os.devnull, f"{site}/old"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with Archive(tmp_path / "wget.db") as archive:
        assert archive.import_warc(str(tmp_path / "wget.warc.gz")) == 2
        redirect = archive.latest_capture(f"{site}/old")
        assert redirect is not None and redirect.capture.status == 301
        article = archive.latest_capture(f"{site}/article")
        assert article is not None and article.capture.status == 200
        assert article.capture.body == PAGE  # de-chunked and gunzipped, as a browser sees it
        assert article.capture.header("Content-Encoding") == "gzip"
        assert article.capture.fetched_at.endswith("Z")
        # What came from wget goes back out as WARC that warcio accepts.
        archive.export_warc(str(tmp_path / "again.warc.gz"))
    assert warcio_check(tmp_path / "again.warc.gz").returncode == 0


def test_export_names_stdout_and_overwrite(source: Path, tmp_path: Path) -> None:
    """Plain under a plain name, gzip under .gz, - is standard output, no silent overwrite."""
    plain, packed = tmp_path / "out.warc", tmp_path / "out.warc.gz"
    for path in (plain, packed):
        proc = subprocess.run(
            [sys.executable, "-m", "archiver", "--db", str(source), "export-warc", str(path)],
            capture_output=True, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    assert plain.read_bytes().startswith(b"WARC/1.1\r\n")
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    assert warcio_check(plain).returncode == 0
    before = plain.read_bytes()
    proc = subprocess.run(
        [sys.executable, "-m", "archiver", "--db", str(source), "export-warc", str(plain)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and "--force" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert plain.read_bytes() == before
    proc = subprocess.run(
        [sys.executable, "-m", "archiver", "--db", str(source), "export-warc", str(plain),
         "--force", "--gzip"],
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0 and plain.read_bytes()[:2] == b"\x1f\x8b"
    proc = subprocess.run(
        [sys.executable, "-m", "archiver", "--db", str(source), "export-warc", "-"],
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stdout[:2] == b"\x1f\x8b"
    records = list(ArchiveIterator(io.BytesIO(proc.stdout)))
    assert len(records) == 1 + 6 + 2 + 8 + 7  # warcinfo, responses, revisits, requests, metadata
