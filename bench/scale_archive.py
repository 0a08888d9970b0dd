"""Benchmark: a real archive at scale, through the one writer, and a 100,000-copy offline pass.

    .venv/bin/python -m bench.scale_archive [--copies 20000] [--links 10] [--hosts 500]
        [--offline 100000] [--workers 2] [--quick] [--skip-live] [--skip-offline]

(a) **Live**: ``--copies`` synthetic articles (``bench.scale.synthesize``: the real Moscow Times
    page, varied) on ``--hosts`` loopback hosts, each citing ``--links`` sources spread over
    ``--hosts`` source hosts; all served by a child process (its CPU is not ours). The pages
    are fetched politely (10 requests/s per host) and kept (extracted in a pool of
    ``--workers``, stored by this process, the one writer, ``keep_many``); then every link is
    checked and its source kept by the links job (``check_and_keep``: robots.txt, one probe per
    host, the sources extracted in the pool while the rest are fetched), into a real archive
    (SQLite, durable). Each step: wall time beside the politeness ideal, CPU (this process and
    its workers), and at the end the peak memory and the archive's size on disk.
(b) **Offline**: ``--offline`` canonical copies on disk and one stored capture of each page
    (set up with ``durable=False``: a bulk load), then the real command
    ``archiver verify DIR --offline --json --workers N`` in a subprocess: wall, CPU, its peak
    memory (largest process) and copies a second.

``--quick``: 1,000 articles over 50 hosts and a 5,000-copy offline pass. Everything stays on
loopback; the work folder is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from archiver.archive.store import Archive
from archiver.capture.snapshot import keep_many
from archiver.extract.extractor import extract
from archiver.extract.normalize import checksum, paragraph_hashes
from archiver.fetch.fetcher import Fetcher, FetchPolicy
from archiver.links.job import LinkSettings, check_and_keep
from archiver.models import Capture, Link
from archiver.parallel.executor import default_workers, open_executor
from archiver.testserver import Page, Site, SiteServer
from bench.scale import HTML, SEED, SEED_PAGE, SEED_URL, peak_rss_mib, synthesize

ADDRESSES = 8
_SCRIPT = Path(sys.executable).with_name("archiver")
ARCHIVER = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "archiver"]
MiB = 2**20


def _source_page(url: str) -> bytes:
    slug = url.rsplit("/", 1)[1]
    return (
        f"<!DOCTYPE html><html><head><title>Source {slug}</title></head><body><article>"
        f"<h1>Source {slug}</h1><p>The document {slug} says what the article cites it for, "
        f"in words enough to be a paragraph of a real source page.</p></article></body></html>"
    ).encode()


def _serve(copies: int, links: int, hosts: int, conn: Connection) -> None:
    """The loopback web (pages and sources), in a process of its own."""
    synthetic = synthesize(copies, links, hosts)
    sites = [Site() for _ in range(ADDRESSES)]
    for url, body in synthetic.pages.items():
        number = int(url.split("/")[2].removeprefix("news").removesuffix(".test"))
        sites[number % ADDRESSES].add(Page(url=url, body=body, content_type=HTML))
    for url in sorted(_links(synthetic.copies)):
        number = int(url.split("/")[2].removeprefix("src").removesuffix(".test"))
        sites[number % ADDRESSES].add(Page(url=url, body=_source_page(url), content_type=HTML))
    del synthetic
    with ExitStack() as stack:
        routes: dict[str, str] = {}
        for index, site in enumerate(sites):
            if site.pages:
                server = stack.enter_context(SiteServer(site, host=f"127.0.4.{index + 1}"))
                routes.update(server.routes())
        conn.send(routes)
        conn.recv()


def _links(copies: list[tuple[bytes, str]]) -> set[str]:
    found: set[str] = set()
    for data, _ in copies:
        text = data.decode("utf-8")
        found.update(part.split(")", 1)[0] for part in text.split("](https://src")[1:])
    return {f"https://src{rest}" for rest in found}


@contextmanager
def web(copies: int, links: int, hosts: int) -> Iterator[tuple[dict[str, str], int]]:
    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe()
    child = context.Process(target=_serve, args=(copies, links, hosts, theirs))
    child.start()
    try:
        assert child.pid is not None
        yield mine.recv(), child.pid
    finally:
        mine.send("stop")
        child.join(timeout=60)


def cpu(exclude: int) -> float:
    """CPU seconds of this process and every descendant alive now (pool workers, the fork
    server) but the process ``exclude`` (the loopback web)."""
    total = 0.0
    for process in _tree(exclude):
        try:
            times = process.cpu_times()
        except Exception:  # noqa: BLE001 - a process that just ended counts nothing
            continue
        total += times.user + times.system
    return total


def _tree(exclude: int) -> list[Any]:
    import psutil  # dask[distributed] needs it, so it is there with the dev and cluster extras

    me = psutil.Process()
    return [me, *(p for p in me.children(recursive=True) if p.pid != exclude)]


def workers_peak_mib(exclude: int) -> float:
    """The largest peak resident memory among the descendants alive now (pool workers)."""
    return max((peak_rss_mib(p.pid) for p in _tree(exclude)[1:]), default=0.0)


def watch(child: subprocess.Popen[str], every: float = 0.5) -> tuple[float, float, float]:
    """Until ``child`` ends: the CPU seconds of it and its descendants (each process's last
    reading), its peak memory and the largest descendant's (MiB, VmHWM)."""
    import psutil

    seen: dict[int, float] = {}
    peaks: dict[int, float] = {}
    root = psutil.Process(child.pid)
    while child.poll() is None:
        try:
            family = [root, *root.children(recursive=True)]
        except psutil.Error:
            break
        for process in family:
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            seen[process.pid] = times.user + times.system
            peaks[process.pid] = max(peaks.get(process.pid, 0.0), peak_rss_mib(process.pid))
        time.sleep(every)
    others = [mib for pid, mib in peaks.items() if pid != child.pid]
    return sum(seen.values()), peaks.get(child.pid, 0.0), max(others, default=0.0)


