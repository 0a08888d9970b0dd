"""The Moscow Times: the article as a reader sees it, in the site's current markup.

The markup is described in ``shared/reference/moscowtimes-anatomy.md``. The body is the
``article__block`` children of ``article__content`` of the *first* ``article.article`` (an
infinitely scrolled next article is a later one): ``html``, ``header``, ``quote`` and
``scrollama`` blocks give paragraphs; ``image``/``images`` blocks give images. Everything that
changes without the article changing is left out: ad banners, newsletter boxes, inline related
links (``link`` blocks), embeds, asides, the disclaimer, tags, related clusters, share counters.

When the byline shows "Updated:", its time is the modified time and the publication time comes
from JSON-LD / ``article:published_time``. Pages in older designs and AMP pages, which lack this
markup, fall back on JSON-LD and ``og:*`` for the metadata and on the generic extractor for the
body (profile ``moscowtimes-jsonld``) — never on nothing.
"""

from __future__ import annotations

import re

from lxml import html as lxml_html

from archiver.extract.profiles import moscowtimes_old
from archiver.extract.profiles.base import (
    Page,
    PageFields,
    Profile,
    clean_text,
    element_text,
    has_class,
    host_of,
    links_in,
    strip_noise,
)
from archiver.extract.profiles.metadata import HeadMeta
from archiver.extract.profiles.text import dedupe
from archiver.models import Image, Link

NAME = "moscowtimes"
FALLBACK_NAME = "moscowtimes-jsonld"

# Block types whose text is the article; the rest are boilerplate or hold no text of their own.
TEXT_BLOCKS = {"html", "header", "quote", "scrollama", "intro"}
IMAGE_BLOCKS = {"image", "images"}
SKIPPED_BLOCKS = {"link", "newsletter", "embed", "aside", "banner", "ad", "related"}
# Elements inside an html block that each make one paragraph.
PARAGRAPH_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dt", "dd"}
PARAGRAPH_TAGS |= {"td", "th", "figcaption"}
# Elements that hold paragraphs rather than being one; a figure in a text block holds none.
CONTAINER_TAGS = {"ul", "ol", "dl", "div", "section", "table", "thead", "tbody", "tr", "center"}
_BLOCK_TYPE = re.compile(r"\barticle__block--([a-z0-9_-]+)")
_UPDATED = re.compile(r"updated\s*:", re.IGNORECASE)
_ABSOLUTE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def _is_mt_host(url: str | None) -> bool:
    host = host_of(url)
    return host == "themoscowtimes.com" or host.endswith(".themoscowtimes.com")


def recognise(page: Page) -> float:
    """How surely the page is one of themoscowtimes.com's, from its URL and the page itself.

    The URL (or the original URL of a Wayback replay) is certain; the page's canonical link,
    ``og:url``, ``og:site_name`` and JSON-LD publisher are nearly so (a mirror or a saved file
    keeps them); the site's own article markup with its name in the page is enough without them.
    A page whose canonical link names another site is that site's.
    """
    head = page.head
    if _is_mt_host(page.url):
        return 1.0
    if head.canonical and _ABSOLUTE.match(head.canonical):
        return 0.9 if _is_mt_host(head.canonical) else 0.0
    if _is_mt_host(head.og_url):
        return 0.9
    names = {(head.site_name or "").lower(), (head.publisher or "").lower()}
    if "the moscow times" in names:
        return 0.8
    if _first(
        page.tree, f"//article[{has_class('article')}]//*[{has_class('article__content')}]"
    ) is not None and _mentions_site(page.tree):
        return 0.6
    if moscowtimes_old.find(page.tree) is not None and _mentions_site(page.tree):
        return 0.6
    return 0.0


def matches(page: Page) -> bool:
    """True for pages of themoscowtimes.com (see :func:`recognise`)."""
    return recognise(page) > 0


def _mentions_site(tree: lxml_html.HtmlElement) -> bool:
    for el in tree.iter("a", "link", "img", "script"):
        target = el.get("href") or el.get("src") or ""
        if "themoscowtimes.com" in target.lower():
            return True
    title = tree.find(".//title")
    return title is not None and "moscow times" in (title.text_content() or "").lower()


