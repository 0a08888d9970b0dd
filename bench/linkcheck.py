"""bench/linkcheck: `archiver links` beside linkchecker on 600 links over 12 loopback hosts.

Twelve HTTP servers (127.0.0.2 ... 127.0.0.13) each serve 50 pages and answer every request
after 50 ms; a thirteenth (127.0.0.14) serves the page that lists all 600 links. Both tools check
that page's links at linkchecker's default per-host rate, 10 requests a second per host, and the
servers count what they saw: requests, the most connections open at once and the most requests
started within any one second, per host.

The floor is what the politeness limits allow for the requests that must be sent, each host
at ``--rate`` from its first request, every answer ``--delay`` late: the index host's
robots.txt and then the index page (2 requests: 1/rate + delay before any link is known),
then on every link host its robots.txt, its 50 pages and one probe of a path that cannot exist
(the soft-404 check of a host that answers 2xx; 52 requests: 51/rate + delay). With the
defaults that is 0.15 + 5.15 = 5.30 s, of which 5.0 s are the 50 pages alone. The run fails
(exit 1) if any host saw more than ``--rate`` requests start within one second.

    .venv/bin/python -m bench.linkcheck [--links 600] [--hosts 12] [--delay 0.05] [--rate 10]

Run it through ``make bench`` (which installs the ``bench`` extra with linkchecker). Nothing
leaves the machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@dataclass
class HostStats:
    """What one server saw, measured where a site owner would measure it."""

    requests: int = 0
    open_connections: int = 0
    max_connections: int = 0
    inflight: int = 0
    max_inflight: int = 0
    starts: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def connection(self, delta: int) -> None:
        with self.lock:
            self.open_connections += delta
            self.max_connections = max(self.max_connections, self.open_connections)

    def request(self, delta: int) -> None:
        with self.lock:
            self.inflight += delta
            self.max_inflight = max(self.max_inflight, self.inflight)
            if delta > 0:
                self.requests += 1
                self.starts.append(time.monotonic())

    def max_in_one_second(self) -> int:
        """The most requests that arrived within any half-open second [t, t + 1)."""
        starts, best, j = sorted(self.starts), 0, 0
        for i, start in enumerate(starts):
            while j < len(starts) and starts[j] < start + 1.0:
                j += 1
            best = max(best, j - i)
        return best

    def mean_rate(self) -> float:
        """Requests a second from the first arrival to the last."""
        if len(self.starts) < 2:
            return 0.0
        return (len(self.starts) - 1) / (max(self.starts) - min(self.starts))


#: (status, headers, body, extra delay) of one case of the verdict comparison.
Case = tuple[int, tuple[tuple[str, str], ...], str, float]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def setup(self) -> None:
        super().setup()
        self.server.stats.connection(+1)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.stats.connection(-1)

    def _answer(self, with_body: bool) -> None:
        self.server.stats.request(+1)
        try:
            time.sleep(self.server.delay)
            case = self.server.cases.get(self.path)
            body = self.server.pages.get(self.path)
            status, headers, delay = 200 if body is not None else 404, (), 0.0
            if case is not None:
                status, headers, body, delay = case
            elif body is None and self.server.fallback is not None:
                status, body = 200, self.server.fallback
            time.sleep(delay)
            data = (body or "<html><title>Not Found</title></html>").encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            if with_body:
                self.wfile.write(data)
        finally:
            self.server.stats.request(-1)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(False)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: str, pages: dict[str, str], delay: float) -> None:
        super().__init__((address, 0), _Handler)
        self.pages = pages
        self.delay = delay
        self.stats = HostStats()
        self.cases: dict[str, Case] = {}
        self.fallback: str | None = None  # a catch-all host answers this to unknown paths

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


def _page(host: int, number: int) -> str:
    return (
        f"<!DOCTYPE html><html><head><title>Story {number} on host {host}</title></head>"
        f"<body><article><h1>Story {number} on host {host}</h1><p>The text of story {number}, "
        f"kept on host {host}, with words enough to be an article.</p></article></body></html>"
    )


class Web:
    """The 12 link hosts and the index host, started and stopped together."""

    def __init__(self, *, links: int, hosts: int, delay: float) -> None:
        self.servers: list[_Server] = []
        for n in range(hosts):
            pages = {f"/story/{i}": _page(n, i) for i in range(links) if i % hosts == n}
            self.servers.append(_Server(f"127.0.0.{2 + n}", pages, delay))
        self.urls = []
        for i in range(links):
            server = self.servers[i % hosts]
            host, port = server.server_address[:2]
            self.urls.append(f"http://{host!s}:{port}/story/{i}")
        paragraphs = "".join(
            f'<p>Paragraph {i} of the citing article cites <a href="{url}">source number {i}</a> '
            "as its evidence for what it says.</p>"
            for i, url in enumerate(self.urls)
        )
        index = (
            "<!DOCTYPE html><html><head><title>An article citing 600 sources</title></head>"
            f"<body><article><h1>An article citing many sources</h1>{paragraphs}</article>"
            "</body></html>"
        )
        self.index_server = _Server(f"127.0.0.{2 + hosts}", {"/index.html": index}, delay)
        host, port = self.index_server.server_address[:2]
        self.index = f"http://{host!s}:{port}/index.html"
        self._threads = [
            threading.Thread(target=s.serve_forever, daemon=True)
            for s in [*self.servers, self.index_server]
        ]

    def reset(self) -> None:
        for server in [*self.servers, self.index_server]:
            server.stats = HostStats()

    def stats(self) -> dict[str, int]:
        """The worst host: most connections at once, most requests within a second."""
        per_host = [server.stats for server in self.servers]
        return {
            "requests": sum(s.requests for s in per_host),
            "max_connections_per_host": max(s.max_connections for s in per_host),
            "max_inflight_per_host": max(s.max_inflight for s in per_host),
            "max_requests_in_1s_per_host": max(s.max_in_one_second() for s in per_host),
            "max_mean_rate_per_host": round(max(s.mean_rate() for s in per_host), 2),
        }

    def __enter__(self) -> Web:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in [*self.servers, self.index_server]:
            server.shutdown()
            server.server_close()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = env["no_proxy"] = "*"
    return env


def children_cpu() -> float:
    """CPU seconds (user + system) of the child processes that have ended."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def politeness_floor(links: int, hosts: int, rate: float, delay: float) -> float:
    """The earliest the check can end within the limits (see the module's docstring)."""
    per_host = -(-links // hosts)  # the busiest host
    index = 1 / rate + delay  # robots.txt of the index host, then the index page
    return index + (per_host + 2 - 1) / rate + delay  # robots.txt, pages, one probe


def run_archiver(web: Web, rate: float, workdir: str) -> tuple[float, dict[str, Any]]:
    db = os.path.join(workdir, "bench.db")
    command = [
        sys.executable, "-m", "archiver", "--db", db, "links", web.index, "--json",
        "--per-host-rate", str(rate), "--no-archive-lookup",
    ]  # fmt: skip
    from bench.scale_archive import watch

    started = time.perf_counter()
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
    )
    out: list[str] = []
    reader = threading.Thread(
        target=lambda: out.append(child.stdout.read() if child.stdout else "")
    )
    reader.start()
    cpus: list[float] = []  # the command and its pool's workers, sampled every 0.1 s
    watcher = threading.Thread(target=lambda: cpus.append(watch(child, every=0.1)[0]))
    watcher.start()
    # The wall time ends when the process does (as `time` says), not at the watcher's next
    # 0.1 s poll, which added 0-0.1 s to archiver's time alone.
    child.wait()
    elapsed = time.perf_counter() - started
    reader.join()
    watcher.join()
    errors = child.stderr.read() if child.stderr else ""
    cpu = cpus[0] if cpus else 0.0
    if child.returncode not in (0, 1):
        raise SystemExit(f"archiver links failed ({child.returncode}): {errors[-2000:]}")
    summary = json.loads(out[0])["summary"]
    return elapsed, {"exit": child.returncode, "summary": summary, "cpu": round(cpu, 2)}


