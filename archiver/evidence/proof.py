"""Proofs anyone can check: one capture as a signed WACZ with its inclusion proofs.

``build`` (I/O at the edge: it reads the archive) writes one WACZ carrying the capture's WARC
records, the leaves' data of the capture, its extraction and the verdicts and link checks made
from it, each with its RFC 9162 inclusion proof against the newest signed checkpoint, the
checkpoint (note, Ed25519 signature, RFC 3161 token when there is one) and the public key.
The package is signed per the WACZ signing spec (``datapackage-digest.json`` with
``signedData``; anonymous signing: ECDSA P-256 over the hash string, the key beside the
Ed25519 key, made on first use, 0600).

``check`` is pure over the file's bytes and the keys the reader trusts: no archive, no network.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from archiver import __version__
from archiver.errors import InputError, JobError
from archiver.evidence import keys
from archiver.evidence.checkpoint import Checkpoint, from_json, signature_ok
from archiver.evidence.merkle import leaf_hash, verify_inclusion
from archiver.evidence.records import LEAF_COLUMNS, LEAF_VERSION, leaf_data
from archiver.evidence.settings import EvidenceSettings
from archiver.evidence.wacz_sign import (
    load_or_create_p256,
    sha256_tag,
    sign_package,
    signature_problem,
    wacz_key_path,
)

if TYPE_CHECKING:
    from cryptography import x509

    from archiver.archive.store import Archive
    from archiver.evidence.tsa import Posts

FORMAT = "archiver-proof/1"
EVIDENCE = "proof/evidence.json"
NOTE = "proof/checkpoint.txt"
TOKEN = "proof/checkpoint.tsr"
PUBLIC = "proof/public-key.pem"
WARC = "archive/data.warc.gz"
#: Bounds on what a proof file may hold (untrusted input).
MAX_MEMBERS = 32
MAX_MEMBER_BYTES = 256 << 20
MAX_RECORDS = 2000
MAX_PROOF_HASHES = 64

PROVES = (
    "these bytes were served by this URL at this time (as the archive recorded them), and the "
    "archive's log of {size} records had not been altered when its checkpoint was signed "
    "({time})"
)
NOT_PROVEN = (
    "that the server told the truth; who ran the archive, unless you know the key is theirs; "
    "anything that happened after the checkpoint"
)


# --- building ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ProofRecord:
    kind: str
    row_id: int
    index: int  # leaf index in the log (seq - 1)
    data: bytes  # the leaf's data (records.leaf_data)
    path: tuple[bytes, ...]  # the inclusion proof against the checkpoint

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "row_id": self.row_id,
            "index": self.index,
            "data": self.data.decode("utf-8"),
            "proof": [base64.b64encode(h).decode() for h in self.path],
        }


@dataclass(frozen=True, kw_only=True)
class Built:
    path: str
    capture_id: int
    url: str
    fetched_at: str
    checkpoint: Checkpoint
    records: int

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "capture_id": self.capture_id,
            "url": self.url,
            "fetched_at": self.fetched_at,
            "records": self.records,
            "checkpoint": self.checkpoint.to_json(),
        }


def _when(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def pick_capture(archive: Archive, url: str, at: str | None) -> int:
    """The capture of ``url`` with a body at or just before ``at`` (default: the newest).

    ``at`` is an ISO 8601 time (UTC unless it says otherwise) or a day, meaning its end.
    """
    bound = None
    if at:
        bound = _when(at)
        if bound is None:
            raise InputError(f"--at {at}: not a date (YYYY-MM-DD or ISO 8601)")
        if len(at.strip()) == 10:  # a day: up to its end
            bound += timedelta(days=1, microseconds=-1)
    rows = archive.conn.execute(
        """SELECT id, fetched_at FROM captures WHERE (url = ? OR final_url = ?)
        AND body_sha256 IS NOT NULL AND status IS NOT NULL""",
        [url, url],
    ).fetchall()
    dated = [(when, int(row[0])) for row in rows if (when := _when(str(row[1]))) is not None]
    fitting = [pair for pair in dated if bound is None or pair[0] <= bound]
    if not fitting:
        before = f" at or before {at}" if at else ""
        raise InputError(f"no capture of {url} with a body{before} in the archive")
    return max(fitting)[1]


def _related(archive: Archive, capture_id: int) -> list[tuple[str, int]]:
    conn = archive.conn
    out: list[tuple[str, int]] = [("captures", capture_id)]
    row = conn.execute("SELECT extraction_id FROM captures WHERE id = ?", [capture_id]).fetchone()
    if row and row[0] is not None:
        out.append(("extractions", int(row[0])))
    for kind in ("verifications", "link_checks"):
        ids = conn.execute(
            f"SELECT id FROM {kind} WHERE capture_id = ? ORDER BY id LIMIT ?",
            [capture_id, MAX_RECORDS],
        ).fetchall()
        out += [(kind, int(r[0])) for r in ids]
    return out[:MAX_RECORDS]


def _row(archive: Archive, kind: str, row_id: int) -> dict[str, Any]:
    columns = ", ".join(LEAF_COLUMNS[kind])
    cursor = archive.conn.execute(f"SELECT {columns} FROM {kind} WHERE id = ?", [row_id])
    names = [d[0] for d in cursor.description]
    found = cursor.fetchone()
    return dict(zip(names, found, strict=True)) if found else {}


def build(
    archive: Archive, url: str, out: str, *, at: str | None = None, key: Path | None = None,
    force: bool = False, settings: EvidenceSettings | None = None, fetcher: Posts | None = None,
) -> Built:  # fmt: skip
    """Write the proof of ``url``'s capture (at/just before ``at``) to ``out``.

    When the capture is not in a signed checkpoint yet, it seals first, with ``settings`` (the
    key, and the TSA to ask through ``fetcher``); ``key`` alone when there are none.
    """
    from archiver.archive import evidence_log
    from archiver.archive.wacz import cdxj, pages_jsonl
    from archiver.archive.warc_export import write_warc
    from archiver.evidence.merkle import inclusion_proof
    from archiver.evidence.seal import seal
    from archiver.models import utc_iso

    if os.path.exists(out) and not force:
        raise InputError(f"{out} exists; give --force to overwrite it")
    capture_id = pick_capture(archive, url, at)
    wanted = _related(archive, capture_id)
    db = archive.db

    def located() -> dict[tuple[str, int], int]:
        return {(e.kind, e.row_id): e.seq for e in evidence_log.entries(db)}

    seqs = located()
    points = evidence_log.checkpoints(db)
    newest = points[-1][0].size if points else 0
    if any(seqs.get(w, newest + 1) > newest for w in wanted):
        seal(archive, settings=settings or EvidenceSettings(key=key), fetcher=fetcher)
        seqs = located()
        points = evidence_log.checkpoints(db)
    checkpoint, public_pem = points[-1]
    leaves = [e.leaf for e in evidence_log.entries(db, upto=checkpoint.size)]
    records = []
    for kind, row_id in wanted:
        seq = seqs.get((kind, row_id))
        if seq is None or seq > checkpoint.size:
            continue
        records.append(
            ProofRecord(
                kind=kind,
                row_id=row_id,
                index=seq - 1,
                data=leaf_data(kind, _row(archive, kind, row_id)),
                path=tuple(inclusion_proof(seq - 1, leaves)),
            )
        )
    if not records or records[0].kind != "captures":
        raise JobError(f"cannot prove {url}: capture {capture_id} is not in the signed log")
    warc = io.BytesIO()
    result = write_warc(archive, warc, gzip=True, revisits=False, name="data.warc.gz",
                        capture_ids=[capture_id])  # fmt: skip
    capture_row = json.loads(records[0].data)[2]
    evidence = {
        "format": FORMAT,
        "url": url,
        "capture_id": capture_id,
        "checkpoint": checkpoint.to_json(),
        "public_key": public_pem,
        "records": [r.to_json() for r in records],
    }
    members: dict[str, bytes] = {
        WARC: warc.getvalue(),
        "indexes/index.cdx": cdxj(result),
        "pages/pages.jsonl": pages_jsonl(result.pages),
        EVIDENCE: json.dumps(evidence, indent=1, ensure_ascii=False).encode("utf-8"),
        NOTE: checkpoint.note(),
        PUBLIC: public_pem.encode(),
    }
    if checkpoint.token:
        members[TOKEN] = checkpoint.token
    created = utc_iso()
    package = {
        "profile": "data-package",
        "resources": [
            {"name": os.path.basename(p), "path": p, "hash": sha256_tag(b), "bytes": len(b)}
            for p, b in members.items()
        ],
        "title": f"archiver proof of {url}",
        "created": created,
        "wacz_version": "1.1.1",
        "software": f"archiver {__version__}",
        "mainPageURL": url,
        "mainPageDate": capture_row[LEAF_COLUMNS["captures"].index("fetched_at")],
    }
    package_bytes = json.dumps(package, indent=2, ensure_ascii=False).encode("utf-8")
    digest = sign_package(
        package_bytes,
        load_or_create_p256(wacz_key_path(settings.key if settings else key)),
        created,
    )
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as wacz:
        for name, data in members.items():
            packing = zipfile.ZIP_STORED if name == WARC else zipfile.ZIP_DEFLATED
            wacz.writestr(name, data, compress_type=packing)
        wacz.writestr("datapackage.json", package_bytes, compress_type=zipfile.ZIP_DEFLATED)
        wacz.writestr("datapackage-digest.json", digest, compress_type=zipfile.ZIP_DEFLATED)
    # A proof the archive's own log does not bear out is never handed out.
    selfcheck = check(packed.getvalue(), trusted=keys.load_public(public_pem.encode()))
    if not selfcheck.valid:
        raise JobError(f"cannot prove {url}: {selfcheck.reason} (run archiver fsck)")
    partial = f"{out}.part"
    try:
        with open(partial, "wb") as fh:
            fh.write(packed.getvalue())
        os.replace(partial, out)
    except OSError as exc:
        if os.path.exists(partial):
            os.remove(partial)
        raise InputError(f"cannot write {out}: {exc.strerror or exc}") from exc
    columns = LEAF_COLUMNS["captures"]
    return Built(
        path=out,
        capture_id=capture_id,
        url=str(capture_row[columns.index("url")]),
        fetched_at=str(capture_row[columns.index("fetched_at")]),
        checkpoint=checkpoint,
        records=len(records),
    )


# --- checking (pure) ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ProofCheck:
    """What checking a proof found: valid or the one reason it is not, and what it shows."""

    valid: bool
    reason: str
    url: str = ""
    final_url: str = ""
    fetched_at: str = ""
    body_sha256: str = ""
    checkpoint_size: int = 0
    checkpoint_time: str = ""
    key_id: str = ""
    key_given: bool = False
    records: int = 0
    timestamp: str = ""

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "valid": self.valid,
            "reason": self.reason,
            "url": self.url,
            "final_url": self.final_url,
            "fetched_at": self.fetched_at,
            "body_sha256": self.body_sha256,
            "checkpoint": {"size": self.checkpoint_size, "time": self.checkpoint_time},
            "key_id": self.key_id,
            "key_given": self.key_given,
            "records": self.records,
            "timestamp": self.timestamp,
        }
        if self.valid:
            out["proves"] = PROVES.format(size=self.checkpoint_size, time=self.checkpoint_time)
            out["does_not_prove"] = NOT_PROVEN
        return out


class _Invalid(Exception):
    """The one reason a proof does not hold (internal)."""


def _members(data: bytes) -> dict[str, bytes]:
    try:
        wacz = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise InputError(f"not a WACZ (zip): {exc}") from exc
    out: dict[str, bytes] = {}
    with wacz:
        infos = wacz.infolist()
        if len(infos) > MAX_MEMBERS:
            raise InputError(f"not a proof: {len(infos)} files in the package")
        for info in infos:
            if info.file_size > MAX_MEMBER_BYTES:
                raise InputError(f"not a proof: {info.filename} is too large")
            try:
                with wacz.open(info) as fh:
                    body = fh.read(MAX_MEMBER_BYTES + 1)
            except (
                zipfile.BadZipFile,
                zlib.error,
                EOFError,
                ValueError,
                NotImplementedError,
            ) as exc:
                # a readable zip with a damaged file in it: the bytes were changed
                raise _Invalid(f"{info.filename} in the package is damaged ({exc})") from exc
            if info.filename in out:
                raise _Invalid(f"{info.filename} is in the package twice")
            if len(body) > MAX_MEMBER_BYTES:
                raise InputError(f"not a proof: {info.filename} is too large")
            out[info.filename] = body
    for name in ("datapackage.json", "datapackage-digest.json", EVIDENCE, WARC):
        if name not in out:
            raise InputError(f"not a proof: no {name} in the package")
    return out


def _json(data: bytes, name: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Invalid(f"{name} is not valid JSON (changed?)") from exc


def _package(members: dict[str, bytes]) -> None:
    """The package's file hashes and its WACZ signature."""
    digest = _json(members["datapackage-digest.json"], "datapackage-digest.json")
    package = members["datapackage.json"]
    if not isinstance(digest, dict) or digest.get("hash") != sha256_tag(package):
        raise _Invalid("datapackage.json does not match its hash in datapackage-digest.json")
    problem = signature_problem(digest)
    if problem:
        raise _Invalid(problem)
    listing = _json(package, "datapackage.json")
    resources = listing.get("resources") if isinstance(listing, dict) else None
    if not isinstance(resources, list):
        raise _Invalid("datapackage.json lists no resources")
    listed = set()
    for res in resources:
        name = str(res.get("path")) if isinstance(res, dict) else ""
        if name not in members:
            raise _Invalid(f"datapackage.json lists {name}, which is not in the package")
        if res.get("hash") != sha256_tag(members[name]) or res.get("bytes") != len(members[name]):
            raise _Invalid(f"{name} does not match its hash in datapackage.json (changed)")
        listed.add(name)
    extra = set(members) - listed - {"datapackage.json", "datapackage-digest.json"}
    if extra:
        raise _Invalid(f"{sorted(extra)[0]} is in the package but not in datapackage.json")


