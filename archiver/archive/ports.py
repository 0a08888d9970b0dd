"""What WARC import and export need of an archive, as a protocol.

``warc`` works on anything with these methods (the ``Archive`` has them), so ``store`` can
offer ``archive.export_warc()`` without ``warc`` importing ``store``: no import cycle.
"""

from __future__ import annotations

from typing import Any, Protocol

from archiver.archive.records import StoredCapture
from archiver.models import Capture, Document


class CaptureArchive(Protocol):
    """The captures and the run log of an archive, as WARC import and export use them."""

    def capture_ids(self) -> list[int]: ...

    def get_capture(self, capture_id: int) -> StoredCapture | None: ...

    def body(self, sha256: str) -> bytes | None: ...

    def has_capture(self, capture: Capture) -> bool: ...

    def save_capture(
        self, capture: Capture, document: Document | None = None, *, run_id: int | None = None
    ) -> int: ...

    def start_run(self, *, command: str, config: str | None = None) -> int: ...

    def finish_run(self, run_id: int, *, status: str, summary: dict[str, Any]) -> None: ...