def run_archiver_stored(web: Web, rate: float, workdir: str) -> tuple[float, dict[str, Any]]:
    """The same check of a page archived beforehand (``links CAPTURE_ID``): no fetch, no extract."""
    db = os.path.join(workdir, "stored.db")
    snap = [sys.executable, "-m", "archiver", "--db", db, "snapshot", web.index, "--no-links",
            "--json", "--per-host-rate", str(rate)]  # fmt: skip
    done = subprocess.run(snap, capture_output=True, text=True, env=_env(), check=False)
    if done.returncode != 0:
        raise SystemExit(f"archiver snapshot failed ({done.returncode}): {done.stderr[-2000:]}")
    capture_id = json.loads(done.stdout)["snapshots"][0]["capture_id"]
    command = [sys.executable, "-m", "archiver", "--db", db, "links", str(capture_id), "--json",
               "--per-host-rate", str(rate), "--no-archive-lookup"]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=_env(), check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"archiver links failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, {"exit": done.returncode, "summary": json.loads(done.stdout)["summary"]}


def _linkchecker_config(workdir: str, rate: float) -> str:
    """A linkcheckerrc in ``workdir`` holding linkchecker to ``rate`` requests a second."""
    config = os.path.join(workdir, "linkcheckerrc")
    with open(config, "w", encoding="utf-8") as handle:
        handle.write(f"[checking]\nmaxrequestspersecond={rate:g}\n")
    os.chmod(config, 0o644)
    os.chmod(workdir, 0o755)  # linkchecker drops root privileges to "nobody"
    return config


