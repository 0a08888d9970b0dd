"""The command line: a thin layer that parses options, calls one job, formats, exits.

``app`` holds the group, the shared options and the one place where library errors become the
contract's exit codes; each other module holds the commands of one area and registers them on
the group when imported. Those modules import only click and light records at the top; the
jobs, the fetcher, the archive and the extractor are imported inside the commands that use
them, so ``archiver --help`` starts fast.
"""

from __future__ import annotations

from archiver.cli.app import ArchiverGroup, cli, entry, main

__all__ = ["cli", "entry", "main"]

#: Each command's module, imported on first use (``ArchiverGroup.get_command``): a command
#: starts with its own imports only, not every command's.
COMMAND_MODULES = {
    "fetch": "capture",
    "snapshot": "capture",
    "extract": "capture",
    "verify": "verify",
    "links": "links",
    "fsck": "archive",
    "search": "archive",
    "query": "archive",
    "history": "archive",
    "serve": "archive",
    "export-warc": "warc",
    "export-wacz": "warc",
    "import-warc": "warc",
    "report": "reports",
    "run": "run",
    "seal": "evidence",
    "key": "evidence",
    "prove": "evidence",
    "check-proof": "evidence",
}
_MODULES = ("archive", "capture", "evidence", "links", "reports", "run", "verify", "warc")

assert isinstance(cli, ArchiverGroup)
cli.lazy = {name: f"archiver.cli.{module}" for name, module in COMMAND_MODULES.items()}
cli.modules = tuple(f"archiver.cli.{module}" for module in _MODULES)
