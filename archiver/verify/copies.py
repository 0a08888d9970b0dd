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
    from concurrent.futures import Executor

    from archiver.archive.store import Archive

#: Copies per chunk sent to a worker: ~1.3 ms of parsing each, so ~0.2 s a round trip.
PARSE_CHUNK = 150


def read_copies(
    paths: Sequence[str], *, archive: Archive | None = None, executor: Executor | None = None
) -> tuple[list[CanonicalCopy], list[InputError]]:
    """Read every copy; the unreadable ones come back as errors, so one cannot stop the rest.

    With an archive, a copy whose bytes were parsed before (same SHA-256, same parser version)
    is taken from the parse cache instead of being parsed again; new parses are cached.
    ``executor``: where the new copies are parsed and normalized (their bytes go to the
    workers, :class:`~archiver.parallel.tasks.ParsedCopy` records come back); the files are
    read and the cache is written here. The copies are the same wherever they are parsed.
    """
    if executor is not None:
        return _read_copies_in(executor, paths, archive)
    raw, errors, cached = _read_raw(paths, archive)
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


def _read_raw(
    paths: Sequence[str], archive: Archive | None
) -> tuple[list[tuple[str, bytes, str]], list[InputError], dict[str, str]]:
    """Each readable copy's (path, bytes, SHA-256), the unreadable ones as errors, and the
    parses the archive's cache already holds for those bytes (by SHA-256)."""
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
    return raw, errors, cached


def _read_copies_in(
    executor: Executor, paths: Sequence[str], archive: Archive | None
) -> tuple[list[CanonicalCopy], list[InputError]]:
    """:func:`read_copies` with the parsing done by ``executor``; same copies, same order."""
    from archiver.parallel.ordered import map_ordered
    from archiver.parallel.tasks import TaskError, parse_copy_batch

    raw, errors, cached = _read_raw(paths, archive)
    slots: list[CanonicalCopy | None] = []
    todo: list[tuple[bytes, str]] = []
    for path, content, sha in raw:
        if sha in cached:
            copy, saved = copy_and_normalized_from_json(cached[sha], path=path)
            if saved is not None:
                remember_normalized(copy.paragraphs, saved)
            slots.append(copy)
        else:
            slots.append(None)
            todo.append((content, path))
    parsed = map_ordered(executor, parse_copy_batch, todo, chunk=PARSE_CHUNK)
    fresh: list[tuple[str, str]] = []
    copies: list[CanonicalCopy] = []
    for slot in slots:
        if slot is not None:
            copies.append(slot)
            continue
        outcome = next(parsed)
        if isinstance(outcome, TaskError):
            error = outcome.to_exception()
            errors.append(error if isinstance(error, InputError) else InputError(str(error)))
            continue
        copies.append(outcome.copy)
        remember_normalized(outcome.copy.paragraphs, outcome.normalized)
        if archive is not None:
            fresh.append((outcome.sha256, copy_to_json(outcome.copy, outcome.normalized)))
    if archive is not None:
        archive.save_parses(fresh, PARSER_VERSION)
    return copies, errors