def run_linkchecker(web: Web, rate: float, workdir: str) -> tuple[float, dict[str, Any]] | None:
    exe = shutil.which("linkchecker", path=str(Path(sys.executable).parent)) or shutil.which(
        "linkchecker"
    )
    if exe is None:
        return None
    config = _linkchecker_config(workdir, rate)
    command = [exe, "-f", config, "--check-extern", "-r", "1", "--no-status", web.index]
    started, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run(command, capture_output=True, text=True, env=_env(), check=False)
    elapsed, cpu = time.perf_counter() - started, children_cpu() - cpu
    match = re.search(
        r"(\d+) links? in (\d+) URLs? checked.*?(\d+) errors? found", done.stdout, re.S
    )
    return elapsed, {
        "exit": done.returncode,
        "summary": match.group(0).replace("\n", " ") if match else done.stdout[-500:],
        "cpu": round(cpu, 2),
    }


def _doc(title: str, text: str) -> str:
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>"  # noqa: E501


#: The cases of the issue: (path on the news host or "catchall:" path, what it answers, verdict).
CASES: list[tuple[str, Case, str]] = [
    ("/ok", (200, (), _doc("A real story", "Words of a real story."), 0.0), "ok"),
    ("/missing", (404, (), "<title>Not Found</title>", 0.0), "not_found"),
    ("/gone", (410, (), "<title>Gone</title>", 0.0), "gone"),
    ("/error-page", (200, (), _doc("Page not found", "Try the search box."), 0.0), "soft_404"),
    ("/2017/03/deep-story", (301, (("Location", "/"),), "", 0.0), "soft_404"),
    # a login wall: a suspect, not a soft 404 (docs/contract.md)
    ("/members/story", (302, (("Location", "/login?next=story"),), "", 0.0), "blocked"),
    ("catchall:/2017/03/vanished", (0, (), "", 0.0), "soft_404"),
    ("catchall:/2017/03/real-story", (200, (), _doc("Real", "A real page. " * 40), 0.0), "ok"),
    ("/down", (503, (), "<title>Service Unavailable</title>", 0.0), "server_error"),
    ("/forbidden", (403, (), "<title>Forbidden</title>", 0.0), "blocked"),
    ("/busy", (429, (("Retry-After", "0"),), "", 0.0), "rate_limited"),
    ("/slow", (200, (), _doc("Slow", "Late."), 1.6), "timeout"),
]


