"""Proofs: ``archiver prove`` writes one signed WACZ; ``archiver check-proof`` checks it offline.

The archive is filled as a user fills it (``archiver verify`` of the seed over the loopback
web). The check runs in a subprocess, in a fresh folder, with ``--db`` naming nothing: it
needs no archive. Every change to the file — a byte of the WARC, of the proof, of the package
list — and another key make it fail with one line.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.evidence import keys
from archiver.evidence.proof import EVIDENCE, WARC, check
from archiver.evidence.wacz_sign import wacz_key_path
from tests.conftest import SEED, SEED_URL

FAST = ["--per-host-rate", "100", "--timeout", "5"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def archive(tmp_path: Path, connect_to: list[str], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARCHIVER_KEY", str(tmp_path / "keys" / "signing.key"))
    db = tmp_path / "archive.db"
    result = CliRunner().invoke(
        cli, ["--db", str(db), "verify", str(SEED), *FAST, *connect_to], catch_exceptions=False
    )
    assert result.exit_code == 1, result.output  # the seed has broken links
    return db


def _prove(db: Path, out: Path, *extra: str) -> dict[str, object]:
    result = CliRunner().invoke(
        cli,
        ["--db", str(db), "prove", SEED_URL, "-o", str(out), "--json", *extra],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def _check_elsewhere(proof: Path, where: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``archiver check-proof`` in another process, another folder, ``--db`` naming nothing."""
    where.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("ARCHIVER_KEY", "ARCHIVER_DB")}
    env["ARCHIVER_KEY"] = str(where / "no-key-here")
    env["PYTHONPATH"] = str(ROOT)
    missing = where / "nowhere" / "archive.db"
    done = subprocess.run(
        [sys.executable, "-m", "archiver", "--db", str(missing), "check-proof", str(proof), *extra],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert not missing.exists() and not (where / "no-key-here").exists()
    return done


def _public(tmp_path: Path) -> Path:
    pem = tmp_path / "public.pem"
    pem.write_bytes(keys.public_pem(keys.load_or_create(tmp_path / "keys" / "signing.key")))
    return pem


def _rezip(proof: Path, name: str, change: object) -> Path:
    """A copy of the proof with one member's bytes changed by ``change`` (the zip kept sound)."""
    out = proof.with_name(f"changed-{name.replace('/', '-')}.wacz")
    with zipfile.ZipFile(proof) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == name:
                data = change(data)  # type: ignore[operator]
            dst.writestr(info, data)
    return out


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_prove_then_check_proof_with_no_archive(archive: Path, tmp_path: Path) -> None:
    proof = tmp_path / "proof.wacz"
    built = _prove(archive, proof)
    assert built["url"] == SEED_URL and int(str(built["records"])) >= 3  # capture, doc, checks
    assert (wacz_key_path(tmp_path / "keys" / "signing.key").stat().st_mode & 0o777) == 0o600
    with zipfile.ZipFile(proof) as wacz:
        names = set(wacz.namelist())
        digest = json.loads(wacz.read("datapackage-digest.json"))
    assert {WARC, EVIDENCE, "datapackage.json", "proof/public-key.pem"} <= names
    assert set(digest["signedData"]) >= {"hash", "signature", "publicKey", "created", "software"}

    done = _check_elsewhere(proof, tmp_path / "elsewhere", "--key", str(_public(tmp_path)))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"VALID: {SEED_URL}")
    assert "these bytes were served by this URL at this time" in done.stdout
    assert "does not prove: that the server told the truth" in done.stdout
    assert "checked with the key you gave" in done.stdout

    alone = _check_elsewhere(proof, tmp_path / "elsewhere")
    assert alone.returncode == 0 and "proves nothing about who made it" in alone.stdout


WACZ_TOOL = Path(sys.executable).with_name("wacz")


