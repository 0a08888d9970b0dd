"""Signed checkpoints: the log's size and root at a moment, signed with the archive's key.

The signed text is a small note in the manner of transparency logs' checkpoints::

    archiver checkpoint v1
    origin <the archive's id>
    size <number of leaves>
    root <base64 of the tree hash>
    time <ISO 8601 UTC>

Pure functions over keys and bytes; the archive stores the result.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from archiver.evidence.keys import key_id

HEADER = "archiver checkpoint v1"


@dataclass(frozen=True, kw_only=True)
class Checkpoint:
    """One signed checkpoint, with its RFC 3161 token when a time-stamping authority gave one."""

    origin: str
    size: int
    root: bytes
    time: str
    key_id: str
    signature: bytes
    token: bytes | None = None  # RFC 3161 TimeStampResp over :meth:`note`, DER
    tsa: str | None = None
    timestamp_detail: str = ""  # why there is no token, when there is none
    id: int | None = None

    def note(self) -> bytes:
        return note(self.origin, self.size, self.root, self.time)

    def to_json(self) -> dict[str, object]:
        return {
            "origin": self.origin,
            "size": self.size,
            "root": base64.b64encode(self.root).decode(),
            "time": self.time,
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode(),
            "timestamp_token": base64.b64encode(self.token).decode() if self.token else None,
            "tsa": self.tsa,
            "timestamp_detail": self.timestamp_detail,
        }


def note(origin: str, size: int, root: bytes, time: str) -> bytes:
    return (
        f"{HEADER}\norigin {origin}\nsize {size}\nroot {base64.b64encode(root).decode()}\n"
        f"time {time}\n"
    ).encode()


def sign(key: Ed25519PrivateKey, *, origin: str, size: int, root: bytes, time: str) -> Checkpoint:
    signature = key.sign(note(origin, size, root, time))
    return Checkpoint(
        origin=origin, size=size, root=root, time=time, key_id=key_id(key), signature=signature
    )


def signature_ok(checkpoint: Checkpoint, public: Ed25519PublicKey) -> bool:
    try:
        public.verify(checkpoint.signature, checkpoint.note())
    except InvalidSignature:
        return False
    return True


def from_json(data: dict[str, object]) -> Checkpoint:
    """A checkpoint as :meth:`Checkpoint.to_json` wrote it; ValueError on anything else."""

    def b64(name: str) -> bytes:
        value = data.get(name)
        if not isinstance(value, str):
            raise ValueError(f"checkpoint: {name} missing")
        return base64.b64decode(value, validate=True)

    size = data.get("size")
    if not isinstance(size, int) or size < 0:
        raise ValueError("checkpoint: size is not a count")
    token = data.get("timestamp_token")
    return Checkpoint(
        origin=str(data.get("origin") or ""),
        size=size,
        root=b64("root"),
        time=str(data.get("time") or ""),
        key_id=str(data.get("key_id") or ""),
        signature=b64("signature"),
        token=base64.b64decode(token, validate=True) if isinstance(token, str) else None,
        tsa=str(data["tsa"]) if data.get("tsa") else None,
        timestamp_detail=str(data.get("timestamp_detail") or ""),
    )
