"""The small, shared vocabulary of the site profiles: the parsed page, the fields a profile
returns, HTML whitespace folding and link resolution. Pure functions of a tree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html

from archiver.extract.profiles import wayback
from archiver.extract.profiles.metadata import HeadMeta
from archiver.extract.profiles.text import clean_text
from archiver.models import Image, Link

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
_URL_NOISE = re.compile(r"[\t\n\r]")  # the URL standard strips these from inside a URL


@dataclass(frozen=True, kw_only=True)
class Page:
    """A parsed page handed to a profile: the tree, its head metadata, the URL links resolve to."""

    tree: lxml_html.HtmlElement
    head: HeadMeta  # read once, before any profile strips scripts (JSON-LD lives in them)
    url: str | None  # the page's own URL (given, else canonical / og:url)
    base: str | None  # what relative links resolve against
    replay: bool = False  # a Wayback replay: links' targets are the original URLs inside them

    def link(self, href: str | None) -> str:
        """The absolute target of ``href`` on this page (RFC 3986 against the base)."""
        return resolve(href, self.base, replay=self.replay)


@dataclass(frozen=True, kw_only=True)
class Profile:
    """One site profile: its name, how sure it is that a page is its site's, how to read it.

    ``recognise`` returns 0 for "not my site" up to 1 for certainty (the page's URL); the
    profile with the highest non-zero score reads the page, ``generic`` when none claims it.
    """

    name: str
    extract_page: Callable[[Page], PageFields]
    recognise: Callable[[Page], float]
    also_reports: tuple[str, ...] = ()  # other profile names its output may carry


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
    published_source: str | None = None  # json-ld, meta, dateline, url, page
    page_type: str | None = None  # article, product, forum, listing, page
    warnings: list[str] = field(default_factory=list)


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


def resolve(href: str | None, base: str | None, *, replay: bool = False) -> str:
    """An absolute URL for ``href`` as RFC 3986 (section 5) and browsers resolve it.

    ``rel`` and ``./rel`` replace the base's last segment, ``../`` climbs, ``?q`` keeps the
    base's path, ``#f`` the whole base, ``//host`` keeps the base's scheme. Tabs and newlines
    inside an ``href`` are dropped, as browsers do. Placeholders (empty, ``#``) stay as they are.
    On a Wayback replay (``replay``) a rewritten ``/web/<ts>/<url>`` target is its original URL.
    """
    href = _URL_NOISE.sub("", (href or "").strip())
    if href in ("", "#"):
        return href
    if base:
        try:
            href = urljoin(base, href)
        except ValueError:
            return href
    if replay:
        return wayback.original(href) or href
    return href


def links_in(el: lxml_html.HtmlElement, base: str | None, *, replay: bool = False) -> list[Link]:
    """Every ``<a href>`` inside ``el``, in document order, resolved against ``base``."""
    return [
        Link(url=resolve(a.get("href"), base, replay=replay), text=element_text(a))
        for a in el.iter("a")
        if a.get("href") is not None
    ]


def host_of(url: str | None) -> str:
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return ""
