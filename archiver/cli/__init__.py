"""The command line: a thin layer that parses options, calls one job, formats, exits.

``app`` holds the group, the shared options and the one place where library errors become the
contract's exit codes; each other module holds the commands of one area and registers them on
the group when imported. Those modules import only click and light records at the top; the
jobs, the fetcher, the archive and the extractor are imported inside the commands that use
them, so ``archiver --help`` starts fast.
"""

from __future__ import annotations

from archiver.cli import archive, capture, evidence, links, reports, run, verify, warc
from archiver.cli.app import cli, main

__all__ = ["cli", "main"]
_COMMANDS = (archive, capture, evidence, links, reports, run, verify, warc)  # imported to register
