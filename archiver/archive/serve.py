"""``archiver serve``: the archive in Datasette, read-only, for this machine's browser only.

The Datasette app comes with canned queries (link rot by article, broken links with since-when
and their archived copies, drift over time, captures of a URL, a capture's extracted text) and
is wrapped in a small ASGI guard:

* only the host names the server was bound to are accepted in the ``Host`` header (a page on
  another site cannot reach it through DNS rebinding): anything else is ``400``;
* only ``GET``, ``HEAD`` and ``OPTIONS``: a ``POST`` (``/-/insert``, a form) is ``405``;
* a refused query (a write in ``?sql=``, bad SQL) is logged as one line, never as a traceback
  with the locals of every frame (Datasette prints those when ``rich`` is installed).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import types
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from pathlib import Path
from typing import Any

from archiver.archive.db import Handle
from archiver.errors import InputError

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_PLUGIN_NAME = "archiver_quiet_errors"
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


#: The first failing check of a link since it last answered (``ok``/``redirected``/``moved``).
_SINCE = """(SELECT min(f.checked_at) FROM link_checks f
        WHERE f.url = lc.url AND f.status NOT IN ('ok', 'redirected', 'moved')
        AND f.checked_at > coalesce((SELECT max(u.checked_at) FROM link_checks u
            WHERE u.url = lc.url AND u.status IN ('ok', 'redirected', 'moved')), ''))"""
#: This archive's own capture named in ``archived_url`` (``urn:archiver:capture:N``).
_OWN_ID = """CASE WHEN lc.archived_url LIKE 'urn:archiver:capture:%'
        THEN CAST(substr(lc.archived_url, 22) AS INTEGER) END"""


def canned_queries() -> dict[str, dict[str, str]]:
    """Datasette canned queries: link rot by article, broken links with since-when and their
    archived copies, drift over time, captures of a URL, a capture's extracted text.

    Every URL column holds a full ``http(s)`` URL (Datasette shows those as links): this
    archive's own copy of a page is given by its capture id (open it with ``capture_text``)
    and the URL it was captured from, a web archive's copy by its memento URL.
    """
    return {
        "broken_links": {
            "title": "Broken links, since when, and their archived copies",
            "description": (
                "Every link broken at its latest check: the citing article (with its title), "
                "since when it has failed, and its archived copy: this archive's own capture "
                "(open its text with capture_text) or a web archive's memento."
            ),
            "sql": f"""SELECT lc.source_url AS article,
    (SELECT e.title FROM captures c JOIN extractions e ON e.id = c.extraction_id
        WHERE c.url = lc.source_url OR c.final_url = lc.source_url
        ORDER BY c.fetched_at DESC, c.id DESC LIMIT 1) AS article_title,
    lc.url AS link, lc.text AS link_text, lc.status, lc.http_status,
    {_SINCE} AS broken_since,
    lc.checked_at AS last_checked,
    CASE WHEN lc.archived_url LIKE 'http%' THEN lc.archived_url END AS archived_copy,
    CASE WHEN {_OWN_ID} IS NOT NULL THEN
        'this archive''s capture ' || {_OWN_ID} || ' of ' ||
        coalesce((SELECT fetched_at FROM captures WHERE id = {_OWN_ID}), 'an unknown date')
      WHEN lc.archived_url IS NOT NULL THEN
        coalesce((SELECT a.archive || ' copy of ' || a.memento_datetime FROM archived_copies a
            WHERE a.memento_url = lc.archived_url LIMIT 1), 'web archive copy')
    END AS archived_copy_kind,
    {_OWN_ID} AS own_capture_id,
    (SELECT url FROM captures WHERE id = {_OWN_ID}) AS own_capture_of,
    lc.final_url, lc.detail
FROM latest_link_checks lc WHERE lc.broken
ORDER BY broken_since, article, link""",
        },
        "capture_text": {
            "title": "A capture's extracted text",
            "description": "What the archive extracted from one capture: title, dates, text.",
            "sql": """SELECT c.id AS capture_id, c.url, c.final_url, c.fetched_at, c.status,
    e.profile, e.title, e.subtitle, e.authors, e.published, e.modified, e.checksum, e.text
FROM captures c LEFT JOIN extractions e ON e.id = c.extraction_id
WHERE c.id = :capture_id""",
        },
        "link_rot_by_article": {
            "title": "Link rot by article",
            "description": "For each article, how many of its links were broken at last check.",
            "sql": """SELECT source_url AS article, count(*) AS links,
    sum(broken) AS broken,
    group_concat(CASE WHEN broken THEN url || ' (' || status || ')' END, char(10)) AS broken_links,
    max(checked_at) AS last_checked
FROM latest_link_checks GROUP BY source_url ORDER BY broken DESC, article""",
        },
        "drift_over_time": {
            "title": "Drift over time",
            "description": "Every verification of every canonical copy, newest first.",
            "sql": """SELECT url, canonical_path, verified_at, status,
    round(similarity, 3) AS similarity, checksum_canonical, checksum_live, capture_id
