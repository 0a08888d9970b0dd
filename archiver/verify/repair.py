"""Repair a canonical copy: write recovered link targets back, and nothing else.

A canonical copy is the user's reference text, so a repair must be surgical: the only bytes
that change are the link destinations being filled in (a ``(#)`` placeholder given the target
the live page links with that anchor text, or a broken target replaced by its archived copy).
Line endings, trailing spaces, front matter, a byte-order mark, everything else stays byte for
byte. Where each destination is written comes from markdown-it's own link rule
(:func:`archiver.verify.canonical.link_spans`), not from a regular expression over the text.

:func:`plan_repairs` and :func:`repair_text` are pure; :func:`repair_file` reads, and writes
atomically (a temporary file in the same folder, then a rename) unless it is a dry run.
"""

from __future__ import annotations

import difflib
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver.errors import CanonicalError, InputError
from archiver.fetch.urls import is_web_url
from archiver.models import CanonicalCopy, LinkCheck
from archiver.verify.canonical import LinkSpan, link_spans

log = logging.getLogger(__name__)

# Characters that would end a Markdown link destination even in <...>: percent-encoded on write.
_UNSAFE = {"\\": "%5C", "<": "%3C", ">": "%3E", "\t": "%09", "\n": "%0A", "\r": "%0D"}


@dataclass(frozen=True, kw_only=True)
class Fix:
    """One link target to write: the anchor text, the target now in the copy, the new one."""

    text: str
    old: str
    new: str
    reason: str  # "recovered" (from the live page) | "archived" (a broken link's archived copy)

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "old": self.old, "new": self.new, "reason": self.reason}


@dataclass(frozen=True, kw_only=True)
class Repair:
    """What a repair did (or, on a dry run, would do) to one copy."""

    path: str
    fixes: tuple[Fix, ...]
    skipped: tuple[Fix, ...] = ()  # wanted, but the target is not written in place (reference)
    diff: str = ""
    written: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.fixes)

    def to_json(self) -> dict[str, Any]:
        return {
            "canonical": self.path,
            "fixes": [fix.to_json() for fix in self.fixes],
            "skipped": [fix.to_json() for fix in self.skipped],
            "written": self.written,
            "diff": self.diff,
        }


def plan_repairs(copy: CanonicalCopy, checks: Sequence[LinkCheck]) -> list[Fix | None]:
    """For each link of the copy (same order as ``checks``), the fix to make, or None.

    A broken link with an archived copy gets the archived copy; a recovered placeholder gets
    the live page's target. Anything else is left as the user wrote it.
    """
    if len(checks) != len(copy.links):
        raise ValueError("one link check per link of the copy is needed")
    fixes: list[Fix | None] = []
    for link, check in zip(copy.links, checks, strict=True):
        if check.broken and check.archived_url and _web_url(check.archived_url):
            fixes.append(
                Fix(text=link.text, old=link.url, new=check.archived_url, reason="archived")
            )
        elif check.recovered and check.url != link.url and _web_url(check.url):
            fixes.append(Fix(text=link.text, old=link.url, new=check.url, reason="recovered"))
        else:
            fixes.append(None)
    return fixes


def _web_url(url: str) -> bool:
    """Only a well-formed http(s) URL is written into a copy (never ``javascript:``, ``data:``
    or anything else a hostile page might offer under a matching anchor text)."""
    return is_web_url(url)


def _destination(url: str) -> str:
    """A URL as a Markdown link destination, in ``<...>`` when it holds spaces or parentheses."""
    url = url.strip()
    for char, code in _UNSAFE.items():
        url = url.replace(char, code)
    return f"<{url}>" if any(ch in url for ch in " ()") else url


def _match(copy: CanonicalCopy, spans: Sequence[LinkSpan]) -> list[LinkSpan | None]:
    """Pair each link of the copy with its place in the text (the copy's links are a
    subsequence of all the text's links: title, caption and disclaimer links are not kept)."""
    out: list[LinkSpan | None] = []
    cursor = 0
    for link in copy.links:
        found = None
        for index in range(cursor, len(spans)):
            if spans[index].text == link.text and spans[index].href == link.url:
                found, cursor = spans[index], index + 1
                break
        out.append(found)
    return out


def repair_text(
    text: str, copy: CanonicalCopy, fixes: Sequence[Fix | None]
) -> tuple[str, list[Fix], list[Fix]]:
    """The text with the fixes written in; (new text, fixes made, fixes that could not be)."""
    places = _match(copy, link_spans(text))
    edits: list[tuple[int, int, str]] = []
    made: list[Fix] = []
    skipped: list[Fix] = []
    for fix, place in zip(fixes, places, strict=True):
        if fix is None:
            continue
        if place is None or place.start is None or place.end is None:
            skipped.append(fix)
            continue
        edits.append((place.start, place.end, _destination(fix.new)))
        made.append(fix)
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text, made, skipped


def unified_diff(path: str, old: str, new: str) -> str:
    """A unified diff of the copy, as ``git diff`` would show it."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def write_atomically(path: str, data: bytes) -> None:
    """Replace the file in one rename, keeping its permissions: never a half-written copy.

    A symlinked copy keeps its link: the file it points to is the one replaced.
    """
    target = Path(path).resolve()
    mode = target.stat().st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def repair_file(
    copy: CanonicalCopy, checks: Sequence[LinkCheck], *, dry_run: bool = False
) -> Repair:
    """Write the recovered targets into the copy's file (or, on a dry run, only diff them)."""
    try:
        data = Path(copy.path).read_bytes()
    except OSError as exc:
        raise InputError(f"{copy.path}: cannot read for repair: {exc.strerror}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalError(f"{copy.path}: not UTF-8 text (byte {exc.start})") from exc
    new_text, made, skipped = repair_text(text, copy, plan_repairs(copy, checks))
    for fix in skipped:
        log.warning("%s: %r: target not written in place, not repaired", copy.path, fix.text)
    diff = unified_diff(copy.path, text, new_text) if made else ""
    written = False
    if made and not dry_run:
        write_atomically(copy.path, new_text.encode("utf-8"))
        written = True
    return Repair(
        path=copy.path, fixes=tuple(made), skipped=tuple(skipped), diff=diff, written=written
    )
