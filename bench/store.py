"""Benchmark of the archive: captures stored per second and bytes per capture.

Run: ``.venv/bin/python -m bench.store [--captures N]``. Two workloads, each beside what a
user would otherwise keep, a gzipped WARC of the same captures (warcio, as ``wget --warc-file``
or ``archiver export-warc`` writes it):

* ``recapture``: the issue's case, 100 captures of one page that changes once;
* ``distinct``: N different pages (every body new), the worst case for deduplication.

"archive" is the archive as it opens (WAL, ``synchronous=NORMAL``: a commit survives the process
being killed; a run's sync points fsync); "fsync each" is the same with ``synchronous=FULL``, an
fsync every commit, as the archive did before. A last row is ``archiver export-warc`` of the
same archive: full WARC records (request, response, metadata) with revisit records for
repeated bodies.

A third workload is the **write path of a run** (``--pages N``): per page, the capture with its
extraction (document, links, paragraphs, FTS), its verification with a link check per link, and
the run-log row, each its own transaction as ``archiver run`` writes them; then ``seal``. Beside
it, in the same run: the same rows written by a plain sqlite-utils loop (``table.insert(row)``,
fsync each commit), and the seal as it was before (one autocommit, so one fsync, a leaf, and the
tree's root recomputed from every leaf). Seal figures are per 1,000 new leaves, on a log that
already holds the first N pages' leaves.

The page is the seed fixture (tests/web/pages/mt-a57583.html) when the repository has it,
else a generated page of the same shape, so the figures are comparable between runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import random
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.archive import evidence_log
from archiver.archive.codec import compress_body, document_key, dumps
from archiver.archive.store import Archive
from archiver.evidence.merkle import root
from archiver.evidence.records import KINDS, LEAF_COLUMNS, record_leaf
from archiver.evidence.seal import seal
from archiver.evidence.settings import EvidenceSettings
from archiver.extract.extractor import extract
from archiver.models import Capture, Document, Drift, LinkCheck, utc_iso

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "web" / "pages" / "mt-a57583.html"
URL = "https://www.themoscowtimes.com/2017/03/30/trump-le-pen-a57583"
WORDS = (
    "Kremlin Moscow election influence friends partners business trust policy Europe "
    "president journalist sociologist network agreement violence Putin Gazprom"
).split()


def base_page(rng: random.Random, page: Path) -> bytes:
    if page.is_file():
        return page.read_bytes()
    paragraphs = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 90))) + ".</p>\n"
        for _ in range(25)
    )
    boilerplate = "<nav>" + "<a href='/section'>Section</a>" * 80 + "</nav>"
    script = "<script>" + "var x=1;" * 3000 + "</script>"
    return f"<html><head>{script}</head><body>{boilerplate}{paragraphs}</body></html>".encode()


def capture(url: str, body: bytes, i: int) -> Capture:
    return Capture(
        url=url,
        final_url=url,
        status=200,
        headers=(("Content-Type", "text/html; charset=utf-8"), ("ETag", f'"{i}"')),
        body=body,
        content_type="text/html; charset=utf-8",
        fetched_at=f"2026-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
    )


def store(captures: list[Capture], path: Path, *, fsync_each: bool = False) -> tuple[float, int]:
    """Seconds to save every capture (each its own transaction) and the archive's size."""
    start = time.perf_counter()
    with Archive(path) as archive:
        if fsync_each:
            archive.conn.execute("PRAGMA synchronous = FULL")
        for item in captures:
            archive.save_capture(item)
    elapsed = time.perf_counter() - start
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    return elapsed, size


def warc(captures: list[Capture], path: Path) -> tuple[float, int]:
    """Seconds to write the same captures as a gzipped WARC (response records) and its size."""
    start = time.perf_counter()
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        for item in captures:
            http = StatusAndHeaders("200 OK", list(item.headers), protocol="HTTP/1.1")
            record = writer.create_warc_record(
                item.url,
                "response",
                payload=io.BytesIO(item.body),
                length=len(item.body),
                http_headers=http,
            )
            writer.write_record(record)
    return time.perf_counter() - start, path.stat().st_size


