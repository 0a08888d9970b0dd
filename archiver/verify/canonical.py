"""Read canonical copies: the Markdown files users keep as the reference text of an article.

The layout the seed shows (title, subtitle, ``By`` line, date, featured-image caption with bold
credits, body, opinion disclaimer, ``Original url: <...>``) is recognised from the Markdown
*structure* that markdown-it-py parses, not from regular expressions over raw text; YAML front
matter may give ``url:`` (and ``title:``, ``date:``, ``authors:``) instead. Parts a copy lacks
are None. Pure: :func:`parse_canonical` takes text, :func:`read_canonical` adds the file read.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archiver.errors import CanonicalError, InputError
from archiver.fetch.urls import is_web_url
from archiver.models import CanonicalCopy, Link
from archiver.parallel import fastparse
from archiver.parallel.fastparse import FastBlock

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token


@functools.cache
def _parser() -> MarkdownIt:
    """The CommonMark parser, built on first use: commands that read no copy never load it."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


# Formats dates take in bylines and front matter; the first that parses wins.
_DATE_FORMATS = (
    "%B %d, %Y",
    "%b %d, %Y",
    "%b. %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%Y-%m-%d",
    "%d.%m.%Y",
)
_DISCLAIMER_START = "the views expressed in opinion pieces"
_URL_LABEL = re.compile(r"^\s*original\s+url\s*:\s*", re.IGNORECASE)
_BY = re.compile(r"^\s*by\s+", re.IGNORECASE)
_AUTHOR_SPLIT = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*")
MAX_CANONICAL_BYTES = 5 * 1024 * 1024


#: One block of the copy: a heading or paragraph, as plain text plus its links.
_Block = FastBlock


def parse_date(text: str) -> str | None:
    """An ISO date for a human date ("March 30, 2017" -> "2017-03-30"), or None."""
    if not any(ch.isdigit() for ch in text[:80]):
        return None  # every accepted form has digits: most body blocks stop here, cheaply
    cleaned = re.sub(r"^\s*(updated|published)\s*:\s*", "", text.strip(), flags=re.IGNORECASE)
    cleaned = re.sub(r"\s+", " ", cleaned).strip().rstrip(".")
    # "March 30, 2017 - 19:15" or "March 30, 2017 7:15 pm": keep the date part only.
    cleaned = re.split(r"\s+[-–—|]\s+|\s+\d{1,2}:\d{2}", cleaned)[0]
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(cleaned, fmt).date().isoformat()
        except ValueError:
            continue
    try:
        return dt.datetime.fromisoformat(cleaned).date().isoformat()
    except ValueError:
        return None


def _inline(token: Token) -> tuple[str, tuple[Link, ...], str | None, tuple[str, ...]]:
    """Plain text of an inline token, the links in it, a trailing bold run, and link targets."""
    parts: list[str] = []
    links: list[Link] = []
    urls: list[str] = []
    href: str | None = None
    anchor: list[str] = []
    strong_depth = 0
    strong_text: list[str] = []
    last_strong: str | None = None
    autolink = False
    for child in token.children or []:
        text = ""
        if child.type in ("text", "code_inline", "html_inline"):
            text = child.content
        elif child.type in ("softbreak", "hardbreak"):
            text = " "
        elif child.type == "image":
            text = child.content
        elif child.type == "link_open":
            href = str(child.attrs.get("href", ""))
            autolink = child.markup == "autolink"
            anchor = []
            continue
        elif child.type == "link_close":
            target = href or ""
            urls.append(target)
            if not autolink:
                links.append(Link(url=target, text=_squash("".join(anchor))))
            href = None
            continue
        elif child.type == "strong_open":
            strong_depth += 1
            strong_text = [] if strong_depth == 1 else strong_text
            continue
        elif child.type == "strong_close":
            strong_depth -= 1
            if strong_depth == 0:
                last_strong = _squash("".join(strong_text))
            continue
        else:
            continue
        parts.append(text)
        if href is not None:
            anchor.append(text)
        if strong_depth:
            strong_text.append(text)
        elif text.strip():
            last_strong = None  # plain text after the bold run: it was not trailing
    return _squash("".join(parts)), tuple(links), last_strong, tuple(urls)


