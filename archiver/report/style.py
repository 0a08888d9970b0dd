"""Colour for terminal reports (ANSI SGR sequences, written here so the reports need no click)
and the head every HTML report starts with.

Only the report's own words are painted; text from the web goes through
:func:`archiver.report.escape.terminal` or :func:`~archiver.report.escape.terminal_line` first.
The CLI decides whether to colour at all (a terminal, ``NO_COLOR`` unset).
"""

from __future__ import annotations

from archiver.report.escape import html_text

_FG = {
    "red": 31,
    "green": 32,
    "yellow": 33,
    "blue": 34,
    "magenta": 35,
    "cyan": 36,
}


def paint(
    text: str, fg: str | None = None, *, bold: bool = False, strikethrough: bool = False
) -> str:
    """``text`` in colour ``fg`` (and bold, struck through), reset after it."""
    codes = ([_FG[fg]] if fg else []) + ([1] if bold else []) + ([9] if strikethrough else [])
    if not codes:
        return text
    return "".join(f"\x1b[{code}m" for code in codes) + text + "\x1b[0m"


def html_head(title: str, style: str) -> str:
    """The start of a report page, up to ``<body>``: its Content-Security-Policy forbids every
    script and fetch, so nothing quoted from a page can run even if escaping ever failed."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html_text(title)}</title>\n<style>\n{style}</style></head><body>\n"
    )


LINKS_STYLE = """\
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;
color:#222}
table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #ddd;padding:.35rem;
text-align:left;vertical-align:top} .broken{background:#fdecea} .suspect{background:#fff7e0}
code{font-size:90%} td.url{word-break:break-all} ol.hops,ul{margin:0;padding-left:1.2rem}
"""
