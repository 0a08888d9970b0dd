"""Sources of a run, expanded into items: canonical copies, URL lists, feeds and sitemaps.

Feeds and sitemaps come from strangers, so they are parsed as untrusted input: feeds with
feedparser (it never fetches anything when given bytes, and does not expand external
entities), sitemaps with lxml set to resolve no entities, load no DTD and touch no network.
Every count is capped (items per source, sitemaps per index, decompressed size of a
``.xml.gz``), so a hostile index cannot make a run endless.

The parsers are pure (bytes in, URLs out); :func:`expand` is the edge that reads files and asks
the fetcher for remote feeds and sitemaps.
"""

from __future__ import annotations

import glob
import io
import logging
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
from lxml import etree

from archiver.errors import ArchiverError, ConfigError, InputError
from archiver.fetch.fetcher import check_url
from archiver.models import CanonicalCopy, Capture
from archiver.runs.config import RunConfig, Source
from archiver.runs.items import Item
from archiver.verify.canonical import read_canonical

log = logging.getLogger(__name__)

MAX_SITEMAPS = 50  # child sitemaps read from one index
MAX_SITEMAP_BYTES = 64 * 1024 * 1024  # a sitemap is at most 50 MB uncompressed (sitemaps.org)
MAX_ITEMS_PER_SOURCE = 50_000  # the sitemap protocol's own cap on URLs in one file
_SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"

Fetch = Callable[[str], Capture]
#: Reads canonical copies: (the readable ones, in order; an error for each of the others).
ReadCopies = Callable[[Sequence[str]], tuple[list[CanonicalCopy], list[InputError]]]


@dataclass(frozen=True, kw_only=True)
class Expansion:
    """The items of every source, and the problems met (a source that could not be read)."""

    items: tuple[Item, ...]
    errors: tuple[tuple[str, str], ...] = ()  # (where, what)
    captures: tuple[Capture, ...] = field(default=())  # feeds and sitemaps fetched


def parse_url_list(text: str) -> tuple[list[str], list[str]]:
    """URLs of a list file (one a line, ``#`` comments, blank lines); and the bad lines."""
    urls: list[str] = []
    bad: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip() if raw.lstrip().startswith("#") else raw.strip()
        if not line:
            continue
        problem = check_url(line)
        if problem:
            bad.append(f"line {number}: {problem}")
        else:
            urls.append(line)
    return urls, bad


def _iso(parsed: Any) -> str | None:
    """A feed's time (a ``time.struct_time`` in UTC, from feedparser) as ISO 8601."""
    if not parsed:
        return None
    try:
        year, month, day, hour, minute, second = (int(v) for v in tuple(parsed)[:6])
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError):
        return None
    return moment.isoformat().replace("+00:00", "Z")


def parse_feed(data: bytes, *, base_url: str | None = None) -> list[tuple[str, str | None]]:
    """(link, published) of each entry of an RSS or Atom feed, in feed order.

    Raises ValueError when the bytes are not a feed at all (feedparser is lenient: a feed with
    a small mistake still gives its entries, and that is what an archivist wants).
    """
    headers = {"content-location": base_url} if base_url else None
    # A stream, never bytes: feedparser tries bytes as a file name first, and a hostile
    # server could answer with the path of a local file.
    parsed = feedparser.parse(io.BytesIO(data), response_headers=headers, sanitize_html=True)
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        why = parsed.get("bozo_exception") or "no feed element"
        raise ValueError(f"not an RSS/Atom feed ({why})")
    out: list[tuple[str, str | None]] = []
    for entry in parsed.entries:
        link = str(entry.get("link") or "").strip()
        if not link or check_url(link):
            guid = str(entry.get("id") or "").strip()
            link = guid if guid and not check_url(guid) else ""
        if not link:
            continue
        published = _iso(entry.get("published_parsed") or entry.get("updated_parsed"))
        out.append((link, published))
    return out