def size_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / MiB


def ideal(urls: list[str], rate: float) -> float:
    """Seconds the per-host rate allows: the busiest host's requests 1/rate apart (+robots)."""
    per_host = Counter(url.split("/")[2] for url in urls)
    return max(per_host.values()) / rate


def _step(name: str, wall: float, work: float, ideal_s: float | None, count: int) -> None:
    ratio = f", {wall / ideal_s:.2f}x the politeness ideal {ideal_s:.1f} s" if ideal_s else ""
    print(
        f"  {name}: {count:,} in {wall:.1f} s ({count / wall:,.0f}/s){ratio}; CPU {work:.1f} s; "
        f"load {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def live(args: argparse.Namespace, folder: Path) -> None:
    print(
        f"(a) live: {args.copies:,} articles on {args.hosts} hosts x {args.links} links",
        flush=True,
    )
    synthetic = synthesize(args.copies, args.links, args.hosts)
    urls = synthetic.urls
    sources = sorted({link for link in _links(synthetic.copies)})
    cited = [
        [f"https://src{part.split(')', 1)[0]}" for part in data.decode().split("](https://src")[1:]]
        for data, _ in synthetic.copies
    ]
    del synthetic
    policy = FetchPolicy(per_host_rate=args.rate, per_host_connections=2, max_connections=32)
    db = folder / "live.db"
    with (
        web(args.copies, args.links, args.hosts) as (routes, server),
        open_executor(workers=args.workers) as executor,
        Archive(db) as archive,
        Fetcher(policy, routes=routes) as fetcher,
    ):
        started, work = time.perf_counter(), cpu(server)
        captures = fetcher.fetch_many(urls)
        _step(
            "fetch pages",
            time.perf_counter() - started,
            cpu(server) - work,
            ideal(urls, args.rate),
            len(urls),
        )
        bad = [c for c in captures if not c.ok]
        if bad:
            raise SystemExit(f"{len(bad)} pages not fetched, e.g. {bad[0].url}: {bad[0].error}")
        started2, work2 = time.perf_counter(), cpu(server)
        kept = sum(1 for _ in keep_many(archive, captures, executor=executor))
        del captures
        _step(
            "keep pages (extract in the pool, store here)",
            time.perf_counter() - started2,
            cpu(server) - work2,
            None,
            kept,
        )
        started3, work3 = time.perf_counter(), cpu(server)
        rows = cited[: args.link_articles] if args.link_articles else cited
        links = [Link(url=url, text="source") for row in rows for url in row]
        sources = sorted({link.url for link in links})
        checked = check_and_keep(
            links,
            fetcher=fetcher,
            archive=archive,
            settings=LinkSettings(rescue=None, executor=executor),
        )
        statuses = Counter(c.status for c in checked.checks)
        name = f"check + keep {len(links):,} links ({len(sources):,} sources) {dict(statuses)}"
        _step(
            name,
            time.perf_counter() - started3,
            cpu(server) - work3,
            (len(sources) / len({s.split("/")[2] for s in sources}) + 2) / args.rate,
            len(sources),
        )
        total = time.perf_counter() - started
        whole = cpu(server) - work
        worker_peak = workers_peak_mib(server)
        del checked, links
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  whole live pass: {total:.1f} s, CPU {whole:.1f} s; peak memory of this process "
        f"(fetcher, writer, the run's lists) {peak:.0f} MiB, largest worker {worker_peak:.0f} "
        f"MiB; archive {size_mib(db):.0f} MiB "
        f"on disk ({size_mib(db) * 1024 / (kept + len(sources)):.1f} KiB a capture, "
        f"{kept + len(sources):,} captures)",
        flush=True,
    )
    db.unlink()


