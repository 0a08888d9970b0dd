"""Extraction: from the bytes of a saved page to a :class:`~archiver.models.Document`.

The stage is pure: bytes (and what the server said about them) in, a Document out, so it can be
re-run over the whole archive when a profile or the normalizer improves. Three steps:

1. :func:`decode_html` — the web's encodings as they come: a BOM, the HTTP ``Content-Type``
   charset and ``<meta charset>`` may disagree, Russian pages come in windows-1251 and KOI8-R,
   and bytes may be invalid in the declared charset. It decides, and says what it assumed.
2. a site profile (``archiver.extract.profiles``) finds the article: title, byline, dates,
   body, links.
3. ``archiver.extract.normalize`` gives the checksum and per-paragraph hashes over normalized text.

Input that is not an HTML page (empty, binary, too large) raises
:class:`~archiver.errors.ExtractionError` with one line saying why.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
from collections.abc import Iterator, Sequence

from lxml import etree
from lxml import html as lxml_html

from archiver.errors import ArchiverError, ExtractionError, InputError
from archiver.extract import normalize
from archiver.extract.profiles import (
    PROFILE_NAMES,
    Page,
    get_profile,
    resolve,
    select_profile,
    wayback,
)
from archiver.extract.profiles.metadata import HeadMeta, read_head
from archiver.fetch.captures import is_html
from archiver.models import Capture, Document, Link

log = logging.getLogger(__name__)

MAX_BYTES = 32 * 1024 * 1024
"""Pages above this are refused: no article is this large, and parsing one costs seconds."""

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"RIFF", "a RIFF media file"),
    (b"\x7fELF", "an executable"),
)
_HEADER_CHARSET = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE | re.DOTALL
)
_XML_ENCODING = re.compile(rb"""\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""")
_ABSOLUTE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_NOT_FETCHED = re.compile(r"^(?:javascript|mailto|tel|data|about|sms):", re.IGNORECASE)
_MARKUP = re.compile(r"<\s*[a-zA-Z!?/]")
_XML_DECLARATION = re.compile(
    r"^\s*<\?xml[^>]*>"
)  # lxml refuses it in decoded text; may be unclosed
_CYRILLIC_LOWER = re.compile("[а-яё]")
_CYRILLIC_UPPER = re.compile("[А-ЯЁ]")
_CYRILLIC_8BIT = ("cp1251", "koi8-r")
# Single-byte code pages a Russian-news archive meets, each of which decodes (nearly) any byte.
_SINGLE_BYTE = ("cp1251", "koi8-r", "cp1252")
# WHATWG Encoding Standard: browsers read these labels as windows-1252.
_WHATWG_ALIASES = {"iso8859-1": "cp1252", "ascii": "cp1252", "latin-1": "cp1252"}


def _codec(label: str | bytes | None) -> str | None:
    """Python's codec name for a charset label, or None for an unknown label."""
    if not label:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "replace")
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    return _WHATWG_ALIASES.get(name, name)


def _is_single_byte(encoding: str) -> bool:
    """True for a code page in which every byte is one character (windows-125x, KOI8, Latin-N)."""
    return encoding in _SINGLE_BYTE or encoding.startswith(("cp12", "iso8859", "koi8", "latin"))


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _lowercase_share(text: str) -> float:
    """Share of lowercase among Cyrillic letters: high for right decodings of Russian text.

    windows-1251 read as KOI8-R (and the reverse) swaps the case of nearly every letter, so this
    tells the two apart where both decode without error.
    """
    lower = len(_CYRILLIC_LOWER.findall(text))
    upper = len(_CYRILLIC_UPPER.findall(text))
    return lower / (lower + upper) if lower + upper else 1.0


def _most_plausible(data: bytes, candidates: list[tuple[str, str]]) -> tuple[str, str]:
    """The (encoding, text) that reads as language, not mojibake; the first one when unsure.

    charset-normalizer's chaos measure decides; where it has no opinion, the Cyrillic case test
    does (windows-1251 read as KOI8-R swaps the case of nearly every letter).
    """
    first = candidates[0]
    names = [e for e, _ in candidates]
    from charset_normalizer import from_bytes  # ~20 ms to import: only for pages that need it

    results = from_bytes(data[:65536], cp_isolation=names)
    chaos = {_codec(m.encoding): m.chaos for m in results}
    if chaos:
        best = min(candidates, key=lambda c: (chaos.get(c[0], 1.0), names.index(c[0])))
        # switch away from the declared one only on clear evidence
        if chaos.get(best[0], 1.0) + 0.05 < chaos.get(first[0], 1.0):
            return best
        return first
    by_case = max(candidates, key=lambda c: _lowercase_share(c[1]))
    return by_case if _lowercase_share(by_case[1]) > _lowercase_share(first[1]) + 0.3 else first