def _responsesha256_tag(warc: bytes, target: str) -> str:
    """The SHA-256 of the final response's payload in the WARC (no redirect hop)."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    from archiver.archive.warc_records import HOP_HEADER

    found: list[str] = []
    try:
        for record in ArchiveIterator(io.BytesIO(warc)):
            headers = record.rec_headers
            if record.rec_type != "response" or headers.get_header(HOP_HEADER):
                continue
            if headers.get_header("WARC-Target-URI") == target:
                found.append(hashlib.sha256(record.raw_stream.read()).hexdigest())
    except (ArchiveLoadFailed, ValueError, OSError, EOFError) as exc:
        raise _Invalid(f"the WARC in the package is damaged: {exc}"[:200]) from exc
    if len(found) != 1:
        raise _Invalid(f"the WARC holds {len(found)} responses of {target}, not one")
    return found[0]


def check(
    data: bytes,
    *,
    trusted: Ed25519PublicKey | None = None,
    tsa_roots: Sequence[x509.Certificate] = (),
) -> ProofCheck:
    """Check a proof file's bytes; InputError when it is not a proof at all."""
    try:
        return _check(_members(data), trusted, tsa_roots)
    except _Invalid as exc:
        return ProofCheck(valid=False, reason=str(exc))


def _check(
    members: dict[str, bytes],
    trusted: Ed25519PublicKey | None,
    tsa_roots: Sequence[x509.Certificate],
) -> ProofCheck:
    from archiver.evidence import tsa

    _package(members)
    evidence = _json(members[EVIDENCE], EVIDENCE)
    if not isinstance(evidence, dict) or evidence.get("format") != FORMAT:
        raise InputError(f"not a proof: {EVIDENCE} is not {FORMAT}")
    try:
        point = from_json(evidence["checkpoint"])
        embedded = keys.load_public(str(evidence["public_key"]).encode(), name="embedded key")
    except (KeyError, TypeError, ValueError, AttributeError, InputError) as exc:
        raise _Invalid(f"the checkpoint in the proof is malformed: {exc}") from exc
    key = trusted or embedded
    if trusted is not None and keys.key_id(trusted) != keys.key_id(embedded):
        raise _Invalid(
            f"signed by key {keys.key_id(embedded)}, not by the key given ({keys.key_id(trusted)})"
        )
    if not signature_ok(point, key):
        raise _Invalid(f"the checkpoint's signature does not verify with key {keys.key_id(key)}")
    if NOTE in members and members[NOTE] != point.note():
        raise _Invalid(f"{NOTE} is not the signed checkpoint's note")
    records = evidence.get("records")
    if not isinstance(records, list) or not records or len(records) > MAX_RECORDS:
        raise _Invalid("the proof carries no records")
    capture: list[Any] | None = None
    for number, rec in enumerate(records, start=1):
        try:
            leaf = str(rec["data"]).encode("utf-8")
            path = [base64.b64decode(h, validate=True) for h in rec["proof"][:MAX_PROOF_HASHES]]
            index = int(rec["index"])
            version, kind, values = json.loads(leaf)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise _Invalid(f"record {number} of the proof is malformed") from exc
        if not isinstance(kind, str) or kind not in LEAF_COLUMNS or kind != rec.get("kind"):
            raise _Invalid(f"record {number} is not a leaf of a known kind")
        if version != LEAF_VERSION:
            raise _Invalid(f"record {number} is not an {LEAF_VERSION} {rec.get('kind')} leaf")
        if not verify_inclusion(index, point.size, leaf_hash(leaf), path, point.root):
            raise _Invalid(
                f"record {number} ({kind} {rec.get('row_id')}) is not in the log at checkpoint "
                f"{point.size}: its inclusion proof fails"
            )
        if number == 1 and kind == "captures" and isinstance(values, list):
            capture = values
    if capture is None or len(capture) != len(LEAF_COLUMNS["captures"]):
        raise _Invalid("the proof's first record is not a capture")
    fields = dict(zip(LEAF_COLUMNS["captures"], capture, strict=True))
    target = str(fields["final_url"] or fields["url"])
    if evidence.get("url") not in (fields["url"], fields["final_url"]):
        raise _Invalid(f"the proof names {evidence.get('url')!r}, not the URL its capture is of")
    if evidence.get("capture_id") != fields["id"]:
        raise _Invalid("the proof names another capture than the one its first record is")
    body = _responsesha256_tag(members[WARC], target)
    if body != fields["body_sha256"]:
        raise _Invalid("the WARC's response body is not the one the capture's leaf names")
    stamp = ""
    if point.token:
        if TOKEN in members and members[TOKEN] != point.token:
            raise _Invalid(f"{TOKEN} is not the checkpoint's token")
        got = tsa.verify(point.token, point.note(), list(tsa_roots))
        if got.token is None:
            raise _Invalid(f"the checkpoint's timestamp token: {got.detail}")
        if tsa_roots and got.detail != "timestamp verified":
            raise _Invalid(f"the checkpoint's timestamp: {got.detail}")
        stamp = f"timestamp verified: {got.time}" if got.time else got.detail
    return ProofCheck(
        valid=True,
        reason="valid",
        url=str(fields["url"]),
        final_url=target,
        fetched_at=str(fields["fetched_at"]),
        body_sha256=body,
        checkpoint_size=point.size,
        checkpoint_time=point.time,
        key_id=keys.key_id(key),
        key_given=trusted is not None,
        records=len(records),
        timestamp=stamp or "untimestamped (no RFC 3161 token)",
    )
