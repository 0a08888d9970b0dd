"""The seal job: log every record not yet logged, sign a checkpoint of the root, timestamp it.

A scheduled run seals at its end; ``archiver seal`` does it by hand. The key is the archive's
own (:mod:`archiver.evidence.keys`); a time-stamping authority is optional.

A seal costs what was stored since the last one: each new record's leaf is hashed once and
appended in one transaction with the tree's frontier, the root comes from that frontier, and
one Ed25519 signature is made. The checkpoint's commit is a sync point (fsynced, with every
commit before it), so what a seal signed survives a power cut.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from archiver.archive import evidence_log
from archiver.errors import InputError
from archiver.evidence import keys, tsa
from archiver.evidence.checkpoint import Checkpoint, sign
from archiver.evidence.settings import EvidenceSettings
from archiver.models import utc_iso

if TYPE_CHECKING:
    from cryptography import x509

    from archiver.archive.store import Archive


@dataclass(frozen=True, kw_only=True)
class Sealed:
    checkpoint: Checkpoint
    added: int  # records added to the log by this seal

    def to_json(self) -> dict[str, object]:
        return {"added": self.added, "checkpoint": self.checkpoint.to_json()}


def seal(
    archive: Archive,
    *,
    settings: EvidenceSettings | None = None,
    fetcher: tsa.Posts | None = None,
    run_id: int | None = None,
    now: str | None = None,
) -> Sealed:
    settings = settings or EvidenceSettings()
    key = keys.load_or_create(settings.key)
    db = archive.db
    stamp_time = now or utc_iso()
    with archive.handle.lock:
        added, tree = evidence_log.append_new(db, now=stamp_time)
        origin = evidence_log.origin(db)
    checkpoint = sign(key, origin=origin, size=tree.size, root=tree.root, time=stamp_time)
    if settings.tsa:
        if fetcher is None:
            checkpoint = replace(
                checkpoint,
                tsa=settings.tsa,
                timestamp_detail="untimestamped: no fetcher to ask the TSA",
            )
        else:
            got = tsa.stamp(
                checkpoint.note(), url=settings.tsa, fetcher=fetcher, roots=tsa_roots(settings)
            )
            detail = got.detail if got.token else f"untimestamped: {got.detail}"
            checkpoint = replace(
                checkpoint, token=got.token, tsa=settings.tsa, timestamp_detail=detail
            )
    with archive.handle.lock, archive.handle.transaction(sync=True):
        checkpoint_id = evidence_log.save_checkpoint(
            db, checkpoint, public_key=keys.public_pem(key).decode(), run_id=run_id
        )
    return Sealed(checkpoint=replace(checkpoint, id=checkpoint_id), added=added)


def tsa_roots(settings: EvidenceSettings) -> list[x509.Certificate]:
    """The TSA certificate(s) the config names (none: tokens are kept but not checked)."""
    if settings.tsa_cert is None:
        return []
    try:
        return list(tsa.load_roots(settings.tsa_cert.read_bytes()))
    except OSError as exc:
        raise InputError(f"{settings.tsa_cert}: {exc.strerror}") from exc
    except ValueError as exc:
        raise InputError(f"{settings.tsa_cert}: not a PEM certificate") from exc
