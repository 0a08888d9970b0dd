"""Metadata from a page's head: JSON-LD, Open Graph / ``article:*`` meta tags, canonical link.

Every profile reads these, and they are what older designs and AMP pages fall back on when the
body markup is not recognised. Read them before scripts are stripped from the tree: JSON-LD lives
in ``<script>``. Nothing here is ever executed; JSON-LD is parsed as data and malformed blocks
are skipped with a warning.
"""

from __future__ import annotations

import json
import logging
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
    if meta.title is None:
        title = tree.find(".//title")
        meta.title = clean_text(title.text_content()) or None if title is not None else None
    return meta
