"""With the network really absent, a run says ``network_unavailable`` and exits 3.

``unshare -rn`` starts the process in a new, empty network namespace: no interface is up, not
even loopback, so no packet can leave it and neither DNS nor a connection can succeed. This is
the machine being offline, not a mock of it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from tests.misbehaving_server import serve


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=10)
    return probe.returncode == 0


needs_netns = pytest.mark.skipif(
    not _unshare_works(), reason="unshare -rn (user + network namespaces) is not available here"
)


@pytest.mark.slow
@needs_netns
def test_offline_run_reports_network_unavailable_and_exits_3() -> None:
    command = [
        "unshare",
        "-rn",
        sys.executable,
        "-m",
        "archiver",
        "fetch",
        "--timeout",
        "2",
        "--connect-to",
        "www.themoscowtimes.com=127.0.0.2:8080",
        "https://www.themoscowtimes.com/2024/01/01/a-a1",
        "https://example.org/",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "network_unavailable" in lines[0], done.stderr
    assert "Traceback" not in done.stderr


ISOLATED = "/work/shared/tools/isolated.sh"


@pytest.mark.skipif(
    not os.path.exists(ISOLATED) or not _unshare_works(),
    reason="isolated.sh (a namespace whose resolver answers NXDOMAIN) is not available here",
)
def test_offline_library_tells_dns_error_from_a_dead_link() -> None:
    # A name the resolver says does not exist (NXDOMAIN) is dns_error. Plain ``unshare -rn``
    # has no resolver at all (EAI_AGAIN): that is a suspect, tests/fetch/test_faults.py.
    script = (
        "import json\n"
        "from archiver.fetch.fetcher import Fetcher, FetchPolicy\n"
        "f = Fetcher(FetchPolicy(retries=0, timeout=2))\n"
        "c = f.fetch('https://example.org/')\n"
        "print(json.dumps([c.error, f.network_seen, f.attempts]))\n"
        "f.close()\n"
    )
    done = subprocess.run(
        [ISOLATED, sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    error, seen, attempts = json.loads(done.stdout)
    assert error == "dns_error"
    assert seen is False and attempts >= 1


@pytest.mark.slow
def test_online_run_with_one_dead_link_exits_1_not_3() -> None:
    """The other side: when something answers, a dead link is a finding (exit 1), not exit 3."""
    with serve("127.0.0.2") as server:
        with serve("127.0.0.3") as dead:
            dead_url = dead.base + "/ok"
        result = CliRunner().invoke(
            cli,
            ["fetch", "--json", "--per-host-rate", "100", server.base + "/ok", dead_url],
            catch_exceptions=False,
        )
    assert result.exit_code == 1, result.output
    captures = json.loads(result.output)["captures"]
    assert [c["error"] for c in captures] == [None, "connection_error"]
    assert captures[0]["status"] == 200


def test_fetch_command_head_and_text_output() -> None:
    with serve("127.0.0.2") as server:
        result = CliRunner().invoke(
            cli,
            ["fetch", "--head", "--per-host-rate", "100", server.base + "/head-not-allowed"],
            catch_exceptions=False,
        )
        methods = [m for m, path, _ in server.stats.requests if path == "/head-not-allowed"]
    assert result.exit_code == 0, result.output
    assert result.output.startswith("200\t" + server.base + "/head-not-allowed\t")
    assert methods == ["HEAD", "GET"]


def test_bad_connect_to_is_bad_usage_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "archiver", "fetch", "--connect-to", "nohost", "http://127.0.0.2/"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "HOST=ADDR:PORT" in done.stderr


@pytest.mark.slow
@needs_netns
@pytest.mark.parametrize("command", ["links", "run"])
def test_offline_placeholders_are_no_verdict_in_links_and_run(tmp_path, command: str) -> None:
    """Issue 14.1: offline, ``links`` and ``run`` called the seed's 13 ``#`` links broken."""
    from tests.conftest import SEED

    db = tmp_path / "archive.db"
    if command == "links":
        args = ["links", "--json", "--timeout", "2", str(SEED)]
    else:
        (tmp_path / "copies").mkdir()
        (tmp_path / "copies" / SEED.name).write_bytes(SEED.read_bytes())
        config = tmp_path / "run.toml"
        config.write_text(
            '[fetch]\ntimeout = 2\nretries = 0\n\n[[sources]]\ncanonical = "copies"\n',
            encoding="utf-8",
        )
        args = ["run", "--config", str(config), "--json"]
    done = subprocess.run(
        ["unshare", "-rn", sys.executable, "-m", "archiver", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    import sqlite3

    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT status, broken FROM link_checks").fetchall()
    conn.close()
    assert rows and all(not broken for _, broken in rows), rows
    assert {status for status, _ in rows} == {"network_unavailable"}
    if command == "links":
        report = json.loads(done.stdout)
        assert report["summary"] == {"network_unavailable": 13}
