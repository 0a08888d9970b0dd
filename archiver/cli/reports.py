"""``archiver report linkrot|drift``: reports from what the archive holds."""

from __future__ import annotations

import click

from archiver.cli.app import _archive, _report_options, _rot_options, _write_report, cli
from archiver.report import drift as drift_report
from archiver.report import links as report


@cli.group("report")
def report_group() -> None:
    """Reports from what the archive holds (no network)."""


@report_group.command("linkrot")
@_report_options(report.FORMATS, default="text")
@_rot_options
@click.pass_context
def report_linkrot(
    ctx: click.Context,
    fmt: str,
    output: str | None,
    as_json: bool,
    suspect_checks: int,
    suspect_days: int,
) -> None:
    """Broken links per article, since when, and archived copies.

    Then the suspects, failing but not yet broken. Exit 1 if any link is broken.
    """
    from archiver.links.rot import RotPolicy
    from archiver.links.rotreport import rot_report, rot_summary

    policy = RotPolicy(checks=suspect_checks, days=suspect_days)
    with _archive(ctx, readonly=True) as archive:
        articles = rot_report(archive, policy=policy)
    summary = rot_summary(articles)
    _write_report(report.format_linkrot(articles, summary, "json" if as_json else fmt), output)
    ctx.exit(1 if summary["broken"] else 0)


@report_group.command("drift")
@_report_options(
    drift_report.FORMATS,
    default="md",
    help="Output format; html shows canonical and live side by side.",
)
@click.pass_context
def report_drift(ctx: click.Context, fmt: str, output: str | None, as_json: bool) -> None:
    """The newest drift verdict of every verified canonical copy.

    Exit 1 if any drifted, or cites a source that no longer holds its passage.
    """
    with _archive(ctx, readonly=True) as archive:
        entries = drift_report.collect(archive, with_texts=not as_json and fmt == "html")
    _write_report(drift_report.format_drift(entries, "json" if as_json else fmt), output)
    ctx.exit(1 if any(entry.problem for entry in entries) else 0)


# -- scheduled runs (issue 8) -----------------------------------------------------------------
