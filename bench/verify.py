"""Benchmark: canonical copies never seen before, verified per second with ``--offline``
(target: 1,000 copies/s on this 2-core machine), beside the previous release.

For each size (default 1,000 and 10,000) builds, in a temporary folder, N canonical copies
from the seed, each with its own URL and one of five variations (as it is; a word edited; a
paragraph removed; a correction note on the live side; a rewrite), and stores one capture of
each URL (the seed page, its URL changed, extracted once). Then times ``archiver verify
--offline --json`` over the folder, the real command in a fresh process, inline and with
``--workers N``, for this tree and for the previous release (a ``git worktree`` of the commit
this branch left ``main`` at, run by the same interpreter: see ``bench/startup.py``), each
pass on a fresh copy of the archive: first with every copy new (parsed), then again with the
parse cache warm, as a daily run over unchanged copies is. Prints copies/s, CPU seconds of
every process (the command, its fork server and workers, adopted as orphans so their CPU is
counted), the load average, whether every pass printed the same JSON, and the ratio of this
tree to the previous release. On the first size, also what a user would otherwise run: a
change monitor's whole-page diff (page text from BeautifulSoup, ``difflib.unified_diff``
against the copy), which flags every copy.

    .venv/bin/python -m bench.verify [--copies 1000 10000] [--workers 2] [--previous REF]
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from bs4 import BeautifulSoup

from archiver.archive.store import Archive
from archiver.extract.extractor import extract
from archiver.extract.normalize import checksum, paragraph_hashes
from archiver.models import Capture
from bench.startup import checkout, environment, git, previous_commit, warm

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "snapshots" / "2017-03-30-trump-le-pen-and-other-fleeting-relationships-a57583.md"
SEED_PAGE = ROOT / "tests" / "web" / "pages" / "mt-a57583.html"
SEED_URL = (
    "https://www.themoscowtimes.com/2017/03/30/"
    "trump-le-pen-and-other-fleeting-relationships-is-the-russian-scare-real-a57583"
)
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
    folder: Path, db: str, extra: list[str], tree: Path
) -> tuple[float, float, float, dict[str, int], int, str]:
    """Wall-clock and CPU seconds (the command, its fork server and pool workers) of one
    ``archiver verify --offline --json`` run of ``tree``'s code, the real command in a fresh
    process; ``extra``: options such as ``--workers 2``. Also the CPU seconds of the command's
    own process (the parent: the pool's fork server outlives it and is counted only when
    adopted and reaped here, with its workers), its summary, exit code and the SHA-256 of
    what it printed."""
    args = [sys.executable, "-m", "archiver", "--db", db, "verify", str(folder), "--offline"]
    args += ["--json", *extra]
    started, cpu = time.perf_counter(), _cpu()
    result = subprocess.run(args, capture_output=True, check=False, cwd=tree, env=environment(tree))
    elapsed = time.perf_counter() - started
    parent = _cpu() - cpu
    _reap_orphans()
    cpu = _cpu() - cpu
    if result.returncode not in (0, 1):
        raise SystemExit(f"verify failed (exit {result.returncode}): {result.stderr[-500:]!r}")
    report = json.loads(result.stdout)
    digest = hashlib.sha256(result.stdout.replace(str(folder).encode(), b"")).hexdigest()
    return elapsed, cpu, parent, report["summary"], result.returncode, digest


def _cpu() -> float:
    """CPU seconds of the children that have ended (the command and its pool workers)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def _adopt_orphans() -> None:
    """Become the subreaper of what the commands leave behind (Linux): the fork server of a
    pool outlives the command by a moment and is its workers' parent, so without this their
    CPU would be counted by nobody."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _reap_orphans(patience: float = 10.0) -> None:
    """Wait for adopted processes (a pool's fork server) to end, so their CPU is counted."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.01)


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
    parser.add_argument("--copies", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--workers", type=int, default=2, help="verify --workers N beside inline")
    parser.add_argument("--previous", default=None, help="commit of the previous release")
    parser.add_argument("--no-previous", action="store_true", help="time this tree only")
    parser.add_argument("--no-warm", action="store_true", help="skip the warm-cache runs")
    parser.add_argument("--no-baseline", action="store_true", help="skip the whole-page diff")
    parsed = parser.parse_args()
    _adopt_orphans()
    engines = {"inline": [], f"--workers {parsed.workers}": ["--workers", str(parsed.workers)]}
    with ExitStack() as stack:
        trees = {"this": ROOT}
        if not parsed.no_previous:
            commit = previous_commit(parsed.previous)
            trees = {"previous": stack.enter_context(checkout(commit)), "this": ROOT}
            print(f"previous release: {commit[:10]}, this tree: {git('rev-parse', 'HEAD')[:10]}")
        for tree in trees.values():
            warm(tree)
        for count in parsed.copies:
            run_count(count, trees, engines, parsed)


def run_count(
    count: int, trees: dict[str, Path], engines: dict[str, list[str]], parsed: argparse.Namespace
) -> None:
    """Every (code, engine) pass over the same ``count`` copies, each on a fresh archive."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "copies"
        folder.mkdir()
        pristine = os.path.join(tmp, "pristine.db")
        started = time.perf_counter()
        build(folder, pristine, count)
        print(
            f"\n{count} copies: setup (copies, captures) in {time.perf_counter() - started:.1f} s"
        )
        first: dict[tuple[str, str], float] = {}
        outputs: set[str] = set()
        summaries: set[str] = set()
        for engine, extra in engines.items():
            for code, tree in trees.items():
                db = os.path.join(tmp, "run.db")
                shutil.copyfile(pristine, db)
                runs = ["new copies"] if parsed.no_warm else ["new copies", "parse cache warm"]
                for run in runs:
                    load = os.getloadavg()[0]
                    elapsed, cpu, parent, summary, code_exit, digest = time_archiver(
                        folder, db, extra, tree
                    )
                    if run == "new copies":
                        first[code, engine] = count / elapsed
                    outputs.add(digest)
                    summaries.add(json.dumps(summary, sort_keys=True))
                    print(
                        f"  {code:8} {engine:12} {run:16} {count / elapsed:6.0f} copies/s "
                        f"({elapsed:6.2f} s wall, {cpu:6.2f} s CPU all processes = "
                        f"{count / cpu:5.0f} per CPU-s; parent {parent:6.2f} s = "
                        f"{parent / count * 1000:.2f} ms a copy; load {load:.1f}; exit {code_exit})"
                    )
                os.remove(db)
        print(f"  verdicts {sorted(summaries)}; the same JSON in every pass: {len(outputs) == 1}")
        if "previous" in trees:
            for engine in engines:
                ratio = first["this", engine] / first["previous", engine]
                print(f"  ratio this/previous, new copies, {engine}: {ratio:.2f}x")
        best = max(first["this", engine] for engine in engines)
        print(f"  this tree, new copies, best: {best:.0f} copies/s (target 1,000)")
        if not parsed.no_baseline and count == parsed.copies[0]:
            base_elapsed, base_flagged = time_whole_page_diff(folder, pristine)
            print(
                f"  whole-page diff (BeautifulSoup text + difflib, change-monitor style): "
                f"{count / base_elapsed:.0f} copies per CPU-s; flags {base_flagged} of {count} "
                "(archiver flags the real edits only)"
            )


if __name__ == "__main__":
    main()
