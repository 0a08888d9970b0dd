"""Commands that capture and extract: ``fetch``, ``snapshot``, ``extract``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from archiver.cli.app import _archive, _fetcher, _policy, cli, emit_json, fetch_options
from archiver.errors import ArchiverError, InputError, NetworkUnavailable
from archiver.models import Document
from archiver.report.escape import terminal_line

if TYPE_CHECKING:
    from concurrent.futures import Executor

F = TypeVar("F", bound=Callable[..., Any])


def parallel_options(command: F) -> F:
    """``--workers N`` and ``--scheduler ADDR``: where the pure work (extraction, parsing,
    comparing) runs. Fetching and the archive's one writer stay in this process."""
    command = click.option(
        "--scheduler",
        default=None,
        metavar="ADDR",
        help="Run the pure work on the Dask cluster at ADDR (tcp://host:8786); needs "
        "pip install 'archiver[cluster]'.",
    )(command)
    return click.option(
        "--workers",
        type=click.IntRange(min=0, max=256),
        default=None,
        metavar="N",
        help="Extract, parse and compare in N worker processes (0: one per CPU; default: "
        "in this process).",
    )(command)


@contextmanager
def executor_of(options: dict[str, Any]) -> Iterator[Executor | None]:
    """The executor the options ask for, or None (the work stays in this process)."""
    workers, scheduler = options.pop("workers", None), options.pop("scheduler", None)
    if scheduler is None and workers in (None, 1):
        yield None
        return
    from archiver.parallel.executor import open_executor

    with open_executor(workers=workers, scheduler=scheduler) as executor:
        yield executor


class _ProfileName(click.ParamType):
    """A site profile's name, checked against the registry only when one is given or ``extract
    --help`` lists them, so that ``archiver --help`` does not load the profiles (and lxml)."""

    name = "profile"

    @staticmethod
    def _names() -> tuple[str, ...]:
        from archiver.extract.profiles import PROFILE_NAMES

        return tuple(PROFILE_NAMES)

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return f"[{'|'.join(self._names())}]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        names = self._names()
        if value in names:
            return str(value)
        self.fail(f"{value!r} is not one of {', '.join(map(repr, names))}.", param, ctx)


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
    from archiver.fetch.fetcher import fetch_urls, parse_routes, summarize

    routes = parse_routes(options["connect_to"])
    captures = fetch_urls(urls, _policy(options), routes=routes, method="HEAD" if head else "GET")
    if as_json:
        emit_json({"captures": [summarize(capture) for capture in captures]})
    else:
        for capture in captures:
            outcome = capture.error or str(capture.status)
            click.echo(
                f"{outcome}\t{terminal_line(capture.final_url)}\t{len(capture.body)} bytes\t"
                f"{terminal_line(capture.detail)}"
            )
    failed = [c for c in captures if c.error or not (c.ok or c.not_modified)]
    if failed:
        raise click.exceptions.Exit(1)


# --- fetching commands: snapshot, verify, links ---------------------------------------------


@cli.command()
@click.argument("urls", nargs=-1, required=True)
@click.option("--no-links", is_flag=True, help="Capture only the pages, not the sources they link.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@fetch_options
@parallel_options
@click.pass_context
def snapshot(
    ctx: click.Context, urls: tuple[str, ...], no_links: bool, as_json: bool, **options: Any
) -> None:
    """Capture each URL and every source it links to.

    The raw bytes, the extraction and their checksums are stored in the archive.
    """
    from archiver.capture.snapshot import snapshot as snapshot_job
    from archiver.fetch.urls import refuse_schemeless
    from archiver.report import links as report

    refuse_schemeless(urls)  # before the archive is opened: nothing is stored
    with executor_of(options) as executor, _archive(ctx) as archive, _fetcher(options) as fetcher:
        results = snapshot_job(
            list(urls),
            fetcher=fetcher,
            archive=archive,
            follow_links=not no_links,
            executor=executor,
        )
    if as_json:
        emit_json({"snapshots": [r.to_json() for r in results]})
    else:
        for result in results:
            click.echo(report.snapshot_text(result))
    if fetcher.traffic().nothing_answered:  # the one rule: models.Traffic
        raise NetworkUnavailable("nothing answered: the network looks unavailable")
    ctx.exit(0 if all(r.capture.ok for r in results) else 1)


@cli.command("extract")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--url", default=None, help="The page's URL (for resolving links); default: its canonical link."
)
@click.option(
    "--profile",
    type=_ProfileName(),
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
            click.echo(f"archiver: error: {terminal_line(result)}", err=True)
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
    return "\n".join(terminal_line(line) for line in lines)
