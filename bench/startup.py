"""Benchmark: how fast the command starts, beside the previous release (target: ≤ 0.15 s).

Times the same commands, each in a fresh process, best of N, for this tree and for the
previous release: a ``git worktree`` of another commit (default: where this branch left
``main``, ``git merge-base HEAD main``), run by this venv's interpreter with that tree first
on ``sys.path`` (its folder as the working directory and ``PYTHONPATH``), so both run on the
same interpreter and libraries and only the code differs. Prints wall and CPU seconds
(``RUSAGE_CHILDREN``: the process and anything it waited for) and the ratio.

    .venv/bin/python -m bench.startup [--runs 10] [--previous REF]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = "tests/web/pages/mt-a57583.html"
#: (label, arguments after ``python``): the interpreter alone, then the commands.
COMMANDS = (
    ("python -c pass", ["-c", "pass"]),
    ("archiver --help", ["-m", "archiver", "--help"]),
    ("archiver extract FILE", ["-m", "archiver", "extract", PAGE]),
)


def git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def previous_commit(ref: str | None) -> str:
    """The commit to compare with: ``ref``, or where this branch left ``main``."""
    return git("rev-parse", ref) if ref else git("merge-base", "HEAD", "main")


@contextmanager
def checkout(commit: str) -> Iterator[Path]:
    """A temporary ``git worktree`` of ``commit`` (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="archiver-previous-") as tmp:
        tree = Path(tmp) / "tree"
        git("worktree", "add", "--detach", "--quiet", str(tree), commit)
        try:
            yield tree
        finally:
            git("worktree", "remove", "--force", str(tree))


def environment(tree: Path) -> dict[str, str]:
    """Run ``tree``'s code: its folder first on ``sys.path`` (before the editable install)."""
    return {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}


def which_archiver(tree: Path) -> str:
    """The file ``import archiver`` loads with :func:`environment` (a check of the set-up)."""
    code = "import archiver, os; print(os.path.dirname(archiver.__file__))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=environment(tree), capture_output=True
    )
    return done.stdout.decode().strip()


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def best_of(tree: Path, args: list[str], runs: int) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds of ``runs`` fresh processes."""
    walls: list[float] = []
    cpus: list[float] = []
    env = environment(tree)
    for _ in range(runs):
        cpu, started = children_cpu(), time.perf_counter()
        done = subprocess.run(
            [sys.executable, *args], cwd=tree, env=env, capture_output=True, check=False
        )
        walls.append(time.perf_counter() - started)
        cpus.append(children_cpu() - cpu)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed in {tree}: {done.stderr.decode()[-300:]}")
    return min(walls), min(cpus)


def warm(tree: Path) -> None:
    """Compile the tree's modules once, so no timed run pays for writing bytecode."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(tree / "archiver")],
        capture_output=True,
        check=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="fresh processes per command")
    parser.add_argument("--previous", default=None, help="commit of the previous release")
    parsed = parser.parse_args()
    commit = previous_commit(parsed.previous)
    print(f"previous release: {commit[:10]}; this tree: {git('rev-parse', 'HEAD')[:10]}")
    print(f"load average before timing: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    with checkout(commit) as previous:
        trees = {"previous": previous, "this": ROOT}
        for name, tree in trees.items():
            warm(tree)
            loaded = which_archiver(tree)
            if Path(loaded).resolve() != (tree / "archiver").resolve():
                raise SystemExit(f"{name}: python imports archiver from {loaded}, not {tree}")
        print(f"{'command':24} {'previous':>18} {'this':>18} {'ratio':>7}")
        for label, args in COMMANDS:
            # Alternate the trees command by command: the load on the machine hits both alike.
            timed = {name: best_of(tree, args, parsed.runs) for name, tree in trees.items()}
            (wall_before, cpu_before), (wall_now, cpu_now) = timed["previous"], timed["this"]
            print(
                f"{label:24} {wall_before:6.3f} s ({cpu_before:5.3f} CPU) "
                f"{wall_now:6.3f} s ({cpu_now:5.3f} CPU) {wall_now / wall_before:6.2f}x"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}; best of {parsed.runs} fresh processes")


if __name__ == "__main__":
    main()
