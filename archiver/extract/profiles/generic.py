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
import re
from itertools import islice
from urllib.parse import urlsplit

import trafilatura
from lxml import etree
from lxml import html as lxml_html

from archiver.extract import stoplist
from archiver.extract.normalize import normalize_text
from archiver.extract.profiles import fields as fields_mod
from archiver.extract.profiles import metadata, region
from archiver.extract.profiles.base import (
    Page,
    PageFields,
    Profile,
    clean_text,
    element_text,
    host_of,
    links_in,
    resolve,
)
from archiver.extract.profiles.metadata import ARTICLE_TYPES, HeadMeta
from archiver.models import Image, Link

log = logging.getLogger(__name__)

stoplist.build_once()  # justext's fallback otherwise rebuilds a 154,484-word set every page

NAME = "generic"
_NOT_CITED = re.compile(
    r"/RealMedia/ads/|//(?:ads?|adserver|clk|click)\.|doubleclick\.net|atdmt\.com|"
    r"/(?:share|sharer|submit)(?:\.php)?\?|twitter\.com/(?:intent|share)|del\.icio\.us/post|"
    r"^javascript:",
    re.IGNORECASE,
)
# Anchors that are the page's controls, not a source: "Print", "E-mail", "Comments (3)"...
_UI_ANCHOR = re.compile(
    r"^(?:print(?:er[- ]friendly)?|print-friendly|e-?mail(?: (?:this|article|story))?|"
    r"comments?(?: \(\d+\))?|\d+ comments?|share(?: this)?|tweet|rss|subscribe(?: to .*)?|"
    r"sign[- ]?up.*|sign[- ]?in|sign[- ]?out|log[- ]?in|log[- ]?out|register|full story|"
    r"read more|more|next|previous|back(?: to top)?|top|click here\b.*|post to .*|"
    r"digg(?: this)?|facebook|twitter|(?:(?:xml|rss) )?feeds?|"
    r"(?:\w+ )?(?:terms (?:and|&) conditions|terms of (?:use|service))|privacy policy|"
    r"contact (?:us|our advertising team)|advertise(?: with us)?)$",
    re.IGNORECASE,
)
# Paragraphs whose links credit rather than cite: a copyright line, a short byline or dateline
# ("Posted By: ... | December 13 2007", "Jan 14 2008 by Andy Howell"), a "Next story:" teaser.
_CREDIT_LINE = re.compile(r"^\W{0,3}(?:copyright\b|©|\(c\)\s)", re.IGNORECASE)
_BYLINE = re.compile(r"(?:\b|(?<=\d))(?:by|posted by|written by|von)\b", re.IGNORECASE)
# A teaser ends in its "Full story" link; a promotion box's line opens with a label and colon
_READ_ON = re.compile(
    r"\b(?:full\s+story|read\s+more|continue\s+reading|read\s+the\s+full\s+\w+)\W*$", re.I
)
_LABEL = re.compile(r"^(?:\w+ ){1,4}\w+: ")
_NEW_SENTENCE = re.compile(r"^\s*[A-Z][a-z]")
# Markup that holds credits: a copyright notice, a byline, a dateline, an author's biography
_CREDIT_MARKUP = re.compile(
    r"(?:^|[\s_-])(?:copyright|credits?|byline|dateline|posted|author[_-]?bio|bio)(?:$|[\s_-])",
    re.IGNORECASE,
)
_BIO = re.compile(r"^((?:[A-Z][\w'’.-]+ ){1,3}[A-Z][\w'’.-]+) (?:is|was|writes|has been)\b")
# "Dan Muse is executive editor of ...": the author's biography under the article
_BIO_VERB = re.compile(r"^(?:is|was|writes|covers|has|edits|'s|’s)\b")
_TEASER = re.compile(r"\b(?:previous|next|related) (?:story|article|post)\s*:", re.IGNORECASE)
_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go"}
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
    page: Page, units: list[tuple[str, list[str]]], authors: tuple[str, ...] = ()
) -> tuple[list[str], list[Link]]:
    """Paragraphs as trafilatura found them, plus the article's blocks it dropped; every link
    from the page's own tree (its own ``href``, resolved against the page), in order."""
    found = region.find_region(page.tree, units)
    if found is None:  # nothing located: trafilatura's text, links matched by anchor text
        return [text for text, _ in units], _links_by_text(page, units, authors)
    paragraphs: list[str] = []
    links: list[Link] = []
    where = {
        index: block
        for block in found.blocks
        if (index := found.matched.get(id(block))) is not None
    }
    pending = [block for block in found.blocks]
    folded: dict[int, region.Folded] = {}  # each large holder's text, folded once
    for index, (text, refs) in enumerate(units):
        block = where.get(index)
        if block is None:  # outside the article's container: trafilatura's text, no links
            paragraphs.append(text)
            holder = found.partial.get(index)
            if holder is not None and not credits_only(text, authors):  # inside a larger block: its
                named = _anchors_named(holder, refs, page, text, folded)
                links.extend(_promotion(named, page, text))
            continue
        while pending:
            first = pending.pop(0)
            if first is block:
                break
            if id(first) in found.added:  # a block trafilatura dropped, in its place
                _add_dropped(first, page, paragraphs, links, authors)
        paragraphs.append(text)
        if not credits_only(text, authors):
            links.extend(_promotion(_article_links(block, page), page, text))
    for block in pending:
        if id(block) in found.added:
            _add_dropped(block, page, paragraphs, links, authors)
    return paragraphs, links