def compare_verdicts(rate: float, workdir: str) -> None:
    """The issue's cases, checked by both tools: who catches soft 404s, who cries wolf.

    The cases sit on the index page's own host, whose own links the article-link rules leave
    out of a page like this one (lines of same-site links read as teasers), so ``archiver
    links`` is run with ``--all``: every link of the page, as linkchecker checks.
    """
    news, catchall = _Server("127.0.0.2", {}, 0.0), _Server("127.0.0.3", {}, 0.0)
    catchall.fallback = _doc("Catch All Daily", "Welcome! Read our latest headlines today.")
    urls = []
    for path, case, _ in CASES:
        server = catchall if path.startswith("catchall:") else news
        path = path.removeprefix("catchall:")
        if case[0]:
            server.cases[path] = case
        host, port = server.server_address[:2]
        urls.append(f"http://{host!s}:{port}{path}")
    news.cases["/"] = (200, (), _doc("News front page", "Today's headlines."), 0.0)
    news.cases["/login?next=story"] = (200, (), _doc("Sign in", "Members only."), 0.0)
    items = "".join(f'<p>Source {i}: <a href="{u}">case {i}</a>.</p>' for i, u in enumerate(urls))
    news.cases["/index.html"] = (
        200,
        (),
        f"<html><body><article>{items}</article></body></html>",
        0,
    )
    host, port = news.server_address[:2]
    index = f"http://{host!s}:{port}/index.html"
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (news, catchall)]
    for thread in threads:
        thread.start()
    try:
        ours = subprocess.run(
            [sys.executable, "-m", "archiver", "--db", os.path.join(workdir, "cases.db"),
             "links", index, "--all", "--json", "--per-host-rate", str(rate), "--timeout", "1",
             "--no-archive-lookup"],
            capture_output=True, text=True, env=_env(), check=False,
        )  # fmt: skip
        found = {x["url"]: x for x in json.loads(ours.stdout)["links"]}
        theirs = _linkchecker_results(index, rate, workdir)
    finally:
        for server in (news, catchall):
            server.shutdown()
            server.server_close()
    print("\nverdicts on the issue's cases (broken = what each tool reports as a dead link):")
    print(f"  {'case':<30} {'expected':<13} {'archiver':<24} linkchecker")
    caught = {"archiver": 0, "linkchecker": 0}
    wolf = {"archiver": 0, "linkchecker": 0}
    soft = sum(expected == "soft_404" for _, _, expected in CASES)
    transient = sum(expected in ("server_error", "timeout", "blocked", "rate_limited")
                    for _, _, expected in CASES)  # fmt: skip
    for (path, _, expected), url in zip(CASES, urls, strict=True):
        mine = found.get(url, {})
        word = f"{mine.get('status')}{' BROKEN' if mine.get('broken') else ''}"
        other = theirs.get(url) if theirs is not None else None
        other_word = "-" if other is None else ("error" if not other else "valid")
        print(f"  {path:<30} {expected:<13} {word:<24} {other_word}")
        if expected == "soft_404":
            caught["archiver"] += bool(mine.get("broken"))
            caught["linkchecker"] += other is False
        if expected in ("server_error", "timeout", "blocked", "rate_limited"):
            wolf["archiver"] += bool(mine.get("broken"))
            wolf["linkchecker"] += other is False
    print(
        f"  soft 404s caught: archiver {caught['archiver']}/{soft}, "
        f"linkchecker {caught['linkchecker']}/{soft}; transient failures called broken on one "
        f"check: archiver {wolf['archiver']}/{transient}, linkchecker {wolf['linkchecker']}/"
        f"{transient}" + ("" if theirs is not None else " (linkchecker not installed)")
    )


