"""The article's region in the original tree, from the paragraphs trafilatura found in it.

trafilatura finds the article well but loses what matters most to this tool: the links of a
list of sources (``<ul>`` of links), short link-dense paragraphs, and — since it resolves
targets itself, against the site root — the links' real targets. So the paragraphs it found are
located in the page's own tree, their common container is the article's region, and the links
(and the paragraphs trafilatura dropped) are read from there, skipping navigation, related
articles, share bars and footers. Pure functions of a tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree
from lxml import html as lxml_html

from archiver.extract.normalize import normalize_text

# Elements that are one paragraph of the region (the outermost of them counts).
LEAF_BLOCKS = {"p", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dd", "dt"}
LEAF_BLOCKS |= {"figcaption", "td", "th", "address"}
_CONTAINERS = {"div", "section", "ul", "ol", "table", "dl"}
_NEVER = {"nav", "footer", "aside", "form", "button", "select", "header", "menu", "script"}
_NEVER |= {"style", "noscript", "template", "iframe", "svg"}
_BOILERPLATE = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|navigation|menu|breadcrumbs?|footer|sidebar|related|"
    r"recommended|popular|trending|more-stories|read-more|readmore|share|sharing|social|"
    r"comments?|newsletter|subscribe|promo|advert|ads?|banner|sponsor|widget|tags?|tag-list|"
    r"keywords|pagination|pager|author-bio|outbrain|taboola|cookie|teaser)(?:$|[\s_-])",
    re.IGNORECASE,
)
_SOURCES_HEADING = re.compile(
    r"\b(?:sources?|references?|further reading|links?|quellen|literatur|weblinks|"
    r"fuentes|sources et|источники|bibliography|notes|citations?)\b",
    re.IGNORECASE,
)
_RELATED_HEADING = re.compile(
    r"\b(?:related|read (?:more|also|next)|more (?:from|on|stories|news)|see also|popular|"
    r"you may also|recommended|weitere artikel|mehr zum thema|das könnte)\b",
    re.IGNORECASE,
)
_WS = re.compile(r"\s+")


def text_of(el: lxml_html.HtmlElement) -> str:
    """The element's text, whitespace folded, without touching the tree."""
    return _WS.sub(" ", "".join(t for t in el.itertext() if isinstance(t, str))).strip()


_NON_WORD = re.compile(r"\W+")
MAX_LEAVES = 5000  # a page with more blocks is searched by exact text only


def _key(text: str) -> str:
    """Text folded for matching: case, typography, spacing and punctuation do not count."""
    return _NON_WORD.sub("", normalize_text(text).casefold())[:300]


@dataclass
class Region:
    """Where the article lies in the page's tree, and which of its blocks are the article's."""

    root: lxml_html.HtmlElement
    blocks: list[lxml_html.HtmlElement] = field(default_factory=list)  # in document order
    added: set[int] = field(default_factory=set)  # ids of blocks trafilatura had dropped
    matched: dict[int, int] = field(default_factory=dict)  # id(block) -> trafilatura unit index
    # trafilatura units found only inside a larger block (a table cell holding several)
    partial: dict[int, lxml_html.HtmlElement] = field(default_factory=dict)


def _excluded(el: lxml_html.HtmlElement, stop: lxml_html.HtmlElement) -> bool:
    """True inside navigation, footer, related-articles, share bars... (up to ``stop``)."""
    node: lxml_html.HtmlElement | None = el
    while node is not None and node is not stop:
        if not isinstance(node.tag, str) or node.tag in _NEVER:
            return True
        marks = f"{node.get('class') or ''} {node.get('id') or ''} {node.get('role') or ''}"
        if marks.strip() and _BOILERPLATE.search(marks):
            return True
        node = node.getparent()
    return False


def _leaves(
    root: lxml_html.HtmlElement, loose: list[lxml_html.HtmlElement]
) -> Iterator[lxml_html.HtmlElement]:
    """The outermost leaf blocks under ``root`` in document order.

    A ``p`` inside an ``li`` is the li's; a ``div`` with text and no block inside is one too.
    Containers with text of their own between their blocks are put in ``loose``.
    """

    stack = [root]
    while stack:
        el = stack.pop()
        if not isinstance(el.tag, str) or el.tag in _NEVER:
            continue
        if el is not root and el.tag in LEAF_BLOCKS:
            if el.tag == "li" and el.find(".//p") is not None:
                stack.extend(reversed([c for c in el if isinstance(c.tag, str)]))
                continue
            yield el
            continue
        children = [c for c in el if isinstance(c.tag, str)]
        if (
            el is not root
            and el.tag in ("div", "section", "span", "font", "center")
            and (el.text or "").strip()  # cheap first: most containers have no text of their own
            and not any(
                c.tag in LEAF_BLOCKS or c.tag in _CONTAINERS
                for c in el.iter()
                if c is not el and isinstance(c.tag, str)
            )
        ):
            yield el
            continue
        if (
            el is not root
            and el.tag in _LOOSE_HOLDERS
            and ((el.text or "").strip() or any((c.tail or "").strip() for c in children))
            and _loose_text(el, children) >= 80
        ):
            loose.append(el)  # text between its blocks: found by partial match only
        stack.extend(reversed(children))


