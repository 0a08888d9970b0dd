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
from archiver.extract.profiles import region
from archiver.extract.profiles.base import (
    Page,
    PageFields,
    Profile,
    clean_text,
    element_text,
    links_in,
    resolve,
)
from archiver.extract.profiles.text import dedupe
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


def _unit_texts(body: lxml_html.HtmlElement, title: str | None) -> list[tuple[str, list[str]]]:
    """(text, anchor texts) of each unit of trafilatura's body; the repeated headline dropped."""
    out: list[tuple[str, list[str]]] = []
    for unit in _units(body):
        text = element_text(unit)
        if not text or (not out and title and normalize_text(text) == title):
            continue  # the headline repeated at the top of the body is not body text
        out.append((text, [element_text(ref) for ref in unit.iter("ref")]))
    return out


def _paragraphs_and_links(
    page: Page, units: list[tuple[str, list[str]]]
) -> tuple[list[str], list[Link]]:
    """Paragraphs as trafilatura found them, plus the article's blocks it dropped; every link
    from the page's own tree (its own ``href``, resolved against the page), in order."""
    found = region.find_region(page.tree, [text for text, _ in units])
    if found is None:  # nothing located: trafilatura's text, links matched by anchor text
        return [text for text, _ in units], _links_by_text(page, units)
    paragraphs: list[str] = []
    links: list[Link] = []
    placed: set[int] = set()
    for block in found.blocks:
        index = found.matched.get(id(block))
        if index is not None:
            # units trafilatura found but not located come before the next located one
            for missing in range(len(placed) and max(placed) + 1, index):
                if missing not in placed:
                    paragraphs.append(units[missing][0])
                    placed.add(missing)
            paragraphs.append(units[index][0])
            placed.add(index)
        else:
            paragraphs.append(region.text_of(block))
        links.extend(links_in(block, page.base, replay=page.replay))
    paragraphs.extend(units[i][0] for i in range(len(units)) if i not in placed)
    return paragraphs, links


def _links_by_text(page: Page, units: list[tuple[str, list[str]]]) -> list[Link]:
    """The page's ``<a href>`` whose anchor texts trafilatura kept, in its order."""
    anchors: dict[str, list[lxml_html.HtmlElement]] = {}
    for a in page.tree.iter("a"):
        if a.get("href") is not None:
            anchors.setdefault(normalize_text(region.text_of(a)), []).append(a)
    links: list[Link] = []
    for _, refs in units:
        for ref in refs:
            same = anchors.get(normalize_text(ref))
            if same:
                a = same.pop(0)
                links.append(Link(url=page.link(a.get("href")), text=element_text(a)))
    return links


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
        units = _unit_texts(result.body, title)
        fields.paragraphs, fields.links = _paragraphs_and_links(page, units)
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


def recognise(page: Page) -> float:
    """The generic profile claims no page: it reads what no site profile claims."""
    return 0.0


PROFILE = Profile(name=NAME, extract_page=extract_page, recognise=recognise)
