"""Evidence: ``seal`` (log and sign a checkpoint), ``key`` (the public key to hand out)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from archiver.cli.app import _archive, _fetcher, cli, emit_json, fetch_options

_KEY = click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The signing key (made on first use, 0600). Default: $ARCHIVER_KEY or "
    "~/.config/archiver/signing.key.",
)


@cli.command("seal")
@_KEY
@click.option(
    "--tsa",
    "tsa_url",
    default=None,
    metavar="URL",
    help="Have this RFC 3161 time-stamping authority stamp the checkpoint.",
)
@click.option(
    "--tsa-cert",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="The TSA's certificate (PEM), to check its answer.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@fetch_options
@click.pass_context
def seal_command(
    ctx: click.Context,
    key_path: Path | None,
    tsa_url: str | None,
    tsa_cert: Path | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Log every record not yet logged and sign a checkpoint of the log (runs do it too)."""
    from archiver.evidence.seal import seal
    from archiver.evidence.settings import EvidenceSettings

    settings = EvidenceSettings(key=key_path, tsa=tsa_url, tsa_cert=tsa_cert)
    with _archive(ctx) as archive, _fetcher(options) as fetcher:
        done = seal(archive, settings=settings, fetcher=fetcher)
    if as_json:
        emit_json(done.to_json())
        return
    point = done.checkpoint
    stamp = point.timestamp_detail or ("timestamped" if point.token else "not timestamped")
    click.echo(
        f"checkpoint {point.id}: {point.size} records ({done.added} new), root "
        f"{point.root.hex()[:16]}…, signed by key {point.key_id}; {stamp}"
    )


@cli.command("key")
@_KEY
def key_command(key_path: Path | None) -> None:
    """Print the archive's public key (PEM): what a reader needs to check a proof."""
    from archiver.evidence import keys

    click.echo(keys.public_pem(keys.load_or_create(key_path)).decode(), nl=False)
