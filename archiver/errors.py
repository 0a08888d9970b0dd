"""The one exception tree of archiver.

Results are values, not exceptions: a dead link or a drifted article is data in a result.
Exceptions are for the program's own failures, and each maps to an exit code of the contract::

    ArchiverError                 (exit 3 unless a subclass says otherwise)
    ├── InputError                exit 2: bad usage or bad input
    │   ├── CanonicalError        a canonical copy that cannot be read
    │   ├── ExtractionError       a file that is not an HTML page
    │   └── ConfigError           a config file with a mistake
    └── JobError                  exit 3: the job could not be done
        ├── NetworkUnavailable    nothing answered at all
        ├── ArchiveLocked         another run holds the lock / database is locked
        └── ArchiveCorrupt        the SQLite file is not a usable archive
"""

from __future__ import annotations


class ArchiverError(Exception):
    """Base of every error archiver raises on purpose."""

    exit_code = 3


class InputError(ArchiverError):
    """Bad usage or bad input: the user can fix it."""

    exit_code = 2


class CanonicalError(InputError):
    """A canonical copy that cannot be read (no original URL, not Markdown, ...)."""


class ExtractionError(InputError):
    """A file given to ``extract`` that is not an HTML page."""


class ConfigError(InputError):
    """A config file with a mistake."""


class JobError(ArchiverError):
    """The job could not be done now."""

    exit_code = 3


class NetworkUnavailable(JobError):
    """Nothing answered at all: no verdict on any link or article is possible."""


class ArchiveLocked(JobError):
    """The archive is locked by another run."""


class ArchiveCorrupt(JobError):
    """The archive file is not a usable SQLite archive."""
