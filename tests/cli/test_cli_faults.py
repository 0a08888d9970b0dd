"""The command line at its edges, with real processes: bad -o paths, full disks, Ctrl-C, closed
pipes, ``--db`` after the command, formula cells in every CSV, and a light start-up."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.archive.store import Archive
from tests.conftest import ROOT, SEED, SEED_PAGE

FAST = ["--per-host-rate", "50", "--timeout", "5", "--no-archive-lookup"]


def archiver(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "archiver", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        **kwargs,
    )


class Listener:
    """A loopback TCP server that accepts connections, counts them and never answers."""

    def __init__(self, host: str = "127.0.0.6") -> None:
        self.sock = socket.create_server((host, 0))
        self.sock.settimeout(0.2)
        self.address = f"{host}:{self.sock.getsockname()[1]}"
        self.accepted = threading.Event()
        self.count = 0
        self._open: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.count += 1
            self._open.append(conn)  # held open, never answered: the client waits
            self.accepted.set()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self._open:
            conn.close()
        self.sock.close()


@pytest.fixture()
def stall() -> Iterator[Listener]:
    listener = Listener()
    yield listener
    listener.close()


@pytest.fixture()
def db(tmp_path: Path) -> str:
    path = tmp_path / "a.db"
    with Archive(path):
        pass
    return str(path)


# -- issue 14, item 4: -o into a bad place is refused before any work; writes are atomic ------


@pytest.mark.parametrize("where", ["missing-folder/out.html", "."])
def test_bad_output_path_is_refused_before_any_network_work(
    tmp_path: Path, db: str, stall: Listener, where: str
) -> None:
    """A folder that does not exist, or a directory: exit 2, one line, no connection made."""
    output = str(tmp_path / where)
    route = ["--connect-to", f"stall.example={stall.address}"]
    proc = archiver("--db", db, "links", "http://stall.example/a", "-o", output, *FAST, *route)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("archiver: error: -o ")
    assert "Traceback" not in proc.stderr
    assert stall.count == 0  # refused before the network was touched
    assert not (tmp_path / "missing-folder").exists()


def test_report_is_written_atomically_and_replaces_the_old_one(tmp_path: Path, db: str) -> None:
    out = tmp_path / "rot.html"
    out.write_text("old report\n")
    proc = archiver("--db", db, "report", "linkrot", "--format", "html", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("a.db")] == ["rot.html"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would make it, not 0600


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize("how", ["-o", "stdout"])
def test_full_device_is_exit_3_one_line(db: str, how: str) -> None:
    """/dev/full answers every write with ENOSPC: as -o, or as stdout."""
    if how == "-o":
        proc = archiver("--db", db, "report", "linkrot", "--format", "md", "-o", "/dev/full")
    else:
        with open("/dev/full", "w") as full:
            proc = subprocess.run(
                [sys.executable, "-m", "archiver", "--db", db, "report", "linkrot"],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                timeout=60,
            )
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("archiver: error: ")
    assert "No space left" in proc.stderr or "no space left" in proc.stderr


def _can_mount_tmpfs(where: Path) -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs '{where}'"],
        capture_output=True,
        timeout=10,
    )
    return probe.returncode == 0


def test_a_full_disk_leaves_no_partial_file(tmp_path: Path, db: str) -> None:
    """A real full file system (a 64 KiB tmpfs, filled): exit 3, one line, no file left."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if not _can_mount_tmpfs(disk):
        pytest.skip("cannot mount a tmpfs here (unshare -rm + mount -t tmpfs not permitted)")
    script = (
        'mount -t tmpfs -o size=64k tmpfs "$1" && '
        'dd if=/dev/zero of="$1/filler" bs=4k 2>/dev/null; '
        'shift; "$@"; code=$?; ls -A "$DISK"; exit $code'
    )
    proc = subprocess.run(
        [
            "unshare",
            "-rm",
            "sh",
            "-c",
            script,
            "sh",
            str(disk),
            sys.executable,
            "-m",
            "archiver",
            "--db",
            db,
            "report",
            "linkrot",
            "--format",
            "html",
            "-o",
            str(disk / "rot.html"),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DISK": str(disk)},
    )
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.count("\n") == 1 and "archiver: error: cannot write" in proc.stderr
    assert "No space left on device" in proc.stderr
    assert proc.stdout.split() == ["filler"]  # neither the report nor a temporary file


# -- issue 14, item 7: Ctrl-C is 130 with one line; a closed pipe ends quietly ----------------


@pytest.mark.slow
@pytest.mark.parametrize("command", ["links", "snapshot", "verify"])
def test_ctrl_c_is_exit_130_with_one_line(db: str, stall: Listener, command: str) -> None:
    """Ctrl-C while the command waits on a host that never answers: 130, one line, quickly.

    A fetch in a worker thread does not see the KeyboardInterrupt, and the pool waits for it;
    the CLI's grace deadline (``INTERRUPT_GRACE``, 3 s) ends the process all the same.
    """
    host = "www.themoscowtimes.com" if command == "verify" else "stall.example"
    route = ["--connect-to", f"{host}={stall.address}"]
    target = str(SEED) if command == "verify" else "http://stall.example/a"
    fetching = ["--per-host-rate", "50", "--timeout", "60"]
    if command == "links":
        fetching.append("--no-archive-lookup")
    args = ["--db", db, command, target, *fetching, *route]
    proc = subprocess.Popen(
        [sys.executable, "-m", "archiver", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert stall.accepted.wait(20), "archiver never connected"
        time.sleep(0.2)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        took = time.monotonic() - started
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert err == "archiver: interrupted\n"
    assert out == ""
    assert took < 5


def test_closed_stdout_pipe_ends_quietly_by_sigpipe() -> None:
    """``archiver extract ... --json | head -1``: no traceback, no "Exception ignored", and
    the exit status a shell shows as 141 (killed by SIGPIPE), as git and coreutils do."""
    files = [str(SEED_PAGE)] * 40  # ~40 JSON lines, far more than a pipe holds
    proc = subprocess.Popen(
        [sys.executable, "-m", "archiver", "extract", *files, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what head -1 does after its line
    err = proc.stderr.read().decode()
    proc.stderr.close()
    proc.wait(timeout=60)
    assert json.loads(first)["profile"] == "moscowtimes"
    assert err == ""
    assert proc.returncode == -signal.SIGPIPE


def test_closed_pipe_in_a_shell_pipeline_is_141() -> None:
    if not shutil.which("bash") or not shutil.which("head"):
        pytest.skip("no bash or head here")
    files = " ".join([f"'{SEED_PAGE}'"] * 40)
    script = (
        f"set -o pipefail; '{sys.executable}' -m archiver extract {files} --json | head -1 "
        ">/dev/null; echo $?"
    )
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "141"
    assert proc.stderr == ""


# -- issue 14, item 11 (CLI part): --db after the command, with the same meaning --------------


def test_db_is_accepted_after_the_command(tmp_path: Path, db: str) -> None:
    proc = archiver("query", "--db", db, "--json", "select count(*) as n from captures")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [{"n": 0}]
    proc = archiver("report", "linkrot", "--db", db, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["broken"] == 0
    missing = str(tmp_path / "none.db")
    proc = archiver("--db", db, "fsck", "--db", missing)  # the later one wins, as in git
    assert proc.returncode == 2 and "no archive" in proc.stderr


def test_every_command_that_opens_the_archive_takes_db() -> None:
    import click

    from archiver.cli import cli
    from archiver.cli.app import NO_ARCHIVE

    def commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
        context = click.Context(group)
        for name in group.list_commands(context):  # the commands are loaded on first use
            command = group.get_command(context, name)
            assert command is not None, name
            if isinstance(command, click.Group):
                yield from commands(command, prefix + name + " ")
            else:
                yield prefix + name, command

    found = dict(commands(cli))
    assert {"query", "fsck", "history", "search", "links", "verify", "report linkrot"} <= set(found)
    for name, command in found.items():
        takes = any("--db" in getattr(p, "opts", ()) for p in command.params)
        assert takes == (name not in NO_ARCHIVE), name


# -- issue 14, item 10: every CSV protects formula cells, query included -----------------------


def test_query_csv_protects_formula_cells(db: str) -> None:
    sql = (
        "select '=HYPERLINK(\"https://evil.example\",\"x\")' as a, '+SUM(1,2)' as b, "
        "'@SUM(A1)' as c, '-2+3' as d, char(9) || '=1' as e, -5 as n, 'plain' as p"
    )
    proc = archiver("--db", db, "query", "--format", "csv", sql)
    assert proc.returncode == 0, proc.stderr
    header, row = proc.stdout.splitlines()
    assert header == "a,b,c,d,e,n,p"
    import csv
    import io

    cells = next(csv.reader(io.StringIO(row)))
    assert cells[:5] == [
        '\'=HYPERLINK("https://evil.example","x")',
        "'+SUM(1,2)",
        "'@SUM(A1)",
        "'-2+3",
        "'\t=1",
    ]
    assert cells[5:] == ["-5", "plain"]  # a number stays a number


# -- start-up: archiver --help loads none of the heavy modules ---------------------------------

HEAVY = (
    "requests",
    "urllib3",
    "sqlite_utils",
    "trafilatura",
    "rich",
    "lxml",
    "archiver.verify.job",
    "archiver.links.rot",
    "archiver.fetch.fetcher",
    "archiver.archive.store",
    "archiver.extract.extractor",
)


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "from archiver.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('loaded:', ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    assert "Usage: archiver" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "loaded: "  # none of them
