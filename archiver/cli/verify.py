"""``archiver verify``: canonical copies against the live page (or the archive)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from archiver.cli.app import _archive, _archives, _colour, _fetcher, cli, fetch_options
from archiver.cli.capture import executor_of, parallel_options
from archiver.errors import InputError, NetworkUnavailable
from archiver.report.escape import terminal, terminal_line
from archiver.verify.heap import few_full_collections

if TYPE_CHECKING:
    from archiver.verify.job import Verification


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
@click.option(
    "--no-archive-lookup",
    is_flag=True,
    help="Do not ask web archives for copies of broken links (nor look for moved pages).",
)
@fetch_options
@parallel_options
@click.pass_context
def verify(
    ctx: click.Context,
    paths: tuple[str, ...],
    offline: bool,
    no_check_links: bool,
    as_json: bool,
    repair: bool,
    dry_run: bool,
    no_archive_lookup: bool,
    **options: Any,
) -> None:
    """Compare canonical copies with the live pages.

    PATHS are copies (.md), or folders: every .md under them is a copy. A copy that cannot be
    read is reported on stderr and the others are still verified; the exit code is then 2.
    """
    # A pool's processes start now (~0.3-0.5 s: a fork server, the workers' imports) while the
    # job's modules are imported, the copies found and the archive opened, not after.
    executor = ctx.with_resource(executor_of(options))
    if executor is not None:
        executor.submit(int)
    from archiver.verify import job as pipeline
    from archiver.verify.canonical import find_canonical_files

    # The command holds every verdict until it reports them: docs in archiver/verify/heap.py.
    ctx.with_resource(few_full_collections())
    files = find_canonical_files(list(paths))
    if not files:
        where = ", ".join(terminal_line(path) for path in paths)
        raise InputError(f"no canonical copies (*.md) found in {where}")
    errors: list[InputError] = []
    found = _Found(as_json=as_json, keep=repair or dry_run)
    live_offline = False  # live: nothing answered (exit 3)
    with _archive(ctx) as archive:
        if offline:  # each batch reported as it is stored, while the workers go on
            from archiver.parallel.executor import InlineExecutor
            from archiver.verify.offline import verify_offline_batches

            for batch in verify_offline_batches(
                files, archive=archive, executor=executor or InlineExecutor(), errors=errors
            ):
                found.add(batch)
        else:  # the copies parsed and the pages extracted in the workers, if any
            from archiver.links.job import LinkSettings

            archives = _archives(options, no_archive_lookup, None)
            with _fetcher(options) as fetcher:
                results = pipeline.verify_paths(
                    files,
                    fetcher=fetcher,
                    archive=archive,
                    check=not no_check_links,
                    errors=errors,
                    settings=LinkSettings(rescue=archives),
                    executor=executor,
                )
            found.add(results.verifications)
            live_offline = results.offline
    if errors and not found.count:  # nothing readable: the last error is the one-line message
        for error in errors[:-1]:
            click.echo(f"archiver: error: {terminal_line(error)}", err=True)
        raise errors[-1]
    for error in errors:
        click.echo(f"archiver: error: {terminal_line(error)}", err=True)
    repairs = []
    if repair or dry_run:
        from archiver.verify.repair import repair_file

        repairs = [repair_file(r.canonical, r.links, dry_run=dry_run) for r in found.kept]
    summary = dict(sorted(found.summary.items()))
    if as_json:
        from archiver.cli.jsondoc import dumps_with_items

        bad = [{"error": str(error)} for error in errors]
        out: dict[str, Any] = {"results": [], "summary": summary, "errors": bad}
        if repair or dry_run:
            out["repairs"] = [r.to_json() for r in repairs]
        # Bytes, encoded as stdout encodes: the JSON holds no escape code for click to strip.
        pieces = dumps_with_items(out, "results", found.encoded, found.encoding)
        binary = getattr(sys.stdout, "buffer", None)
        if binary is None:  # a text-only stream (a notebook's): one string, as click.echo
            click.echo(b"".join(pieces).decode(*found.encoding))
        else:
            sys.stdout.flush()
            for piece in pieces:
                binary.write(piece)
            binary.write(b"\n")
            binary.flush()
    else:
        for text in found.texts:
            click.echo(text)
        click.echo("summary: " + ", ".join(f"{k}: {v}" for k, v in summary.items()))
        for done in repairs:
            if dry_run and done.diff:
                click.echo(terminal(done.diff), nl=False)
            verb = "would write" if dry_run else "wrote"
            where = terminal_line(done.path)
            click.echo(f"{where}: {verb} {len(done.fixes)} link target(s)", err=True)
            for fix in done.skipped:
                text = terminal_line(fix.text)
                click.echo(f"{where}: not repaired (not an inline link): {text}", err=True)
    if errors:
        ctx.exit(2)
    if live_offline:
        raise NetworkUnavailable("nothing answered: the network looks unavailable; no verdict")
    ctx.exit(1 if found.problems else 0)


class _Found:
    """The verifications as they come, kept as their report's text (a JSON item or the human
    report), the summary's counts and whether any is a problem; the verifications themselves
    only when ``keep`` (``--repair`` needs them). The text of a batch is written while the
    workers compute the next ones, and a text is a tenth of the records it reports."""

    def __init__(self, *, as_json: bool, keep: bool) -> None:
        self.as_json = as_json
        self.keep = keep
        self.colour = False if as_json else _colour()
        self.texts: list[str] = []  # the human reports
        self.encoded: list[bytes] = []  # the JSON items, encoded as stdout encodes text
        stdout = sys.stdout
        self.encoding = (
            getattr(stdout, "encoding", None) or "utf-8",
            getattr(stdout, "errors", None) or "strict",
        )
        self.kept: list[Verification] = []
        self.summary: dict[str, int] = {}
        self.problems = False
        self.count = 0

    def add(self, batch: Sequence[Verification]) -> None:
        from archiver.cli.jsondoc import item_text
        from archiver.report import links as report
        from archiver.verify.job import found_problems, summarize_drift

        for verification in batch:
            document = verification.to_json()
            if self.as_json:
                self.encoded.append(item_text(document, 2).encode(*self.encoding))
            else:
                self.texts.append(report.verification_text(document, colour=self.colour))
        for status, count in summarize_drift(batch).items():
            self.summary[status] = self.summary.get(status, 0) + count
        self.problems = self.problems or found_problems(batch)
        self.count += len(batch)
        if self.keep:
            self.kept.extend(batch)
