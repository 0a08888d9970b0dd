"""WARC in and out of the archive, with warcio, so the web-archiving world can read it.

Export writes WARC/1.1, gzipped per record: for each capture a ``response`` record (HTTP
status line, headers and the body exactly as stored, with block and payload digests), a
``request`` record, and a ``metadata`` record holding what WARC has no place for (the URL
asked for, the redirect chain, the original headers, the extraction) as JSON. pywb and
ReplayWeb.page replay the response records; ``import_warc`` reads the metadata record back, so
a round trip keeps every byte, header and checksum.

Our bodies are stored decoded (no chunking, no gzip), so on export a ``Transfer-Encoding``
or a ``Content-Encoding`` the body no longer has is renamed ``X-Archive-Orig-...`` and
``Content-Length`` is set to the body's length: otherwise a replay tool would try to decode it
again. WARCs from other tools (wget ``--warc-file``, Browsertrix) carry the bytes as sent; their
payloads are decoded on import the way a browser (and our fetcher) would see them.
"""

from __future__ import annotations

import contextlib
import http
import io
import json
import logging
import os
import zipfile
import zlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.archive.codec import capture_kind, has_stored_body
from archiver.archive.ports import CaptureArchive as Archive
from archiver.errors import InputError
from archiver.models import Capture, Document, Image, Link, sha256_hex

log = logging.getLogger(__name__)

METADATA_TYPE = "application/vnd.archiver.capture+json"
ORIG_PREFIX = "X-Archive-Orig-"


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


def _status_line(status: int) -> str:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"{status} {phrase}".strip()


def _metadata(capture_id: int, capture: Capture, kind: str, document: Document | None) -> bytes:
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


REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


def export_warc(archive: Archive, path: str, *, revisits: bool = True) -> int:
    """Write every capture of the archive to ``path`` (gzipped WARC/1.1); return how many.

    With ``revisits`` (the default), a body already written is not written again: the capture
    becomes a ``revisit`` record (identical-payload-digest profile) pointing at the first one,
    which replay tools resolve, as the archive itself stores each body once.
    """
    count = 0
    first_seen: dict[str, tuple[str, str, str, str]] = {}  # sha256 -> id, uri, date, digest
    # Written beside the target and renamed at the end: a failed export leaves no half WARC.
    partial = f"{path}.part"
    try:
        with open(partial, "wb") as fh:
            writer = WARCWriter(fh, gzip=True, warc_version="1.1")
            writer.write_record(
                writer.create_warcinfo_record(
                    os.path.basename(path),
                    {"software": "archiver", "format": "WARC File Format 1.1"},
                )
            )
            for capture_id in archive.capture_ids():
                stored = archive.get_capture(capture_id)
                if stored is None:
                    continue
                capture, kind = stored.capture, capture_kind(stored.capture)
                date = warc_date(capture.fetched_at)
                target = capture.final_url or capture.url
                refers_to = None
                # Every HTTP answer (a 304 too) is a response; a failure only if bytes arrived.
                if capture.status is not None and (kind != "error" or has_stored_body(capture)):
                    http_headers = StatusAndHeaders(
                        _status_line(capture.status), replay_headers(capture), protocol="HTTP/1.1"
                    )
                    original = first_seen.get(capture.sha256) if capture.body else None
                    if revisits and original is not None:
                        record = writer.create_revisit_record(
                            target,
                            original[3],
                            original[1],
                            original[2],
                            http_headers=http_headers,
                            warc_headers_dict={
                                "WARC-Date": date,
                                "WARC-Refers-To": original[0],
                                "WARC-Profile": REVISIT_PROFILE,
                            },
                        )
                    else:
                        record = writer.create_warc_record(
                            target,
                            "response",
                            payload=io.BytesIO(capture.body),
                            length=len(capture.body),
                            http_headers=http_headers,
                            warc_headers_dict=_response_headers(capture, date),
                        )
                    writer.write_record(record)
                    refers_to = record.rec_headers.get_header("WARC-Record-ID")
                    if record.rec_type == "response" and capture.body:
                        digest = record.rec_headers.get_header("WARC-Payload-Digest")
                        first_seen.setdefault(capture.sha256, (refers_to, target, date, digest))
                    parts = urlsplit(target)
                    request_target = (parts.path or "/") + (
                        f"?{parts.query}" if parts.query else ""
                    )
                    request = writer.create_warc_record(
                        target,
                        "request",
                        payload=io.BytesIO(b""),
                        length=0,
                        http_headers=StatusAndHeaders(
                            f"{capture.method} {request_target} HTTP/1.1",
                            [("Host", parts.netloc)],
                            is_http_request=True,
                        ),
                        warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": refers_to},
                    )
                    writer.write_record(request)
                meta_headers = {"WARC-Date": date}
                if refers_to:
                    meta_headers["WARC-Refers-To"] = refers_to
                meta = _metadata(capture_id, capture, kind, stored.document)
                writer.write_record(
                    writer.create_warc_record(
                        capture.url,
                        "metadata",
                        payload=io.BytesIO(meta),
                        length=len(meta),
                        warc_content_type=METADATA_TYPE,
                        warc_headers_dict=meta_headers,
                    )
                )
                count += 1
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.remove(partial)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise
    os.replace(partial, path)
    log.info("exported %d captures to %s", count, path)
    return count


