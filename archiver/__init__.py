"""archiver — an archival scraper and verifier for news articles.

The pipeline, one folder per stage (``docs/architecture.md`` draws it)::

    fetch/  ->  extract/  ->  capture/ (keep: store with extraction)  ->  archive/ (SQLite)
                                  \\->  verify/ (drift against the canonical copy)
                                  \\->  links/  (link rot)                      ->  report/
    runs/ (scheduled runs) and cli/ (the command line) use the jobs, never the stages.

The library's face is here, loaded on first use so that importing one stage costs only that
stage (``import archiver.runs.schedule`` does not load requests)::

    from archiver import Archive, Fetcher, read_canonical, verify_many

    with Fetcher() as fetcher, Archive("db/archive.db") as archive:
        result = verify_many([read_canonical("copy.md")], fetcher=fetcher, archive=archive)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: name -> the module that defines it.
_FACE = {
    # records
    "CanonicalCopy": "archiver.models",
    "Capture": "archiver.models",
    "Change": "archiver.models",
    "Document": "archiver.models",
    "Drift": "archiver.models",
    "Image": "archiver.models",
    "Link": "archiver.models",
    "LinkCheck": "archiver.models",
    "Traffic": "archiver.models",
    # errors
    "ArchiverError": "archiver.errors",
    "InputError": "archiver.errors",
    "CanonicalError": "archiver.errors",
    "ExtractionError": "archiver.errors",
    "ConfigError": "archiver.errors",
    "JobError": "archiver.errors",
    "NetworkUnavailable": "archiver.errors",
    "ArchiveLocked": "archiver.errors",
    "ArchiveCorrupt": "archiver.errors",
    # the stages' entry points
    "Fetcher": "archiver.fetch.fetcher",
    "FetchPolicy": "archiver.fetch.fetcher",
    "extract": "archiver.extract.extractor",
    "read_canonical": "archiver.verify.canonical",
    "compare": "archiver.verify.compare",
    "check_links": "archiver.links.check",
    "Archive": "archiver.archive.store",
    # the jobs
    "snapshot": "archiver.capture.snapshot",
    "verify_many": "archiver.verify.job",
    "verify_paths": "archiver.verify.job",
    "check_target": "archiver.links.job",
    "check_pages": "archiver.links.job",
    "run": "archiver.runs.run",
}

__all__ = [
    "__version__",
    "CanonicalCopy",
    "Capture",
    "Change",
    "Document",
    "Drift",
    "Image",
    "Link",
    "LinkCheck",
    "Traffic",
    "ArchiverError",
    "InputError",
    "CanonicalError",
    "ExtractionError",
    "ConfigError",
    "JobError",
    "NetworkUnavailable",
    "ArchiveLocked",
    "ArchiveCorrupt",
    "Fetcher",
    "FetchPolicy",
    "extract",
    "read_canonical",
    "compare",
    "check_links",
    "Archive",
    "snapshot",
    "verify_many",
    "verify_paths",
    "check_target",
    "check_pages",
    "run",
]

if TYPE_CHECKING:
    from archiver.archive.store import Archive
    from archiver.capture.snapshot import snapshot
    from archiver.errors import (
        ArchiveCorrupt,
        ArchiveLocked,
        ArchiverError,
        CanonicalError,
        ConfigError,
        ExtractionError,
        InputError,
        JobError,
        NetworkUnavailable,
    )
    from archiver.extract.extractor import extract
    from archiver.fetch.fetcher import Fetcher, FetchPolicy
    from archiver.links.check import check_links
    from archiver.links.job import check_pages, check_target
    from archiver.models import (
        CanonicalCopy,
        Capture,
        Change,
        Document,
        Drift,
        Image,
        Link,
        LinkCheck,
        Traffic,
    )
    from archiver.runs.run import run
    from archiver.verify.canonical import read_canonical
    from archiver.verify.compare import compare
    from archiver.verify.job import verify_many, verify_paths


def __getattr__(name: str) -> Any:
    """Load a name of the library's face from its module on first use (PEP 562)."""
    module = _FACE.get(name)
    if module is None:
        raise AttributeError(f"module 'archiver' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