_LOOSE_HOLDERS = {"div", "td", "section", "article", "span", "font", "center", "main"}


def _loose_text(el: lxml_html.HtmlElement, children: list[lxml_html.HtmlElement]) -> int:
    """How much text lies directly in ``el`` (its own text and the tails of its children)."""
    size = len((el.text or "").strip())
    for child in children:
        if child.tag not in LEAF_BLOCKS and child.tag not in _CONTAINERS:
            size += len(text_of(child))  # inline: part of the loose run
        size += len((child.tail or "").strip())
    return size


Folded = tuple[str, list[tuple[int, lxml_html.HtmlElement]]]


def fold_anchors(holder: lxml_html.HtmlElement) -> Folded:
    """The holder's text folded as :func:`_key` folds it, and where each ``<a href>`` starts."""
    stream: list[str] = []
    size = 0
    starts: list[tuple[int, lxml_html.HtmlElement]] = []

    def add(chunk: str | None) -> None:
        nonlocal size
        if chunk:
            folded = _NON_WORD.sub("", normalize_text(chunk).casefold())
            stream.append(folded)
            size += len(folded)

    for event, el in etree.iterwalk(holder, events=("start", "end")):
        if event == "start":
            if el.tag == "a" and el.get("href") is not None:
                starts.append((size, el))
            add(el.text if isinstance(el.tag, str) else None)
        elif el is not holder:
            add(el.tail)
    return "".join(stream), starts


def anchors_within(
    holder: lxml_html.HtmlElement, text: str, cache: dict[int, Folded] | None = None
) -> list[lxml_html.HtmlElement] | None:
    """The ``<a href>`` of ``holder`` that lie where ``text`` runs in it, in order; None when
    ``text`` is not found there. A large holder (a layout cell) can hold a sidebar's anchor
    with the same words as one of the paragraph's: only position tells them apart. ``cache``
    (by holder, for one page) folds each holder once however many paragraphs it holds."""
    want = _NON_WORD.sub("", normalize_text(text).casefold())
    if not want:
        return None
    known = cache.get(id(holder)) if cache is not None else None
    folded, starts = known or fold_anchors(holder)
    if cache is not None and known is None:
        cache[id(holder)] = (folded, starts)
    at = folded.find(want[:80])  # the probe find_region located the text by
    if at < 0:
        return None
    return [a for start, a in starts if at <= start <= at + len(want)]


def _ancestors(el: lxml_html.HtmlElement) -> list[lxml_html.HtmlElement]:
    chain = []
    node = el.getparent()
    while node is not None:
        chain.append(node)
        node = node.getparent()
    return chain


def is_prose(text: str, anchors: list[str]) -> bool:
    """A paragraph of some length that is more than its links (not a menu, not a headline list)."""
    linked = sum(len(a) for a in anchors)
    return len(text) >= 60 and linked < 0.5 * len(text)


def find_region(tree: lxml_html.HtmlElement, units: list[tuple[str, list[str]]]) -> Region | None:
    """Locate trafilatura's paragraphs (``(text, anchor texts)``) in ``tree``; None if none is."""
    body = tree.find("body")
    if body is None:
        body = tree
    loose: list[lxml_html.HtmlElement] = []
    leaves = list(_leaves(body, loose))
    by_key: dict[str, list[lxml_html.HtmlElement]] = {}
    for leaf in leaves:
        key = _key(text_of(leaf))
        if key:
            by_key.setdefault(key, []).append(leaf)
    matched: dict[int, int] = {}
    partial: dict[int, lxml_html.HtmlElement] = {}
    found: list[lxml_html.HtmlElement] = []
    weight: dict[int, int] = {}
    folded: list[tuple[str, lxml_html.HtmlElement]] | None = None
    prose_units = {i for i, (text, refs) in enumerate(units) if is_prose(text, refs)}
    for index, (unit, _) in enumerate(units):
        key = _key(unit)
        if not key:
            continue
        candidates = [c for c in by_key.get(key, ()) if id(c) not in matched]
        if candidates:
            leaf = candidates[0]
            matched[id(leaf)] = index
        else:
            if folded is None:
                folded = [
                    (_NON_WORD.sub("", normalize_text(text_of(x)).casefold()), x)
                    for x in (leaves + loose)[:MAX_LEAVES]
                ]
            probe = key[:80]
            holders = [x for text, x in folded if probe in text]
            if not holders:
                continue
            leaf = min(holders, key=lambda x: len(text_of(x)))
            if index in prose_units:
                partial[index] = leaf
        if id(leaf) not in weight:
            found.append(leaf)
        weight[id(leaf)] = weight.get(id(leaf), 0) + (len(unit) if index in prose_units else 0)
    if not prose_units:  # a short page with no paragraph of prose: every unit counts
        weight = {k: max(w, 1) for k, w in weight.items()}
    if not found:
        return None
    # the article's container: the deepest one holding 80% of the prose trafilatura found
    # (paragraphs of some length; its short units are often menus it let through)
    prose = {k: w for k, w in weight.items() if w}
    if not prose and prose_units:
        return None  # its prose is there but none of it located: no region to trust
    prose = prose or {k: 1 for k in weight}  # a short page: every unit counts
    total = sum(prose.values())
    share: dict[int, int] = {}
    nodes: dict[int, lxml_html.HtmlElement] = {}
    depth: dict[int, int] = {}
    for leaf in found:
        if id(leaf) not in prose:
            continue
        for level, node in enumerate(reversed(_ancestors(leaf))):
            share[id(node)] = share.get(id(node), 0) + prose[id(leaf)]
            nodes[id(node)] = node
            depth[id(node)] = level
    root = max(
        (nodes[k] for k, v in share.items() if v >= 0.8 * total),
        key=lambda n: depth[id(n)],
    )
    region = Region(root=root)
    # sets of elements, not of id()s: lxml's proxies of elements nobody holds are short-lived
    under = set(root.iter())
    region.partial = {i: leaf for i, leaf in partial.items() if leaf in under}
    inside = [leaf for leaf in leaves if leaf in under]
    positions = [i for i, leaf in enumerate(inside) if id(leaf) in matched]
    if not positions:
        return region
    first, last = positions[0], positions[-1]
    homes = {leaf.getparent() for leaf in inside if id(leaf) in matched}
    for i, leaf in enumerate(inside):
        if id(leaf) in matched:
            region.blocks.append(leaf)
            region.matched[id(leaf)] = matched[id(leaf)]
            continue
        if i < first or _excluded(leaf, root) or not text_of(leaf):
            continue
        parent = leaf.getparent()
        # an item's home is its list's parent; a caption's, its figure's
        wrapped = leaf.tag == "li" or leaf.tag == "figcaption" and parent is not None
        home = parent.getparent() if wrapped and parent is not None else parent
        if parent not in homes and (home is None or home not in homes):
            continue  # not beside the article's paragraphs
        if i > last and not _trailing_sources(leaf, inside, last):
            continue
        region.blocks.append(leaf)
        region.added.add(id(leaf))
    for leaf in _sources_after(leaves, under, body):
        region.blocks.append(leaf)
        region.added.add(id(leaf))
    return region