def decode_html(data: bytes, content_type: str | None = None) -> tuple[str, str, list[str]]:
    """Decode a page: ``(text, encoding used, warnings saying what was assumed)``.

    Precedence follows browsers (BOM, then the HTTP header, then ``<meta>`` or the XML
    declaration), with checks browsers skip because an archive must read the words right: a
    declared charset in which the bytes are invalid loses to one in which they are valid, and
    among single-byte charsets (windows-1251, KOI8-R, Latin-1 all decode almost any byte) the
    reading that is language rather than mojibake wins, on clear evidence only.
    """
    warnings: list[str] = []
    header = None
    if content_type:
        found = _HEADER_CHARSET.search(content_type.encode("latin-1", "replace"))
        header = _codec(found.group(1)) if found else None
        if found and header is None:
            label = found.group(1).decode("ascii", "replace")
            warnings.append(f"unknown charset {label!r} in HTTP header ignored")
    found_meta = _META_CHARSET.search(data[:4096]) or _XML_ENCODING.match(data[:200])
    meta = _codec(found_meta.group(1)) if found_meta else None
    if found_meta and meta is None:
        warnings.append(
            f"unknown charset {found_meta.group(1).decode('ascii', 'replace')!r} in <meta> ignored"
        )

    for bom, encoding in _BOMS:
        if data.startswith(bom):
            for source, said in (("HTTP header", header), ("<meta>", meta)):
                if said and said != encoding and not said.startswith("utf-16"):
                    warnings.append(
                        f"byte order mark says {encoding}, {source} says {said}; used the BOM"
                    )
            return data[len(bom) :].decode(encoding, "replace"), encoding, warnings

    declared = [(s, e) for s, e in (("HTTP header", header), ("<meta>", meta)) if e]
    if len({e for _, e in declared}) > 1:
        (s1, e1), (s2, e2) = declared
        warnings.append(f"{s1} says {e1}, {s2} says {e2}")
    candidates: list[tuple[str, str]] = []  # (encoding, text) that decode without error
    for source, encoding in declared:
        text = _strict(data, encoding)
        if text is None:
            warnings.append(f"bytes are not valid {encoding} as the {source} declares")
        elif encoding not in (e for e, _ in candidates):
            candidates.append((encoding, text))
    if len(candidates) > 1:
        utf8 = [c for c in candidates if c[0] == "utf-8"]
        # valid UTF-8 with non-ASCII bytes is almost never an accident; otherwise ask which reads
        if utf8 and not data.isascii():
            best = utf8[0]
        else:
            best = _most_plausible(data, candidates)
        warnings.append(f"used {best[0]}, in which the text reads right")
        return best[1], best[0], warnings
    if candidates:
        encoding, text = candidates[0]
        if declared and encoding != declared[0][1]:
            warnings.append(f"used {encoding}")
        if encoding != "utf-8" and _is_single_byte(encoding) and not data.isascii():
            as_utf8 = _strict(data, "utf-8")
            if as_utf8 is not None:  # valid UTF-8 with non-ASCII bytes is never an accident
                warnings.append(f"declared {encoding}, but the bytes are UTF-8; used utf-8")
                return as_utf8, "utf-8", warnings
        if encoding in _SINGLE_BYTE and not data.isascii():
            # Russian pages mislabelled windows-1251 / KOI8-R / Latin-1 still decode without error
            others = [
                (e, t)
                for e in _SINGLE_BYTE
                if e != encoding and (t := _strict(data, e)) is not None
            ]
            best = _most_plausible(data, [(encoding, text), *others])
            if best[0] != encoding:
                warnings.append(f"declared {encoding} reads as garbage; used {best[0]}")
                return best[1], best[0], warnings
        return text, encoding, warnings

    text = _strict(data, "utf-8")
    if text is not None:
        if declared:
            warnings.append("used utf-8, in which the bytes are valid")
        return text, "utf-8", warnings
    from charset_normalizer import from_bytes

    guess = from_bytes(data[:262144]).best()
    guessed = (_codec(guess.encoding) if guess is not None else None) or "cp1252"
    if guessed in _CYRILLIC_8BIT or _lowercase_share(data.decode(guessed, "replace")) < 0.5:
        guessed = max(_CYRILLIC_8BIT, key=lambda e: _lowercase_share(data.decode(e, "replace")))
    text = data.decode(guessed, "replace")
    bad = text.count("\ufffd")
    reason = "no charset declared" if not declared else "no declared charset fits the bytes"
    warnings.append(
        f"{reason}; assumed {guessed} (detected)"
        + (f", {bad} undecodable bytes replaced with U+FFFD" if bad else "")
    )
    return text, guessed, warnings


