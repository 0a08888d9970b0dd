"""The command line's frame: the group, the shared options, the one place errors become exit codes.

Library errors (``archiver.errors``) become a one-line message and the contract's exit code in
one place, ``ArchiverGroup.invoke``; :func:`main` adds what a careful command-line tool does at
its edge: Ctrl-C is exit 130 with one line, a closed stdout pipe ends quietly by SIGPIPE (141,
as git does), a full disk is exit 3. Nothing else here catches exceptions.

Start-up is kept light: this module imports only click and the package's records and errors;
the jobs, the fetcher (requests), the archive (sqlite-utils) and the extractor are imported
inside the functions and commands that need them, so ``archiver --help`` loads none of them.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from archiver import __version__
from archiver.errors import ArchiverError
from archiver.report.escape import terminal_line

if TYPE_CHECKING:
    from archiver.archive.store import Archive
    from archiver.fetch.fetcher import Fetcher, FetchPolicy

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_DB = os.path.join("db", "archive.db")

#: The order ``--help`` lists the commands in: fetching first, then extraction, the archive's
#: readers and keepers, the reports and the run.
ORDER = (
    "fetch",
    "snapshot",
    "verify",
    "links",
    "extract",
    "fsck",
    "search",
    "query",
    "history",
    "export-warc",
    "import-warc",
    "serve",
    "report",
    "run",
    "seal",
    "key",
)


def emit_json(data: Any) -> None:
    """Print one JSON document on stdout (the contract: nothing else goes there)."""
    from archiver.cli.jsondoc import dumps

    click.echo(dumps(data))


def _stacked(options: list[Callable[[F], F]]) -> Callable[[F], F]:
    """One decorator applying ``options`` so that ``--help`` lists them in this order."""

    def decorate(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def fetch_options(func: F) -> F:
    """The options every fetching command takes (docs/contract.md, Global), each number within the
    range FetchPolicy keeps: ``--timeout inf``, ``nan`` or ``1e300`` is one line, exit 2."""
    from dataclasses import replace

    from archiver.fetch.policy import RANGES, Range

    def within(name: str, allowed: Range) -> Callable[..., Any]:
        def check(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
            problem = None if value is None else allowed.problem(value)
            if problem:
                raise BadInput(f"{name} {problem}")
            return value

        return check

    rate = replace(RANGES["per_host_rate"], low=0.01, low_open=False)
    timeout = replace(RANGES["timeout"], low=0.1, low_open=False)
    options = [
        click.option(
            "--per-host-rate",
            type=float,
            default=None,
            callback=within("--per-host-rate", rate),
            help=f"Requests a second to one host ({rate.low:g} to {rate.high:g}).",
        ),
        click.option(
            "--per-host-connections",
            type=int,
            default=None,
            callback=within("--per-host-connections", RANGES["per_host_connections"]),
            help="Simultaneous connections to one host.",
        ),
        click.option(
            "--timeout",
            type=float,
            default=None,
            callback=within("--timeout", timeout),
            help=f"Seconds before a request is given up ({timeout.low:g} to {timeout.high:g}).",
        ),
        click.option("--user-agent", default=None, help="User-Agent header to send."),
        click.option(
            "--connect-to",
            "connect_to",
            multiple=True,
            metavar="HOST=ADDR:PORT",
            help="Send requests for HOST to ADDR:PORT over plain HTTP, keeping the Host header "
            "(replays and offline demos). Repeatable.",
        ),
    ]
    return _stacked(options)(func)


class _OneLine(click.ClickException):
    """A library error as one line on stderr, ``archiver: error: ...`` (as git and curl do)."""

    def show(self, file: Any = None) -> None:
        click.echo(f"archiver: error: {self.format_message()}", err=True, file=file)


class BadInput(_OneLine):
    """Bad usage or bad input, shown as one line (exit 2)."""

    exit_code = 2


class JobFailed(_OneLine):
    """The job could not be done, shown as one line (exit 3)."""

    exit_code = 3


class Interrupted(_OneLine):
    """Ctrl-C (SIGINT): one line, exit 130 (128 + SIGINT), as shells and git report it."""

    exit_code = 130

    def __init__(self) -> None:
        super().__init__("interrupted")

    def show(self, file: Any = None) -> None:
        _say_interrupted()


class StdoutClosed(Exception):  # noqa: N818 - a condition, not a failure of the tool
    """Whoever read stdout went away (``archiver verify ... | head -1``); see :func:`main`."""


_INTERRUPT_LOCK = threading.Lock()
_INTERRUPT_SAID = False


def _say_interrupted() -> None:
    """``archiver: interrupted`` on stderr, once however many ways the interrupt ends."""
    global _INTERRUPT_SAID
    with _INTERRUPT_LOCK:
        if _INTERRUPT_SAID:
            return
        _INTERRUPT_SAID = True
    try:
        sys.stderr.write("archiver: interrupted\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush of text that could not be
    written (closed pipe, full disk) neither fails again nor prints "Exception ignored"."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


#: The commands that never open the archive, so take no ``--db`` of their own.
NO_ARCHIVE = frozenset({"fetch", "extract"})

_DB_HELP = "The archive (SQLite). Default: $ARCHIVER_DB or db/archive.db."


def _set_db(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """``--db`` given after the command: the same meaning as before it (the later one wins)."""
    if value is not None:
        obj = ctx.ensure_object(dict)
        obj["db_path"] = value
        obj["db_explicit"] = value


class ArchiverCommand(click.Command):
    """A command that also takes ``--db PATH`` after its name, when it opens the archive."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.name not in NO_ARCHIVE:
            self.params.append(
                click.Option(
                    ["--db", "db_path"],
                    type=click.Path(dir_okay=False),
                    default=None,
                    expose_value=False,
                    callback=_set_db,
                    help=_DB_HELP + " Same as archiver --db PATH.",
                )
            )


