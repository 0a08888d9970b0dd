"""Import of WARC, ARC and WACZ files from other tools: everything usable comes in (searchable,
extracted), damaged records are flagged not fatal, lengths are not trusted, libraries are quiet.

Real files: a few small ones copied into tests/data/warc/ (PROVENANCE.tsv says from where), and
all of ../shared/corpus/warc/ when it is there.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.archive.store import Archive
from archiver.archive.warc_import import ImportSummary, import_file
from archiver.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "warc"
CORPUS = ROOT.parent / "shared" / "corpus" / "warc"
if not CORPUS.is_dir():  # a worktree sits one level deeper than the project's clone
    CORPUS = Path("/work/shared/corpus/warc")
PAGE = b"<html><head><title>Quiet harbour</title></head><body><p>" + b"Boats. " * 50 + b"</p>"


def titles_found(archive: Archive) -> list[tuple[str, bool]]:
    """Each extracted page's title, and whether ``search`` for a word of it finds that page."""
    out = []
    _, rows = archive.query("SELECT id, title FROM extractions")
    for extraction_id, title in rows:
        words = re.findall(r"\w{3,}", title or "")
        assert words, f"an extraction without a title word: {title!r}"
        hits = archive.search(words[0], limit=1000)
        out.append((title, any(h.extraction_id == extraction_id for h in hits)))
    return out


def _import(path: Path) -> tuple[ImportSummary, list[tuple[str, bool]], list[str]]:
    with Archive.memory() as archive:
        summary = import_file(archive, str(path))
        found = titles_found(archive)
        fsck = sorted({p.kind for p in archive.fsck().problems})
    return summary, found, fsck


def test_small_real_files_come_in_whole() -> None:
    summary, found, _ = _import(DATA / "example.warc.gz")
    assert summary.imported == {"response": 1, "revisit": 1} and not summary.problems
    assert found == [("Example Domain", True)]  # the revisit's body is the response's

    summary, found, _ = _import(DATA / "example.arc")
    assert summary.imported == {"response": 1} and found == [("Example Domain", True)]

    summary, found, _ = _import(DATA / "example-resource.warc.gz")
    assert summary.imported == {"resource": 1} and len(found) == 1 and found[0][1]

    summary, found, _ = _import(DATA / "valid_example_1.wacz")
    assert summary.imported == {"response": 1} and found and all(ok for _, ok in found)

    # Gzipped whole, not per record: warcio refuses it; it is read as one stream instead.
    summary, found, _ = _import(DATA / "example-bad-non-chunked.warc.gz")
    assert summary.added == 2 and found and all(ok for _, ok in found)
    assert any("gzipped whole" in w for w in summary.warnings)


def test_a_truncated_plain_warc_says_so_and_comes_in_flagged() -> None:
    """warcio's example-trunc.warc: the response's Content-Length is wrong, its digest fails."""
    summary, found, fsck = _import(DATA / "example-trunc.warc")
    assert summary.added == 1 and summary.problems
    assert sorted(f.flag for f in summary.flags) == ["bad_length", "digest_failed"]
    assert found == [("Example Domain", True)]
    assert fsck == ["imported_bad_length", "imported_digest_failed"]
    assert any("Content-Length is invalid" in w for w in summary.warnings)


def test_nothing_leaks_from_libraries_to_the_terminal(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "archiver", "--db", str(tmp_path / "a.db"), "import-warc",
         str(DATA / "example-trunc.warc")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1  # done, and it found integrity problems
    lines = proc.stderr.splitlines()
    assert lines[0].startswith(str(DATA / "example-trunc.warc") + ": 1 captures imported")
    assert all(line.startswith("  ") for line in lines[1:]), proc.stderr
    assert "flagged 1 digest_failed: http://example.com/" in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "archiver", "--db", str(tmp_path / "a.db"), "import-warc",
         "--json", str(DATA / "example-trunc.warc"), str(DATA / "example.arc")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1 and proc.stderr == ""
    files = json.loads(proc.stdout)["files"]
    assert [f["already_present"] for f in files] == [1, 0]
    assert [f["added"] for f in files] == [0, 1]
    assert files[0]["records"] == {"request": 1, "response": 1, "warcinfo": 2}


def _warc_record(url: str, payload: bytes) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=False)
    http = StatusAndHeaders(
        "200 OK",
        [("Content-Type", "text/html"), ("Content-Length", str(len(payload)))],
        protocol="HTTP/1.1",
    )
    writer.write_record(
        writer.create_warc_record(
            url, "response", payload=io.BytesIO(payload), length=len(payload), http_headers=http
        )  # fmt: skip
    )
    return out.getvalue()


def test_a_record_the_file_ends_inside_is_imported_as_truncated(tmp_path: Path) -> None:
    whole = _warc_record("https://a.example/", PAGE)
    cut = tmp_path / "cut.warc"
    cut.write_bytes(whole[: whole.index(b"Boats.") + 40])
    with Archive.memory() as archive:
        summary = import_file(archive, str(cut))
        stored = archive.latest_capture("https://a.example/")
        assert stored is not None
    assert summary.added == 1
    [flag] = summary.flags
    assert flag.flag == "truncated" and "short of the record's Content-Length" in flag.detail
    assert stored.capture.truncated and stored.capture.body == PAGE[: len(stored.capture.body)]
    assert len(stored.capture.body) < len(PAGE)


