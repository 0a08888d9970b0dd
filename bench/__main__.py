"""`make bench`: run every benchmark in this folder, one after the other, in fresh processes.

Each benchmark is a module ``bench/<name>.py`` runnable as ``python -m bench.<name>``; it prints
its own figures and the ratio against the tool a user would otherwise pick. Pass names to run
only some: ``python -m bench extract fetch``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_"))
    if not names:
        print("no benchmarks yet")
        return 0
    failed = []
    for name in names:
        print(f"\n=== bench/{name}.py", flush=True)
        started = time.perf_counter()
        code = subprocess.run([sys.executable, "-m", f"bench.{name}"], check=False).returncode
        print(f"=== bench/{name}.py: exit {code} in {time.perf_counter() - started:.1f} s")
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
