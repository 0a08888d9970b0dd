"""WARC export that replay tools (pywb, ReplayWeb.page) replay, and import reads back whole.

For each capture, in the order a crawler writes them:

- one ``response`` record per hop of its redirect chain (a 302 with ``Location``, marked with
  the ``Archiver-Redirect-Hop`` field), so the URL first asked for replays too;
- the ``response`` record of the final answer: status line, headers and the body exactly as
  stored, with block and payload digests; or a ``revisit`` record (identical-payload-digest
  profile) when the same body was already written, as the archive itself stores a body once;
- a ``request`` record per hop (method, path, the headers the fetcher sends), linked to its
  response by ``WARC-Concurrent-To``;
- a ``metadata`` record with what WARC has no place for (the URL asked for, the chain, the
  original headers, the extraction, the SHA-256), linked by ``WARC-Refers-To`` and
  ``WARC-Concurrent-To`` to the response. Its ``WARC-Target-URI`` is a ``urn:`` of its own, so a
  replay tool looking up the article's URL finds the page, never this JSON.

A capture that got no HTTP answer (DNS failure, timeout before any byte) has only its metadata.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver import __version__
from archiver.archive.codec import capture_kind, has_stored_body
from archiver.archive.warc_records import (
    HOP_HEADER,
    METADATA_TYPE,
    NOT_MODIFIED_PROFILE,
    REVISIT_PROFILE,
    metadata_json,
    redirect_chain,
    replay_headers,
    status_line,
    timestamp14,
    warc_date,
    written_in_place_of,
)
from archiver.archive.warc_records import (
    WarcArchive as Archive,
)
from archiver.errors import InputError
from archiver.fetch.fetcher import FetchPolicy
from archiver.models import Capture

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class IndexEntry:
    """Where a replayable record sits in the WARC: one line of a CDXJ index."""

    url: str
    timestamp: str  # 14 digits
    mime: str  # the media type without parameters; empty when the answer named none
    status: str
    digest: str
    offset: int
    length: int
    rec_type: str  # response | revisit


@dataclass(frozen=True, kw_only=True)
class PageEntry:
    """An archived page (a capture with an extracted document), for a WACZ's pages list."""

    id: str
    url: str
    ts: str  # the WARC date
    title: str


@dataclass(frozen=True, kw_only=True)
class ExportResult:
    """What an export wrote: captures, records, and where each replayable record is."""

    captures: int
    records: int
    index: tuple[IndexEntry, ...]
    pages: tuple[PageEntry, ...]


