"""How a run stops before its end, and says so: Ctrl-C and SIGTERM, a full disk, errors in words.

A signal stops the fetcher first (so fetches waiting in other threads end at once), then
unwinds the run as :class:`KeyboardInterrupt`; the run records itself ``interrupted`` with what
it was doing and ends with one line and the shell's code for the signal: 130 for SIGINT, 143
for SIGTERM (128 + the signal's number). A full disk (``ENOSPC``, ``EDQUOT``, SQLite's
``SQLITE_FULL``) stops the run the same way, exit 3: every other item would fail alike, and a
run recorded ``interrupted`` is resumed by the next one, which reuses the captures it stored.
"""

from __future__ import annotations

import errno
import re
import signal
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

from archiver.errors import JobError

if TYPE_CHECKING:
    from archiver.fetch.fetcher import Fetcher

#: Exit codes of a run stopped by a signal: 128 + the signal's number, as shells report it.
SIGNAL_EXIT = {"SIGINT": 130, "SIGTERM": 143}
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


_OBJECT = re.compile(r"<[^<>]{0,200} object at 0x[0-9a-fA-F]+>")
_CALL = re.compile(r"\b_*[A-Z][A-Za-z0-9]*\((?:[^()]|\([^()]*\)){0,300}\)")
_CLASS = re.compile(
    r"\b(?:[a-z_][a-z0-9_]*\.)*_*[A-Z][A-Za-z0-9]*(?:Error|Exception|Warning|Pool|Interrupt)\b:? ?"
)


def in_words(text: str) -> str:
    """An error's text as a person reads it: no Python class names or object reprs (what the
    libraries underneath put in their messages, ``_WatchedHTTPSPool(host=...)``)."""
    text = _OBJECT.sub("an object", text)
    text = _CALL.sub("", text)
    text = _CLASS.sub("", text)
    text = re.sub(r"\((?:\s|Caused by)*\)", "", text)
    return " ".join(text.split()).strip(" :;,") or text.strip()


def disk_full(exc: BaseException | None) -> bool:
    """The disk (or quota) is full, here or in what caused this error."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
            return True
        if isinstance(exc, sqlite3.Error) and (
            getattr(exc, "sqlite_errorcode", None) == 13 or "disk is full" in str(exc)
        ):  # SQLITE_FULL
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def stop_reason(exc: BaseException) -> str | None:
    """Why a run stopped before its end, when the next run should resume it; None for a
    failure the next run should not build on."""
    if isinstance(exc, KeyboardInterrupt):
        return "SIGTERM" if exc.args and exc.args[0] == "SIGTERM" else "SIGINT"
    if disk_full(exc):
        return "disk full"
    return None


def stopped_error(why: str, *, stage: str, run_id: int, done: int) -> JobError:
    """The one line a stopped run ends with, and its exit code (130, 143, or 3 for a full
    disk)."""
    what = "Ctrl-C" if why == "SIGINT" else why
    error = JobError(
        f"run interrupted ({what}) while {stage}: run {run_id} recorded as interrupted, "
        f"{done} items done; the next run resumes where it stopped"
    )
    error.exit_code = SIGNAL_EXIT.get(why, 3)
    return error


@contextmanager
def terminate_as_interrupt(fetcher: Fetcher) -> Iterator[None]:
    """SIGTERM (systemd stop, ``kill``) ends the run like Ctrl-C: recorded as interrupted.
    On either signal the fetcher is stopped first, so fetches waiting in the run's other
    threads (a Retry-After, a backoff, a stalled body) end at once too."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        fetcher.stop()
        raise KeyboardInterrupt("SIGTERM")

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        fetcher.stop()
        try:
            if callable(previous_int):
                previous_int(signum, frame)  # the command line's own Ctrl-C handling
        except KeyboardInterrupt:
            pass
        raise KeyboardInterrupt("SIGINT")

    previous = signal.signal(signal.SIGTERM, handler)
    previous_int = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
