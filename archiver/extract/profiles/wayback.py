"""Pages as the Wayback Machine replays them: the original URL inside a rewritten one, the toolbar.

A replay is ``https://web.archive.org/web/<timestamp>[flags_]/<original URL>``: the page's own
markup with the archive's toolbar inserted at the top of ``<body>`` and every link rewritten to
``/web/<timestamp>/<original URL>``. The article is the original site's, and its links' real
targets are the original URLs. Links are unwrapped only on a replayed page: an ordinary page
that cites a Wayback capture means the capture.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml import html as lxml_html

_REPLAY = re.compile(
    r"^(?:(?:https?:)?//(?:web\.)?(?:archive\.org|wayback\.archive\.org))?"
    r"/web/(?P<ts>\d{1,14})(?:[a-z]{2}_)?/(?P<url>.+)$",
    re.IGNORECASE,
)
_SCHEME_ONE_SLASH = re.compile(r"^(https?):/(?!/)", re.IGNORECASE)
_TOOLBAR_IDS = ("wm-ipp-base", "wm-ipp", "wm-ipp-print", "donato", "wm-capinfo")


def original(url: str | None) -> str | None:
    """The original URL of a Wayback replay URL (absolute or ``/web/...``), else None."""
    if not url:
        return None
    found = _REPLAY.match(url.strip())
    if found is None:
        return None
    target = _SCHEME_ONE_SLASH.sub(r"\1://", found.group("url"))  # "http:/x" as some copies have
    if target.startswith("//"):
        target = "http:" + target
    elif not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
        target = "http://" + target
    return target


def is_replay(tree: lxml_html.HtmlElement, url: str | None) -> bool:
    """True for a page the Wayback Machine replays: by its URL or by the toolbar in it."""
    if original(url) is not None:
        return True
    for el in tree.iter("div", "script", "link"):
        if el.get("id") in _TOOLBAR_IDS:
            return True
        src = el.get("src") or el.get("href") or ""
        if "/_static/js/wombat" in src or "/_static/css/banner-styles" in src:
            return True
    return False


def strip_toolbar(tree: lxml_html.HtmlElement) -> None:
    """Remove the archive's toolbar and scripts (keeping what follows them in the page)."""
    doomed = [
        el
        for el in tree.iter("div", "script", "link", "style", "noscript")
        if el.get("id") in _TOOLBAR_IDS
        or "/_static/" in (el.get("src") or el.get("href") or "")
        or "__wm." in (el.text or "")
        or "archive_analytics" in (el.text or "")
    ]
    for el in doomed:
        if el.getparent() is not None:
            el.drop_tree()  # keeps the tail: the page's own text after the toolbar
    etree.strip_elements(tree, "wb-toolbar", with_tail=False)
