"""Trusted time: an RFC 3161 time-stamping authority (TSA) vouches for a checkpoint's note.

The request is built and the answer checked with ``rfc3161-client``; the request itself goes
through the fetcher's door (``post``), so a TSA is asked with the same politeness, deadlines
and ``--connect-to`` routes as everything else. A TSA that is down, slow or refuses never stops
a run: the checkpoint is then signed but untimestamped, and says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import rfc3161_client
from cryptography import x509

from archiver.models import Capture

CONTENT_TYPE = "application/timestamp-query"


class Posts(Protocol):
    """What asking a TSA needs of a fetcher (``archiver.fetch.fetcher.Fetcher`` has it)."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str] | None = None) -> Capture: ...


@dataclass(frozen=True, kw_only=True)
class Stamp:
    """A TSA's answer: the DER TimeStampResp (None when there is none) and what happened."""

    token: bytes | None
    detail: str
    time: str | None = None  # the TSA's genTime, ISO 8601 UTC


def load_roots(pem: bytes) -> list[x509.Certificate]:
    """The certificates a TSA's answers are checked against (one PEM file, one or more)."""
    return list(x509.load_pem_x509_certificates(pem))


def verify(token: bytes, message: bytes, roots: Sequence[x509.Certificate]) -> Stamp:
    """Check a stored token against the message it stamps; never raises."""
    try:
        response = rfc3161_client.decode_timestamp_response(token)
    except (ValueError, rfc3161_client.VerificationError) as exc:
        return Stamp(token=None, detail=f"not an RFC 3161 response: {exc}"[:200])
    if not roots:
        return Stamp(token=token, detail="no TSA certificate given to check the token against")
    try:
        builder = rfc3161_client.VerifierBuilder()
        for cert in roots:
            builder = builder.add_root_certificate(cert)
        ok = builder.build().verify_message(response, message)
    except (ValueError, rfc3161_client.VerificationError) as exc:
        return Stamp(token=token, detail=f"timestamp does not verify: {exc}"[:200])
    when = response.tst_info.gen_time.isoformat().replace("+00:00", "Z")
    if not ok:
        return Stamp(token=token, detail="timestamp does not verify")
    return Stamp(token=token, detail="timestamp verified", time=when)


def stamp(message: bytes, *, url: str, fetcher: Posts, roots: Sequence[x509.Certificate]) -> Stamp:
    """Ask the TSA at ``url`` to stamp ``message``; the token, checked, or why there is none."""
    request = rfc3161_client.TimestampRequestBuilder().data(message).nonce(nonce=True).build()
    answer = fetcher.post(url, request.as_bytes(), headers={"Content-Type": CONTENT_TYPE})
    if answer.status is None:
        return Stamp(token=None, detail=f"the TSA did not answer ({answer.error})")
    if answer.status != 200:
        return Stamp(token=None, detail=f"the TSA answered HTTP {answer.status}")
    checked = verify(answer.body, message, roots)
    if checked.token is not None and not roots:
        return Stamp(token=checked.token, detail="timestamped; not checked (no tsa_cert given)")
    if checked.detail != "timestamp verified":
        return Stamp(token=None, detail=f"the TSA's answer was refused: {checked.detail}")
    return checked