#: Runs of [ \t\r\n] that squashing changes (a lone space stays): see ``fastparse._RUNS``.
_RUNS = re.compile(r"[ \t\r\n]{2,}|[\t\r\n]")


def _squash(text: str) -> str:
    if "\n" in text or "  " in text or "\t" in text or "\r" in text:
        text = _RUNS.sub(" ", text)
    return text.strip()


def _blocks(markdown: str) -> Iterator[_Block]:
    """The copy's headings and paragraphs: the fast reader for the common Markdown subset
    (:mod:`archiver.parallel.fastparse`, which declines anything it is not certain of), else
    markdown-it. Both give the same blocks (tests/parallel/test_fastparse.py)."""
    fast = fastparse.blocks(markdown)
    if fast is not None:
        yield from fast
        return
    tokens = _parser().parse(markdown)
    for i, token in enumerate(tokens):
        if token.type != "inline":
            continue
        opener = tokens[i - 1] if i else None
        if opener is None:
            continue
        if opener.type == "heading_open":
            kind, level = "heading", int(opener.tag[1:])
        elif opener.type == "paragraph_open":
            kind, level = "paragraph", 0
        else:
            continue
        text, links, last_strong, urls = _inline(token)
        if text or urls:
            yield _Block(
                kind=kind, level=level, text=text, links=links, last_strong=last_strong, urls=urls
            )


