"""The fetch stage under faults and hostile input (issue 14, items 2, 3, 8, 9, 11; issue 11's
one URL predicate and one door for HTTP).

Real processes where it matters: the DNS cases run in a network namespace (``unshare -rn``:
the resolver cannot be reached, EAI_AGAIN) and in ``isolated.sh`` (a resolver that answers
NXDOMAIN); the signal cases send SIGTERM to a real child process. Servers are raw sockets on
loopback, so each answers exactly as badly as the test needs.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
import responses
import urllib3.exceptions
from click.testing import CliRunner

from archiver.cli import cli
from archiver.errors import ConfigError, InputError, NetworkUnavailable
from archiver.fetch.fetcher import Fetcher, FetchPolicy
from archiver.runs.config import parse_config
from tests.conftest import FAST_POLICY
from tests.fetch.rawserver import answer, raw_server

ROOT = Path(__file__).resolve().parents[2]
ISOLATED = Path("/work/shared/tools/isolated.sh")
FAST = replace(FAST_POLICY, respect_robots=False)


def _namespace_works(*command: str) -> bool:
    if shutil.which(command[0]) is None and not Path(command[0]).exists():
        return False
    try:
        probe = subprocess.run([*command, "true"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


needs_unshare = pytest.mark.skipif(
    not _namespace_works("unshare", "-rn"),
    reason="unshare -rn (user + network namespaces) cannot be made here",
)
needs_isolated = pytest.mark.skipif(
    not ISOLATED.exists() or not _namespace_works(str(ISOLATED)),
    reason="../shared/tools/isolated.sh (a namespace whose resolver says NXDOMAIN) is missing "
    "or cannot make its namespace here",
)


def _child(script: str, *, wrapper: list[str] | None = None, **kw: object) -> list[str]:
    command = [sys.executable, "-c", textwrap.dedent(script)]
    return [*(wrapper or []), *command]


# -- issue 11: webhooks through the one door ----------------------------------------------------


def test_a_webhook_goes_through_the_fetcher_with_its_routes_and_user_agent() -> None:
    from archiver.runs import notify

    ok = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
    with raw_server(answer(ok)) as (base, seen):
        routes = {"hooks.example": base.removeprefix("http://")}
        notify.post_webhook(
            "https://hooks.example/x", {"run_id": 7}, timeout=2, policy=FAST, routes=routes
        )
    request = seen[0].decode()
    assert request.startswith("POST /x HTTP/1.1")
    assert "\r\nHost: hooks.example\r\n" in request
    assert f"User-Agent: {FAST.user_agent}" in request and "+https://" in request
    assert json.loads(request.partition("\r\n\r\n")[2]) == {"event": "archiver.run", "run_id": 7}


def test_post_is_counted_and_a_refused_webhook_is_one_plain_line() -> None:
    from archiver.runs import notify

    with raw_server(answer(b"")) as (base, _):
        pass  # gone: nothing listens there now
    with Fetcher(FAST) as fetcher:
        refused = fetcher.post(base + "/hook", b"{}")
        assert fetcher.traffic().nothing_answered
    assert refused.error == "connection_error"
    with pytest.raises(OSError) as caught:
        notify.post_webhook(base + "/hook", {}, timeout=1, policy=FAST)
    assert f"connection refused by {base.removeprefix('http://')}" in str(caught.value)
    assert "Pool" not in str(caught.value) and "Error" not in str(caught.value)


# -- issue 14 item 2: a resolver failure is not a dead name -------------------------------------


def _name_error(code: int, text: str) -> requests.exceptions.ConnectionError:
    error = urllib3.exceptions.NameResolutionError(
        "flaky.example",
        None,
        socket.gaierror(code, text),  # type: ignore[arg-type]
    )
    return requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/", error))  # type: ignore[arg-type]


@responses.activate
def test_temporary_resolver_failure_is_a_suspect_not_dns_error() -> None:
    responses.add(
        responses.GET,
        "http://flaky.example/",
        body=_name_error(socket.EAI_AGAIN, "Temporary failure in name resolution"),
    )
    responses.add(
        responses.GET,
        "http://gone.example/",
        body=_name_error(socket.EAI_NONAME, "Name or service not known"),
    )
    with Fetcher(replace(FAST, retries=0)) as fetcher:
        flaky = fetcher.fetch("http://flaky.example/")
        gone = fetcher.fetch("http://gone.example/")
    assert flaky.error == "connection_error"
    assert "temporary failure in name resolution" in flaky.detail
    assert gone.error == "dns_error" and "does not exist" in gone.detail


DNS_SCRIPT = """
import contextlib
import json
from archiver.fetch.fetcher import Fetcher, FetchPolicy
from archiver.links.check import BROKEN
with Fetcher(FetchPolicy(retries=0, timeout=3, respect_robots=False)) as f:
    c = f.fetch("https://no-such-host.example/")
