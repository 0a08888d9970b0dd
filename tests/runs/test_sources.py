"""Sources of a run: URL lists, feeds (a real 2017 Moscow Times one), sitemaps, copy folders."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from archiver.archive.store import Archive
from archiver.errors import ConfigError
from archiver.models import Capture, sha256_hex
from archiver.runs.config import parse_config
from archiver.runs.sources import canonical_paths, expand, parse_feed, parse_sitemap, parse_url_list
from archiver.verify.canonical import PARSER_VERSION
from archiver.verify.copies import read_copies
from tests.run_web import article

DATA = Path(__file__).resolve().parents[1] / "data" / "feeds"
MT_FEED = DATA / "moscowtimes-rss-2017-01-23.xml"

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Example</title>
  <entry><title>One</title><link href="https://news.example.org/one"/><id>tag:x,1</id>
    <updated>2024-05-01T10:00:00Z</updated></entry>
  <entry><title>Relative</title><link href="/two"/><id>tag:x,2</id></entry>
  <entry><title>No link</title><id>tag:x,3</id></entry>
</feed>"""

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://news.example.org/a</loc><lastmod>2024-01-02</lastmod></url>
  <url><loc> https://news.example.org/b </loc></url>
  <url><loc>javascript:alert(1)</loc></url>
  <!-- a comment --><url><lastmod>2024-01-03</lastmod></url>
</urlset>"""

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://news.example.org/sitemap-1.xml</loc></sitemap>
  <sitemap><loc>https://news.example.org/sitemap-2.xml.gz</loc></sitemap>
</sitemapindex>"""


def test_url_list_skips_comments_and_names_bad_lines() -> None:
    text = "# my list\nhttps://a.test/1\n\n  https://a.test/2  \nnot a url\n# https://a.test/3\n"
    urls, bad = parse_url_list(text)
    assert urls == ["https://a.test/1", "https://a.test/2"]
    assert len(bad) == 1 and bad[0].startswith("line 5:")


def test_the_real_moscow_times_feed_gives_its_50_old_style_links_with_dates() -> None:
    entries = parse_feed(MT_FEED.read_bytes())
    assert len(entries) == 50
    first_url, first_date = entries[0]
    assert first_url == (
        "https://themoscowtimes.com/articles/"
        "russian-state-tv-praises-trump-for-avoiding-democracy-in-inauguration-speech-56901"
    )
    assert first_date == "2017-01-23T16:45:02Z"
    assert all(url.startswith("https://themoscowtimes.com/articles/") for url, _ in entries)
    assert len({url for url, _ in entries}) == 50


def test_atom_entries_resolve_relative_links_and_skip_entries_without_one() -> None:
    entries = parse_feed(ATOM, base_url="https://news.example.org/feed.atom")
    assert entries == [
        ("https://news.example.org/one", "2024-05-01T10:00:00Z"),
        ("https://news.example.org/two", None),
    ]


@pytest.mark.parametrize("data", [b"", b"\x00\x01binary", b"<html><body>hi</body></html>"])
def test_what_is_not_a_feed_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError, match="not an RSS/Atom feed"):
        parse_feed(data)


def test_sitemap_urlset_and_index() -> None:
    kind, entries = parse_sitemap(URLSET)
    assert kind == "urlset"
    assert entries == [
        ("https://news.example.org/a", "2024-01-02"),
        ("https://news.example.org/b", None),
    ]
    kind, children = parse_sitemap(gzip.compress(INDEX))
    assert kind == "sitemapindex"
    assert [u for u, _ in children][1].endswith("sitemap-2.xml.gz")


def test_sitemap_entities_are_not_expanded_and_files_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    hostile = f"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY x SYSTEM "file://{secret}"><!ENTITY a "aaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://e.test/&x;&b;</loc></url></urlset>""".encode()
    kind, entries = parse_sitemap(hostile)
    assert kind == "urlset"
    assert all("TOP-SECRET" not in url and "aaaaaaaaaa" not in url for url, _ in entries)


@pytest.mark.parametrize("data", [b"<rss></rss>", b"not xml", gzip.compress(b"<html/>")])
def test_what_is_not_a_sitemap_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError, match="not a sitemap"):
        parse_sitemap(data)


