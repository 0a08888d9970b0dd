"""The archive's SQLite file: opening it (read-only or for writing), migrating it, WAL, errors.

A :class:`Handle` is one open connection shared by the parts of an ``Archive`` (captures, run
log, parse cache, queries), one call at a time. Failures of the file itself become the error
tree's one-line errors (:func:`translate`): another writer holding it is ``ArchiveLocked``, a
file that is not an archive ``ArchiveCorrupt``, a file this process may not write (when the
command must write) a ``JobError`` naming it — all exit 3.

Read-only opening never writes, never creates a file (not even ``-wal``/``-shm`` when it can
help it): it goes through a ``mode=ro`` URI, and when SQLite cannot create the WAL index beside
a file in a folder nobody may write (a read-only mount, a colleague's folder), through
``immutable=1`` — safe only because then there is no ``-wal`` file whose commits it could miss.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Concatenate, ParamSpec, Protocol, TypeVar
from urllib.parse import quote

from sqlite_utils import Database

from archiver.archive import migrations
from archiver.errors import ArchiveCorrupt, ArchiveLocked, ArchiverError, InputError, JobError

log = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT = 10.0  # seconds a writer waits for another writer before ArchiveLocked

P = ParamSpec("P")
R = TypeVar("R")

_READ_ONLY_WORDS = ("readonly database", "read-only file system", "unable to open database")


def _is_read_only_failure(exc: BaseException) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    return (
        name.startswith("SQLITE_READONLY")
        or name.startswith("SQLITE_CANTOPEN")
        or any(word in str(exc) for word in _READ_ONLY_WORDS)
    )


def read_only_error(path: str, why: object) -> JobError:
    """The one line for "this command must write, and this file cannot be written"."""
    return JobError(
        f"{path}: the archive is read-only here ({why}); this command writes to it — "
        "run it where the file and its folder can be written"
    )


def translate(path: str, exc: sqlite3.Error, *, reading: bool = False) -> ArchiverError:
    """Map SQLite's failure to the error tree: locked -> ArchiveLocked, the rest -> corrupt.

    ``reading``: the archive was opened read-only, so a file SQLite cannot open is not "this
    command writes" but "cannot be read here".
    """
    message = str(exc)
    if isinstance(exc, sqlite3.IntegrityError):
        return InputError(f"{path}: record refused by the archive's constraints ({message})")
    if "locked" in message or "busy" in message:
        return ArchiveLocked(f"{path}: database is locked by another writer ({message})")
    if _is_read_only_failure(exc):
        if reading:
            return JobError(f"{path}: cannot read the archive here ({message})")
        return read_only_error(path, message)
    return ArchiveCorrupt(f"{path}: not a usable archive ({message})")


class _HasHandle(Protocol):
    handle: Handle


S = TypeVar("S", bound=_HasHandle)


def guarded(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Take the handle's turn, and turn SQLite errors escaping a method into one-line errors."""

    @functools.wraps(method)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        handle = self.handle
        try:
            with handle.lock:
                return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise translate(handle.path, exc, reading=handle.readonly) from exc

    return wrapper


def version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _wal_pending(path: str) -> bool:
    """Whether a ``-wal`` file beside the database may hold commits not yet in the file."""
    try:
        return os.path.getsize(path + "-wal") > 0
    except OSError:
        return False


