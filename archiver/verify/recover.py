"""Recovering the targets of a canonical copy's placeholder (``#``) links from the live page."""

from __future__ import annotations

from collections.abc import Sequence

from archiver.extract.normalize import normalize_text
from archiver.links.check import precheck
from archiver.models import Link


def recover_links(canonical: Sequence[Link], live: Sequence[Link]) -> list[tuple[Link, bool]]:
    """Give each placeholder (``#``) link of the copy its target on the live page.

    Matched by anchor text (normalized, case-folded), in order, each live link used once.
    Returns (link, recovered) pairs; a placeholder with no match stays a placeholder.
    """
    pool: dict[str, list[Link]] = {}
    for link in live:
        pool.setdefault(normalize_text(link.text).casefold(), []).append(link)
    out: list[tuple[Link, bool]] = []
    for link in canonical:
        if precheck(link) is None or link.url.strip() not in ("", "#"):
            out.append((link, False))
            continue
        candidates = pool.get(normalize_text(link.text).casefold())
        if candidates:
            target = candidates.pop(0)
            out.append((Link(url=target.url, text=link.text), True))
        else:
            out.append((link, False))
    return out