def _ungzip(data: bytes) -> bytes:
    """A gzipped sitemap (``sitemap.xml.gz``), inflated up to the sitemap size cap."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = inflater.decompress(data, MAX_SITEMAP_BYTES + 1)
    if len(out) > MAX_SITEMAP_BYTES:
        raise ValueError("gzipped sitemap inflates beyond 64 MiB")
    return out


def parse_sitemap(data: bytes) -> tuple[str, list[tuple[str, str | None]]]:
    """("urlset" or "sitemapindex", [(loc, lastmod)]) of a sitemap; ValueError if it is not one."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(_ungzip(data), parser=parser)
    except (etree.XMLSyntaxError, zlib.error) as exc:
        raise ValueError(f"not a sitemap: {exc}") from exc
    if root is None:
        raise ValueError("not a sitemap: empty document")
    tag = etree.QName(root).localname
    if tag not in ("urlset", "sitemapindex"):
        raise ValueError(f"not a sitemap: the root element is <{tag}>")
    child = "url" if tag == "urlset" else "sitemap"
    out: list[tuple[str, str | None]] = []
    for node in root:
        if not isinstance(node.tag, str) or etree.QName(node).localname != child:
            continue
        loc = lastmod = None
        for part in node:
            if not isinstance(part.tag, str):
                continue
            name = etree.QName(part).localname
            if name == "loc":
                loc = (part.text or "").strip()
            elif name == "lastmod":
                lastmod = (part.text or "").strip() or None
        if loc and not check_url(loc):
            out.append((loc, lastmod))
        if len(out) >= MAX_ITEMS_PER_SOURCE:
            break
    return tag, out


def canonical_paths(pattern: str, base: Path) -> list[Path]:
    """Copies named by a folder (every ``*.md`` below it) or a glob, relative to ``base``."""
    target = Path(pattern).expanduser()
    if not target.is_absolute():
        target = base / target
    if any(ch in pattern for ch in "*?["):
        return sorted(Path(p) for p in glob.glob(str(target), recursive=True) if Path(p).is_file())
    if target.is_dir():
        return sorted(p for p in target.rglob("*.md") if p.is_file())
    if target.is_file():
        return [target]
    raise FileNotFoundError(str(target))


def _remote_or_local(value: str, base: Path, fetch: Fetch) -> tuple[bytes, str, Capture | None]:
    """The bytes of a feed or sitemap given as a URL (fetched politely) or a local path."""
    if not check_url(value):
        capture = fetch(value)
        if not capture.ok:
            why = capture.error or f"HTTP {capture.status}"
            raise OSError(f"{value}: {why} {capture.detail}".strip())
        return capture.body, capture.final_url, capture
    path = Path(value).expanduser()
    path = path if path.is_absolute() else base / path
    return path.read_bytes(), value, None


def _read_each(paths: Sequence[str]) -> tuple[list[CanonicalCopy], list[InputError]]:
    """The copies read one by one, here (no parse cache)."""
    copies: list[CanonicalCopy] = []
    errors: list[InputError] = []
    for path in paths:
        try:
            copies.append(read_canonical(path))
        except ArchiverError as exc:
            errors.append(exc if isinstance(exc, InputError) else InputError(str(exc)))
    return copies, errors


