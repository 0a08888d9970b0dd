"""The command line: parse options, call one library function, format the result.

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
from archiver.errors import ArchiverError, InputError, NetworkUnavailable
from archiver.extract.profiles import PROFILE_NAMES
from archiver.fetch.fetcher import Fetcher, FetchPolicy, parse_routes, policy_from_options
from archiver.links.check import network_unavailable
from archiver.models import Document
from archiver.report import drift as drift_report
from archiver.report import links as report
from archiver.verify import job as pipeline
from archiver.verify.canonical import find_canonical_files
from archiver.verify.job import summarize_drift

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_DB = os.path.join("db", "archive.db")


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
        return list(self.commands)

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


@cli.command("fetch")
@click.argument("urls", nargs=-1, required=True)
@click.option("--head", is_flag=True, help="Send HEAD (GET when the server refuses HEAD).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@fetch_options
def fetch_command(urls: tuple[str, ...], head: bool, as_json: bool, **options: Any) -> None:
    """Fetch URLs politely and report what answered.

    Nothing is stored. Exit 1 when any URL failed or answered an error status, 3 when nothing
    answered at all.
    """
    from archiver.fetch.fetcher import fetch_urls, summarize

    routes = parse_routes(options["connect_to"])
    captures = fetch_urls(urls, _policy(options), routes=routes, method="HEAD" if head else "GET")
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


# --- fetching commands: snapshot, verify, links ---------------------------------------------


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


@cli.command()
@click.argument("urls", nargs=-1, required=True)
@click.option("--no-links", is_flag=True, help="Capture only the pages, not the sources they link.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@fetch_options
@click.pass_context
def snapshot(
    ctx: click.Context, urls: tuple[str, ...], no_links: bool, as_json: bool, **options: Any
) -> None:
    """Capture each URL and every source it links to.

    The raw bytes, the extraction and their checksums are stored in the archive.
    """
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
@click.option(
    "--repair",
    is_flag=True,
    help="Write recovered link targets (or archived copies of broken ones) into the copies; "
    "nothing else in them changes.",
)
@click.option("--dry-run", is_flag=True, help="With --repair: show the diff, write nothing.")
@fetch_options
@click.pass_context
def verify(
    ctx: click.Context,
    paths: tuple[str, ...],
    offline: bool,
    no_check_links: bool,
    as_json: bool,
    repair: bool,
    dry_run: bool,
    **options: Any,
) -> None:
    """Compare canonical copies with the live pages.

    PATHS are copies (.md), or folders: every .md under them is a copy. A copy that cannot be
    read is reported on stderr and the others are still verified; the exit code is then 2.
    """
    files = find_canonical_files(list(paths))
    if not files:
        raise InputError(f"no canonical copies (*.md) found in {', '.join(paths)}")
    errors: list[InputError] = []
    with _archive(ctx) as archive:
        if offline:
            results = pipeline.verify_paths(files, fetcher=None, archive=archive, errors=errors)
        else:
            with _fetcher(options) as fetcher:
                results = pipeline.verify_paths(
                    files,
                    fetcher=fetcher,
                    archive=archive,
                    check=not no_check_links,
                    errors=errors,
                )
    if errors and not results:  # nothing readable: the last error is the one-line message
        for error in errors[:-1]:
            click.echo(f"archiver: error: {error}", err=True)
        raise errors[-1]
    for error in errors:
        click.echo(f"archiver: error: {error}", err=True)
    repairs = []
    if repair or dry_run:
        from archiver.verify.repair import repair_file

        repairs = [repair_file(r.canonical, r.links, dry_run=dry_run) for r in results]
    documents = [r.to_json() for r in results]
    summary = summarize_drift(results)
    if as_json:
        bad = [{"error": str(error)} for error in errors]
        out: dict[str, Any] = {"results": documents, "summary": summary, "errors": bad}
        if repair or dry_run:
            out["repairs"] = [r.to_json() for r in repairs]
        emit_json(out)
    else:
        for document in documents:
            click.echo(report.verification_text(document, colour=_colour()))
        click.echo("summary: " + ", ".join(f"{k}: {v}" for k, v in summary.items()))
        for done in repairs:
            if dry_run and done.diff:
                click.echo(_printable_block(done.diff), nl=False)
            verb = "would write" if dry_run else "wrote"
            click.echo(f"{done.path}: {verb} {len(done.fixes)} link target(s)", err=True)
            for fix in done.skipped:
                click.echo(f"{done.path}: not repaired (not an inline link): {fix.text}", err=True)
    if errors:
        ctx.exit(2)
    if not offline and pipeline.offline_run(results):
        raise NetworkUnavailable("nothing answered: the network looks unavailable; no verdict")
    ctx.exit(1 if pipeline.found_problems(results) else 0)


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


@cli.command()
@click.argument("target")
@_report_options(report.FORMATS, default="text")
@click.option(
    "--no-archive-lookup",
    is_flag=True,
    help="Do not ask the Wayback Machine for archived copies of broken links.",
)
@click.option(
    "--wayback-url",
    default=None,
    metavar="URL",
    help="Base URL of the Wayback Machine's APIs (default: archive.org).",
)
@_rot_options
@fetch_options
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
    **options: Any,
) -> None:
    """Check every link of TARGET (a URL, .md copy or capture id).

    TARGET is a URL, a canonical copy (.md), or the id of a stored capture. Suspects (timeouts,
    5xx, 401/403/429) turn broken only when the archive has seen them fail on --suspect-checks
    checks over --suspect-days days. Broken links get the archived copy nearest the article's
    publication date from the Wayback Machine.
    """
    from archiver.links.rot import RotPolicy, check_target

    policy = RotPolicy(checks=suspect_checks, days=suspect_days)
    wayback = _wayback(options, no_archive_lookup, wayback_url)
    try:
        with _archive(ctx) as archive, _fetcher(options) as fetcher:
            result = check_target(
                target, fetcher=fetcher, archive=archive, wayback=wayback, policy=policy
            )
    finally:
        if wayback is not None:
            wayback.close()
    checks = list(result.checks)
    text = report.format_links(result.source, checks, "json" if as_json else fmt, colour=_colour())
    _write_report(text, output)
    if result.offline:
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
    type=click.Choice(PROFILE_NAMES),
    default=None,
    help="Force a site profile instead of choosing by URL and markup.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON (JSON Lines for several files).")
def extract_command(
    files: tuple[str, ...], url: str | None, profile: str | None, as_json: bool
) -> None:
    """Extract article text and metadata from saved HTML files.

    Nothing is fetched: links are resolved against --url, or the page's canonical link.
    """
    from archiver.extract.extractor import extract_file, extract_many

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


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def fsck(ctx: click.Context, as_json: bool) -> None:
    """Re-hash every stored body and check SQLite's integrity.

    Exit 1 when a body no longer matches its checksum or the database has problems.
    """
    with _archive(ctx, readonly=True) as archive:
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
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Most hits shown."
)
@click.option("--raw", is_flag=True, help="TEXT is FTS5 query syntax, passed as it is.")
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
@click.pass_context
def search(ctx: click.Context, text: str, limit: int, raw: bool, as_json: bool) -> None:
    """Full-text search over the extracted articles.

    Words are ANDed; "quoted phrases" are kept together (--raw: FTS5 syntax as it is).
    """
    with _archive(ctx, readonly=True) as archive:
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
    help="Output format.",
)
@click.option("-p", "--param", "params", multiple=True, help="A value for a ? in SQL (repeat).")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.pass_context
def query(ctx: click.Context, sql: str, fmt: str, params: tuple[str, ...], as_json: bool) -> None:
    """Run SQL against the archive on a read-only connection."""
    if as_json:
        fmt = "json"
    with _archive(ctx, readonly=True) as archive:
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
    """List every capture of URL and what changed between them.

    Each capture's checksums, how it compares with the one before, and its drift verdicts.
    """
    with _archive(ctx, readonly=True) as archive:
        timeline = pipeline.history_of(url, archive=archive)
    if as_json:
        emit_json({"url": url, "captures": timeline})
        return
    if not timeline:
        click.echo(f"no capture of {_clean(url)}", err=True)
    for item in timeline:
        what = item["error"] or item["status"]
        sha = (item["sha256"] or "-")[:12]
        text = (item["checksum"] or "sha256:-").split(":", 1)[1][:12]
        verdict = item["verification"]["status"] if item["verification"] else "-"
        click.echo(
            f"{item['capture_id']}\t{item['fetched_at']}\t{what}\tbody:{sha}\ttext:{text}\t"
            f"{item['vs_previous']}\tcanonical:{verdict}\tprevious:{item['drift_previous'] or '-'}"
        )


@cli.command("export-warc")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option(
    "--no-revisits",
    is_flag=True,
    help="Write every body in full, even one already written (no revisit records).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def export_warc_command(ctx: click.Context, file: str, no_revisits: bool, as_json: bool) -> None:
    """Write every capture to FILE as gzipped WARC/1.1.

    The file replays in pywb and ReplayWeb.page, and import-warc reads it back.
    """
    with _archive(ctx, readonly=True) as archive:
        count = archive.export_warc(file, revisits=not no_revisits)
    if as_json:
        emit_json({"warc": file, "captures": count})
    else:
        click.echo(f"{count} captures written to {file}", err=True)


@cli.command("import-warc")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def import_warc_command(ctx: click.Context, files: tuple[str, ...], as_json: bool) -> None:
    """Bring the captures of WARC files into the archive.

    Reads what wget --warc-file, Browsertrix or export-warc write.
    """
    counts = {}
    with _archive(ctx) as archive:
        for file in files:
            counts[file] = archive.import_warc(file)
    if as_json:
        emit_json({"imported": counts})
    else:
        for file, count in counts.items():
            click.echo(f"{count} captures imported from {file}", err=True)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(min=0, max=65535),
    default=8001,
    show_default=True,
    help="Port to listen on.",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Browse the archive in Datasette (the serve extra).

    Canned queries for link rot and drift come with it (pip install -e '.[serve]').
    """
    from archiver.archive.store import datasette_app

    app = datasette_app(ctx.obj["db_path"])
    import uvicorn

    click.echo(f"serving {ctx.obj['db_path']} on http://{host}:{port}/", err=True)
    uvicorn.run(app.app(), host=host, port=port, log_level="warning")


# --- reports over the archive: report linkrot, report drift ---------------------------------


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
    from archiver.links.rot import RotPolicy, rot_report, rot_summary

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
    """One scheduled archival run over everything the config names.

    Cron-ready: it takes the archive's lock, and a run killed midway is resumed by the next.
    """
    from archiver.runs import run as scheduled
    from archiver.runs.config import load_config, with_overrides

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


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="archiver")
