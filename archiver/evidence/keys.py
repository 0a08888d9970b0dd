"""The archive's signing key: Ed25519, made on first use, kept outside the database (0600).

Its public half is what a reader needs to check a checkpoint or a proof; ``key_id`` names it
(the first 16 hex digits of the SHA-256 of the raw public key), so a proof says which key
signed it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from archiver.errors import InputError, JobError


def default_key_path() -> Path:
    """``$ARCHIVER_KEY``, else ``$XDG_CONFIG_HOME/archiver/signing.key`` (``~/.config``)."""
    if os.environ.get("ARCHIVER_KEY"):
        return Path(os.environ["ARCHIVER_KEY"])
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "archiver" / "signing.key"


def load_or_create(path: Path | None = None) -> Ed25519PrivateKey:
    """The private key at ``path``; made there (0600, its folder 0700) when there is none."""
    path = path or default_key_path()
    if path.exists():
        return load_private(path)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
    except FileExistsError:  # another process made it first: use that one
        return load_private(path)
    except OSError as exc:
        raise JobError(f"{path}: cannot write the signing key: {exc.strerror}") from exc
    return key


def load_private(path: Path) -> Ed25519PrivateKey:
    mode = path.stat().st_mode & 0o077
    if mode:
        raise InputError(f"{path}: the signing key is readable by others (chmod 600 it)")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{path}: not an Ed25519 private key in PEM") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{path}: not an Ed25519 private key")
    return key


def public_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public(data: bytes, *, name: str = "public key") -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{name}: not a public key in PEM") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{name}: not an Ed25519 public key")
    return key


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]
