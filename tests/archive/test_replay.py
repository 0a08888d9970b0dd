"""An export replays in pywb, as a librarian would replay it: the article, and a redirected source
at the URL the article cites (its original URL, not only where it ended)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner

from archiver.archive.store import Archive
from archiver.cli import cli
from archiver.testserver import SiteServer
from tests.conftest import SEED_URL

WB_MANAGER = Path(sys.executable).with_name("wb-manager")
WAYBACK = Path(sys.executable).with_name("wayback")
REDIRECTED = "https://themoscowtimes.com/articles/macron-campaign-target-of-russian-hackers-57205"
REDIRECTED_TO = (
    "https://www.themoscowtimes.com/2017/02/14/macron-campaign-target-of-russian-hackers-a57205"
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (WB_MANAGER.exists() and WAYBACK.exists()),
        reason="pywb is not installed (pip install -e '.[dev]' brings it)",
    ),
]


@pytest.fixture
def snapshot_db(tmp_path: Path, site_server: SiteServer, connect_to: list[str]) -> Path:
    """The seed article and its sources, captured from the loopback web."""
    db = tmp_path / "archive.db"
    result = CliRunner().invoke(
        cli,
        ["--db", str(db), "snapshot", SEED_URL, "--per-host-rate", "50", "--timeout", "5",
         *connect_to],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    return db


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _text(body: bytes) -> str:
    """The words of a page, markup gone, as a reader sees them."""
    return " ".join(lxml.html.fromstring(body).text_content().split())


def _get(url: str, *, follow: bool = True) -> tuple[int, dict[str, str], bytes]:
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=20) as answer:
            return answer.status, dict(answer.headers.items()), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


@pytest.fixture
def wayback(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A pywb ``wayback`` on a free loopback port, serving collections under ``tmp_path``."""
    root = tmp_path / "pywb"
    root.mkdir()
    subprocess.run(
        [str(WB_MANAGER), "init", "archive"], cwd=root, check=True, capture_output=True,
        timeout=60,
    )  # fmt: skip
    port = _free_port()
    log = open(root / "wayback.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(WAYBACK), "-b", "127.0.0.1", "-p", str(port)],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise AssertionError(
                        "wayback did not start: " + (root / "wayback.log").read_text()
                    ) from None
                time.sleep(0.2)
        yield root, base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def _add(root: Path, warc: Path) -> None:
    unpack = ["--unpack-wacz"] if warc.suffix == ".wacz" else []
    proc = subprocess.run(
        [str(WB_MANAGER), "add", *unpack, "archive", str(warc)], cwd=root, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", ["export.warc.gz", "export.warc", "export.wacz"])
def test_pywb_replays_the_article_and_a_redirected_source(
    snapshot_db: Path, wayback: tuple[Path, str], tmp_path: Path, name: str
) -> None:
    root, base = wayback
    warc = tmp_path / name
    command = "export-wacz" if name.endswith(".wacz") else "export-warc"
    result = CliRunner().invoke(
        cli, ["--db", str(snapshot_db), command, str(warc)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    if command == "export-warc":
        assert (warc.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    _add(root, warc)
    with Archive(snapshot_db, readonly=True) as archive:
        stored = archive.latest_capture(SEED_URL)
        assert stored is not None and stored.document is not None
        words = " ".join(stored.document.paragraphs[1].split()[:8])
        source = archive.latest_capture(REDIRECTED_TO)
        assert source is not None and source.document is not None
        source_title = source.document.title

    # The article, as the page itself (id_: no rewriting), and in pywb's own frame (mp_).
    status, headers, body = _get(f"{base}/archive/2100id_/{SEED_URL}")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert words in _text(body)
    status, headers, body = _get(f"{base}/archive/2100mp_/{SEED_URL}")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert words in _text(body)

    # The source the article cites by its old URL: a redirect, then the page it moved to.
    status, headers, _ = _get(f"{base}/archive/2100id_/{REDIRECTED}", follow=False)
    assert status in (301, 302) and headers["Location"].endswith(REDIRECTED_TO)
    status, headers, body = _get(f"{base}/archive/2100mp_/{REDIRECTED}")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert source_title in _text(body)
