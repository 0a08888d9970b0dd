from archiver.cli import entry

entry()
