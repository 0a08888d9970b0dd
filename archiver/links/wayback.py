"""An archived copy for a broken link: the Wayback Machine's availability API, then its CDX API.

A reader who meets a dead link wants the page as the author saw it, so the lookup asks for the
capture *nearest the citing article's publication date* that answered 200. The availability API
is one cheap request that usually says so; when its nearest capture is not a 200 (a redirect or
an error page was archived) the CDX API is asked for the nearest capture filtered on status 200.

An unreachable archive never fails a link check: every failure (timeout, refused connection, 5xx,
malformed JSON) is logged and gives "no archived copy known", and after the archive has failed to
answer once it is not asked again in the same run, so a machine without a network pays for one
timeout, not one per broken link. The base URL and the ``requests`` session are passed in, so
tests (``responses``) and the offline demo never reach archive.org.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import requests

from archiver import __version__
from archiver.errors import InputError
from archiver.fetch.urls import is_web_url
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
    """

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
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
        self._own_session = session is None
        self.session = session or requests.Session()
        self.timeout = timeout
        self.user_agent = user_agent
        self.min_interval = min_interval
        self._last_request: float | None = None
        self.unreachable: str | None = None  # why the archive stopped being asked, if it did
        self.requests = 0
        self._cache: dict[tuple[str, str | None], str | None] = {}

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> Wayback:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get_json(self, url: str, params: dict[str, str]) -> Any:
        """The decoded JSON answer, or None (and, if nothing answered, stop asking this run)."""
        if self.unreachable:
            return None
        if self._last_request is not None:
            wait = self._last_request + self.min_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        self._last_request = time.monotonic()
        self.requests += 1
        try:
            response = self.session.get(
                url,
                params=params,
                timeout=self.timeout,
                headers={"User-Agent": self.user_agent, "Accept": "application/json"},
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            self.unreachable = f"{type(exc).__name__}: {str(exc)[:200]}"
            log.warning("Wayback Machine unreachable, no more lookups this run: %s", exc)
            return None
        except requests.RequestException as exc:
            log.warning("Wayback lookup failed: %s", exc)
            return None
        with response:
            if response.status_code == 429:
                self.unreachable = "the Wayback Machine asked us to slow down (HTTP 429)"
                log.warning("%s; no more lookups this run", self.unreachable)
                return None
            if response.status_code != 200:
                log.warning("Wayback lookup %s answered HTTP %s", url, response.status_code)
                return None
            try:
                return response.json()
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
