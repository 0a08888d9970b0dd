"""The Wayback Machine client, against `responses`: never the real archive.org."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from archiver.links.wayback import (
    AVAILABILITY_URL,
    CDX_URL,
    Wayback,
    wayback_timestamp,
    with_archived_copies,
)
from archiver.models import LinkCheck

DEAD = "https://www.occrp.org/en/panamapapers/profiles/sergei-roldugin"
SNAP = "http://web.archive.org/web/20170401000000/" + DEAD


def available(status: str = "200", url: str = SNAP) -> dict[str, object]:
    return {
        "url": DEAD,
        "archived_snapshots": {
            "closest": {
                "available": True,
                "url": url,
                "timestamp": "20170401000000",
                "status": status,
            }
        },
    }


def query(call: responses.Call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url or "").query)


@responses.activate
def test_availability_answer_nearest_the_publication_date() -> None:
    responses.add(responses.GET, AVAILABILITY_URL, json=available())
    with Wayback(min_interval=0) as wayback:
        assert wayback.lookup(DEAD + "#section", "2017-03-30T10:15:00Z") == SNAP
    sent = query(responses.calls[0])
    assert sent["url"] == [DEAD]
    assert sent["timestamp"] == ["20170330101500"]


@responses.activate
def test_cdx_when_the_nearest_capture_is_not_a_200() -> None:
    responses.add(responses.GET, AVAILABILITY_URL, json=available(status="302"))
    rows = [["timestamp", "original", "statuscode"], ["20170328093000", DEAD, "200"]]
    responses.add(responses.GET, CDX_URL, json=rows)
    with Wayback(min_interval=0) as wayback:
        found = wayback.lookup(DEAD, "2017-03-30")
    assert found == f"https://web.archive.org/web/20170328093000/{DEAD}"
    sent = query(responses.calls[1])
    assert sent["filter"] == ["statuscode:200"]
    assert sent["closest"] == ["20170330"] and sent["sort"] == ["closest"]


@responses.activate
def test_nothing_archived() -> None:
    responses.add(responses.GET, AVAILABILITY_URL, json={"archived_snapshots": {}})
    responses.add(responses.GET, CDX_URL, json=[])
    with Wayback(min_interval=0) as wayback:
        assert wayback.lookup(DEAD, None) is None
        assert wayback.lookup(DEAD, None) is None  # cached: asked once
    assert len(responses.calls) == 2


@pytest.mark.parametrize(
    "answer",
    [
        {"body": "<html>not json</html>", "status": 200},
        {"body": "{}", "status": 503},
        {"json": {"archived_snapshots": {"closest": {"status": "200", "url": "javascript:x"}}}},
        {"json": [["20170101000000", "ftp://x", "200"]]},
        {"json": "a string"},
    ],
)
@responses.activate
def test_bad_answers_give_no_copy_and_never_raise(answer: dict[str, object]) -> None:
    responses.add(responses.GET, AVAILABILITY_URL, **answer)  # type: ignore[arg-type]
    responses.add(responses.GET, CDX_URL, **answer)  # type: ignore[arg-type]
    with Wayback(min_interval=0) as wayback:
        assert wayback.lookup(DEAD, "2017-03-30") is None


@responses.activate
def test_unreachable_archive_is_asked_once_per_run_and_never_fails_the_check() -> None:
    responses.add(responses.GET, AVAILABILITY_URL, body=requests.ConnectTimeout("timed out"))
    checks = [
        LinkCheck(url=f"{DEAD}/{n}", text=str(n), status="not_found", broken=True) for n in range(5)
    ]
    started = time.monotonic()
    with Wayback(timeout=0.5, min_interval=0) as wayback:
        out = with_archived_copies(checks, wayback, "2017-03-30")
        assert wayback.unreachable
    assert time.monotonic() - started < 2
    assert [c.archived_url for c in out] == [None] * 5
    assert len(responses.calls) == 1  # not once per broken link


@responses.activate
def test_only_broken_links_are_looked_up_and_base_url_is_honoured() -> None:
    base = "http://wayback.test"
    responses.add(responses.GET, f"{base}/wayback/available", json=available(url=f"{base}/web/1/x"))
    checks = [
        LinkCheck(url=DEAD, text="dead", status="gone", broken=True),
        LinkCheck(url="https://ok.example/", text="ok", status="ok", broken=False),
        LinkCheck(url="https://slow.example/", text="s", status="timeout", broken=False),
        LinkCheck(url="#", text="p", status="placeholder", broken=True),
    ]
    with Wayback(base_url=base, min_interval=0) as wayback:
        out = with_archived_copies(checks, wayback)
    assert [c.archived_url for c in out] == [f"{base}/web/1/x", None, None, None]
    assert len(responses.calls) == 1
    assert json.loads(json.dumps(out[0].to_json()))["archived_url"] == f"{base}/web/1/x"


@pytest.mark.parametrize(
    ("date", "stamp"),
    [
        ("2017-03-30", "20170330"),
        ("2017-03-30T10:15:00+03:00", "20170330101500"),
        ("2017-03-30T10:15:00Z", "20170330101500"),
        (None, None),
        ("yesterday", None),
    ],
)
def test_wayback_timestamp(date: str | None, stamp: str | None) -> None:
    assert wayback_timestamp(date) == stamp


@responses.activate
def test_paced_and_stops_when_asked_to_slow_down() -> None:
    responses.add(responses.GET, AVAILABILITY_URL, json={"archived_snapshots": {}})
    responses.add(responses.GET, CDX_URL, status=429)
    started = time.monotonic()
    with Wayback(min_interval=0.2) as wayback:
        assert wayback.lookup(DEAD, None) is None
        assert wayback.lookup(DEAD + "/other", None) is None
        assert wayback.unreachable and "429" in wayback.unreachable
    assert len(responses.calls) == 2  # after the 429, nothing more this run
    assert time.monotonic() - started >= 0.2  # the second request waited its turn


def test_lookups_go_through_the_jobs_fetcher_and_its_routes() -> None:
    """One house: with the job's fetcher, the lookup takes its --connect-to routes, robots.txt
    and politeness; no request of its own."""
    from archiver.fetch.fetcher import Fetcher
    from tests.conftest import FAST_POLICY
    from tests.linkrot_web import Answer, LinkWeb

    answer = Answer(body=json.dumps(available()), content_type="application/json")
    with (
        LinkWeb({}, fallback={"archive.org": answer}, address="127.0.0.14") as web,
        Fetcher(FAST_POLICY, routes=web.routes) as fetcher,
    ):
        wayback = Wayback(fetcher=fetcher, min_interval=0)
        assert wayback.lookup(DEAD, "2017-03-30T10:15:00Z") == SNAP
        wayback.close()  # the job's fetcher is the job's to close
        assert fetcher.fetch_many(["http://archive.org/robots.txt"])[0].status == 200
    paths = [path for _, host, path in web.requests if host == "archive.org"]
    assert paths[0] == "/robots.txt"
    assert paths[1].startswith("/wayback/available?url=https%3A%2F%2Fwww.occrp.org")
    assert "timestamp=20170330101500" in paths[1]
