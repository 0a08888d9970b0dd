"""A fast path for the blocks of a canonical copy, for the Markdown most copies are written in.

``verify.canonical`` reads a copy from markdown-it's tokens (``_blocks``): about half of the
parse time of a copy goes to markdown-it building tokens it then throws away. Copies as users
keep them use a small part of CommonMark: ATX headings, paragraphs, ``[text](url)`` links,
``<url>`` autolinks, ``*emphasis*`` and ``**strong**``. :func:`blocks` reads exactly that
part with a few regular expressions and gives, block for block, what ``_blocks`` gives; for
anything else (a list, a quote, code, HTML, an escape, an entity, ``_``, a reference link,
indentation, an emphasis run it cannot pair with certainty, ...) it returns None and the
caller parses with markdown-it as before. Correct by construction where it answers, and
checked against markdown-it on the real copies and on generated ones
(``tests/parallel/test_fastparse.py``).

Link targets go through markdown-it's own ``normalizeLink``/``validateLink`` (cheap), so the
URLs are byte for byte the ones the full parse gives. Pure.
"""

from __future__ import annotations

import functools
import re
import string
from typing import TYPE_CHECKING, NamedTuple

from archiver.models import Link

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


class FastBlock(NamedTuple):
    """One block of a copy, a heading or paragraph, as plain text plus its links: what
    ``verify.canonical`` reads a copy from, whichever parser found it (a named tuple: a copy
    has dozens of blocks, and a frozen dataclass costs three times as much to make)."""

    kind: str  # "heading" | "paragraph"
    level: int
    text: str
    links: tuple[Link, ...]
    last_strong: str | None  # text of a trailing **bold** run (caption credits)
    urls: tuple[str, ...]  # autolinked / linked targets in this block


class _Unsure(Exception):
    """Raised inside the scanner: this input is outside the fast subset."""


@functools.cache
def _md() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


# A line that starts (or is) a block other than an ATX heading or a paragraph line, or that
# markdown-it would read differently from plain text: leading whitespace (indented code,
# continuation), quotes, lists, thematic breaks, setext underlines, fences, HTML, tables-ish.
_OTHER_BLOCK = re.compile(
    r"^(?:\s|>|[-+=~`]|\*(?:[ \t]|$)|\*\*\*|\d{1,9}[.)](?:[ \t]|$)|\[[^\]]*\]:"
    r"|<(?![a-zA-Z][a-zA-Z0-9+.\-]{1,31}:))"
)
_HEADING = re.compile(r"^(#{1,6})(?:[ \t]+|$)(.*)$")
# Characters the scanner must look at; text without any of them is one plain run.
_SPECIAL = re.compile(r"[\\`&<\[\]!*_\t\x00]")
_LINK = re.compile(r"\[([^\[\]\\`<>*_&!\x00]*)\]\(([^\s()<>\\\x00]+)\)")
_AUTOLINK = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.\-]{1,31}:[^<>\x00-\x20]*)>")
_STARS = re.compile(r"\*+")
_ASCII_PUNCT = frozenset(string.punctuation)
_NEWLINES = re.compile(r"\r\n?")


# The runs of white space that squashing changes: two or more characters, or one that is not
# a space. A lone space is left alone, so most text is scanned, not rebuilt: the same result
# as replacing every run of [ \t\r\n]+, at a fifth of the cost on long paragraphs.
_RUNS = re.compile(r"[ \t\r\n]{2,}|[\t\r\n]")


def _squash(text: str) -> str:
    if "\n" in text or "  " in text or "\t" in text or "\r" in text:
        text = _RUNS.sub(" ", text)
    return text.strip()


def _kind(char: str | None) -> str:
    """ "space", "punct" or "alnum" for a delimiter's neighbour; _Unsure for other Unicode."""
    if char is None or char in " \n":
        return "space"
    if char in _ASCII_PUNCT:
        return "punct"
    if char.isalnum():
        return "alnum"
    raise _Unsure(f"{char!r} beside an emphasis run")


@functools.lru_cache(maxsize=4096)
def _href(destination: str) -> str:
    md = _md()
    href = md.normalizeLink(destination)
    if not md.validateLink(href):
        raise _Unsure("a link markdown-it would refuse")
    return str(href)


