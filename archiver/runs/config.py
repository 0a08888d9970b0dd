"""The config of a scheduled run: one TOML file, validated before anything is fetched.

A cron job reads nobody's terminal, so a mistake must stop the run at once with a message that
names the file and the line (``archive.toml:12: ...``), and exit 2. TOML syntax errors carry
their line from :mod:`tomllib`; for mistakes of meaning (an unknown key, a negative interval)
the line of the key is found again in the text, since ``tomllib`` keeps no positions.

Paths in the config are relative to the config file's folder, so the same file works from cron
(whose working directory is ``$HOME``) and from a shell in the project.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from archiver.errors import ConfigError, InputError
from archiver.evidence.settings import EvidenceSettings
from archiver.fetch.policy import RANGES, FetchPolicy, Range, parse_routes, policy_from_options
from archiver.fetch.urls import check_url

MAX_CONFIG_BYTES = 1024 * 1024
SOURCE_KINDS = ("canonical", "urls", "feed", "sitemap")
NOTIFY_EVENTS = frozenset({"broken", "drift", "error"})
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d{1,12}(?:\.\d{1,12})?)\s*([smhdw]?)\s*$")
#: The longest interval a schedule may name: ten years.
MAX_DURATION = 3650 * 86400.0
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"']+)\s*=")


@dataclass(frozen=True, kw_only=True)
class Source:
    """One entry of ``[[sources]]``: where the items of a run come from.

    ``kind`` is ``canonical`` (a folder or glob of canonical copies), ``urls`` (a list inline, or
    a file with one URL a line), ``feed`` (RSS/Atom) or ``sitemap`` (urlset or sitemap index);
    ``value`` a path, a URL, or (``urls``) a tuple of URLs. ``limit`` caps the items taken.
    """

    kind: str
    value: str | tuple[str, ...]
    limit: int | None = None
    follow_links: bool = True
    line: int | None = None

    def describe(self) -> str:
        shown = self.value if isinstance(self.value, str) else f"{len(self.value)} URLs"
        return f"{self.kind} {shown}"


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """Recheck intervals, in seconds: recent articles often, old ones rarely; links by state.

    An article is recent when it was published less than ``recent_days`` ago (or its date is
    unknown). A link that answered is checked every ``links_live_every``; a suspect (timeout,
    5xx, 403, 429) every ``links_suspect_every``, so the days of evidence the contract asks
    for before calling it broken pile up; a broken one only every ``links_broken_every``.
    """

    recent_days: float = 30.0
    recent_every: float = 6 * 3600.0
    old_every: float = 30 * 86400.0
    links_live_every: float = 7 * 86400.0
    links_suspect_every: float = 86400.0
    links_broken_every: float = 30 * 86400.0


@dataclass(frozen=True, kw_only=True)
class Notify:
    """Where to say that something new broke or drifted; nothing is sent when both are unset."""

    webhook: str | None = None
    email_to: tuple[str, ...] = ()
    email_from: str = "archiver@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    on: frozenset[str] = frozenset({"broken", "drift"})
    timeout: float = 10.0


@dataclass(frozen=True, kw_only=True)
class Cluster:
    """Where a run's pure work (extracting pages and sources, comparing) runs.

    ``scheduler``: a Dask scheduler's address (``tcp://host:8786``), which wins over
    ``workers``. ``workers``: 1 keeps the work in the run's process, N > 1 a pool of N
    processes, 0 one per CPU. Unset (the default) is one per CPU, pooled only when the run
    has at least :data:`POOL_FROM` items due: a pool costs 0.2-0.7 s to start on 2 cores,
    and a page costs 3-10 ms to extract, so a run of a few items is faster without one.
    """

    scheduler: str | None = None
    workers: int | None = None


#: The fewest due items for which a run starts a pool of its own accord (``workers`` unset).
POOL_FROM = 64
#: The most worker processes a config or ``--workers`` may ask for.
MAX_WORKERS = 256
_SCHEDULER = re.compile(r"^(?:[a-z][a-z0-9+]*://)?[^\s/:]+:\d{1,5}/?$")


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """Everything one ``archiver run`` needs, checked."""

    path: str
    db: str | None = None
    policy: FetchPolicy = field(default_factory=FetchPolicy)
    routes: dict[str, str] = field(default_factory=dict)
    schedule: Schedule = field(default_factory=Schedule)
    sources: tuple[Source, ...] = ()
    notify: Notify = field(default_factory=Notify)
    max_items: int | None = None
    batch: int = 64  # items whose pages and links are fetched together, concurrently
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)
    cluster: Cluster = field(default_factory=Cluster)

    @property
    def base(self) -> Path:
        """The folder relative paths in the config are taken from."""
        return Path(self.path).resolve().parent

    def db_path(self) -> str | None:
        """The archive the config names, relative to the config's folder; None if unnamed."""
        if self.db is None:
            return None
        path = Path(self.db).expanduser()
        return os.path.normpath(path if path.is_absolute() else self.base / path)