def _front_matter(text: str, path: str) -> tuple[dict[str, Any], str]:
    """Split YAML front matter (``---`` fenced, at the very top) from the Markdown body."""
    if not text.startswith("---"):
        return {}, text
    lines = text.splitlines(keepends=True)
    if lines[0].strip() != "---":
        return {}, text
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            raw = "".join(lines[1:index])
            import yaml  # loaded only for copies with front matter

            try:
                data = yaml.safe_load(raw) if raw.strip() else {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f" (line {mark.line + 2})" if mark is not None else ""
                raise CanonicalError(f"{path}: front matter is not valid YAML{where}") from exc
            if not isinstance(data, dict):
                raise CanonicalError(f"{path}: front matter is not a mapping of keys to values")
            return data, "".join(lines[index + 1 :])
    raise CanonicalError(f"{path}: front matter opened with '---' is never closed")


def _authors(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(a for a in _AUTHOR_SPLIT.split(value.strip()) if a)
    if isinstance(value, list):
        return tuple(str(a).strip() for a in value if str(a).strip())
    return ()


def _is_byline(text: str) -> bool:
    return bool(_BY.match(text)) and len(text) < 200


def _header_follows(
    blocks: list[_Block], index: int, date_of: Callable[[str], str | None] = parse_date
) -> bool:
    """True when a byline or a date stands at ``index``."""
    if index >= len(blocks) or blocks[index].kind != "paragraph":
        return False
    return _is_byline(blocks[index].text) or date_of(blocks[index].text) is not None


def parse_canonical(text: str, *, path: str = "<canonical>") -> CanonicalCopy:
    """Parse a canonical copy's Markdown into fields. Raises CanonicalError when unusable."""
    meta, body = _front_matter(text.lstrip("\ufeff"), path)
    blocks = list(_blocks(body))

    url: str | None = None
    if meta.get("url") is not None:
        url = str(meta["url"]).strip()
    # "Original url:" with the URL on the same line or in the next block.
    kept: list[_Block] = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        if _URL_LABEL.match(block.text):
            found = [u for u in block.urls if is_web_url(u)]
            rest = _URL_LABEL.sub("", block.text).strip().strip("<>")
            if not found and is_web_url(rest):
                found = [rest]
            if not found and index + 1 < len(blocks):
                following = blocks[index + 1]
                candidates = [u for u in following.urls if is_web_url(u)]
                bare = following.text.strip().strip("<>")
                if not candidates and is_web_url(bare):
                    candidates = [bare]
                if candidates:
                    found = candidates
                    index += 1
            if url is None and found:
                url = found[0]
            elif url is None:
                url = next(iter(block.urls), rest) or None
            index += 1
            continue
        kept.append(block)
        index += 1
    if not url:
        raise CanonicalError(
            f"{path}: no original URL (expected an 'Original url: <...>' line or 'url:' in "
            "front matter)"
        )
    if not is_web_url(url):
        raise CanonicalError(f"{path}: original URL is not an http(s) URL: {url[:200]!r}")

    title = str(meta["title"]).strip() if meta.get("title") else None
    subtitle = str(meta["subtitle"]).strip() if meta.get("subtitle") else None
    authors = _authors(meta.get("authors") or meta.get("author"))
    published = parse_date(str(meta["date"])) if meta.get("date") else None
    caption: str | None = None
    credits: str | None = None
    links: list[Link] = []

    # The header: an h1 title, then (in any order, each optional) subtitle, byline, date,
    # caption — the blocks before the first body paragraph.
    # A paragraph is a subtitle only when a byline or date follows it; when the shape is
    # ambiguous ("# Title", then text) a paragraph belongs to the body. Every block's links
    # count, the header's included.
    dates: dict[str, str | None] = {}  # a header block is asked for its date up to thrice

    def date_of(text: str) -> str | None:
        if text not in dates:
            dates[text] = parse_date(text)
        return dates[text]

    position = 0
    has_h1 = bool(kept) and kept[0].kind == "heading" and kept[0].level == 1
    if has_h1:
        title = title or kept[0].text
        links.extend(kept[0].links)
        position += 1
    header_end = min(len(kept), position + 5)
    saw_byline = saw_date = False
    while position < header_end:
        block = kept[position]
        if block.kind == "heading" and block.level == 2 and has_h1 and position == 1:
            if subtitle is None and _header_follows(kept, position + 1, date_of):
                subtitle = block.text  # "## Subtitle" under the title, then byline or date
                links.extend(block.links)
                position += 1
                continue
            break
        if block.kind != "paragraph":
            break
        if not saw_byline and _is_byline(block.text):
            authors = authors or _authors(_BY.sub("", block.text))
            saw_byline = True
        elif not saw_date and date_of(block.text) is not None:
            published = published or date_of(block.text)
            saw_date = True
        elif (
            not saw_byline
            and not saw_date
            and subtitle is None
            and has_h1
            and _header_follows(kept, position + 1, date_of)
        ):
            subtitle = block.text
        elif (saw_byline or saw_date) and caption is None and block.last_strong:
            credits = block.last_strong
            caption = block.text[: len(block.text) - len(credits)].strip()
            links.extend(block.links)
            position += 1
            break
        else:
            break
        links.extend(block.links)
        position += 1

    paragraphs: list[str] = []
    disclaimer: str | None = None
    for block in kept[position:]:
        if block.text.lower().startswith(_DISCLAIMER_START):
            disclaimer = block.text
            links.extend(block.links)
            continue
        if block.text:
            paragraphs.append(block.text)
        links.extend(block.links)
    return CanonicalCopy(
        path=path,
        url=url,
        title=title,
        subtitle=subtitle,
        authors=authors,
        published=published,
        caption=caption,
        credits=credits,
        paragraphs=tuple(paragraphs),
        links=tuple(links),
        disclaimer=disclaimer,
    )


def read_canonical(path: str | os.PathLike[str]) -> CanonicalCopy:
    """Read and parse one canonical copy; every problem is a one-line CanonicalError."""
    name = os.fspath(path)
    return canonical_from_bytes(read_copy_bytes(name), path=name)


def read_copy_bytes(name: str) -> bytes:
    """The bytes of a copy file, refused when it is missing, not a file, or too large."""
    file = Path(name)
    if not file.exists():
        raise InputError(f"{name}: no such file")
    if not file.is_file():
        raise InputError(f"{name}: not a file")
    if file.stat().st_size > MAX_CANONICAL_BYTES:
        raise CanonicalError(f"{name}: too large for a canonical copy (over 5 MiB)")
    try:
        return file.read_bytes()
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror}") from exc


def canonical_from_bytes(data: bytes, *, path: str) -> CanonicalCopy:
    """Decode and parse a copy's bytes (UTF-8 Markdown, no NUL bytes)."""
    name = path
    if b"\x00" in data:
        raise CanonicalError(f"{name}: binary data, not a Markdown canonical copy")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalError(f"{name}: not UTF-8 text (byte {exc.start})") from exc
    return parse_canonical(text, path=name)


#: Bump when parse_canonical's output (or the cache's JSON) changes for any input: cached
#: parses are then ignored. 3: a normalized paragraph equal to its paragraph is saved as null.
PARSER_VERSION = "3"


def copy_to_json(copy: CanonicalCopy, normalized: Sequence[str] | None = None) -> str:
    """A parsed copy as JSON (the parse cache), without its path: the same bytes parse the
    same wherever the file lives. ``normalized`` (its paragraphs normalized) may ride along."""
    return json.dumps(
        {
            "url": copy.url,
            "title": copy.title,
            "subtitle": copy.subtitle,
            "authors": list(copy.authors),
            "published": copy.published,
            "caption": copy.caption,
            "credits": copy.credits,
            "paragraphs": list(copy.paragraphs),
            "links": [[link.url, link.text] for link in copy.links],
            "disclaimer": copy.disclaimer,
            "normalized": _saved_normalized(copy.paragraphs, normalized),
        },
        ensure_ascii=False,
    )


def _saved_normalized(
    paragraphs: Sequence[str], normalized: Sequence[str] | None
) -> list[str | None] | None:
    """The normalized paragraphs as the cache keeps them: ``null`` where one is its paragraph
    as written (most are: normalizing folds typography, which most paragraphs lack), so the
    cache holds the text once, not twice."""
    if normalized is None:
        return None
    if len(normalized) != len(paragraphs):
        return list(normalized)
    return [None if n == p else n for p, n in zip(paragraphs, normalized, strict=True)]


def copy_from_json(data: str, *, path: str) -> CanonicalCopy:
    """The copy :func:`copy_to_json` saved, found at ``path``."""
    return copy_and_normalized_from_json(data, path=path)[0]


def copy_and_normalized_from_json(
    data: str, *, path: str
) -> tuple[CanonicalCopy, list[str] | None]:
    """The copy :func:`copy_to_json` saved, and its normalized paragraphs if saved with it."""
    fields = json.loads(data)
    copy = CanonicalCopy(
        path=path,
        url=fields["url"],
        title=fields["title"],
        subtitle=fields["subtitle"],
        authors=tuple(fields["authors"]),
        published=fields["published"],
        caption=fields["caption"],
        credits=fields["credits"],
        paragraphs=tuple(fields["paragraphs"]),
        links=tuple(Link(url=url, text=text) for url, text in fields["links"]),
        disclaimer=fields["disclaimer"],
    )
    saved = fields.get("normalized")
    if saved is None:
        return copy, None
    if len(saved) == len(copy.paragraphs):
        saved = [p if n is None else n for p, n in zip(copy.paragraphs, saved, strict=True)]
    return copy, saved


def find_canonical_files(paths: list[str]) -> list[str]:
    """Expand files and folders (every ``*.md`` below a folder, sorted) into copy paths."""
    found: list[str] = []
    for item in paths:
        p = Path(item)
        if p.is_dir():
            found.extend(str(f) for f in sorted(p.rglob("*.md")) if f.is_file())
        else:
            found.append(item)
    return found


# -- where each link's target is written (for --repair) --------------------------------------


@dataclass(frozen=True, kw_only=True)
class LinkSpan:
    """A link of the copy and where its destination is written in the file's text.

    ``start``/``end`` are offsets into the text given to :func:`link_spans` (``<...>`` included
    when the destination is written so); None when the target cannot be rewritten in place, as
    for a reference-style link whose target lives in a ``[label]: url`` definition.
    """

    text: str
    href: str
    start: int | None
    end: int | None


def _record_link_spans(md: MarkdownIt) -> MarkdownIt:
    """Wrap markdown-it's own inline ``link`` rule so each link token remembers its source."""
    from markdown_it.rules_inline.link import link as link_rule
    from markdown_it.rules_inline.state_inline import StateInline

    def recording(state: StateInline, silent: bool) -> bool:
        start = state.pos
        before = len(state.tokens)
        label_end = state.md.helpers.parseLinkLabel(state, start, True)
        if not link_rule(state, silent):
            return False
        if silent or label_end < 0:
            return True
        destination: tuple[int, int] | None = None
        pos = label_end + 1
        if pos < state.posMax and state.src[pos] == "(":
            pos += 1
            while pos < state.posMax and state.src[pos] in " \t\n":
                pos += 1
            found = state.md.helpers.parseLinkDestination(state.src, pos, state.posMax)
            destination = (pos, found.pos if found.ok else pos)
        for token in state.tokens[before:]:
            if token.type == "link_open":
                token.meta["source"] = (start, state.pos, destination)
                break
        return True

    md.inline.ruler.at("link", recording)
    return md


@functools.cache
def _span_parser() -> MarkdownIt:
    """A CommonMark parser whose links remember where they are written, built on first use."""
    from markdown_it import MarkdownIt

    return _record_link_spans(MarkdownIt("commonmark"))


_NEWLINE = re.compile(r"\r\n?|\n")


def _source_pattern(raw: str) -> re.Pattern[str]:
    """The inline source as it sits in the file: any line ending, continuation indent allowed."""
    return re.compile(r"\r?\n[ \t>]*".join(re.escape(piece) for piece in raw.split("\n")))


def link_spans(text: str) -> list[LinkSpan]:
    """Every (non-autolink) link of a copy, in order, with where its target is written."""
    stripped = text.lstrip("\ufeff")
    _, body = _front_matter(stripped, "<canonical>")
    offset = len(text) - len(body)
    starts = [0, *(m.end() for m in _NEWLINE.finditer(body)), len(body)]
    tokens = _span_parser().parse(body)
    spans: list[LinkSpan] = []
    for token in tokens:
        if token.type != "inline" or token.map is None:
            continue
        first, last = token.map
        region_start = starts[min(first, len(starts) - 1)]
        region_end = starts[min(last, len(starts) - 1)]
        cursor = region_start
        children = token.children or []
        for index, child in enumerate(children):
            if child.type != "link_open" or child.markup == "autolink":
                continue
            anchor = _anchor_text(children, index + 1)
            href = str(child.attrs.get("href", ""))
            source = child.meta.get("source")
            where: tuple[int, int] | None = None
            if source is not None and source[2] is not None:
                link_start, link_end, (dest_start, dest_end) = source
                raw = token.content[link_start:link_end]
                match = _source_pattern(raw).search(body, cursor, region_end)
                if match is not None:
                    cursor = match.end()
                    tail = len(raw) - (dest_start - link_start)
                    if "\n" not in raw[dest_start - link_start :]:
                        begin = match.end() - tail
                        where = (offset + begin, offset + begin + (dest_end - dest_start))
            spans.append(
                LinkSpan(
                    text=anchor,
                    href=href,
                    start=where[0] if where else None,
                    end=where[1] if where else None,
                )
            )
    return spans


def _anchor_text(children: list[Token], index: int) -> str:
    """The anchor text of the link opened just before ``index``, as parse_canonical reads it."""
    parts: list[str] = []
    depth = 1
    for child in children[index:]:
        if child.type == "link_open":
            depth += 1
        elif child.type == "link_close":
            depth -= 1
            if depth == 0:
                break
        elif child.type in ("text", "code_inline", "html_inline", "image"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return _squash("".join(parts))