def _source_items(
    source: Source,
    base: Path,
    fetch: Fetch,
    captures: list[Capture],
    errors: list[tuple[str, str]],
    read: ReadCopies,
) -> list[Item]:
    where = f"source line {source.line}" if source.line else source.describe()
    follow = source.follow_links
    if source.kind == "canonical":
        assert isinstance(source.value, str)
        items: list[Item] = []
        paths = [str(path) for path in canonical_paths(source.value, base)]
        copies, problems = read(paths)
        missing = set(paths) - {copy.path for copy in copies}
        for problem in problems:  # each message starts with its copy's path
            text = str(problem)
            named = next((p for p in sorted(missing) if text.startswith(f"{p}:")), where)
            errors.append((named, text))
        for copy in copies:
            items.append(
                Item(
                    url=copy.url,
                    canonical=copy,
                    published=copy.published,
                    origin=where,
                    follow_links=follow,
                )  # fmt: skip
            )
        return items
    if source.kind == "urls":
        if isinstance(source.value, tuple):
            urls = list(source.value)
        else:
            path = Path(source.value).expanduser()
            path = path if path.is_absolute() else base / path
            urls, bad = parse_url_list(path.read_text(encoding="utf-8"))
            errors.extend((f"{path}", problem) for problem in bad)
        return [Item(url=u, origin=where, follow_links=follow) for u in urls]
    assert isinstance(source.value, str)
    data, location, capture = _remote_or_local(source.value, base, fetch)
    if capture is not None:
        captures.append(capture)
    if source.kind == "feed":
        entries = parse_feed(data, base_url=location if not check_url(location) else None)
        return [Item(url=u, published=p, origin=where, follow_links=follow) for u, p in entries]
    kind, entries = parse_sitemap(data)
    if kind == "urlset":
        return [Item(url=u, published=p, origin=where, follow_links=follow) for u, p in entries]
    items = []
    for child_url, _ in entries[:MAX_SITEMAPS]:
        try:
            child_data, _, child_capture = _remote_or_local(child_url, base, fetch)
            if child_capture is not None:
                captures.append(child_capture)
            child_kind, child_entries = parse_sitemap(child_data)
        except (OSError, ValueError) as exc:
            errors.append((child_url, str(exc)))
            continue
        if child_kind != "urlset":
            errors.append((child_url, "a sitemap index inside a sitemap index (not followed)"))
            continue
        items += [
            Item(url=u, published=p, origin=where, follow_links=follow) for u, p in child_entries
        ]
    return items


def check_local(config: RunConfig) -> None:
    """Raise ConfigError (naming the line) for a local folder, copy or list that is not there.

    Run before the archive is opened, so a typo in a path changes nothing; globs may match
    nothing (an empty month is not a mistake), and remote feeds are the run's business.
    """
    for source in config.sources:
        value = source.value
        if not isinstance(value, str):
            continue  # an inline list of URLs
        if source.kind in ("feed", "sitemap") and check_url(value) is None:
            continue  # remote: fetching it is the run's business
        if source.kind == "canonical" and any(ch in value for ch in "*?["):
            continue
        path = Path(value).expanduser()
        path = path if path.is_absolute() else config.base / path
        if not path.exists():
            where = f"{config.path}:{source.line}" if source.line else config.path
            raise ConfigError(f"{where}: [[sources]] {source.kind}: no such file or folder: {path}")


def expand(config: RunConfig, fetch: Fetch, *, read: ReadCopies = _read_each) -> Expansion:
    """Every item of every source, once each (a bare URL that a canonical copy has is dropped).

    ``read(paths)`` reads canonical copies: (the copies, in order, and the errors of those
    that cannot be read); a run passes :func:`archiver.verify.copies.read_copies` with its
    archive, so a copy parsed by an earlier run comes from the parse cache.

    A source named in the config that does not exist (a missing folder or list file) is a
    mistake in the config: ConfigError naming the line. A remote feed or sitemap that does not
    answer is a problem of this run only: recorded in ``errors``, the other sources go on.
    """
    base = config.base
    errors: list[tuple[str, str]] = []
    captures: list[Capture] = []
    by_key: dict[str, Item] = {}
    for source in config.sources:
        try:
            found = _source_items(source, base, fetch, captures, errors, read)
        except FileNotFoundError as exc:
            where = f"{config.path}:{source.line}" if source.line else config.path
            raise ConfigError(
                f"{where}: [[sources]] {source.kind}: no such file or folder: {exc}"
            ) from exc
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            errors.append((source.describe(), str(exc)))
            log.warning("%s: %s", source.describe(), exc)
            continue
        if source.limit is not None:
            found = found[: source.limit]
        for item in found[:MAX_ITEMS_PER_SOURCE]:
            by_key.setdefault(item.key, item)
    copied = {item.url for item in by_key.values() if item.canonical is not None}
    items = [i for i in by_key.values() if i.canonical is not None or i.url not in copied]
    if config.max_items is not None:
        items = items[: config.max_items]
    return Expansion(items=tuple(items), errors=tuple(errors), captures=tuple(captures))
