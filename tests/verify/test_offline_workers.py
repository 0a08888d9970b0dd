"""``verify --offline`` with the pure work in an executor gives what the inline job gives.

:func:`archiver.verify.offline.verify_offline` looks each page up from a hint read off the
copy's bytes before the copy is parsed; these tests hold it to ``verify_paths`` (the inline
reference) on copies whose hint is right, wrong, or missing, first run and warm cache, with
unreadable copies among them, in batches smaller than the folder.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from archiver.archive.store import Archive
from archiver.errors import InputError
from archiver.extract.extractor import extract
from archiver.extract.normalize import checksum, paragraph_hashes
from archiver.models import Capture
from archiver.parallel.executor import InlineExecutor
from archiver.verify import copies as copies_module
from archiver.verify import offline
from archiver.verify.canonical import read_canonical
from archiver.verify.job import verify_paths
from archiver.verify.offline import url_hint, verify_offline
from tests.conftest import SEED, SEED_PAGE, SEED_URL

ACCENTED = "https://www.themoscowtimes.com/2017/03/30/ёлка-a1"


def _store_pages(db: Path) -> None:
    """The seed page under the seed URL, an edited one under the accented URL's spelling as
    the parser gives it (percent-encoded), and nothing for the other URLs."""
    page = SEED_PAGE.read_bytes()
    document = extract(page, url=SEED_URL, content_type="text/html; charset=utf-8")
    accented = read_canonical_url(ACCENTED)
    live = list(document.paragraphs)
    live[2] = live[2].replace("Kremlin", "Government")
    with Archive(db) as archive:
        for url, paragraphs in ((SEED_URL, document.paragraphs), (accented, tuple(live))):
            capture = Capture(
                url=url,
                final_url=url,
                status=200,
                body=page,
                content_type="text/html; charset=utf-8",
                fetched_at="2026-11-24T00:00:00Z",
            )
            doc = replace(
                document,
                url=url,
                paragraphs=paragraphs,
                checksum=checksum(paragraphs),
                paragraph_hashes=paragraph_hashes(paragraphs),
            )
            archive.save_capture(capture, doc)


def read_canonical_url(url: str) -> str:
    """The URL as the copy reader gives it for ``Original url: <url>``."""
    return _parsed(SEED.read_text(encoding="utf-8").replace(SEED_URL, url)).url


def _parsed(text: str) -> object:
    from archiver.verify.canonical import parse_canonical

    return parse_canonical(text, path="x.md")


def _folder(root: Path) -> list[str]:
    seed = SEED.read_text(encoding="utf-8")
    root.mkdir()
    files = {
        "a-seed.md": seed,
        "b-edited.md": seed.replace("large-scale violence", "large-scale force"),
        # The hint is the URL as typed; the parser percent-encodes it: the hint is wrong.
        "c-accented.md": seed.replace(SEED_URL, ACCENTED),
        # Front matter names the URL: the hint reads it there.
        "d-front.md": f'---\nurl: "{SEED_URL}"\ntitle: T\n---\n\n' + seed,
        "e-never-captured.md": seed.replace(SEED_URL, SEED_URL + "-nowhere"),
        "f-twin.md": seed,  # same bytes as the seed: one parse cache entry
    }
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    (root / "g-bad.md").write_bytes(b"\xff\xfe not utf-8")
    (root / "h-no-url.md").write_text("# A copy\n\nWithout its URL.\n", encoding="utf-8")
    return sorted(str(path) for path in root.iterdir())


def _stored(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "select canonical_path, url, capture_id, status, similarity, checksum_canonical,"
            " checksum_live, changes from verifications order by id"
        ).fetchall()


def test_hints() -> None:
    assert url_hint(SEED.read_bytes()) == SEED_URL
    assert url_hint(b"\xef\xbb\xbf---\nurl: 'https://a.example/x'\n---\n# T\n") == (
        "https://a.example/x"
    )
    assert url_hint(b"# T\n\nOriginal URL:  <https://b.example/y>\n") == "https://b.example/y"
    assert url_hint(b"# T\n\nThe original text, no label.\n") is None
    assert url_hint(b"# T\n\noriginal url: \xff\xfe\n") is None


@pytest.mark.parametrize("batch", [2, 500])
def test_same_verdicts_rows_and_errors_as_inline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr(copies_module, "PARSE_CHUNK", 3)
    monkeypatch.setattr(offline, "VERIFY_BATCH", batch)
    paths = _folder(tmp_path / "copies")
    reports = {}
    for name in ("inline", "executor"):
        db = tmp_path / f"{name}.db"
        _store_pages(db)
        runs = []
        for _ in range(2):  # a first run parses; the second finds the parse cache warm
            errors: list[InputError] = []
            with Archive(db) as archive:
                if name == "inline":
                    result = verify_paths(paths, fetcher=None, archive=archive, errors=errors)
                else:
                    result = verify_offline(
                        paths, archive=archive, executor=InlineExecutor(), errors=errors
                    )
            runs.append(([v.to_json() for v in result], [str(e) for e in errors]))
        with sqlite3.connect(db) as conn:
            parses = conn.execute(
                "select sha256, parser, data from canonical_parses order by sha256"
            ).fetchall()
        reports[name] = (runs, _stored(db), parses)
    assert reports["executor"] == reports["inline"]
    (first, _), stored = reports["inline"][0][0], reports["inline"][1]
    assert len(reports["inline"][2]) == 5  # one parse per distinct readable copy's bytes
    by_name = {Path(r["canonical"]).name: r for r in first}
    assert url_hint((tmp_path / "copies" / "c-accented.md").read_bytes()) == ACCENTED
    assert by_name["c-accented.md"]["status"] == "edited"  # found through the parsed URL
    assert by_name["c-accented.md"]["capture_id"] == 2
    assert by_name["b-edited.md"]["status"] == "edited"
    assert by_name["e-never-captured.md"]["status"] == "unreachable"
    assert len(first) == 6 and len(stored) == 12
    assert len(reports["inline"][0][0][1]) == 2  # the two unreadable copies, each run


def test_an_unreadable_copy_raises_before_anything_is_stored(tmp_path: Path) -> None:
    paths = _folder(tmp_path / "copies")
    db = tmp_path / "a.db"
    _store_pages(db)
    with Archive(db) as archive, pytest.raises(InputError):
        verify_offline(paths, archive=archive, executor=InlineExecutor())
    assert _stored(db) == []


def test_the_hint_is_only_a_hint(tmp_path: Path) -> None:
    """A label inside a code block: the hint names another page (which exists), the copy
    reader ignores code; the verdict is the one against the page of the copy's own URL."""
    root = tmp_path / "copies"
    root.mkdir()
    seed = SEED.read_text(encoding="utf-8")
    decoy = f"```\nOriginal url: <{SEED_URL}-decoy>\n```\n\n"
    path = root / "a.md"
    path.write_text(decoy + seed, encoding="utf-8")
    assert url_hint(path.read_bytes()) == SEED_URL + "-decoy"
    assert read_canonical(path).url == SEED_URL
    found = {}
    for name in ("inline", "executor"):
        db = tmp_path / f"{name}.db"
        _store_pages(db)
        with Archive(db) as archive:
            other = ("Another story altogether.", "About other things.")
            decoy_page = Capture(
                url=SEED_URL + "-decoy",
                final_url=SEED_URL + "-decoy",
                status=200,
                body=SEED_PAGE.read_bytes(),
                content_type="text/html; charset=utf-8",
                fetched_at="2026-11-25T00:00:00Z",
            )
            document = extract(decoy_page.body, url=decoy_page.url, content_type="text/html")
            archive.save_capture(
                decoy_page,
                replace(
                    document,
                    paragraphs=other,
                    checksum=checksum(other),
                    paragraph_hashes=paragraph_hashes(other),
                ),
            )
            if name == "inline":
                result = verify_paths([str(path)], fetcher=None, archive=archive)
            else:
                result = verify_offline([str(path)], archive=archive, executor=InlineExecutor())
        found[name] = ([v.to_json() for v in result], _stored(db))
    assert found["executor"] == found["inline"]
    (report,) = found["inline"][0]
    assert report["capture_id"] == 1 and report["status"] in ("unchanged", "cosmetic", "edited")


