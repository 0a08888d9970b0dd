"""The fetch stage: every byte the archiver knows comes through :class:`Fetcher`.

``policy`` (what the fetcher may do), ``urls`` (the one URL predicate and normalizer, pure),
``politeness`` and ``robots`` (what a site owner asks), ``transport`` (the watched session and
the error words), ``decoding`` (a body within its deadline and cap), ``fetcher`` (the door).

``Fetcher`` and ``FetchPolicy`` are importable from here; they are loaded on first use, so a
pure module that needs only :mod:`archiver.fetch.urls` does not load an HTTP client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archiver.fetch.fetcher import Fetcher
    from archiver.fetch.policy import FetchPolicy

__all__ = ["FetchPolicy", "Fetcher"]


def __getattr__(name: str) -> Any:
    if name == "Fetcher":
        from archiver.fetch.fetcher import Fetcher

        return Fetcher
    if name == "FetchPolicy":
        from archiver.fetch.policy import FetchPolicy

        return FetchPolicy
    raise AttributeError(f"module 'archiver.fetch' has no attribute {name!r}")