_HEADINGS = {"h2", "h3", "h4", "h5", "h6", "dt"}
_LOOK_AHEAD = 3  # a list of sources is announced within this many blocks of the article's end
MAX_SOURCES = 200


def _sources_after(
    leaves: list[lxml_html.HtmlElement],
    under: set[lxml_html.HtmlElement],
    body: lxml_html.HtmlElement,
) -> list[lxml_html.HtmlElement]:
    """A list of sources the page keeps beside the article's container (``under``) rather than
    in it (``<div class="story">...</div><div><h3>Sources</h3><ul>...``): the blocks of links
    right after the container, under a heading that announces sources, not related articles."""
    end = next((i for i in range(len(leaves) - 1, -1, -1) if leaves[i] in under), None)
    if end is None:
        return []
    out: list[lxml_html.HtmlElement] = []
    skipped = 0
    heading = False
    for leaf in leaves[end + 1 :]:
        if _excluded(leaf, body) or not text_of(leaf):
            continue
        if heading:
            if _is_heading(leaf) or leaf.find(".//a[@href]") is None or len(out) >= MAX_SOURCES:
                break
            out.append(leaf)
        elif _is_heading(leaf):
            title = text_of(leaf)
            if _RELATED_HEADING.search(title) or not _SOURCES_HEADING.search(title):
                return []
            heading = True
        else:
            skipped += 1  # a share bar, a tag line: the heading comes within a few blocks
            if skipped > _LOOK_AHEAD:
                return []
    return out


def _is_heading(leaf: lxml_html.HtmlElement) -> bool:
    """A heading, or a short paragraph that is one bold phrase ("<p><b>Sources:</b></p>")."""
    if leaf.tag in _HEADINGS:
        return True
    if leaf.tag != "p" or len(text_of(leaf)) > 60:
        return False
    bold = [c for c in leaf if isinstance(c.tag, str) and c.tag in ("b", "strong")]
    return len(bold) == 1 and text_of(bold[0]) == text_of(leaf)


def _trailing_sources(
    leaf: lxml_html.HtmlElement,
    inside: list[lxml_html.HtmlElement],
    last: int,
) -> bool:
    """A block after the article's last paragraph is kept only as part of a list of sources:
    an item of a list (or a short paragraph of links) right after the text, under no heading
    that announces related articles."""
    if leaf.tag not in ("li", "p", "dd", "dt"):
        return False
    heading = None
    for prev in reversed(inside[last + 1 : inside.index(leaf)]):
        if (
            prev.tag in ("h2", "h3", "h4", "h5", "h6", "dt")
            or prev.tag == "p"
            and (prev.find("strong") is not None or prev.find("b") is not None)
        ):
            heading = text_of(prev)
            break
    if heading is not None and _RELATED_HEADING.search(heading):
        return False
    if heading is not None and _SOURCES_HEADING.search(heading):
        return True
    # no heading: keep a list only when it directly follows the text
    return inside.index(leaf) - last <= 12 and leaf.find(".//a[@href]") is not None