print(json.dumps([c.error, BROKEN[c.error], c.detail]))
"""


@needs_unshare
def test_no_resolver_in_a_namespace_is_a_suspect() -> None:
    """``unshare -rn``: the resolver cannot be reached, getaddrinfo says EAI_AGAIN."""
    done = subprocess.run(
        _child(DNS_SCRIPT, wrapper=["unshare", "-rn"]),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    error, broken, detail = json.loads(done.stdout)
    assert (error, broken) == ("connection_error", False), detail
    assert "Error" not in detail and "(" not in detail.split(":")[0]


@needs_isolated
def test_nxdomain_in_a_namespace_is_dns_error() -> None:
    """``isolated.sh``: a resolver on loopback answers NXDOMAIN, getaddrinfo says EAI_NONAME."""
    done = subprocess.run(
        _child(DNS_SCRIPT, wrapper=[str(ISOLATED)]),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    error, broken, detail = json.loads(done.stdout)
    assert (error, broken) == ("dns_error", True), detail
    assert "no such host: no-such-host.example" in detail


# -- issue 14 item 3: a signal ends a fetch that is waiting to retry ----------------------------


SIGNAL_SCRIPT = """
import signal, sys, time
from archiver.fetch.fetcher import Fetcher, FetchPolicy

def interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")

