"""A response body, read within its deadline and decoded within its size cap.

The cap is on the *decoded* body, so a gzip bomb stops after exactly ``max_bytes`` of output;
a body that stops coming, comes too slowly, is cut short or is badly compressed is kept as far
as it came, marked truncated, with a detail that says what happened in words.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from typing import Any

import requests
import urllib3.exceptions

from archiver.fetch.policy import FetchPolicy

CHUNK = 64 * 1024


class Decoder:
    """Content decoding with a hard cap on output, fed one network chunk at a time.

    urllib3 would decode too, but only ``zlib``'s ``max_length`` lets us stop a gzip bomb after
    exactly ``limit`` bytes of output instead of one whole inflated chunk later.
    """

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._zlib: Any = None
        self._produced = False
        if encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS)

    @property
    def decodes(self) -> bool:
        return self._zlib is not None

    def feed(self, data: bytes, limit: int) -> bytes:
        """Decoded bytes of ``data``; more than ``limit - 1`` bytes means the cap was reached."""
        if self._zlib is None:
            return data[:limit]
        out = b""
        while data and len(out) < limit:
            try:
                part = self._zlib.decompress(data, limit - len(out))
            except zlib.error:
                if self.encoding == "deflate" and not self._produced:
                    # Many servers send raw deflate without the zlib header the RFC asks for.
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._produced = True
                    continue
                raise
            self._produced = True
            out += part
            if self._zlib.unconsumed_tail:
                data = self._zlib.unconsumed_tail
            elif self._zlib.eof and self._zlib.unused_data and self.encoding != "deflate":
                data = self._zlib.unused_data  # a further gzip member
                self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:
                data = b""
        return out

    @property
    def finished(self) -> bool:
        """Whether the compressed stream reached its proper end (always true for identity)."""
        return self._zlib is None or bool(self._zlib.eof)

    def flush(self, limit: int) -> bytes:
        if self._zlib is None:
            return b""
        return bytes(self._zlib.flush())[:limit]


@dataclass(frozen=True, kw_only=True)
class Body:
    """What was read of a body: the decoded bytes, whether they are all, and why not."""

    data: bytes = b""
    truncated: bool = False
    error: str | None = None
    detail: str = ""


def read_body(
    response: requests.Response,
    policy: FetchPolicy,
    deadline: float,
    *,
    host: str,
    stopped: Any = None,
) -> Body:
    """Stream ``response``'s body within the total ``deadline`` and the decoded-size cap.

    ``stopped`` (a :class:`threading.Event`) ends the read early when set: the fetcher is
    being stopped, and whatever came is kept as truncated.
    """
    raw = response.raw
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    decoder = Decoder(encoding)
    notes: list[str] = []
    if not decoder.decodes and encoding not in ("identity", ""):
        notes.append(f"Content-Encoding {encoding!r} kept as received")
    chunks: list[bytes] = []
    size = 0
    sock = getattr(getattr(raw, "connection", None), "sock", None)

    def cut(note: str, *, error: str | None = None) -> Body:
        notes.append(note)
        return Body(data=b"".join(chunks), truncated=True, error=error, detail="; ".join(notes))

    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return cut(
                f"total deadline of {policy.timeout:g} s passed reading {host} after {size} bytes",
                error="timeout",
            )
        if stopped is not None and stopped.is_set():
            return cut(f"stopped reading {host} after {size} bytes", error="timeout")
        silence = min(policy.read_timeout, remaining)
        if sock is not None:
            try:
                sock.settimeout(silence)
            except OSError:
                sock = None
        try:
            data = raw.read1(CHUNK, decode_content=False)
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
            return cut(
                f"timed out after {silence:.1f} s of silence reading {host} "
                f"(after {size} bytes of the body)",
                error="timeout",
            )
        except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
            if stopped is not None and stopped.is_set():
                return cut(f"stopped reading {host} after {size} bytes", error="timeout")
            return cut(f"body cut short after {size} bytes: {_reason(exc)}")
        if not data:
            break
        try:
            out = decoder.feed(data, policy.max_bytes - size + 1)
        except zlib.error as exc:
            return cut(f"{encoding} decoding failed after {size} bytes: {exc}")
        if size + len(out) > policy.max_bytes:
            chunks.append(out[: policy.max_bytes - size])
            return cut(f"body larger than {policy.max_bytes} bytes; kept the first part")
        chunks.append(out)
        size += len(out)
    tail = decoder.flush(policy.max_bytes - size + 1)
    if size + len(tail) > policy.max_bytes:
        chunks.append(tail[: policy.max_bytes - size])
        return cut(f"body larger than {policy.max_bytes} bytes; kept the first part")
    chunks.append(tail)
    if not decoder.finished:
        return cut(f"the {encoding} stream ended early")
    return Body(data=b"".join(chunks), detail="; ".join(notes))


def _reason(exc: BaseException) -> str:
    """The innermost reason a read failed, in words, without Python class names."""
    current: BaseException = exc
    seen: set[int] = set()
    while id(current) not in seen:
        seen.add(id(current))
        nested = current.args[0] if current.args else None
        if isinstance(nested, BaseException):
            current = nested
        elif current.__cause__ is not None:
            current = current.__cause__
        else:
            break
    if isinstance(current, urllib3.exceptions.IncompleteRead | urllib3.exceptions.ProtocolError):
        text = str(current)
        if "IncompleteRead" in text or isinstance(current, urllib3.exceptions.IncompleteRead):
            return "the connection closed before the promised length"
    if isinstance(current, ConnectionResetError):
        return "the connection was reset"
    if isinstance(current, OSError) and current.strerror:
        return current.strerror.lower()
    lines = str(current).strip().splitlines()
    return lines[0][:300] if lines else "the connection failed"
