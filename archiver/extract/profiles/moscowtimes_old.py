"""The Moscow Times in its old design (pages served until about 2017; Wayback captures and saved
files keep them), matched by role rather than by one exact class name.

Facts (``shared/reference/moscowtimes-anatomy.md``): ``div.article_wrap > article``; the headline
is an ``h2`` (no ``h1``); a list (``ul.*_article_info``) holds the source or author, the
dateline ("Jan. 14 2014 00:00") and an edit time ("Last edited 09:21"); ``div.article_main_img``
and ``div.article_img_note`` with ``span.article_img_author`` (the credits) and
``span.article_img_description`` (the caption); ``div.article_text > p`` is the body.
``<title>``/``og:title`` carry the section ("| News"); ``Last-Modified`` is when the page was
served, never the publication date. A photo credit is never an author.
"""

from __future__ import annotations

import re

from lxml import html as lxml_html

from archiver.extract.profiles import fields as fields_mod
from archiver.extract.profiles.base import Page, PageFields, element_text, links_in
from archiver.models import Image

NAME = "moscowtimes"
_TEXT = "contains(@class, 'article_text')"
_DATELINE = re.compile(
    r"^(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2},?\s+\d{4}|\d{1,2}\s+[A-Z][a-z]{2,8}\.?\s+\d{4}|"
    r"\d{4}-\d{2}-\d{2})(?:\s+\d{1,2}:\d{2})?$"
)
_EDITED = re.compile(r"^(?:last\s+)?(?:edited|updated)\b", re.IGNORECASE)
_BY = re.compile(r"^by\s+", re.IGNORECASE)
# News agencies and sources the old design names where an author would stand: not people.
_AGENCIES = re.compile(
    r"^(?:RIA Novosti|Interfax|Itar-Tass|TASS|Reuters|AP|The Associated Press|Bloomberg|AFP|"
    r"Vedomosti|Kommersant|MT|The Moscow Times|Prime|RBC|Dow Jones|Staff Writer|MT Staff)$",
    re.IGNORECASE,
)


def _first(el: lxml_html.HtmlElement, xpath: str) -> lxml_html.HtmlElement | None:
    found = el.xpath(xpath)
    return found[0] if found else None


def find(tree: lxml_html.HtmlElement) -> lxml_html.HtmlElement | None:
    """The old design's article element (the one holding ``article_text``), or None."""
    text = _first(tree, f"//div[{_TEXT}]")
    if text is None:
        return None
    # the body's class alone is too common a name: the design's other roles must be there too
    roles = "contains(@class, 'article_info') or contains(@class, 'article_wrap')"
    roles += " or contains(@class, 'article_img_note')"
    if _first(tree, f"//*[{roles}]") is None:
        return None
    node = text.getparent()
    while node is not None and node.tag not in ("article", "body"):
        if "article_wrap" in (node.get("class") or ""):
            break
        node = node.getparent()
    return node if node is not None and node.tag != "body" else text.getparent()


def _clean(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


def extract_old(page: Page, article: lxml_html.HtmlElement) -> PageFields:
    """Read one old-design article element into PageFields."""
    head = page.head
    fields = PageFields(profile=NAME, url=page.url, warnings=list(head.warnings))
    fields.page_type = "article"
    heading = _first(article, ".//h1")
    if heading is None:
        heading = _first(article, ".//h2")
    shown = _clean(element_text(heading)) if heading is not None else ""
    sites = fields_mod.site_labels("themoscowtimes.com", "The Moscow Times")
    fields.title = shown or fields_mod.clean_title(head.title, [], sites | {"news"})
    info = _first(article, ".//ul[contains(@class, 'article_info')]")
    if info is not None:
        for item in info.iter("li"):
            text = _clean(element_text(item))
            if not text or _EDITED.match(text):
                continue
            if _DATELINE.match(text):
                date = fields_mod.iso_date(text)
                if date and date.endswith("T00:00:00"):
                    date = date[:10]  # "00:00" is the site's placeholder for "no time"
                fields.published = fields.published or date
                fields.published_source = "dateline" if fields.published else None
                continue
            name = _BY.sub("", text)
            if _AGENCIES.match(name):
                fields.warnings.append(f"the byline names a source, not a person: {name}")
                continue
            fields.authors.extend(fields_mod.clean_authors([name], sites))
    if fields.published is None:  # JSON-LD / article:published_time; never Last-Modified
        fields.published = fields_mod.iso_date(head.published)
        fields.published_source = head.published_source if fields.published else None
    for holder in article.xpath(".//*[contains(@class, 'article_main_img')]"):
        img = _first(holder, ".//img")
        note = holder.getnext()
        if note is None or "article_img_note" not in (note.get("class") or ""):
            note = _first(article, ".//*[contains(@class, 'article_img_note')]")
        caption = credits = ""
        if note is not None:
            desc = _first(note, ".//*[contains(@class, 'article_img_description')]")
            author = _first(note, ".//*[contains(@class, 'article_img_author')]")
            caption = _clean(element_text(desc)) if desc is not None else ""
            credits = _clean(element_text(author)) if author is not None else ""
        src = img.get("src") if img is not None else None
        fields.images.append(
            Image(url=page.link(src) or None if src else None, caption=caption, credits=credits)
        )
    body = _first(article, f".//div[{_TEXT}]")
    if body is not None:
        blocks = [c for c in body if isinstance(c.tag, str) and c.tag in _BODY_TAGS]
        for block in blocks or [body]:
            text = _clean(element_text(block))
            if text:
                fields.paragraphs.append(text)
                fields.links.extend(links_in(block, page.base, replay=page.replay))
    if not fields.paragraphs:
        fields.warnings.append("old-design article markup found but no body text in it")
    return fields


_BODY_TAGS = {"p", "blockquote", "h3", "h4", "ul", "ol"}