def _document(data: dict[str, Any] | None) -> Document | None:
    if not data:
        return None
    return Document(
        url=data["url"],
        title=data["title"],
        subtitle=data["subtitle"],
        authors=tuple(data["authors"]),
        published=data["published"],
        modified=data["modified"],
        paragraphs=tuple(data["paragraphs"]),
        links=tuple(Link(**link) for link in data["links"]),
        images=tuple(Image(**image) for image in data["images"]),
        profile=data["profile"],
        checksum=data["checksum"],
        paragraph_hashes=tuple(data.get("paragraph_hashes") or ()),
        normalizer=data.get("normalizer") or "",
        label=data.get("label"),
        encoding=data.get("encoding"),
        warnings=tuple(data.get("warnings") or ()),
    )


def _capture_from_metadata(meta: dict[str, Any], body: bytes) -> Capture:
    return Capture(
        url=meta["url"],
        final_url=meta["final_url"],
        status=meta["status"],
        headers=tuple((str(k), str(v)) for k, v in meta["headers"]),
        body=body,
        content_type=meta["content_type"],
        fetched_at=meta["fetched_at"],
        redirects=tuple(meta["redirects"]),
        truncated=bool(meta["truncated"]),
        not_modified=bool(meta["not_modified"]),
        error=meta["error"],
        detail=meta["detail"] or "",
        elapsed=float(meta["elapsed"] or 0.0),
        method=meta["method"] or "GET",
    )


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
        if record.rec_type not in ("response", "revisit") or record.http_headers is None:
            continue
        if not (record.rec_headers.get_header("WARC-Target-URI") or "").startswith("http"):
            continue
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        meta = by_response.get(record_id)
        body: bytes | None = None
        if record.rec_type == "revisit":
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
            capture = _capture_from_metadata(meta, body)
            document = _document(meta.get("document"))
        else:
            capture = _foreign_capture(record, body)
            document = None
        if record.rec_type == "response":
            digest = record.rec_headers.get_header("WARC-Payload-Digest")
            if digest:
                by_digest.setdefault(digest, capture.sha256)
        _add(archive, capture, document, run_id, counts)
    for meta in alone:
        capture = _capture_from_metadata(meta, b"")
        if capture.sha256 != meta["sha256"]:
            log.warning("%s: capture of %s had a body the WARC does not hold", path, capture.url)
        _add(archive, capture, _document(meta.get("document")), run_id, counts)


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
