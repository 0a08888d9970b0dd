"""robots.txt: fetched once per site, parsed with protego, read the way RFC 9309 says.

* 2xx: the rules apply (``Crawl-delay`` for our product token slows the host down);
* 4xx but 429 (404, 410, 403, ...): "unavailable", so everything is allowed;
* 5xx, or 429 still after ``Retry-After``: "unreachable", so everything is disallowed, as RFC
  9309 asks (and as Google reads a 429);
* no answer at all (refused, timeout, no DNS): *no verdict*. The fetcher reports the network
  failure for the page itself, so a dead host shows as ``connection_error``/``dns_error`` and
  never as ``robots_disallowed``, which is what link checkers such as LinkChecker do.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

from archiver.models import Capture

log = logging.getLogger(__name__)

MAX_ROBOTS_BYTES = 512 * 1024  # RFC 9309: crawlers must parse at least 500 KiB


@dataclass(frozen=True, kw_only=True)
class RobotsVerdict:
    """Whether one URL may be fetched, and why."""

    allowed: bool
    error: str | None = None  # a network error word when robots.txt got no answer at all
    detail: str = ""
    crawl_delay: float | None = None


@dataclass(frozen=True, kw_only=True)
class RobotsRules:
    """What one site's robots.txt says, reduced to what the fetcher needs."""

    parser: Protego | None  # None: a blanket rule (see ``allow_all``)
    allow_all: bool
    reason: str

    def verdict(self, url: str, token: str) -> RobotsVerdict:
        if self.parser is None:
            return RobotsVerdict(allowed=self.allow_all, detail=self.reason)
        allowed = bool(self.parser.can_fetch(url, token))
        delay = self.parser.crawl_delay(token)
        return RobotsVerdict(
            allowed=allowed,
            detail="" if allowed else f"robots.txt disallows {token} here",
            crawl_delay=float(delay) if delay is not None else None,
        )


def robots_url(url: str) -> str:
    """The robots.txt URL for the site of ``url`` (scheme, host and port kept)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


def product_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched against (``archiver`` of ``archiver/1``)."""
    return user_agent.split("/", 1)[0].split()[0].strip() or user_agent


def rules_from_capture(capture: Capture) -> RobotsRules | None:
    """Read a robots.txt capture the RFC 9309 way; None when nothing answered (no verdict)."""
    if capture.error is not None and capture.status is None:
        if capture.error in {"redirect_loop", "too_many_redirects"}:
            return RobotsRules(parser=None, allow_all=True, reason="robots.txt redirects loop")
        if capture.error == "robots_disallowed":  # cannot happen: robots.txt is never checked
            return RobotsRules(parser=None, allow_all=True, reason="")
        return None
    status = capture.status or 0
    if 200 <= status < 300:
        text = capture.body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
        return RobotsRules(parser=Protego.parse(text), allow_all=True, reason="")
    if 400 <= status < 500 and status != 429:
        return RobotsRules(parser=None, allow_all=True, reason=f"robots.txt {status}")
    return RobotsRules(
        parser=None,
        allow_all=False,
        reason=f"robots.txt answered {status}; RFC 9309 treats the site as fully disallowed",
    )


#: A robots.txt that got no answer is asked again after this many seconds, not sooner: the
#: links of a dead host (or one a read-ahead found dead a moment before) do not each wait out
#: another timeout for it.
NO_ANSWER_TTL = 30.0
#: Sites whose robots.txt one read-ahead asks for, at most (a page links to a few dozen).
AHEAD_SITES = 64

_ABSOLUTE_HREF = re.compile(rb"""<a\s[^>]*?\bhref\s*=\s*["']?(https?://[^/"'\s>?#]+)""", re.I)


def sites_linked(body: bytes, *, limit: int = AHEAD_SITES) -> list[str]:
    """The sites (``scheme://host:port/``) a page's absolute links name, in the order they
    first appear, at most ``limit``: a cheap scan of the bytes, no parse."""
    sites: dict[str, None] = {}
    for match in _ABSOLUTE_HREF.finditer(body):
        sites[match.group(1).decode("ascii", "replace").lower() + "/"] = None
        if len(sites) >= limit:
            break
    return list(sites)


class RobotsCache:
    """One robots.txt per site for the life of a fetcher, fetched by whichever thread asks first.

    ``fetch_robots`` is the fetcher's own request path (politeness and routes included) with
    robots checking turned off for that one request. A robots.txt that got no answer gives
    every URL of its site the same "no verdict" for :data:`NO_ANSWER_TTL` seconds, then is
    asked again.
    """

    def __init__(
        self,
        fetch_robots: Callable[[str], Capture],
        user_agent: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch_robots
        self._token = product_token(user_agent)
        self._clock = clock
        self._lock = threading.Lock()
        self._site_locks: dict[str, threading.Lock] = {}
        self._rules: dict[str, RobotsRules] = {}
        self._no_answer: dict[str, tuple[float, RobotsVerdict]] = {}

    def asked(self, url: str) -> bool:
        """Whether the robots.txt of ``url``'s site was asked for already (or is being asked)."""
        with self._lock:
            return robots_url(url) in self._site_locks

    def check(self, url: str) -> RobotsVerdict:
        site = robots_url(url)
        with self._lock:
            site_lock = self._site_locks.setdefault(site, threading.Lock())
        with site_lock:
            rules = self._rules.get(site)
            if rules is None:
                remembered = self._no_answer.get(site)
                if remembered is not None and self._clock() - remembered[0] < NO_ANSWER_TTL:
                    return remembered[1]
                capture = self._fetch(site)
                rules = rules_from_capture(capture)
                if rules is None:
                    log.info("robots.txt unreachable at %s: %s", site, capture.error)
                    verdict = RobotsVerdict(
                        allowed=False,
                        error=capture.error,
                        detail=f"robots.txt got no answer: {capture.detail}",
                    )
                    self._no_answer[site] = (self._clock(), verdict)
                    return verdict
                self._no_answer.pop(site, None)
                self._rules[site] = rules
        return rules.verdict(url, self._token)