class ArchiverGroup(click.Group):
    """The one place where library errors become one-line messages and exit codes.

    ``--help`` lists the commands in the order this module defines them: the fetching ones
    first, then extraction, the archive's readers and keepers, the reports and the run.
    """

    command_class = ArchiverCommand
    group_class = type  # subgroups (``report``) are ArchiverGroups too

    #: The modules of ``archiver.cli`` whose commands this group lists, by command name,
    #: imported when a command is asked for (``archiver extract`` loads ``capture`` only;
    #: ``--help`` loads them all). Filled by ``archiver/cli/__init__.py``.
    lazy: dict[str, str] = {}
    modules: tuple[str, ...] = ()

    def _load(self, names: Sequence[str]) -> None:
        import importlib

        for module in names:
            importlib.import_module(module)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and self.modules:
            module = self.lazy.get(cmd_name)
            self._load([module] if module else self.modules)
            if cmd_name not in self.commands:  # a command no table names yet: load them all
                self._load(self.modules)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load(self.modules)
        known = [name for name in ORDER if name in self.commands]
        return known + [name for name in self.commands if name not in ORDER]

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArchiverError as exc:
            raise _one_line(exc) from exc
        except KeyboardInterrupt as exc:
            raise Interrupted() from exc
        except BrokenPipeError as exc:
            raise StdoutClosed() from exc
        except OSError as exc:
            if exc.errno in _DISK_FULL:
                _quiet_stdout()
                raise JobFailed(f"cannot write the output: {exc.strerror}") from exc
            raise


def _one_line(exc: ArchiverError) -> _OneLine:
    """The library error as one line with its own exit code (2 bad input, 3 job failed, or
    whatever code the error names, such as 130 for a job that records an interrupt)."""
    if exc.exit_code == 2:
        return BadInput(str(exc))
    if exc.exit_code == 3:
        return JobFailed(str(exc))
    coded = type("ArchiverFailure", (_OneLine,), {"exit_code": int(exc.exit_code)})
    return coded(str(exc))


_DISK_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


