"""WARC, ARC and WACZ import that brings everything usable in, and trusts no length.

Each ``response`` (an ARC record is read as one), ``resource`` and ``revisit`` record with an
http(s) target becomes a capture; an HTML page among them is extracted as a fetched one is, so
``search``, ``links`` and ``verify --offline`` work on it. Records exported by archiver come back
exactly, from their metadata record (headers, redirect chain, extraction).

Nothing is taken on trust: a payload is read in blocks and refused past the size cap (the
fetcher's, 32 MiB by default), so a small gzip that inflates to a gigabyte costs a block of
memory; a record whose digest fails, or which the file ends before its ``Content-Length`` is
reached, is still imported, and flagged (``capture_flags``; fsck and the summary list them); a
file that stops being readable half-way keeps what came before it. What warcio writes to stderr
and logs is caught and reported in the summary, never on the terminal.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import IO, TYPE_CHECKING, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from archiver.archive.records import capture_from_json, document_from_json
from archiver.archive.warc_records import HOP_HEADER
from archiver.archive.warc_records import WarcArchive as Archive
from archiver.archive.warc_sources import (
    WarcSource,
    open_sources,
    read_metadata,
    whole_file_gzip,
)
from archiver.errors import InputError
from archiver.extract.extractor import extract_capture
from archiver.fetch.fetcher import FetchPolicy
from archiver.models import Capture, Document, sha256_hex

if TYPE_CHECKING:
    from concurrent.futures import Executor

log = logging.getLogger(__name__)

#: With an executor: records per chunk sent to the workers, and chunks in flight. What is read
#: ahead of the writer is held in memory (each payload at most the size cap), so both are small.
CHUNK = 8
IN_FLIGHT = 4

BLOCK = 1 << 16
MAX_WARNINGS = 20
MAX_FLAGS_SHOWN = 100


@dataclass(frozen=True, kw_only=True)
class Flag:
    """A record imported with something wrong: ``digest_failed`` or ``truncated``."""

    capture_id: int
    url: str
    flag: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"capture_id": self.capture_id, "url": self.url, "flag": self.flag,
                "detail": self.detail}  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class ImportSummary:
    """What one file gave: records read by type, captures added, skipped and why, flags."""

    path: str
    added: int = 0
    already_present: int = 0
    extracted: int = 0
    records: dict[str, int] = field(default_factory=dict)
    imported: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    flags: tuple[Flag, ...] = ()
    warnings: tuple[str, ...] = ()
    file_error: str | None = None

    @property
    def problems(self) -> bool:
        """Whether anything was wrong: a flagged record or a file not readable to its end."""
        return bool(self.flags) or self.file_error is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "added": self.added,
            "already_present": self.already_present,
            "extracted": self.extracted,
            "records": dict(sorted(self.records.items())),
            "imported": dict(sorted(self.imported.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "flagged": len(self.flags),
            "flags": [f.to_json() for f in self.flags[:MAX_FLAGS_SHOWN]],
            "warnings": list(self.warnings),
            "file_error": self.file_error,
        }

    def lines(self) -> list[str]:
        """The summary for a person: one line, then one per kind of problem."""
        imported = ", ".join(f"{n} {kind}" for kind, n in sorted(self.imported.items()))
        out = [
            f"{self.path}: {self.added} captures imported ({imported or 'nothing'}), "
            f"{self.already_present} already present, {self.extracted} pages extracted"
        ]
        read = ", ".join(f"{n} {kind}" for kind, n in sorted(self.records.items()))
        out.append(f"  records read: {read or 'none'}")
        for reason, n in sorted(self.skipped.items()):
            out.append(f"  skipped {n}: {reason}")
        by_flag = Counter(f.flag for f in self.flags)
        for flag, n in sorted(by_flag.items()):
            urls = ", ".join([f.url for f in self.flags if f.flag == flag][:3])
            out.append(f"  flagged {n} {flag}: {urls}{' ...' if n > 3 else ''}")
        if self.file_error:
            out.append(f"  {self.file_error}")
        if self.warnings:
            out.append(f"  warnings ({len(self.warnings)}): {self.warnings[0][:200]}")
        return out


class _Tally:
    """The counts an import keeps as it goes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.records: Counter[str] = Counter()
        self.imported: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.flags: list[Flag] = []
        self.added = self.already_present = self.extracted = 0
        self.file_error: str | None = None
        self.warnings: list[str] = []

    def summary(self, warnings: list[str]) -> ImportSummary:
        warnings = self.warnings + warnings
        return ImportSummary(
            path=self.path,
            added=self.added,
            already_present=self.already_present,
            extracted=self.extracted,
            records=dict(self.records),
            imported=dict(self.imported),
            skipped=dict(self.skipped),
            flags=tuple(self.flags),
            warnings=tuple(warnings[:MAX_WARNINGS]),
            file_error=self.file_error,
        )


