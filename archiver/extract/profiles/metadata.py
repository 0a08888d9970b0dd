"""Metadata from a page's head: JSON-LD, Open Graph / ``article:*`` meta tags, canonical link.

Every profile reads these, and they are what older designs and AMP pages fall back on when the
body markup is not recognised. Read them before scripts are stripped from the tree: JSON-LD lives
in ``<script>``. Nothing here is ever executed; JSON-LD is parsed as data and malformed blocks
are skipped with a warning.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import html as lxml_html

from archiver.extract.profiles.text import clean_text, dedupe

log = logging.getLogger(__name__)

ARTICLE_TYPES = {
    "Article",
    "NewsArticle",
    "ReportageNewsArticle",
    "OpinionNewsArticle",
    "AnalysisNewsArticle",
    "BlogPosting",
    "Report",
    "ScholarlyArticle",
}


@dataclass(kw_only=True)
class HeadMeta:
    """The article facts a page states about itself outside its body."""

    title: str | None = None
    description: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    modified: str | None = None
    section: str | None = None
    canonical: str | None = None
    base: str | None = None  # <base href>, as written
    og_url: str | None = None
    image: str | None = None
    site_name: str | None = None
    publisher: str | None = None  # the JSON-LD publisher's name
    published_source: str | None = None  # "json-ld" or "meta": where ``published`` was read
    og_type: str | None = None
    types: set[str] = field(default_factory=set)  # every JSON-LD @type on the page
    article_body: str | None = None
    # the name credited by a "Written by" twitter:label / data pair; the body's markup is read
    # (:func:`bylines`) only by the profile that needs it, when it needs it
    bylines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _types(item: dict[str, Any]) -> set[str]:
    kind = item.get("@type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {k for k in kind if isinstance(k, str)}
    return set()


def _flatten(data: Any) -> list[dict[str, Any]]:
    """Every JSON-LD object at the top level, in lists or in ``@graph``."""
    out: list[dict[str, Any]] = []
    stack = [data]
    while stack:
        item = stack.pop(0)
        if isinstance(item, list):
            stack[0:0] = item
        elif isinstance(item, dict):
            out.append(item)
            if isinstance(item.get("@graph"), list):
                stack[0:0] = item["@graph"]
    return out


def _names(value: Any) -> list[str]:
    """Person names from a JSON-LD ``author``: a string, a Person, or a list of either."""
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        if isinstance(item, str):
            names.append(clean_text(item))
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            names.append(clean_text(item["name"]))
    return dedupe(names)


def _str(value: Any) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):
        value = value.get("url") or value.get("@id")
    return clean_text(value) or None if isinstance(value, str) else None


def read_head(tree: lxml_html.HtmlElement) -> HeadMeta:
    """Collect JSON-LD, meta tags and the canonical link; JSON-LD wins where both speak."""
    meta = HeadMeta()
    tags: dict[str, str] = {}
    article: dict[str, Any] | None = None
    for el in tree.iter("meta", "link", "script", "base"):  # one pass over the tree
        if el.tag == "meta":
            key = (el.get("property") or el.get("name") or "").strip().lower()
            content = el.get("content")
            if key and content is not None and key not in tags:
                tags[key] = clean_text(content)
        elif el.tag == "link":
            rel = (el.get("rel") or "").lower().split()
            if "canonical" in rel and el.get("href") and meta.canonical is None:
                meta.canonical = el.get("href", "").strip()
        elif el.tag == "base":
            if meta.base is None and el.get("href"):
                meta.base = el.get("href", "").strip()
        elif (el.get("type") or "").strip().lower() == "application/ld+json":
            try:
                data = json.loads(el.text or "")
            except ValueError as exc:
                meta.warnings.append(f"malformed JSON-LD skipped ({exc})")
                continue
            for item in _flatten(data):
                meta.types |= _types(item)
                if article is None and _types(item) & ARTICLE_TYPES:
                    article = item

    meta.og_url = tags.get("og:url") or None
    meta.image = tags.get("og:image") or None
    meta.site_name = tags.get("og:site_name") or None
    meta.title = tags.get("og:title") or None
    meta.description = tags.get("og:description") or tags.get("description") or None
    meta.og_type = (tags.get("og:type") or "").lower() or None
    meta.published = tags.get("article:published_time") or None
    if meta.published:
        meta.published_source = "meta"
    meta.modified = tags.get("article:modified_time") or None
    meta.section = tags.get("article:section") or None
    author_tag = tags.get("author") or tags.get("article:author")
    if author_tag and not author_tag.startswith("http"):
        meta.authors = [author_tag]
    if article is not None:
        meta.title = _str(article.get("headline")) or meta.title
        meta.description = _str(article.get("description")) or meta.description
        meta.authors = _names(article.get("author")) or meta.authors
        if _str(article.get("datePublished")):
            meta.published = _str(article.get("datePublished"))
            meta.published_source = "json-ld"
        meta.modified = _str(article.get("dateModified")) or meta.modified
        meta.section = _str(article.get("articleSection")) or meta.section
        meta.image = _str(article.get("image")) or meta.image
        publisher = article.get("publisher")
        if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
            meta.publisher = clean_text(publisher["name"]) or None
        body = article.get("articleBody")
        meta.article_body = body if isinstance(body, str) and body.strip() else None
    labelled = _labelled_author(tags)
    meta.bylines = [labelled] if labelled else []
    if meta.title is None:
        title = tree.find(".//title")
        meta.title = clean_text(title.text_content()) or None if title is not None else None
    return meta


_WRITTEN_BY = re.compile(r"^(?:written by|author|autor|geschrieben von|von|by)$", re.IGNORECASE)


def _labelled_author(tags: dict[str, str]) -> str | None:
    """The name a ``twitter:labelN`` / ``twitter:dataN`` pair gives as the writer."""
    for n in range(1, 5):
        if _WRITTEN_BY.match(tags.get(f"twitter:label{n}", "")):
            return tags.get(f"twitter:data{n}") or None
    return None


# "By", "Written by:", "Posted by", "Autor:" ending a text run, at its start or after a date
_BY_END = re.compile(
    r"(?:^|\d\s*|[|·•⋅]\s*)(?:(?:[Ww]ritten|[Pp]osted|[Aa]rticle|[Ww]ords|[Rr]eported|[Ss]tory)\s+by"
    r"|By|BY|[Aa]uthor|Autor(?:in)?|Von|[Cc]ontributors?)\s*:?\s*$"
)
# the same, with the name in the same run of text ("By Chase Bernath", "Written by:Elise Nass")
_BY_TEXT = re.compile(
    r"^(?:(?:[Ww]ritten|[Pp]osted|[Aa]rticle|[Ww]ords|[Rr]eported|[Ss]tory)\s+by|By|BY|"
    r"[Aa]uthor|Autor(?:in)?|[Cc]ontributors?)\s*:?\s*"
    r"([A-ZÀ-Þ][\w'’.-]*(?:\s+(?:(?:van|von|der|den|de|da|del|la|le|di|du|bin|al)\s+)*"
    r"[A-ZÀ-Þ][\w'’.-]*){0,3}(?:\s*(?:,|and|&|und)\s+[A-ZÀ-Þ][\w'’.-]*"
    r"(?:\s+[A-ZÀ-Þ][\w'’.-]*){0,3})*)"
)
_BY_START = re.compile(
    r"(?:written|posted|article|words|reported|story|by|autor|author|contrib)", re.I
)
_SKIP = {"script", "style", "noscript", "template", "nav", "select", "option", "button", "head"}
_NO_BYLINE = re.compile(r"comment|related|footer|sidebar|menu|newsletter", re.IGNORECASE)
_MAX_ELEMENTS = 20_000


def bylines(tree: lxml_html.HtmlElement) -> list[str]:
    """The names of the first credit of an author in the page's markup: microdata
    ``itemprop=author`` (its ``name``), a ``rel=author`` link, or a short "By" / "Written by" /
    "Autor:" line with a name of two words or more after it (in the same text or the next
    element: several names when that element is a list of links). Comment threads,
    navigation, related stories and footers are not read. At most three names."""
    for count, el in enumerate(tree.iter()):
        if count > _MAX_ELEMENTS:
            break
        if not isinstance(el.tag, str) or el.tag in _SKIP:
            continue
        names = [n for n in (_short(x) for x in _credited(el)) if n]
        if names and not _hidden(el):
            return dedupe(names)[:3]
    return []


def _credited(el: lxml_html.HtmlElement) -> list[str]:
    if (el.get("itemprop") or "").lower() == "author":
        named = el.xpath(".//*[@itemprop='name']")
        text = (named[0].get("content") or named[0].text_content()) if named else el.get("content")
        return [text if text is not None else el.text_content()]
    if el.tag == "a" and "author" in (el.get("rel") or "").lower().split():
        return [el.text_content()]
    runs = [(el.text, el[0] if len(el) else None)]
    runs += [(child.tail, el[i + 1] if i + 1 < len(el) else None) for i, child in enumerate(el)]
    for text, after in runs:
        text = clean_text(text)
        if not text or len(text) > 40:
            continue
        if after is not None and isinstance(after.tag, str) and _BY_END.search(text):
            return _names_in(after)
    own = (el.text or "").lstrip()
    if not _BY_START.match(own):
        return []  # (reading every element's whole text would cost more than the rest)
    whole = clean_text(el.text_content())
    if len(whole) <= 20 and _BY_END.match(whole):  # <p>Written by</p><p>Name</p>
        for count, sibling in enumerate(el.itersiblings()):
            if count >= 3 or not isinstance(sibling.tag, str):
                break
            if clean_text(sibling.text_content()):
                return _names_in(sibling)
    if len(whole) <= 120:
        match = _BY_TEXT.match(whole)
        if match and len(match.group(1).split()) >= 2:
            return [match.group(1)]
    return []


def _names_in(el: lxml_html.HtmlElement) -> list[str]:
    """The names an element after a "By" holds: its links' texts (a list of authors), else its
    text; only names of two words or more ("By Category" is a menu)."""
    links = [a.text_content() for a in el.iter("a")] if el.tag != "a" else []
    return [n for n in links or [el.text_content()] if len(clean_text(n).split()) >= 2]


def _short(text: str | None) -> str | None:
    text = clean_text(text)
    return text if text and len(text) <= 80 else None


def _hidden(el: lxml_html.HtmlElement) -> bool:
    """Inside a comment thread, a navigation or footer block, a list of related stories (an
    article's own footer holds its byline)."""
    ups = list(el.iterancestors())[:16]
    in_article = any(up.tag == "article" for up in ups)
    for up in ups:
        if up.tag == "nav" or (up.tag in ("footer", "aside") and not in_article):
            return True
        marks = f"{up.get('class') or ''} {up.get('id') or ''}"
        if marks.strip() and _NO_BYLINE.search(marks):
            return True
    return False