def export(db: Path, path: Path) -> tuple[float, int]:
    """Seconds for ``archiver export-warc`` (revisit records for repeated bodies) and size."""
    start = time.perf_counter()
    with Archive(db, readonly=True) as archive:
        archive.export_warc(str(path))
    return time.perf_counter() - start, path.stat().st_size


def workload(name: str, captures: list[Capture], tmp: Path) -> None:
    raw = sum(len(c.body) for c in captures)
    s_time, s_size = store(captures, tmp / f"{name}.db")
    f_time, f_size = store(captures, tmp / f"{name}-fsync.db", fsync_each=True)
    w_time, w_size = warc(captures, tmp / f"{name}.warc.gz")
    e_time, e_size = export(tmp / f"{name}.db", tmp / f"{name}.export.warc.gz")
    n = len(captures)
    print(f"\n{name}: {n} captures, {raw / n / 1024:.1f} KiB raw body each")
    print(f"  {'':14}{'captures/s':>12}{'bytes/capture':>16}{'total bytes':>14}")
    print(f"  {'archive':14}{n / s_time:12.0f}{s_size / n:16.0f}{s_size:14d}")
    print(f"  {'  fsync each':14}{n / f_time:12.0f}{f_size / n:16.0f}{f_size:14d}")
    print(f"  {'gzip WARC':14}{n / w_time:12.0f}{w_size / n:16.0f}{w_size:14d}")
    print(f"  {'export-warc':14}{n / e_time:12.0f}{e_size / n:16.0f}{e_size:14d}")
    print(
        f"  archive/WARC: speed x{w_time / s_time:.2f}, x{w_time / f_time:.2f} with an fsync "
        f"each commit (the WARC is not fsynced); size x{s_size / w_size:.3f}; "
        f"raw bodies {raw} bytes"
    )


# -- the write path of a run -------------------------------------------------------------

Page = tuple[Capture, Document, list[LinkCheck]]
DRIFT = Drift(
    status="unchanged", similarity=1.0, checksum_canonical="sha256:0", checksum_live="sha256:0"
)


def run_pages(page: bytes, n: int, *, start: int = 0) -> list[Page]:
    """N different pages as a run stores them: body, extraction, a verdict on each link."""
    document = extract(page, url=URL)
    out = []
    for i in range(start, start + n):
        url = f"{URL}?w={i}"
        body = page.replace(b"</body>", f"<!-- w{i} -->".encode() + b"</body>")
        doc = dataclasses.replace(document, url=url, paragraphs=(*document.paragraphs, f"{i}."))
        checks = [
            LinkCheck(url=link.url, text=link.text, status="ok", broken=False, http_status=200)
            for link in document.links
        ]
        out.append((capture(url, body, i), doc, checks))
    return out


def write_archive(archive: Archive, pages: list[Page], run_id: int) -> None:
    """What ``archiver run`` writes per page, through the archive, a transaction each."""
    for i, (item, document, checks) in enumerate(pages):
        capture_id = archive.save_capture(item, document, run_id=run_id)
        archive.save_verification(
            canonical_path=f"copies/{i}.md",
            url=item.url,
            drift=DRIFT,
            capture_id=capture_id,
            links=checks,
            run_id=run_id,
        )
        archive.mark_item(
            run_id, item=f"copies/{i}.md", kind="canonical", url=item.url, outcome="ok"
        )


