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
from archiver.errors import ArchiverError, InputError
from archiver.models import Document
from archiver.profiles import PROFILE_NAMES

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


@cli.command("extract")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--url", default=None, help="The page's URL (for resolving links); default: its canonical link."
)
@click.option(
    "--profile",
    type=click.Choice(PROFILE_NAMES),
    default=None,
    help="Force a site profile instead of choosing by URL and markup.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON (JSON Lines for several files).")
def extract_command(
    files: tuple[str, ...], url: str | None, profile: str | None, as_json: bool
) -> None:
    """Extract article text and metadata from saved HTML files (no network)."""
    from archiver.extract import extract_file, extract_many

    if len(files) == 1:
        doc = extract_file(files[0], url=url, profile=profile)
        if as_json:
            emit_json(doc.to_json())
        else:
            click.echo(_summary(files[0], doc))
        return
    failed = 0
    for path, result in extract_many(files, url=url, profile=profile):
        if isinstance(result, ArchiverError):
            failed += 1
            click.echo(f"archiver: error: {result}", err=True)
        elif as_json:
            click.echo(json.dumps(result.to_json(), ensure_ascii=False))
        else:
            click.echo(_summary(path, result))
    if failed:
        raise InputError(f"{failed} of {len(files)} files could not be extracted")


def _summary(path: str, doc: Document) -> str:
    """A few lines a person reads: what was found, and what was assumed."""
    words = sum(len(p.split()) for p in doc.paragraphs)
    lines = [
        f"{path}: {doc.title or '(no title)'}",
        f"  profile {doc.profile}, {len(doc.paragraphs)} paragraphs, {words} words, "
        f"{len(doc.links)} links, {len(doc.images)} images",
        f"  by {', '.join(doc.authors) or '(no author)'}; published {doc.published or '?'}"
        + (f", modified {doc.modified}" if doc.modified else ""),
        f"  {doc.checksum}",
    ]
    lines += [f"  warning: {w}" for w in doc.warnings]
    return "\n".join(_printable(line) for line in lines)


def _printable(text: str) -> str:
    """Drop control characters, so page text cannot drive the terminal."""
    return "".join(ch for ch in text if ch.isprintable() or ch == " ")