def _inline(source: str) -> tuple[str, tuple[Link, ...], str | None, tuple[str, ...]]:
    """What ``canonical._inline`` gives for the inline content ``source`` (or _Unsure)."""
    if not _SPECIAL.search(source):
        return _squash(source), (), None, ()
    parts: list[str] = []
    links: list[Link] = []
    urls: list[str] = []
    stack: list[int] = []  # open emphasis runs: 1 (em) or 2 (strong)
    strong_text: list[str] = []
    last_strong: str | None = None
    position = 0
    length = len(source)

    def text(chunk: str) -> None:
        nonlocal last_strong
        if not chunk:
            return
        parts.append(chunk)
        if 2 in stack:
            strong_text.append(chunk)
        elif chunk.strip():
            last_strong = None

    while position < length:
        found = _SPECIAL.search(source, position)
        if found is None:
            text(source[position:])
            break
        text(source[position : found.start()])
        position = found.start()
        char = source[position]
        if char == "[":
            link = _LINK.match(source, position)
            if link is None:
                raise _Unsure("a bracket that is not a plain [text](url) link")
            anchor, destination = link.group(1), link.group(2)
            if "&" in destination and ";" in destination:
                raise _Unsure("an entity in a link target")
            href = _href(destination)
            text(anchor)
            urls.append(href)
            links.append(Link(url=href, text=_squash(anchor)))
            position = link.end()
        elif char == "<":
            auto = _AUTOLINK.match(source, position)
            if auto is None:
                raise _Unsure("HTML or an email autolink")
            href = _href(auto.group(1))
            text(str(_md().normalizeLinkText(auto.group(1))))
            urls.append(href)
            position = auto.end()
        elif char == "*":
            run = _STARS.match(source, position)
            assert run is not None
            size = run.end() - run.start()
            before = _kind(source[position - 1] if position else None)
            after = _kind(source[run.end()] if run.end() < length else None)
            left = after != "space" and (after != "punct" or before in ("space", "punct"))
            right = before != "space" and (before != "punct" or after in ("space", "punct"))
            if size > 2 or left == right:
                raise _Unsure("an emphasis run that may open or close")
            if left:
                if size in stack or len(stack) == 2:
                    raise _Unsure("nested emphasis of the same kind")
                stack.append(size)
                if size == 2:
                    strong_text = []
            else:
                if not stack or stack[-1] != size:
                    raise _Unsure("an emphasis run closing what it did not open")
                stack.pop()
                if size == 2:
                    last_strong = _squash("".join(strong_text))
            position = run.end()
        else:  # \ ` & ! ] _ tab NUL: escapes, code, entities, images, intraword rules
            if char == "!" and not source.startswith("![", position):
                text("!")
                position += 1
                continue
            raise _Unsure(f"{char!r} in the text")
    if stack:
        raise _Unsure("emphasis left open")
    return _squash("".join(parts)), tuple(links), last_strong, tuple(urls)


def blocks(markdown: str) -> list[FastBlock] | None:
    """The headings and paragraphs of ``markdown`` as ``canonical._blocks`` reads them, or
    None when the text uses Markdown outside the fast subset (then parse it in full)."""
    text = _NEWLINES.sub("\n", markdown)
    if "\x00" in text or "\t" in text:
        return None
    out: list[FastBlock] = []
    paragraph: list[str] = []
    try:

        def close_paragraph() -> None:
            if paragraph:
                content = "\n".join(paragraph).strip()
                inline_text, links, last_strong, urls = _inline(content)
                if inline_text or urls:
                    out.append(
                        FastBlock(
                            kind="paragraph",
                            level=0,
                            text=inline_text,
                            links=links,
                            last_strong=last_strong,
                            urls=urls,
                        )
                    )
                paragraph.clear()

        for line in text.split("\n"):
            if not line.strip(" "):
                close_paragraph()
                continue
            if _OTHER_BLOCK.match(line):
                return None
            heading = _HEADING.match(line)
            if heading is not None:
                close_paragraph()
                content = heading.group(2).rstrip()
                if content.endswith("#"):
                    return None  # a closing sequence of #s: leave it to markdown-it
                inline_text, links, last_strong, urls = _inline(content)
                if inline_text or urls:
                    out.append(
                        FastBlock(
                            kind="heading",
                            level=len(heading.group(1)),
                            text=inline_text,
                            links=links,
                            last_strong=last_strong,
                            urls=urls,
                        )
                    )
                continue
            paragraph.append(line)
        close_paragraph()
    except _Unsure:
        return None
    return out
