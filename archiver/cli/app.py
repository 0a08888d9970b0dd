"""The command line's frame: the group, the shared options, the one place errors become exit codes.

Library errors (``archiver.errors``) become a one-line message and the contract's exit code in
one place, ``main``; nothing else here catches exceptions.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from archiver import __version__
from archiver.archive.store import Archive
from archiver.errors import ArchiverError
from archiver.fetch.fetcher import Fetcher, FetchPolicy, parse_routes, policy_from_options

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_DB = os.path.join("db", "archive.db")

#: The order ``--help`` lists the commands in: fetching first, then extraction, the archive's
#: readers and keepers, the reports and the run.
ORDER = (
    "fetch",
    "snapshot",
    "verify",
    "links",
    "extract",
    "fsck",
    "search",
    "query",
    "history",
    "export-warc",
    "import-warc",
    "serve",
    "report",
    "run",
    "seal",
    "key",
)


def emit_json(data: Any) -> None:
    """Print one JSON document on stdout (the contract: nothing else goes there)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _stacked(options: list[Callable[[F], F]]) -> Callable[[F], F]:
    """One decorator applying ``options`` so that ``--help`` lists them in this order."""

    def decorate(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


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
    return _stacked(options)(func)


class _OneLine(click.ClickException):
    """A library error as one line on stderr, ``archiver: error: ...`` (as git and curl do)."""

    def show(self, file: Any = None) -> None:
        click.echo(f"archiver: error: {self.format_message()}", err=True, file=file)


class BadInput(_OneLine):
    """Bad usage or bad input, shown as one line (exit 2)."""

    exit_code = 2


class JobFailed(_OneLine):
    """The job could not be done, shown as one line (exit 3)."""

    exit_code = 3


class ArchiverGroup(click.Group):
    """The one place where library errors become one-line messages and exit codes.

    ``--help`` lists the commands in the order this module defines them: the fetching ones
    first, then extraction, the archive's readers and keepers, the reports and the run.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        known = [name for name in ORDER if name in self.commands]
        return known + [name for name in self.commands if name not in ORDER]

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArchiverError as exc:
            failure = BadInput if exc.exit_code == 2 else JobFailed
            raise failure(str(exc)) from exc


@click.group(cls=ArchiverGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


def _policy(options: dict[str, Any]) -> FetchPolicy:
    """The fetch policy the command line's ``fetch_options`` ask for."""
    return policy_from_options(
        per_host_rate=options.get("per_host_rate"),
        per_host_connections=options.get("per_host_connections"),
        timeout=options.get("timeout"),
        user_agent=options.get("user_agent"),
    )


def _fetcher(options: dict[str, Any]) -> Fetcher:
    return Fetcher(_policy(options), routes=parse_routes(options.get("connect_to") or ()))


def _archive(ctx: click.Context, *, readonly: bool = False) -> Archive:
    """The archive ``--db`` names; read-only for the commands that only read it."""
    return Archive(ctx.obj["db_path"], readonly=readonly)


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _rot_options(func: F) -> F:
    """How long a suspect link must keep failing before it is called broken."""
    options = [
        click.option(
            "--suspect-checks",
            type=click.IntRange(min=1),
            default=3,
            show_default=True,
            help="Checks a suspect (timeout, 5xx, 401/403/429...) must fail before it is broken.",
        ),
        click.option(
            "--suspect-days",
            type=click.IntRange(min=1),
            default=3,
            show_default=True,
            help="Different days those failing checks must span.",
        ),
    ]
    return _stacked(options)(func)


def _report_options(
    formats: Sequence[str],
    *,
    default: str,
    help: str = "Output format.",  # noqa: A002
) -> Callable[[F], F]:
    """--format, -o/--output and --json, as every command that writes a report takes them."""
    return _stacked(
        [
            click.option(
                "--format",
                "fmt",
                type=click.Choice(formats),
                default=default,
                show_default=True,
                help=help,
            ),
            click.option(
                "-o", "--output", type=click.Path(dir_okay=False), help="Write the report here."
            ),
            click.option("--json", "as_json", is_flag=True, help="Same as --format json."),
        ]
    )


def _write_report(text: str, output: str | None) -> None:
    """The report into ``output`` (saying so on stderr), or on stdout."""
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text)


def _wayback(options: dict[str, Any], no_lookup: bool, wayback_url: str | None) -> Any:
    """The Wayback client, or None: off on request, and off in replays unless pointed somewhere.

    A run with ``--connect-to`` stands in for the web (tests, the offline demo); asking the real
    archive.org from it would leave the machine, so it needs an explicit ``--wayback-url``.
    """
    from archiver.links.wayback import DEFAULT_TIMEOUT, Wayback

    if no_lookup or os.environ.get("ARCHIVER_NO_ARCHIVE_LOOKUP"):
        return None
    if options.get("connect_to") and not wayback_url:
        return None
    timeout = min(DEFAULT_TIMEOUT, options.get("timeout") or DEFAULT_TIMEOUT)
    return Wayback(base_url=wayback_url, timeout=timeout)


def _printable_block(text: str) -> str:
    """Lines of page-derived text made safe for a terminal, line breaks kept."""
    return "".join(_printable(line) + "\n" for line in text.splitlines())


def _printable(text: str) -> str:
    """Drop control characters, so page text cannot drive the terminal."""
    return "".join(ch for ch in text if ch.isprintable() or ch == " ")


# -- reading and keeping the archive (store) ------------------------------------------------

_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)] if c not in (0x09,)}


def _clean(value: Any) -> str:
    """A value made safe for a terminal: page text may carry escape sequences."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value).translate(_CONTROL)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        import base64

        return {"$base64": True, "encoded": base64.b64encode(value).decode("ascii")}
    return value
