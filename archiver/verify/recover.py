"""Recovering the targets of a canonical copy's placeholder (``#``) links from the live page."""

from __future__ import annotations

from collections.abc import Sequence

from archiver.extract.normalize import normalize_text
from archiver.models import Link


def recover_links(canonical: Sequence[Link], live: Sequence[Link]) -> list[tuple[Link, bool]]:
    """Give each placeholder (``#``) link of the copy its target on the live page.

    Matched by anchor text (normalized, case-folded), in order, each live link used once.
    Returns (link, recovered) pairs; a placeholder with no match stays a placeholder.
    """
    pool: dict[str, list[Link]] | None = None  # built for the first placeholder, if any
    out: list[tuple[Link, bool]] = []
    for link in canonical:
        # An empty or "#" href is always a placeholder (``precheck`` says so first): only
        # those are recovered, and no check record is needed to know it.
        if link.url.strip() not in ("", "#"):
            out.append((link, False))
            continue
        if pool is None:
            pool = {}
            for known in live:
                pool.setdefault(normalize_text(known.text).casefold(), []).append(known)
        candidates = pool.get(normalize_text(link.text).casefold())
        if candidates:
            target = candidates.pop(0)
            out.append((Link(url=target.url, text=link.text), True))
        else:
            out.append((link, False))
    return out