signal.signal(signal.SIGTERM, interrupt)  # as a run does
policy = FetchPolicy(
    retries=10, retry_after_cap=300, backoff_base=60, backoff_max=600,
    per_host_rate=100, respect_robots=False, timeout=5,
)
base = sys.argv[1]
with Fetcher(policy) as fetcher:
    print("fetching", flush=True)
    try:
        fetcher.fetch_many([base + "/a", base + "/b", base + "/c"])
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
print("finished", flush=True)
"""


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 503 Busy\r\nRetry-After: 300\r\nContent-Length: 0\r\n\r\n",  # Retry-After
        b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n",  # jittered backoff of 30-60 s
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome",  # a body that stops coming
    ],
    ids=["retry-after", "backoff", "stalled-body"],
)
def test_sigterm_ends_a_waiting_fetch_within_a_second(reply: bytes) -> None:
    with raw_server(answer(reply, then=30)) as (base, seen):
        child = subprocess.Popen(
            [*_child(SIGNAL_SCRIPT), base],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "fetching"
            deadline = time.monotonic() + 10
            while len(seen) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)  # the workers are now waiting: to retry, or for the body
            sent = time.monotonic()
            child.send_signal(signal.SIGTERM)
            try:
                out, err = child.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                out, err = "", "still running 10 s after SIGTERM"
            took = time.monotonic() - sent
        finally:
            child.kill()
            child.wait()
    assert "interrupted" in out, err
    assert child.returncode == 130
    assert took < 1.5, f"a waiting fetch ran on {took:.1f} s after SIGTERM"


@contextlib.contextmanager
def unanswered_port(host: str = "127.0.0.2") -> Iterator[str]:
    """A port whose accept queue is full: a new connection hangs in connect (SYNs dropped)."""
    listener = socket.socket()
    listener.bind((host, 0))
    listener.listen(0)
    fill = []
    for _ in range(3):
        conn = socket.socket()
        conn.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            conn.connect(listener.getsockname())
        fill.append(conn)
    try:
        yield f"http://{host}:{listener.getsockname()[1]}"
    finally:
        for conn in fill:
            conn.close()
        listener.close()


def test_sigterm_ends_a_fetch_that_is_still_connecting() -> None:
    """Connecting is bounded by connect_timeout (here 5 s), not by the stop: the interrupted
    run still ends at once, because the worker that waits on connect() holds nothing open."""
    with unanswered_port() as base:
        probe = socket.socket()
        probe.settimeout(0.5)
        with pytest.raises(OSError):  # the trick works here: connect() hangs
            probe.connect((base.split("//")[1].split(":")[0], int(base.rsplit(":", 1)[1])))
        probe.close()
        child = subprocess.Popen(
            [*_child(SIGNAL_SCRIPT), base],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "fetching"
            time.sleep(1.0)  # the workers are in connect()
            sent = time.monotonic()
            child.send_signal(signal.SIGTERM)
            try:
                out, err = child.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                out, err = "", "still running 10 s after SIGTERM"
            took = time.monotonic() - sent
        finally:
            child.kill()
            child.wait()
    assert "interrupted" in out, err
    assert took < 1.5, f"a connecting fetch held the process {took:.1f} s after SIGTERM"


def test_fetcher_stop_ends_waits_in_every_thread() -> None:
    reply = b"HTTP/1.1 503 Busy\r\nRetry-After: 200\r\nContent-Length: 0\r\n\r\n"
    policy = replace(FAST, retries=3, retry_after_cap=300)
    with raw_server(answer(reply)) as (base, seen), Fetcher(policy) as fetcher:
        threading.Timer(0.5, fetcher.stop).start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            fetcher.fetch_many([base + "/a", base + "/b"])
        assert time.monotonic() - started < 1.5
        assert fetcher.stopped


@pytest.mark.parametrize(
    ("field", "value"),
    [("retries", 11), ("retries", 1000), ("retries", -1), ("retry_after_cap", 301.0)],
)
def test_retries_and_retry_after_are_bounded(field: str, value: float) -> None:
    with pytest.raises(InputError, match=field):
        FetchPolicy(**{field: value})  # type: ignore[arg-type]
    text = f'[fetch]\n{field} = {value}\n\n[[sources]]\ncanonical = "a"\n'
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path="archive.toml")
    assert str(caught.value).startswith(f"archive.toml:2: [fetch] {field}: must be")
    assert "at most" in str(caught.value) and "\n" not in str(caught.value)


# -- issue 14 item 8: absurd numbers are refused ------------------------------------------------


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e300, -1.0, 0.0])
def test_policy_refuses_absurd_timeouts(value: float) -> None:
    for name in ("timeout", "connect_timeout", "read_timeout"):
        with pytest.raises(InputError, match=name):
            FetchPolicy(**{name: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("per_host_rate", float("inf")),
        ("per_host_rate", float("nan")),
        ("backoff_base", float("inf")),
        ("max_crawl_delay", float("nan")),
        ("breaker_cooldown", 1e300),
        ("max_bytes", 10**15),
        ("max_connections", 10**6),
        ("max_redirects", 10**6),
        ("retries", 2.5),
        ("retries", True),
    ],
)
def test_policy_refuses_every_absurd_number(field: str, value: object) -> None:
    with pytest.raises(InputError, match=field):
        FetchPolicy(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["inf", "1e300", "nan", "-1", "1e309"])
def test_cli_refuses_absurd_timeouts_in_one_line(value: str) -> None:
    result = CliRunner().invoke(cli, ["fetch", "--timeout", value, "http://127.0.0.1:9/"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("archiver: error: --timeout"), result.output
    assert "Traceback" not in result.output


# -- issue 14 item 9: honest words --------------------------------------------------------------


def test_a_server_that_stalls_after_its_status_line_answered() -> None:
    """``200`` and some header bytes, then silence: a read timeout on that host, and an answer
    for the offline rule (the network works; the host is slow)."""
    policy = replace(FAST, retries=0, timeout=1.5, read_timeout=0.5)
    partial = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 110\r\n"
    with raw_server(answer(partial, then=3)) as (base, _), Fetcher(policy) as fetcher:
        before = fetcher.traffic()
        capture = fetcher.fetch(base + "/page")
        used = fetcher.traffic() - before
        fetcher.raise_if_offline()  # something answered: no NetworkUnavailable
    assert capture.error == "timeout"
    assert not used.nothing_answered and used.answers == 1
    assert capture.detail.startswith("timed out after 0.5 s reading 127.0.0.2"), capture.detail


def test_a_server_that_stalls_mid_body_answered() -> None:
    policy = replace(FAST, retries=0, timeout=1.5, read_timeout=0.5)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 500\r\n\r\n"
    with raw_server(answer(head + b"x" * 110, then=3)) as (base, _), Fetcher(policy) as f:
        capture = f.fetch(base + "/page")
        assert not f.traffic().nothing_answered
    assert capture.status == 200 and capture.error == "timeout" and len(capture.body) == 110
    assert "reading 127.0.0.2" in capture.detail


def test_refused_connection_is_said_in_words() -> None:
    with raw_server(answer(b"")) as (base, _):
        pass
    with Fetcher(replace(FAST, retries=0)) as fetcher:
        capture = fetcher.fetch(base + "/ok")
    assert capture.error == "connection_error"
    assert capture.detail == f"connection refused by {base.removeprefix('http://')}"


def test_fetch_of_one_refused_url_counts_the_urls_asked_for() -> None:
    with raw_server(answer(b"")) as (base, _):
        pass
    result = CliRunner().invoke(
        cli, ["fetch", "--per-host-rate", "100", base + "/ok"], catch_exceptions=False
    )
    assert result.exit_code == 3
    message = result.output.strip()
    assert "none of 3 requests" not in message
    assert "nothing answered the URL asked for" in message, message
    assert "retries" in message  # the requests counted say what they count


def test_error_details_show_no_python_names() -> None:
    with raw_server(answer(b"")) as (base, _):
        pass
    plain = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
    with raw_server(answer(b""), host="127.0.0.3", greet=plain) as (tls_base, _):
        with Fetcher(replace(FAST, retries=0, respect_robots=True)) as fetcher:
            captures = [
                fetcher.fetch(base + "/a"),
                fetcher.fetch(base.replace("http", "https") + "/"),
                fetcher.fetch(tls_base.replace("http", "https") + "/"),  # TLS to a plain server
            ]
    assert captures[2].error == "tls_error" and "TLS with 127.0.0.3" in captures[2].detail
    for capture in captures:
        for word in ("Pool", "Error", "host=", "object at", "Max retries"):
            assert word not in capture.detail, capture.detail


@pytest.mark.parametrize("command", ["fetch", "snapshot"])
def test_a_url_without_scheme_is_refused_with_a_hint(command: str, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    result = CliRunner().invoke(cli, ["--db", str(db), command, "www.example.org/x"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "did you mean https://www.example.org/x?" in lines[0]
    assert not db.exists()  # nothing stored, nothing fetched


def test_offline_message_is_kept_for_nothing_answering() -> None:
    with raw_server(answer(b"")) as (base, _):
        pass
    with Fetcher(replace(FAST, retries=0)) as fetcher:
        fetcher.fetch_many([base + "/a", base + "/b"])
        with pytest.raises(NetworkUnavailable, match="any of the 2 URLs asked for"):
            fetcher.raise_if_offline()


def test_snapshot_of_a_stalling_server_is_not_called_offline(tmp_path: Path) -> None:
    """The issue's case: ``200`` and some bytes, then silence. One host was slow; the network
    was there, so the snapshot is a failed capture (exit 1), not "nothing answered" (exit 3)."""
    partial = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 110\r\n"
    with raw_server(answer(partial, then=3)) as (base, _):
        args = ["--db", str(tmp_path / "a.db"), "snapshot", "--timeout", "1", "--no-links"]
        result = CliRunner().invoke(cli, [*args, base + "/page"])
    assert result.exit_code == 1, result.output
    assert "network looks unavailable" not in result.output


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_a_run_waiting_on_retry_after_and_records_it(
    tmp_path: Path, signum: int
) -> None:
    """The issue's case: a run against a host that answers 503 went on for minutes after
    SIGTERM. Its page fetches wait in the run's own workers; the signal stops the fetcher."""
    reply = b"HTTP/1.1 503 Busy\r\nRetry-After: 300\r\nContent-Length: 0\r\n\r\n"
    with raw_server(answer(reply, then=30)) as (base, seen):
        (tmp_path / "archive.toml").write_text(
            '[archive]\ndb = "a.db"\n\n[fetch]\nretries = 10\nretry_after_cap = 300\n'
            f'respect_robots = false\nconnect_to = ["news.test={base.removeprefix("http://")}"]\n'
            '\n[[sources]]\nurls = ["https://news.test/a", "https://news.test/b"]\n'
        )
        child = subprocess.Popen(
            [sys.executable, "-m", "archiver", "run", "--config", str(tmp_path / "archive.toml")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        try:
            deadline = time.monotonic() + 20
            while not seen and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)  # the host said Retry-After: 300; both pages now wait for it
            sent = time.monotonic()
            child.send_signal(signum)
            try:
                _, err = child.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                err = "still running 15 s after the signal"
            took = time.monotonic() - sent
        finally:
            child.kill()
            child.wait()
    assert "run interrupted" in err and "recorded as interrupted" in err, err
    assert took < 2.0, f"the run went on {took:.1f} s after the signal"
    db = sqlite3.connect(tmp_path / "a.db")
    assert db.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
    db.close()
