"""What a run found: one :class:`ItemResult` per item, and the :class:`RunResult` summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archiver.models import LinkCheck
from archiver.runs.items import Item
from archiver.verify.compare import DRIFTED


@dataclass(frozen=True, kw_only=True)
class ItemResult:
    """What visiting one item found."""

    item: Item
    outcome: str  # drift status (canonical copies) or the page's link status (URLs)
    captures: int = 0
    not_modified: int = 0
    checks: tuple[LinkCheck, ...] = ()
    links_not_due: int = 0
    drift: str | None = None
    detail: str = ""
    resumed: bool = False


@dataclass(kw_only=True)
class RunResult:
    """The summary of one run, as ``--json`` prints it and ``runs.summary`` keeps it."""

    run_id: int
    config: str
    archive: str
    started: float
    status: str = "running"
    items_total: int = 0
    not_due: int = 0
    resumed_items: int = 0
    resumed_from: list[int] = field(default_factory=list)
    stale_lock: dict[str, Any] | None = None
    results: list[ItemResult] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    new_broken: list[dict[str, Any]] = field(default_factory=list)
    new_drift: list[dict[str, Any]] = field(default_factory=list)
    source_captures: int = 0
    notified: bool = False
    checkpoint: dict[str, Any] | None = None  # the evidence checkpoint signed at the end
    duration: float = 0.0
    stage: str = "starting"  # what the run is doing now: kept in the summary if it stops
    stopped: dict[str, str] | None = None  # why and where it stopped (a signal, a full disk)

    def counts(self, what: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for result in self.results:
            if what == "drift" and result.drift is not None:
                out[result.drift] = out.get(result.drift, 0) + 1
            if what == "links":
                for check in result.checks:
                    out[check.status] = out.get(check.status, 0) + 1
        return dict(sorted(out.items()))

    @property
    def broken_links(self) -> int:
        return sum(1 for r in self.results for c in r.checks if c.broken)

    @property
    def exit_code(self) -> int:
        """The contract's code: 1 when drift, broken links or errors were found, else 0.

        What the interrupted runs this one resumed found counts as found by this one.
        """
        drifted = any(r.drift in DRIFTED for r in self.results) or self.new_drift
        broken = self.broken_links or self.new_broken
        return 1 if drifted or broken or self.errors else 0

    def to_json(self) -> dict[str, Any]:
        captures = self.source_captures + sum(r.captures for r in self.results)
        return {
            "run_id": self.run_id,
            "status": self.status,
            "config": self.config,
            "archive": self.archive,
            "items": {
                "total": self.items_total,
                "visited": sum(1 for r in self.results if not r.resumed),
                "not_due": self.not_due,
                "resumed": self.resumed_items,
            },
            "resumed_from": self.resumed_from,
            "stale_lock": self.stale_lock,
            "captures": captures,
            "not_modified": sum(r.not_modified for r in self.results),
            "drift": self.counts("drift"),
            "links": self.counts("links"),
            "links_not_due": sum(r.links_not_due for r in self.results),
            "broken_links": self.broken_links,
            "new_broken_links": len(self.new_broken),
            "new_broken": self.new_broken,
            "new_drift": self.new_drift,
            "errors": len(self.errors),
            "error_details": self.errors,
            "notified": self.notified,
            "checkpoint": self.checkpoint,
            "stopped": self.stopped,
            "duration": round(self.duration, 3),
        }
