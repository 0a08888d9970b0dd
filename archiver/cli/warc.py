"""WARC in and out: ``export-warc``, ``import-warc``."""

from __future__ import annotations

import click

from archiver.cli.app import _archive, cli, emit_json


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
