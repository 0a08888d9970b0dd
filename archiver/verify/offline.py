"""``verify --offline`` with each copy's pure work — parse, normalize, compare — in an executor.

:func:`verify_offline` gives what :func:`archiver.verify.job.verify_paths` gives with no
fetcher (the same copies, verdicts, stored rows and errors, in the same order), but a copy
costs the parent only what must happen there: reading and hashing the file, the parse cache,
the stored page's look-up, and the one writer. For that the parent looks the page up
*before* the copy is parsed, from the URL the copy's bytes name (:func:`url_hint`), and
sends the bytes and the page's document together (``tasks.copy_verdict_batch``): one round
trip per chunk. A hint that turns out wrong (the parse finds another URL) costs a look-up
and a comparison here, never a different verdict.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from archiver.capture.pages import Page, StoredPages
from archiver.errors import InputError
from archiver.models import CanonicalCopy, Document, Drift
from archiver.verify import copies as reading
from archiver.verify.canonical import (
    PARSER_VERSION,
    copy_and_normalized_from_json,
    copy_to_json,
)
from archiver.verify.compare import compare, normalized_paragraphs
from archiver.verify.heap import few_full_collections
from archiver.verify.job import Verification, VerifyResult, verify_many

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from archiver.archive.store import Archive

#: Copies verified and stored together while the workers compute the next chunks.
VERIFY_BATCH = 250
#: Copies whose pages are looked up in the archive together, ahead of sending them.
LOOKUP_BATCH = 300

_URL_IN_FRONT_MATTER = re.compile(rb"^url[ \t]*:[ \t]*[\"']?([^\s\"']+)", re.MULTILINE)
_URL_AFTER_LABEL = re.compile(rb"[ \t]*original[ \t]+url[ \t]*:\s*<?([^\s<>]+)", re.I)


def url_hint(data: bytes) -> str | None:
    """The original URL a copy most likely names, read from its bytes without parsing it.

    A guess, not the copy's URL: ``parse_canonical`` decides, and :func:`verify_offline`
    checks the hint against the parsed copy's ``url`` before using what it looked up. Read
    from the bytes (ASCII case folding is one C pass; a ``str`` of Cyrillic text is not).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    found = None
    if data.startswith(b"---"):
        end = data.find(b"\n---", 3)
        found = _URL_IN_FRONT_MATTER.search(data, 3, end if end > 0 else len(data))
    if found is None:
        lowered = data.lower()
        at = lowered.find(b"original")
        while at >= 0 and found is None:
            found = _URL_AFTER_LABEL.match(data, data.rfind(b"\n", 0, at) + 1)
            at = lowered.find(b"original", at + 8)
    if found is None:
        return None
    try:
        return found.group(1).decode("utf-8")
    except UnicodeDecodeError:
        return None


class _LookedUp:
    """:class:`StoredPages`, each URL looked up once for the whole job (a page strategy)."""

    def __init__(self, archive: Archive) -> None:
        self.stored = StoredPages(archive)
        self.pages: dict[str, Page] = {}

    def page(self, url: str) -> Page:
        page = self.pages.get(url)
        if page is None:
            page = self.pages[url] = self.stored.get([url])[url]
        return page

    def get(self, urls: Sequence[str]) -> dict[str, Page]:
        self.prefetch(urls)
        return {url: self.page(url) for url in dict.fromkeys(urls)}

    def forget(self, url: str) -> None:
        """No copy needs this page any more: let it go (looked up again if one does)."""
        self.pages.pop(url, None)

    def prefetch(self, urls: Sequence[str]) -> None:
        """Look up together the URLs not looked up yet (one batch, not one query each)."""
        missing = [url for url in dict.fromkeys(urls) if url not in self.pages]
        if missing:
            self.pages.update(self.stored.get(missing))


def verify_offline(
    paths: Sequence[str],
    *,
    archive: Archive,
    executor: Executor,
    errors: list[InputError] | None = None,
    run_id: int | None = None,
) -> VerifyResult:
    """Every copy against the newest stored capture of its URL, the pure work in ``executor``.

    As :func:`~archiver.verify.job.verify_paths` with ``fetcher=None``: an unreadable copy
    raises before anything is stored unless ``errors`` is given (then it is appended there).
    """
    with few_full_collections():  # the job holds every copy and verdict: docs in heap.py
        done: list[Verification] = []
        for batch in _batches(
            paths, archive=archive, executor=executor, errors=errors, run_id=run_id
        ):
            done.extend(batch)
        return VerifyResult(verifications=tuple(done))


def verify_offline_batches(
    paths: Sequence[str],
    *,
    archive: Archive,
    executor: Executor,
    errors: list[InputError],
    run_id: int | None = None,
) -> Iterator[tuple[Verification, ...]]:
    """:func:`verify_offline`'s verifications a batch at a time, each batch as soon as it is
    stored, while the workers compute the next ones: a caller that reports each batch as it
    comes (the CLI) does so alongside the workers and need not hold every verdict. The
    unreadable copies are appended to ``errors`` (by the end); the same verifications, in the
    same order, as :func:`verify_offline` gives."""
    yield from _batches(paths, archive=archive, executor=executor, errors=errors, run_id=run_id)