class _Counting:
    """A write-only file that counts the bytes through it (stdout cannot ``tell``)."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.offset = 0

    def write(self, data: bytes) -> int:
        self.fh.write(data)
        self.offset += len(data)
        return len(data)

    def flush(self) -> None:
        self.fh.flush()


def _request_headers(url: str) -> list[tuple[str, str]]:
    """The headers the fetcher sends (its default User-Agent: the capture does not keep it)."""
    policy = FetchPolicy()
    return [
        ("Host", urlsplit(url).netloc),
        ("User-Agent", policy.user_agent),
        ("Accept", "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.8"),
        ("Accept-Encoding", "gzip, deflate"),
    ]


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _response_headers(capture: Capture, date: str) -> dict[str, str]:
    """WARC headers of a response; ``WARC-Truncated`` says why a body is incomplete."""
    headers = {"WARC-Date": date}
    if capture.error == "timeout":
        headers["WARC-Truncated"] = "time"
    elif capture.truncated:
        headers["WARC-Truncated"] = "length"
    elif capture.error:
        headers["WARC-Truncated"] = "disconnect"
    return headers


class _Exporter:
    """Writes records and remembers what a CDXJ index and a pages list need."""

    def __init__(
        self,
        out: IO[bytes],
        *,
        gzip: bool,
        revisits: bool,
        name: str,
        pages: tuple[PageEntry, ...],
    ) -> None:
        self.out = _Counting(out)
        self.writer = WARCWriter(self.out, gzip=gzip, warc_version="1.1")
        self.revisits = revisits
        self.first_seen: dict[str, tuple[str, str, str, str]] = {}  # sha -> id, uri, date, digest
        self.last_body: dict[str, tuple[str, str, str, str]] = {}  # URL -> its latest 2xx body
        self.index: list[IndexEntry] = []
        self.records = 0
        self.write(
            self.writer.create_warcinfo_record(
                name,
                {
                    "software": f"archiver {__version__}",
                    "format": "WARC File Format 1.1",
                    "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                    # The archived pages, as py-wacz and Webrecorder's tools read them.
                    "json-metadata": json.dumps(
                        {
                            "type": "recording",
                            "pages": [
                                {"url": p.url, "timestamp": timestamp14(p.ts), "title": p.title}
                                for p in pages
                            ],
                        },
                        ensure_ascii=False,
                    ),
                },
            )
        )

    def write(self, record: Any) -> str:
        start = self.out.offset
        self.writer.write_record(record)
        self.records += 1
        headers = record.rec_headers
        if record.rec_type in ("response", "revisit"):
            http_headers = record.http_headers
            mime = (http_headers.get_header("Content-Type") or "") if http_headers else ""
            if record.rec_type == "revisit":
                mime = "warc/revisit"
            self.index.append(
                IndexEntry(
                    url=headers.get_header("WARC-Target-URI"),
                    timestamp=timestamp14(headers.get_header("WARC-Date")),
                    mime=mime.split(";")[0].strip(),
                    status=(http_headers.get_statuscode() or "") if http_headers else "",
                    digest=headers.get_header("WARC-Payload-Digest") or "",
                    offset=start,
                    length=self.out.offset - start,
                    rec_type=record.rec_type,
                )
            )
        return str(headers.get_header("WARC-Record-ID"))

    def request(self, url: str, method: str, date: str, concurrent_to: str) -> None:
        self.write(
            self.writer.create_warc_record(
                url,
                "request",
                payload=io.BytesIO(b""),
                length=0,
                http_headers=StatusAndHeaders(
                    f"{method} {_request_target(url)} HTTP/1.1",
                    _request_headers(url),
                    is_http_request=True,
                ),
                warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": concurrent_to},
            )
        )

    def hops(self, capture: Capture, date: str) -> None:
        """A 302 response (and its request) for each hop before the final URL."""
        chain = redirect_chain(capture)
        for number, (here, there) in enumerate(zip(chain, chain[1:], strict=False), start=1):
            http_headers = StatusAndHeaders(
                status_line(302),
                [("Location", there), ("Content-Length", "0")],
                protocol="HTTP/1.1",
            )
            record_id = self.write(
                self.writer.create_warc_record(
                    here,
                    "response",
                    payload=io.BytesIO(b""),
                    length=0,
                    http_headers=http_headers,
                    warc_headers_dict={
                        "WARC-Date": date,
                        HOP_HEADER: f"{number} of {len(chain) - 1}",
                    },
                )
            )
            self.request(here, capture.method, date, record_id)

    def final(self, capture: Capture, date: str) -> str:
        """The final answer: a response, or a revisit of a body already written.

        A 304 whose URL already has a body in the file is a ``server-not-modified`` revisit
        without HTTP headers, so a replay tool serves that body (the answer said it had not
        changed) rather than an empty 304; the metadata record keeps the 304 itself.
        """
        target = capture.final_url or capture.url
        unchanged = self.last_body.get(target) if capture_kind(capture) == "not_modified" else None
        if unchanged is not None:
            record = self.writer.create_revisit_record(
                target,
                unchanged[3],
                unchanged[1],
                unchanged[2],
                warc_headers_dict={"WARC-Date": date, "WARC-Refers-To": unchanged[0]},
            )
            record.rec_headers.replace_header("WARC-Profile", NOT_MODIFIED_PROFILE)
            record_id = self.write(record)
            self.request(target, capture.method, date, record_id)
            return record_id
        http_headers = StatusAndHeaders(
            status_line(capture.status or 0), replay_headers(capture), protocol="HTTP/1.1"
        )
        original = self.first_seen.get(capture.sha256) if capture.body else None
        if self.revisits and original is not None:
            record = self.writer.create_revisit_record(
                target,
                original[3],
                original[1],
                original[2],
                http_headers=http_headers,
                warc_headers_dict={"WARC-Date": date, "WARC-Refers-To": original[0]},
            )
            record.rec_headers.replace_header("WARC-Profile", REVISIT_PROFILE)
        else:
            record = self.writer.create_warc_record(
                target,
                "response",
                payload=io.BytesIO(capture.body),
                length=len(capture.body),
                http_headers=http_headers,
                warc_headers_dict=_response_headers(capture, date),
            )
        record_id = self.write(record)
        if record.rec_type == "response" and capture.body:
            digest = record.rec_headers.get_header("WARC-Payload-Digest")
            self.first_seen.setdefault(capture.sha256, (record_id, target, date, digest))
        if capture.ok and capture.body:
            self.last_body[target] = self.first_seen.get(capture.sha256) or (
                record_id,
                target,
                date,
                record.rec_headers.get_header("WARC-Payload-Digest"),
            )
        self.request(target, capture.method, date, record_id)
        return record_id

    def capture(self, archive: Archive, capture_id: int) -> bool:
        stored = archive.get_capture(capture_id)
        if stored is None:
            return False
        capture, kind = stored.capture, capture_kind(stored.capture)
        date = warc_date(capture.fetched_at)
        refers_to = None
        # Every HTTP answer (a 304 too) is a response; a failure only if bytes arrived.
        if capture.status is not None and (kind != "error" or has_stored_body(capture)):
            self.hops(capture, date)
            refers_to = self.final(capture, date)
        meta_headers = {"WARC-Date": date}
        if refers_to:
            meta_headers["WARC-Refers-To"] = refers_to
            meta_headers["WARC-Concurrent-To"] = refers_to
            meta_headers["WARC-Refers-To-Target-URI"] = capture.final_url or capture.url
        meta = metadata_json(capture_id, capture, kind, stored.document)
        self.write(
            self.writer.create_warc_record(
                f"urn:archiver:capture:{capture_id}",
                "metadata",
                payload=io.BytesIO(meta),
                length=len(meta),
                warc_content_type=METADATA_TYPE,
                warc_headers_dict=meta_headers,
            )
        )
        return True


def write_warc(
    archive: Archive,
    out: IO[bytes],
    *,
    gzip: bool = True,
    revisits: bool = True,
    name: str = "",
    capture_ids: Sequence[int] | None = None,
) -> ExportResult:
    """Write every capture of the archive to ``out`` as WARC/1.1 (gzipped per record or plain).

    With ``revisits`` (the default), a body already written is not written again: the capture
    becomes a ``revisit`` record pointing at the first one, which replay tools resolve.
    ``capture_ids`` limits the export to those captures (a proof carries one).
    """
    pages = archived_pages(archive)
    ids = archive.capture_ids() if capture_ids is None else list(capture_ids)
    if capture_ids is not None:
        chosen = {f"capture-{i}" for i in ids}
        pages = tuple(page for page in pages if page.id in chosen)
    exporter = _Exporter(out, gzip=gzip, revisits=revisits, name=name, pages=pages)
    count = sum(1 for capture_id in ids if exporter.capture(archive, capture_id))
    out.flush()
    return ExportResult(
        captures=count, records=exporter.records, index=tuple(exporter.index), pages=pages
    )


def archived_pages(archive: Archive) -> tuple[PageEntry, ...]:
    """Every capture with an extracted document (a 2xx HTML page), oldest first, with title."""
    rows = archive.conn.execute(
        """SELECT c.id, c.url, c.fetched_at, e.title FROM captures c
        JOIN extractions e ON e.id = c.extraction_id
        WHERE c.kind = 'response' AND c.status BETWEEN 200 AND 299 ORDER BY c.id"""
    ).fetchall()
    return tuple(
        PageEntry(id=f"capture-{row[0]}", url=row[1], ts=warc_date(row[2]), title=row[3] or row[1])
        for row in rows
    )


def wants_gzip(path: str) -> bool:
    """A ``.gz`` name gets gzip (one member per record, as replay tools need); others plain."""
    return path == "-" or path.lower().endswith(".gz")


def export_warc(
    archive: Archive,
    path: str,
    *,
    revisits: bool = True,
    force: bool = False,
    gzip: bool | None = None,
) -> int:
    """Write every capture to ``path`` (``-``: standard output); return how many.

    gzip unless told otherwise for a ``.gz`` name and for standard output, plain for other
    names. An existing file is refused unless ``force``. Written beside the target and renamed
    at the end, so a failed export leaves no half WARC.
    """
    packed = wants_gzip(path) if gzip is None else gzip
    if path == "-":
        result = write_warc(archive, sys.stdout.buffer, gzip=packed, revisits=revisits)
        log.info("exported %d captures to standard output", result.captures)
        return result.captures
    if os.path.exists(path) and not force:
        raise InputError(f"{path} exists; give --force to overwrite it")
    with written_in_place_of(path) as partial, open(partial, "wb") as fh:
        result = write_warc(
            archive, fh, gzip=packed, revisits=revisits, name=os.path.basename(path)
        )
    log.info("exported %d captures to %s", result.captures, path)
    return result.captures
