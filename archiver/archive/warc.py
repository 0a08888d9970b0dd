"""WARC in and out of the archive, with warcio, so the web-archiving world can read it.

- ``warc_export``: WARC/1.1 that pywb and ReplayWeb.page replay (``export_warc``);
- ``wacz``: the same as a WACZ package (``export_wacz``);
- ``warc_import`` (with ``warc_sources``): WARC, ARC and WACZ files from any tool brought in
  whole, bounded, the archive's own exports exactly (``import_file``, ``import_warc``);
- ``warc_records``: what export and import share (dates, headers, the metadata record).

This module names the entry points ``Archive.export_warc`` and ``Archive.import_warc`` call.
"""

from __future__ import annotations

from archiver.archive.warc_export import export_warc
from archiver.archive.warc_import import ImportSummary, import_file, import_warc

__all__ = ["ImportSummary", "export_warc", "import_file", "import_warc"]