def _first(el: lxml_html.HtmlElement, xpath: str) -> lxml_html.HtmlElement | None:
    found = el.xpath(xpath)
    return found[0] if found else None


def _text_of(el: lxml_html.HtmlElement, xpath: str) -> str:
    node = _first(el, xpath)
    return element_text(node) if node is not None else ""


def _image(figure: lxml_html.HtmlElement, prefix: str, page: Page) -> Image:
    img = _first(figure, ".//img")
    if img is None:
        img = _first(figure, ".//amp-img")
    src = None
    if img is not None:
        src = img.get("src") or img.get("data-src")
    caption = _text_of(figure, f".//*[{has_class(prefix + '__caption')}]")
    credits = _text_of(figure, f".//*[{has_class(prefix + '__credits')}]")
    if not caption and not credits:  # a plain <figcaption>, as in hand-made html blocks
        caption = _text_of(figure, ".//figcaption")
    return Image(url=page.link(src) or None if src else None, caption=caption, credits=credits)


def _block_type(el: lxml_html.HtmlElement) -> str | None:
    """``html`` for ``article__block--html``; None for what is not a block (ads, stray markup)."""
    classes = el.get("class") or ""
    if "article__block" not in classes.split():
        return None
    for kind in _BLOCK_TYPE.findall(classes):
        if kind not in ("column", "full", "wide"):  # layout modifiers, not types
            return kind
    return "html"


def _is_block(el: lxml_html.HtmlElement) -> bool:
    return el.tag in PARAGRAPH_TAGS or el.tag in CONTAINER_TAGS or el.tag == "figure"


def _regroup(container: lxml_html.HtmlElement) -> None:
    """Wrap loose text and inline elements lying between blocks into ``<p>``, so they are read.

    ``<div>Lead sentence <a>link</a>.<p>Next</p>Tail sentence.</div>`` would otherwise lose the
    lead and tail sentences: an edited sentence missed is worse than a false alarm.
    """
    children = [c for c in container if isinstance(c.tag, str)]
    loose = (container.text or "").strip() or any(
        (c.tail or "").strip() or not _is_block(c) for c in children
    )
    if not loose or not any(_is_block(c) for c in children):
        return
    lead, container.text = container.text, None
    for child in children:
        container.remove(child)  # the tail goes with it
    run: lxml_html.HtmlElement | None = None

    def new_run() -> lxml_html.HtmlElement:
        para = lxml_html.Element("p")
        container.append(para)
        return para

    if lead and lead.strip():
        run = new_run()
        run.text = lead
    for child in children:
        tail, child.tail = child.tail, None
        if _is_block(child):
            container.append(child)
            run = None
        else:
            run = run if run is not None else new_run()
            run.append(child)
        if tail and (tail.strip() or run is not None):
            run = run if run is not None else new_run()
            if len(run):
                run[-1].tail = (run[-1].tail or "") + tail
            else:
                run.text = (run.text or "") + tail


def _paragraphs(block: lxml_html.HtmlElement) -> list[lxml_html.HtmlElement]:
    """The paragraph elements of a block, outermost only (a ``p`` inside a ``li`` is the li's)."""
    found: list[lxml_html.HtmlElement] = []
    _regroup(block)
    stack = list(reversed(list(block)))
    while stack:
        el = stack.pop()
        if not isinstance(el.tag, str):
            continue
        if el.tag in PARAGRAPH_TAGS and not (el.tag == "li" and el.find(".//p") is not None):
            found.append(el)
        elif el.tag in CONTAINER_TAGS:
            if "banner" in (el.get("class") or ""):
                continue
            _regroup(el)
            stack.extend(reversed(list(el)))
    if not found and element_text(block):
        found.append(block)
    return found


