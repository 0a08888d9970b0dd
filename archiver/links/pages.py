"""What a fetched page says about a link beyond its status: walls, challenges, refreshes, anchors.

All pure, over a :class:`~archiver.models.Capture`'s bytes (bounded reads of the page's head):

- :func:`login_wall`: a deep link redirected to a login or subscription page (a wall, so the
  contract's ``blocked``: a suspect, not a soft 404).
- :func:`bot_challenge`: a 403/503 (or a 2xx) that is a bot challenge page (Cloudflare's "Just a
  moment...", "Attention Required!", a captcha): ``blocked``, never broken on its own.
- :func:`meta_refresh`: where a ``<meta http-equiv="refresh">`` sends a reader at once, so the
  checker follows it like a redirect.
- :func:`fragment_state`: whether the ``#section`` a link points at exists in the page.
"""

from __future__ import annotations

import html
import re
from urllib.parse import unquote, urljoin, urlsplit

from archiver.models import Capture

_LOGIN_PATH = re.compile(
    r"/(?:log-?in|sign-?in|signin|auth|account/(?:login|signin)|sso|subscribe|subscription|"
    r"paywall|register|sign-?up)\b",
    re.IGNORECASE,
)
_LOGIN_HOST = re.compile(r"^(?:login|signin|accounts?|auth|sso|subscribe)\.", re.IGNORECASE)
#: Words only a bot challenge page has (title or markers of the challenge scripts).
_CHALLENGE_TITLE = re.compile(
    r"just a moment|attention required|checking your browser|ddos protection|"
    r"are you a robot|are you human|verify you are (?:a )?human|security check|captcha|"
    r"access denied.*cloudflare|pardon our interruption",
    re.IGNORECASE,
)
_CHALLENGE_MARKERS = (
    b"cf-chl-",
    b"challenge-platform",
    b"cf_chl_opt",
    b"g-recaptcha",
    b"h-captcha",
    b"hcaptcha.com",
    b"captcha-delivery.com",
    b"_incapsula_resource",
    b"px-captcha",
)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_META = re.compile(rb"<meta\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(
    rb"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""",
)
_REFRESH = re.compile(r"^\s*(\d+(?:\.\d*)?)?\s*[;,]?\s*(?:url\s*=\s*)?(.*)$", re.IGNORECASE)
#: A refresh later than this is a page that reloads itself, not a redirect.
MAX_REFRESH_DELAY = 5.0
_HEAD_BYTES = 65536
_BODY_BYTES = 2_000_000


_LINK_TAG = re.compile(rb"<link\b[^>]*>", re.IGNORECASE)


def canonical_href(body: bytes) -> str | None:
    """The ``href`` of a page's ``<link rel="canonical">`` as written, or None."""
    for tag in _LINK_TAG.finditer(body[:_HEAD_BYTES]):
        attrs: dict[bytes, str] = {}
        for match in _ATTR.finditer(tag.group(0)):
            value = match.group(2) or match.group(3) or match.group(4) or b""
            attrs[match.group(1).lower()] = html.unescape(value.decode("utf-8", "replace"))
        if "canonical" in attrs.get(b"rel", "").lower().split() and attrs.get(b"href"):
            return attrs[b"href"].strip()
    return None


def page_title(body: bytes) -> str:
    """A page's ``<title>``, entities decoded and white space squashed ("" when it has none)."""
    return _title(body)


def _title(body: bytes) -> str:
    found = _TITLE.search(body[:_HEAD_BYTES])
    if not found:
        return ""
    return " ".join(html.unescape(found.group(1).decode("utf-8", "replace")).split())


def login_wall(url: str, capture: Capture) -> str | None:
    """Why a redirected link landed on a login or subscription wall, or None.

    Only a *deep* link counts: a link to the login page itself that redirects to its canonical
    form is just a redirected link.
    """
    if not capture.redirects:
        return None
    if _is_login(url):
        return None
    if _is_login(capture.final_url):
        return f"deep link redirected to a login or subscription page {capture.final_url}"
    return None


