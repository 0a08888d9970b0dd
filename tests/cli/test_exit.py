"""The process's exit (``archiver.cli.app.entry``): no interpreter teardown, nothing skipped.

Each case runs in a child process, as the console script does: the exit code, what was
printed, the ``atexit`` handlers and a thread that is not a daemon must all come out as an
ordinary exit's would.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = """
import atexit, sys, threading, time
from pathlib import Path
import archiver.cli.app as app
out = Path(sys.argv[1])
"""


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    """This interpreter run with ``args`` in a child process, from the project's root."""
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=60, cwd=ROOT, check=False
    )


def _run(body: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    code = PRELUDE + textwrap.dedent(body) + "\napp.main = main\napp.entry()\n"
    return _python("-c", code, str(tmp_path))


@pytest.mark.parametrize("code", [0, 1, 3])
def test_the_exit_code_the_output_and_the_atexit_handlers_are_kept(
    tmp_path: Path, code: int
) -> None:
    done = _run(
        f"""
        def main(args=None):
            atexit.register(lambda: (out / "atexit").write_text("ran"))
            print("the answer", end="")  # buffered, no newline: must still be flushed
            sys.stderr.write("a warning")
            sys.exit({code})
        """,
        tmp_path,
    )
    assert done.returncode == code, done.stderr
    assert done.stdout == "the answer" and done.stderr == "a warning"
    assert (tmp_path / "atexit").read_text() == "ran"


def test_a_thread_that_is_not_a_daemon_is_waited_for(tmp_path: Path) -> None:
    done = _run(
        """
        def late():
            time.sleep(0.3)
            (out / "late").write_text("written")

        def main(args=None):
            threading.Thread(target=late).start()
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "late").read_text() == "written"


def test_an_exit_with_a_message_prints_it_and_gives_1(tmp_path: Path) -> None:
    done = _run(
        """
        def main(args=None):
            sys.exit("archiver: something went wrong")
        """,
        tmp_path,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "archiver: something went wrong"


def test_the_real_command_exits_with_its_output(tmp_path: Path) -> None:
    done = _python("-m", "archiver", "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("archiver, version ")


def test_a_profiled_run_still_gets_its_profile_written(tmp_path: Path) -> None:
    profile = tmp_path / "archiver.prof"
    done = _python("-m", "cProfile", "-o", str(profile), "-m", "archiver", "--version")
    assert done.returncode == 0, done.stderr
    assert profile.stat().st_size > 0  # written after the command: the ordinary exit was taken
