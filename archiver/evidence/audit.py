"""Audit the evidence: each signed checkpoint against the archive's own key, then the log.

Checked against the key file (the one that signs), not the public key stored beside each
checkpoint, since whoever can write the database can write that column too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from archiver.archive import evidence_log
from archiver.archive.evidence_log import LogProblem
from archiver.evidence import keys
from archiver.evidence.checkpoint import signature_ok

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from archiver.archive.store import Archive


@dataclass(frozen=True, kw_only=True)
class EvidenceReport:
    records: int  # log entries
    checkpoints: int
    unlogged: int  # records stored since the last seal
    problems: tuple[LogProblem, ...]
    key_id: str | None  # the key checked against; None: no key file, stored keys used

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {
            "records": self.records,
            "checkpoints": self.checkpoints,
            "unlogged": self.unlogged,
            "key_id": self.key_id,
            "problems": [p.to_json() for p in self.problems],
        }


def _signing_key(path: Path) -> Ed25519PublicKey | None:
    """The public half of the key file, or None when there is none this user may read (a
    colleague auditing a copy): then the keys stored beside the checkpoints are used, and the
    report says so (``key_id`` None)."""
    try:
        if not path.exists():
            return None
        return keys.load_private(path).public_key()
    except PermissionError as exc:
        log.warning("%s: cannot read the signing key (%s); using the stored keys", path, exc)
        return None


def audit(archive: Archive, *, key: Path | None = None) -> EvidenceReport:
    db = archive.db
    path = key or keys.default_key_path()
    public = _signing_key(path)
    stored = evidence_log.checkpoints(db)
    problems: list[LogProblem] = []
    trusted = []
    for checkpoint, pem in stored:
        signer = public or keys.load_public(pem.encode(), name=f"checkpoint {checkpoint.id}")
        if public is not None and checkpoint.key_id != keys.key_id(public):
            problems.append(
                LogProblem(
                    kind="signature",
                    detail=(
                        f"checkpoint {checkpoint.id} is signed by key {checkpoint.key_id}, "
                        f"not this archive's key {keys.key_id(public)}"
                    ),
                )
            )
        elif not signature_ok(checkpoint, signer):
            problems.append(
                LogProblem(
                    kind="signature",
                    detail=(f"checkpoint {checkpoint.id}: the signature does not match it"),
                )
            )
        else:
            trusted.append(checkpoint)
    problems = evidence_log.audit(db, checks=trusted) + problems
    log = evidence_log.entries(db)
    unlogged = evidence_log.count_unlogged(db)
    return EvidenceReport(
        records=len(log),
        checkpoints=len(stored),
        unlogged=unlogged,
        problems=tuple(problems),
        key_id=keys.key_id(public) if public is not None else None,
    )