def parse_duration(value: Any) -> float:
    """``"6h"``, ``"30d"``, ``"90m"``, ``"2w"``, ``"45s"`` or a number of seconds, to seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration, not true/false")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f'not a duration: {value!r} (use e.g. "45s", "90m", "6h", "30d")')
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    else:
        raise ValueError(f"not a duration: {value!r}")
    if not math.isfinite(seconds):
        raise ValueError(f"a duration must be a finite number of seconds, not {value!r}")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    if seconds > MAX_DURATION:
        raise ValueError(f"a duration of at most 3650 days, not {value!r}")
    return seconds


def key_line(text: str, table: str, key: str | None = None, index: int = 0) -> int | None:
    """The 1-based line of ``key`` in ``[table]`` (or the ``index``-th ``[[table]]``).

    Without ``key``, the line of the table's header. None when it cannot be found (a key given
    as a dotted or inline table): the message then names the table instead.
    """
    current: str | None = ""
    seen: dict[str, int] = {}
    header_line: int | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(raw)
        if header and not raw.lstrip().startswith("#"):
            name = header.group(2).replace('"', "").replace("'", "").replace(" ", "")
            if table == "" and key is not None and name.split(".")[0] == key:
                return number  # a top-level key written as a table header
            if header.group(1) == "[[":
                count = seen.get(name, -1) + 1
                seen[name] = count
                current = name if count == index else None
            else:
                current = name
            if current == table and header_line is None:
                header_line = number
                if key is None:
                    return number
            continue
        if key is not None and current == table:
            found = _KEY.match(raw)
            if found and found.group(1).strip("\"'") == key:
                return number
    return header_line


class _Checker:
    """Reads values out of the parsed TOML, raising ConfigError naming file and line."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text

    def fail(self, message: str, table: str, key: str | None = None, index: int = 0) -> ConfigError:
        line = key_line(self.text, table, key, index)
        where = f"{self.path}:{line}" if line else self.path
        name = f"[{table}]" + (f" {key}" if key else "") if table else (key or "")
        return ConfigError(f"{where}: {name}: {message}")

    def table(self, data: dict[str, Any], name: str, allowed: set[str]) -> dict[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, dict):
            raise self.fail("must be a table", "", name)
        self.known(value, name, allowed)
        return value

    def known(self, value: dict[str, Any], table: str, allowed: set[str], index: int = 0) -> None:
        for key in value:
            if key not in allowed:
                hint = ", ".join(sorted(allowed))
                raise self.fail(f"unknown key (known: {hint})", table, key, index)

    def number(
        self,
        value: Any,
        table: str,
        key: str,
        *,
        minimum: float,
        maximum: float,
        integer: bool = False,
    ) -> float:
        """A number within ``minimum``..``maximum`` (finite: ``inf``, ``nan`` and ``1e309``
        are refused, as TOML allows writing them)."""
        return self.within(value, table, key, Range(low=minimum, high=maximum, integer=integer))

    def within(self, value: Any, table: str, key: str, allowed: Range) -> float:
        problem = allowed.problem(value)
        if problem:
            raise self.fail(problem, table, key)
        return float(value)

    def duration(self, value: Any, table: str, key: str) -> float:
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise self.fail(str(exc), table, key) from exc

    def string(self, value: Any, table: str, key: str, index: int = 0) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"must be a non-empty string, not {value!r}", table, key, index)
        return value.strip()


