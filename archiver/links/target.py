"""What ``archiver links TARGET`` names, decided one way before anything heavy is imported:
a stored capture (its id), a canonical copy (a ``.md`` file or any existing path) or a URL."""

from __future__ import annotations

import os
from typing import Literal

Kind = Literal["capture", "copy", "url"]


def target_kind(target: str) -> Kind:
    """``capture`` for digits, ``copy`` for a Markdown name or an existing path, else ``url``
    (whether it is a valid one is the job's to say)."""
    if target.isdigit():
        return "capture"
    if target.lower().endswith((".md", ".markdown")) or os.path.exists(target):
        return "copy"
    return "url"
