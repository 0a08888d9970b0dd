"""Sources are kept while the others are still being fetched (archiver.links.keeper).

The links job used to keep (extract and store) every source after the last fetch: a tail as
long as the fetch. Now each answer is handed to :class:`SourceKeeper` as it arrives
(``Fetcher.fetch_many(each=...)``), so most sources are stored before the last request is
sent; what is stored is what ``keep`` stores.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from archiver.archive.store import Archive
from archiver.extract.extractor import extract_capture
from archiver.fetch.fetcher import Fetcher
from archiver.links.job import LinkSettings, check_and_keep
from archiver.links.keeper import SourceKeeper
from archiver.models import Capture, Link
from archiver.parallel.executor import open_executor
from tests.conftest import FAST_POLICY
from tests.linkrot_web import LinkWeb, article

N = "https://news.test"
SOURCES = [f"{N}/2017/03/story-{i}" for i in range(8)]


def _web() -> LinkWeb:
    pages = {url: article(f"Story {i}", f"What story {i} said, in words. " * 12)
             for i, url in enumerate(SOURCES)}  # fmt: skip
    return LinkWeb(pages, address="127.0.0.7")


class _Timed(Archive):
    """An archive that notes when each capture was stored."""

    stored_at: list[float]

    def save_capture(self, capture: Capture, *args: object, **kwargs: object) -> int:
        self.stored_at.append(time.monotonic())
        return super().save_capture(capture, *args, **kwargs)  # type: ignore[arg-type]


def _check(tmp_path: Path, *, settings: LinkSettings) -> tuple[dict, list[float], list[float]]:
    """check_and_keep over SOURCES at 20 requests/s: (kept, store times, request times)."""
    starts: list[float] = []
    policy = replace(FAST_POLICY, per_host_rate=20.0, per_host_connections=1)
    with _web() as web, Fetcher(policy, routes=web.routes) as fetcher:
        archive = _Timed(str(tmp_path / "archive.db"))
        archive.stored_at = []
        with archive:
            send = fetcher.session.request

            def noted(*args: object, **kwargs: object) -> object:
                starts.append(time.monotonic())
                return send(*args, **kwargs)  # type: ignore[arg-type]

            fetcher.session.request = noted  # type: ignore[method-assign,assignment]
            links = [Link(url=url, text=f"source {i}") for i, url in enumerate(SOURCES)]
            checked = check_and_keep(links, fetcher=fetcher, archive=archive, settings=settings)
            assert [c.status for c in checked.checks] == ["ok"] * len(SOURCES)
            for url, page in checked.kept.items():
                assert page.capture_id is not None
                stored = archive.get_capture(page.capture_id)
                assert stored is not None and stored.capture.url == url
            return checked.kept, list(archive.stored_at), starts


@pytest.mark.parametrize("workers", [None, 2])
def test_sources_are_kept_while_the_others_are_fetched(tmp_path: Path, workers: int | None) -> None:
    with open_executor(workers=workers) as executor:
        for started in [executor.submit(int) for _ in range(workers or 1)]:
            started.result()  # the workers are up (a links job pays this while fetching)
        settings = LinkSettings(rescue=None, executor=executor if workers else None)
        kept, stored_at, starts = _check(tmp_path, settings=settings)
    assert sorted(kept) == SOURCES
    # robots.txt, 8 pages and a probe, 1/20 s apart: the first sources are stored before the
    # last requests start (they were stored after all of them before).
    assert len(starts) == len(SOURCES) + 2
    if workers is None:  # (a pool's first chunk waits for 4 answers and a cold worker)
        assert stored_at[0] < starts[-3], (stored_at, starts)
    for url, page in kept.items():
        assert page.capture.url == url
        assert page.document == extract_capture(page.capture)


def test_keep_sources_off_keeps_nothing(tmp_path: Path) -> None:
    kept, stored_at, _ = _check(tmp_path, settings=LinkSettings(rescue=None, keep_sources=False))
    assert kept == {} and stored_at == []


def test_a_failure_to_store_is_raised_in_the_caller(tmp_path: Path) -> None:
    class Broken(Archive):
        def save_capture(self, *args: object, **kwargs: object) -> int:
            raise OSError("disk full")

    capture = Capture(url=SOURCES[0], final_url=SOURCES[0], status=200, body=b"<p>x</p>")
    with Broken(str(tmp_path / "a.db")) as archive:
        keeper = SourceKeeper(archive, targets={SOURCES[0]})
        keeper.offer(SOURCES[0], capture)
        with pytest.raises(OSError, match="disk full"):
            keeper.finish({})


def test_each_source_is_kept_once_and_only_targets(tmp_path: Path) -> None:
    capture = Capture(url=SOURCES[0], final_url=SOURCES[0], status=200, body=b"<p>x</p>")
    other = replace(capture, url=f"{N}/probe", final_url=f"{N}/probe")
    with Archive(str(tmp_path / "a.db")) as archive:
        keeper = SourceKeeper(archive, targets={SOURCES[0], SOURCES[1]}, skip=SOURCES[1].__eq__)
        keeper.offer(SOURCES[0], capture)
        keeper.offer(SOURCES[0], capture)
        kept = keeper.finish({other.url: other, SOURCES[0]: capture, SOURCES[1]: capture})
        assert list(kept) == [SOURCES[0]]
        assert len(archive.capture_ids()) == 1


def test_an_interrupted_caller_stops_the_keeper(tmp_path: Path) -> None:
    capture = Capture(url=SOURCES[0], final_url=SOURCES[0], status=200, body=b"<p>x</p>")
    with Archive(str(tmp_path / "a.db")) as archive:
        with pytest.raises(KeyboardInterrupt), SourceKeeper(archive, targets=SOURCES) as keeper:
            keeper.offer(SOURCES[0], capture)
            raise KeyboardInterrupt
        assert not any(t.name == "archiver-keep" for t in threading.enumerate())


def test_many_sources_are_extracted_in_a_pool_of_the_keepers_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archiver.parallel import executor as engines

    opened: list[int | None] = []
    real = engines.open_executor

    def counting(workers: int | None = None, **kwargs: object) -> object:
        opened.append(workers)
        return real(workers=workers, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engines, "open_executor", counting)
    monkeypatch.setattr(engines, "default_workers", lambda: 2)
    pages = [
        Capture(url=url, final_url=url, status=200, content_type="text/html",
                body=f"<html><title>Story {i}</title><p>{'Words of a story. ' * 30}</p>".encode())
        for i, url in enumerate(SOURCES)
    ]  # fmt: skip
    with Archive(str(tmp_path / "a.db")) as archive:
        keeper = SourceKeeper(archive, targets=SOURCES, pool_from=len(SOURCES))
        for capture in pages:
            keeper.offer(capture.url, capture)
        kept = keeper.finish({})
    assert opened == [2]
    assert list(kept) == SOURCES
    assert [page.document for page in kept.values()] == [extract_capture(c) for c in pages]
    with Archive(str(tmp_path / "b.db")) as archive:  # fewer: no pool
        SourceKeeper(archive, targets=SOURCES[:3], pool_from=len(SOURCES)).finish({})
        SourceKeeper(archive, targets=SOURCES, pool_from=len(SOURCES)).finish({})  # none came
    assert opened == [2]


@pytest.mark.parametrize("workers", [None, 2])
def test_a_document_extracted_ahead_is_stored_not_extracted_again(
    tmp_path: Path, workers: int | None
) -> None:
    pages = [
        Capture(url=url, final_url=url, status=200, content_type="text/html",
                body=f"<html><title>Story {i}</title><p>{'Words. ' * 40}</p>".encode())
        for i, url in enumerate(SOURCES[:4])
    ]  # fmt: skip
    ahead = replace(extract_capture(pages[1]), title="Extracted ahead")  # type: ignore[type-var]

    def ready(capture: Capture) -> object:
        return ahead if capture.url == SOURCES[1] else None

    with open_executor(workers=workers) as executor, Archive(str(tmp_path / "a.db")) as archive:
        keeper = SourceKeeper(archive, targets=SOURCES, executor=executor if workers else None,
                              ready=ready)  # type: ignore[arg-type]  # fmt: skip
        for capture in pages:
            keeper.offer(capture.url, capture)
        kept = keeper.finish({})
    assert kept[SOURCES[1]].document == ahead
    assert [kept[c.url].document for c in pages if c.url != SOURCES[1]] == [
        extract_capture(c) for c in pages if c.url != SOURCES[1]
    ]
