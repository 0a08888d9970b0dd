"""A real RFC 3161 time-stamping authority on loopback: openssl's ``ts -reply`` behind HTTP.

The TSA's certificate (EC P-256, extendedKeyUsage timeStamping, critical) is made by the test
in a temporary folder; every POSTed query is answered by ``openssl ts -reply`` as a real TSA
would. ``down=True`` closes the port instead (a TSA that is down).
"""

from __future__ import annotations

import subprocess
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from archiver.testserver import ServerThread

CONFIG = """[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = archiver test TSA
[ ext ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = {dir}/serial
signer_cert = {dir}/tsa.crt
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def make_tsa(folder: Path) -> Path:
    """A TSA key and certificate in ``folder``; returns the certificate's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tsa.cnf").write_text(CONFIG.format(dir=folder))
    (folder / "serial").write_text("01\n")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(folder / "tsa.key"), "-out", str(folder / "tsa.crt"),
         "-days", "2", "-config", str(folder / "tsa.cnf"), "-extensions", "ext"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return folder / "tsa.crt"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:  # noqa: N802
        size = min(int(self.headers.get("Content-Length") or 0), 65536)
        query = self.rfile.read(size)
        self.server.queries += 1
        done = subprocess.run(
            ["openssl", "ts", "-reply", "-config", str(self.server.folder / "tsa.cnf"),
             "-queryfile", "/dev/stdin", "-out", "/dev/stdout"],
            input=query, capture_output=True, timeout=30,
        )  # fmt: skip
        body = done.stdout
        self.send_response(200 if done.returncode == 0 else 500)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], folder: Path) -> None:
        super().__init__(address, _Handler)
        self.folder = folder
        self.queries = 0


class TSAServer(ServerThread):
    """The TSA on ``address`` (a free port); ``url`` is where to POST queries."""

    _server: _Server

    def __init__(self, folder: Path, address: str = "127.0.0.5") -> None:
        self.cert = make_tsa(folder)
        super().__init__(_Server((address, 0), folder))

    @property
    def url(self) -> str:
        return f"http://{self.address}/tsa"

    @property
    def queries(self) -> int:
        return self._server.queries
