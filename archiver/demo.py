"""``make demo``: the main job, offline, against the bundled pages served on loopback.

Starts :mod:`archiver.testserver` with the loopback test web (the seed article as the site
serves it today, and the sources it links to), then runs the real command line: ``snapshot`` of
the article with its sources, and ``verify`` of the seed canonical copy in ``snapshots/``. Every
host is routed to loopback with ``--connect-to``; nothing leaves the machine. The archive is the
default one, ``db/archive.db``, left for querying. Exits with ``verify``'s exit code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from archiver.testserver import SiteServer, load_site
from archiver.verify.canonical import read_canonical

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "snapshots" / "2017-03-30-trump-le-pen-and-other-fleeting-relationships-a57583.md"
EXIT_WORDS = {
    0: "nothing wrong found",
    1: "drift or broken links found",
    2: "bad input",
    3: "could not do the job",
}


def _start() -> SiteServer:
    site = load_site()
    try:
        return SiteServer(site, host="127.0.0.2")
    except OSError:  # some systems only answer on 127.0.0.1
        return SiteServer(site, host="127.0.0.1")


def _run(args: list[str], routes: list[str]) -> int:
    shown = " ".join(args[:1] + [a if " " not in a else repr(a) for a in args[1:]])
    print(f"\n$ archiver {shown} --connect-to <{len(routes) // 2} hosts -> loopback>", flush=True)
    command = [sys.executable, "-m", "archiver", *args, *routes]
    return subprocess.run(command, cwd=ROOT, check=False).returncode


def main() -> int:
    copy = read_canonical(SEED)
    os.chdir(ROOT)
    with _start() as server:
        routes = server.connect_to_options()
        print(
            f"Serving the bundled pages for {len(server.routes())} hosts on "
            f"http://{server.address} (loopback only; nothing leaves this machine)."
        )
        polite = ["--per-host-rate", "10"]
        _run(["snapshot", copy.url, *polite], routes)
        code = _run(["verify", str(SEED.relative_to(ROOT)), *polite], routes)
    print(
        f"\nverify exit code {code}: {EXIT_WORDS.get(code, 'unexpected')} (see docs/contract.md)."
    )
    print("The archive is db/archive.db. Try:")
    print("  .venv/bin/archiver history " + copy.url)
    print("  .venv/bin/archiver query 'select id, status, body_sha256, url from captures limit 5'")
    return code


if __name__ == "__main__":
    sys.exit(main())
