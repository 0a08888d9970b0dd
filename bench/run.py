"""Benchmark of ``archiver run``: 1,000 canonical copies and their sources on loopback hosts.

    .venv/bin/python -m bench.run [--copies 1000] [--latency 0.02] [--rate 20] [--connections 4]

Serves the articles from 4 news hosts and their 2,000 sources from 8 source hosts, each host on
its own loopback address answering after ``--latency`` seconds, and runs the real command in a
subprocess three times: cold (everything fetched), again at once (nothing due), and forced
(every page asked again with a conditional GET, every link rechecked). Printed beside each: the
*ideal* wall time that the politeness limits allow (the busiest host's requests at
``--rate`` a second, or its latency over ``--connections`` connections, whichever is longer),
and the peak memory of the run (``ru_maxrss`` of the child). For comparison, in the same run,
the one-shot ``archiver verify FOLDER`` (what a user would otherwise put in cron) over a sample
of the same copies, per copy.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from tests.run_web import Answer, NewsWeb, article, source_page

ROOT = Path(__file__).resolve().parent.parent
NEWS_HOSTS = 4
PR_SET_CHILD_SUBREAPER = 36
SOURCE_HOSTS = 8


def build(
    folder: Path, copies: int, stack: ExitStack, latency: float
) -> tuple[list[str], Counter[str]]:
    """Write the copies, start one server per host; return the routes and requests per host."""
    servers: dict[str, NewsWeb] = {}

    def server(host: str, address: str) -> NewsWeb:
        if host not in servers:
            web = stack.enter_context(NewsWeb(address))
            web.delay = latency
            servers[host] = web
        return servers[host]

    per_host: Counter[str] = Counter()
    for n in range(1, copies + 1):
        news = f"news{n % NEWS_HOSTS}.test"
        targets = []
        for k in range(2):
            source_host = f"src{(2 * n + k) % SOURCE_HOSTS}.test"
            url = f"https://{source_host}/doc-{n}-{k}"
            web = server(source_host, f"127.0.2.{1 + (2 * n + k) % SOURCE_HOSTS}")
            web.add(url, Answer(body=source_page(f"Document {n}-{k}")))
            targets.append((url, f"source {k} of {n}"))
            per_host[source_host] += 1
        url, markdown, page = article(n, news, targets)
        server(news, f"127.0.1.{1 + n % NEWS_HOSTS}").add(url, Answer(body=page))
        per_host[news] += 1
        (folder / f"story-{n:05d}.md").write_text(markdown, encoding="utf-8")
    routes = [f"{host}={web.address}" for host, web in servers.items()]
    return routes, per_host


def config_text(routes: list[str], rate: float, connections: int, force: bool) -> str:
    schedule = (
        '[schedule]\nrecent_every = "0s"\nold_every = "0s"\nlinks_live_every = "0s"\n'
        'links_broken_every = "0s"\n'
        if force
        else ""
    )
    return (
        '[archive]\ndb = "archive.db"\n\n[fetch]\n'
        f"per_host_rate = {rate}\nper_host_connections = {connections}\nmax_connections = 32\n"
        "timeout = 10\nretries = 0\nrespect_robots = false\nbatch = 128\n"
        f"connect_to = {json.dumps(routes)}\n\n{schedule}\n"
        '[[sources]]\ncanonical = "copies"\n'
    )


def adopt_orphans() -> None:
    """Become the subreaper of what the runs start (Linux), so their pool workers count.

    A run's worker processes are children of multiprocessing's fork server, which the run
    never waits for: without this their CPU goes to init and the figure leaves it out.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def reap_orphans() -> None:
    """Wait for the orphans handed to this process, so their CPU is in RUSAGE_CHILDREN."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)


def children_cpu() -> float:
    """CPU seconds (user + sys) of every child waited for so far, grandchildren included."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu() -> float:
    """CPU seconds of this process: the loopback servers answering the run."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(
    command: list[str], cwd: Path
) -> tuple[float, float, float, subprocess.CompletedProcess[str]]:
    """(wall seconds, CPU seconds of the child and its workers, of the servers, the process)."""
    cpu, servers = children_cpu(), own_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    servers = own_cpu() - servers
    reap_orphans()
    return wall, children_cpu() - cpu, servers, done


def peak_mib() -> float:
    """Peak resident memory of the largest child so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds each answer waits")
    parser.add_argument("--rate", type=float, default=20.0, help="per-host requests a second")
    parser.add_argument("--connections", type=int, default=4, help="per-host connections")
    parser.add_argument("--sample", type=int, default=50, help="copies for the verify baseline")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="`archiver run --workers N` (default: the run's own default, one per CPU)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="run the cold run under cProfile and write its stats to this file",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="where the copies and the archive go (default: the system's temporary folder); "
        "/dev/shm takes the disk's fsyncs out of the figure, to see what is left",
    )
    args = parser.parse_args()

    adopt_orphans()
    work = Path(tempfile.mkdtemp(prefix="bench-run-", dir=args.dir))
    archiver = [sys.executable, "-m", "archiver"]
    options = [] if args.workers is None else ["--workers", str(args.workers)]
    try:
        with ExitStack() as stack:
            (work / "copies").mkdir()
            routes, per_host = build(work / "copies", args.copies, stack, args.latency)
            busiest = max(per_host.values())
            ideal = max(busiest / args.rate, busiest * args.latency / args.connections)
            requests = sum(per_host.values())
            (work / "run.toml").write_text(config_text(routes, args.rate, args.connections, False))
            (work / "force.toml").write_text(config_text(routes, args.rate, args.connections, True))
            print(
                f"{args.copies} copies, {requests} requests over {len(per_host)} loopback hosts "
                f"(busiest {busiest}); latency {args.latency * 1000:.0f} ms; politeness "
                f"{args.rate:g} req/s and {args.connections} connections per host"
            )
            print(f"ideal wall time the politeness allows: {ideal:.1f} s\n")
            rows = []
            for label, config in [
                ("cold run", "run.toml"),
                ("again, nothing due", "run.toml"),
                ("forced recheck (304s)", "force.toml"),
            ]:
                command = [*archiver, "run", "--config", config, "--json", *options]
                if args.profile is not None and label == "cold run":
                    profile = ["-m", "cProfile", "-o", str(args.profile.resolve()), "-m"]
                    command = [sys.executable, *profile, "archiver", *command[3:]]
                wall, cpu, servers, done = timed(command, work)
                if done.returncode not in (0, 1):
                    print(done.stderr, file=sys.stderr)
                    return 1
                summary = json.loads(done.stdout)
                rows.append((label, wall, cpu, servers, os.getloadavg()[0], summary))
                if label == "cold run":
                    cold_peak = peak_mib()
            print(f"{'':24}{'wall s':>8}{'/ideal':>8}{'CPU s':>7}{'servers':>8}{'load':>6}"
                  f"{'visited':>9}{'captures':>10}{'304s':>6}{'links':>7}")  # fmt: skip
            for label, wall, cpu, servers, load, summary in rows:
                links = sum(summary["links"].values())
                ratio = f"{wall / ideal:.2f}" if summary["items"]["visited"] else "-"
                print(
                    f"{label:24}{wall:8.1f}{ratio:>8}{cpu:7.1f}{servers:8.1f}{load:6.1f}"
                    f"{summary['items']['visited']:9d}{summary['captures']:10d}"
                    f"{summary['not_modified']:6d}{links:7d}"
                )
            print(
                f"\npeak memory of the cold run: {cold_peak:.0f} MiB (ru_maxrss of the largest "
                "process: the run or one of its workers); CPU: the run and its workers; servers: "
                "the loopback servers' CPU (this process); load: the 1-minute load average after "
                "the run (2 cores)"
            )

            sample = work / "sample"
            sample.mkdir()
            for path in sorted((work / "copies").glob("*.md"))[: args.sample]:
                shutil.copy(path, sample / path.name)
            route_args = [a for r in routes for a in ("--connect-to", r)]
            polite = ["--per-host-rate", str(args.rate), "--per-host-connections",
                      str(args.connections)]  # fmt: skip
            wall, _, _, done = timed(
                [*archiver, "--db", str(work / "verify.db"), "verify", "sample", "--json",
                 *polite, *route_args],
                work,
            )  # fmt: skip
            if done.returncode not in (0, 1):
                print(done.stderr, file=sys.stderr)
                return 1
            cold = rows[0][1]
            per_run = cold / args.copies
            per_verify = wall / args.sample
            print(
                f"\nbaseline `archiver verify FOLDER` on {args.sample} of the copies: {wall:.1f} s "
                f"= {per_verify * 1000:.0f} ms a copy; `archiver run` cold: "
                f"{per_run * 1000:.0f} ms a copy ({per_verify / per_run:.1f}x faster)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