def _body(content: lxml_html.HtmlElement, fields: PageFields, page: Page) -> None:
    for block in content:
        if not isinstance(block.tag, str):
            continue
        if "live-post" in (block.get("class") or "").split():  # one post of a live blog
            post = _first(block, f".//*[{has_class('live-post__body')}]")
            if post is not None:
                _body(post, fields, page)
            continue
        kind = _block_type(block)
        if kind is None or kind in SKIPPED_BLOCKS:
            continue
        if kind in IMAGE_BLOCKS:
            for figure in block.iter("figure"):
                fields.images.append(_image(figure, "article__image", page))
            continue
        if kind not in TEXT_BLOCKS:
            fields.warnings.append(f"unknown block type {kind!r} read as text")
        for figure in block.iter("figure"):  # an image placed inside a text block
            fields.images.append(_image(figure, "article__image", page))
        for para in _paragraphs(block):
            text = element_text(para)
            if text:
                fields.paragraphs.append(text)
                fields.links.extend(links_in(para, page.base, replay=page.replay))


def _dates(byline: lxml_html.HtmlElement | None, head: HeadMeta, fields: PageFields) -> None:
    """Byline time is the publication time, unless the byline says "Updated:" (then modified)."""
    shown = None
    updated = False
    if byline is not None:
        time = _first(byline, f".//time[{has_class('byline__datetime')}]")
        if time is None:
            time = _first(byline, ".//time")
        if time is not None:
            shown = clean_text(time.get("datetime")) or None
            updated = bool(_UPDATED.search(element_text(byline)))
    if updated or not shown:
        fields.published = head.published
        fields.published_source = head.published_source if head.published else None
        fields.modified = (shown if updated else None) or head.modified
    else:
        fields.published = shown
        fields.published_source = "dateline"
        fields.modified = head.modified


def extract_page(page: Page) -> PageFields:
    """Extract one Moscow Times page; falls back on JSON-LD/og + generic for other designs."""
    tree = page.tree
    head = page.head
    article = _first(tree, f"//article[{has_class('article')}]")
    content = (
        _first(article, f".//*[{has_class('article__content')}]") if article is not None else None
    )
    if content is None and article is not None:  # a live blog: posts instead of one body
        content = _first(article, f".//*[{has_class('live-posts')}]")
    if article is None or content is None:
        old_article = moscowtimes_old.find(tree)
        if old_article is not None:
            strip_noise(old_article)
            return moscowtimes_old.extract_old(page, old_article)
        return _fallback(page, head)

    strip_noise(article)
    fields = PageFields(profile=NAME, url=page.url, warnings=list(head.warnings))
    fields.page_type = "article"
    header = _first(article, f".//*[{has_class('article__header')}]")
    scope = header if header is not None else article
    fields.label = _text_of(scope, f".//*[{has_class('article__label')}]") or head.section
    fields.title = _text_of(scope, ".//h1") or head.title
    fields.subtitle = _text_of(scope, ".//h2") or head.description

    byline = _first(article, f".//*[{has_class('article__byline')}]")
    if byline is not None:
        for name in byline.xpath(f".//*[{has_class('byline__author__name')}]"):
            text = element_text(name)
            if not text:
                continue
            fields.authors.append(text)
            if name.tag == "a" and name.get("href") is not None:
                fields.links.append(Link(url=page.link(name.get("href")), text=text))
    fields.authors = dedupe(fields.authors) or head.authors
    _dates(byline, head, fields)

    featured = _first(article, f".//figure[{has_class('article__featured-image')}]")
    if featured is not None:
        fields.images.append(_image(featured, "article__featured-image", page))

    intro = _first(article, f".//*[{has_class('article__intro')} or {has_class('live-intro')}]")
    if intro is not None and element_text(intro):
        fields.paragraphs.append(element_text(intro))
        fields.links.extend(links_in(intro, page.base, replay=page.replay))
    _body(content, fields, page)
    if not fields.paragraphs:
        fields.warnings.append("article markup found but no body text in it")
    return fields


def _fallback(page: Page, head: HeadMeta) -> PageFields:
    """Older designs and AMP: metadata from JSON-LD/og, body from the generic extractor."""
    from archiver.extract.profiles import generic

    fields = generic.extract_page(page)
    fields.profile = FALLBACK_NAME
    fields.title = head.title or fields.title
    fields.authors = head.authors or fields.authors
    fields.published = head.published or fields.published
    fields.modified = head.modified or fields.modified
    fields.label = head.section
    fields.warnings.append("current Moscow Times article markup not found; used JSON-LD/og")
    return fields


PROFILE = Profile(
    name=NAME, extract_page=extract_page, recognise=recognise, also_reports=(FALLBACK_NAME,)
)
