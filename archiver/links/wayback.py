"""An archived copy for a broken link: the Wayback Machine's availability API, then its CDX API.

A reader who meets a dead link wants the page as the author saw it, so the lookup asks for the
capture *nearest the citing article's publication date* that answered 200. The availability API
is one cheap request that usually says so; when its nearest capture is not a 200 (a redirect or
an error page was archived) the CDX API is asked for the nearest capture filtered on status 200.

An unreachable archive never fails a link check: every failure (timeout, refused connection, 5xx,
malformed JSON) is logged and gives "no archived copy known", and after the archive has failed to
answer once it is not asked again in the same run, so a machine without a network pays for one
timeout, not one per broken link.

Every request goes through a :class:`~archiver.fetch.fetcher.Fetcher` (issue "One house"): pass
the job's own (``fetcher=``: its politeness, robots.txt, ``--connect-to``, offline honesty); with
none, the client makes a fetcher of its own paced at ``min_interval`` (no retries, and it does
not ask robots.txt of an API endpoint). This is the Internet Archive's own API; every archive
through Memento is :mod:`archiver.links.memento`, and the one entry point for broken links is
:func:`archiver.links.rescue.rescue`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from archiver import __version__
from archiver.errors import InputError
from archiver.fetch.fetcher import Fetcher
from archiver.fetch.policy import RANGES, FetchPolicy
from archiver.fetch.urls import host_of, is_web_url
from archiver.links.check import Fetches
from archiver.models import LinkCheck

log = logging.getLogger(__name__)

AVAILABILITY_URL = "https://archive.org/wayback/available"
CDX_URL = "https://web.archive.org/cdx/search/cdx"
SNAPSHOT_BASE = "https://web.archive.org/web"
DEFAULT_TIMEOUT = 5.0
#: Seconds between two requests to the archive: its APIs are shared and rate-limited.
DEFAULT_INTERVAL = 1.0
_TIMESTAMP = re.compile(r"^\d{4,14}$")
_USER_AGENT = f"archiver/{__version__} (archival verification bot; wayback lookup)"


def wayback_timestamp(date: str | None) -> str | None:
    """``2017-03-30T10:00:00Z`` (or any ISO 8601 start) to the Wayback form ``20170330100000``."""
    if not date:
        return None
    digits = re.sub(r"\D", "", date.split("+")[0])[:14]
    return digits if len(digits) >= 4 and _TIMESTAMP.match(digits) else None


def _http_url(value: Any) -> str | None:
    """The value if it is an http(s) URL we may show a reader, else None (answers are untrusted)."""
    return value if isinstance(value, str) and is_web_url(value) else None


class Wayback:
    """Looks up archived copies; never raises for the archive's failures.

    ``base_url`` points all three endpoints at a stand-in (``{base}/wayback/available``,
    ``{base}/cdx/search/cdx``, ``{base}/web/...``), as the CLI's ``--wayback-url`` does.
    ``fetcher`` is the job's fetcher; without one the client makes its own (see the module).
    ``session`` (tests) is the requests session that own fetcher sends through.
    """

    def __init__(
        self,
        *,
        fetcher: Fetches | None = None,
        session: Any = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        user_agent: str = _USER_AGENT,
        min_interval: float = DEFAULT_INTERVAL,
    ) -> None:
        if base_url is not None and _http_url(base_url) is None:
            raise InputError(f"the Wayback URL must be an http(s) URL, not {base_url[:200]!r}")
        base = base_url.rstrip("/") if base_url else None
        self.availability_url = f"{base}/wayback/available" if base else AVAILABILITY_URL
        self.cdx_url = f"{base}/cdx/search/cdx" if base else CDX_URL
        self.snapshot_base = f"{base}/web" if base else SNAPSHOT_BASE
        self._own: Fetcher | None = None
        if fetcher is None:
            fastest = RANGES["per_host_rate"].high
            policy = FetchPolicy(
                user_agent=user_agent,
                timeout=timeout,
                connect_timeout=min(timeout, 10.0),
                read_timeout=min(timeout, 15.0),
                per_host_rate=min(1.0 / min_interval, fastest) if min_interval > 0 else fastest,
                retries=0,
                respect_robots=False,
            )
            self._own = Fetcher(policy, session=session)
            fetcher = self._own
        self.fetcher: Fetches = fetcher
        self.timeout = timeout
        self.min_interval = min_interval
        # archive.org and web.archive.org are one service: they share one pace (the fetcher's
        # host gate holds both after each request; no sleeping here).
        self._hosts = sorted({host_of(self.availability_url), host_of(self.cdx_url)})
        self.unreachable: str | None = None  # why the archive stopped being asked, if it did
        self.requests = 0
        self._cache: dict[tuple[str, str | None], str | None] = {}

    def close(self) -> None:
        if self._own is not None:
            self._own.close()

    def __enter__(self) -> Wayback:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get_json(self, url: str, params: dict[str, str]) -> Any:
        """The decoded JSON answer, or None (and, if nothing answered, stop asking this run)."""
        if self.unreachable:
            return None
        self.requests += 1
        (capture,) = self.fetcher.fetch_many([f"{url}?{urlencode(params)}"])
        gate = getattr(self.fetcher, "gate", None)
        if gate is not None and self.min_interval > 0:
            for host in self._hosts:
                gate.defer(host, self.min_interval)
        if capture.error in ("timeout", "connection_error", "dns_error", "tls_error"):
            self.unreachable = f"{capture.error}: {capture.detail[:200]}"
            log.warning("Wayback Machine unreachable, no more lookups this run: %s", capture.detail)
            return None
        if capture.status == 429:
            self.unreachable = "the Wayback Machine asked us to slow down (HTTP 429)"
            log.warning("%s; no more lookups this run", self.unreachable)
            return None
        if capture.error is not None or capture.status != 200:
            log.warning("Wayback lookup %s answered %s", url, capture.error or capture.status)
            return None
        try:
            return json.loads(capture.body.decode("utf-8", "replace"))
        except ValueError as exc:
            log.warning("Wayback lookup %s: not JSON (%s)", url, exc)
            return None

    def available(self, url: str, timestamp: str | None) -> str | None:
        """The availability API's nearest capture, if it answered 200."""
        params = {"url": url}
        if timestamp:
            params["timestamp"] = timestamp
        data = self._get_json(self.availability_url, params)
        closest = (
            data.get("archived_snapshots", {}).get("closest") if isinstance(data, dict) else None
        )
        if not isinstance(closest, dict) or closest.get("available") is False:
            return None
        if str(closest.get("status", "")) != "200":
            return None
        return _http_url(closest.get("url"))

    def cdx(self, url: str, timestamp: str | None) -> str | None:
        """The CDX API's capture nearest ``timestamp`` that answered 200."""
        params = {
            "url": url,
            "output": "json",
            "fl": "timestamp,original,statuscode",
            "filter": "statuscode:200",
            "limit": "1",
        }
        if timestamp:
            params.update(closest=timestamp, sort="closest")
        else:
            params["limit"] = "-1"  # the newest capture
        rows = self._get_json(self.cdx_url, params)
        if not isinstance(rows, list):
            return None
        for row in rows:
            if not isinstance(row, list) or len(row) < 3 or row[0] == "timestamp":
                continue  # the header row
            stamp, original, status = (str(cell) for cell in row[:3])
            if status == "200" and _TIMESTAMP.match(stamp) and _http_url(original):
                return f"{self.snapshot_base}/{stamp}/{original}"
        return None

    def lookup(self, url: str, published: str | None = None) -> str | None:
        """The archived copy of ``url`` nearest ``published`` (ISO date), or None."""
        url = url.split("#", 1)[0]  # the archive keeps pages, not places in them
        timestamp = wayback_timestamp(published)
        key = (url, timestamp)
        if key not in self._cache:
            found = self.available(url, timestamp) or self.cdx(url, timestamp)
            if found is not None or not self.unreachable:
                self._cache[key] = found
            return found
        return self._cache[key]


def with_archived_copies(
    checks: Sequence[LinkCheck], wayback: Wayback | None, published: str | None = None
) -> list[LinkCheck]:
    """Give every broken link that has none an ``archived_url`` (order kept; never raises)."""
    if wayback is None:
        return list(checks)
    out = []
    for check in checks:
        if check.broken and not check.archived_url and _http_url(check.url):
            found = wayback.lookup(check.url, published)
            if found:
                check = replace(check, archived_url=found)
        out.append(check)
    return out
