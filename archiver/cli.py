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


# -- reading and keeping the archive (store) ------------------------------------------------

_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)] if c not in (0x09,)}


def _clean(value: Any) -> str:
    """A value made safe for a terminal: page text may carry escape sequences."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value).translate(_CONTROL)


def _open_archive(ctx: click.Context, *, readonly: bool) -> Any:
    from archiver.store import Archive

    return Archive(ctx.obj["db_path"], readonly=readonly)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        import base64

        return {"$base64": True, "encoded": base64.b64encode(value).decode("ascii")}
    return value


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def fsck(ctx: click.Context, as_json: bool) -> None:
    """Re-hash every stored body and run SQLite's integrity check (exit 1 on problems)."""
    with _open_archive(ctx, readonly=True) as archive:
        report = archive.fsck()
    if as_json:
        emit_json(report.to_json())
    else:
        for problem in report.problems:
            where = ", ".join(str(i) for i in problem.capture_ids) or "-"
            urls = " ".join(_clean(u) for u in problem.urls)
            click.echo(f"{problem.kind}: captures {where} {urls}: {_clean(problem.detail)}")
        verdict = "ok" if report.ok else f"{len(report.problems)} problem(s)"
        click.echo(
            f"{report.bodies_checked} bodies ({report.bytes_checked} bytes) of "
            f"{report.captures} captures checked: {verdict}"
        )
    ctx.exit(0 if report.ok else 1)


@cli.command()
@click.argument("text")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--raw", is_flag=True, help="TEXT is FTS5 query syntax, passed as it is.")
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
@click.pass_context
def search(ctx: click.Context, text: str, limit: int, raw: bool, as_json: bool) -> None:
    """Full-text search over extracted articles; words are ANDed, "quoted phrases" kept."""
    with _open_archive(ctx, readonly=True) as archive:
        hits = archive.search(text, limit=limit, raw=raw)
    if as_json:
        emit_json({"query": text, "results": hits})
        return
    for hit in hits:
        click.echo(f"{hit['capture_id']}\t{hit['last_seen']}\t{_clean(hit['url'])}")
        click.echo(f"  {_clean(hit['title'])}")
        click.echo(f"  {_clean(' '.join(str(hit['snippet']).split()))}")
    if not hits:
        click.echo("no match", err=True)


@cli.command()
@click.argument("sql")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@click.option("-p", "--param", "params", multiple=True, help="A value for a ? in SQL (repeat).")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.pass_context
def query(ctx: click.Context, sql: str, fmt: str, params: tuple[str, ...], as_json: bool) -> None:
    """Run SQL against the archive on a read-only connection."""
    if as_json:
        fmt = "json"
    with _open_archive(ctx, readonly=True) as archive:
        columns, rows = archive.query(sql, params)
    if fmt == "json":
        emit_json([{c: _jsonable(v) for c, v in zip(columns, row, strict=True)} for row in rows])
    elif fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(
            [_clean(v) if isinstance(v, bytes) else ("" if v is None else v) for v in row]
            for row in rows
        )
    else:
        cells = [[_clean(v).replace("\\x0a", "\\n") for v in row] for row in rows]
        widths = [len(c) for c in columns]
        for row_cells in cells:
            widths = [max(w, len(v)) for w, v in zip(widths, row_cells, strict=True)]
        click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
        click.echo("  ".join("-" * w for w in widths))
        for row_cells in cells:
            line = "  ".join(v.ljust(w) for v, w in zip(row_cells, widths, strict=True))
            click.echo(line.rstrip())


@cli.command()
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
@click.pass_context
def history(ctx: click.Context, url: str, as_json: bool) -> None:
    """Every capture of URL, its checksums, and how each compares with the one before."""
    with _open_archive(ctx, readonly=True) as archive:
        timeline = archive.history(url)
    if as_json:
        emit_json({"url": url, "captures": timeline})
        return
    if not timeline:
        click.echo(f"no capture of {_clean(url)}", err=True)
    for item in timeline:
        what = item["error"] or item["status"]
        sha = (item["sha256"] or "-")[:12]
        verdict = item["verification"]["status"] if item["verification"] else "-"
        click.echo(
            f"{item['capture_id']}\t{item['fetched_at']}\t{what}\t{sha}\t"
            f"{item['vs_previous']}\tcanonical:{verdict}"
        )


@cli.command("export-warc")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option(
    "--no-revisits",
    is_flag=True,
    help="Write every body in full, even one already written (no revisit records).",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def export_warc_command(ctx: click.Context, file: str, no_revisits: bool, as_json: bool) -> None:
    """Write every capture to FILE as gzipped WARC/1.1 (replayable in pywb, ReplayWeb.page)."""
    with _open_archive(ctx, readonly=True) as archive:
        count = archive.export_warc(file, revisits=not no_revisits)
    if as_json:
        emit_json({"warc": file, "captures": count})
    else:
        click.echo(f"{count} captures written to {file}", err=True)


@cli.command("import-warc")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def import_warc_command(ctx: click.Context, files: tuple[str, ...], as_json: bool) -> None:
    """Bring the captures of WARC files (wget --warc-file, Browsertrix, export-warc) in."""
    counts = {}
    with _open_archive(ctx, readonly=False) as archive:
        for file in files:
            counts[file] = archive.import_warc(file)
    if as_json:
        emit_json({"imported": counts})
    else:
        for file, count in counts.items():
            click.echo(f"{count} captures imported from {file}", err=True)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8001, show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Open the archive in Datasette, with canned queries for link rot and drift (extra)."""
    from archiver.store import datasette_app

    app = datasette_app(ctx.obj["db_path"])
    import uvicorn

    click.echo(f"serving {ctx.obj['db_path']} on http://{host}:{port}/", err=True)
    uvicorn.run(app.app(), host=host, port=port, log_level="warning")
