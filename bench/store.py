"""Benchmark of the archive: captures stored per second and bytes per capture.

Run: ``.venv/bin/python -m bench.store [--captures N]``. Two workloads, each beside what a
user would otherwise keep, a gzipped WARC of the same captures (warcio, as ``wget --warc-file``
or ``archiver export-warc`` writes it):

* ``recapture``: the issue's case, 100 captures of one page that changes once;
* ``distinct``: N different pages (every body new), the worst case for deduplication.

"archive" fsyncs every commit (``synchronous=FULL``, the default); "not durable" is
``Archive(durable=False)`` (``synchronous=NORMAL``). A last row is ``archiver export-warc`` of the
same archive: full WARC records (request,
response, metadata) with revisit records for repeated bodies.

The page is the seed fixture (tests/web/pages/mt-a57583.html) when the repository has it,
else a generated page of the same shape, so the figures are comparable between runs.
"""

from __future__ import annotations

import argparse
import io
import random
import tempfile
import time
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.archive.store import Archive
from archiver.models import Capture

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


def store(captures: list[Capture], path: Path, *, durable: bool = True) -> tuple[float, int]:
    """Seconds to save every capture (each its own transaction) and the archive's size."""
    start = time.perf_counter()
    with Archive(path, durable=durable) as archive:
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
    f_time, f_size = store(captures, tmp / f"{name}-fast.db", durable=False)
    w_time, w_size = warc(captures, tmp / f"{name}.warc.gz")
    e_time, e_size = export(tmp / f"{name}.db", tmp / f"{name}.export.warc.gz")
    n = len(captures)
    print(f"\n{name}: {n} captures, {raw / n / 1024:.1f} KiB raw body each")
    print(f"  {'':14}{'captures/s':>12}{'bytes/capture':>16}{'total bytes':>14}")
    print(f"  {'archive':14}{n / s_time:12.0f}{s_size / n:16.0f}{s_size:14d}")
    print(f"  {'  not durable':14}{n / f_time:12.0f}{f_size / n:16.0f}{f_size:14d}")
    print(f"  {'gzip WARC':14}{n / w_time:12.0f}{w_size / n:16.0f}{w_size:14d}")
    print(f"  {'export-warc':14}{n / e_time:12.0f}{e_size / n:16.0f}{e_size:14d}")
    print(
        f"  archive/WARC: speed x{w_time / s_time:.2f} durable, x{w_time / f_time:.2f} not "
        f"durable (the WARC is not fsynced); size x{s_size / w_size:.3f}; "
        f"raw bodies {raw} bytes"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=500, help="captures in 'distinct'")
    parser.add_argument("--page", type=Path, default=FIXTURE, help="an HTML page to capture")
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
        workload("recapture", recapture, Path(tmp))
        workload("distinct", distinct, Path(tmp))


if __name__ == "__main__":
    main()
