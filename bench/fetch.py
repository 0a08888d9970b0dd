"""Pages per second against loopback hosts that answer after 50 ms, beside what the limits allow.

    .venv/bin/python -m bench.fetch [--hosts 4] [--latency 0.05]

Runs, in one process and against the same servers:

* the archiver's fetcher at its default (polite) limits and at raised ones, each beside the
  *ideal*: the rate its limits allow (per host the lower of ``per_host_rate`` and
  ``per_host_connections / latency``, summed over hosts, capped by ``max_connections /
  latency``), with robots.txt counted as one more request per host;
* what a user would otherwise write: ``requests.get`` in a loop, and ``requests`` in a
  16-thread pool with no limits at all (fast, and what site owners block).

The server counts, on its side, the most simultaneous requests each host saw.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import requests

from archiver.fetch.fetcher import Fetcher, FetchPolicy
from tests.misbehaving_server import MisbehavingServer, serve


def ideal_seconds(policy: FetchPolicy, pages_per_host: int, latency: float, hosts: int) -> float:
    """The shortest time the limits allow for the run (robots.txt included)."""
    requests_per_host = pages_per_host + (1 if policy.respect_robots else 0)
    per_host_rate = min(policy.per_host_rate, policy.per_host_connections / latency)
    global_rate = policy.max_connections / latency
    rate = min(per_host_rate, global_rate / hosts)
    return (requests_per_host - 1) / rate + latency


def run_fetcher(servers: list[MisbehavingServer], policy: FetchPolicy, pages: int) -> float:
    urls = [f"{srv.base}/page{i}" for i in range(pages) for srv in servers]
    with Fetcher(policy) as fetcher:
        started = time.perf_counter()
        captures = fetcher.fetch_many(urls)
        took = time.perf_counter() - started
    bad = [c for c in captures if c.status != 200]
    if bad:
        raise SystemExit(f"bench: {len(bad)} pages failed, e.g. {bad[0].error} {bad[0].detail}")
    return took


def run_loop(servers: list[MisbehavingServer], pages: int) -> float:
    urls = [f"{srv.base}/page{i}" for i in range(pages) for srv in servers]
    with requests.Session() as session:
        session.trust_env = False
        started = time.perf_counter()
        for url in urls:
            session.get(url, timeout=10).raise_for_status()
        return time.perf_counter() - started


def run_pool(servers: list[MisbehavingServer], pages: int, threads: int = 16) -> float:
    urls = [f"{srv.base}/page{i}" for i in range(pages) for srv in servers]
    with requests.Session() as session, ThreadPoolExecutor(threads) as pool:
        session.trust_env = False
        started = time.perf_counter()
        for response in pool.map(lambda u: session.get(u, timeout=10), urls):
            response.raise_for_status()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--polite-pages", type=int, default=6, help="pages per host, defaults")
    parser.add_argument("--pages", type=int, default=100, help="pages per host, raised limits")
    args = parser.parse_args()
    hosts = [f"127.0.0.{i + 2}" for i in range(args.hosts)]
    default = FetchPolicy()
    raised = replace(default, per_host_rate=100.0, per_host_connections=8, max_connections=32)

    rows: list[tuple[str, int, float, float | None, int]] = []

    def measure(
        name: str, pages: int, job: Callable[[list[MisbehavingServer]], float], ideal: float | None
    ) -> None:
        servers: list[MisbehavingServer] = []
        contexts = [serve(host, latency=args.latency) for host in hosts]
        try:
            servers = [context.__enter__() for context in contexts]
            took = job(servers)
            peak = max(srv.stats.max_active_requests for srv in servers)
        finally:
            for context in reversed(contexts):
                context.__exit__(None, None, None)
        rows.append((name, pages * len(hosts), took, ideal, peak))

    n = args.polite_pages
    measure(
        "archiver, default limits",
        n,
        lambda s: run_fetcher(s, default, n),
        ideal_seconds(default, n, args.latency, len(hosts)),
    )
    m = args.pages
    measure(
        "archiver, raised limits",
        m,
        lambda s: run_fetcher(s, raised, m),
        ideal_seconds(raised, m, args.latency, len(hosts)),
    )
    loop_pages = max(1, m // 4)
    measure("requests.get in a loop", loop_pages, lambda s: run_loop(s, loop_pages), None)
    measure("requests, 16 threads, no limits", m, lambda s: run_pool(s, m), None)

    print(f"{len(hosts)} loopback hosts, {args.latency * 1000:.0f} ms per answer")
    print(f"default: {default.per_host_rate:g} req/s/host, {default.per_host_connections} conns")
    print(f"raised:  {raised.per_host_rate:g} req/s/host, {raised.per_host_connections} conns")
    print()
    header = f"{'run':34} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'ideal/s':>8} {'of ideal':>8}"
    print(header + f" {'max conc./host':>14}")
    for name, pages, took, ideal, peak in rows:
        rate = pages / took
        if ideal is not None:
            ideal_rate = pages / ideal
            tail = f"{ideal_rate:8.1f} {rate / ideal_rate:8.0%}"
        else:
            tail = f"{'-':>8} {'-':>8}"
        print(f"{name:34} {pages:6d} {took:8.2f} {rate:8.1f} {tail} {peak:14d}")
    raised_rate, loop_rate, pool_rate = (rows[i][1] / rows[i][2] for i in (1, 2, 3))
    print()
    print(f"raised limits vs requests loop: {raised_rate / loop_rate:.1f}x")
    print(f"raised limits vs unlimited pool: {raised_rate / pool_rate:.2f}x")


if __name__ == "__main__":
    main()