@click.group(cls=ArchiverGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archiver")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None, help=_DB_HELP)
@click.pass_context
def cli(ctx: click.Context, db_path: str | None) -> None:
    """Archive news articles, verify them against canonical copies, and check their links."""
    explicit = db_path or os.environ.get("ARCHIVER_DB")
    ctx.obj = {"db_path": explicit or DEFAULT_DB, "db_explicit": explicit}


#: Seconds a Ctrl-C gives the command to unwind (close the archive, stop its threads) before
#: the process exits anyway; a second Ctrl-C exits at once. ``run`` records itself as
#: interrupted on the way out, so it is given longer.
INTERRUPT_GRACE = 3.0
INTERRUPT_GRACE_FOR = {"run": 30.0}


def _grace() -> float:
    ctx = click.get_current_context(silent=True)
    name = ctx.command.name if ctx is not None else None
    return INTERRUPT_GRACE_FOR.get(name or "", INTERRUPT_GRACE)


def _hard_exit() -> None:
    _say_interrupted()
    os._exit(130)


_SIGINT_SEEN = threading.Event()


def _on_sigint(signum: int, frame: Any) -> None:
    """First Ctrl-C: unwind as KeyboardInterrupt, with a deadline; a second: exit now."""
    if _SIGINT_SEEN.is_set():
        _hard_exit()
    _SIGINT_SEEN.set()
    timer = threading.Timer(_grace(), _hard_exit)
    timer.daemon = True
    timer.start()
    raise KeyboardInterrupt


def main(args: Sequence[str] | None = None) -> None:
    """Console-script entry point: the contract's exit codes, whatever happens at the edges."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_sigint)
    try:
        try:
            cli.main(args=args, prog_name="archiver")
        finally:
            sys.stdout.flush()  # what is still buffered fails here, not at interpreter exit
    except SystemExit:
        raise
    except (StdoutClosed, BrokenPipeError):
        _die_of_sigpipe()
    except KeyboardInterrupt:  # outside a command (while parsing): still one line and 130
        _say_interrupted()
        sys.exit(130)
    except OSError as exc:  # the last flush of stdout found the disk full
        if exc.errno not in _DISK_FULL:
            raise
        _quiet_stdout()
        click.echo(f"archiver: error: cannot write the output: {exc.strerror}", err=True)
        sys.exit(3)


def entry() -> None:
    """The process's entry point (the console script, ``python -m archiver``): :func:`main`,
    then the exit without the interpreter's teardown.

    Tearing the interpreter down frees every object a job still holds, one at a time: 0.1-0.2 s
    after ``links`` over 600 sources, more after ``verify`` over 10,000 copies, all of it after
    the answer was written. Everything an exit must do is done first: stdout and stderr are
    flushed, the ``atexit`` handlers run (pools and their fork server stopped, temporary folders
    removed, logging flushed), and every archive was closed by its job's ``with``. Should a
    thread that is not a daemon still run (an executor not shut down), the ordinary exit waits
    for it as it always did; so does a process being profiled or traced (``python -m
    cProfile``, a debugger), whose report comes after. Not for :func:`main` called in a
    process that goes on (tests).
    """
    try:
        main()
        code: int = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            raise  # a message to print: the interpreter's own way
    if any(t.is_alive() and not t.daemon for t in threading.enumerate()[1:]) or not _flushed():
        sys.exit(code)
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)  # a profiler or tracer (cProfile, a debugger) reports after this
    import atexit

    atexit._run_exitfuncs()
    if not _flushed():
        sys.exit(code)
    os._exit(code)


def _flushed() -> bool:
    """Whether stdout and stderr took what was buffered (if not, the ordinary exit reports)."""
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return False
    return True


def _die_of_sigpipe() -> None:
    """End as a program killed by SIGPIPE does (exit status 141 in a shell), saying nothing."""
    _quiet_stdout()
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGPIPE)
    os._exit(141)


def _policy(options: dict[str, Any]) -> FetchPolicy:
    """The fetch policy the command line's ``fetch_options`` ask for."""
    from archiver.fetch.fetcher import policy_from_options

    return policy_from_options(
        per_host_rate=options.get("per_host_rate"),
        per_host_connections=options.get("per_host_connections"),
        timeout=options.get("timeout"),
        user_agent=options.get("user_agent"),
    )


def _fetcher(options: dict[str, Any]) -> Fetcher:
    from archiver.fetch.fetcher import Fetcher, parse_routes

    return Fetcher(_policy(options), routes=parse_routes(options.get("connect_to") or ()))


def _archive(ctx: click.Context, *, readonly: bool = False) -> Archive:
    """The archive ``--db`` names; read-only for the commands that only read it."""
    from archiver.archive.store import Archive

    return Archive(ctx.obj["db_path"], readonly=readonly)


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _rot_options(func: F) -> F:
    """How long a suspect link must keep failing before it is called broken."""
    options = [
        click.option(
            "--suspect-checks",
            type=click.IntRange(min=1),
            default=3,
            show_default=True,
            help="Checks a suspect (timeout, 5xx, 401/403/429...) must fail before it is broken.",
        ),
        click.option(
            "--suspect-days",
            type=click.IntRange(min=1),
            default=3,
            show_default=True,
            help="Different days those failing checks must span.",
        ),
    ]
    return _stacked(options)(func)


def _report_options(
    formats: Sequence[str],
    *,
    default: str,
    help: str = "Output format.",  # noqa: A002
) -> Callable[[F], F]:
    """--format, -o/--output and --json, as every command that writes a report takes them."""
    return _stacked(
        [
            click.option(
                "--format",
                "fmt",
                type=click.Choice(formats),
                default=default,
                show_default=True,
                help=help,
            ),
            click.option(
                "-o",
                "--output",
                type=click.Path(),
                callback=_check_output,
                help="Write the report here (atomically; '-' is stdout).",
            ),
            click.option("--json", "as_json", is_flag=True, help="Same as --format json."),
        ]
    )


def _check_output(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """``-o FILE`` refused before any work when it cannot be written: a directory, a folder
    that does not exist or cannot be written in (exit 2, one line). ``-`` is stdout."""
    if value is None or value == "-":
        return None
    shown = terminal_line(value)
    if os.path.isdir(value):
        raise BadInput(f"-o {shown}: is a directory")
    if os.path.exists(value) and not os.path.isfile(value):
        return value  # a device or a pipe (/dev/stdout, a FIFO): written to as it is
    folder = os.path.dirname(value) or "."
    if not os.path.isdir(folder):
        raise BadInput(f"-o {shown}: no such folder {terminal_line(folder)}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadInput(f"-o {shown}: cannot write in folder {terminal_line(folder)}")
    if os.path.exists(value) and not os.access(value, os.W_OK):
        raise BadInput(f"-o {shown}: not writable")
    return value


def _write_report(text: str, output: str | None) -> None:
    """The report into ``output`` (saying so on stderr), or on stdout.

    A regular file is written atomically: a temporary file in the same folder, then
    ``os.replace``, so a reader never sees half a report and a failed write (a full disk:
    exit 3) leaves no partial or empty file behind.
    """
    if not output:
        click.echo(text)
        return
    data = text if text.endswith("\n") else text + "\n"
    try:
        if os.path.exists(output) and not os.path.isfile(output):
            with open(output, "w", encoding="utf-8") as handle:  # a device or a pipe
                handle.write(data)
        else:
            _atomic_write(output, data.encode("utf-8"))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno in _DISK_FULL or exc.errno == errno.EIO:
            raise JobFailed(f"cannot write {terminal_line(output)}: {reason}") from exc
        raise BadInput(f"cannot write {terminal_line(output)}: {reason}") from exc
    click.echo(f"wrote {terminal_line(output)}", err=True)


def _atomic_write(path: str, data: bytes) -> None:
    """``data`` into ``path`` through a temporary file beside it and ``os.replace``."""
    folder = os.path.dirname(path) or "."
    import tempfile

    fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def _archives(options: dict[str, Any], no_lookup: bool, wayback_url: str | None) -> Any:
    """Where broken links are looked up (every web archive through Memento, moved pages), with
    the rules the links command keeps: off on request, and off in replays unless pointed.

    A run with ``--connect-to`` stands in for the web (tests, the offline demo); asking the real
    archives from it would leave the machine, so it needs an explicit ``--wayback-url``.
    """
    from archiver.errors import InputError
    from archiver.fetch.urls import is_web_url
    from archiver.links.rescue import settings_for

    if wayback_url is not None and not is_web_url(wayback_url):
        raise InputError(f"the Wayback URL must be an http(s) URL, not {wayback_url[:200]!r}")
    return settings_for(
        no_lookup=no_lookup, wayback_url=wayback_url, replay=bool(options.get("connect_to"))
    )


def _clean(value: Any) -> str:
    """A value for one terminal line (the archive commands' name for :func:`terminal_line`)."""
    return terminal_line(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        import base64

        return {"$base64": True, "encoded": base64.b64encode(value).decode("ascii")}
    return value