def _linkchecker_results(index: str, rate: float, workdir: str) -> dict[str, bool] | None:
    """linkchecker's verdict per URL (True: valid), from its CSV output."""
    exe = shutil.which("linkchecker", path=str(Path(sys.executable).parent))
    if exe is None:
        return None
    config = _linkchecker_config(workdir, rate)
    done = subprocess.run(
        [exe, "-f", config, "--check-extern", "-r", "1", "--no-status", "--timeout", "1", "-v",
         "-o", "csv", index],
        capture_output=True, text=True, env=_env(), check=False,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line and not line.startswith("#")]
    results: dict[str, bool] = {}
    for row in csv.DictReader(lines, delimiter=";"):
        url = row.get("url") or row.get("urlname") or ""
        results[row.get("urlname") or url] = row.get("valid", "").strip().lower() == "true"
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=600)
    parser.add_argument("--hosts", type=int, default=12)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--no-cases", action="store_true", help="Skip the verdict comparison.")
    args = parser.parse_args(argv)
    floor = politeness_floor(args.links, args.hosts, args.rate, args.delay)
    pages = -(-args.links // args.hosts) / args.rate
    print(
        f"{args.links} links on {args.hosts} loopback hosts, each answer delayed "
        f"{args.delay * 1000:.0f} ms, {args.rate:g} requests/s per host; politeness floor "
        f"{floor:.2f} s (index + robots.txt + pages + one probe per host; the pages alone "
        f"{pages:.1f} s); load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    with (
        tempfile.TemporaryDirectory() as workdir,
        Web(links=args.links, hosts=args.hosts, delay=args.delay) as web,
    ):
        ours, our_result = run_archiver(web, args.rate, workdir)
        our_stats = web.stats()
        web.reset()
        theirs = run_linkchecker(web, args.rate, workdir)
        their_stats = web.stats()
        web.reset()
        stored, stored_result = run_archiver_stored(web, args.rate, workdir)
        stored_stats = web.stats()
    print(
        f"archiver links : {ours:6.2f} s = {ours / floor:.2f}x the floor, "
        f"{our_result['cpu']:.2f} s CPU  {our_result['summary']}  server saw {our_stats}"
    )
    too_fast = our_stats["max_requests_in_1s_per_host"] > args.rate
    if theirs is None:
        print("linkchecker    : not installed (pip install -e '.[bench]'); no ratio")
        return _politeness_verdict(too_fast, our_stats, args.rate)
    their_time, their_result = theirs
    print(
        f"linkchecker    : {their_time:6.2f} s = {their_time / floor:.2f}x the floor, "
        f"{their_result['cpu']:.2f} s CPU  {their_result['summary']}  server saw {their_stats}"
    )
    print(
        f"archiver links CAPTURE_ID (page archived beforehand): {stored:6.2f} s  "
        f"{stored_result['summary']}  server saw {stored_stats}"
    )
    print(f"ratio archiver/linkchecker wall time: {ours / their_time:.2f} (target <= 0.25)")
    print(f"ratio with the page archived beforehand: {stored / their_time:.2f}")
    if not args.no_cases:
        with tempfile.TemporaryDirectory() as workdir:
            compare_verdicts(args.rate, workdir)
    print(
        "at the server, the busiest host saw from archiver at most "
        f"{our_stats['max_requests_in_1s_per_host']} requests within one second and "
        f"{our_stats['max_mean_rate_per_host']} requests/s on average "
        f"(limit {args.rate:g}/s; arrival jitter of a few ms can put one more start inside a "
        "one-second window than a schedule of exactly 1/rate apart)"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return _politeness_verdict(too_fast, our_stats, args.rate)


def _politeness_verdict(too_fast: bool, stats: dict[str, Any], rate: float) -> int:
    """1 (and why) if a host saw archiver start more than ``rate`` requests within a second."""
    if too_fast:
        print(
            f"IMPOLITE: a host saw {stats['max_requests_in_1s_per_host']} requests from archiver "
            f"start within one second (limit {rate:g})"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