def _sniff_binary(data: bytes) -> str | None:
    """What the bytes are if they are plainly not text (a known magic number, or NUL bytes)."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    head = data[:8192]
    if any(data.startswith(bom) for bom, _ in _BOMS):
        return None
    if head.count(b"\x00") > 0:
        return "binary data (NUL bytes)"
    return None


def _parse(text: str) -> tuple[lxml_html.HtmlElement, list[str]]:
    """Parse with libxml2's limits on (depth 256): a page nested deeper is cut off there, and
    the warning says so, rather than spending seconds on a hostile tree."""
    parser = lxml_html.HTMLParser(remove_comments=True, remove_pis=True)
    try:
        root = lxml_html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"not an HTML page: {exc}") from exc
    warnings = []
    if any("Excessive depth" in error.message for error in parser.error_log):
        warnings.append(
            "page nests elements deeper than the parser's limit (256); "
            "text after the deepest point was not read"
        )
    return root, warnings


def _page_url(url: str | None, head: HeadMeta) -> tuple[str | None, str | None]:
    """(the page's URL, the base for relative links): given URL, else canonical, else og:url."""
    stated = [u for u in (head.canonical, head.og_url) if u and _ABSOLUTE.match(u)]
    own = url or (stated[0] if stated else None)
    base = resolve(head.base, own) or own if head.base else own
    return own or None, base or None


def extract(
    data: bytes | str,
    *,
    url: str | None = None,
    content_type: str | None = None,
    profile: str | None = None,
) -> Document:
    """The article in one page. Pure; raises ExtractionError for input that is not an HTML page."""
    warnings: list[str] = []
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise ExtractionError(
                f"page too large: {len(data) / 2**20:.1f} MiB (limit {MAX_BYTES // 2**20} MiB)"
            )
        if not data.strip():
            raise ExtractionError("empty file: no HTML to extract")
        what = _sniff_binary(data)
        if what:
            raise ExtractionError(f"not an HTML page: looks like {what}")
        text, encoding, warnings = decode_html(data, content_type)
    else:
        if len(data) > MAX_BYTES:
            raise ExtractionError(f"page too large: {len(data)} characters")
        text, encoding = data, None
        if not text.strip():
            raise ExtractionError("empty file: no HTML to extract")
    if not _MARKUP.search(text[:65536]):
        raise ExtractionError("not an HTML page: no markup in it")
    if profile is not None and profile not in PROFILE_NAMES:
        raise InputError(f"unknown profile {profile!r} (known: {', '.join(PROFILE_NAMES)})")

    tree, parse_warnings = _parse(_XML_DECLARATION.sub("", text, count=1))
    warnings += parse_warnings
    head = read_head(tree)
    own_url, base = _page_url(url, head)
    replay = wayback.is_replay(tree, own_url)
    if replay:
        wayback.strip_toolbar(tree)
    page = Page(tree=tree, head=head, url=own_url, base=base, replay=replay)
    original = wayback.original(own_url) if replay else None
    chooser = Page(tree=tree, head=head, url=original, base=base) if original else page
    name = profile or select_profile(chooser)
    fields = get_profile(name)(page)
    paragraphs = tuple(fields.paragraphs)
    checksum, hashes = normalize.fingerprint(paragraphs)
    return Document(
        url=own_url,
        title=fields.title or None,
        subtitle=fields.subtitle or None,
        authors=tuple(fields.authors),
        published=fields.published,
        modified=fields.modified,
        paragraphs=paragraphs,
        links=tuple(fields.links),
        images=tuple(fields.images),
        profile=fields.profile,
        checksum=checksum,
        paragraph_hashes=hashes,
        normalizer=normalize.NORMALIZER_VERSION,
        label=fields.label or None,
        encoding=encoding,
        warnings=tuple(warnings + fields.warnings),
        published_source=fields.published_source,
        page_type=fields.page_type,
    )


MAX_PAGE_LINKS = 20_000
"""``page_links`` stops here: a page with more anchors is a link farm, not a page to check."""


def page_links(
    data: bytes | str, *, url: str | None = None, content_type: str | None = None
) -> tuple[Link, ...]:
    """Every ``<a href>`` of a page, article or not, in document order (``links --all``, as
    linkchecker does): resolved per RFC 3986 against the page or its ``<base>``, a Wayback
    replay's links mapped to their original URLs, the replay's own toolbar left out. Targets a
    browser does not fetch (``javascript:``, ``mailto:``, ``tel:``, bare ``#``) are left out.
    Raises ExtractionError for input that is not an HTML page, as :func:`extract` does.
    """
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise ExtractionError(f"page too large: {len(data) / 2**20:.1f} MiB")
        what = _sniff_binary(data)
        if what:
            raise ExtractionError(f"not an HTML page: looks like {what}")
        text = decode_html(data, content_type)[0]
    else:
        text = data
    if not text.strip() or not _MARKUP.search(text[:65536]):
        raise ExtractionError("not an HTML page: no markup in it")
    tree, _ = _parse(_XML_DECLARATION.sub("", text, count=1))
    head = read_head(tree)
    own_url, base = _page_url(url, head)
    replay = wayback.is_replay(tree, own_url)
    if replay:
        wayback.strip_toolbar(tree)
    links: list[Link] = []
    for a in tree.iter("a", "area"):
        href = a.get("href")
        if href is None or _NOT_FETCHED.match(href.strip()):
            continue
        target = resolve(href, base, replay=replay)
        if target in ("", "#"):
            continue
        links.append(Link(url=target, text=" ".join(a.text_content().split())))
        if len(links) >= MAX_PAGE_LINKS:
            break
    return tuple(links)


def extract_file(path: str, *, url: str | None = None, profile: str | None = None) -> Document:
    """Extract a saved page; InputError if it cannot be read, ExtractionError if not HTML."""
    try:
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            raise ExtractionError(
                f"{path}: page too large: {size / 2**20:.1f} MiB (limit {MAX_BYTES // 2**20} MiB)"
            )
        with open(path, "rb") as fh:
            data = fh.read()
    except IsADirectoryError as exc:
        raise InputError(f"{path}: is a directory") from exc
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from exc
    try:
        return extract(data, url=url, profile=profile)
    except ArchiverError as exc:
        if str(exc).startswith(path):
            raise
        raise type(exc)(f"{path}: {exc}") from exc


def _extract_one(args: tuple[str, str | None, str | None]) -> Document | ArchiverError:
    path, url, profile = args
    try:
        return extract_file(path, url=url, profile=profile)
    except ArchiverError as exc:
        return exc


def extract_many(
    paths: Sequence[str],
    *,
    url: str | None = None,
    profile: str | None = None,
    workers: int | None = None,
) -> Iterator[tuple[str, Document | ArchiverError]]:
    """``(path, Document or the error)`` for each file, in order, using every core for many files.

    Errors are values here so that one bad file does not stop a batch; the caller decides.
    """
    jobs = [(path, url, profile) for path in paths]
    workers = workers if workers is not None else min(os.cpu_count() or 1, len(jobs))
    if workers <= 1 or len(jobs) < 4:
        for job in jobs:
            yield job[0], _extract_one(job)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from zip(
            paths,
            pool.map(_extract_one, jobs, chunksize=max(1, len(jobs) // (workers * 8))),
            strict=True,
        )


def extract_capture(capture: Capture) -> Document | None:
    """The document in a successful HTML capture, or None (not HTML, not 2xx, unreadable):
    what every job that keeps a capture stores with it (snapshot, verify, runs, WARC import)."""
    if not capture.ok or not capture.body or not is_html(capture):
        return None
    try:
        return extract(capture.body, url=capture.final_url, content_type=capture.content_type)
    except ExtractionError as exc:
        log.warning("%s: not extracted: %s", capture.url, exc)
        return None