class _Caught(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _quiet_libraries() -> Iterator[list[str]]:
    """What warcio prints to stderr or logs, caught (lines, for the summary)."""
    buffer = io.StringIO()
    handler = _Caught()
    warcio_log = logging.getLogger("warcio")
    saved = warcio_log.propagate
    warcio_log.addHandler(handler)
    warcio_log.propagate = False
    lines: list[str] = []
    try:
        with contextlib.redirect_stderr(buffer):
            yield lines
    finally:
        warcio_log.removeHandler(handler)
        warcio_log.propagate = saved
        caught = list(handler.messages)
        # warcio's own warnings are a few indented lines each, starting with WARNING/ERROR.
        first, *rest = buffer.getvalue().split("WARNING:")
        texts = [" ".join(first.split())] + [f"WARNING: {' '.join(b.split())}" for b in rest]
        caught += [text[:300] for text in texts if text]
        caught = list(dict.fromkeys(caught))
        lines.extend(caught)
        for line in caught:
            log.debug("warcio: %s", line)


def _read_bounded(stream: IO[bytes], cap: int) -> bytes | None:
    """At most ``cap`` bytes of a stream, or None when it holds more (read no further)."""
    chunks: list[bytes] = []
    size = 0
    while block := stream.read(BLOCK):
        size += len(block)
        if size > cap:
            return None
        chunks.append(block)
    return b"".join(chunks)


def _length_flags(record: Any, body: bytes, missing: int, bad_end: bool) -> list[tuple[str, str]]:
    """What the lengths say is wrong with a record: cut short, or a wrong Content-Length.

    A record the file ends inside is ``truncated``, unless its HTTP body is whole by its own
    Content-Length (an ARC's length field is often off by a few bytes). A body shorter than
    its HTTP Content-Length in a complete record is not: browser-based crawlers keep no body
    for a redirect. A record not followed by the blank lines WARC requires has a wrong
    Content-Length (``bad_length``).
    """
    flags: list[tuple[str, str]] = []
    http_headers = record.http_headers
    promised: int | None = None
    if http_headers is not None and not (
        http_headers.get_header("Transfer-Encoding") or http_headers.get_header("Content-Encoding")
    ):
        with contextlib.suppress(TypeError, ValueError):
            promised = int(http_headers.get_header("Content-Length"))
    whole = promised is not None and len(body) >= promised
    if missing and not whole:
        declared = record.rec_headers.get_header("Content-Length")
        flags.append(("truncated", f"the file ends {missing} bytes short of the record's "
                                   f"Content-Length ({declared})"))  # fmt: skip
    if bad_end:
        flags.append(("bad_length", "the record is not followed by the blank lines WARC "
                                    "requires: its Content-Length is wrong"))  # fmt: skip
    return flags


def _drain(record: Any) -> int:
    """Read what is left of a record's block (so its digests are checked); bytes missing."""
    while record.raw_stream.read(BLOCK):
        pass
    return int(getattr(record.raw_stream, "limit", 0) or 0)


@dataclass(frozen=True)
class _Item:
    """A capture read from the file, on its way to the writer."""

    capture: Capture
    document: Document | None  # from archiver's metadata record; None: extract it
    kind: str
    flags: list[tuple[str, str]] | None


def _given(document: Document | None) -> Callable[[Capture], Document | None]:
    """An ``extract`` that answers what a worker already extracted."""
    return lambda _capture: document


class _Importer:
    """Reads records into captures (:meth:`add` queues each), and stores them in file order
    (:meth:`_write`). With an ``executor`` the pages are extracted in its workers
    (``parallel.stages.extract_captures``) while the file is read on; this process stays the
    one writer, and the archive is the same as inline."""

    def __init__(
        self,
        archive: Archive,
        source: WarcSource,
        run_id: int,
        cap: int,
        executor: Executor | None = None,
    ) -> None:
        self.archive = archive
        self.source = source
        self.run_id = run_id
        self.cap = cap
        self.executor = executor
        self.tally = _Tally(source.path)
        # WARC-Payload-Digest -> a capture with that payload, its body left out (it is in the
        # archive by then): a file of many responses does not stay in memory.
        self.by_digest: dict[str, Capture] = {}
        self.meta_by_response: dict[str, dict[str, Any]] = {}
        self._queued: deque[_Item] = deque()
        # SHA-256 -> payload of a capture read but not stored yet (read ahead of the writer):
        # a revisit of it finds its payload here rather than in the archive.
        self._unwritten: dict[str, bytes] = {}

    def run(self, meta_alone: list[dict[str, Any]]) -> None:
        try:
            self._pump(self.read(gunzip=False))
        except ArchiveLoadFailed as exc:
            if not whole_file_gzip(exc):
                raise
            # Gzipped whole, not record by record: read it again as one stream (what the first
            # pass added is found already present, not added twice).
            self.tally = _Tally(self.source.path)
            self._queued.clear()
            self._unwritten.clear()
            self._pump(self.read(gunzip=True))
            self.tally.warnings.append("the file is gzipped whole, not one member per record; "
                                       "replay tools need `warcio recompress` on it")  # fmt: skip
        for meta in meta_alone:
            capture = capture_from_json(meta, b"")
            self.add(capture, document_from_json(meta.get("document")), "archiver", None)
        self._pump(self._drain())

    def _drain(self) -> Iterator[_Item]:
        while self._queued:
            yield self._queued.popleft()

    def _pump(self, items: Iterator[_Item]) -> None:
        """Store every item in order, each page extracted inline or in the executor's workers."""
        if self.executor is None:
            for item in items:
                self._write(item, extract_capture)
            return
        from archiver.parallel.stages import extract_captures

        held: deque[_Item] = deque()

        def captures() -> Iterator[Capture]:
            for item in items:
                held.append(item)
                needed = item.document is None and not self.archive.has_capture(item.capture)
                yield item.capture if needed else replace(item.capture, body=b"")

        for _, document in extract_captures(
            self.executor, captures(), chunk=CHUNK, in_flight=IN_FLIGHT
        ):
            self._write(held.popleft(), _given(document))

    def read(self, *, gunzip: bool) -> Iterator[_Item]:
        """The items of the file, read lazily: a record is read when the one before is taken."""
        for member, stream in self.source.streams(gunzip=gunzip):
            try:
                iterator = ArchiveIterator(stream, arc2warc=True, check_digests=True)
                for record in iterator:
                    self.record(record, iterator)
                    yield from self._drain()
            except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
                if whole_file_gzip(exc) and not gunzip:
                    raise
                where = f"{self.source.path}{'!' + member if member else ''}"
                first = " ".join(str(exc).split())[:200]
                if not self.tally.records:
                    raise InputError(f"{where}: not a readable WARC or ARC file ({first})") from exc
                self.tally.file_error = (
                    f"{where}: unreadable after {sum(self.tally.records.values())} records "
                    f"({first}); what came before is imported"
                )

    def record(self, record: Any, iterator: ArchiveIterator) -> None:
        rec_type = record.rec_type or "unknown"
        self.tally.records[rec_type] += 1
        if rec_type not in ("response", "resource", "revisit"):
            if rec_type not in ("warcinfo", "request", "metadata"):
                self.tally.skipped[f"{rec_type} record (not a capture)"] += 1
            return
        uri = record.rec_headers.get_header("WARC-Target-URI") or ""
        if not uri.lower().startswith(("http://", "https://")):
            self.tally.skipped[f"{rec_type} record of a non-http(s) URI"] += 1
            return
        if record.rec_headers.get_header(HOP_HEADER):
            self.tally.skipped["redirect hop of an archiver export (kept in its capture)"] += 1
            return
        record_id = record.rec_headers.get_header("WARC-Record-ID") or ""
        meta = self.meta_by_response.get(record_id)
        if rec_type == "revisit":
            self.revisit(record, meta)
            return
        if rec_type == "response" and record.http_headers is None:
            self.tally.skipped["response record without HTTP headers"] += 1
            return
        try:
            stream = record.raw_stream if meta is not None else record.content_stream()
            body = _read_bounded(stream, self.cap)
        except (OSError, ValueError, EOFError) as exc:
            self.tally.skipped[f"payload unreadable ({type(exc).__name__})"] += 1
            return
        if body is None:
            self.tally.skipped[f"payload larger than the size cap ({self.cap} bytes)"] += 1
            log.warning("%s: %s is larger than %d bytes; not imported", self.source.path, uri,
                        self.cap)  # fmt: skip
            return
        errors_before = iterator.err_count
        missing = _drain(record)
        iterator.read_to_end()  # up to the next record: warcio checks the blank lines there
        flags = _length_flags(record, body, missing, iterator.err_count > errors_before)
        if record.digest_checker.passed is False:
            problems = "; ".join(record.digest_checker.problems) or "digest failed"
            flags.append(("digest_failed", problems))
        if meta is not None:
            if sha256_hex(body) != meta["sha256"]:
                flags.append(("digest_failed", "payload does not match its archiver SHA-256"))
            capture = capture_from_json(meta, body)
            document = document_from_json(meta.get("document"))
            kind = "archiver"
        else:
            truncated = any(flag == "truncated" for flag, _ in flags)
            capture = self.foreign(record, uri, body, truncated=truncated)
            document = None
            kind = rec_type
        digest = record.rec_headers.get_header("WARC-Payload-Digest")
        if digest and not flags:
            self.by_digest.setdefault(digest, replace(capture, body=b""))
        self.add(capture, document, kind, flags)

    def revisit(self, record: Any, meta: dict[str, Any] | None) -> None:
        """A revisit: the payload of the record it refers to, found in the file or the archive."""
        _drain(record)
        if meta is not None and meta.get("kind") != "response":
            capture = capture_from_json(meta, b"")  # an exported 304
            self.add(capture, document_from_json(meta.get("document")), "archiver", None)
            return
        digest = record.rec_headers.get_header("WARC-Payload-Digest") or ""
        original = self.by_digest.get(digest)
        body = self._body(original.sha256) if original is not None else None
        if body is None and meta is not None:
            body = self._body(meta["sha256"])
        if body is None:
            body = self.from_archive(record)
        if body is None:
            self.tally.skipped["revisit of a payload neither in the file nor the archive"] += 1
            return
        if meta is not None:
            capture = capture_from_json(meta, body)
            self.add(capture, document_from_json(meta.get("document")), "archiver", None)
            return
        uri = record.rec_headers.get_header("WARC-Target-URI")
        capture = self.foreign(record, uri, body, truncated=False, original=original)
        self.add(capture, None, "revisit", None)

    def _body(self, sha256: str) -> bytes | None:
        """A payload read earlier: still on its way to the writer, or in the archive."""
        return self._unwritten.get(sha256) or self.archive.body(sha256)

    def from_archive(self, record: Any) -> bytes | None:
        """The body of the capture a revisit names by URI and date, if the archive has it."""
        uri = record.rec_headers.get_header("WARC-Refers-To-Target-URI")
        date = record.rec_headers.get_header("WARC-Refers-To-Date")
        if not uri or not date:
            return None
        row = self.archive.conn.execute(
            """SELECT body_sha256 FROM captures WHERE url = ? AND fetched_at = ?
            AND body_sha256 IS NOT NULL LIMIT 1""",
            (uri, date),
        ).fetchone()
        return self.archive.body(row[0]) if row else None

    def foreign(
        self,
        record: Any,
        uri: str,
        body: bytes,
        *,
        truncated: bool,
        original: Capture | None = None,
    ) -> Capture:
        """A capture from another tool's record, its payload decoded as a browser sees it."""
        date = record.rec_headers.get_header("WARC-Date") or ""
        detail = ""
        if truncated:
            detail = "the WARC record is cut short: the file ends before its Content-Length"
        http_headers = record.http_headers if record.rec_type != "resource" else None
        if http_headers is not None and http_headers.statusline:
            try:
                status: int | None = int(http_headers.get_statuscode())
            except (TypeError, ValueError):
                status = None
            headers = tuple((str(k), str(v)) for k, v in http_headers.headers)
            content_type = http_headers.get_header("Content-Type")
        elif original is not None:
            status, headers, content_type = original.status, original.headers, original.content_type
        else:
            status = 200
            content_type = record.rec_headers.get_header("Content-Type")
            headers = (("Content-Type", content_type),) if content_type else ()
            detail = detail or "from a WARC resource record (no HTTP exchange recorded)"
        if status == 304 and original is not None:
            status, headers, content_type = original.status, original.headers, original.content_type
        return Capture(
            url=uri,
            final_url=uri,
            status=status,
            headers=headers,
            body=body,
            content_type=content_type,
            fetched_at=date,
            truncated=truncated or bool(record.rec_headers.get_header("WARC-Truncated")),
            not_modified=status == 304 and not body,
            detail=detail,
        )

    def add(
        self,
        capture: Capture,
        document: Document | None,
        kind: str,
        flags: list[tuple[str, str]] | None,
    ) -> None:
        """Queue a capture for the writer (in file order)."""
        if self.executor is not None and capture.body:
            self._unwritten[capture.sha256] = capture.body
        self._queued.append(_Item(capture, document, kind, flags))

    def _write(self, item: _Item, extract: Callable[[Capture], Document | None]) -> None:
        """Store one capture unless the archive has it; ``extract`` gives its document."""
        capture, document, kind, flags = item.capture, item.document, item.kind, item.flags
        self._unwritten.pop(capture.sha256, None)
        if self.archive.has_capture(capture):
            self.tally.already_present += 1
            existing = self.archive.conn.execute(
                "SELECT id FROM captures WHERE url = ? AND fetched_at = ? ORDER BY id LIMIT 1",
                (capture.url, capture.fetched_at),
            ).fetchone()
            if existing:  # said in the summary; the stored copy came from a sound record
                self.flag(int(existing[0]), capture.url, flags, store=False)
            return
        if document is None:
            document = extract(capture)
            if document is not None:
                self.tally.extracted += 1
        capture_id = self.archive.save_capture(capture, document, run_id=self.run_id)
        self.tally.added += 1
        self.tally.imported[kind] += 1
        self.flag(capture_id, capture.url, flags)

    def flag(
        self, capture_id: int, url: str, flags: list[tuple[str, str]] | None, *, store: bool = True
    ) -> None:
        """Record what is wrong with a capture's record (once per capture and flag)."""
        for flag, detail in flags or ():
            known = (
                not store
                or self.archive.conn.execute(
                    "SELECT 1 FROM capture_flags WHERE capture_id = ? AND flag = ?",
                    (capture_id, flag),
                ).fetchone()
            )
            if not known:
                self.archive.conn.execute(
                    "INSERT INTO capture_flags (capture_id, flag, detail, source) "
                    "VALUES (?, ?, ?, ?)",
                    (capture_id, flag, detail, self.source.path),
                )
            self.tally.flags.append(Flag(capture_id=capture_id, url=url, flag=flag, detail=detail))


def import_file(
    archive: Archive,
    path: str,
    *,
    max_bytes: int | None = None,
    executor: Executor | None = None,
) -> ImportSummary:
    """Bring one WARC, ARC or WACZ file into the archive; the summary says what came in.

    ``executor``: where the pages are extracted (``archiver.parallel.executor``); the file is
    read and the archive written here, in file order, so the archive is the same as inline.

    Not a WARC at all (nor ARC, nor a WACZ holding one) is an InputError naming the file;
    anything after the first readable record is a value in the summary. Importing twice adds
    nothing (a capture of the same URL, time and body is already present).
    """
    cap = FetchPolicy().max_bytes if max_bytes is None else max_bytes
    run_id = archive.start_run(command="import-warc", config=path)
    tally_summary: ImportSummary | None = None
    try:
        with _quiet_libraries() as warnings:
            source = open_sources(path)
            by_response, alone = read_metadata(source)
            importer = _Importer(archive, source, run_id, cap, executor)
            importer.meta_by_response = by_response
            importer.run(alone)
        tally_summary = importer.tally.summary(warnings)
    except BaseException as exc:
        archive.finish_run(run_id, status="failed", summary={"error": str(exc)})
        if isinstance(exc, (KeyError, TypeError)):
            raise InputError(f"{path}: a malformed archiver metadata record ({exc!r})") from exc
        raise
    archive.finish_run(run_id, status="done", summary=tally_summary.to_json())
    log.info("imported %d captures from %s", tally_summary.added, path)
    return tally_summary


def import_warc(archive: Archive, path: str) -> int:
    """``import_file``, for callers that want only how many captures were added."""
    return import_file(archive, path).added