def _is_login(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return bool(_LOGIN_PATH.search(parts.path) or _LOGIN_HOST.match(parts.hostname or ""))


def bot_challenge(capture: Capture) -> str | None:
    """Why the answer is a bot challenge page (a Cloudflare interstitial, a captcha), or None.

    For a 403, 429 or 503 a challenge script or title is enough; a 2xx page must also be titled
    as one, since real pages embed captchas in comment forms.
    """
    if capture.error is not None or capture.status is None:
        return None
    title = _title(capture.body)
    titled = bool(title and _CHALLENGE_TITLE.search(title))
    head = capture.body[:_BODY_BYTES].lower()
    marked = any(marker in head for marker in _CHALLENGE_MARKERS)
    server = (capture.header("Server") or "").lower()
    mitigated = capture.header("cf-mitigated") is not None
    shown = "".join(ch for ch in title if ch.isprintable())[:60]
    if capture.status in (403, 429, 503) and (titled or marked or mitigated):
        who = " (Cloudflare)" if "cloudflare" in server or mitigated else ""
        what = f"{shown!r}" if titled else "a challenge script"
        return f"HTTP {capture.status}: a bot challenge page{who}: {what}"
    if 200 <= capture.status < 300 and titled and marked:
        return f"a bot challenge page instead of the page: {shown!r}"
    return None


def meta_refresh(capture: Capture) -> str | None:
    """The absolute URL a ``<meta http-equiv="refresh">`` sends a reader to at once, or None.

    Only a refresh within :data:`MAX_REFRESH_DELAY` seconds to another http(s) URL counts (a
    news page reloading itself every five minutes is not a redirect).
    """
    if not capture.ok or capture.method == "HEAD":
        return None
    for tag in _META.finditer(capture.body[:_HEAD_BYTES]):
        attrs = {}
        for match in _ATTR.finditer(tag.group(0)):
            value = match.group(2) or match.group(3) or match.group(4) or b""
            attrs[match.group(1).lower()] = html.unescape(value.decode("utf-8", "replace"))
        if attrs.get(b"http-equiv", "").strip().lower() != "refresh":
            continue
        found = _REFRESH.match(attrs.get(b"content", ""))
        if not found or not found.group(2).strip():
            continue
        delay = float(found.group(1) or 0)
        if delay > MAX_REFRESH_DELAY:
            continue
        target = found.group(2).strip().strip("'\"").strip()
        try:
            absolute = urljoin(capture.final_url, target)
            parts = urlsplit(absolute)
        except ValueError:
            return None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        if absolute.split("#", 1)[0] == capture.final_url.split("#", 1)[0]:
            return None
        return absolute
    return None


def fragment_of(url: str) -> str | None:
    """The section a link points at (``page#section``), or None for none or a script route.

    ``#``, ``#top``, ``#!/route`` and ``#/route`` are not sections of the page.
    """
    _, sep, fragment = url.partition("#")
    fragment = unquote(fragment)
    if not sep or not fragment or fragment.lower() == "top" or fragment[0] in "!/?":
        return None
    if ":~:" in fragment:  # a text fragment (#:~:text=...): the browser searches the text
        return None
    return fragment


def fragment_state(capture: Capture, fragment: str) -> bool | None:
    """Whether an element with ``id`` (or an ``<a name>``) ``fragment`` is in the page.

    None when the page cannot say (not HTML, a HEAD answer, a truncated body).
    """
    media = (capture.content_type or "").lower()
    if capture.method == "HEAD" or media not in ("text/html", "application/xhtml+xml"):
        return None
    body = capture.body[:_BODY_BYTES]
    wanted = {fragment, html.escape(fragment, quote=True)}
    for match in _ATTR.finditer(body):
        if match.group(1).lower() not in (b"id", b"name"):
            continue
        value = (match.group(2) or match.group(3) or match.group(4) or b"").decode(
            "utf-8", "replace"
        )
        if value in wanted or html.unescape(value) == fragment:
            return True
    if capture.truncated or len(capture.body) > _BODY_BYTES:
        return None
    return False
