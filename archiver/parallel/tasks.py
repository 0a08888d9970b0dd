"""The pure work of a job as task functions a worker process (or a Dask worker) can run.

Each function receives bytes and plain values and returns records (the frozen dataclasses of
:mod:`archiver.models`) or, for an input it cannot use, a :class:`TaskError` *value*: an
exception raised in a worker reaches the parent re-pickled, and a subclass of the tree in
:mod:`archiver.errors` may come back as something else, or not at all on some engines.
Nothing of the fetcher or the store is passed in or out: a task is a function of its
arguments, so it gives the same record inline, in a pool or on a cluster.

The ``*_batch`` variants take a list and return a list of the same length, in order: one
pickle round trip per chunk instead of per item (:func:`archiver.parallel.ordered.map_ordered`
sends the chunks). Module-level functions only, so pickle can name them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from archiver import errors
from archiver.errors import ArchiverError, ExtractionError, InputError
from archiver.extract.extractor import extract
from archiver.fetch.captures import is_html
from archiver.models import CanonicalCopy, Capture, Document, Drift
from archiver.verify.canonical import canonical_from_bytes, copy_to_json
from archiver.verify.compare import compare, normalized_paragraphs

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class TaskError:
    """An input a task could not turn into a record: which one, the error's class, the line."""

    path: str  # the copy's path, or the page's URL
    kind: str  # the class name in archiver.errors: "CanonicalError", "ExtractionError", ...
    message: str

    @classmethod
    def of(cls, path: str, exc: ArchiverError) -> TaskError:
        return cls(path=path, kind=type(exc).__name__, message=str(exc))

    def to_exception(self) -> ArchiverError:
        """The error as the exception the caller would have caught inline (same class)."""
        kind = getattr(errors, self.kind, None)
        if isinstance(kind, type) and issubclass(kind, ArchiverError):
            return kind(self.message)
        return InputError(self.message)


@dataclass(frozen=True, kw_only=True)
class ParsedCopy:
    """A copy parsed from its bytes, with what the parse cache keeps beside it."""

    copy: CanonicalCopy
    sha256: str  # hex SHA-256 of the bytes (the parse cache's key)
    normalized: tuple[str, ...]  # the paragraphs normalized (what compare needs)


def _looks_html(body: bytes, content_type: str | None) -> bool:
    """The fetcher's one rule for "a page to extract", asked without a real capture."""
    probe = Capture(
        url="", final_url="", status=200, body=body[:512], content_type=content_type, sha256="-"
    )
    return is_html(probe)


def extract_outcome(body: bytes, url: str, content_type: str | None) -> Document | TaskError | None:
    """The document in an HTML page's bytes; None if it is not HTML; the error if unreadable."""
    if not body or not _looks_html(body, content_type):
        return None
    try:
        return extract(body, url=url, content_type=content_type)
    except ExtractionError as exc:
        return TaskError.of(url, exc)


def extract_task(body: bytes, url: str, content_type: str | None) -> Document | None:
    """The document in a successful HTML answer, or None (not HTML, unreadable), as
    ``verify.job.extract_capture`` gives for a capture; the caller checks the status first."""
    outcome = extract_outcome(body, url, content_type)
    if isinstance(outcome, TaskError):
        log.warning("%s: not extracted: %s", url, outcome.message)
        return None
    return outcome


def extract_batch(
    items: Sequence[tuple[bytes, str, str | None]],
) -> list[Document | TaskError | None]:
    """:func:`extract_outcome` of each ``(body, url, content_type)``, in order.

    The errors come back as values so that the parent, not a worker, logs them.
    """
    return [extract_outcome(body, url, content_type) for body, url, content_type in items]


def parse_copy_task(data: bytes, path: str) -> CanonicalCopy | TaskError:
    """A canonical copy parsed from its bytes, or why it cannot be read."""
    try:
        return canonical_from_bytes(data, path=path)
    except InputError as exc:
        return TaskError.of(path, exc)


