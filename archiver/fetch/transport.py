"""The wire: a requests session whose connections a watchdog can cut, and what went wrong, in
the contract's words and in plain words.

requests' read timeout is per socket read, so a server that drips its status line and headers
one byte at a time would hold a worker for hours. Each connection registers itself with the
:class:`Watch` of its thread when it sends a request; if the deadline passes before the headers
are in, the :class:`Watchdog` shuts the socket down and the blocked read returns. The same
shutdown ends every request at once when the fetcher is stopped (a signal).

Errors are named twice: :func:`classify` gives the contract's word (``dns_error`` only for a
name that does not exist; a resolver that cannot answer is ``connection_error``, a suspect), and
:func:`describe` the detail a person reads ("connection refused by example.org:443"), never a
Python class name.
"""

from __future__ import annotations

import heapq
import ipaddress
import math
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import requests.adapters
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
NO_PROXY: dict[str, str | None] = {"http": None, "https": None, "all": None}

_LOCAL = threading.local()


class Watch:
    """A total deadline for the part of a request that requests cannot bound: the headers."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self._lock = threading.RLock()  # fire() may run in a signal handler (Fetcher.stop)
        self._conn: Any = None
        self._done = False
        self.fired = False
        _LOCAL.watch = self

    def __lt__(self, other: Watch) -> bool:
        return self.deadline < other.deadline

    def attach(self, conn: Any) -> None:
        with self._lock:
            self._conn = conn

    def fire(self) -> None:
        with self._lock:
            sock = getattr(self._conn, "sock", None)
            if self._done or sock is None:
                return  # still connecting: the connect timeout bounds that part
            self.fired = True
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> bool:
        """Stand down; True if the deadline had already passed."""
        with self._lock:
            self._done = True
            _LOCAL.watch = None
            return self.fired


class Watchdog:
    """One thread that fires every :class:`Watch` whose deadline has passed.

    One thread for the whole fetcher rather than a timer per request: a timer thread costs about
    half a millisecond to start, which a fast run would notice.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[Watch] = []
        self._thread: threading.Thread | None = None
        self._closed = False

    def watch(self, seconds: float) -> Watch:
        if not math.isfinite(seconds):
            raise ValueError(f"a watch needs a finite number of seconds, not {seconds!r}")
        watch = Watch(time.monotonic() + seconds)
        with self._cond:
            if self._closed:
                return watch
            heapq.heappush(self._heap, watch)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="archiver-watchdog", daemon=True
                )
                self._thread.start()
            elif self._heap[0] is watch:
                self._cond.notify()
        return watch

    def fire_all(self) -> None:
        """Cut every request being watched now (the fetcher is being stopped)."""
        with self._cond:
            watches = list(self._heap)
        for watch in watches:
            watch.fire()

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                while self._heap and self._heap[0].deadline <= now:
                    heapq.heappop(self._heap).fire()
                wait = self._heap[0].deadline - now if self._heap else None
                self._cond.wait(wait)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)


