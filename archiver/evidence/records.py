"""What the evidence log holds: one leaf for each capture, extraction, link check and verdict.

A leaf's data is the row's own columns, in a fixed order per kind, as canonical JSON
(``LEAF_COLUMNS``, versioned): change any of them — a status, a checksum, a time, the body's
SHA-256 — and the leaf no longer matches its row. Columns added by later migrations are not in
the leaves of this version. A body's bytes are covered through ``captures.body_sha256``, which
``fsck`` re-hashes against the stored body. Pure functions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from archiver.evidence.merkle import leaf_hash

LEAF_VERSION = "archiver-leaf/1"

#: The kinds of record logged, in the order a batch of new rows is appended, and their columns.
LEAF_COLUMNS: dict[str, tuple[str, ...]] = {
    "extractions": (
        "id", "key", "url", "profile", "normalizer", "checksum", "title", "subtitle", "authors",
        "published", "modified", "text", "paragraphs", "images",
    ),
    "captures": (
        "id", "url", "final_url", "method", "fetched_at", "kind", "status", "error",
        "content_type", "headers", "redirects", "body_sha256", "size", "truncated",
        "not_modified", "extraction_id", "run_id",
    ),
    "verifications": (
        "id", "canonical_path", "url", "capture_id", "run_id", "verified_at", "status",
        "similarity", "checksum_canonical", "checksum_live", "changes",
    ),
    "link_checks": (
        "id", "source_url", "capture_id", "verification_id", "checked_at", "url", "text",
        "status", "broken", "http_status", "final_url", "redirects", "archived_url", "detail",
        "recovered",
    ),
}  # fmt: skip
KINDS = tuple(LEAF_COLUMNS)

#: The canonical encoder, made once (``json.dumps`` with options builds one a call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def leaf_data(kind: str, row: Mapping[str, Any]) -> bytes:
    """The canonical bytes of one record: version, kind and its columns' values, as JSON."""
    values = [row.get(column) for column in LEAF_COLUMNS[kind]]
    return _ENCODER.encode([LEAF_VERSION, kind, values]).encode("utf-8")


def record_leaf(kind: str, row: Mapping[str, Any]) -> bytes:
    """The leaf hash of one record (RFC 9162)."""
    return leaf_hash(leaf_data(kind, row))