@pytest.mark.skipif(
    not WACZ_TOOL.exists(), reason="py-wacz is not installed (the dev extra has it)"
)
def test_the_proof_is_a_wacz_that_py_wacz_validates(archive: Path, tmp_path: Path) -> None:
    proof = tmp_path / "proof.wacz"
    _prove(archive, proof)
    done = subprocess.run(
        [str(WACZ_TOOL), "validate", "-f", str(proof)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "is valid" in done.stdout, done.stdout + done.stderr
    assert "Has signature" in done.stdout  # it saw the signedData


def test_another_key_fails_with_one_line(archive: Path, tmp_path: Path) -> None:
    proof = tmp_path / "proof.wacz"
    _prove(archive, proof)
    other = tmp_path / "other.pem"
    other.write_bytes(keys.public_pem(keys.load_or_create(tmp_path / "other" / "key")))
    done = _check_elsewhere(proof, tmp_path / "elsewhere", "--key", str(other))
    assert done.returncode == 1
    assert done.stdout.count("\n") == 1 and done.stdout.startswith("NOT VALID: signed by key")


def test_a_flipped_byte_anywhere_fails(archive: Path, tmp_path: Path) -> None:
    proof = tmp_path / "proof.wacz"
    _prove(archive, proof)
    trusted = keys.load_public(_public(tmp_path).read_bytes())
    assert check(proof.read_bytes(), trusted=trusted).valid
    raw = proof.read_bytes()
    with zipfile.ZipFile(proof) as wacz:
        warc_at = wacz.getinfo(WARC).header_offset + 200  # inside the stored WARC's bytes
    broken = tmp_path / "flipped.wacz"
    broken.write_bytes(_flip(raw, warc_at))
    done = _check_elsewhere(broken, tmp_path / "elsewhere")
    assert done.returncode == 1 and done.stdout.count("\n") == 1, done.stdout + done.stderr
    assert done.stdout.startswith("NOT VALID:")

    # The same flips with the zip kept sound, so the reason is the proof's own check.
    body = _rezip(proof, WARC, lambda d: _flip(d, len(d) // 2))
    assert "data.warc.gz does not match its hash" in check(body.read_bytes()).reason
    evidence = _rezip(proof, EVIDENCE, lambda d: d.replace(b'"index": ', b'"index": 1', 1))
    assert "evidence.json does not match its hash" in check(evidence.read_bytes()).reason
    package = _rezip(
        proof, "datapackage.json", lambda d: d.replace(b"archiver proof", b"Archiver proof")
    )
    assert "datapackage.json does not match its hash" in check(package.read_bytes()).reason


def test_a_consistent_forgery_without_the_keys_fails(archive: Path, tmp_path: Path) -> None:
    """Change the capture's leaf and re-hash the whole package: the log's root gives it away,
    and a re-signed checkpoint fails against the published key."""
    proof = tmp_path / "proof.wacz"
    _prove(archive, proof)
    trusted = keys.load_public(_public(tmp_path).read_bytes())
    with zipfile.ZipFile(proof) as wacz:
        members = {name: wacz.read(name) for name in wacz.namelist()}
    evidence = json.loads(members[EVIDENCE])
    leaf = evidence["records"][0]["data"]
    evidence["records"][0]["data"] = leaf.replace(",200,", ",201,", 1)
    assert evidence["records"][0]["data"] != leaf
    forged = _repack(members, EVIDENCE, json.dumps(evidence).encode(), tmp_path / "forged.wacz")
    reason = check(forged.read_bytes(), trusted=trusted).reason
    assert "its inclusion proof fails" in reason
    evidence = json.loads(members[EVIDENCE])
    evidence["url"] = "https://example.org/another-article"
    renamed = _repack(members, EVIDENCE, json.dumps(evidence).encode(), tmp_path / "renamed.wacz")
    assert "not the URL its capture is of" in check(renamed.read_bytes(), trusted=trusted).reason


def _repack(members: dict[str, bytes], name: str, data: bytes, out: Path) -> Path:
    """Rebuild the package around a changed member with a fresh WACZ signature of one's own."""
    import hashlib

    from archiver.evidence.wacz_sign import load_or_create_p256, sign_package

    members = {**members, name: data}
    package = json.loads(members["datapackage.json"])
    for res in package["resources"]:
        blob = members[res["path"]]
        res["hash"], res["bytes"] = "sha256:" + hashlib.sha256(blob).hexdigest(), len(blob)
    members["datapackage.json"] = json.dumps(package).encode()
    forger = load_or_create_p256(out.with_suffix(".key"))
    members["datapackage-digest.json"] = sign_package(members["datapackage.json"], forger, "now")
    with zipfile.ZipFile(out, "w") as wacz:
        for member, blob in members.items():
            wacz.writestr(member, blob)
    return out


def test_a_file_twice_in_the_package_fails(archive: Path, tmp_path: Path) -> None:
    proof = tmp_path / "proof.wacz"
    _prove(archive, proof)
    with zipfile.ZipFile(proof, "a") as wacz, pytest.warns(UserWarning, match="Duplicate"):
        wacz.writestr(EVIDENCE, b"{}")
    assert check(proof.read_bytes()).reason == f"{EVIDENCE} is in the package twice"


def test_bad_input_exits_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.wacz"
    junk.write_bytes(b"this is not a zip")
    done = _check_elsewhere(junk, tmp_path / "elsewhere")
    assert done.returncode == 2 and done.stderr.startswith("archiver: error: not a WACZ")
    plain = tmp_path / "plain.wacz"
    with zipfile.ZipFile(plain, "w") as wacz:
        wacz.writestr("datapackage.json", "{}")
    done = _check_elsewhere(plain, tmp_path / "elsewhere")
    assert done.returncode == 2 and "not a proof" in done.stderr


def test_prove_at_a_date_before_any_capture_is_refused(archive: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--db", str(archive), "prove", SEED_URL, "--at", "2001-01-01", "-o", "x.wacz"]
    )
    assert result.exit_code == 2 and "no capture of" in result.output


def test_at_picks_the_capture_at_or_just_before_the_date(
    archive: Path, tmp_path: Path, connect_to: list[str]
) -> None:
    again = CliRunner().invoke(cli, ["--db", str(archive), "verify", str(SEED), *FAST, *connect_to])
    assert again.exit_code == 1, again.output
    _sql(archive, "UPDATE captures SET fetched_at = '2020-01-01T10:00:00Z' WHERE id = 1")
    older = _prove(archive, tmp_path / "older.wacz", "--at", "2020-06-01")
    newest = _prove(archive, tmp_path / "newest.wacz")
    assert older["capture_id"] == 1 and older["fetched_at"] == "2020-01-01T10:00:00Z"
    assert int(str(newest["capture_id"])) > 1
    assert check((tmp_path / "older.wacz").read_bytes()).valid


def test_prove_refuses_when_the_log_does_not_bear_the_capture_out(
    archive: Path, tmp_path: Path
) -> None:
    _prove(archive, tmp_path / "first.wacz")  # seals
    _sql(archive, "UPDATE captures SET status = 201 WHERE id = 1")
    result = CliRunner().invoke(
        cli, ["--db", str(archive), "prove", SEED_URL, "-o", str(tmp_path / "second.wacz")]
    )
    assert result.exit_code == 3 and "inclusion proof fails" in result.output, result.output
    assert not (tmp_path / "second.wacz").exists()


def _sql(db: Path, statement: str) -> None:
    import sqlite3

    conn = sqlite3.connect(db)
    with conn:
        conn.execute(statement)
    conn.close()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl for a TSA")
def test_with_the_loopback_tsa_the_token_verifies(archive: Path, tmp_path: Path) -> None:
    from tests.tsa_server import TSAServer

    proof = tmp_path / "proof.wacz"
    with TSAServer(tmp_path / "tsa") as server:
        sealed = CliRunner().invoke(
            cli,
            ["--db", str(archive), "seal", "--tsa", server.url, "--tsa-cert", str(server.cert)],
            catch_exceptions=False,
        )
        assert sealed.exit_code == 0 and "timestamp verified" in sealed.output, sealed.output
        cert = server.cert
        built = _prove(archive, proof)
    assert built["checkpoint"]["timestamp_token"]  # type: ignore[index]
    done = _check_elsewhere(proof, tmp_path / "elsewhere", "--tsa-cert", str(cert))
    assert done.returncode == 0 and "time: timestamp verified: 20" in done.stdout, done.stdout
    with zipfile.ZipFile(proof) as wacz:
        evidence = json.loads(wacz.read(EVIDENCE))
    token = base64.b64decode(evidence["checkpoint"]["timestamp_token"])
    evidence["checkpoint"]["timestamp_token"] = base64.b64encode(
        _flip(token, len(token) - 5)
    ).decode()
    with zipfile.ZipFile(proof) as wacz:
        members = {name: wacz.read(name) for name in wacz.namelist()}
    members.pop("proof/checkpoint.tsr")
    package = json.loads(members["datapackage.json"])
    package["resources"] = [r for r in package["resources"] if r["path"] != "proof/checkpoint.tsr"]
    members["datapackage.json"] = json.dumps(package).encode()
    bad = _repack(members, EVIDENCE, json.dumps(evidence).encode(), tmp_path / "badtoken.wacz")
    from archiver.evidence import tsa

    roots = tsa.load_roots(cert.read_bytes())
    assert "timestamp" in check(bad.read_bytes(), tsa_roots=roots).reason
    assert check(bad.read_bytes()).valid  # without the TSA's certificate it cannot tell
    evidence["checkpoint"]["timestamp_token"] = base64.b64encode(b"not a token").decode()
    junk = _repack(members, EVIDENCE, json.dumps(evidence).encode(), tmp_path / "junk.wacz")
    assert "not an RFC 3161 response" in check(junk.read_bytes()).reason


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl for a TSA")
def test_prove_seals_with_the_tsa_when_the_capture_is_not_sealed_yet(
    archive: Path, tmp_path: Path
) -> None:
    from tests.tsa_server import TSAServer

    proof = tmp_path / "proof.wacz"
    with TSAServer(tmp_path / "tsa") as server:
        built = _prove(archive, proof, "--tsa", server.url, "--tsa-cert", str(server.cert), *FAST)
        cert = server.cert
        assert server.queries == 1
    assert built["checkpoint"]["timestamp_detail"] == "timestamp verified"  # type: ignore[index]
    done = _check_elsewhere(proof, tmp_path / "elsewhere", "--tsa-cert", str(cert), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["timestamp"].startswith("timestamp verified: 20")


def test_no_change_of_any_byte_crashes_the_check_or_passes(archive: Path, tmp_path: Path) -> None:
    """Untrusted input: a flipped byte in any file's stored bytes, or a changed record or proof
    hash re-packed with fresh hashes, gives "not valid" or "not a proof", never a crash or a
    pass. (Bytes of the zip's own headers, such as a file's date, are not what is proven, nor
    is a flip that leaves every member's bytes as they were.)"""
    import io
    import random
    import struct
    import zlib

    from archiver.errors import InputError

    proof = tmp_path / "proof.wacz"
    _prove(archive, proof)
    trusted = keys.load_public(_public(tmp_path).read_bytes())
    raw = proof.read_bytes()
    with zipfile.ZipFile(proof) as wacz:
        infos = wacz.infolist()
        members = {info.filename: wacz.read(info) for info in infos}
    spans = []
    for info in infos:
        name_len, extra_len = struct.unpack(
            "<HH", raw[info.header_offset + 26 : info.header_offset + 30]
        )
        start = info.header_offset + 30 + name_len + extra_len
        spans.append((start, start + info.compress_size))
    evidence = json.loads(members[EVIDENCE])
    picks = random.Random(16)
    outcomes: set[object] = set()

    def outcome(data: bytes) -> object:
        try:
            return check(data, trusted=trusted).valid
        except InputError:
            return "bad input"

    def same_members(data: bytes) -> bool:
        """Whether a changed file still unpacks to the same members: a flip of a deflate
        stream's final-block bit or of its last byte's padding bits changes no byte proven."""
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as changed:
                return {i.filename: changed.read(i) for i in changed.infolist()} == members
        except (zipfile.BadZipFile, zlib.error, EOFError):
            return False

    for n in range(40):
        start, end = picks.choice(spans)
        flipped = _flip(raw, picks.randrange(start, end))
        if not same_members(flipped):
            outcomes.add(outcome(flipped))
        changed = json.loads(json.dumps(evidence))
        record = picks.choice(changed["records"])
        if n % 2 and record["proof"]:
            record["proof"][picks.randrange(len(record["proof"]))] = base64.b64encode(
                picks.randbytes(32)
            ).decode()
        else:
            at = picks.randrange(len(record["data"]))
            record["data"] = (
                record["data"][:at] + chr(ord(record["data"][at]) ^ 1) + record["data"][at + 1 :]
            )
        forged = _repack(members, EVIDENCE, json.dumps(changed).encode(), tmp_path / f"f{n}.wacz")
        outcomes.add(outcome(forged.read_bytes()))
    assert True not in outcomes and False in outcomes