def _attach_to_watch(conn: Any) -> None:
    watch = getattr(_LOCAL, "watch", None)
    if watch is not None:
        watch.attach(conn)


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach_to_watch(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach_to_watch(self)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(requests.adapters.HTTPAdapter):
    """An adapter whose connections report to the request's :class:`Watch`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }


class _ManualRedirectSession(requests.Session):
    """A session that never looks at ``Location`` itself: the fetcher follows redirects by hand.

    Even with ``allow_redirects=False`` requests parses the Location of every 3xx to prepare the
    next hop, and a malformed one raises before the fetcher sees the response.
    """

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        return None


def watched_session(max_connections: int) -> requests.Session:
    """A session for one fetcher: redirects left to it, connections reporting to watches."""
    session = _ManualRedirectSession()
    adapter = _WatchedAdapter(
        pool_connections=max_connections, pool_maxsize=max_connections, max_retries=0
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def route(
    url: str, host: str, routes: Mapping[str, str]
) -> tuple[str, dict[str, str], dict[str, str | None] | None]:
    """Where a request for logical ``url`` (whose host, in its one spelling, is ``host``) is
    really sent, the extra headers that keeps it ``url``'s (Host), and the proxies to use."""
    target = routes.get(host)
    if target is None:
        return url, {}, (NO_PROXY if is_loopback(host) else None)
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port is not None else ""
    shown = f"[{host}]" if ":" in host else host
    sent = urlunsplit(("http", target, parts.path or "/", parts.query, ""))
    return sent, {"Host": shown + port}, NO_PROXY


def raw_headers(response: requests.Response) -> tuple[tuple[str, str], ...]:
    """Response headers in the order and spelling received, repeated ones kept apart."""
    original = getattr(response.raw, "_original_response", None)
    message = getattr(original, "msg", None)
    if message is not None:
        return tuple((str(k), str(v)) for k, v in message.items())
    return tuple((str(k), str(v)) for k, v in response.headers.items())


# -- what went wrong ---------------------------------------------------------------------------


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception it wraps (args, ``reason``, cause, context), outermost first."""
    found: list[BaseException] = []
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        found.append(current)
        for inner in (
            *(a for a in current.args if isinstance(a, BaseException)),
            getattr(current, "reason", None),
            getattr(current, "_reason", None),
            current.__cause__,
            current.__context__,
        ):
            if isinstance(inner, BaseException):
                todo.append(inner)
    return found


def _gaierror(exc: BaseException) -> socket.gaierror | None:
    return next((e for e in _chain(exc) if isinstance(e, socket.gaierror)), None)


def _name_missing(error: socket.gaierror) -> bool:
    """Whether the resolver said the name does not exist (NXDOMAIN), not that it failed."""
    return error.errno == socket.EAI_NONAME


def classify(exc: BaseException) -> str:
    """The contract's error word for an exception raised while sending a request.

    ``dns_error`` (broken) is kept for a name that definitely does not exist: the resolver
    answered NXDOMAIN (``EAI_NONAME``, "Name or service not known"). A resolver that could not
    answer (``EAI_AGAIN``, "Temporary failure in name resolution", what a SERVFAIL or an absent
    network gives) is ``connection_error``, a suspect: it says nothing about the link.
    """
    if isinstance(exc, requests.exceptions.SSLError):
        return "tls_error"
    if isinstance(exc, requests.exceptions.Timeout):
        return "timeout"
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.URLRequired):
        return "invalid"
    if isinstance(exc, requests.exceptions.MissingSchema | requests.exceptions.InvalidSchema):
        return "invalid"
    chain = _chain(exc)
    for current in chain:
        if isinstance(current, socket.gaierror):
            return "dns_error" if _name_missing(current) else "connection_error"
        if isinstance(current, urllib3.exceptions.NameResolutionError):
            gai = _gaierror(current)
            return "dns_error" if gai is not None and _name_missing(gai) else "connection_error"
        if isinstance(current, urllib3.exceptions.SSLError | ssl.SSLError):
            return "tls_error"
    return "connection_error"


def describe(exc: BaseException, *, host: str, port: int | None, waited: float) -> str:
    """What went wrong, in words a person reads: no Python class names, no object reprs."""
    where = f"{host}:{port}" if port else host
    chain = _chain(exc)
    gai = _gaierror(exc)
    if gai is not None or any(isinstance(e, urllib3.exceptions.NameResolutionError) for e in chain):
        if gai is not None and _name_missing(gai):
            return f"no such host: {host} (the name does not exist)"
        reason = (gai.strerror or "the resolver did not answer") if gai else "resolver failure"
        return f"could not resolve {host}: {reason.lower()} (a resolver problem, not a verdict)"
    for current in chain:
        if isinstance(current, ConnectionRefusedError):
            return f"connection refused by {where}"
        if isinstance(current, ConnectionResetError):
            return f"connection reset by {where}"
        if isinstance(current, ConnectionAbortedError | BrokenPipeError):
            return f"connection to {where} closed while sending the request"
        if isinstance(
            current, urllib3.exceptions.ProtocolError | requests.exceptions.ChunkedEncodingError
        ):
            words = _words(current)
            if "RemoteDisconnected" in str(current) or "closed connection" in str(current):
                return f"{where} closed the connection without answering"
            if words:
                return f"{where}: {words}"
    if isinstance(exc, requests.exceptions.ConnectTimeout) or any(
        isinstance(e, urllib3.exceptions.ConnectTimeoutError)
        and not isinstance(e, urllib3.exceptions.NewConnectionError)
        for e in chain
    ):
        return f"timed out after {waited:.1f} s connecting to {where}"
    if isinstance(exc, requests.exceptions.Timeout) or any(
        isinstance(e, urllib3.exceptions.ReadTimeoutError | TimeoutError) for e in chain
    ):
        return f"timed out after {waited:.1f} s reading {host} (it accepted the connection)"
    for current in chain:
        if isinstance(current, ssl.SSLCertVerificationError):
            return f"TLS with {where} failed: {current.verify_message or 'certificate not trusted'}"
        if isinstance(current, ssl.SSLError):
            return f"TLS with {where} failed: {(current.reason or 'handshake failed').lower()}"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS with {where} failed: {_words(exc) or 'handshake failed'}"
    for current in chain:
        if isinstance(current, OSError) and current.strerror:
            return f"cannot reach {where}: {current.strerror.lower()}"
    if isinstance(exc, ValueError) and not isinstance(exc, requests.RequestException):
        return f"not a well-formed URL: {_words(exc)}"
    return f"the request to {where} failed" + (f": {_words(exc)}" if _words(exc) else "")


def _words(exc: BaseException) -> str:
    """The first line of an exception's text, if it reads as words rather than as Python."""
    lines = str(exc).strip().splitlines()
    text = lines[0][:300] if lines else ""
    if not text or "(" in text and ("=" in text or "object at" in text) or "Error" in text:
        return ""
    return text
