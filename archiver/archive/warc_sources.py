"""Where import reads records from: a WARC or ARC file (plain or gzip), or the WARCs in a WACZ;
and the first pass over them, for the archive's own metadata records."""

from __future__ import annotations

import gzip
import json
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, cast

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from archiver.archive.warc_records import METADATA_TYPE
from archiver.errors import InputError

LZ4_MAGIC = b"\x04\x22\x4d\x18"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


@dataclass(frozen=True, kw_only=True)
class WarcSource:
    """One file to import: its path, and the names of the WARCs inside it if it is a WACZ."""

    path: str
    members: tuple[str, ...] = ()  # archive/*.warc(.gz) of a WACZ; empty for a WARC or ARC

    def streams(self, *, gunzip: bool = False) -> Iterator[tuple[str, IO[bytes]]]:
        """Each WARC to read, as (its name inside a WACZ or "", an open binary stream).

        ``gunzip`` reads a gzip file as one stream: a WARC gzipped whole rather than record by
        record (which warcio refuses, as replay tools cannot seek in it) is still readable so.
        """
        try:
            if not self.members:
                with open(self.path, "rb") as fh:
                    yield "", _gunzipped(fh) if gunzip else fh
                return
            with zipfile.ZipFile(self.path) as wacz:
                for name in self.members:
                    with wacz.open(name) as fh:
                        yield name, _gunzipped(fh) if gunzip else fh
        except (OSError, zipfile.BadZipFile) as exc:
            raise InputError(f"{self.path}: cannot be read ({exc})") from exc


def _gunzipped(fh: IO[bytes]) -> IO[bytes]:
    return cast(IO[bytes], gzip.GzipFile(fileobj=fh, mode="rb"))


def whole_file_gzip(exc: BaseException) -> bool:
    """Whether warcio stopped at a WARC gzipped as one member rather than one per record."""
    return "non-chunked gzip" in str(exc)


def open_sources(path: str) -> WarcSource:
    """What ``path`` holds, or an InputError saying in one line why it cannot be imported."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except FileNotFoundError as exc:
        raise InputError(f"no such WARC file: {path}") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path} is a directory, not a WARC file") from exc
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if head == LZ4_MAGIC:
        raise InputError(f"{path}: an lz4-compressed WARC, which cannot be read; "
                         "decompress it first (lz4 -d) or recompress it with gzip")  # fmt: skip
    if head == ZSTD_MAGIC:
        raise InputError(f"{path}: a zstd-compressed WARC, which cannot be read; "
                         "decompress it first (zstd -d)")  # fmt: skip
    if not head:
        raise InputError(f"{path}: an empty file, not a WARC")
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as wacz:
                names = sorted(
                    name
                    for name in wacz.namelist()
                    if name.startswith("archive/")
                    and name.lower().endswith((".warc", ".warc.gz", ".arc", ".arc.gz"))
                )
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"{path}: a broken zip file ({exc})") from exc
        if not names:
            raise InputError(f"{path}: a zip file without archive/*.warc(.gz) in it")
        return WarcSource(path=path, members=tuple(names))
    _sniff(path)
    return WarcSource(path=path)


#: How an ARC file begins: ``filedesc://`` (version 1 and 2), or a record line
#: ``URL IP-address 14-digit-date ...`` (warcio would take any line of five words for one).
ARC_START = re.compile(rb"^(filedesc|https?|ftp|dns)://\S+ \S+ \d{12,}")


def _sniff(path: str) -> None:
    """An InputError unless the file begins like a WARC or an ARC (plain or gzip)."""
    with open(path, "rb") as fh:
        head = fh.read(8192)
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 4096)
        except zlib.error as exc:
            raise InputError(f"{path}: a broken gzip file, not a readable WARC ({exc})") from exc
    start = head.lstrip()
    if start.startswith(b"WARC/") or ARC_START.match(start):
        return
    shown = start[:40].decode("utf-8", "replace").split("\n")[0]
    raise InputError(f"{path}: not a readable WARC or ARC file (it begins {shown!r})")


def read_metadata(source: WarcSource) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The archive's own metadata records: by the response they refer to, and those alone.

    Only a WARC that export-warc wrote (its first record says so) is read for them. A file
    unreadable part-way gives what came before (the import pass reports the rest).
    """
    by_response: dict[str, dict[str, Any]] = {}
    alone: list[dict[str, Any]] = []
    try:
        _metadata_records(source, by_response, alone, gunzip=False)
    except ArchiveLoadFailed as exc:
        if not whole_file_gzip(exc):
            raise
        by_response.clear()
        alone.clear()
        _metadata_records(source, by_response, alone, gunzip=True)
    return by_response, alone


def _written_by_archiver(record: Any) -> bool:
    """Whether a WARC's first record is the warcinfo export-warc writes first (or one of its
    metadata records: a file cut from an export)."""
    if record.rec_type == "metadata":
        return bool(record.rec_headers.get_header("Content-Type") == METADATA_TYPE)
    if record.rec_type != "warcinfo":
        return False
    head = record.content_stream().read(4096)
    return bool(re.search(rb"^software: archiver\b", head, re.MULTILINE))


def _metadata_records(
    source: WarcSource,
    by_response: dict[str, dict[str, Any]],
    alone: list[dict[str, Any]],
    *,
    gunzip: bool,
) -> None:
    for _, stream in source.streams(gunzip=gunzip):
        try:
            for number, record in enumerate(ArchiveIterator(stream, arc2warc=True)):
                if number == 0 and not _written_by_archiver(record):
                    break  # another tool's WARC: no need to read it twice
                if record.rec_type != "metadata":
                    continue
                if record.rec_headers.get_header("Content-Type") != METADATA_TYPE:
                    continue
                try:
                    meta = json.loads(record.content_stream().read().decode("utf-8"))
                except (ValueError, UnicodeDecodeError) as exc:
                    raise InputError(
                        f"{source.path}: a broken archiver metadata record ({exc})"
                    ) from exc
                if not isinstance(meta, dict):
                    raise InputError(f"{source.path}: a malformed archiver metadata record")
                refers_to = record.rec_headers.get_header("WARC-Refers-To")
                if refers_to:
                    by_response[refers_to] = meta
                else:
                    alone.append(meta)
        except ArchiveLoadFailed as exc:
            if whole_file_gzip(exc) and not gunzip:
                raise
            continue
        except (OSError, EOFError, ValueError):
            continue
