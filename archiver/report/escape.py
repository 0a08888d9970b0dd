"""One escaper per target: the only place text from the web is made safe for where it goes.

Everything quoted from a page, a copy, a file name or the archive is untrusted. Each output
target has exactly one function here, and every writer in the package uses it:

=====================  ==========================================================================
target                 rule
=====================  ==========================================================================
terminal text          :func:`terminal` — a block (paragraphs, diffs): line breaks kept, every
                       other control character dropped (escape sequences, CR, BEL, bidi
                       overrides), so page text cannot recolour, move the cursor or retitle
                       the window, and still reads as prose.
one-line terminal      :func:`terminal_line` — one value on one line (a URL, a title, a table
                       cell, a tab-separated field): each control character, line break and tab
                       is *shown* as ``\\xNN`` (``\\uNNNN`` above U+00FF), never sent, so nothing
                       is lost and the value cannot break out of its line or column.
HTML                   :func:`html_text` (the stdlib's ``html.escape``, quotes included) and
                       :func:`html_link` (a link only to an http(s) URL).
CSV cell               :func:`csv_cell` — a text cell a spreadsheet will not run as a formula
                       (a leading ``=``, ``+``, ``-``, ``@``, tab or CR gets a ``'``);
                       :func:`write_csv` / :func:`csv_text` are the one CSV writer.
Markdown cell          :func:`md_cell` — inline text (a table cell, a heading, a list item): no
                       HTML, link, emphasis, code or cell break can come from a page;
                       :func:`md_url` (an autolink that cannot break out) and :func:`md_fence`
                       (a block in a fence longer than any backtick run in it).
=====================  ==========================================================================

Pure functions of strings; no I/O beyond the stream handed to :func:`write_csv`.
"""

from __future__ import annotations

import csv
import html
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import IO, Any
from urllib.parse import quote

__all__ = [
    "csv_cell",
    "csv_text",
    "html_link",
    "html_text",
    "md_cell",
    "md_fence",
    "md_url",
    "terminal",
    "terminal_line",
    "write_csv",
]

# Bidirectional controls (Trojan Source): they reorder what a terminal shows.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unsafe(ch: str) -> bool:
    """A character that must not reach a terminal as it is: controls, line/paragraph
    separators, bidi controls and lone surrogates (which cannot even be encoded)."""
    if ch in _BIDI:
        return True
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs")


def _shown(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal(value: Any) -> str:
    """A block of page or copy text for a terminal: line breaks kept, other controls dropped."""
    if value is None:
        return ""
    text = str(value)
    return "".join(ch for ch in text if ch == "\n" or not _unsafe(ch))


def terminal_line(value: Any, *, limit: int | None = None) -> str:
    """One value for one terminal line: every control character shown as ``\\xNN``, not sent.

    ``None`` is empty and bytes are ``<N bytes>``; ``limit`` cuts the value to that many
    characters before escaping (so an escape is never cut in half).
    """
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    text = str(value)
    if limit is not None:
        text = text[:limit]
    return "".join(_shown(ch) if ch == "\t" or _unsafe(ch) else ch for ch in text)


# -- HTML --------------------------------------------------------------------------------------


def html_text(value: Any) -> str:
    """Text for HTML content or a quoted attribute (``&``, ``<``, ``>``, both quotes escaped)."""
    return html.escape("" if value is None else str(value), quote=True)


def html_link(url: str | None) -> str:
    """An escaped link to an http(s) URL, or just the escaped text for anything else."""
    if not url:
        return ""
    safe = html_text(url)
    if url.lower().startswith(("http://", "https://")):
        return f'<a href="{safe}" rel="noreferrer noopener nofollow">{safe}</a>'
    return safe


# -- CSV ---------------------------------------------------------------------------------------

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet will not run: text starting with = + - @ tab or CR gets a quote.

    Numbers stay numbers (``-5`` is a value, not a formula); ``None`` is an empty cell and
    bytes are ``<N bytes>``; any other value becomes its text, protected.
    """
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def write_csv(
    stream: IO[str],
    header: Sequence[str],
    rows: Iterable[Sequence[Any] | dict[str, Any]],
) -> None:
    """The one CSV writer: ``header``, then each row, every cell through :func:`csv_cell`.

    A row is a sequence in ``header``'s order, or a dict (keys not in ``header`` are left out,
    missing ones are empty). Lines end in ``\\n``.
    """
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([csv_cell(name) for name in header])
    for row in rows:
        cells = [row.get(name) for name in header] if isinstance(row, dict) else row
        writer.writerow([csv_cell(cell) for cell in cells])


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any] | dict[str, Any]]) -> str:
    """:func:`write_csv` into a string."""
    buffer = io.StringIO()
    write_csv(buffer, header, rows)
    return buffer.getvalue()


# -- Markdown ----------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def md_cell(value: Any) -> str:
    """Inline Markdown text from the web: HTML escaped, Markdown punctuation backslashed, one
    line — no tag, link, emphasis, code span or table-cell break can come from a page."""
    text = html.escape("" if value is None else str(value), quote=False)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return " ".join(terminal(text).split("\n"))


def md_url(url: str | None) -> str:
    """A URL from the web as a Markdown autolink that cannot break out of itself.

    ``<``, ``>``, quotes, spaces, ``|`` and backslashes are percent-encoded, so a hostile href
    cannot close the autolink and smuggle HTML or a table cell into the report; anything but
    http(s) is shown as code, never linked.
    """
    if not url:
        return ""
    safe = quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")
    if url.lower().startswith(("http://", "https://")):
        return f"<{safe}>"
    return f"`{safe.replace('`', '%60')}`"


def md_fence(text: str) -> str:
    """Text in a code fence longer than any backtick run inside it (so it cannot break out);
    control characters are dropped as for the terminal, where a report is often read."""
    text = terminal(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"