FROM verifications ORDER BY url, verified_at DESC""",
        },
        "captures_of_url": {
            "title": "Captures of one URL",
            "sql": """SELECT id, fetched_at, kind, status, error, body_sha256, size, final_url
FROM captures WHERE url = :url OR final_url = :url ORDER BY fetched_at""",
        },
    }


def datasette_metadata(path: str) -> dict[str, Any]:
    """Metadata that makes Datasette open the archive with the canned queries."""
    name = Path(path).stem
    return {
        "title": "archiver",
        "databases": {name: {"queries": canned_queries()}},
    }


def allowed_hosts(host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The ``Host`` names a server bound to ``host`` answers to (lower case, no port).

    A loopback address also answers to ``localhost`` and the other loopback spellings; a
    wildcard (``0.0.0.0``, ``::``) to this machine's names. ``extra`` adds names (a proxy's).
    """
    names = {host.strip("[]").lower(), *(name.strip("[]").lower() for name in extra)}
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if host.lower() == "localhost" or (address is not None and address.is_loopback):
        names.update(_LOOPBACK_NAMES)
    if address is not None and address.is_unspecified:
        names.update(_LOOPBACK_NAMES)
        names.update({socket.gethostname().lower(), socket.getfqdn().lower()})
    return frozenset(names)


def host_name(value: str) -> str:
    """The name part of a ``Host`` header: ``[::1]:8001`` -> ``::1``, ``a.b:80`` -> ``a.b``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


async def _answer(
    send: Send, status: int, text: str, headers: Iterable[tuple[str, str]] = ()
) -> None:
    body = (text + "\n").encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *((k.encode(), v.encode()) for k, v in headers),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def guard(app: ASGIApp, hosts: frozenset[str]) -> ASGIApp:
    """The ASGI app behind a check of the ``Host`` header and of the method (read only)."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        host = host_name(headers.get(b"host", b"").decode("latin-1"))
        if host not in hosts:
            log.warning("serve: refused a request for host %r (DNS rebinding?)", host[:100])
            await _answer(send, 400, "this server answers only to " + ", ".join(sorted(hosts)))
            return
        if scope["type"] == "http" and scope.get("method", "GET") not in READING_METHODS:
            await _answer(send, 405, "the archive is served read-only", [("allow", "GET, HEAD")])
            return
        await app(scope, receive, send)

    return guarded


def _handle_exception(datasette: Any, request: Any, exception: BaseException) -> Any:
    """Datasette's ``handle_exception`` hook: the answer Datasette would give, one log line."""
    from datasette import Response
    from datasette.utils.asgi import Base400
    from datasette.views.base import DatasetteError

    async def inner() -> Any:
        if isinstance(exception, Base400):
            status, message = exception.status, str(exception.args[0])
        elif isinstance(exception, DatasetteError):
            status, message = exception.status, str(exception.message)
        else:
            status, message = 500, f"{type(exception).__name__}: {exception}"
        log.warning("serve: %s %s: %s", status, request.path, " ".join(message.split())[:300])
        info = {"ok": False, "error": message, "status": status, "title": None}
        if request.path.split("?")[0].endswith(".json"):
            return Response.json(info, status=status)
        return Response.text(f"{status}: {message}", status=status)

    return inner


def _quiet_errors_plugin() -> types.ModuleType:
    """A Datasette plugin (plugins are modules) holding :func:`_handle_exception`."""
    from datasette import hookimpl

    plugin = types.ModuleType(_PLUGIN_NAME)
    plugin.handle_exception = hookimpl(tryfirst=True)(_handle_exception)  # type: ignore[attr-defined]
    return plugin


def datasette_app(path: str) -> Any:
    """A Datasette instance on the archive with the canned queries (the ``serve`` extra).

    Raises ``InputError`` when Datasette is not installed or the archive does not exist.
    """
    if not os.path.isfile(path):
        raise InputError(f"no archive at {path}")
    try:
        from datasette.app import Datasette
        from datasette.plugins import pm
    except ImportError as exc:
        raise InputError("datasette is not installed: pip install 'archiver[serve]'") from exc
    # Open (and migrate) once first, so Datasette sees the current schema and views.
    handle = Handle(path, readonly=True)
    immutable = handle.immutable
    handle.close()
    if pm.get_plugin(_PLUGIN_NAME) is None:
        # Datasette awaits every handle_exception hook; its own prints the traceback with the
        # locals of every frame (through rich, if installed), so ours replaces it.
        default = pm.get_plugin("datasette.handle_exception")
        if default is not None:
            pm.unregister(default)
        pm.register(_quiet_errors_plugin(), name=_PLUGIN_NAME)
    files = {"immutables": [path]} if immutable else {"files": [path]}
    return Datasette(**files, metadata=datasette_metadata(path))


def serve_app(path: str, host: str, *, extra_hosts: Iterable[str] = ()) -> ASGIApp:
    """The guarded ASGI app ``archiver serve`` runs."""
    app: ASGIApp = datasette_app(path).app()
    return guard(app, allowed_hosts(host, extra_hosts))
