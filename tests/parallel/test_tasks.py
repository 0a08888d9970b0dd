"""The task functions give the same records inline, in a process pool and on a Dask cluster.

Real material: every bundled page (``tests/web/pages``, ``tests/data/extract``) and the seed
copy with variations made from it (edited, a paragraph gone, unreadable in three ways).
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from archiver.capture.snapshot import extract_capture
from archiver.errors import CanonicalError
from archiver.extract.extractor import extract
from archiver.models import CanonicalCopy, Capture, Document
from archiver.parallel.executor import open_executor
from archiver.parallel.ordered import map_ordered
from archiver.parallel.tasks import (
    ParsedCopy,
    TaskError,
    compare_batch,
    compare_task,
    extract_batch,
    extract_task,
    parse_and_compare_batch,
    parse_copy_batch,
    parse_copy_task,
)
from archiver.verify.canonical import canonical_from_bytes
from archiver.verify.compare import compare

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([*ROOT.glob("tests/web/pages/*.html"), *ROOT.glob("tests/data/extract/*.html")])
SEED = ROOT / "snapshots" / "2017-03-30-trump-le-pen-and-other-fleeting-relationships-a57583.md"


def _pages() -> list[tuple[bytes, str, str | None]]:
    items: list[tuple[bytes, str, str | None]] = []
    for path in PAGES:
        url = f"https://{path.parent.name}.example/{path.stem}"
        items.append((path.read_bytes(), url, None))  # charset sniffed, as a saved file
        items.append((path.read_bytes(), url, "text/html; charset=utf-8"))
    items.append((b"%PDF-1.7 not a page", "https://x.example/file.pdf", "application/pdf"))
    items.append((b"\x89PNG\r\n\x1a\n\x00\x00", "https://x.example/p", "text/html"))  # not HTML
    items.append((b"", "https://x.example/empty", "text/html"))
    return items


def _copies() -> list[tuple[bytes, str]]:
    seed = SEED.read_bytes()
    items = [
        (seed, "seed.md"),
        (seed.replace(b"large-scale violence", b"large-scale force"), "edited.md"),
        (seed.replace(b"Russian business owners tend to form", b"Russian owners form"), "b.md"),
        (b"# A title\n\nNo URL anywhere in this copy.\n", "no-url.md"),
        (b"\x00\x01binary", "binary.md"),
        (b"\xff\xfe not utf-8", "latin.md"),
        (b"---\nurl: [unclosed\n---\n\nBody.\n", "bad-yaml.md"),
    ]
    items += [(path.read_bytes(), path.name) for path in sorted(ROOT.glob("snapshots/*.md"))]
    return items


def _reference_documents() -> list[Document]:
    seed_page = ROOT / "tests" / "web" / "pages" / "mt-a57583.html"
    base = extract(seed_page.read_bytes(), url="https://www.themoscowtimes.com/x")
    return [base, *(d for d in extract_batch(_pages()) if isinstance(d, Document))]


def _records(executor: Any) -> dict[str, list[Any]]:
    """Every task's records through ``executor`` (chunks of 3, several in flight)."""
    pages = _pages()
    copies = _copies()
    parsed = list(map_ordered(executor, parse_copy_batch, copies, chunk=3))
    good = [p for p in parsed if isinstance(p, ParsedCopy)]
    documents = _reference_documents()
    pairs = [(p.copy, d, p.normalized) for p in good for d in documents]
    return {
        "extract": list(map_ordered(executor, extract_batch, pages, chunk=3)),
        "parse": parsed,
        "compare": list(map_ordered(executor, compare_batch, pairs, chunk=5)),
        "both": list(
            map_ordered(
                executor,
                parse_and_compare_batch,
                [(data, path, documents[0]) for data, path in copies],
                chunk=2,
            )
        ),
        "single": [
            executor.submit(extract_task, *pages[0]).result(),
            executor.submit(parse_copy_task, *copies[0]).result(),
            executor.submit(compare_task, good[0].copy, documents[0]).result(),
        ],
    }


@pytest.fixture(scope="module")
def inline_records() -> dict[str, list[Any]]:
    with open_executor() as executor:
        return _records(executor)


