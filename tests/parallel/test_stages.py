"""extract_captures: what the jobs' extract_capture gives, from workers, in order."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from archiver.capture.snapshot import extract_capture
from archiver.models import Capture
from archiver.parallel.executor import open_executor
from archiver.parallel.stages import extract_captures

ROOT = Path(__file__).resolve().parents[2]


def _captures() -> list[Capture]:
    out = []
    for path in sorted(ROOT.glob("tests/web/pages/*.html")):
        url = f"https://pages.example/{path.stem}"
        out.append(
            Capture(url=url, final_url=url, status=200, body=path.read_bytes(), content_type=None)
        )
    page = out[0].body
    out += [
        Capture(url="https://a.example/gone", final_url="https://a.example/gone", status=404,
                body=page, content_type="text/html"),
        Capture(url="https://a.example/f.pdf", final_url="https://a.example/f.pdf", status=200,
                body=b"%PDF-1.7", content_type="application/pdf"),
        Capture(url="https://a.example/png", final_url="https://a.example/png", status=200,
                body=b"\x89PNG\r\n\x1a\n\x00", content_type="text/html"),
        Capture(url="https://a.example/down", final_url="https://a.example/down", status=None,
                error="timeout"),
    ]  # fmt: skip
    return out


@pytest.mark.parametrize("workers", [None, 2])
def test_same_documents_as_the_jobs_in_order(
    workers: int | None, caplog: pytest.LogCaptureFixture
) -> None:
    captures = _captures()
    expected = [extract_capture(c) for c in captures]
    assert sum(d is not None for d in expected) == len(captures) - 4
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="archiver.parallel.stages"):
        with open_executor(workers=workers) as executor:
            got = list(extract_captures(executor, iter(captures), chunk=3, in_flight=2))
    assert [c for c, _ in got] == captures
    assert [d for _, d in got] == expected
    warned = [r.getMessage() for r in caplog.records if r.name == "archiver.parallel.stages"]
    assert warned == [
        "https://a.example/png: not extracted: not an HTML page: looks like a PNG image"
    ]
