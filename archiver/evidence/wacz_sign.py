"""WACZ signing (Webrecorder's "WACZ Signing and Verification"), anonymous flavour.

``datapackage-digest.json`` carries ``signedData``: ``hash`` (of ``datapackage.json``),
``signature`` (ECDSA P-256 with SHA-256 over the hash string, DER, base64), ``publicKey``
(SubjectPublicKeyInfo DER, base64), ``created`` and ``software``. The P-256 key is kept beside
the archive's Ed25519 key, made on first use, 0600. It binds the package together; the
archive's own claim is the Ed25519-signed checkpoint inside it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from archiver import __version__
from archiver.errors import InputError, JobError
from archiver.evidence import keys


def wacz_key_path(ed25519_path: Path | None = None) -> Path:
    """Beside the Ed25519 key: ``signing.key`` → ``signing.key.wacz-p256``."""
    base = ed25519_path or keys.default_key_path()
    return base.with_name(base.name + ".wacz-p256")


def load_or_create_p256(path: Path) -> ec.EllipticCurvePrivateKey:
    """The package-signing key at ``path``; made there (0600) on first use."""
    if path.exists():
        if path.stat().st_mode & 0o077:
            raise InputError(f"{path}: the signing key is readable by others (chmod 600 it)")
        try:
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise InputError(f"{path}: not a private key in PEM") from exc
        if not isinstance(loaded, ec.EllipticCurvePrivateKey) or loaded.curve.name != "secp256r1":
            raise InputError(f"{path}: not an ECDSA P-256 private key")
        return loaded
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
    except FileExistsError:
        return load_or_create_p256(path)
    except OSError as exc:
        raise JobError(f"{path}: cannot write the signing key: {exc.strerror}") from exc
    return key


def sha256_tag(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sign_package(package: bytes, key: ec.EllipticCurvePrivateKey, created: str) -> bytes:
    """``datapackage-digest.json`` for ``package`` with anonymous ``signedData``."""
    digest = sha256_tag(package)
    signature = key.sign(digest.encode(), ec.ECDSA(hashes.SHA256()))
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signed = {
        "hash": digest,
        "signature": base64.b64encode(signature).decode(),
        "publicKey": base64.b64encode(public).decode(),
        "created": created,
        "software": f"archiver {__version__}",
    }
    return json.dumps(
        {"path": "datapackage.json", "hash": digest, "signedData": signed}, indent=2
    ).encode()


def signature_problem(digest: Any) -> str | None:
    """Why ``datapackage-digest.json`` (parsed) is not a valid signature of its hash, or None.

    The hash itself is the caller's to compare with ``datapackage.json``.
    """
    signed = digest.get("signedData") if isinstance(digest, dict) else None
    if not isinstance(signed, dict) or signed.get("hash") != digest.get("hash"):
        return "the package is not signed (no signedData over datapackage.json's hash)"
    try:
        public = serialization.load_der_public_key(base64.b64decode(signed["publicKey"]))
        if not isinstance(public, ec.EllipticCurvePublicKey):
            return "the package's signing key is not ECDSA"
        public.verify(
            base64.b64decode(signed["signature"]),
            str(signed["hash"]).encode(),
            ec.ECDSA(hashes.SHA256()),
        )
    except InvalidSignature:
        return "the package's WACZ signature does not verify"
    except (KeyError, ValueError, TypeError):
        return "the package's signedData is malformed"
    return None