def _add_dropped(
    block: lxml_html.HtmlElement,
    page: Page,
    paragraphs: list[str],
    links: list[Link],
    authors: tuple[str, ...] = (),
) -> None:
    """A block of the article trafilatura dropped, taken back when it is what this tool needs:
    a paragraph with the article's links in it, or text of some length. A heading (a teaser's
    headline), or a short block with no link worth citing ("Print", "Email"), stays out."""
    if block.tag in ("h2", "h3", "h4", "h5", "h6"):
        return
    text = region.text_of(block)
    found = _article_links(block, page)
    if block.tag == "figcaption":  # a picture's caption: its links are the article's, its
        if not credits_only(text, authors):  # words are not the article's text
            links.extend(_promotion(found, page, text))
        return
    if not found and len(text) < 80:
        return
    paragraphs.append(text)
    if not credits_only(text, authors):
        links.extend(_promotion(found, page, text))


def _anchors_named(
    holder: lxml_html.HtmlElement,
    refs: list[str],
    page: Page,
    text: str,
    cache: dict[int, region.Folded] | None = None,
) -> list[Link]:
    """The anchors of ``holder`` whose texts are ``refs``, in order, each taken once; with no
    refs (trafilatura lost the links of loose text), the anchors lying loose in ``holder``
    whose text is in the paragraph's ``text``."""
    pool: dict[str, list[lxml_html.HtmlElement]] = {}
    placed = region.anchors_within(holder, text, cache) if refs else None
    for a in holder.iter("a") if placed is None else placed:
        if a.get("href") is not None:
            pool.setdefault(normalize_text(region.text_of(a)), []).append(a)
    out: list[Link] = []
    for ref in refs:
        same = pool.get(normalize_text(ref))
        if same:
            a = same.pop(0)
            link = Link(url=page.link(a.get("href")), text=region.text_of(a))
            if citable(link) and not _credited(a):
                out.append(link)
    if not refs and region.is_prose(text, []):
        folded = normalize_text(text)
        for a in holder.iter("a"):
            anchor = region.text_of(a)
            if a.get("href") is None or len(anchor) < 3 or anchor not in folded:
                continue
            if _inside_block(a, holder):
                continue  # inside a block of its own, read (or not) as that block
            prev = a.getprevious()
            parent = a.getparent()
            before = prev.tail if prev is not None else parent.text if parent is not None else ""
            lead = re.sub(r"\s+", " ", before or "")[-24:].lstrip()
            if len(lead.strip()) < 5 or normalize_text(f"{lead}{anchor}") not in folded:
                continue  # not where the paragraph's words run into it: a menu's anchor
            link = Link(url=page.link(a.get("href")), text=anchor)
            if citable(link):
                out.append(link)
    if out and _link_only(holder) and len(out) == len(refs):
        own = site_of(page.url or page.base)
        out = (
            [link for link in out if site_of(link.url) != own or _document(link.url)]
            if own
            else out
        )
    return out


def _term_list(parent: lxml_html.HtmlElement | None, page: Page) -> bool:
    """A list of five or more one- or two-word links to one host: tags, topics, a directory's
    terms — not a list of sources, whose items name documents of several sites."""
    if parent is None:
        return False
    items = [c for c in parent if isinstance(c.tag, str) and c.tag == "li"]
    if items:
        anchors = []
        for item in items:
            found = [a for a in item.iter("a") if a.get("href") is not None]
            if len(found) != 1:
                return False
            anchors.append(found[0])
    else:  # a paragraph of such links
        anchors = [a for a in parent.iter("a") if a.get("href") is not None]
    if len(anchors) < 5 or any(len(region.text_of(a).split()) > 3 for a in anchors):
        return False
    return len({host_of(page.link(a.get("href"))) for a in anchors}) == 1