def _batches(
    paths: Sequence[str],
    *,
    archive: Archive,
    executor: Executor,
    errors: list[InputError] | None,
    run_id: int | None,
) -> Iterator[tuple[Verification, ...]]:
    from archiver.parallel.ordered import map_ordered
    from archiver.parallel.tasks import ParsedCopy, TaskError, copy_verdict_batch

    # A first, empty task starts the workers (a fork server importing the task module takes
    # ~0.3 s) while the first files are read and hashed here.
    executor.submit(int)
    bad: list[InputError] = []
    pages = _LookedUp(archive)
    # Per readable copy, in order: its bytes' SHA-256, the URL whose page was sent, the document
    # sent, and the copy when the parse cache gave it.
    sent: deque[tuple[str, str | None, Document | None, CanonicalCopy | None]] = deque()
    # How many copies sent or being verified need each page; a page is let go when none does,
    # so the job holds the pages of the copies in flight, not of every copy.
    wanted: Counter[str] = Counter()

    def work() -> Iterator[tuple[bytes | ParsedCopy, str, Document | None]]:
        # The files are read, hashed and looked up a block at a time, as the workers need
        # them: the first tasks go out after one block, not after every file of the job.
        for at in range(0, len(paths), LOOKUP_BATCH):
            raw, unreadable, cached = reading._read_raw(paths[at : at + LOOKUP_BATCH], archive)
            bad.extend(unreadable)
            block: list[tuple[bytes | ParsedCopy, str, str, str | None, CanonicalCopy | None]] = []
            for path, content, sha in raw:
                source: bytes | ParsedCopy
                copy: CanonicalCopy | None
                url: str | None
                if sha in cached:
                    copy, saved = copy_and_normalized_from_json(cached[sha], path=path)
                    normalized = tuple(saved) if saved is not None else ()
                    if len(normalized) != len(copy.paragraphs):
                        normalized = normalized_paragraphs(copy.paragraphs)
                    source = ParsedCopy(copy=copy, sha256=sha, normalized=normalized)
                    url = copy.url
                else:
                    source, url, copy = content, url_hint(content), None
                block.append((source, path, sha, url, copy))
            del raw  # the bytes go with the tasks, not kept here
            # The pages of these copies looked up together: one batch, not a query each.
            pages.prefetch([url for _, _, _, url, _ in block if url is not None])
            for source, path, sha, url, copy in block:
                document = pages.page(url).document if url is not None else None
                sent.append((sha, url, document, copy))
                if url is not None:
                    wanted[url] += 1
                yield source, path, document

    outcomes = map_ordered(executor, copy_verdict_batch, work(), chunk=reading.PARSE_CHUNK)
    # Verified and stored a batch at a time while the workers compute the next chunks, so the
    # parent's share overlaps theirs; the same rows in the same order as one batch. Unless
    # errors must raise before anything is stored: then all at the end, as verify_paths does.
    batch = VERIFY_BATCH if errors is not None else len(paths) + 1
    copies: list[CanonicalCopy] = []
    drifts: dict[str, tuple[Document, Drift]] = {}
    fresh: list[tuple[str, str]] = []
    used: list[str] = []  # the pages this batch's copies needed, once per copy

    def release() -> None:
        for url in used:
            wanted[url] -= 1
            if wanted[url] <= 0:
                del wanted[url]
                pages.forget(url)
        used.clear()

    def verify_batch() -> tuple[Verification, ...]:
        archive.save_parses(fresh, PARSER_VERSION)
        fresh.clear()
        found: tuple[Verification, ...] = ()
        if copies:
            found = verify_many(
                copies, fetcher=None, archive=archive, run_id=run_id, pages=pages, drifts=drifts
            ).verifications
        copies.clear()
        drifts.clear()
        release()
        return found

    for outcome in outcomes:
        sha, url, document, given = sent.popleft()
        if url is not None:
            used.append(url)
        if isinstance(outcome, TaskError):
            error = outcome.to_exception()
            bad.append(error if isinstance(error, InputError) else InputError(str(error)))
            continue
        parsed, drift, cache_json = outcome
        if parsed is not None:
            copy = parsed
            fresh.append(
                (sha, cache_json or copy_to_json(copy, normalized_paragraphs(copy.paragraphs)))
            )
        else:
            assert given is not None
            copy = given
        if url != copy.url:  # the hint was wrong: the page of the URL the copy names
            wanted[copy.url] += 1
            used.append(copy.url)
            document = pages.page(copy.url).document
            drift = compare(copy, document) if document else None
        if document is not None and drift is not None:
            drifts[copy.path] = (document, drift)
        copies.append(copy)
        if len(copies) >= batch:
            yield verify_batch()
    if bad and errors is None:
        archive.save_parses(fresh, PARSER_VERSION)
        raise bad[0]
    last = verify_batch()
    if errors is not None:
        errors.extend(bad)
    if last:
        yield last