def write_sqlite_utils(db: Database, pages: list[Page], run_id: int) -> None:
    """The same rows through a plain sqlite-utils loop: ``table.insert(row)``, each committed."""
    for i, (item, document, checks) in enumerate(pages):
        now = utc_iso()
        url_id = db.table("urls").insert({"url": item.url, "first_seen": now}).last_pk
        packed = compress_body(item.body)
        db.table("bodies").insert(
            {"sha256": item.sha256, "size": len(item.body), "compression": packed[0],
             "data": packed[1], "stored_at": now},
            ignore=True,
        )  # fmt: skip
        extraction_id = db.table("extractions").insert(
            {"key": document_key(document), "url": document.url, "profile": document.profile,
             "normalizer": document.normalizer, "checksum": document.checksum,
             "title": document.title, "subtitle": document.subtitle,
             "authors": dumps(list(document.authors)), "published": document.published,
             "modified": document.modified, "label": document.label,
             "encoding": document.encoding, "text": document.text,
             "paragraphs": dumps(list(document.paragraphs)),
             "paragraph_hashes": dumps(list(document.paragraph_hashes)),
             "images": dumps([image.to_json() for image in document.images]),
             "warnings": dumps(list(document.warnings))},
        ).last_pk  # fmt: skip
        db.table("links").insert_all(
            {"extraction_id": extraction_id, "position": n, "target": link.url, "text": link.text}
            for n, link in enumerate(document.links)
        )
        capture_id = db.table("captures").insert(
            {"url_id": url_id, "url": item.url, "final_url": item.final_url, "method": "GET",
             "fetched_at": item.fetched_at, "kind": "response", "status": item.status,
             "content_type": item.content_type,
             "headers": dumps([list(pair) for pair in item.headers]), "redirects": "[]",
             "body_sha256": item.sha256, "size": len(item.body), "truncated": 0,
             "not_modified": 0, "extraction_id": extraction_id, "run_id": run_id},
        ).last_pk  # fmt: skip
        verification_id = db.table("verifications").insert(
            {"canonical_path": f"copies/{i}.md", "url": item.url, "capture_id": capture_id,
             "run_id": run_id, "verified_at": now, "status": DRIFT.status,
             "similarity": DRIFT.similarity, "checksum_canonical": DRIFT.checksum_canonical,
             "checksum_live": DRIFT.checksum_live, "changes": "[]"},
        ).last_pk  # fmt: skip
        db.table("link_checks").insert_all(
            {"source_url": item.url, "capture_id": capture_id,
             "verification_id": verification_id, "checked_at": now, "url": c.url,
             "text": c.text, "status": c.status, "broken": 0, "http_status": c.http_status,
             "redirects": "[]", "detail": ""}
            for c in checks
        )  # fmt: skip
        db.table("run_items").insert(
            {"run_id": run_id, "item": f"copies/{i}.md", "kind": "canonical", "url": item.url,
             "outcome": "ok", "done_at": now},
        )  # fmt: skip


