"""``Captures.newest_states``: many URLs looked up at once give what ``newest_state`` gives
for each, whatever the spellings, redirects, 304s and failures stored."""

from __future__ import annotations

import random

from archiver.archive.captures import _STATES_CHUNK
from archiver.archive.store import Archive
from tests.archive.test_store import make_capture, make_document

BASE = "https://www.example.org/a"


def _fill(archive: Archive, seed: int) -> list[str]:
    """Captures of a few URLs in every way the look-up must tell apart; the URLs to ask."""
    rng = random.Random(seed)
    urls = [f"{BASE}{n}" for n in range(12)]
    urls += [
        "https://bücher.example/x",
        "https://xn--bcher-kva.example/x",
        "HTTPS://WWW.Example.ORG/a1",
    ]
    for number in range(60):
        url = rng.choice(urls)
        final = rng.choice([url, url, rng.choice(urls)])  # sometimes a redirect elsewhere
        when = f"2026-01-{rng.randint(1, 9):02d}T00:00:00Z"  # ties broken by id
        kind = rng.choice(["ok", "ok", "ok", "304", "404", "error", "no-extraction"])
        where = {"url": url, "final_url": final, "fetched_at": when}
        body = f"<html><p>page {number}</p></html>".encode()
        if kind == "304":
            capture = make_capture(b"", status=304, not_modified=True, **where)
        elif kind == "error":
            capture = make_capture(b"", status=None, error="timeout", **where)
        else:
            capture = make_capture(body, status=404 if kind == "404" else 200, **where)
        document = None
        if kind == "ok":
            paragraphs = tuple(f"paragraph {number}.{i}" for i in range(rng.randint(1, 4)))
            document = make_document(paragraphs, url=final)
        archive.save_capture(capture, document)
    return [*urls, "https://never.example/stored", "not a url at all", "https://www.example.org/A1"]


def test_newest_states_match_one_at_a_time() -> None:
    for seed in range(8):
        with Archive.memory() as archive:
            urls = _fill(archive, seed)
            asked = urls + urls[:3]  # asked twice: answered once
            batched = archive.captures.newest_states(asked)
            assert list(batched) == list(dict.fromkeys(asked))
            for url in urls:
                assert batched[url] == archive.newest_state(url), (seed, url)
            assert batched["https://never.example/stored"] is None


def test_newest_states_over_many_chunks() -> None:
    """More URLs than one query takes: every chunk answered, in the order asked."""
    with Archive.memory() as archive:
        urls = [f"{BASE}/{n}" for n in range(_STATES_CHUNK * 2 + 7)]
        for n, url in enumerate(urls[::5]):
            archive.save_capture(make_capture(f"<p>{n}</p>".encode(), url=url, final_url=url))
        batched = archive.captures.newest_states(list(reversed(urls)))
        assert list(batched) == list(reversed(urls))
        for url in urls:
            assert batched[url] == archive.newest_state(url)
        assert sum(state is not None for state in batched.values()) == len(urls[::5])


def test_first_documents_match_first_capture() -> None:
    for seed in range(8):
        with Archive.memory() as archive:
            urls = _fill(archive, seed)
            batched = archive.captures.first_documents(urls + urls[:2])
            assert list(batched) == urls
            for url in urls:
                stored = archive.first_capture(url)
                expected = (stored.id, stored.document) if stored is not None else None
                assert batched[url] == expected, (seed, url)
            assert any(state is not None for state in batched.values())
