"""The body codec: how a raw body is packed into the archive and proved intact coming out.

Bodies are stored once per SHA-256 of their raw bytes, compressed with zlib when that makes
them smaller. Everything that reads a body back (the store, ``fsck``, WARC export) goes
through :func:`unpack_body`, which re-hashes it: a body that does not hash to its key is never
handed out as if it were the capture. Pure functions, no SQLite: ``store``, ``fsck`` and
``warc`` all import this module and none of them imports another for it.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from typing import Any

from archiver.models import Capture, Document, sha256_hex

ZLIB_LEVEL = 6  # the knee of zlib's size/speed curve for HTML


def compress_body(body: bytes) -> tuple[str, bytes]:
    """zlib when it makes the body smaller, else the bytes as they are (images, archives)."""
    packed = zlib.compress(body, ZLIB_LEVEL)
    if len(packed) < len(body):
        return "zlib", packed
    return "identity", body


def decompress_body(compression: str, data: bytes) -> bytes:
    if compression == "zlib":
        return zlib.decompress(data)
    if compression == "identity":
        return bytes(data)
    raise ValueError(f"unknown compression {compression!r}")


def check_body(
    sha: str, size: int | None, compression: str, data: bytes | None
) -> tuple[str, str] | None:
    """Why a stored body fails its fixity check, ``(kind, detail)``, or None when it passes."""
    try:
        body = decompress_body(compression, data or b"")
    except (zlib.error, ValueError) as exc:
        return "unreadable", f"cannot decompress ({compression}): {exc}"
    actual = sha256_hex(body)
    if actual != sha:
        return "checksum_mismatch", f"stored sha256 {sha}, body now hashes to {actual}"
    if size is not None and len(body) != size:
        return "size_mismatch", f"stored size {size}, body is {len(body)} bytes"
    return None


def unpack_body(sha: str, compression: str, data: bytes) -> bytes:
    """The body as stored, decompressed and re-hashed; ``ValueError`` says why it is not."""
    try:
        body = decompress_body(compression, data)
    except (zlib.error, ValueError) as exc:
        raise ValueError(f"is unreadable ({exc})") from exc
    if sha256_hex(body) != sha:
        raise ValueError("fails its SHA-256")
    return body


def capture_kind(capture: Capture) -> str:
    """How a capture is recorded: ``response`` (with a body), ``not_modified`` or ``error``."""
    if capture.error:
        return "error"
    if capture.not_modified or capture.status == 304:
        return "not_modified"
    return "response"


def has_stored_body(capture: Capture) -> bool:
    """Whether the archive keeps this capture's body: every answer's, and any partial bytes."""
    return capture_kind(capture) == "response" or bool(capture.body)


def document_key(document: Document) -> str:
    """Identity of an extraction: the same document seen 100 times is stored once."""
    blob = json.dumps(document.to_json(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


#: One encoder for every column (``json.dumps`` with options builds a new one a call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    """JSON as the archive stores it in a text column: compact, UTF-8 kept."""
    return _ENCODER.encode(value)
