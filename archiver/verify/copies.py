"""Reading the user's canonical copies from disk, with the archive's parse cache."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from archiver.errors import InputError
from archiver.models import CanonicalCopy
from archiver.verify.canonical import (
    PARSER_VERSION,
    canonical_from_bytes,
    copy_and_normalized_from_json,
    copy_to_json,
    read_copy_bytes,
)
from archiver.verify.compare import normalized_paragraphs, remember_normalized

if TYPE_CHECKING:
    from archiver.archive.store import Archive


def read_copies(
    paths: Sequence[str], *, archive: Archive | None = None
) -> tuple[list[CanonicalCopy], list[InputError]]:
    """Read every copy; the unreadable ones come back as errors, so one cannot stop the rest.

    With an archive, a copy whose bytes were parsed before (same SHA-256, same parser version)
    is taken from the parse cache instead of being parsed again; new parses are cached.
    """
    raw: list[tuple[str, bytes, str]] = []
    errors: list[InputError] = []
    for path in paths:
        try:
            data = read_copy_bytes(path)
        except InputError as exc:
            errors.append(exc)
            continue
        raw.append((path, data, hashlib.sha256(data).hexdigest()))
    cached = archive.cached_parses([sha for _, _, sha in raw], PARSER_VERSION) if archive else {}
    copies: list[CanonicalCopy] = []
    fresh: list[tuple[str, str]] = []
    for path, content, sha in raw:
        if sha in cached:
            copy, saved = copy_and_normalized_from_json(cached[sha], path=path)
            if saved is not None:
                remember_normalized(copy.paragraphs, saved)
            copies.append(copy)
            continue
        try:
            copy = canonical_from_bytes(content, path=path)
        except InputError as exc:
            errors.append(exc)
            continue
        copies.append(copy)
        if archive is not None:
            normalized = normalized_paragraphs(copy.paragraphs)
            remember_normalized(copy.paragraphs, normalized)
            fresh.append((sha, copy_to_json(copy, normalized)))
    if archive is not None:
        archive.save_parses(fresh, PARSER_VERSION)
    return copies, errors