def test_batches_come_as_they_are_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``verify_offline_batches`` gives ``verify_offline``'s verifications, a batch at a time,
    each batch already stored when it comes (the CLI reports it while the workers go on)."""
    from archiver.verify.offline import verify_offline_batches

    monkeypatch.setattr(offline, "VERIFY_BATCH", 2)
    paths = _folder(tmp_path / "copies")
    whole, batched = tmp_path / "whole.db", tmp_path / "batched.db"
    for db in (whole, batched):
        _store_pages(db)
    errors: list[InputError] = []
    with Archive(whole) as archive:
        expected = verify_offline(paths, archive=archive, executor=InlineExecutor(), errors=errors)
    sizes, stored_then, got = [], [], []
    batch_errors: list[InputError] = []
    with Archive(batched) as archive:
        for batch in verify_offline_batches(
            paths, archive=archive, executor=InlineExecutor(), errors=batch_errors
        ):
            sizes.append(len(batch))
            stored_then.append(len(_stored(batched)))
            got.extend(v.to_json() for v in batch)
    assert got == [v.to_json() for v in expected]
    assert sizes == [2, 2, 2] and stored_then == [2, 4, 6]
    assert [str(e) for e in batch_errors] == [str(e) for e in errors] and len(errors) == 2
    assert _stored(batched) == _stored(whole)
