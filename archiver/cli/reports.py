"""``archiver report linkrot|drift``: reports from what the archive holds."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from archiver.cli.app import _archive, _report_options, _rot_options, _write_report, cli
from archiver.report import drift as drift_report
from archiver.report import links as report

if TYPE_CHECKING:
    from archiver.archive.store import Archive


@cli.group("report")
def report_group() -> None:
    """Reports from what the archive holds (no network)."""


@report_group.command("linkrot")
@_report_options(report.FORMATS, default="text")
@_rot_options
@click.option(
    "--curve",
    is_flag=True,
    help="Only the rot curve: the share of cited links broken by the citing article's year.",
)
@click.pass_context
def report_linkrot(
    ctx: click.Context,
    fmt: str,
    output: str | None,
    as_json: bool,
    suspect_checks: int,
    suspect_days: int,
    curve: bool,
) -> None:
    """Broken links per article (headed by its title), since when, and archived copies.

    Then the suspects, failing but not yet broken, and the rot curve: the share of cited
    links broken by the citing article's publication year. Exit 1 if any link is broken.
    """
    from archiver.links.rot import RotPolicy
    from archiver.links.rotreport import rot_curve, rot_report, rot_summary
    from archiver.report.linkrot import format_rot_curve

    policy = RotPolicy(checks=suspect_checks, days=suspect_days)
    with _archive(ctx, readonly=True) as archive:
        articles = rot_report(archive, policy=policy)
    summary = rot_summary(articles)
    years = rot_curve(articles)
    fmt = "json" if as_json else fmt
    if curve:
        text = format_rot_curve(years, fmt)
    else:
        text = report.format_linkrot(articles, summary, fmt, curve=years)
    _write_report(text, output)
    ctx.exit(1 if summary["broken"] else 0)


@report_group.command("drift")
@_report_options(
    drift_report.FORMATS,
    default="md",
    help="Output format; html shows canonical and live side by side.",
)
@click.option(
    "--changes-only",
    is_flag=True,
    help="Only the copies that drifted or lost a cited passage, and only their changed rows.",
)
@click.pass_context
def report_drift(
    ctx: click.Context, fmt: str, output: str | None, as_json: bool, changes_only: bool
) -> None:
    """The newest drift verdict of every verified canonical copy.

    Exit 1 if any drifted, or cites a source that no longer holds its passage.
    """
    with _archive(ctx, readonly=True) as archive:
        entries = collect_drift(archive, with_texts=not as_json and fmt == "html")
    text = drift_report.format_drift(entries, "json" if as_json else fmt, changes_only=changes_only)
    _write_report(text, output)
    ctx.exit(1 if any(entry.problem for entry in entries) else 0)


def collect_drift(archive: Archive, *, with_texts: bool = True) -> list[drift_report.DriftEntry]:
    """The newest verification of each copy; with ``with_texts`` both texts for side by side.

    The reading half of ``report drift`` (the archive, and each copy's file when it is still
    there); :func:`archiver.report.drift.format_drift` formats what it returns.
    """
    from archiver.errors import InputError
    from archiver.models import CanonicalCopy, Document
    from archiver.verify.canonical import read_canonical

    entries = []
    for row in archive.latest_verifications():
        canonical: CanonicalCopy | None = None
        live: Document | None = None
        if with_texts:
            path = row.canonical_path
            if os.path.isfile(path):
                try:
                    canonical = read_canonical(path)
                except InputError:
                    canonical = None  # changed into something unreadable since: changes only
            if row.capture_id is not None:
                stored = archive.get_capture(row.capture_id)
                live = stored.document if stored is not None else None
        entries.append(drift_report.DriftEntry(verification=row, canonical=canonical, live=live))
    return entries
