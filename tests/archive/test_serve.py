"""``serve`` against the real Datasette app: bound host names only, read-only, quiet errors."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archiver.archive.serve import allowed_hosts, host_name
from archiver.archive.store import Archive
from tests.archive.test_store import URL, make_capture, make_document

httpx = pytest.importorskip("httpx", reason="httpx comes with datasette, the 'serve' extra")
pytest.importorskip("datasette", reason="datasette is the optional 'serve' extra")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "archive.db"
    with Archive(path) as archive:
        archive.save_capture(make_capture(), make_document())
    return path


def ask(
    db: Path, method: str, url: str, *, host: str = "127.0.0.1:8001", bound: str = "127.0.0.1"
) -> tuple[int, str]:
    from archiver.archive.serve import serve_app

    app = serve_app(str(db), bound)

    async def go() -> tuple[int, str]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
            response = await client.request(method, url, headers={"host": host})
            return response.status_code, response.text

    return asyncio.run(go())


def test_host_names_a_bound_address_answers_to() -> None:
    assert {"127.0.0.1", "localhost", "::1"} <= allowed_hosts("127.0.0.1")
    assert allowed_hosts("192.0.2.7") == {"192.0.2.7"}
    assert "proxy.example" in allowed_hosts("192.0.2.7", ["Proxy.Example"])
    assert host_name("[::1]:8001") == "::1"
    assert host_name("LocalHost:80") == "localhost"
    assert host_name("evil.example") == "evil.example"


def test_only_the_bound_host_names_are_answered(db: Path) -> None:
    status, text = ask(db, "GET", "/archive/captures.json?_shape=array")
    assert status == 200 and URL in text
    assert ask(db, "GET", "/archive/captures.json", host="localhost:8001")[0] == 200
    for host in ("evil.example", "evil.example:8001", "127.0.0.1.evil.example", ""):
        status, text = ask(db, "GET", "/archive/captures.json?_shape=array", host=host)
        assert status == 400, host
        assert URL not in text
    assert ask(db, "GET", "/", host="192.0.2.7", bound="192.0.2.7")[0] == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/-/insert"),
        ("POST", "/archive/-/insert"),
        ("POST", "/archive/captures/-/insert"),
        ("PUT", "/archive/captures"),
        ("DELETE", "/archive/captures/1"),
        ("POST", "/archive/captures_of_url"),
    ],
)
def test_writes_are_405_not_500(db: Path, method: str, path: str) -> None:
    status, _ = ask(db, method, path)
    assert status == 405


def test_refused_sql_is_logged_in_one_line_without_locals(
    db: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="archiver.archive.serve")
    status, text = ask(db, "GET", "/archive.json?sql=DELETE+FROM+captures")
    assert status == 400 and "SELECT" in text
    status, _ = ask(db, "GET", "/archive.json?sql=SELECT+secret_column+FROM+nowhere")
    assert status == 400  # Datasette answers this one itself (and writes one ERROR line)
    status, _ = ask(db, "GET", "/no-such-page")  # Datasette's rich traceback made this a 500
    assert status == 404
    out, err = capfd.readouterr()
    for stream in (out, err):
        assert "Traceback" not in stream and "locals" not in stream and "│" not in stream
    refused = [r.getMessage() for r in caplog.records if r.name == "archiver.archive.serve"]
    assert len(refused) == 2 and all("\n" not in line for line in refused)
    with Archive(db, readonly=True) as archive:
        assert archive.query("SELECT count(*) FROM captures")[1] == [(1,)]


@pytest.mark.slow
def test_cli_serve_refuses_a_foreign_host_header(db: Path) -> None:
    import http.client

    with socket.socket() as probe:
        probe.bind(("127.0.0.4", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "archiver", "--db", str(db), "serve", "--host", "127.0.0.4",
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def get(host: str, method: str = "GET") -> int:
        conn = http.client.HTTPConnection("127.0.0.4", port, timeout=5)
        try:
            conn.request(method, "/archive/captures.json", headers={"Host": host})
            return conn.getresponse().status
        finally:
            conn.close()

    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                assert get(f"127.0.0.4:{port}") == 200
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        assert get("attacker.example") == 400
        assert get(f"127.0.0.4:{port}", "POST") == 405
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "Traceback" not in err