def _copies(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(1, count + 1):
        _, markdown, _ = article(n, "news.test", [])
        path = folder / f"s{n}.md"
        path.write_text(markdown)
        paths.append(path)
    return paths


def test_canonical_folders_and_globs(tmp_path: Path) -> None:
    _copies(tmp_path / "copies" / "2017", 2)
    _copies(tmp_path / "copies" / "2018", 1)
    assert len(canonical_paths("copies", tmp_path)) == 3
    assert [p.name for p in canonical_paths("copies/2017/*.md", tmp_path)] == ["s1.md", "s2.md"]
    assert len(canonical_paths(str(tmp_path / "copies/**/*.md"), Path("/"))) == 3
    with pytest.raises(FileNotFoundError):
        canonical_paths("nowhere", tmp_path)


def _no_fetch(url: str) -> Capture:
    raise AssertionError(f"fetched {url}")


def test_expand_local_sources_dedups_and_keeps_the_copy(tmp_path: Path) -> None:
    _copies(tmp_path / "copies", 2)
    (tmp_path / "copies" / "broken.md").write_text("# no url here\n\nJust text.\n")
    (tmp_path / "urls.txt").write_text(
        "https://news.test/00001/story-1\nhttps://other.test/x\nhttps://other.test/x\nbad url\n"
    )
    (tmp_path / "feed.xml").write_bytes(MT_FEED.read_bytes())
    config = parse_config(
        '[[sources]]\ncanonical = "copies"\n\n[[sources]]\nurls = "urls.txt"\n\n'
        '[[sources]]\nfeed = "feed.xml"\nlimit = 5\n',
        path=str(tmp_path / "archive.toml"),
    )
    result = expand(config, _no_fetch)
    kinds = [item.kind for item in result.items]
    assert kinds.count("canonical") == 2
    urls = [item.url for item in result.items]
    assert urls.count("https://news.test/00001/story-1") == 1  # the copy, not the bare URL
    assert urls.count("https://other.test/x") == 1
    assert sum(1 for i in result.items if i.origin == "source line 7") == 5
    problems = " ".join(f"{where} {what}" for where, what in result.errors)
    assert "broken.md" in problems and "no original URL" in problems
    assert "line 4" in problems  # the bad line of urls.txt


def test_expand_through_the_parse_cache_reads_the_same_and_names_the_bad_copy(
    tmp_path: Path,
) -> None:
    """A run reads copies through ``read_copies`` and the archive's parse cache: the same
    items as one by one, twice (the second time from the cache), each bad copy named."""
    _copies(tmp_path / "copies", 3)
    (tmp_path / "copies" / "broken.md").write_text("# no url here\n\nJust text.\n")
    (tmp_path / "copies" / "binary.md").write_bytes(b"\xff\xfe\x00garbage")
    config = parse_config('[[sources]]\ncanonical = "copies"\n', path=str(tmp_path / "a.toml"))
    alone = expand(config, _no_fetch)
    with Archive(str(tmp_path / "archive.db")) as archive:
        for _ in range(2):
            cached = expand(
                config, _no_fetch, read=lambda paths: read_copies(paths, archive=archive)
            )
            assert cached.items == alone.items and len(cached.items) == 3
            assert sorted(cached.errors) == sorted(alone.errors)
        shas = [sha256_hex(Path(i.key).read_bytes()) for i in alone.items]
        assert len(archive.cached_parses(shas, PARSER_VERSION)) == 3  # the second read's source
    named = sorted(Path(where).name for where, _ in alone.errors)
    assert named == ["binary.md", "broken.md"]


def test_expand_a_missing_list_file_is_a_config_mistake(tmp_path: Path) -> None:
    config = parse_config('\n[[sources]]\nurls = "gone.txt"\n', path=str(tmp_path / "a.toml"))
    with pytest.raises(ConfigError, match=r"a\.toml:2: \[\[sources\]\] urls"):
        expand(config, _no_fetch)


def test_expand_a_feed_that_does_not_answer_is_a_run_error_not_a_crash(tmp_path: Path) -> None:
    def failing(url: str) -> Capture:
        return Capture(url=url, final_url=url, status=503, body=b"down")

    config = parse_config(
        '[[sources]]\nfeed = "https://news.test/rss"\n[[sources]]\nurls = ["https://a.test/"]\n',
        path=str(tmp_path / "a.toml"),
    )
    result = expand(config, failing)
    assert [item.url for item in result.items] == ["https://a.test/"]
    assert "HTTP 503" in result.errors[0][1]


def test_check_local_names_a_missing_local_feed_but_not_a_remote_one(tmp_path: Path) -> None:
    from archiver.runs.sources import check_local

    (tmp_path / "copies").mkdir()
    good = parse_config(
        '[[sources]]\ncanonical = "copies"\n[[sources]]\ncanonical = "nothing-yet/*.md"\n'
        '[[sources]]\nfeed = "https://news.test/rss"\n[[sources]]\nurls = ["https://a.test/"]\n',
        path=str(tmp_path / "a.toml"),
    )
    check_local(good)  # no error: globs may match nothing, remote feeds are fetched later
    bad = parse_config(
        '[[sources]]\ncanonical = "copies"\n\n[[sources]]\nsitemap = "saved/sitemap.xml"\n',
        path=str(tmp_path / "a.toml"),
    )
    with pytest.raises(ConfigError, match=r"a\.toml:4: \[\[sources\]\] sitemap: no such file"):
        check_local(bad)


def test_a_feed_body_naming_a_local_file_is_not_read_from_disk() -> None:
    """feedparser opens bytes as a file name if it can; the body is handed over as a stream."""
    with pytest.raises(ValueError, match="not an RSS/Atom feed"):
        parse_feed(str(MT_FEED).encode())