def _inside_block(el: lxml_html.HtmlElement, holder: lxml_html.HtmlElement) -> bool:
    """True when a block element stands between ``el`` and ``holder``."""
    node = el.getparent()
    while node is not None and node is not holder:
        if node.tag in region.LEAF_BLOCKS or node.tag in ("div", "ul", "ol", "table"):
            return True
        node = node.getparent()
    return False


def site_of(url: str | None) -> str:
    """The registrable part of a URL's host, roughly: ``www.nola.com`` and ``nola.com`` agree."""
    labels = host_of(url).removeprefix("www.").split(".")
    keep = 3 if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def _link_only(block: lxml_html.HtmlElement) -> bool:
    """A block that is its links and little else (a headline in a list of related articles)."""
    text = len(region.text_of(block))
    anchors = sum(len(region.text_of(a)) for a in block.iter("a") if a.get("href") is not None)
    return bool(anchors) and anchors >= 0.6 * text


def citable(link: Link) -> bool:
    """False for what no article cites: an anchor with no text (a logo, an ad banner), an ad
    server's click counter, a share button."""
    anchor = " ".join(link.text.split())
    if not anchor or _UI_ANCHOR.match(anchor):
        return False
    return not _NOT_CITED.search(link.url)


def credits_only(text: str, authors: tuple[str, ...] = ()) -> bool:
    """True for a paragraph whose links are credits, not citations: a copyright line, a short
    byline or dateline, a "Previous story: / Next story:" line, a teaser ending "Full story",
    an author's biography ("Dan Muse is executive editor of ...")."""
    if _CREDIT_LINE.match(text) or _TEASER.search(text) or _READ_ON.search(text):
        return True
    for name in authors:
        if len(name) >= 5 and text.startswith(name) and _BIO_VERB.match(text[len(name) :].lstrip()):
            return True
    return len(text) < 120 and _BYLINE.search(text) is not None


def _promotion(links: list[Link], page: Page, text: str) -> list[Link]:
    """Without the site's promotion of itself: a link to its own home page ("Visit
    www.example.tv for the latest news"), and the site's own links in a paragraph that names
    the site ("Help NewsBlaze provide daily news", "PR-Inside.com announces ...") or in a short
    line of a promotion box ("Submit your Pics: Upload photos in our Pics section."); and
    without a teaser's or an ad's link (:func:`_headline_teaser`)."""
    teased = {link.url for link in links if _headline_teaser(link, text)}  # and its display URL
    own = site_of(page.url or page.base)
    if not own:
        return [link for link in links if link.url not in teased]
    label = own.split(".")[0].lower()
    names_site = len(label) >= 3 and label in text.lower()
    names_site = names_site or len(text) < 110 and _LABEL.match(text) is not None
    out = []
    for link in links:
        if site_of(link.url) == own and (names_site or _home_page(link.url)):
            continue
        if _shares_page(link.url, own):
            continue
        if link.url not in teased:
            out.append(link)
    return out


def _shares_page(url: str, own: str) -> bool:
    """A share or bookmark button: a link to another site that carries this site's address in
    its query ("digg.com/submit?url=...", "fark.com/farkit?u=...")."""
    if "?" not in url or site_of(url) == own:
        return False
    try:
        query = urlsplit(url).query.lower()
    except ValueError:
        return False
    return own in query


def _headline_teaser(link: Link, text: str) -> bool:
    """A short paragraph that opens with a headline as its link and runs on into a new
    sentence: another article's teaser or an ad ("Fantasy Stock Traders Wanted Play, Learn &
    Win ...", "Karuturi Networks to consider stock split on January 30Karuturi Networks ...")."""
    anchor = " ".join(link.text.split())
    if len(text) >= 200 or len(anchor.split()) < 2 or anchor[-1] in ".!?:;,":
        return False
    flat = " ".join(text.split())
    return flat.startswith(anchor) and _NEW_SENTENCE.match(flat[len(anchor) :]) is not None


