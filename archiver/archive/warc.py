"""WARC in and out of the archive, with warcio, so the web-archiving world can read it.

``export_warc`` (in ``warc_export``) writes WARC/1.1 that pywb and ReplayWeb.page replay;
``import_warc`` reads the archive's own metadata records back, so a round trip keeps every
byte, header and checksum, and brings in the responses of WARCs from other tools.
"""

from __future__ import annotations

import json
import logging
import zipfile
import zlib
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from archiver.archive.store import Archive
from archiver.archive.warc_export import export_warc
from archiver.archive.warc_records import (
    HOP_HEADER,
    METADATA_TYPE,
    capture_from_json,
    document_from_json,
)
from archiver.errors import InputError
from archiver.models import Capture, Document, sha256_hex

log = logging.getLogger(__name__)

__all__ = ["export_warc", "import_warc"]


def _iterate(path: str) -> Any:
    """Records of a WARC file, or of the WARCs inside a WACZ (Browsertrix, ArchiveWeb.page).

    A file that is neither is an InputError naming it.
    """
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as wacz:
                names = [
                    name
                    for name in wacz.namelist()
                    if name.startswith("archive/") and name.endswith((".warc", ".warc.gz"))
                ]
                if not names:
                    raise InputError(f"{path}: a zip file without archive/*.warc(.gz) in it")
                for name in sorted(names):
                    with wacz.open(name) as fh:
                        yield from ArchiveIterator(fh, check_digests="raise")
            return
        with open(path, "rb") as fh:
            yield from ArchiveIterator(fh, check_digests="raise")
    except FileNotFoundError as exc:
        raise InputError(f"no such WARC file: {path}") from exc
    except (ArchiveLoadFailed, OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise InputError(f"{path}: not a readable WARC file ({exc})") from exc


def _read_metadata(path: str) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Our metadata records: by the response they refer to, and those standing alone."""
    by_response: dict[str, dict[str, Any]] = {}
    alone: list[dict[str, Any]] = []
    for record in _iterate(path):
        if record.rec_type != "metadata":
            continue
        if record.rec_headers.get_header("Content-Type") != METADATA_TYPE:
            continue
        try:
            meta = json.loads(record.content_stream().read().decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: a broken archiver metadata record ({exc})") from exc
        refers_to = record.rec_headers.get_header("WARC-Refers-To")
        if refers_to:
            by_response[refers_to] = meta
        else:
            alone.append(meta)
    return by_response, alone


def import_warc(archive: Archive, path: str) -> int:
    """Store the HTTP responses of a WARC file as captures; return how many were added.

    Records exported by archiver come back exactly (headers, redirects, extraction). Others
    become plain captures of their target URI at their WARC-Date. A capture already in the
    archive (same URL, time and body) is not added twice, so importing is idempotent.
    """
    run_id = archive.start_run(command="import-warc", config=path)
    counts = {"added": 0, "already_present": 0, "unresolved_revisits": 0}
    try:
        by_response, alone = _read_metadata(path)
        _import_records(archive, path, by_response, alone, run_id, counts)
    except BaseException as exc:
        archive.finish_run(run_id, status="failed", summary={**counts, "error": str(exc)})
        if isinstance(exc, ArchiveLoadFailed):
            raise InputError(
                f"{path}: a record fails its digest or cannot be read ({exc})"
            ) from exc
        if isinstance(exc, (KeyError, TypeError, ValueError)):
            raise InputError(f"{path}: a malformed archiver metadata record ({exc!r})") from exc
        raise
    archive.finish_run(run_id, status="done", summary=counts)
    added, skipped = counts["added"], counts["already_present"]
    log.info("imported %d captures from %s (%d already present)", added, path, skipped)
    return added


def _import_records(
    archive: Archive,
    path: str,
    by_response: dict[str, dict[str, Any]],
    alone: list[dict[str, Any]],
    run_id: int,
    counts: dict[str, int],
) -> None:
    """The work of ``import_warc``: one capture per response or revisit, then lone metadata."""
    by_digest: dict[str, str] = {}  # WARC-Payload-Digest of a response -> our sha256
    for record in _iterate(path):
        if record.rec_type not in ("response", "revisit"):
            continue
        if record.http_headers is None and record.rec_type == "response":
            continue
        if not (record.rec_headers.get_header("WARC-Target-URI") or "").startswith("http"):
            continue
        if record.rec_headers.get_header(HOP_HEADER):
            continue  # a hop of an exported redirect chain: the capture's metadata holds it
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        meta = by_response.get(record_id)
        body: bytes | None = None
        if record.rec_type == "revisit" and meta is not None and meta.get("kind") != "response":
            body = b""  # an exported 304: the revisit points replay at the unchanged body
        elif record.rec_type == "revisit":
            digest = record.rec_headers.get_header("WARC-Payload-Digest") or ""
            sha = meta["sha256"] if meta is not None else by_digest.get(digest)
            body = archive.body(sha) if sha else None
            if body is None:
                counts["unresolved_revisits"] += 1
                log.warning(
                    "%s: revisit %s refers to a payload not in the archive", path, record_id
                )
                continue
        elif meta is not None:
            body = record.raw_stream.read()
        if meta is not None and body is not None:
            if sha256_hex(body) != meta["sha256"]:
                raise InputError(f"{path}: payload of {record_id} does not match its SHA-256")
            capture = capture_from_json(meta, body)
            document = document_from_json(meta.get("document"))
        else:
            capture = _foreign_capture(record, body)
            document = None
        if record.rec_type == "response":
            digest = record.rec_headers.get_header("WARC-Payload-Digest")
            if digest:
                by_digest.setdefault(digest, capture.sha256)
        _add(archive, capture, document, run_id, counts)
    for meta in alone:
        capture = capture_from_json(meta, b"")
        if capture.sha256 != meta["sha256"]:
            log.warning("%s: capture of %s had a body the WARC does not hold", path, capture.url)
        _add(archive, capture, document_from_json(meta.get("document")), run_id, counts)


def _add(
    archive: Archive,
    capture: Capture,
    document: Document | None,
    run_id: int,
    counts: dict[str, int],
) -> None:
    if archive.has_capture(capture):
        counts["already_present"] += 1
        return
    archive.save_capture(capture, document, run_id=run_id)
    counts["added"] += 1


def _foreign_capture(record: Any, body: bytes | None = None) -> Capture:
    """A capture from another tool's response record, its payload decoded as a browser would.

    ``body`` is given for a revisit, whose payload is the earlier record's.
    """
    uri = record.rec_headers.get_header("WARC-Target-URI")
    status_text = record.http_headers.get_statuscode()
    try:
        status: int | None = int(status_text)
    except (TypeError, ValueError):
        status = None
    headers = tuple((str(k), str(v)) for k, v in record.http_headers.headers)
    if body is None:
        try:
            body = record.content_stream().read()
        except (OSError, zlib.error, ValueError) as exc:
            log.warning("%s: payload could not be decoded (%s); keeping it as sent", uri, exc)
            body = record.raw_stream.read()
    date = record.rec_headers.get_header("WARC-Date") or ""
    content_type = record.http_headers.get_header("Content-Type")
    return Capture(
        url=uri,
        final_url=uri,
        status=status,
        headers=headers,
        body=body,
        content_type=content_type,
        fetched_at=date,
        not_modified=status == 304,
    )
