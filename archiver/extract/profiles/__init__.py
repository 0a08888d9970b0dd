"""Site profiles: how to find the article in one site's markup.

Each profile is one module defining ``PROFILE`` (a :class:`~.base.Profile`: its name, a
``recognise(page)`` score and ``extract_page(page) -> PageFields``); adding a site is adding a
module and a line to ``PROFILES``. ``generic`` handles every other site (the sources an article
links to) through trafilatura and is last: it claims nothing and reads what no other claims.

The profile is chosen from the page itself as well as its URL — the canonical link, ``og:url``,
``og:site_name``, the JSON-LD publisher, the site's own markup — so a saved file, a mirror or a
Wayback replay of a site is read as the site. ``extract(profile=...)`` forces one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from archiver.extract.profiles import moscowtimes
from archiver.extract.profiles.base import Page, PageFields, Profile, resolve

__all__ = [
    "PROFILES",
    "PROFILE_NAMES",
    "Page",
    "PageFields",
    "Profile",
    "get_profile",
    "resolve",
    "select_profile",
    "warm_up",
]

#: ``generic.NAME``, known without importing it.
GENERIC = "generic"


def _generic_page(page: Page) -> PageFields:
    """``generic.extract_page``, imported on first use: trafilatura takes ~0.3 s to import,
    and a page of a site with its own profile (``archiver extract`` on a Moscow Times page)
    never needs it."""
    from archiver.extract.profiles import generic

    return generic.extract_page(page)


def warm_up() -> None:
    """Import the generic profile (trafilatura, ~0.1-0.2 s) in a background thread, for a
    caller about to wait on the network before it extracts a page here: the import then
    overlaps the wait instead of following it. Once per process; a no-op once under way."""
    global _warming
    with _warm_lock:
        if _warming:
            return
        _warming = True
    threading.Thread(target=_import_generic, name="archiver-warm-up", daemon=True).start()


_warm_lock = threading.Lock()
_warming = False


def _import_generic() -> None:
    from archiver.extract.profiles import generic  # noqa: F401


def _generic_recognise(page: Page) -> float:
    from archiver.extract.profiles import generic

    return generic.recognise(page)


PROFILES: tuple[Profile, ...] = (
    moscowtimes.PROFILE,
    # last: reads every page no other profile claims
    Profile(name=GENERIC, extract_page=_generic_page, recognise=_generic_recognise),
)
PROFILE_NAMES = tuple(p.name for p in PROFILES)


def select_profile(page: Page) -> str:
    """The name of the profile most sure the page is its site's; ``generic`` when none is."""
    best, score = GENERIC, 0.0
    for profile in PROFILES:
        if profile.name == GENERIC:
            continue
        sure = profile.recognise(page)
        if sure > score:
            best, score = profile.name, sure
    return best


def get_profile(name: str) -> Callable[[Page], PageFields]:
    """The ``extract_page`` function of a profile; ``KeyError`` for an unknown name."""
    for profile in PROFILES:
        if profile.name == name:
            return profile.extract_page
    raise KeyError(name)
