"""The command line: parse options, call one library function, format the result.

Library errors (``archiver.errors``) become a one-line message and the contract's exit code in
one place, ``main``; nothing else here catches exceptions.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from archiver import __version__
from archiver.errors import ArchiverError

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_DB = os.path.join("db", "archive.db")


def emit_json(data: Any) -> None:
    """Print one JSON document on stdout (the contract: nothing else goes there)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def fetch_options(func: F) -> F:
    """The options every fetching command takes (CONTRACT.md, Global)."""
    options = [
        click.option(
            "--per-host-rate",
            type=click.FloatRange(min=0.01),
            default=None,
            help="Requests a second to one host.",
        ),
        click.option(
            "--per-host-connections",
            type=click.IntRange(min=1),
            default=None,
            help="Simultaneous connections to one host.",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0.1),
            default=None,
            help="Seconds before a request is given up.",
        ),
        click.option("--user-agent", default=None, help="User-Agent header to send."),
        click.option(
            "--connect-to",
            "connect_to",
            multiple=True,
            metavar="HOST=ADDR:PORT",
            help="Send requests for HOST to ADDR:PORT over plain HTTP, keeping the Host header "
            "(replays and offline demos). Repeatable.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archiver")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="The archive (SQLite). Default: $ARCHIVER_DB or db/archive.db.",
)
@click.pass_context
def cli(ctx: click.Context, db_path: str | None) -> None:
    """Archive news articles, verify them against canonical copies, and check their links."""
    ctx.obj = {"db_path": db_path or os.environ.get("ARCHIVER_DB") or DEFAULT_DB}


@cli.command("fetch")
@click.argument("urls", nargs=-1, required=True)
@click.option("--head", is_flag=True, help="Send HEAD (GET when the server refuses HEAD).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@fetch_options
def fetch_command(
    urls: tuple[str, ...],
    head: bool,
    as_json: bool,
    per_host_rate: float | None,
    per_host_connections: int | None,
    timeout: float | None,
    user_agent: str | None,
    connect_to: tuple[str, ...],
) -> None:
    """Fetch URLs politely and report what answered; nothing is stored.

    Exit 1 when any URL failed or answered an error status, 3 when nothing answered at all.
    """
    from archiver.fetch import fetch_urls, parse_routes, policy_from_options, summarize

    policy = policy_from_options(
        per_host_rate=per_host_rate,
        per_host_connections=per_host_connections,
        timeout=timeout,
        user_agent=user_agent,
    )
    captures = fetch_urls(
        urls, policy, routes=parse_routes(connect_to), method="HEAD" if head else "GET"
    )
    if as_json:
        emit_json({"captures": [summarize(capture) for capture in captures]})
    else:
        for capture in captures:
            outcome = capture.error or str(capture.status)
            click.echo(
                f"{outcome}\t{capture.final_url}\t{len(capture.body)} bytes\t{capture.detail}"
            )
    failed = [c for c in captures if c.error or not (c.ok or c.not_modified)]
    if failed:
        raise click.exceptions.Exit(1)


def main() -> None:
    """Entry point: run the CLI and turn library errors into one line and an exit code."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if exc.exit_code == 1 else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except ArchiverError as exc:
        click.echo(f"archiver: error: {exc}", err=True)
        sys.exit(exc.exit_code)
