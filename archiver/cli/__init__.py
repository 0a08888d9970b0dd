"""The command line: a thin layer that parses options, calls one job, formats, exits."""

from archiver.cli.commands import cli, main

__all__ = ["cli", "main"]
