"""The one URL predicate and normalizer: which strings are web URLs, and one spelling of each.

Pure: no HTTP client, no network, no DNS. Every part of the archiver that asks "is this a URL
we may fetch, store, show a reader or write into a copy?" asks :func:`check_url`; the rule is
the strictest of the five checks it replaces (the fetcher's, the link precheck's, the canonical
parser's, repair's and the Wayback lookup's):

- the scheme is ``http`` or ``https`` (any case);
- there is a host, it has none of the code points no host may hold (WHATWG "forbidden host
  code points": space, ``< > [ ] ^ | % \\ # / ? @ :`` ...), and it has an IDNA spelling;
- the port, if any, is 1..65535;
- the URL holds no white space and no control or other unprintable character anywhere.

Hosts are kept in one spelling, lower-case IDNA ("punycode", :func:`normalize_host`), so
``https://bücher.example/`` and ``https://xn--bcher-kva.example/`` are one URL in the archive
and one host for politeness and ``--connect-to`` routes.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

import idna

from archiver.errors import InputError

#: Code points no host may contain (WHATWG URL standard, "forbidden host code point").
_FORBIDDEN_HOST = frozenset("\x00\t\n\r #/:<>?@[\\]^|%")
#: What a scheme-less address that was meant as a web URL starts with: a host name with a dot
#: (or ``localhost``), an optional port, then a path, query or the end.
_BARE_HOST = re.compile(r"^(?:localhost|[^\s/:?#@]+\.[^\s/:?#@.]+)(?::\d{1,5})?(?:[/?#]|$)", re.I)
MAX_URL_LENGTH = 64 * 1024


def normalize_host(host: str) -> str:
    """``host`` in its one spelling: lower case, Unicode labels as IDNA (``xn--``) labels.

    IP addresses and hosts that are plain ASCII already are only lower-cased. Raises ValueError
    when the host has no IDNA spelling (an empty label, a label over 63 characters, a
    disallowed code point).
    """
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        ipaddress.IPv6Address(host[1:-1].split("%")[0])
        return host
    if not _FORBIDDEN_HOST.isdisjoint(host):
        raise ValueError(f"host contains a character no host may hold: {host[:100]!r}")
    # One trailing dot (a fully qualified name) is allowed and kept; no other empty label is.
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if any(not label or len(label) > 63 for label in labels):
        raise ValueError(f"host has an empty or over-long label: {host[:100]!r}")
    if host.isascii():
        return host
    try:
        encoded = idna.encode(host.rstrip("."), uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"host has no IDNA spelling: {exc}") from exc
    return encoded + ("." if host.endswith(".") else "")


def check_url(url: str) -> str | None:
    """Why ``url`` is not a web (http or https) URL to fetch, store or show; None if it is.

    The text is checked as given (callers that accept surrounding white space strip it first).
    """
    if len(url) > MAX_URL_LENGTH:
        return f"URL longer than {MAX_URL_LENGTH} characters"
    # Every white space character but " " is unprintable: one C pass each clears most URLs.
    if " " in url or not url.isprintable():
        if any(ch.isspace() for ch in url):
            return "URL contains white space"
        return "URL contains control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"not a well-formed URL: {exc}"
    if parts.scheme.lower() not in ("http", "https"):
        hint = scheme_hint(url)
        if hint:
            return f"not an http(s) URL: {url[:200]!r} (did you mean {hint}?)"
        return f"not an http(s) URL: {url[:200]!r}"
    if not parts.hostname:
        return "URL has no host"
    if port == 0:
        return "URL has port 0"
    bracketed = parts.netloc.rpartition("@")[2].startswith("[")
    try:
        normalize_host(f"[{parts.hostname}]" if bracketed else parts.hostname)
    except ValueError as exc:
        return f"not a well-formed URL: {exc}"
    return None


def is_web_url(url: str) -> bool:
    """Whether ``url`` passes :func:`check_url`."""
    return check_url(url) is None


def scheme_hint(url: str) -> str | None:
    """``https://`` + ``url`` when ``url`` looks like a web address typed without its scheme
    (``www.example.org/x``) and would be a web URL with it; else None."""
    text = url.strip()
    if "://" in text or not _BARE_HOST.match(text):
        return None
    candidate = "https://" + text
    try:
        parts = urlsplit(candidate)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return candidate if check_url(candidate) is None else None


def normalize_url(url: str) -> str:
    """``url`` with its scheme and host in their one spelling (lower case, IDNA host);
    everything else is kept exactly as given. A URL that fails :func:`check_url` is returned
    unchanged."""
    if check_url(url) is not None:
        return url
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if hostport.startswith("["):
        end = hostport.find("]") + 1
        host, rest = hostport[:end], hostport[end:]
    else:
        host, colon, port = hostport.partition(":")
        rest = colon + port
    netloc = userinfo + at + normalize_host(host) + rest
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


def refuse_schemeless(urls: Iterable[str]) -> None:
    """InputError for the first URL typed without its scheme (``www.example.org/x``), with the
    hint; the commands that take URLs from a person call this before any request."""
    for url in urls:
        hint = scheme_hint(url) if "://" not in url else None
        if hint:
            raise InputError(f"{url[:200]!r} has no scheme: did you mean {hint}?")


def host_of(url: str) -> str:
    """The logical host politeness is keyed by: the URL's host in its one spelling, no port;
    ``""`` when there is none."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    try:
        return normalize_host(host)
    except ValueError:
        return host.lower()
