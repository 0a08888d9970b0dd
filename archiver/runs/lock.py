"""One run at a time: an exclusive ``flock`` on a lock file next to the archive.

``fcntl.flock`` is held by the open file, so the kernel lets go of it when the process dies,
however it dies (SIGKILL, OOM killer, power loss): a lock can never outlive its run. The file
also carries the holder's PID, host and start time, for two reasons: the message a second run
prints ("held by pid 1234 since ...") and telling a *stale* lock, a file left behind by a run
that was killed, which the next run takes over and reports. A clean exit empties the file.

The file is never deleted: removing a lock file while another process waits on it would let
two processes lock two different files of the same name.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
from dataclasses import dataclass
from types import TracebackType

from archiver.errors import ArchiveLocked
from archiver.models import utc_iso

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Holder:
    """Who wrote the lock file: enough for a person to find the process."""

    pid: int
    host: str
    started_at: str


def read_holder(text: str) -> Holder | None:
    """The holder recorded in a lock file's text, or None (empty, or not ours)."""
    try:
        data = json.loads(text)
        return Holder(pid=int(data["pid"]), host=str(data["host"]), started_at=str(data["started"]))
    except (ValueError, KeyError, TypeError):
        return None


class RunLock:
    """``with RunLock(path):`` holds the lock or raises :class:`ArchiveLocked` (exit 3)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.stale: Holder | None = None  # set when a killed run's lock was taken over
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = read_holder(_read(fd))
            os.close(fd)
            who = (
                f"pid {holder.pid} on {holder.host}, running since {holder.started_at}"
                if holder
                else "another process"
            )
            raise ArchiveLocked(
                f"another run holds {self.path} ({who}); one run at a time, try again later"
            ) from None
        except OSError:
            os.close(fd)
            raise
        previous = read_holder(_read(fd))
        if previous is not None:
            # We hold the flock, so whoever wrote this is gone without cleaning up.
            self.stale = previous
            log.warning(
                "took over a stale lock left by pid %d on %s (started %s)",
                previous.pid,
                previous.host,
                previous.started_at,
            )
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": utc_iso(),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode("utf-8") + b"\n", 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _read(fd: int) -> str:
    data = os.pread(fd, 4096, 0)
    return data.decode("utf-8", "replace").strip()


def lock_path(db_path: str) -> str:
    """The lock file of an archive: next to it (symlinks resolved), so each has its own."""
    return os.path.realpath(db_path) + ".lock"
