"""What export and import of WARC share: dates, the HTTP headers of a replayable response, and
the archive's own metadata record (JSON), written by one and read back by the other.

Our bodies are stored decoded (no chunking, no gzip), so on export a ``Transfer-Encoding`` or a
``Content-Encoding`` the body no longer has is renamed ``X-Archive-Orig-...`` and
``Content-Length`` is set to the body's length: otherwise a replay tool would decode it again.
"""

from __future__ import annotations

import contextlib
import http
import json
import os
import sqlite3
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Protocol

from archiver.archive.ports import CaptureArchive
from archiver.errors import InputError
from archiver.models import Capture, Document

METADATA_TYPE = "application/vnd.archiver.capture+json"
ORIG_PREFIX = "X-Archive-Orig-"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
#: An extension WARC field on the 3xx records export writes for each hop of a redirect chain:
#: import of an archiver export skips them (the capture's metadata holds the chain).
HOP_HEADER = "Archiver-Redirect-Hop"


class WarcArchive(CaptureArchive, Protocol):
    """What WARC export and import need of an archive (``Archive`` has it): its captures and
    run log, its name, and its connection for the few queries of their own (pages, flags)."""

    @property
    def path(self) -> str: ...

    @property
    def conn(self) -> sqlite3.Connection: ...


def warc_date(iso: str) -> str:
    """An ISO 8601 time as WARC/1.1 writes it: UTC, ``Z``, fractions of a second if any."""
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        when = datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    if when.microsecond:
        return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def timestamp14(date: str) -> str:
    """The 14-digit timestamp of a WARC date, as CDX indexes and replay URLs write it."""
    digits = "".join(ch for ch in date if ch.isdigit())
    return (digits + "0" * 14)[:14]


def _body_has_encoding(encoding: str, body: bytes) -> bool:
    """Whether the body still carries that Content-Encoding (we store bodies decoded)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return True
    if encoding in ("gzip", "x-gzip"):
        return body[:2] == b"\x1f\x8b"
    if encoding == "deflate":
        try:
            zlib.decompressobj().decompress(body[:4096])
        except zlib.error:
            return False
        return True
    return False


def replay_headers(capture: Capture) -> list[tuple[str, str]]:
    """The HTTP headers to put in a response record so replay tools read the body right."""
    out: list[tuple[str, str]] = []
    for name, value in capture.headers:
        lname = name.lower()
        if lname == "transfer-encoding":
            out.append((ORIG_PREFIX + name, value))
        elif lname == "content-encoding" and not _body_has_encoding(value, capture.body):
            out.append((ORIG_PREFIX + name, value))
        elif lname == "content-length":
            if value.strip() != str(len(capture.body)):
                out.append((ORIG_PREFIX + name, value))
        else:
            out.append((name, value))
    out.append(("Content-Length", str(len(capture.body))))
    return out


def status_line(status: int) -> str:
    """``200 OK``: the status and its reason phrase (none for a code HTTP does not name)."""
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"{status} {phrase}".strip()


def redirect_chain(capture: Capture) -> list[str]:
    """Every URL the capture passed through, the one asked for first and the final one last."""
    chain = [capture.url, *capture.redirects]
    final = capture.final_url or capture.url
    if chain[-1] != final:
        chain.append(final)
    return chain


def metadata_json(capture_id: int, capture: Capture, kind: str, document: Document | None) -> bytes:
    """The archive's own record of a capture: what WARC has no place for, as JSON."""
    data = {
        "archiver_capture": 1,
        "capture_id": capture_id,
        "kind": kind,
        "url": capture.url,
        "final_url": capture.final_url,
        "method": capture.method,
        "status": capture.status,
        "headers": [list(pair) for pair in capture.headers],
        "content_type": capture.content_type,
        "fetched_at": capture.fetched_at,
        "redirects": list(capture.redirects),
        "truncated": capture.truncated,
        "not_modified": capture.not_modified,
        "error": capture.error,
        "detail": capture.detail,
        "elapsed": capture.elapsed,
        "sha256": capture.sha256,
        "document": document.to_json() if document else None,
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")


@contextlib.contextmanager
def written_in_place_of(path: str) -> Iterator[str]:
    """A name beside ``path`` to write an export to; renamed onto ``path`` when the block ends
    well, removed when it does not (an OSError, a full disk, becomes a one-line InputError), so
    a failed export never leaves half a file."""
    partial = f"{path}.part"
    try:
        yield partial
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.remove(partial)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise
    os.replace(partial, path)