def test_tasks_match_the_functions_the_jobs_call_today(
    inline_records: dict[str, list[Any]],
) -> None:
    pages = _pages()
    for (body, url, content_type), outcome in zip(pages, inline_records["extract"], strict=True):
        capture = Capture(url=url, final_url=url, status=200, body=body, content_type=content_type)
        expected = extract_capture(capture)
        assert (outcome if isinstance(outcome, Document) else None) == expected, url
        assert extract_task(body, url, content_type) == expected
    documents = [d for d in inline_records["extract"] if isinstance(d, Document)]
    assert len(documents) == 2 * len(PAGES)  # every bundled page is an article
    assert {d.profile for d in documents} >= {"moscowtimes", "generic"}
    pdf, png, empty = inline_records["extract"][-3:]
    assert pdf is None and empty is None  # not HTML: nothing to extract, nothing wrong
    # said to be HTML but a PNG: the error comes back as a value, for the parent to log
    assert png == TaskError(
        path="https://x.example/p",
        kind="ExtractionError",
        message="not an HTML page: looks like a PNG image",
    )

    for (data, path), outcome in zip(_copies(), inline_records["parse"], strict=True):
        try:
            expected_copy: CanonicalCopy | None = canonical_from_bytes(data, path=path)
        except CanonicalError:
            expected_copy = None
        if expected_copy is None:
            assert isinstance(outcome, TaskError) and outcome.kind == "CanonicalError"
            assert outcome.path == path and "\n" not in outcome.message
            assert isinstance(outcome.to_exception(), CanonicalError)
        else:
            assert isinstance(outcome, ParsedCopy) and outcome.copy == expected_copy
    errors = [o for o in inline_records["parse"] if isinstance(o, TaskError)]
    assert [e.path for e in errors] == ["no-url.md", "binary.md", "latin.md", "bad-yaml.md"]

    good = [p.copy for p in inline_records["parse"] if isinstance(p, ParsedCopy)]
    expected_drifts = [compare(c, d) for c in good for d in _reference_documents()]
    assert inline_records["compare"] == expected_drifts
    statuses = {d.status for d in expected_drifts}
    assert {"cosmetic", "edited", "rewritten"} <= statuses  # the comparisons are not all alike


def _same(left: Sequence[Any], right: Sequence[Any]) -> None:
    assert len(left) == len(right)
    for a, b in zip(left, right, strict=True):
        assert a == b


def test_a_process_pool_gives_identical_records(inline_records: dict[str, list[Any]]) -> None:
    with open_executor(workers=2) as executor:
        pooled = _records(executor)
    for name in inline_records:
        _same(pooled[name], inline_records[name])


def test_records_and_errors_survive_pickling(inline_records: dict[str, list[Any]]) -> None:
    for values in inline_records.values():
        assert pickle.loads(pickle.dumps(values)) == values


@pytest.mark.slow
def test_a_local_cluster_gives_identical_records(
    inline_records: dict[str, list[Any]], local_cluster: str
) -> None:
    assert local_cluster.startswith("tcp://127.0.0.1:")
    with open_executor(scheduler=local_cluster) as executor:
        clustered = _records(executor)
    for name in inline_records:
        _same(clustered[name], inline_records[name])


def test_comparing_with_known_normalized_paragraphs_keeps_nothing_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from archiver.verify import compare as compare_module

    # An empty cache of this process's own: a job run earlier in the session (the CLI in
    # process) may have remembered the seed's paragraphs there, as it should.
    monkeypatch.setattr(compare_module, "_KNOWN", {})
    (parsed,) = parse_copy_batch([(SEED.read_bytes(), "seed.md")])
    assert isinstance(parsed, ParsedCopy)
    document = _reference_documents()[0]
    before = len(compare_module._KNOWN)
    (drift,) = compare_batch([(parsed.copy, document, parsed.normalized)])
    assert drift == compare(parsed.copy, document)
    (result,) = parse_and_compare_batch([(SEED.read_bytes(), "seed.md", document)])
    assert not isinstance(result, TaskError) and result[1] == drift
    assert parsed.copy.paragraphs not in compare_module._KNOWN
    assert len(compare_module._KNOWN) == before
