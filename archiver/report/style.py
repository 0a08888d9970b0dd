"""Colour for terminal reports: ANSI SGR sequences, written here so the reports need no click.

Only the report's own words are painted; text from the web goes through
:func:`archiver.report.escape.terminal` or :func:`~archiver.report.escape.terminal_line` first.
The CLI decides whether to colour at all (a terminal, ``NO_COLOR`` unset).
"""

from __future__ import annotations

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
