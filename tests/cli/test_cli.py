"""The foundation path end to end: the real CLI against the loopback test web, a real archive."""

from __future__ import annotations

import hashlib
import http.client
import json
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.testserver import SiteServer
from tests.conftest import SEED, SEED_PAGE, SEED_URL

EXPECTED_STATUS = {
    "Andrei Babitsky": "ok",
    "Moscow's meddling": "ok",
    "France": "redirected",
    "Moldova": "ok",
    "Our Man in Havana": "ok",
    "youth judo club comrades": "ok",
    "college buddy": "not_found",
    "comrades in arms": "gone",
    "a guy who lived next door to his summer house": "soft_404",
    "Gerhard Schröder": "soft_404",
    "this story": "server_error",
    "The Russian File. A Kennan Institute Blog": "redirected",
    "French Presidential Hopeful Le Pen Meets Putin on Russia Trip": "ok",
}
FAST = ["--per-host-rate", "50", "--timeout", "5"]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def raw_bytes(server: SiteServer, url: str) -> bytes:
    """The body exactly as the loopback server sends it, read with a bare HTTP client."""
    host, port = server.address.split(":")
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request("GET", parts.path, headers={"Host": parts.hostname or ""})
        return connection.getresponse().read()
    finally:
        connection.close()


def test_extract_seed_page_acceptance() -> None:
    code, out = run("extract", str(SEED_PAGE), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["title"] == (
        "Trump, Le Pen and Other Fleeting Relationships: Is the Russian Scare Real?"
    )
    assert doc["subtitle"].startswith("Putin prefers to deal with friends.")
    assert doc["authors"] == ["Andrei Babitsky"]
    assert doc["published"].startswith("2017-03-30")
    assert doc["images"][0]["caption"].startswith("Marine Le Pen visiting the Kremlin")
    assert doc["images"][0]["credits"] == "Kremlin Press Service"
    assert doc["paragraphs"][0].startswith("There is a fashionable line of thought")
    assert [link["text"] for link in doc["links"]] == list(EXPECTED_STATUS)
    assert doc["checksum"].startswith("sha256:")


@pytest.mark.slow
def test_snapshot_stores_exact_bytes(
    tmp_path: Path, site_server: SiteServer, connect_to: list[str]
) -> None:
    db = tmp_path / "a.db"
    code, out = run("--db", str(db), "snapshot", SEED_URL, "--json", *FAST, *connect_to)
    assert code == 0, out
    result = json.loads(out)["snapshots"][0]
    assert result["http_status"] == 200
    assert len(result["sources"]) == 13  # every linked source fetched (depth 1)
    sent = raw_bytes(site_server, SEED_URL)
    assert result["sha256"] == hashlib.sha256(sent).hexdigest()
    with sqlite3.connect(db) as conn:
        stored = conn.execute(
            "select body_sha256 from captures where url = ? order by id", (SEED_URL,)
        ).fetchone()[0]
    assert stored == hashlib.sha256(sent).hexdigest()


@pytest.mark.slow
def test_verify_seed(tmp_path: Path, connect_to: list[str]) -> None:
    db = str(tmp_path / "a.db")
    code, out = run("--db", db, "verify", str(SEED), "--json", *FAST, *connect_to)
    assert code == 1, out  # broken links were found
    report = json.loads(out)
    (result,) = report["results"]
    assert result["status"] == "cosmetic"  # the page joins the paragraph the copy splits
    assert result["checksum_canonical"] == result["checksum_live"]
    assert report["summary"] == {"cosmetic": 1}
    statuses = {link["text"]: link["status"] for link in result["links"]}
    assert statuses == EXPECTED_STATUS
    assert all(link["recovered"] for link in result["links"])
    broken = {link["text"] for link in result["links"] if link["broken"]}
    assert broken == {
        "college buddy",
        "comrades in arms",
        "a guy who lived next door to his summer house",
        "Gerhard Schröder",
    }

    # The same verdict offline, from the capture just stored.
    code, out = run("--db", db, "verify", str(SEED), "--offline", "--json")
    assert json.loads(out)["results"][0]["status"] == "cosmetic"
    assert code == 0  # offline: links are not checked, and the text has not drifted


@pytest.mark.slow
def test_verify_human_output(tmp_path: Path, connect_to: list[str]) -> None:
    code, out = run("--db", str(tmp_path / "a.db"), "verify", str(SEED), *FAST, *connect_to)
    assert code == 1
    assert "verdict:    cosmetic" in out
    assert "13 (13 recovered, 4 broken)" in out


@pytest.mark.slow
def test_links_of_canonical_copy(tmp_path: Path, connect_to: list[str]) -> None:
    out_file = tmp_path / "report.csv"
    args = ["--db", str(tmp_path / "a.db"), "links", str(SEED), "--format", "csv"]
    code, _ = run(*args, "-o", str(out_file), *FAST, *connect_to)
    assert code == 1
    rows = out_file.read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("source,url,text,status,broken")
    assert len(rows) == 14


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["extract", "no-such-file.html"], "no-such-file.html"),
        (["verify", "no-such-copy.md"], "no such file"),
        (["links", "not a url"], "not a URL"),
    ],
)
def test_bad_input_exits_2(tmp_path: Path, args: list[str], message: str) -> None:
    code, out = run("--db", str(tmp_path / "a.db"), *args)
    assert code == 2
    assert message in out
    assert "Traceback" not in out
    assert len(out.strip().splitlines()) == 1


def test_copy_without_url_and_binary_html(tmp_path: Path) -> None:
    copy = tmp_path / "copy.md"
    copy.write_text("# A title\n\nA body with no original URL.\n", encoding="utf-8")
    code, out = run("--db", str(tmp_path / "a.db"), "verify", str(copy))
    assert code == 2 and "no original URL" in out
    binary = tmp_path / "page.html"
    binary.write_bytes(bytes(range(256)) * 8)
    code, out = run("extract", str(binary))
    assert code == 2 and "not an HTML page" in out


def test_verify_json_on_a_stream_without_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``verify --json`` writes its items as bytes; on a text-only stdout (a notebook's) it
    writes the same document as text."""
    import io
    import sys

    db = str(tmp_path / "a.db")
    args = ["--db", db, "verify", str(SEED), "--offline", "--json"]
    code, expected = run(*args)
    assert code in (0, 1)
    text = io.StringIO()
    monkeypatch.setattr(sys, "stdout", text)
    with pytest.raises(SystemExit) as exited:
        cli.main(args=args, prog_name="archiver")
    assert exited.value.code == code
    assert text.getvalue() == expected
    assert json.loads(text.getvalue())["results"][0]["url"] == SEED_URL
