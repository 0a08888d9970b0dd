"""Every other site (the sources an article links to): trafilatura does the boilerplate removal.

Hand-written boilerplate removal loses to a maintained library on public benchmarks, and
trafilatura leads them (ScrapingHub article-extraction benchmark, Bevendorff et al. 2023). This
module only adapts its output: paragraphs from the elements of its body tree, links from its
``<ref target>`` elements, metadata from JSON-LD / meta tags where trafilatura finds none. If
trafilatura finds no body, the JSON-LD ``articleBody`` or the description stands in, with a
warning, so a page never yields nothing silently.
"""

from __future__ import annotations

import logging

import trafilatura
from lxml import html as lxml_html

from archiver.extract.normalize import normalize_text
from archiver.extract.profiles import Page, PageFields, clean_text, dedupe, element_text, resolve
from archiver.models import Image, Link

log = logging.getLogger(__name__)

NAME = "generic"
# Containers in trafilatura's output tree; any other element is one paragraph.
_CONTAINERS = {"list", "table", "row", "cell", "div"}
_BLOCKS = _CONTAINERS | {"p", "head", "item", "quote", "code", "graphic"}


def _units(body: lxml_html.HtmlElement) -> list[lxml_html.HtmlElement]:
    """The paragraph-level elements of trafilatura's body, in order (iterative: no recursion)."""
    units: list[lxml_html.HtmlElement] = []
    stack = list(reversed(list(body)))
    while stack:
        el = stack.pop()
        if not isinstance(el.tag, str):
            continue
        if el.tag in _CONTAINERS and any(isinstance(c.tag, str) and c.tag in _BLOCKS for c in el):
            stack.extend(reversed(list(el)))
        else:
            units.append(el)
    return units


def _paragraphs_and_links(
    body: lxml_html.HtmlElement, base: str | None, title: str | None
) -> tuple[list[str], list[Link]]:
    paragraphs: list[str] = []
    links: list[Link] = []
    for unit in _units(body):
        text = element_text(unit)
        if not text or (not paragraphs and title and normalize_text(text) == title):
            continue  # the headline repeated at the top of the body is not body text
        paragraphs.append(text)
        for ref in unit.iter("ref"):
            if ref.get("target") is not None:
                links.append(Link(url=resolve(ref.get("target"), base), text=element_text(ref)))
    return paragraphs, links


def extract_page(page: Page) -> PageFields:
    """Run trafilatura over the page and shape its findings into :class:`PageFields`."""
    head = page.head
    fields = PageFields(profile=NAME, url=page.url, warnings=list(head.warnings))
    # trafilatura's own metadata search (dates through htmldate, a TLD list on first use) costs
    # more than the body; it is only a fallback for what the page's head does not say.
    need_metadata = not (head.title and head.published and head.authors)
    result = trafilatura.bare_extraction(
        page.tree,
        url=page.base,
        with_metadata=need_metadata,
        include_links=True,
        include_comments=False,
        include_tables=True,
        include_formatting=False,
    )
    if result is not None and not isinstance(result, dict) and result.body is not None:
        title = normalize_text(head.title or result.title or "")
        fields.paragraphs, fields.links = _paragraphs_and_links(result.body, page.base, title)
        fields.title = clean_text(result.title) or None
        authors = [clean_text(a) for a in (result.author or "").split(";")]
        fields.authors = dedupe(authors)
        fields.published = result.date or None
    fields.title = head.title or fields.title
    fields.subtitle = head.description
    fields.authors = head.authors or fields.authors
    fields.published = head.published or fields.published
    fields.modified = head.modified
    if head.image:
        fields.images.append(Image(url=resolve(head.image, page.base), caption="", credits=""))
    if not fields.paragraphs:
        stand_in = head.article_body or head.description
        if stand_in:
            fields.paragraphs = [p for p in (clean_text(x) for x in stand_in.split("\n")) if p]
            fields.warnings.append(
                "no body found by trafilatura; used "
                + ("JSON-LD articleBody" if head.article_body else "the page description")
            )
        else:
            fields.warnings.append("no article text found")
    return fields