def parse_copy_batch(items: Sequence[tuple[bytes, str]]) -> list[ParsedCopy | TaskError]:
    """Each ``(bytes, path)`` parsed, hashed and its paragraphs normalized, in order."""
    out: list[ParsedCopy | TaskError] = []
    for data, path in items:
        parsed = parse_copy_task(data, path)
        if isinstance(parsed, TaskError):
            out.append(parsed)
            continue
        out.append(
            ParsedCopy(
                copy=parsed,
                sha256=hashlib.sha256(data).hexdigest(),
                normalized=normalized_paragraphs(parsed.paragraphs),
            )
        )
    return out


def _compare_normalized(
    copy: CanonicalCopy, document: Document, normalized: Sequence[str]
) -> Drift:
    """``compare`` told the copy's normalized paragraphs (nothing cached in the worker)."""
    return compare(copy, document, normalized=normalized)


def compare_task(copy: CanonicalCopy, document: Document) -> Drift:
    """The drift verdict of a live document against a copy (``verify.compare.compare``)."""
    return compare(copy, document)


def compare_batch(
    items: Sequence[tuple[CanonicalCopy, Document] | tuple[CanonicalCopy, Document, Sequence[str]]],
) -> list[Drift]:
    """Each ``(copy, document[, normalized paragraphs of the copy])`` compared, in order.

    The normalized paragraphs, when given (from :class:`ParsedCopy` or the parse cache),
    spare the worker normalizing the copy again; the verdict is the same without them.
    """
    out: list[Drift] = []
    for item in items:
        copy, document = item[0], item[1]
        if len(item) == 3:
            out.append(_compare_normalized(copy, document, item[2]))
        else:
            out.append(compare(copy, document))
    return out


def parse_and_compare_batch(
    items: Sequence[tuple[bytes, str, Document | None]],
) -> list[tuple[ParsedCopy, Drift | None] | TaskError]:
    """Parse each copy and compare it with the live document given beside it (None: no page).

    One round trip where the live document is known before the copy is read (a run that
    fetched the page, a benchmark); otherwise parse, look up by ``copy.url``, then compare.
    """
    out: list[tuple[ParsedCopy, Drift | None] | TaskError] = []
    parsed = parse_copy_batch([(data, path) for data, path, _ in items])
    for outcome, (_, _, document) in zip(parsed, items, strict=True):
        if isinstance(outcome, TaskError):
            out.append(outcome)
            continue
        drift = None
        if document is not None:
            drift = _compare_normalized(outcome.copy, document, outcome.normalized)
        out.append((outcome, drift))
    return out


def copy_verdict_batch(
    items: Sequence[tuple[bytes | ParsedCopy, str, Document | None]],
) -> list[tuple[CanonicalCopy | None, Drift | None, str | None] | TaskError]:
    """For each copy — its bytes (a new copy, parsed here) or the :class:`ParsedCopy` the
    parse cache gave — and the live document given beside it (None: no page): the parsed
    copy (None when it was given), the drift against that document (None without one), and
    the parse cache's JSON of a new parse (``canonical.copy_to_json``, with the normalized
    paragraphs; None when it was given).

    The pure half of ``verify --offline``: the parent reads the files, looks up the pages
    and stores; everything a copy costs in between runs here, in one round trip. What comes
    back is only what the parent uses: not the normalized paragraphs again (the cache's
    JSON holds them) nor the bytes' hash (the parent hashed them).
    """
    out: list[tuple[CanonicalCopy | None, Drift | None, str | None] | TaskError] = []
    for source, path, document in items:
        if isinstance(source, ParsedCopy):
            copy, normalized = source.copy, source.normalized
        else:
            parsed = parse_copy_task(source, path)
            if isinstance(parsed, TaskError):
                out.append(parsed)
                continue
            copy, normalized = parsed, normalized_paragraphs(parsed.paragraphs)
        drift = None
        if document is not None:
            drift = _compare_normalized(copy, document, normalized)
        if isinstance(source, ParsedCopy):
            out.append((None, drift, None))
        else:
            out.append((copy, drift, copy_to_json(copy, normalized)))
    return out