def seal_before(archive: Archive, settings: EvidenceSettings) -> int:
    """The seal as it was: a leaf an autocommit (an fsync each), the root from every leaf."""
    from archiver.evidence import keys
    from archiver.evidence.checkpoint import sign

    db, stamp, added = archive.db, utc_iso(), 0
    for kind in KINDS:
        last = db.execute(
            "SELECT coalesce(max(row_id), 0) FROM evidence_log WHERE kind = ?", [kind]
        ).fetchone()[0]
        sql = f"SELECT {', '.join(LEAF_COLUMNS[kind])} FROM {kind} WHERE id > ? ORDER BY id"
        for row in list(db.query(sql, [last])):
            db.execute(
                "INSERT INTO evidence_log(kind, row_id, leaf, logged_at) VALUES (?, ?, ?, ?)",
                [kind, row["id"], record_leaf(kind, row), stamp],
            )
            added += 1
    leaves = [e.leaf for e in evidence_log.entries(db)]
    key = keys.load_or_create(settings.key)
    checkpoint = sign(
        key, origin=evidence_log.origin(db), size=len(leaves), root=root(leaves), time=stamp
    )
    evidence_log.save_checkpoint(db, checkpoint, public_key=keys.public_pem(key).decode())
    return added


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measured(work: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one call."""
    wall, used = time.perf_counter(), cpu()
    work()
    return time.perf_counter() - wall, cpu() - used


def write_path(page: bytes, n: int, tmp: Path) -> None:
    first, second = run_pages(page, n), run_pages(page, n, start=n)
    settings = EvidenceSettings(key=tmp / "bench.key")
    links = len(first[0][2])
    print(
        f"\nwrite path of a run: {n} pages, each a capture with its extraction ({links} links, "
        f"FTS), a verification with {links} link checks, a run-log row; a transaction each"
    )
    with Archive(tmp / "run.db") as archive:
        run_id = archive.start_run(command="run")
        a_wall, a_cpu = measured(lambda: write_archive(archive, first, run_id))
        seal(archive, settings=settings)
        write_archive(archive, second, run_id)
    shutil.copy(tmp / "run.db", tmp / "run-before.db")
    with Archive(tmp / "fsync.db") as archive:
        archive.conn.execute("PRAGMA synchronous = FULL")
        run_id = archive.start_run(command="run")
        f_wall, f_cpu = measured(lambda: write_archive(archive, first, run_id))
    with Archive(tmp / "loop.db") as archive:
        run_id = archive.start_run(command="run")
    loop = Database(tmp / "loop.db")
    loop.execute("PRAGMA synchronous = FULL")
    u_wall, u_cpu = measured(lambda: write_sqlite_utils(loop, first, run_id))
    loop.close()
    print(f"  {'':22}{'pages/s':>9}{'CPU ms/page':>13}{'wall s':>8}")
    print(f"  {'archive':22}{n / a_wall:9.0f}{a_cpu / n * 1000:13.2f}{a_wall:8.2f}")
    print(f"  {'  fsync each (before)':22}{n / f_wall:9.0f}{f_cpu / n * 1000:13.2f}{f_wall:8.2f}")
    print(f"  {'sqlite-utils loop':22}{n / u_wall:9.0f}{u_cpu / n * 1000:13.2f}{u_wall:8.2f}")

    with Archive(tmp / "run.db") as archive:
        held = archive.conn.execute("SELECT count(*) FROM evidence_log").fetchone()[0]
        added: list[int] = []
        s_wall, s_cpu = measured(lambda: added.append(seal(archive, settings=settings).added))
    with Archive(tmp / "run-before.db") as archive:
        archive.conn.execute("PRAGMA synchronous = FULL")
        b_wall, b_cpu = measured(lambda: seal_before(archive, settings))
    per = 1000 / added[0]
    print(
        f"  seal of {added[0]} new leaves on a log of {held}:   wall s  CPU s  (per 1,000 leaves)"
    )
    print(f"  {'archive':22}{s_wall:8.3f}{s_cpu:7.3f}  ({s_wall * per:.3f} s)")
    print(f"  {'before':22}{b_wall:8.3f}{b_cpu:7.3f}  ({b_wall * per:.3f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=500, help="captures in 'distinct'")
    parser.add_argument("--page", type=Path, default=FIXTURE, help="an HTML page to capture")
    parser.add_argument("--pages", type=int, default=300, help="pages in the write path")
    parser.add_argument("--only-write-path", action="store_true", help="skip the other two")
    args = parser.parse_args()
    rng = random.Random(7)
    page = base_page(rng, args.page)
    origin = args.page.name if args.page.is_file() else "generated"
    print(f"page: {origin}, {len(page)} bytes")
    edited = page.replace(b"</p>", b" (updated)</p>", 1)
    recapture = [capture(URL, page if i < 50 else edited, i) for i in range(100)]
    distinct = [
        capture(f"{URL}?p={i}", page.replace(b"</body>", f"<!-- {i} -->".encode() + b"</body>"), i)
        for i in range(args.captures)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        if not args.only_write_path:
            workload("recapture", recapture, Path(tmp))
            workload("distinct", distinct, Path(tmp))
        write_path(page, args.pages, Path(tmp))


if __name__ == "__main__":
    main()
