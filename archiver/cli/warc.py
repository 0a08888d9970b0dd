"""WARC in and out: ``export-warc``, ``import-warc``."""

from __future__ import annotations

from typing import Any

import click

from archiver.cli.app import _archive, cli, emit_json
from archiver.cli.capture import executor_of, parallel_options


@cli.command("export-warc")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--no-revisits",
    is_flag=True,
    help="Write every body in full, even one already written (no revisit records).",
)
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@click.option(
    "--gzip/--plain",
    "gzip",
    default=None,
    help="gzip per record or plain; by default gzip for a .gz name and for -, plain otherwise.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def export_warc_command(
    ctx: click.Context,
    file: str,
    no_revisits: bool,
    force: bool,
    gzip: bool | None,
    as_json: bool,
) -> None:
    """Write every capture to FILE as WARC/1.1 (- for standard output).

    The file replays in pywb and ReplayWeb.page (docs/warc.md), and import-warc reads it back.
    An existing FILE is refused unless --force.
    """
    if file == "-" and as_json:
        raise click.UsageError("--json prints to standard output, where the WARC goes: use one")
    with _archive(ctx, readonly=True) as archive:
        from archiver.archive.warc_export import export_warc  # here: --help stays light

        count = export_warc(archive, file, revisits=not no_revisits, force=force, gzip=gzip)
    if as_json:
        emit_json({"warc": file, "captures": count})
    else:
        where = "standard output" if file == "-" else file
        click.echo(f"{count} captures written to {where}", err=True)


@cli.command("export-wacz")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--no-revisits",
    is_flag=True,
    help="Write every body in full, even one already written (no revisit records).",
)
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def export_wacz_command(
    ctx: click.Context, file: str, no_revisits: bool, force: bool, as_json: bool
) -> None:
    """Write every capture to FILE as a WACZ (ReplayWeb.page, Browsertrix).

    The WARC, its CDXJ index, the list of archived pages with their titles, and a
    datapackage.json with every file's SHA-256, in one zip.
    """
    with _archive(ctx, readonly=True) as archive:
        from archiver.archive.wacz import export_wacz

        result = export_wacz(archive, file, revisits=not no_revisits, force=force)
    if as_json:
        emit_json(
            {
                "wacz": file,
                "captures": result.captures,
                "records": result.records,
                "pages": result.pages,
            }
        )
    else:
        click.echo(f"{result.captures} captures ({result.pages} pages) written to {file}", err=True)


@cli.command("import-warc")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=None,
    help="Refuse a record whose payload is larger (default: the fetcher's cap, 32 MiB).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@parallel_options
@click.pass_context
def import_warc_command(
    ctx: click.Context,
    files: tuple[str, ...],
    max_bytes: int | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Bring the captures of WARC, ARC and WACZ files into the archive.

    Reads what wget --warc-file, Heritrix, Browsertrix, warcprox or export-warc write; every
    HTML page is extracted, so search and links work on it. Prints what each file gave: records
    by type, captures imported, skipped and why, and records flagged (a failed digest, a record
    cut short), which are imported all the same. Exit 1 when any record was flagged or a file
    was not readable to its end. With --workers or --scheduler the pages are extracted in
    worker processes while the file is read on; the archive is the same.
    """
    from archiver.archive.warc_import import import_file  # here: --help stays light

    summaries = []
    with executor_of(options) as executor, _archive(ctx) as archive:
        for file in files:
            summaries.append(import_file(archive, file, max_bytes=max_bytes, executor=executor))
    if as_json:
        emit_json(
            {
                "imported": {s.path: s.added for s in summaries},
                "files": [s.to_json() for s in summaries],
            }
        )
    else:
        for summary in summaries:
            for line in summary.lines():
                click.echo(line, err=True)
    if any(s.problems for s in summaries):
        ctx.exit(1)