def load_config(path: str) -> RunConfig:
    """Read and check a run config; every mistake is a ConfigError naming file and line."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: too large for a config file (over 1 MiB)")
        raw = file.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such config file") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    return parse_config(text, path=path)


def parse_config(text: str, *, path: str = "archive.toml") -> RunConfig:
    """Check a config's text (see ``examples/archive.toml`` for every key)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line = re.search(r"line (\d+)", message)
        where = f"{path}:{line.group(1)}" if line else path
        raise ConfigError(f"{where}: not valid TOML: {message}") from exc
    check = _Checker(path, text)
    tables = {"archive", "fetch", "schedule", "sources", "notify", "evidence", "cluster"}
    check.known(data, "", tables)

    archive = check.table(data, "archive", {"db", "max_items"})
    db = check.string(archive["db"], "archive", "db") if "db" in archive else None
    max_items = None
    if "max_items" in archive:
        max_items = int(
            check.number(
                archive["max_items"], "archive", "max_items", minimum=1, maximum=10**9, integer=True
            )
        )

    fetch = check.table(data, "fetch", _FETCH_KEYS | {"connect_to", "batch"})
    policy, routes = _fetch(check, fetch)
    batch = 64
    if "batch" in fetch:
        batch = int(
            check.number(fetch["batch"], "fetch", "batch", minimum=1, maximum=10_000, integer=True)
        )
    schedule = _schedule(check, check.table(data, "schedule", _SCHEDULE_KEYS))
    notify = _notify(check, check.table(data, "notify", _NOTIFY_KEYS))
    evidence = _evidence(check, check.table(data, "evidence", _EVIDENCE_KEYS), base=Path(path))
    cluster = _cluster(check, check.table(data, "cluster", {"scheduler", "workers"}))

    raw_sources = data.get("sources", [])
    if not isinstance(raw_sources, list) or not all(isinstance(s, dict) for s in raw_sources):
        raise check.fail("must be an array of tables, written [[sources]]", "", "sources")
    if not raw_sources:
        raise ConfigError(
            f"{path}: no [[sources]]: name at least one folder, list, feed or sitemap"
        )
    sources = tuple(_source(check, entry, index) for index, entry in enumerate(raw_sources))
    return RunConfig(
        path=path,
        db=db,
        policy=policy,
        routes=routes,
        schedule=schedule,
        sources=sources,
        notify=notify,
        max_items=max_items,
        batch=batch,
        evidence=evidence,
        cluster=cluster,
    )


#: The numbers of ``[fetch]``, each with FetchPolicy's own range (a config may not go below
#: 0.1 s for a timeout or 0.0001 requests a second, which the policy itself would allow).
_FETCH_NUMBERS = {
    "per_host_rate": replace(RANGES["per_host_rate"], low=0.0001, low_open=False),
    "timeout": replace(RANGES["timeout"], low=0.1, low_open=False),
    "connect_timeout": replace(RANGES["connect_timeout"], low=0.1, low_open=False),
    "read_timeout": replace(RANGES["read_timeout"], low=0.1, low_open=False),
    "retry_after_cap": RANGES["retry_after_cap"],
    "max_crawl_delay": RANGES["max_crawl_delay"],
    "backoff_base": RANGES["backoff_base"],
    "per_host_connections": RANGES["per_host_connections"],
    "max_connections": RANGES["max_connections"],
    "retries": RANGES["retries"],
    "max_redirects": RANGES["max_redirects"],
}
_FETCH_KEYS = set(_FETCH_NUMBERS) | {"user_agent", "respect_robots"}
_SCHEDULE_KEYS = {f for f in Schedule.__dataclass_fields__}
_EVIDENCE_KEYS = {"seal", "key", "tsa", "tsa_cert"}
_NOTIFY_KEYS = {"webhook", "email_to", "email_from", "smtp_host", "smtp_port", "on", "timeout"}