def offline(args: argparse.Namespace, folder: Path) -> None:
    count = args.offline
    print(f"(b) offline: {count:,} canonical copies never seen before", flush=True)
    copies = folder / "copies"
    copies.mkdir()
    db = folder / "offline.db"
    seed = SEED.read_text(encoding="utf-8")
    page = SEED_PAGE.read_bytes()
    document = extract(page, url=SEED_URL, content_type=HTML)
    paragraphs = list(document.paragraphs)
    started = time.perf_counter()
    with Archive(db, durable=False) as archive:
        for n in range(count):
            url = f"{SEED_URL}-{n}"
            text = seed.replace(SEED_URL, url)
            live_paragraphs = list(paragraphs)
            kind = n % 4
            if kind == 1:
                text = text.replace("large-scale violence", "large-scale force")
            elif kind == 2:
                text = text.replace("Russian business owners tend to form", "Russian owners form")
                live_paragraphs.pop(6)
            elif kind == 3:
                live_paragraphs = [f"Another story, paragraph {i}." for i in range(12)]
            sub = copies / f"batch-{n // args.batch:03d}"
            sub.mkdir(exist_ok=True)
            (sub / f"copy-{n:06d}.md").write_text(text, encoding="utf-8")
            capture = Capture(
                url=url,
                final_url=url,
                status=200,
                content_type=HTML,
                body=page.replace(SEED_URL.encode(), url.encode()),
                fetched_at="2026-12-01T00:00:00Z",
            )
            doc = replace(
                document,
                url=url,
                paragraphs=tuple(live_paragraphs),
                checksum=checksum(live_paragraphs),
                paragraph_hashes=paragraph_hashes(live_paragraphs),
            )
            archive.save_capture(capture, doc)
    on_disk = sum(p.stat().st_size for p in copies.rglob("*.md")) / MiB
    print(
        f"  set-up: {count:,} copies ({on_disk:.0f} MiB) and their captures "
        f"({size_mib(db):.0f} MiB archive) in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    batches = sorted(p for p in copies.iterdir() if p.is_dir())
    wall = work = peak = largest = 0.0
    summary: Counter[str] = Counter()
    size = 0
    for number, batch in enumerate(batches):
        command = [*ARCHIVER, "--db", str(db), "verify", str(batch), "--offline", "--json"]
        if args.workers > 1:
            command += ["--workers", str(args.workers)]
        out = folder / "verify.json"
        started = time.perf_counter()
        with out.open("w") as handle:
            child = subprocess.Popen(command, stdout=handle, stderr=subprocess.PIPE, text=True)
            used, top, worker = watch(child)
            _, errors = child.communicate()
        took = time.perf_counter() - started
        if child.returncode not in (0, 1):
            raise SystemExit(f"verify failed ({child.returncode}): {errors[-1000:]}")
        done = json.loads(out.read_text())["summary"]
        summary.update(done)
        wall, work, size = wall + took, work + used, size + out.stat().st_size
        peak, largest = max(peak, top), max(largest, worker)
        copies_in = sum(done.values())
        print(
            f"  batch {number + 1}/{len(batches)}: {copies_in:,} copies in {took:.1f} s "
            f"({copies_in / took:,.0f}/s), CPU {used:.1f} s, peak {top:.0f} MiB, "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    workers = f" --workers {args.workers}" if args.workers > 1 else ""
    print(
        f"  archiver verify --offline --json{workers}, {len(batches)} runs of {args.batch:,}: "
        f"{count:,} copies in {wall:.1f} s ({count / wall:,.0f} copies/s), CPU {work:.1f} s "
        f"({work / count * 1000:.2f} ms a copy, every process), peak memory {peak:.0f} MiB "
        f"(the command, a run of {min(args.batch, count):,} copies), largest worker "
        f"{largest:.0f} MiB; {dict(summary)}; JSON {size / MiB:.0f} MiB; "
        f"archive after {size_mib(db):.0f} MiB",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20_000)
    parser.add_argument("--links", type=int, default=10, help="links per copy (at most 13)")
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--rate", type=float, default=10.0, help="requests/s per host")
    parser.add_argument("--offline", type=int, default=100_000, help="copies of the offline pass")
    parser.add_argument(
        "--batch",
        type=int,
        default=10_000,
        help="copies per verify command (memory grows per copy)",
    )
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--quick", action="store_true", help="1,000 over 50 hosts; 5,000 offline")
    parser.add_argument(
        "--link-articles", type=int, default=None, help="check the links of the first N only"
    )
    parser.add_argument("--skip-live", action="store_true")
    parser.add_argument("--skip-offline", action="store_true")
    parser.add_argument("--dir", default=None, help="work folder (default: a temporary one)")
    args = parser.parse_args(argv)
    args.links = min(args.links, 13)
    if args.quick:
        args.copies, args.hosts, args.offline, args.batch = 1_000, 50, 5_000, 2_500
    free = shutil.disk_usage(args.dir or tempfile.gettempdir()).free / 2**30
    print(
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {args.workers} "
        f"workers; free disk {free:.0f} GiB",
        flush=True,
    )
    folder = Path(tempfile.mkdtemp(prefix="scale-", dir=args.dir))
    try:
        if not args.skip_live:
            live(args, folder)
        if not args.skip_offline:
            offline(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
