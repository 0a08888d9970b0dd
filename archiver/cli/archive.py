"""Commands that read and keep the archive: fsck, search, query, history, serve."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import click

from archiver.archive import DEFAULT_QUERY_TIMEOUT, MAX_QUERY_TIMEOUT
from archiver.cli.app import _archive, _clean, _jsonable, cli, emit_json
from archiver.report.escape import write_csv


def _a_number(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """Refuse ``nan``, which every range check lets through."""
    if math.isnan(value):
        raise click.BadParameter("not a number")
    return value


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The archive's signing key, to check the checkpoints against. Default: $ARCHIVER_KEY "
    "or ~/.config/archiver/signing.key.",
)
@click.pass_context
def fsck(ctx: click.Context, as_json: bool, key_path: Path | None) -> None:
    """Re-hash every stored body, check SQLite's integrity and the evidence log.

    The evidence log is recomputed from the rows: a record changed, removed or reordered since
    it was logged is named, even when its SHA-256 was changed with it, and every signed
    checkpoint is checked against the archive's key. Exit 1 when anything does not match.
    """
    from archiver.evidence.audit import audit

    with _archive(ctx, readonly=True) as archive:
        result = archive.fsck()
        evidence = audit(archive, key=key_path) if archive.has_evidence_log() else None
    ok = result.ok and (evidence is None or evidence.ok)
    if as_json:
        emit_json(
            {**result.to_json(), "ok": ok, "evidence": evidence.to_json() if evidence else None}
        )
    else:
        for problem in result.problems:
            where = ", ".join(str(i) for i in problem.capture_ids) or "-"
            urls = " ".join(_clean(u) for u in problem.urls)
            click.echo(f"{problem.kind}: captures {where} {urls}: {_clean(problem.detail)}")
        for found in evidence.problems if evidence else ():
            click.echo(f"evidence {found.kind}: {_clean(found.detail)}")
        verdict = "ok" if result.ok else f"{len(result.problems)} problem(s)"
        click.echo(
            f"{result.bodies_checked} bodies ({result.bytes_checked} bytes) of "
            f"{result.captures} captures checked: {verdict}"
        )
        if evidence is not None:
            said = "ok" if evidence.ok else f"{len(evidence.problems)} problem(s)"
            key = f"key {evidence.key_id}" if evidence.key_id else "the keys stored beside them"
            click.echo(
                f"evidence log: {evidence.records} records, {evidence.checkpoints} signed "
                f"checkpoint(s) checked against {key}, {evidence.unlogged} not yet sealed: {said}"
            )
    ctx.exit(0 if ok else 1)


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
        emit_json({"query": text, "results": [hit.to_json() for hit in hits]})
        return
    for hit in hits:
        click.echo(f"{hit.capture_id}\t{hit.last_seen}\t{_clean(hit.url)}")
        click.echo(f"  {_clean(hit.title)}")
        click.echo(f"  {_clean(' '.join(str(hit.snippet).split()))}")
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
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, max=MAX_QUERY_TIMEOUT),
    default=DEFAULT_QUERY_TIMEOUT,
    show_default=True,
    callback=_a_number,
    help="Seconds the query may run before it is stopped (exit 3); 0: no limit.",
)
@click.pass_context
def query(
    ctx: click.Context,
    sql: str,
    fmt: str,
    params: tuple[str, ...],
    as_json: bool,
    timeout: float,
) -> None:
    """Run SQL against the archive on a read-only connection.

    The query is stopped after --timeout seconds (exit 3), and at once by Ctrl-C.
    """
    if as_json:
        fmt = "json"
    with _archive(ctx, readonly=True) as archive:
        columns, rows = archive.query(sql, params, timeout=timeout or None)
    if fmt == "json":
        emit_json([{c: _jsonable(v) for c, v in zip(columns, row, strict=True)} for row in rows])
    elif fmt == "csv":
        write_csv(sys.stdout, columns, rows)  # the one CSV writer: formula cells protected
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
        from archiver.verify.history import history_of  # here: --help stays light

        timeline = history_of(url, archive=archive)
    if as_json:
        emit_json({"url": url, "captures": [item.to_json() for item in timeline]})
        return
    if not timeline:
        click.echo(f"no capture of {_clean(url)}", err=True)
    for item in timeline:
        what = item.error or item.status
        sha = (item.sha256 or "-")[:12]
        text = (item.checksum or "sha256:-").split(":", 1)[1][:12]
        verdict = item.verification.status if item.verification else "-"
        click.echo(
            f"{item.capture_id}\t{item.fetched_at}\t{what}\tbody:{sha}\ttext:{text}\t"
            f"{item.vs_previous}\tcanonical:{verdict}\tprevious:{item.drift_previous or '-'}"
        )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(min=0, max=65535),
    default=8001,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME",
    help="Another name to answer to in the Host header (a proxy's); repeat.",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, allow_hosts: tuple[str, ...]) -> None:
    """Browse the archive in Datasette (the serve extra), read-only.

    Canned queries for link rot and drift come with it (pip install -e '.[serve]'). Only the
    host names it is bound to are answered (no DNS rebinding); writes get 405.
    """
    from archiver.archive.serve import serve_app

    app = serve_app(ctx.obj["db_path"], host, extra_hosts=allow_hosts)
    import uvicorn

    click.echo(f"serving {ctx.obj['db_path']} on http://{host}:{port}/", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


# --- reports over the archive: report linkrot, report drift ---------------------------------
