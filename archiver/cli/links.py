"""``archiver links``: check every link of a URL, a canonical copy or a stored capture."""

from __future__ import annotations

from typing import Any

import click

from archiver.cli.app import (
    _archive,
    _archives,
    _colour,
    _fetcher,
    _report_options,
    _rot_options,
    _write_report,
    cli,
    fetch_options,
)
from archiver.cli.capture import executor_of, parallel_options
from archiver.errors import NetworkUnavailable
from archiver.report import links as report
from archiver.report.escape import terminal_line

#: What extraction calls a page that is not an article (``Document.page_type``).
NOT_ARTICLES = ("listing", "product", "forum", "page")


@cli.command()
@click.argument("target")
@_report_options(report.FORMATS, default="text")
@click.option(
    "--no-archive-lookup",
    is_flag=True,
    help="Do not ask web archives for archived copies of broken links (nor look for moved pages).",
)
@click.option(
    "--wayback-url",
    default=None,
    metavar="URL",
    help="Base URL of the Wayback Machine's APIs (default: archive.org).",
)
@click.option(
    "--all",
    "every_link",
    is_flag=True,
    help="Check every link on the page (navigation, related stories, footer too), as "
    "linkchecker does; by default only the links of the article's text are checked.",
)
@_rot_options
@fetch_options
@parallel_options
@click.pass_context
def links(
    ctx: click.Context,
    target: str,
    fmt: str,
    output: str | None,
    as_json: bool,
    no_archive_lookup: bool,
    wayback_url: str | None,
    suspect_checks: int,
    suspect_days: int,
    every_link: bool,
    **options: Any,
) -> None:
    """Check every link of TARGET (a URL, .md copy or capture id).

    TARGET is a URL, a canonical copy (.md), or the id of a stored capture. Suspects (timeouts,
    5xx, 401/403/429) turn broken only when the archive has seen them fail on --suspect-checks
    checks over --suspect-days days. A broken link gets its archived copies: this archive's own
    capture from when it was alive first, then the capture nearest the article's publication
    date in every web archive (Memento), and the page's new address when it moved.
    """
    from archiver.fetch.urls import check_url
    from archiver.links.rot import RotPolicy
    from archiver.links.target import target_kind

    policy = RotPolicy(checks=suspect_checks, days=suspect_days)
    archives = _archives(options, no_archive_lookup, wayback_url)
    with _archive(ctx) as archive, _fetcher(options) as fetcher:
        # A URL's page is asked for at once; the job's modules are imported meanwhile.
        since = fetcher.traffic()
        url = target_kind(target) == "url" and check_url(target) is None
        ahead = fetcher.fetch_ahead([target]) if url else None
        from archiver.links.job import check_target

        with executor_of(options) as executor:
            result = check_target(
                target,
                fetcher=fetcher,
                archive=archive,
                policy=policy,
                rescue_settings=archives,
                every_link=every_link,
                executor=executor,
                ahead=ahead,
                since=since,
            )
    if not every_link and result.left_out and result.page_type in NOT_ARTICLES:
        found = sum(1 for c in result.checks if c.url != result.source)
        click.echo(
            f"archiver: {terminal_line(result.source)} is not an article "
            f"({terminal_line(result.page_type)}): only the links of its article text are "
            f"checked ({found}; {result.left_out} others on the page); --all checks every link",
            err=True,
        )
    checks = list(result.checks)
    text = report.format_links(result.source, checks, "json" if as_json else fmt, colour=_colour())
    _write_report(text, output)
    if result.offline:
        raise NetworkUnavailable("nothing answered: the network looks unavailable; no verdict")
    ctx.exit(1 if any(c.broken for c in checks) else 0)


# --- offline commands: extract ---------------------------------------------------------------