@pytest.mark.slow
def test_a_record_larger_than_the_size_cap_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """A small .warc.gz that inflates to 256 MiB: read in blocks, refused past the 32 MiB cap."""
    size = 256 * 1024 * 1024
    bomb = tmp_path / "bomb.warc.gz"
    head = (
        "WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: https://big.example/\r\n"
        "WARC-Date: 2026-01-01T00:00:00Z\r\n"
        "WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>\r\n"
        "Content-Type: application/http; msgtype=response\r\n"
    )
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
    with gzip.open(bomb, "wb", compresslevel=9) as fh:
        fh.write(f"{head}Content-Length: {len(http) + size}\r\n\r\n".encode() + http)
        block = b"\0" * (1 << 20)
        for _ in range(size // len(block)):
            fh.write(block)
        fh.write(b"\r\n\r\n")
    with gzip.open(bomb, "ab") as fh:
        fh.write(_warc_record("https://small.example/", PAGE))
    assert bomb.stat().st_size < 2 * 1024 * 1024
    script = (
        "import json, resource, sys\n"
        "from archiver.archive.store import Archive\n"
        "from archiver.archive.warc_import import import_file\n"
        "with Archive(sys.argv[2]) as archive:\n"
        "    summary = import_file(archive, sys.argv[1])\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
        "print(json.dumps({'summary': summary.to_json(), 'peak': peak}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(bomb), str(tmp_path / "a.db")],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    summary = result["summary"]
    assert summary["added"] == 1  # the small record after it still comes in
    assert summary["skipped"] == {"payload larger than the size cap (33554432 bytes)": 1}
    assert result["peak"] < 200 * 1024 * 1024, result["peak"]


def test_not_a_warc_and_unreadable_compression_are_one_line_input_errors(tmp_path: Path) -> None:
    lz4 = tmp_path / "x.warc.lz4"
    lz4.write_bytes(b"\x04\x22\x4d\x18" + b"\0" * 20)
    html = tmp_path / "page.warc"
    html.write_bytes(PAGE)  # one line of many words, which warcio would read as an ARC record
    packed = tmp_path / "page.warc.gz"
    packed.write_bytes(gzip.compress(PAGE))
    with Archive.memory() as archive:
        with pytest.raises(InputError, match="lz4"):
            import_file(archive, str(lz4))
        for path in (html, packed):
            with pytest.raises(InputError, match="not a readable WARC or ARC.*it begins '<html>"):
                import_file(archive, str(path))
        assert archive.query("SELECT count(*) FROM captures")[1] == [(0,)]


# -- the real corpus -----------------------------------------------------------------------

CORPUS_FILES = sorted(
    p.relative_to(CORPUS).as_posix()
    for p in (CORPUS.glob("*/*/*") if CORPUS.is_dir() else [])
    if re.search(r"\.(warc|arc|wacz)(\.gz|\.lz4|\.gz\.bad)?$", p.name)
)
UNREADABLE = {  # why a file cannot be imported at all (exit 2), as each library's tests say
    "py-wacz/fixtures/invalid_example_1.wacz": "without archive/",
    "resiliparse/data/block-sized-records.warc.lz4": "lz4",
    "resiliparse/data/warcfile.warc.lz4": "lz4",
}
FLAGGED = {  # records imported although damaged, by the libraries' own tests
    "resiliparse/data/clueweb-quirk.warc.gz": {"digest_failed": 29},
    "resiliparse/data/clipped.warc.gz": {"truncated": 1},
    "warcio/data/example-trunc.warc": {"bad_length": 1, "digest_failed": 1},
    "warcio/data/example-wrong-chunks.warc.gz": {"truncated": 1},
}


@pytest.mark.skipif(not CORPUS_FILES, reason="../shared/corpus/warc is not here")
@pytest.mark.parametrize("name", CORPUS_FILES)
def test_every_real_file_imports_and_its_pages_are_found(name: str) -> None:
    path = CORPUS / name
    if name in UNREADABLE:
        with Archive.memory() as archive, pytest.raises(InputError, match=UNREADABLE[name]):
            import_file(archive, str(path))
        return
    summary, found, _ = _import(path)
    flags: dict[str, int] = {}
    for flag in summary.flags:
        flags[flag.flag] = flags.get(flag.flag, 0) + 1
    assert flags == FLAGGED.get(name, {}), summary.lines()
    assert all(ok for _, ok in found), [t for t, ok in found if not ok]
    assert not any("neither in the file" in reason for reason in summary.skipped)
    readable = summary.records.get("response", 0) + summary.records.get("resource", 0)
    if readable and not any("non-http(s)" in reason for reason in summary.skipped):
        assert summary.added > 0, summary.lines()
    if name.endswith("example-iana.warc"):
        assert summary.imported == {"response": 24, "revisit": 34} and len(found) == 6


def test_verify_offline_and_links_use_an_imported_page(tmp_path: Path) -> None:
    """Another tool's WARC of the seed article: verify --offline compares against its capture,
    and the import extracted its links (what `links <capture>` checks)."""
    from click.testing import CliRunner

    from archiver.cli import cli
    from tests.conftest import SEED, SEED_PAGE, SEED_URL

    warc = tmp_path / "seed.warc.gz"
    page = SEED_PAGE.read_bytes()
    with open(warc, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        http = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
        )
        writer.write_record(
            writer.create_warc_record(
                SEED_URL, "response", payload=io.BytesIO(page), length=len(page),
                http_headers=http, warc_headers_dict={"WARC-Date": "2026-01-01T00:00:00Z"},
            )
        )  # fmt: skip
    db = str(tmp_path / "a.db")
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", db, "import-warc", str(warc)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        cli, ["--db", db, "verify", "--offline", "--no-check-links", "--json", str(SEED)],
        catch_exceptions=False,
    )  # fmt: skip
    [verdict] = json.loads(result.output)["results"]
    assert verdict["capture_id"] == 1 and verdict["similarity"] == 1.0
    with Archive(db, readonly=True) as archive:
        stored = archive.get_capture(1)
        assert stored is not None and stored.document is not None
        assert len(stored.document.links) >= 10  # the seed cites 13 sources
