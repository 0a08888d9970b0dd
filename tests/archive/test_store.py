"""The archive: captures stored once and restored byte for byte, search, query, history, safety."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from archiver.archive import migrations
from archiver.archive.store import Archive, fts_query
from archiver.cli import cli
from archiver.errors import ArchiveCorrupt, ArchiveLocked, InputError
from archiver.models import Capture, Change, Document, Drift, Image, Link, LinkCheck, sha256_hex

URL = "https://www.themoscowtimes.com/2017/03/30/trump-le-pen-a57583"
SEED = (
    Path(__file__).resolve().parents[2]
    / "snapshots"
    / "2017-03-30-trump-le-pen-and-other-fleeting-relationships-a57583.md"
)
# Paragraphs of the seed canonical copy, used when the repository's snapshots/ is absent.
SEED_EXCERPT = (
    "There is a fashionable line of thought that has Russia pulling the strings in major "
    "democracies on both sides of the Atlantic.",
    "But let's look at ways Putin has chosen to maintain relationships he himself considers "
    "important. One old friend is better than two new ones (*старый друг лучше новых двух*), "
    "a Russian saying goes.",
    "Russian business owners tend to form structures reminiscent of clans rather than networks.",
)


def seed_paragraphs() -> tuple[str, ...]:
    if not SEED.is_file():
        return SEED_EXCERPT
    lines = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines()]
    return tuple(line for line in lines if len(line) > 80 and not line.startswith("#"))


def make_capture(body: bytes = b"<html><p>hello</p></html>", **kw: object) -> Capture:
    fields: dict[str, object] = {
        "url": URL,
        "final_url": URL,
        "status": 200,
        "headers": (
            ("Content-Type", "text/html; charset=utf-8"),
            ("ETag", '"v1"'),
            ("Last-Modified", "Thu, 30 Mar 2017 10:00:00 GMT"),
        ),
        "body": body,
        "content_type": "text/html; charset=utf-8",
        "fetched_at": "2026-01-01T00:00:00Z",
        "elapsed": 0.25,
    }
    fields.update(kw)
    return Capture(**fields)  # type: ignore[arg-type]


def make_document(paragraphs: tuple[str, ...] | None = None, **kw: object) -> Document:
    paragraphs = paragraphs or seed_paragraphs()
    fields: dict[str, object] = {
        "url": URL,
        "title": "Trump, Le Pen and Other Fleeting Relationships: Is the Russian Scare Real?",
        "subtitle": "Putin prefers to deal with friends.",
        "authors": ("Andrei Babitsky",),
        "published": "2017-03-30T00:00:00+03:00",
        "modified": None,
        "paragraphs": paragraphs,
        "links": (
            Link(url="https://example.org/france", text="France"),
            Link(url="#", text="Moldova"),
        ),
        "images": (Image(url="https://x/img.jpg", caption="Le Pen", credits="Kremlin Press"),),
        "profile": "moscowtimes",
        "checksum": "sha256:" + sha256_hex("\n\n".join(paragraphs).encode()),
        "paragraph_hashes": tuple(sha256_hex(p.encode()) for p in paragraphs),
        "normalizer": "1",
        "label": "Opinion",
    }
    fields.update(kw)
    return Document(**fields)  # type: ignore[arg-type]


@pytest.fixture
def archive() -> object:
    with Archive.memory() as a:
        yield a


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "db" / "archive.db"


def test_capture_and_document_come_back_exactly(archive: Archive) -> None:
    body = "<html><p>Старый друг</p>\x00\xff</html>".encode("utf-8", "surrogatepass") + b"\xff\x00"
    capture = make_capture(body, redirects=(URL + "?a", URL), headers=(("Set-Cookie", "a"),) * 2)
    document = make_document()
    capture_id = archive.save_capture(capture, document)
    stored = archive.get_capture(capture_id)
    assert stored is not None
    assert stored.capture == capture
    assert stored.capture.body == body
    assert stored.document == document
    assert archive.get_capture(capture_id + 100) is None


def test_unchanged_page_stores_one_body(db_file: Path) -> None:
    """100 captures of a page that changes once: two bodies, two extractions, 100 captures."""
    first = b"<html>" + b"<p>paragraph of the article</p>" * 500 + b"</html>"
    second = first.replace(b"article", b"edited!", 1)
    with Archive(db_file, durable=False) as archive:
        for i in range(100):
            body = first if i < 50 else second
            doc = make_document() if i < 50 else make_document(paragraphs=("edited",))
            archive.save_capture(make_capture(body, fetched_at=f"2026-01-01T00:{i:02d}:00Z"), doc)
        _, rows = archive.query("SELECT count(*), sum(length(data)), sum(size) FROM bodies")
        bodies, stored_bytes, raw_bytes = rows[0]
        assert bodies == 2
        assert raw_bytes == len(first) + len(second)
        assert stored_bytes < raw_bytes / 10  # compressed
        _, rows = archive.query("SELECT count(*) FROM captures")
        assert rows[0][0] == 100
        _, rows = archive.query("SELECT count(*) FROM extractions")
        assert rows[0][0] == 2
        kinds = [item.vs_previous for item in archive.history(URL)]
    assert kinds[0] == "first" and kinds[50] == "text_changed"
    assert kinds.count("same_body") == 98
    # 100 captures of 15 kB each fit in far less than one copy per capture.
    assert db_file.stat().st_size < 50 * len(first)


def test_not_modified_and_failures_are_history_without_body(archive: Archive) -> None:
    ok = archive.save_capture(make_capture(b"<html>v1</html>"))
    not_modified = archive.save_capture(
        make_capture(b"", status=304, not_modified=True, fetched_at="2026-01-02T00:00:00Z")
    )
    failed = archive.save_capture(
        make_capture(
            b"", status=None, error="timeout", detail="no answer", fetched_at="2026-01-03Z"
        )
    )
    server_error = archive.save_capture(
        make_capture(b"oops", status=503, fetched_at="2026-01-04T00:00:00Z")
    )
    cut_short = archive.save_capture(
        make_capture(
            b"<html>half", error="timeout", truncated=True, fetched_at="2026-01-05T00:00:00Z"
        )
    )
    _, rows = archive.query("SELECT id, kind, body_sha256 IS NULL FROM captures ORDER BY id")
    assert rows == [
        (ok, "response", 0),
        (not_modified, "not_modified", 1),
        (failed, "error", 1),
        (server_error, "response", 0),
        (cut_short, "error", 0),  # the partial body is kept
    ]
    latest = archive.latest_capture(URL)
    assert latest is not None and latest.id == ok  # 2xx preferred; never a cut-short body
    stored_cut = archive.get_capture(cut_short)
    assert stored_cut is not None and stored_cut.capture.body == b"<html>half"
    assert archive.validators(URL) == ('"v1"', "Thu, 30 Mar 2017 10:00:00 GMT")
    assert archive.validators("https://nowhere.example/") == (None, None)
    stored_failure = archive.get_capture(failed)
    assert stored_failure is not None and stored_failure.capture.error == "timeout"


def test_capture_whose_checksum_lies_is_refused(archive: Archive) -> None:
    with pytest.raises(InputError, match="sha256"):
        archive.save_capture(make_capture(b"abc", sha256="0" * 64))
    _, rows = archive.query("SELECT count(*) FROM captures")
    assert rows == [(0,)]


def test_failed_capture_write_leaves_nothing_behind(archive: Archive) -> None:
    """One transaction per capture: a failure half-way leaves no body, URL or extraction."""
    bad_document = make_document(links=(Link(url=None, text="x"),))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="constraints"):
        archive.save_capture(make_capture(b"<html>only once</html>"), bad_document)
    for table in ("captures", "bodies", "urls", "extractions", "links"):
        _, rows = archive.query(f"SELECT count(*) FROM {table}")
        assert rows == [(0,)], table


def test_search_finds_a_phrase_from_the_seed(archive: Archive) -> None:
    archive.save_capture(make_capture(), make_document())
    archive.save_capture(make_capture(fetched_at="2026-02-01T00:00:00Z"), make_document())
    other = make_document(paragraphs=("Nothing about friends here, only old news.",), url="u2")
    archive.save_capture(make_capture(b"<html>2</html>", url="https://x/2"), other)
    hits = archive.search('"one old friend is better than two new ones"')
    assert len(hits) == 1
    hit = hits[0]
    assert hit.url == URL and hit.captures == 2
    assert hit.last_seen == "2026-02-01T00:00:00Z"
    assert "«One» «old» «friend»" in hit.snippet or "«One old friend" in hit.snippet
    assert archive.search("старый друг")[0].url == URL
    # Words are ANDed and stemmed ("friends" is "friend"); hits come best rank first.
    hits = archive.search("old friend")
    assert {h.url for h in hits} == {URL, "u2"}
    assert [h.rank for h in hits] == sorted(h.rank for h in hits)
    assert archive.search("fleeting zeppelin") == []
    assert {h.url for h in archive.search("clan")} == {URL}  # "clans", stemmed


@pytest.mark.parametrize("text", ['AND "', "NEAR(", "*", "a:b", "friend OR", "'; DROP"])
def test_search_is_safe_for_any_text(archive: Archive, text: str) -> None:
    archive.save_capture(make_capture(), make_document())
    assert isinstance(archive.search(text), list)


def test_search_raw_syntax_errors_are_input_errors(archive: Archive) -> None:
    archive.save_capture(make_capture(), make_document())
    assert archive.search("friend NOT zeppelin", raw=True)
    with pytest.raises(InputError):
        archive.search('"unbalanced', raw=True)
    with pytest.raises(InputError):
        fts_query("   ")


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM captures",
        "CREATE TABLE x (a)",
        "UPDATE bodies SET data = x'00'",
        "ATTACH DATABASE 'elsewhere.db' AS other",
        "PRAGMA user_version = 99",
        "SELECT 1; DELETE FROM captures",
        "SELEKT nonsense",
    ],
)
def test_query_refuses_writes(db_file: Path, sql: str) -> None:
    with Archive(db_file) as archive:
        archive.save_capture(make_capture(), make_document())
        with pytest.raises(InputError):
            archive.query(sql)
        assert archive.query("SELECT count(*) FROM captures")[1] == [(1,)]
        assert archive.query("PRAGMA user_version")[1] == [(migrations.SCHEMA_VERSION,)]
    assert not (db_file.parent / "elsewhere.db").exists()


def test_query_in_memory_is_read_only_too(archive: Archive) -> None:
    with pytest.raises(InputError):
        archive.query("DELETE FROM captures")
    with pytest.raises(InputError):
        archive.query("PRAGMA query_only = OFF")
    with pytest.raises(InputError):
        archive.query("DELETE FROM captures")
    columns, rows = archive.query("PRAGMA table_info(captures)")
    assert "name" in columns and any(row[1] == "body_sha256" for row in rows)
    archive.save_capture(make_capture())  # and the archive still writes afterwards
    columns, rows = archive.query("SELECT url FROM captures WHERE status = ?", [200])
    assert columns == ["url"] and rows == [(URL,)]


def test_verifications_link_checks_and_history(archive: Archive) -> None:
    first = archive.save_capture(make_capture(), make_document())
    second = archive.save_capture(
        make_capture(b"<html>ad changed</html>", fetched_at="2026-01-02T00:00:00Z"),
        make_document(),
    )
    checks = [
        LinkCheck(url="https://example.org/france", text="France", status="ok", broken=False),
        LinkCheck(
            url="https://gone.example/", text="Moldova", status="not_found", broken=True,
            http_status=404, redirects=("https://gone.example/x",), recovered=True,
        ),
    ]  # fmt: skip
    drift = Drift(
        status="edited",
        similarity=0.93,
        checksum_canonical="sha256:aa",
        checksum_live="sha256:bb",
        changes=(Change(kind="modified", field="title", canonical="a", live="b"),),
    )
    run_id = archive.start_run(command="verify")
    archive.save_verification(
        canonical_path="snapshots/a.md", url=URL, drift=drift, capture_id=second,
        links=checks, run_id=run_id,
    )  # fmt: skip
    archive.save_link_checks(checks[1:], source_url=URL, checked_at="2026-03-01T00:00:00Z")
    archive.finish_run(run_id, status="done", summary={"edited": 1})
    timeline = archive.history(URL)
    assert [t.capture_id for t in timeline] == [first, second]
    assert [t.vs_previous for t in timeline] == ["first", "same_text"]
    assert timeline[0].verification is None
    assert timeline[1].verification is not None
    assert timeline[1].verification.status == "edited"
    history = archive.link_history("https://gone.example/")
    assert [h.status for h in history] == ["not_found", "not_found"]
    # Looked up together, each target's history is the same as looked up alone.
    targets = [c.url for c in checks] + ["https://never.example/"]
    together = archive.link_histories(targets + targets[:1])
    assert list(together) == list(dict.fromkeys(targets))
    assert together == {url: archive.link_history(url) for url in targets}
    assert together["https://never.example/"] == []
    assert history[0].broken is True and history[0].recovered is True
    assert history[0].redirects == ("https://gone.example/x",)
    _, rows = archive.query("SELECT status, summary FROM runs")
    assert rows == [("done", '{"edited":1}')]


def test_not_an_archive_is_corrupt(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not SQLite at all" * 100)
    with pytest.raises(ArchiveCorrupt):
        Archive(junk)
    with pytest.raises(ArchiveCorrupt):
        Archive(junk, readonly=True)
    other = tmp_path / "other.db"
    Database(other)["people"].insert({"name": "x"})
    with pytest.raises(ArchiveCorrupt, match="not an archive"):
        Archive(other)


def test_readonly_never_creates_an_archive(tmp_path: Path) -> None:
    missing = tmp_path / "nothing" / "archive.db"
    with pytest.raises(InputError, match=str(missing)):
        Archive(missing, readonly=True)
    assert not missing.parent.exists()


def test_old_archive_is_migrated_and_keeps_its_data(db_file: Path) -> None:
    db_file.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_file)
    db = Database(conn)
    assert migrations.migrate(db, upto=1) == [1]
    db.execute(
        "INSERT INTO extractions (key, profile, checksum, text, paragraphs) "
        "VALUES ('k', 'generic', 'sha256:x', 'an old zeppelin story', '[]')"
    )
    conn.commit()
    conn.close()
    with Archive(db_file, readonly=True) as archive:
        assert archive.query("PRAGMA user_version")[1] == [(migrations.SCHEMA_VERSION,)]
        assert archive.search("zeppelin")[0].checksum == "sha256:x"
    conn = sqlite3.connect(db_file)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(ArchiveCorrupt, match="newer"):
        Archive(db_file)


def test_locked_archive_is_reported(db_file: Path) -> None:
    with Archive(db_file) as holder, Archive(db_file, busy_timeout=0.1) as other:
        holder.conn.execute("BEGIN IMMEDIATE")
        with pytest.raises(ArchiveLocked):
            other.save_capture(make_capture())
        holder.conn.execute("ROLLBACK")
        assert other.save_capture(make_capture()) == 1


def test_a_reader_can_query_while_a_run_writes(db_file: Path) -> None:
    with Archive(db_file) as writer:
        writer.save_capture(make_capture(), make_document())
        # A write transaction left open: the reader is not blocked and sees the last commit.
        writer.conn.execute("BEGIN IMMEDIATE")
        writer.conn.execute("UPDATE captures SET status = 500")
        with Archive(db_file, readonly=True, busy_timeout=0.1) as reader:
            assert reader.query("SELECT status FROM captures")[1] == [(200,)]
            assert reader.search("old friend")
            latest = reader.latest_capture(URL)
            assert latest is not None and latest.capture.status == 200
        writer.conn.execute("ROLLBACK")

        # And with a writer thread saving captures as fast as it can.
        errors: list[BaseException] = []
        done = threading.Event()

        def write() -> None:
            try:
                with Archive(db_file, durable=False) as w:
                    for i in range(150):
                        w.save_capture(make_capture(f"<html>{i}</html>".encode()))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                done.set()

        thread = threading.Thread(target=write)
        thread.start()
        counts = []
        with Archive(db_file, readonly=True, busy_timeout=0.5) as reader:
            while not done.is_set():
                counts.append(reader.query("SELECT count(*) FROM captures")[1][0][0])
        thread.join()
    assert not errors
    assert counts == sorted(counts) and len(counts) > 1
    with Archive(db_file, readonly=True) as reader:
        assert reader.query("SELECT count(*) FROM captures")[1] == [(151,)]


# -- command line ----------------------------------------------------------------------------


@pytest.fixture
def filled(db_file: Path) -> Path:
    with Archive(db_file) as archive:
        archive.save_capture(make_capture(), make_document())
        archive.save_capture(
            make_capture(b"<html>\x1b[31mred</html>", fetched_at="2026-01-05T00:00:00Z"),
            make_document(title="\x1b[2Jtitle with an escape"),
        )
    return db_file


def invoke(db: Path, *args: str) -> object:
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def test_cli_query_formats(filled: Path) -> None:
    result = invoke(filled, "query", "SELECT id, status, url FROM captures ORDER BY id")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "status", "url"]
    assert lines[2].split() == ["1", "200", URL]
    result = invoke(filled, "query", "--format", "json", "SELECT sha256, data FROM bodies LIMIT 1")
    rows = json.loads(result.output)
    assert rows[0]["data"]["$base64"] is True
    result = invoke(filled, "query", "--json", "SELECT count(*) AS n FROM captures")
    assert json.loads(result.output) == [{"n": 2}]
    result = invoke(
        filled, "query", "--format", "csv", "-p", "2", "SELECT id FROM captures WHERE id = ?"
    )
    assert result.output == "id\n2\n"


def test_cli_history_search_and_escapes(filled: Path) -> None:
    result = invoke(filled, "history", URL, "--json")
    data = json.loads(result.output)
    assert [c["vs_previous"] for c in data["captures"]] == ["first", "same_text"]
    result = invoke(filled, "search", "escape")
    assert "\x1b" not in result.output and "\\x1b[2J" in result.output
    result = invoke(filled, "search", "--json", '"old friend"')
    assert json.loads(result.output)["results"][0]["url"] == URL
    result = invoke(filled, "history", URL)
    assert result.output.count("\n") == 2


def test_cli_read_commands_on_missing_archive_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    for args in (["search", "x"], ["history", URL], ["export-warc", str(tmp_path / "w.gz")]):
        result = invoke(missing, *args)
        assert result.exit_code == 2  # type: ignore[attr-defined]
        assert "no archive" in result.output  # type: ignore[attr-defined]
    for args in (["query", "SELECT 1"], ["fsck"]):  # and through main(): exit 2, one line
        proc = subprocess.run(
            [sys.executable, "-m", "archiver", "--db", str(missing), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONWARNINGS": "error"},
        )
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout == ""
        assert str(missing) in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    assert not missing.exists()


def test_cli_query_write_exits_2(filled: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "archiver", "--db", str(filled), "query", "DROP TABLE captures"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "readonly" in proc.stderr and "Traceback" not in proc.stderr


def test_serve_opens_the_archive_in_datasette_with_canned_queries(filled: Path) -> None:
    pytest.importorskip("datasette", reason="datasette is the optional 'serve' extra")
    import asyncio

    from archiver.archive.serve import datasette_app

    with Archive(filled) as archive:
        archive.save_link_checks(
            [LinkCheck(url="https://gone.example/", text="x", status="gone", broken=True)],
            source_url=URL,
        )
    app = datasette_app(str(filled))

    async def fetch() -> tuple[int, dict[str, object]]:
        response = await app.client.get("/archive/link_rot_by_article.json?_shape=objects")
        return response.status_code, response.json()

    with Archive(filled) as archive:
        archive.save_verification(
            canonical_path="a.md", url=URL, capture_id=2,
            drift=Drift(status="cosmetic", similarity=1.0, checksum_canonical="sha256:a",
                        checksum_live="sha256:a"),
        )  # fmt: skip

    async def drift() -> list[dict[str, object]]:
        response = await app.client.get("/archive/drift_over_time.json?_shape=array")
        return list(response.json())

    assert [(r["url"], r["status"]) for r in asyncio.run(drift())] == [(URL, "cosmetic")]
    status, data = asyncio.run(fetch())
    assert status == 200
    assert data["rows"] == [
        {
            "article": URL,
            "links": 1,
            "broken": 1,
            "broken_links": "https://gone.example/ (gone)",
            "last_checked": data["rows"][0]["last_checked"],
        }
    ]


DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


@pytest.mark.skipif(not DOC.is_file(), reason="docs/schema.md is not in this checkout")
def test_every_example_query_of_the_schema_doc_runs(filled: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    queries = [block.split("```", 1)[0] for block in text.split("```sql")[1:]]
    assert len(queries) >= 8
    with Archive(filled) as archive:
        archive.save_verification(
            canonical_path="a.md", url=URL, capture_id=1,
            drift=Drift(status="edited", similarity=0.9, checksum_canonical="sha256:a",
                        checksum_live="sha256:b",
                        changes=(Change(kind="modified", field="title", canonical="a", live="b"),)),
            links=[LinkCheck(url="https://gone.example/", text="x", status="gone", broken=True)],
        )  # fmt: skip
        for day in ("01", "02", "03"):
            archive.save_link_checks(
                [LinkCheck(url="https://slow.example/", text="s", status="timeout", broken=False)],
                source_url=URL,
                checked_at=f"2026-03-{day}T00:00:00Z",
            )
        results = [archive.query(sql.strip().rstrip(";")) for sql in queries]
    empty = [sql for sql, (_, rows) in zip(queries, results, strict=True) if not rows]
    assert not empty


def test_threads_of_a_run_can_share_one_archive(db_file: Path) -> None:
    """Fetch workers hand captures to one Archive from several threads."""
    with Archive(db_file, durable=False) as archive:

        def save(n: int) -> None:
            for i in range(20):
                archive.save_capture(make_capture(f"<p>{n}-{i}</p>".encode()), make_document())

        threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert archive.query("SELECT count(*), count(DISTINCT body_sha256) FROM captures")[1] == [
            (80, 80)
        ]
        assert archive.fsck().ok


def test_every_migration_can_run_again(db_file: Path) -> None:
    """A migration cut short (a crash, a second process) must be safe to repeat."""
    with Archive(db_file) as archive:
        archive.save_capture(make_capture(), make_document())
    conn = sqlite3.connect(db_file, isolation_level=None)
    db = Database(conn)
    for step in migrations.MIGRATIONS:
        step(db)
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    with Archive(db_file) as archive:
        assert archive.search("old friend")
        assert archive.query("PRAGMA user_version")[1] == [(migrations.SCHEMA_VERSION,)]


def test_two_processes_creating_one_archive_at_once(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    code = "import sys; from archiver.archive.store import Archive; Archive(sys.argv[1]).close()"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(path)], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = []
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        proc.stderr.close()  # type: ignore[union-attr]
        if proc.returncode:
            errors.append(err.decode())
    assert not errors
    with Archive(path, readonly=True) as archive:
        assert archive.query("PRAGMA user_version")[1] == [(migrations.SCHEMA_VERSION,)]


def test_cli_serve_answers_http(filled: Path) -> None:
    pytest.importorskip("datasette", reason="datasette is the optional 'serve' extra")
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.3", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "archiver", "--db", str(filled), "serve", "--host", "127.0.0.3",
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                url = f"http://127.0.0.3:{port}/archive/captures_of_url.json?url={URL}&_shape=array"
                with urllib.request.urlopen(url, timeout=2) as response:
                    rows = json.loads(response.read())
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        assert [row["id"] for row in rows] == [1, 2]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_what_the_archive_returns_are_frozen_records_not_dicts(archive: Archive) -> None:
    import dataclasses

    first = archive.save_capture(make_capture(), make_document())
    check = LinkCheck(url="https://gone.example/", text="x", status="gone", broken=True)
    run_id = archive.start_run(command="run")
    archive.save_verification(
        canonical_path="a.md", url=URL, capture_id=first, links=[check], run_id=run_id,
        drift=Drift(status="unchanged", similarity=1.0, checksum_canonical="sha256:a",
                    checksum_live="sha256:a"),
    )  # fmt: skip
    found: list[object] = [
        *archive.history(URL),
        *archive.search("friend"),
        *archive.link_history(check.url),
        *archive.latest_link_checks(),
        *archive.latest_verifications(),
        *archive.runs_with_status("running"),
        archive.last_run(),
        *archive.run_link_checks([run_id]),
        archive.get_capture(first),
    ]
    assert len(found) == 9
    for record in found:
        assert dataclasses.is_dataclass(record) and not isinstance(record, dict), record
        field = dataclasses.fields(record)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, field, None)
    assert archive.latest_link_checks()[0].to_check() == check
    assert archive.latest_verifications()[0].drift.status == "unchanged"
