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


_TSA = click.option(
    "--tsa",
    "tsa_url",
    default=None,
    metavar="URL",
    help="Have this RFC 3161 time-stamping authority stamp the checkpoint.",
)
_TSA_CERT = click.option(
    "--tsa-cert",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="The TSA's certificate (PEM), to check its answer.",
)


@cli.command("seal")
@_KEY
@_TSA
@_TSA_CERT
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


@cli.command("prove")
@click.argument("url")
@click.option(
    "--at", "at", default=None, metavar="DATE",
    help="The capture at or just before this date (YYYY-MM-DD or ISO 8601). Default: the newest.",
)  # fmt: skip
@click.option(
    "-o", "--output", "output", required=True,
    type=click.Path(dir_okay=False, path_type=Path), help="The proof file to write (a WACZ).",
)  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite the output file.")
@_KEY
@_TSA
@_TSA_CERT
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@fetch_options
@click.pass_context
def prove_command(
    ctx: click.Context,
    url: str,
    at: str | None,
    output: Path,
    force: bool,
    key_path: Path | None,
    tsa_url: str | None,
    tsa_cert: Path | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Write one signed WACZ proving URL's capture: check it with `archiver check-proof`.

    Seals first (with --tsa, timestamped) when the capture is not in a signed checkpoint yet.
    """
    from archiver.evidence.proof import build
    from archiver.evidence.settings import EvidenceSettings

    settings = EvidenceSettings(key=key_path, tsa=tsa_url, tsa_cert=tsa_cert)
    with _archive(ctx) as archive, _fetcher(options) as fetcher:
        built = build(
            archive, url, str(output), at=at, force=force, settings=settings, fetcher=fetcher
        )
    if as_json:
        emit_json(built.to_json())
        return
    point = built.checkpoint
    click.echo(
        f"wrote {built.path}: capture {built.capture_id} of {built.url} ({built.fetched_at}), "
        f"{built.records} records proven against checkpoint {point.id} (size {point.size}), "
        f"signed by key {point.key_id}" + ("; timestamped" if point.token else "; untimestamped")
    )


@cli.command("check-proof")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--key", "public_key", default=None,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The archive's public key (PEM, from `archiver key`) that you trust.",
)  # fmt: skip
@click.option(
    "--tsa-cert", default=None, type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The time-stamping authority's certificate (PEM), to check the timestamp.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def check_proof_command(
    file: Path, public_key: Path | None, tsa_cert: Path | None, as_json: bool
) -> None:
    """Check a proof file offline (no archive, no network); exit 0 valid, 1 not valid."""
    from archiver.errors import InputError
    from archiver.evidence import keys, proof, tsa

    try:
        data = file.read_bytes()
        trusted = (
            keys.load_public(public_key.read_bytes(), name=str(public_key)) if public_key else None
        )
        roots = tsa.load_roots(tsa_cert.read_bytes()) if tsa_cert else []
    except OSError as exc:
        raise InputError(f"{exc.filename}: {exc.strerror}") from exc
    except ValueError as exc:
        raise InputError(f"{tsa_cert}: not a PEM certificate") from exc
    result = proof.check(data, trusted=trusted, tsa_roots=roots)
    if as_json:
        emit_json(result.to_json())
    elif not result.valid:
        click.echo(f"NOT VALID: {result.reason}")
    else:
        for line in proof_lines(result):
            click.echo(line)
    if not result.valid:
        raise click.exceptions.Exit(1)


def proof_lines(result: Any) -> list[str]:
    """What a valid proof shows, in plain words."""
    from archiver.evidence.proof import NOT_PROVEN, PROVES

    who = (
        f"checked with the key you gave (id {result.key_id})"
        if result.key_given
        else f"checked only with the key inside the file (id {result.key_id}): this proves "
        "nothing about who made it; give --key with the archive's published public key"
    )
    return [
        f"VALID: {result.url} as captured at {result.fetched_at}",
        f"  body sha256 {result.body_sha256}; {result.records} records proven in the log",
        f"  checkpoint of {result.checkpoint_size} records, signed {result.checkpoint_time}; "
        + who,
        f"  time: {result.timestamp}",
        "proves: " + PROVES.format(size=result.checkpoint_size, time=result.checkpoint_time),
        "does not prove: " + NOT_PROVEN,
    ]
