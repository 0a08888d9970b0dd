"""Site profiles: how to find the article in one site's markup.

Each profile is one module with ``NAME`` and ``extract_page(page) -> PageFields``; adding a site
is adding a module and a line to ``PROFILES``. ``generic`` handles every other site (the sources
an article links to) through trafilatura. ``select_profile`` picks one from the URL and the page.

The helpers here are the small, shared vocabulary of the profiles: the parsed page, the fields a
profile returns, HTML whitespace folding and link resolution. They are pure functions of a tree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html

from archiver.models import Image, Link

if TYPE_CHECKING:
    from archiver.extract.profiles.metadata import HeadMeta

# Elements that break a line where they start or end (HTML block elements and their kin).
_BREAKING = (
    "br",
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "table",
    "tr",
    "td",
    "th",
    "blockquote",
    "section",
    "article",
    "aside",
    "header",
    "footer",
    "figure",
    "figcaption",
    "pre",
    "hr",
    "head",
    "item",
    "row",
    "cell",
    "list",
    "quote",
)
_WS = re.compile(r"[ \t\n\r\f]+")  # HTML's whitespace; a no-break space is text
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True, kw_only=True)
class Page:
    """A parsed page handed to a profile: the tree, its head metadata, the URL links resolve to."""

    tree: lxml_html.HtmlElement
    head: HeadMeta  # read once, before any profile strips scripts (JSON-LD lives in them)
    url: str | None  # the page's own URL (given, else canonical / og:url)
    base: str | None  # what relative links resolve against


@dataclass(kw_only=True)
class PageFields:
    """What a profile found; ``extract`` adds checksums and the decoding facts."""

    profile: str
    url: str | None = None
    title: str | None = None
    subtitle: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    modified: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    label: str | None = None
    warnings: list[str] = field(default_factory=list)


def clean_text(text: str | None) -> str:
    """HTML whitespace folding: runs of whitespace become one space; control characters go."""
    if not text:
        return ""
    if not text.isprintable():  # C-speed check; most text has no control characters
        text = _CONTROL.sub("", _WS.sub(" ", text))
    return _WS.sub(" ", text).strip() if "  " in text else text.strip()


def has_class(name: str) -> str:
    """XPath predicate for an element carrying CSS class ``name``."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def element_text(el: lxml_html.HtmlElement) -> str:
    """The text a reader sees in ``el``, ``<br>`` as a space, whitespace folded.

    Call :func:`strip_noise` on the tree first: ``itertext`` would otherwise read script bodies.
    """
    if not len(el):
        return clean_text(el.text)
    for node in el.iter(*_BREAKING):
        # "<p>a</p><p>b</p>" reads "a b", not "ab"
        if node is not el:
            node.tail = " " + (node.tail or "")
            node.text = " " + (node.text or "")
    return clean_text("".join(el.itertext()))


def strip_noise(tree: lxml_html.HtmlElement) -> None:
    """Drop what a reader never sees as text (scripts, styles, templates), keeping their tails."""
    etree.strip_elements(tree, "script", "style", "noscript", "template", with_tail=False)


def resolve(href: str | None, base: str | None) -> str:
    """An absolute URL for ``href``; placeholders (empty, ``#``) stay as they are."""
    href = (href or "").strip()
    if href in ("", "#") or not base:
        return href
    try:
        return urljoin(base, href)
    except ValueError:
        return href


def links_in(el: lxml_html.HtmlElement, base: str | None) -> list[Link]:
    """Every ``<a href>`` inside ``el``, in document order, resolved against ``base``."""
    return [
        Link(url=resolve(a.get("href"), base), text=element_text(a))
        for a in el.iter("a")
        if a.get("href") is not None
    ]


def dedupe(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without repeats or empties."""
    seen: dict[str, None] = {}
    for item in items:
        if item and item not in seen:
            seen[item] = None
    return list(seen)


def host_of(url: str | None) -> str:
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return ""


def select_profile(page: Page) -> str:
    """``moscowtimes`` for The Moscow Times (by URL, canonical link or site name), else generic."""
    from archiver.extract.profiles import moscowtimes

    return moscowtimes.NAME if moscowtimes.matches(page) else "generic"


def get_profile(name: str) -> Callable[[Page], PageFields]:
    """The ``extract_page`` function of a profile; ``KeyError`` for an unknown name."""
    from archiver.extract.profiles import generic, moscowtimes

    profiles: dict[str, Callable[[Page], PageFields]] = {
        moscowtimes.NAME: moscowtimes.extract_page,
        generic.NAME: generic.extract_page,
    }
    return profiles[name]


PROFILE_NAMES = ("moscowtimes", "generic")