class Handle:
    """One open archive file: its connection, its lock, how it was opened."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        readonly: bool = False,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        durable: bool = True,
    ) -> None:
        self.path = os.fspath(path)
        # Every commit survives the process being killed (WAL, synchronous=NORMAL: the commit
        # is in the -wal file when COMMIT returns). durable: sync points (the end of a run, a
        # seal) also fsync the WAL, and with it every commit before them, so they survive a
        # power cut; False skips that too (bulk imports, benchmarks). Never consistency.
        self.durable = durable
        self.readonly = readonly
        self.busy_timeout = busy_timeout
        self.memory = self.path == ":memory:"
        self.immutable = False  # read through immutable=1: nothing beside the file is written
        # One connection shared by the threads of a run (fetch workers), one call at a time.
        self.lock = threading.RLock()
        try:
            self.conn = self._open()
        except sqlite3.Error as exc:
            raise translate(self.path, exc, reading=readonly) from exc
        self.db = Database(self.conn)

    # -- connecting -----------------------------------------------------------------------

    def connect(self, *, readonly: bool) -> sqlite3.Connection:
        """A new connection to the file (read-only ones as this handle reads: ``immutable``)."""
        if self.memory:
            target, uri = ":memory:", False
        elif readonly:
            mode = "ro&immutable=1" if self.immutable else "ro"
            target, uri = f"file:{quote(os.path.abspath(self.path))}?mode={mode}", True
        else:
            target, uri = self.path, False
        conn = sqlite3.connect(
            target,
            timeout=self.busy_timeout,
            isolation_level=None,
            uri=uri,
            check_same_thread=False,
        )
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            # Reading the schema fails here, not later, for a file that is not SQLite.
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except BaseException:
            conn.close()
            raise
        return conn

    def _connect_readonly(self) -> sqlite3.Connection:
        try:
            return self.connect(readonly=True)
        except sqlite3.OperationalError as exc:
            if not _is_read_only_failure(exc):
                raise
            # A WAL database in a folder we cannot write: SQLite cannot create its -shm.
            if _wal_pending(self.path):
                raise JobError(
                    f"{self.path}: cannot read it here: its -wal file holds commits and its "
                    "folder is read-only (copy the file with its -wal, or open it once where "
                    "it can be written)"
                ) from exc
            log.info("%s: folder not writable, reading it immutable (%s)", self.path, exc)
            self.immutable = True
            return self.connect(readonly=True)

    def _open(self) -> sqlite3.Connection:
        if self.readonly and not self.memory:
            if not os.path.isfile(self.path):
                raise InputError(f"no archive at {self.path}")
            conn = self._connect_readonly()
            if version(conn) < migrations.SCHEMA_VERSION:
                # An archive from an older release: upgrade it once (if we may), then read.
                conn.close()
                try:
                    self._connect_and_migrate().close()
                except (sqlite3.Error, JobError) as exc:
                    if isinstance(exc, JobError) or _is_read_only_failure(exc):
                        raise JobError(
                            f"{self.path}: the archive is from an older release and read-only "
                            "here, so it cannot be upgraded; open it once where it can be "
                            "written"
                        ) from exc
                    raise
                conn = self._connect_readonly()
            conn.execute("PRAGMA query_only = ON")
            return conn
        if not self.memory:
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise read_only_error(self.path, exc.strerror or exc) from exc
        return self._connect_and_migrate()

    def _connect_and_migrate(self) -> sqlite3.Connection:
        """Open for writing and bring the schema up to date.

        Migrations cannot be one transaction (sqlite-utils commits inside ``enable_fts``), so
        two processes creating an archive at once can collide; the steps are idempotent and a
        collision is retried until the busy timeout.
        """
        conn = self.connect(readonly=False)
        deadline = time.monotonic() + self.busy_timeout
        try:
            while True:
                try:
                    self._prepare(conn)
                    return conn
                except sqlite3.OperationalError as exc:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    if _is_read_only_failure(exc) or time.monotonic() >= deadline:
                        raise
                    log.info("%s: opening raced with another process (%s); again", self.path, exc)
                    time.sleep(0.05)
        except BaseException:
            conn.close()
            raise

    def _prepare(self, conn: sqlite3.Connection) -> None:
        if not self.memory:
            conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL under WAL: no fsync a commit (a run makes thousands); a crash of the
            # process loses nothing committed, a power cut at most the commits since the last
            # sync point (``transaction(sync=True)``), and never the file's consistency.
            conn.execute("PRAGMA synchronous = NORMAL")
        db = Database(conn)
        if version(conn) == 0:
            foreign = [
                t
                for t in db.table_names()
                if t not in migrations.TABLES and not t.startswith("extractions_fts")
            ]
            if foreign:
                raise ArchiveCorrupt(
                    f"{self.path}: an SQLite file but not an archive (has tables "
                    f"{', '.join(sorted(foreign)[:5])})"
                )
        try:
            migrations.migrate(db)
        except ValueError as exc:
            raise ArchiveCorrupt(f"{self.path}: {exc}") from exc

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    @contextmanager
    def transaction(self, *, sync: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (IMMEDIATE) so it never fails half-way on BUSY.

        ``sync``: a sync point. Its commit is fsynced (``synchronous=FULL`` for it), which puts
        every earlier commit of the WAL on disk too, so all of it survives a power cut.
        """
        if self.readonly:
            raise InputError(f"{self.path} is open read-only")
        full = sync and self.durable and not self.memory
        if full:
            self.conn.execute("PRAGMA synchronous = FULL")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        finally:
            if full:
                self.conn.execute("PRAGMA synchronous = NORMAL")
