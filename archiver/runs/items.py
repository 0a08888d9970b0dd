"""The items of a run: what the sources expand to and the schedule plans over (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from archiver.models import CanonicalCopy


@dataclass(frozen=True, kw_only=True)
class Item:
    """One thing a run looks after: an article URL, with its canonical copy when there is one."""

    url: str
    canonical: CanonicalCopy | None = None
    published: str | None = None  # ISO 8601 date when known (copy, feed or sitemap)
    origin: str = ""  # which source named it
    follow_links: bool = True

    @property
    def key(self) -> str:
        """What the run log and the schedule know the item by."""
        return self.canonical.path if self.canonical else self.url

    @property
    def kind(self) -> str:
        return "canonical" if self.canonical else "url"