def _fetch(check: _Checker, table: dict[str, Any]) -> tuple[FetchPolicy, dict[str, str]]:
    changes: dict[str, Any] = {}
    for key, allowed in _FETCH_NUMBERS.items():
        if key in table:
            value = check.within(table[key], "fetch", key, allowed)
            changes[key] = int(value) if allowed.integer else value
    if "user_agent" in table:
        changes["user_agent"] = check.string(table["user_agent"], "fetch", "user_agent")
    if "respect_robots" in table:
        if not isinstance(table["respect_robots"], bool):
            raise check.fail("must be true or false", "fetch", "respect_robots")
        changes["respect_robots"] = table["respect_robots"]
    if "timeout" in changes:
        changes.setdefault("connect_timeout", min(FetchPolicy.connect_timeout, changes["timeout"]))
        changes.setdefault("read_timeout", min(FetchPolicy.read_timeout, changes["timeout"]))
    try:
        policy = FetchPolicy(**changes)
    except InputError as exc:
        raise check.fail(str(exc), "fetch") from exc
    routes_raw = table.get("connect_to", [])
    if not isinstance(routes_raw, list) or not all(isinstance(r, str) for r in routes_raw):
        raise check.fail('must be a list of "HOST=ADDR:PORT" strings', "fetch", "connect_to")
    try:
        routes = parse_routes(routes_raw)
    except InputError as exc:
        raise check.fail(str(exc), "fetch", "connect_to") from exc
    return policy, routes


def _schedule(check: _Checker, table: dict[str, Any]) -> Schedule:
    values: dict[str, float] = {}
    for key, value in table.items():
        if key == "recent_days":
            values[key] = check.number(value, "schedule", key, minimum=0, maximum=36500)
        else:
            values[key] = check.duration(value, "schedule", key)
    return Schedule(**values)


def _notify(check: _Checker, table: dict[str, Any]) -> Notify:
    values: dict[str, Any] = {}
    if "webhook" in table:
        url = check.string(table["webhook"], "notify", "webhook")
        problem = check_url(url)
        if problem:
            raise check.fail(problem, "notify", "webhook")
        values["webhook"] = url
    if "email_to" in table:
        to = table["email_to"]
        to = [to] if isinstance(to, str) else to
        if (
            not isinstance(to, list)
            or not to
            or not all(isinstance(a, str) and "@" in a for a in to)
        ):
            raise check.fail("must be an e-mail address or a list of them", "notify", "email_to")
        values["email_to"] = tuple(a.strip() for a in to)
    for key in ("email_from", "smtp_host"):
        if key in table:
            values[key] = check.string(table[key], "notify", key)
    if "smtp_port" in table:
        values["smtp_port"] = int(
            check.number(
                table["smtp_port"], "notify", "smtp_port", minimum=1, maximum=65535, integer=True
            )
        )
    if "timeout" in table:
        values["timeout"] = check.number(
            table["timeout"], "notify", "timeout", minimum=0.1, maximum=300
        )
    if "on" in table:
        events = table["on"]
        if not isinstance(events, list) or not all(e in NOTIFY_EVENTS for e in events):
            words = ", ".join(sorted(NOTIFY_EVENTS))
            raise check.fail(f"must be a list of events among {words}", "notify", "on")
        values["on"] = frozenset(events)
    return Notify(**values)


def scheduler_problem(address: str) -> str | None:
    """Why ``address`` is not a scheduler address (``tcp://host:port`` or ``host:port``)."""
    if not _SCHEDULER.match(address) or not 0 < int(address.rstrip("/").rsplit(":", 1)[1]) < 65536:
        return f"not a scheduler address (tcp://host:port): {address[:100]!r}"
    return None


