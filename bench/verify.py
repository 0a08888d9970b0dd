"""Benchmark: canonical copies verified per second with ``--offline`` (target: 200/s, one core).

Builds, in a temporary folder, N canonical copies from the seed (default 1,000), each with its
own URL and one of five variations (as it is; a word edited; a paragraph removed; a correction
note on the live side; a rewrite), and stores one capture of each URL (the seed page, its URL
changed, extracted once). Then times ``archiver verify --offline --json`` over the folder through
the real command in a subprocess, twice (the first run parses every copy; the next finds them in
the archive's parse cache, as a daily run over unchanged copies does), and, on the same
copies and the same stored pages, what a user
would otherwise run: a change monitor's whole-page diff (``urlwatch``/changedetection.io style:
page text from BeautifulSoup, ``difflib.unified_diff`` against the copy). Prints both rates,
their ratio and how many copies each flags (the monitor flags every copy: boilerplate noise).

    .venv/bin/python -m bench.verify [--copies N]
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bs4 import BeautifulSoup

from archiver.archive.store import Archive
from archiver.extract.extractor import extract
from archiver.extract.normalize import checksum, paragraph_hashes
from archiver.models import Capture

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "snapshots" / "2017-03-30-trump-le-pen-and-other-fleeting-relationships-a57583.md"
SEED_PAGE = ROOT / "tests" / "web" / "pages" / "mt-a57583.html"
SEED_URL = (
    "https://www.themoscowtimes.com/2017/03/30/"
    "trump-le-pen-and-other-fleeting-relationships-is-the-russian-scare-real-a57583"
)
#: The installed command beside this interpreter (the venv's), else ``python -m archiver``.
_SCRIPT = Path(sys.executable).with_name("archiver")
ARCHIVER = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "archiver"]
#: ``--checkout DIR``: time the archiver of that checkout instead (e.g. the commit before).
CHECKOUT: str | None = None
VARIATIONS = ("as-is", "edited-word", "removed-paragraph", "correction", "rewrite")


def build(folder: Path, db: str, count: int) -> None:
    """Write the copies and store one capture per URL (setup, not timed)."""
    seed = SEED.read_text(encoding="utf-8")
    page = SEED_PAGE.read_bytes()
    document = extract(page, url=SEED_URL, content_type="text/html; charset=utf-8")
    paragraphs = list(document.paragraphs)
    with Archive(db) as archive:
        for number in range(count):
            url = f"{SEED_URL}-{number}"
            kind = VARIATIONS[number % len(VARIATIONS)]
            text = seed.replace(SEED_URL, url)
            live = list(paragraphs)
            if kind == "edited-word":
                text = text.replace("large-scale violence", "large-scale force")
            elif kind == "removed-paragraph":
                text = text.replace("Russian business owners tend to form", "Russian owners form")
                live.pop(6)
            elif kind == "correction":
                live.append("Correction: an earlier version misstated the year.")
            elif kind == "rewrite":
                live = [f"Another story, paragraph {i}, about other things." for i in range(12)]
            (folder / f"copy-{number:04d}.md").write_text(text, encoding="utf-8")
            body = page.replace(SEED_URL.encode(), url.encode())
            capture = Capture(
                url=url,
                final_url=url,
                status=200,
                body=body,
                content_type="text/html; charset=utf-8",
                fetched_at="2026-11-24T00:00:00Z",
            )
            doc = replace(
                document,
                url=url,
                paragraphs=tuple(live),
                checksum=checksum(live),
                paragraph_hashes=paragraph_hashes(live),
            )
            archive.save_capture(capture, doc)


def time_archiver(
    folder: Path, db: str, extra: list[str] | None = None
) -> tuple[float, float, dict[str, int], int]:
    """Wall-clock and CPU seconds (the command and its worker processes) of one
    ``archiver verify --offline --json`` run, the real command in a subprocess; ``extra``:
    options such as ``--workers 2``."""
    command, env = ARCHIVER, None
    if CHECKOUT is not None:  # another checkout's code (the previous release), this venv
        command = [sys.executable, "-m", "archiver"]
        env = {**os.environ, "PYTHONPATH": CHECKOUT}
    args = [*command, "--db", db, "verify", str(folder), "--offline", "--json", *(extra or [])]
    started, cpu = time.perf_counter(), _cpu()
    result = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
    if result.returncode not in (0, 1):
        raise SystemExit(f"verify failed (exit {result.returncode}): {result.stderr[-500:]}")
    report = json.loads(result.stdout)
    return elapsed, cpu, report["summary"], result.returncode


def _cpu() -> float:
    """CPU seconds of the children that have ended (the command and its pool workers)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def time_whole_page_diff(folder: Path, db: str) -> tuple[float, int]:
    """The change monitor's way: page text vs the copy, line diff; any diff is an alarm."""
    started = time.process_time()
    flagged = 0
    with Archive(db, readonly=True) as archive:
        for path in sorted(folder.glob("*.md")):
            text = path.read_text(encoding="utf-8")
            url = text.rsplit("<", 1)[1].split(">", 1)[0]
            stored = archive.latest_capture(url, with_document=False)
            assert stored is not None
            page = BeautifulSoup(stored.capture.body, "lxml").get_text("\n")
            lines = [line.strip() for line in page.splitlines() if line.strip()]
            diff = list(difflib.unified_diff(text.splitlines(), lines, lineterm=""))
            flagged += bool(diff)
    return time.process_time() - started, flagged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=None, help="verify --workers N")
    parser.add_argument("--no-baseline", action="store_true", help="skip the whole-page diff")
    parser.add_argument("--checkout", default=None, help="time another checkout's archiver")
    parsed = parser.parse_args()
    global CHECKOUT
    CHECKOUT = parsed.checkout
    count = parsed.copies
    extra = [] if parsed.workers is None else ["--workers", str(parsed.workers)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "copies"
        folder.mkdir()
        db = os.path.join(tmp, "bench.db")
        started = time.perf_counter()
        build(folder, db, count)
        print(f"setup: {count} copies and captures in {time.perf_counter() - started:.1f} s")
        print(f"load average before timing: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        for run in ("first run (copies parsed)", "next run (parse cache warm)"):
            elapsed, cpu, summary, code = time_archiver(folder, db, extra)
            rate = count / elapsed
            flagged = sum(v for k, v in summary.items() if k in ("edited", "rewritten", "missing"))
            print(
                f"archiver verify --offline, {run}: {count} copies in {elapsed:.2f} s wall = "
                f"{rate:.0f} copies/s; {cpu:.2f} s CPU (all processes) = {count / cpu:.0f} "
                f"copies per CPU-second; {' '.join(extra) or 'inline'}; exit {code}; "
                f"verdicts {summary}"
            )
        if parsed.no_baseline:
            return
        base_elapsed, base_flagged = time_whole_page_diff(folder, db)
        base_rate = count / base_elapsed
        rate = count / cpu
        print(
            f"whole-page diff (BeautifulSoup text + difflib, change-monitor style): "
            f"{base_elapsed:.2f} s CPU = {base_rate:.0f} copies/s; {base_flagged} flagged"
        )
        print(
            f"ratio (CPU, warm run): archiver is {rate / base_rate:.2f}x the whole-page diff; "
            f"it flags {flagged} of {count} (the real edits), the diff flags {base_flagged}"
        )


if __name__ == "__main__":
    main()
