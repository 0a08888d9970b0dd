"""The jobs' page strategies and keepers with extraction in workers: the same archive as inline.

``RunPages`` (a scheduled run's pages, conditional GETs), ``keep_many`` (with and without
reuse of a document already extracted) and ``read_copies``: each with a process pool must
store and give exactly what it does inline.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

from archiver.archive.store import Archive
from archiver.capture.snapshot import extract_capture, keep_many
from archiver.models import Capture
from archiver.parallel.executor import open_executor
from archiver.runs.pages import RunPages
from archiver.verify.copies import read_copies
from tests.conftest import FAST_POLICY, SEED

ROOT = Path(__file__).resolve().parents[2]


def _capture(url: str, body: bytes, status: int = 200, **extra: Any) -> Capture:
    return Capture(
        url=url,
        final_url=url,
        status=status,
        body=body,
        content_type="text/html; charset=utf-8",
        sha256=hashlib.sha256(body).hexdigest(),
        fetched_at="2026-12-01T00:00:00Z",
        **extra,
    )


def _web() -> dict[str, bytes]:
    pages = {}
    for path in sorted(ROOT.glob("tests/web/pages/*.html")):
        pages[f"https://pages.example/{path.stem}"] = path.read_bytes()
    pages["https://pages.example/not-html"] = b"\x89PNG\r\n\x1a\n\x00"
    return pages


class _Fetcher:
    """Answers from the bundled pages; a 304 when the validator it was given matches."""

    policy = replace(FAST_POLICY, max_connections=4)

    def __init__(self, pages: dict[str, bytes]) -> None:
        self.pages = pages

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Any:
        body = self.pages[url]
        tag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        headers = (("ETag", tag),)
        if etag == tag:
            return _capture(url, b"", status=304, not_modified=True, headers=headers)
        return _capture(url, body, headers=headers)


def _rows(archive: Archive, ids: list[int]) -> list[Any]:
    out = []
    for capture_id in ids:
        stored = archive.get_capture(capture_id)
        assert stored is not None
        document = stored.document
        out.append((stored.capture.url, stored.capture.sha256, document and document.checksum))
    return out


def test_run_pages_extracted_in_workers_store_what_inline_stores(tmp_path: Path) -> None:
    web = _web()
    urls = list(web)
    results = {}
    for workers in (None, 2):
        with (
            Archive(str(tmp_path / f"{workers}.db")) as archive,
            open_executor(workers=workers) as executor,
        ):
            run_id = archive.start_run(command="run")
            pages = RunPages(_Fetcher(web), archive, run_id=run_id, cycle={}, executor=executor)
            first = pages.get(urls)
            again = RunPages(_Fetcher(web), archive, run_id=run_id, cycle={}, executor=executor)
            second = again.get(urls)  # every page answers 304: the stored document comes back
            results[workers] = (
                first,
                second,
                _rows(archive, [p.capture_id for p in first.values()]),
            )
    inline, pooled = results[None], results[2]
    assert [p.document for p in pooled[0].values()] == [p.document for p in inline[0].values()]
    assert [p.capture_id for p in pooled[0].values()] == [p.capture_id for p in inline[0].values()]
    assert pooled[2] == inline[2]
    documents = [p.document for p in inline[0].values()]
    assert documents == [extract_capture(_capture(u, b)) for u, b in web.items()]
    assert sum(d is not None for d in documents) == len(urls) - 1  # the PNG is not extracted
    assert all(p.not_modified for p in pooled[1].values())
    assert [p.document for p in pooled[1].values()] == [p.document for p in inline[1].values()]
    assert [p.document is not None for p in pooled[1].values()] == [
        d is not None for d in documents
    ]


def test_keep_many_in_workers_keeps_what_keep_keeps(tmp_path: Path) -> None:
    web = _web()
    captures = [_capture(u, b) for u, b in web.items()]
    stored = {}
    for name, workers in (("inline", None), ("pool", 2)):
        with Archive(str(tmp_path / f"{name}.db")) as archive, open_executor(workers=workers) as ex:
            kept = list(keep_many(archive, iter(captures), executor=ex if workers else None))
            reused = list(
                keep_many(archive, captures, executor=ex if workers else None, reuse=True)
            )
            assert [c for c, _, _ in kept] == captures
            stored[name] = (
                [(i, d) for _, i, d in kept],
                [d for _, _, d in reused],
                _rows(archive, [i for _, i, _ in kept + reused]),
            )
    assert stored["pool"] == stored["inline"]
    # reused: the archive's copy of the same extraction (same text and checksum)
    kept_docs = [d for _, d in stored["inline"][0]]
    reused_docs = stored["inline"][1]
    assert [d and (d.checksum, d.paragraphs) for d in reused_docs] == [
        d and (d.checksum, d.paragraphs) for d in kept_docs
    ]


def test_read_copies_parsed_in_workers_are_the_same(tmp_path: Path) -> None:
    seed = SEED.read_text(encoding="utf-8")
    folder = tmp_path / "copies"
    folder.mkdir()
    paths = []
    for n in range(7):
        path = folder / f"{n}.md"
        path.write_text(seed.replace("large-scale violence", f"violence {n}"), encoding="utf-8")
        paths.append(str(path))
    (folder / "bad.md").write_text("no front matter, no URL at all\n", encoding="utf-8")
    paths += [str(folder / "bad.md"), str(folder / "missing.md")]
    with Archive(str(tmp_path / "a.db")) as archive:
        inline = read_copies(paths, archive=None)
        with open_executor(workers=2) as executor:
            pooled = read_copies(paths, archive=archive, executor=executor)
            cached = read_copies(paths, archive=archive, executor=executor)  # the parse cache
    assert pooled[0] == inline[0] == cached[0]
    assert len(inline[0]) == 7
    assert [(type(e), str(e)) for e in pooled[1]] == [(type(e), str(e)) for e in inline[1]]
    assert len(inline[1]) == 2