def _cluster(check: _Checker, table: dict[str, Any]) -> Cluster:
    """``[cluster]``: a Dask scheduler's address and/or the number of worker processes."""
    scheduler = None
    if "scheduler" in table:
        scheduler = check.string(table["scheduler"], "cluster", "scheduler")
        problem = scheduler_problem(scheduler)
        if problem:
            raise check.fail(problem, "cluster", "scheduler")
    workers = None
    if "workers" in table:
        workers = int(
            check.number(
                table["workers"], "cluster", "workers", minimum=0, maximum=MAX_WORKERS, integer=True
            )
        )
    return Cluster(scheduler=scheduler, workers=workers)


def _source(check: _Checker, entry: dict[str, Any], index: int) -> Source:
    line = key_line(check.text, "sources", None, index)
    check.known(entry, "sources", set(SOURCE_KINDS) | {"limit", "follow_links"}, index)
    kinds = [k for k in SOURCE_KINDS if k in entry]
    if len(kinds) != 1:
        raise check.fail(
            "each [[sources]] names exactly one of " + ", ".join(SOURCE_KINDS),
            "sources",
            None,
            index,
        )
    kind = kinds[0]
    value: str | tuple[str, ...]
    raw = entry[kind]
    if kind == "urls" and isinstance(raw, list):
        if not all(isinstance(u, str) for u in raw):
            raise check.fail("must be a file name or a list of URL strings", "sources", kind, index)
        for url in raw:
            problem = check_url(url.strip())
            if problem:
                raise check.fail(f"{problem}: {url[:100]!r}", "sources", kind, index)
        value = tuple(u.strip() for u in raw)
    else:
        value = check.string(raw, "sources", kind, index)
    limit = None
    if "limit" in entry:
        limit_raw = entry["limit"]
        if isinstance(limit_raw, bool) or not isinstance(limit_raw, int) or limit_raw < 1:
            raise check.fail(
                f"must be a whole number above 0, not {limit_raw!r}", "sources", "limit", index
            )
        limit = limit_raw
    follow = entry.get("follow_links", True)
    if not isinstance(follow, bool):
        raise check.fail("must be true or false", "sources", "follow_links", index)
    return Source(kind=kind, value=value, limit=limit, follow_links=follow, line=line)


def with_overrides(
    config: RunConfig,
    *,
    per_host_rate: float | None = None,
    per_host_connections: int | None = None,
    timeout: float | None = None,
    user_agent: str | None = None,
    connect_to: Sequence[str] = (),
    workers: int | None = None,
    scheduler: str | None = None,
) -> RunConfig:
    """The config with the command line's fetch and cluster options put over it (the command
    line wins)."""
    policy = policy_from_options(
        per_host_rate=per_host_rate,
        per_host_connections=per_host_connections,
        timeout=timeout,
        user_agent=user_agent,
        base=config.policy,
    )
    routes = {**config.routes, **parse_routes(connect_to)}
    cluster = config.cluster
    if scheduler is not None:
        problem = scheduler_problem(scheduler.strip())
        if problem:
            raise InputError(f"--scheduler: {problem}")
        cluster = replace(cluster, scheduler=scheduler.strip())
    if workers is not None:
        cluster = replace(cluster, workers=workers)
    return replace(config, policy=policy, routes=routes, cluster=cluster)


def _evidence(check: _Checker, table: dict[str, Any], *, base: Path) -> EvidenceSettings:
    """``[evidence]``: seal each run (default true), the key, an optional TSA and its cert."""
    seal = table.get("seal", True)
    if not isinstance(seal, bool):
        raise check.fail("must be true or false", "evidence", "seal")
    folder = base.resolve().parent

    def path(key: str) -> Path | None:
        if key not in table:
            return None
        value = Path(check.string(table[key], "evidence", key)).expanduser()
        return value if value.is_absolute() else folder / value

    tsa = None
    if "tsa" in table:
        tsa = check.string(table["tsa"], "evidence", "tsa")
        if check_url(tsa) is not None:
            raise check.fail(f"not an http(s) URL: {tsa[:100]}", "evidence", "tsa")
    return EvidenceSettings(seal=seal, key=path("key"), tsa=tsa, tsa_cert=path("tsa_cert"))
