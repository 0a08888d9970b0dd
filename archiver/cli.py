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

from archiver import __version__, pipeline, report
from archiver.canonical import find_canonical_files
from archiver.errors import ArchiverError, InputError, NetworkUnavailable
from archiver.fetch import Fetcher, parse_routes, policy_from_options
from archiver.linkcheck import network_unavailable
from archiver.pipeline import summarize_drift
from archiver.store import Archive

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


class BadInput(click.ClickException):
    """Bad usage or bad input, shown as one line (exit 2)."""

    exit_code = 2


class JobFailed(click.ClickException):
    """The job could not be done, shown as one line (exit 3)."""

    exit_code = 3


class ArchiverGroup(click.Group):
    """The one place where library errors become one-line messages and exit codes."""

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


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="archiver")


# --- fetching commands: snapshot, verify, links ---------------------------------------------


def _fetcher(options: dict[str, Any]) -> Fetcher:
    policy = policy_from_options(
        per_host_rate=options.get("per_host_rate"),
        per_host_connections=options.get("per_host_connections"),
        timeout=options.get("timeout"),
        user_agent=options.get("user_agent"),
    )
    return Fetcher(policy, routes=parse_routes(options.get("connect_to") or ()))


def _archive(ctx: click.Context) -> Archive:
    return Archive(ctx.obj["db_path"])


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _write_or_echo(text: str, output: str | None) -> None:
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text)


@cli.command()
@click.argument("urls", nargs=-1, required=True)
@click.option("--no-links", is_flag=True, help="Capture only the pages, not the sources they link.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@fetch_options
@click.pass_context
def snapshot(
    ctx: click.Context, urls: tuple[str, ...], no_links: bool, as_json: bool, **options: Any
) -> None:
    """Capture each URL and every source it links to: raw bytes, extraction, checksums."""
    with _archive(ctx) as archive, _fetcher(options) as fetcher:
        results = pipeline.snapshot(
            list(urls), fetcher=fetcher, archive=archive, follow_links=not no_links
        )
    every = [r.capture for r in results] + [s.capture for r in results for s in r.sources]
    if as_json:
        emit_json({"snapshots": [r.to_json() for r in results]})
    else:
        for result in results:
            click.echo(report.snapshot_text(result))
    if network_unavailable(every):
        raise NetworkUnavailable("nothing answered: the network looks unavailable")
    ctx.exit(0 if all(r.capture.ok for r in results) else 1)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--offline", is_flag=True, help="Compare with the newest stored capture; no fetch.")
@click.option("--no-check-links", is_flag=True, help="Recover link targets but do not check them.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@fetch_options
@click.pass_context
def verify(
    ctx: click.Context,
    paths: tuple[str, ...],
    offline: bool,
    no_check_links: bool,
    as_json: bool,
    **options: Any,
) -> None:
    """Compare canonical copies (files, or every .md under a folder) with the live pages."""
    files = find_canonical_files(list(paths))
    if not files:
        raise InputError(f"no canonical copies (*.md) found in {', '.join(paths)}")
    with _archive(ctx) as archive:
        if offline:
            results = pipeline.verify_paths(files, fetcher=None, archive=archive)
        else:
            with _fetcher(options) as fetcher:
                results = pipeline.verify_paths(
                    files, fetcher=fetcher, archive=archive, check=not no_check_links
                )
    documents = [r.to_json() for r in results]
    summary = summarize_drift(results)
    if as_json:
        emit_json({"results": documents, "summary": summary})
    else:
        for document in documents:
            click.echo(report.verification_text(document, colour=_colour()))
        click.echo("summary: " + ", ".join(f"{k}: {v}" for k, v in summary.items()))
    if not offline and pipeline.offline_run(results):
        raise NetworkUnavailable("nothing answered: the network looks unavailable; no verdict")
    drifted = any(r.drift.status in ("edited", "rewritten", "missing") for r in results)
    broken = any(c.broken for r in results for c in r.links)
    ctx.exit(1 if drifted or broken else 0)


@cli.command()
@click.argument("target")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(report.FORMATS),
    default="text",
    help="Output format.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report here.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@fetch_options
@click.pass_context
def links(
    ctx: click.Context,
    target: str,
    fmt: str,
    output: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Check every link of TARGET: a URL, a canonical copy (.md), or a stored capture id."""
    with _archive(ctx) as archive, _fetcher(options) as fetcher:
        source, checks = pipeline.links_of(target, fetcher=fetcher, archive=archive)
    text = report.format_links(source, checks, "json" if as_json else fmt, colour=_colour())
    _write_or_echo(text, output)
    if checks and all(
        c.status == "network_unavailable" for c in checks if c.status != "placeholder"
    ):
        raise NetworkUnavailable("nothing answered: the network looks unavailable; no verdict")
    ctx.exit(1 if any(c.broken for c in checks) else 0)


# --- offline commands: extract ---------------------------------------------------------------


@cli.command("extract")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--url", default=None, help="The page's URL (for resolving links); default: its canonical link."
)
@click.option(
    "--profile",
    type=click.Choice(["moscowtimes", "generic"]),
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


def _summary(path: str, doc: Any) -> str:
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
        result = archive.fsck()
    if as_json:
        emit_json(result.to_json())
    else:
        for problem in result.problems:
            where = ", ".join(str(i) for i in problem.capture_ids) or "-"
            urls = " ".join(_clean(u) for u in problem.urls)
            click.echo(f"{problem.kind}: captures {where} {urls}: {_clean(problem.detail)}")
        verdict = "ok" if result.ok else f"{len(result.problems)} problem(s)"
        click.echo(
            f"{result.bodies_checked} bodies ({result.bytes_checked} bytes) of "
            f"{result.captures} captures checked: {verdict}"
        )
    ctx.exit(0 if result.ok else 1)


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
@click.pass_context
def query(ctx: click.Context, sql: str, fmt: str, params: tuple[str, ...]) -> None:
    """Run SQL against the archive on a read-only connection."""
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
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def export_warc_command(ctx: click.Context, file: str, as_json: bool) -> None:
    """Write every capture to FILE as gzipped WARC/1.1 (replayable in pywb, ReplayWeb.page)."""
    with _open_archive(ctx, readonly=True) as archive:
        count = archive.export_warc(file)
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


# -- scheduled runs (issue 8) -----------------------------------------------------------------


@cli.command("run")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="The run's TOML config. Default: $ARCHIVER_CONFIG or archive.toml.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run's summary as JSON.")
@click.option(
    "-q", "--quiet", is_flag=True, help="Print nothing unless something new broke or drifted."
)
@fetch_options
@click.pass_context
def run_command(
    ctx: click.Context, config_path: str | None, as_json: bool, quiet: bool, **options: Any
) -> None:
    """One scheduled archival run over everything the config names (cron-ready, resumable)."""
    from archiver import run as scheduled
    from archiver.config import load_config, with_overrides

    path = config_path or os.environ.get("ARCHIVER_CONFIG") or "archive.toml"
    config = with_overrides(load_config(path), **options)
    explicit = ctx.find_root().params.get("db_path") or os.environ.get("ARCHIVER_DB")
    db_path = explicit or config.db_path() or ctx.obj["db_path"]
    with scheduled.progress_bar() as progress:
        result = scheduled.run(config, db_path=db_path, progress=progress)
    summary = result.to_json()
    if as_json:
        emit_json(summary)
    elif not quiet or summary["new_broken"] or summary["new_drift"] or summary["errors"]:
        click.echo(scheduled.summary_text(summary))
    ctx.exit(result.exit_code)
