"""``archiver run``: one scheduled archival run."""

from __future__ import annotations

import os
from typing import Any

import click

from archiver.cli.app import cli, emit_json, fetch_options


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
@click.option(
    "--workers",
    type=click.IntRange(min=0, max=256),
    default=None,
    metavar="N",
    help="Extract and compare in N worker processes (1: in this process; 0: one per CPU; "
    "default: one per CPU when at least 64 items are due). Overrides [cluster] workers.",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDR",
    help="Extract and compare on the Dask cluster at ADDR (tcp://host:8786); needs pip "
    "install 'archiver[cluster]'. Overrides [cluster] scheduler.",
)
@fetch_options
@click.pass_context
def run_command(
    ctx: click.Context, config_path: str | None, as_json: bool, quiet: bool, **options: Any
) -> None:
    """One scheduled archival run over everything the config names.

    Cron-ready: it takes the archive's lock, and a run killed midway is resumed by the next.
    """
    from archiver.runs import console
    from archiver.runs import run as scheduled
    from archiver.runs.config import load_config, with_overrides

    path = config_path or os.environ.get("ARCHIVER_CONFIG") or "archive.toml"
    config = with_overrides(load_config(path), **options)
    db_path = ctx.obj.get("db_explicit") or config.db_path() or ctx.obj["db_path"]
    with console.progress_bar() as progress:
        result = scheduled.run(config, db_path=db_path, progress=progress)
    summary = result.to_json()
    if as_json:
        emit_json(summary)
    elif not quiet or summary["new_broken"] or summary["new_drift"] or summary["errors"]:
        click.echo(console.summary_text(summary))
    ctx.exit(result.exit_code)
