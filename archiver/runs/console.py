"""A run for people: a progress bar on a terminal, and a few lines of summary after it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Progress = Callable[[int, int, str], None]


@contextmanager
def progress_bar() -> Iterator[Progress | None]:
    """A rich progress bar on stderr when stderr is a terminal; nothing at all otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    with Progress(
        TextColumn("archiving"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.description}", markup=False),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def update(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=_safe(label)[-60:])

        yield update


def summary_text(summary: dict[str, Any]) -> str:
    """The summary a person reads after a run (page text is never in it unescaped)."""
    items = summary["items"]
    lines = [
        f"run {summary['run_id']}: {summary['status']} in {summary['duration']:.1f}s — "
        f"{items['visited']} visited, {items['not_due']} not due, {items['resumed']} resumed "
        f"of {items['total']} items",
        f"captures: {summary['captures']} ({summary['not_modified']} not modified)",
        "drift: " + (", ".join(f"{k}: {v}" for k, v in summary["drift"].items()) or "-"),
        "links: " + (", ".join(f"{k}: {v}" for k, v in summary["links"].items()) or "-"),
        f"new broken links: {summary['new_broken_links']}, errors: {summary['errors']}",
    ]
    for entry in summary["new_drift"]:
        lines.append(f"  drift {entry['status']}: {_safe(entry['canonical'])}")
    for entry in summary["new_broken"]:
        lines.append(f"  broken {entry['status']}: {_safe(entry['url'])}")
    for entry in summary["error_details"]:
        lines.append(f"  error {_safe(entry['item'])}: {_safe(entry['detail'])}")
    return "\n".join(lines)


def _safe(text: str) -> str:
    """No control characters from a page or a file name reach the terminal."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(text))[:300]
