"""WACZ export: the archive as one file that ReplayWeb.page opens and Browsertrix reads.

A WACZ (Web Archive Collection Zipped, 1.1.1) is a zip holding:

- ``archive/data.warc.gz``: the WARC of ``warc_export`` (stored, not deflated, so a replay tool
  can read a record at its offset without unpacking the file);
- ``indexes/index.cdx``: a CDXJ index of every response and revisit (SURT key, timestamp, JSON
  with url, mime, status, digest, offset, length, filename), sorted;
- ``pages/pages.jsonl``: the archived pages (captures with an extracted document), with titles;
- ``datapackage.json``: every other file with its SHA-256 and size, and
  ``datapackage-digest.json``: the hash of ``datapackage.json`` itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from archiver import __version__
from archiver.archive.warc_export import ExportResult, IndexEntry, PageEntry, write_warc
from archiver.archive.warc_records import WarcArchive as Archive
from archiver.archive.warc_records import written_in_place_of
from archiver.errors import InputError

log = logging.getLogger(__name__)

WACZ_VERSION = "1.1.1"
WARC_NAME = "data.warc.gz"


@dataclass(frozen=True, kw_only=True)
class WaczResult:
    """What ``export_wacz`` wrote."""

    path: str
    captures: int
    records: int
    pages: int


def surt(url: str) -> str:
    """The SURT key of a URL as CDX indexes sort it: ``org,example)/path?a=1&b=2``.

    Host reversed by label, ``www.`` dropped, default ports dropped, query arguments sorted,
    everything lower-cased, the scheme left out (as pywb and py-wacz write it).
    """
    parts = urlsplit(url.strip())
    if not parts.netloc:
        return url.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    labels = host.split(".")
    if len(labels) > 2 and labels[0].startswith("www") and labels[0][3:] in ("", *"0123456789"):
        labels = labels[1:]
    key = ",".join(reversed(labels))
    try:
        port = parts.port
    except ValueError:
        port = None
    if port and not (
        (parts.scheme == "http" and port == 80) or (parts.scheme == "https" and port == 443)
    ):
        key += f":{port}"
    path = parts.path or "/"
    query = "&".join(sorted(arg for arg in parts.query.split("&") if arg))
    return (key + ")" + path + (f"?{query}" if query else "")).lower()


def cdxj_line(entry: IndexEntry, filename: str) -> str:
    """One CDXJ line: key, timestamp, and the record's place in the WARC as JSON."""
    data: dict[str, str] = {"url": entry.url}
    if entry.mime:
        data["mime"] = entry.mime
    if entry.status:
        data["status"] = entry.status
    if entry.digest:
        data["digest"] = entry.digest
    data.update(length=str(entry.length), offset=str(entry.offset), filename=filename)
    return f"{surt(entry.url)} {entry.timestamp} {json.dumps(data, ensure_ascii=False)}"


def cdxj(result: ExportResult, filename: str = WARC_NAME) -> bytes:
    """The sorted CDXJ index of an export."""
    lines = sorted(cdxj_line(entry, filename) for entry in result.index)
    return "".join(line + "\n" for line in lines).encode("utf-8")


def pages_jsonl(pages: tuple[PageEntry, ...]) -> bytes:
    """``pages/pages.jsonl``: a header line, then one page a line (id, url, ts, title)."""
    lines = [{"format": "json-pages-1.0", "id": "pages", "title": "Archived pages"}]
    lines += [{"id": p.id, "url": p.url, "ts": p.ts, "title": p.title} for p in pages]
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode("utf-8")


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _sha256_file(path: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return "sha256:" + digest.hexdigest(), size


def _resource(path: str, digest: str, size: int) -> dict[str, object]:
    return {"name": os.path.basename(path).lower(), "path": path, "hash": digest, "bytes": size}


def export_wacz(
    archive: Archive, path: str, *, revisits: bool = True, force: bool = False
) -> WaczResult:
    """Write the whole archive to ``path`` as a WACZ; an existing file is refused unless forced.

    The WARC goes to a temporary file beside the target first (the zip needs its size and hash
    before it is stored), and the WACZ is renamed into place at the end: a failed export leaves
    neither behind.
    """
    if os.path.exists(path) and not force:
        raise InputError(f"{path} exists; give --force to overwrite it")
    folder = os.path.dirname(os.path.abspath(path))
    warc_path = ""
    with written_in_place_of(path) as partial:
        try:
            with tempfile.NamedTemporaryFile(
                dir=folder, prefix=".archiver-", suffix=".warc.gz", delete=False
            ) as fh:
                warc_path = fh.name
                result = write_warc(archive, fh, gzip=True, revisits=revisits, name=WARC_NAME)
            index = cdxj(result)
            pages = pages_jsonl(result.pages)
            warc_hash, warc_size = _sha256_file(warc_path)
            resources = [
                _resource(f"archive/{WARC_NAME}", warc_hash, warc_size),
                _resource("indexes/index.cdx", _sha256(index), len(index)),
                _resource("pages/pages.jsonl", _sha256(pages), len(pages)),
            ]
            created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            package: dict[str, object] = {
                "profile": "data-package",
                "resources": resources,
                "title": f"archiver export of {os.path.basename(archive.path)}",
                "created": created,
                "wacz_version": WACZ_VERSION,
                "software": f"archiver {__version__}",
            }
            if result.pages:
                package["mainPageURL"] = result.pages[0].url
                package["mainPageDate"] = result.pages[0].ts
            package_bytes = json.dumps(package, indent=2, ensure_ascii=False).encode("utf-8")
            digest_bytes = json.dumps(
                {
                    "path": "datapackage.json",
                    "hash": _sha256(package_bytes),
                },
                indent=2,
            ).encode("utf-8")
            with zipfile.ZipFile(partial, "w", allowZip64=True) as wacz:
                wacz.write(warc_path, f"archive/{WARC_NAME}", compress_type=zipfile.ZIP_STORED)
                wacz.writestr("indexes/index.cdx", index, compress_type=zipfile.ZIP_DEFLATED)
                wacz.writestr("pages/pages.jsonl", pages, compress_type=zipfile.ZIP_DEFLATED)
                wacz.writestr("datapackage.json", package_bytes, compress_type=zipfile.ZIP_DEFLATED)
                wacz.writestr(
                    "datapackage-digest.json", digest_bytes, compress_type=zipfile.ZIP_DEFLATED
                )
        finally:
            if warc_path:
                with contextlib.suppress(OSError):
                    os.remove(warc_path)
    log.info("exported %d captures (%d pages) to %s", result.captures, len(result.pages), path)
    return WaczResult(
        path=path, captures=result.captures, records=result.records, pages=len(result.pages)
    )
