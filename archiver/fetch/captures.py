"""Captures as the fetch stage makes and shows them: a failed request's record, whether a
capture is a page to extract, and a capture as JSON-ready data."""

from __future__ import annotations

import time
from typing import Any

from archiver.models import Capture


def is_html(capture: Capture) -> bool:
    """Whether the capture is a page to extract (HTML), rather than a file to store as is."""
    media = (capture.content_type or "").split(";")[0].strip().lower()
    if media:
        return media in ("text/html", "application/xhtml+xml")
    head = capture.body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def failed(
    url: str,
    final_url: str,
    chain: list[str],
    method: str,
    error: str,
    detail: str,
    last: Capture | None = None,
    *,
    started: float | None = None,
) -> Capture:
    """A capture of a request that got no usable answer (``last``: the answer it did get)."""
    return Capture(
        url=url,
        final_url=final_url,
        status=last.status if last else None,
        headers=last.headers if last else (),
        content_type=last.content_type if last else None,
        redirects=tuple(chain),
        error=error,
        detail=detail,
        method=method,
        elapsed=0.0 if started is None else time.monotonic() - started,
    )


def summarize(capture: Capture) -> dict[str, Any]:
    """A capture as JSON-ready data, the body replaced by its size and checksum."""
    return {
        "url": capture.url,
        "final_url": capture.final_url,
        "status": capture.status,
        "error": capture.error,
        "detail": capture.detail,
        "redirects": list(capture.redirects),
        "content_type": capture.content_type,
        "bytes": len(capture.body),
        "sha256": capture.sha256,
        "truncated": capture.truncated,
        "not_modified": capture.not_modified,
        "method": capture.method,
        "fetched_at": capture.fetched_at,
        "elapsed": round(capture.elapsed, 3),
    }
