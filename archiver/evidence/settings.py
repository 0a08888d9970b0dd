"""What the evidence stage is told: where the signing key is, which TSA to ask (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, kw_only=True)
class EvidenceSettings:
    """The config's ``[evidence]``: ``seal`` at the end of each run, with ``key``; optionally
    timestamped by the RFC 3161 authority at ``tsa``, whose answers are checked against the
    certificate(s) in ``tsa_cert``."""

    seal: bool = True
    key: Path | None = None  # default: archiver.evidence.keys.default_key_path()
    tsa: str | None = None
    tsa_cert: Path | None = None