def _home_page(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.path in ("", "/") and not parts.query


def _credited(a: lxml_html.HtmlElement) -> bool:
    """True for an anchor in a credit: within a few levels of short markup named for a
    copyright notice, byline or biography, or in a paragraph that is a copyright line."""
    caption = next((n for n in islice(a.iterancestors(), 6) if n.tag == "figcaption"), None)
    if caption is not None and _caption_credit(a, caption):
        return True
    node = a.getparent()
    for _ in range(4):
        if node is None:
            return False
        named = _CREDIT_MARKUP.search(f"{node.get('class') or ''} {node.get('id') or ''}")
        if named and len(region.text_of(node)) < 400:  # a credit is short: not the article
            return True
        if node.tag in region.LEAF_BLOCKS:
            return _CREDIT_LINE.match(region.text_of(node)) is not None or _biography(node)
        node = node.getparent()
    return False


_SEGMENT_END = re.compile(r"(?:^|[.?!:|/–—-])\W*$")


def _caption_credit(a: lxml_html.HtmlElement, caption: lxml_html.HtmlElement) -> bool:
    """A picture's credit: an anchor that ends its caption as a segment of its own ("... in
    2007. <a>Jane Doe/Agency</a>", "Image: <a>Courtesy of ...</a>"), not one its words run
    into ("seen in a <a>1920 photograph</a> from the archive")."""
    parts: tuple[list[str], list[str], list[str]] = ([], [], [])  # before, inside, after
    state = 0
    for event, el in etree.iterwalk(caption, events=("start", "end")):
        if event == "start":
            state = 1 if el is a else state
            if isinstance(el.tag, str) and el is not a:
                parts[state].append(el.text or "")
        else:
            state = 2 if el is a else state
            if el is not caption:
                parts[state].append(el.tail or "")
    before, after = parts[0], parts[2]
    if re.search(r"\w", "".join(after)):
        return False
    return _SEGMENT_END.search(" ".join("".join(before).split())) is not None


def _biography(block: lxml_html.HtmlElement) -> bool:
    """A contributor's note: "<i>Dan Muse is executive editor of ...</i>", "<b>Justine Brian</b>
    is national administrator of ..." — a name in bold or italics opening the paragraph."""
    text = region.text_of(block)
    found = _BIO.match(text)
    first = next((c for c in block if isinstance(c.tag, str)), None)
    if (
        not found
        or first is None
        or first.tag not in ("b", "strong", "i", "em")
        or (block.text or "").strip()
    ):
        return False
    opening = region.text_of(first)
    return opening in (found.group(1), text)


def _article_links(block: lxml_html.HtmlElement, page: Page) -> list[Link]:
    """The links of one block of the article, without the site's own links in a block that is
    only links (related articles, section fronts); a list of sources points elsewhere; never
    the links of a credit inside it."""
    anchors = [a for a in block.iter("a") if a.get("href") is not None]
    found = [
        link
        for a, link in zip(anchors, links_in(block, page.base, replay=page.replay), strict=True)
        if citable(link) and not _credited(a)
    ]
    if not found or not _link_only(block):
        return found
    if _term_list(block, page) or block.tag == "li" and _term_list(block.getparent(), page):
        return []
    own = site_of(page.url or page.base)
    if not own or block.tag == "li" and _cites_elsewhere(block.getparent(), page, own):
        return found  # an item of a list of sources: the site's own earlier reporting is one
    return [link for link in found if site_of(link.url) != own or _document(link.url)]


_DOCUMENT = re.compile(r"\.(?:pdf|docx?|odt|xlsx?|ods|csv|pptx?|txt|zip)$", re.IGNORECASE)


def _document(url: str) -> bool:
    """A file the site hosts (a report, a filing, a data set), not another of its pages: a
    source even where the site's own links in a block of links are related articles."""
    try:
        return _DOCUMENT.search(urlsplit(url).path) is not None
    except ValueError:
        return False


def _cites_elsewhere(parent: lxml_html.HtmlElement | None, page: Page, own: str) -> bool:
    """A list at least half of whose cited links go to other sites: sources, not the site's
    related articles, nor a tool bar (a share button names this page in its query; a nested
    list is its own list)."""
    if parent is None:
        return False
    cited = elsewhere = 0
    for item in parent:
        if not isinstance(item.tag, str) or item.tag != "li":
            continue
        for a in item.iter("a"):
            if a.get("href") is None or _inside_block(a, item):
                continue
            link = Link(url=page.link(a.get("href")), text=region.text_of(a))
            if not citable(link):
                continue
            cited += 1
            elsewhere += site_of(link.url) not in ("", own) and not _shares_page(link.url, own)
    return elsewhere > 0 and 2 * elsewhere >= cited


def _links_by_text(
    page: Page, units: list[tuple[str, list[str]]], authors: tuple[str, ...] = ()
) -> list[Link]:
    """The page's ``<a href>`` whose anchor texts trafilatura kept, in its order."""
    anchors: dict[str, list[lxml_html.HtmlElement]] = {}
    for a in page.tree.iter("a"):
        if a.get("href") is not None:
            anchors.setdefault(normalize_text(region.text_of(a)), []).append(a)
    links: list[Link] = []
    any_prose = any(region.is_prose(text, refs) for text, refs in units)
    for text, refs in units:
        if any_prose and not region.is_prose(text, refs):
            continue  # with no region to judge by, only links inside prose count
        found: list[Link] = []
        for ref in refs:
            same = anchors.get(normalize_text(ref))
            if same:
                a = same.pop(0)
                link = Link(url=page.link(a.get("href")), text=element_text(a))
                if citable(link) and not _credited(a):
                    found.append(link)
        if not credits_only(text, authors):
            links.extend(_promotion(found, page, text))
    return links


def extract_page(page: Page) -> PageFields:
    """Run trafilatura over the page and shape its findings into :class:`PageFields`."""
    head = page.head
    fields = PageFields(profile=NAME, url=page.url, warnings=list(head.warnings))
    # trafilatura's own metadata search (dates through htmldate, a TLD list on first use) costs
    # more than the body; it is only a fallback for what the page's head does not say.
    sites = fields_mod.site_labels(host_of(page.url), head.site_name, head.publisher)
    head_authors = fields_mod.clean_authors(head.authors, sites)
    need_metadata = not (head.title and head.published and head_authors)
    # The body's credits are read only when the head names no one (then they may decide), and
    # before trafilatura sees the tree: every page is read by read_head, most never need them.
    credited = head.bylines or ([] if head_authors else metadata.bylines(page.tree))
    result = trafilatura.bare_extraction(
        page.tree,
        url=page.base,
        with_metadata=need_metadata,
        include_links=True,
        include_comments=False,
        include_tables=True,
        include_formatting=False,
        # no "extensive search": it takes dates from the URLs of links, i.e. from other pages
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    headings = [region.text_of(h) for h in page.tree.iter("h1")][:8]
    found_title = found_date = None
    found_authors: list[str] = []
    units: list[tuple[str, list[str]]] = []
    if result is not None and not isinstance(result, dict) and result.body is not None:
        found_title, found_date = result.title, result.date
        found_authors = [a for a in (result.author or "").split(";") if a.strip()]
    # the head's statement, then trafilatura's byline search, then the markup's credits
    fields.authors = fields_mod.choose_authors([head.authors, found_authors, credited], sites)
    if result is not None and not isinstance(result, dict) and result.body is not None:
        title = normalize_text(
            fields_mod.clean_title(head.title or found_title, headings, sites) or ""
        )
        units = _unit_texts(result.body, title)
        fields.paragraphs, fields.links = _paragraphs_and_links(page, units, tuple(fields.authors))
    fields.title = fields_mod.clean_title(head.title or found_title, headings, sites)
    fields.subtitle = fields_mod.fix_text(head.description) or None
    fields.published = fields_mod.iso_date(head.published)
    fields.published_source = head.published_source if fields.published else None
    if fields.published is None and found_date:
        fields.published = fields_mod.iso_date(found_date)
        fields.published_source = "page" if fields.published else None
    fields.modified = fields_mod.iso_date(head.modified)
    fields.page_type = page_type(head, fields, units)
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


_PRODUCT_TYPES = {"Product", "Offer", "AggregateOffer", "ProductGroup", "SoftwareApplication"}
_FORUM_TYPES = {"DiscussionForumPosting", "QAPage", "Question", "SocialMediaPosting"}
_LISTING_TYPES = {"CollectionPage", "ItemList", "SearchResultsPage", "OfferCatalog"}


def page_type(head: HeadMeta, fields: PageFields, units: list[tuple[str, list[str]]]) -> str:
    """``article``, or what the page is instead: ``product``, ``forum``, ``listing``, ``page``.

    The page's own statement first (JSON-LD ``@type``, ``og:type``), then its shape: a dated
    body of prose is an article; a page made mostly of links is a listing.
    """
    types = head.types
    if types & _PRODUCT_TYPES or head.og_type == "product":
        return "product"
    if types & _FORUM_TYPES:
        return "forum"
    if types & ARTICLE_TYPES or head.og_type == "article":
        return "article"
    if types & _LISTING_TYPES:
        return "listing"
    prose = [text for text, refs in units if region.is_prose(text, refs)]
    words = sum(len(text.split()) for text in prose)
    if units and len(prose) < 0.3 * len(units) and words < 300:
        return "listing"
    if words >= 250 and (fields.published or fields.authors):
        return "article"
    return "article" if words >= 600 else "page"


def recognise(page: Page) -> float:
    """The generic profile claims no page: it reads what no site profile claims."""
    return 0.0


PROFILE = Profile(name=NAME, extract_page=extract_page, recognise=recognise)
