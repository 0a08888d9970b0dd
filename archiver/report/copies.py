"""What a report says about a link besides its verdict: where its redirects went, where a moved
page lives now, and which archived copies there are, of which kind and from when.

Pure functions of :class:`~archiver.models.LinkCheck` values, shared by every format. The
archive's own capture is named ``urn:archiver:capture:N`` (archive ``archiver``); a report calls
it "this archive's capture N of <date>", a web archive's copy "<archive> copy of <date>", so a
reader knows which kind of copy a link leads to and when it was captured.
"""

from __future__ import annotations

import re
from typing import Any

from archiver.models import ArchivedCopy, LinkCheck
from archiver.report.escape import html_link, html_text

__all__ = [
    "OWN_ARCHIVE",
    "archived_copy_json",
    "best_label",
    "candidates_text",
    "copies_html",
    "copies_text",
    "copy_label",
    "hops",
    "other_copies",
    "own_capture_id",
    "when",
]

OWN_ARCHIVE = "archiver"  # the name the links job gives this archive among the archives
_OWN = re.compile(r"urn:archiver:capture:([0-9]{1,18})\Z")
MAX_COPIES_SHOWN = 10  # a link's archived copies listed in a report (the JSON has them all)


def own_capture_id(url: str | None) -> int | None:
    """The capture id of this archive's own copy (``urn:archiver:capture:N``), else None."""
    match = _OWN.match(url or "")
    return int(match.group(1)) if match else None


def when(datetime: str | None) -> str:
    """An ISO 8601 time as a reader reads it: ``2024-01-02 03:04 UTC`` (a bare date stays one;
    anything else is kept as it is, the caller escapes it)."""
    if not datetime:
        return "an unknown date"
    text = str(datetime).strip()
    match = re.match(r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?)?(.*)\Z", text)
    if not match:
        return text
    day, clock, zone = match.groups()
    if clock is None:
        return day
    zone = zone.strip()
    if zone in ("Z", "+00:00", "+0000", "UTC", ""):
        return f"{day} {clock} UTC"
    return f"{day} {clock} {zone}"


def _find(check: LinkCheck, url: str) -> ArchivedCopy | None:
    return next((copy for copy in check.archived_copies if copy.url == url), None)


def copy_label(archive: str | None, url: str | None, datetime: str | None) -> str:
    """Which kind of copy ``url`` is, and when it was captured."""
    capture_id = own_capture_id(url)
    if capture_id is not None:
        return f"this archive's capture {capture_id} of {when(datetime)}"
    name = archive or "web archive"
    return f"{name} copy of {when(datetime)}"


def archived_copy_json(check: LinkCheck) -> dict[str, Any] | None:
    """The best archived copy (``archived_url``) described: kind, archive, capture, when."""
    if not check.archived_url:
        return None
    copy = _find(check, check.archived_url)
    capture_id = own_capture_id(check.archived_url)
    archive = copy.archive if copy else (OWN_ARCHIVE if capture_id is not None else None)
    datetime = copy.datetime if copy else None
    return {
        "url": check.archived_url,
        "kind": "own_capture" if capture_id is not None else "web_archive",
        "archive": archive,
        "capture_id": capture_id,
        "datetime": datetime,
        "label": copy_label(archive, check.archived_url, datetime),
    }


def best_label(check: LinkCheck) -> str:
    """The label of ``archived_url`` ("" when there is none)."""
    described = archived_copy_json(check)
    return described["label"] if described else ""


def other_copies(check: LinkCheck) -> list[ArchivedCopy]:
    """The archived copies besides ``archived_url``, at most :data:`MAX_COPIES_SHOWN`."""
    return [c for c in check.archived_copies if c.url != check.archived_url][:MAX_COPIES_SHOWN]


def copies_text(check: LinkCheck) -> str:
    """Every archived copy on one line: ``label <url>; label <url>`` (for CSV and text)."""
    listed = [copy for copy in check.archived_copies][:MAX_COPIES_SHOWN]
    return "; ".join(f"{copy_label(c.archive, c.url, c.datetime)} {c.url}" for c in listed)


def hops(check: LinkCheck) -> tuple[str, ...]:
    """Where a redirected link went: the link, then every URL after it (empty if none)."""
    chain = tuple(check.redirects)
    if not chain and check.final_url and check.final_url != check.url:
        chain = (check.final_url,)
    return (check.url, *chain) if chain else ()


def candidates_text(check: LinkCheck) -> str:
    """The moved-page candidates on one line: ``url (evidence, confidence, matched)``."""
    out = []
    for c in check.moved_candidates[:MAX_COPIES_SHOWN]:
        matched = {True: "matched", False: "did not match", None: "not fetched"}[c.matched]
        out.append(f"{c.url} ({c.evidence}, {c.confidence:.2f}, {matched})")
    return "; ".join(out)


def copies_html(c: LinkCheck) -> str:
    """A link's archived copies as HTML: each linked (http(s) only), with its kind and date."""
    if not c.archived_url:
        return ""
    parts = [
        f"{html_link(c.archived_url) or html_text(c.archived_url)}"
        f"<br><small>{html_text(best_label(c))}</small>"
    ]
    for copy in other_copies(c):
        label = copy_label(copy.archive, copy.url, copy.datetime)
        parts.append(
            f"<li>{html_link(copy.url) or html_text(copy.url)} <small>{html_text(label)}</small>"
            "</li>"
        )
    if len(parts) > 1:
        return parts[0] + "<ul>" + "".join(parts[1:]) + "</ul>"
    return parts[0]
