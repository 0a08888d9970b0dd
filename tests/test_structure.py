"""The package's shape, measured from its own files: the house rules a newcomer can rely on.

- no import cycle between the package's modules, imports inside functions included;
- no module over 600 lines;
- an HTTP client is imported only in the fetch stage (``archiver/fetch/``);
- the pure modules (records, extraction, comparison, link verdicts, the schedule, report
  formats) reach no I/O module, not even through another module;
- ``import archiver.runs.schedule`` loads no HTTP client, parser or feed library.

``python3 -m pytest tests/test_structure.py`` runs just this; ``make test`` runs it with the rest.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "archiver"
MAX_LINES = 600
HTTP_CLIENTS = ("requests", "urllib3", "http.client", "httpx", "aiohttp", "urllib.request")
#: Modules that do I/O: the network (the fetch stage), SQLite (the archive stage), processes.
IO_PREFIXES = ("archiver.fetch", "archiver.archive", "archiver.runs.lock", "archiver.testserver")
#: The I/O stages' pure vocabulary, which the pure stages may use: the one URL predicate and the
#: policy record and capture predicates (is_html) of the fetch stage, the records the archive
#: hands out (decoded from rows).
PURE_VOCABULARY = (
    "archiver.fetch.urls",
    "archiver.fetch.policy",
    "archiver.fetch.captures",
    "archiver.archive.records",
)
#: Modules that must stay pure functions of their inputs (STYLE.md: pure core, I/O at the edges).
PURE = (
    "archiver.models",
    "archiver.errors",
    "archiver.extract.normalize",
    "archiver.extract.extractor",
    "archiver.verify.compare",
    "archiver.verify.canonical",
    "archiver.verify.citations",
    "archiver.verify.recover",
    "archiver.links.check",
    "archiver.links.rot",
    "archiver.runs.schedule",
    "archiver.runs.items",
    "archiver.evidence.merkle",
    "archiver.evidence.records",
    "archiver.evidence.settings",
    *PURE_VOCABULARY,
)


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(module: str) -> set[str]:
    """Every module name an import anywhere in ``module`` names (relative ones resolved)."""
    path = _modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


@cache
def _graph() -> dict[str, frozenset[str]]:
    """module -> the package's modules it imports (a parent package imported by its child is
    not an edge: Python runs the parent first anyway, and it holds no logic of the child)."""
    mods = _modules()
    return {
        m: frozenset(n for n in _imports(m) if n in mods and n != m and not m.startswith(n + "."))
        for m in mods
    }


def _cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _reach(module: str) -> set[str]:
    seen: set[str] = set()
    todo = [module]
    while todo:
        for dep in _graph()[todo.pop()]:
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": frozenset({"b"}), "b": frozenset({"a"}), "c": frozenset()}) == [["a", "b"]]
    assert _cycles({"a": frozenset({"b"}), "b": frozenset()}) == []


def test_no_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_no_module_over_600_lines() -> None:
    long = {
        m: n
        for m, p in _modules().items()
        if (n := p.read_text(encoding="utf-8").count("\n") + 1) > MAX_LINES
    }
    assert long == {}


def test_http_clients_only_in_the_fetch_stage() -> None:
    outside = {
        m: sorted(n for n in _imports(m) if n.startswith(HTTP_CLIENTS))
        for m in _modules()
        if not m.startswith("archiver.fetch")
    }
    assert {m: names for m, names in outside.items() if names} == {}


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_reach_no_io_module(module: str) -> None:
    io = sorted(m for m in _reach(module) if m.startswith(IO_PREFIXES) and m not in PURE_VOCABULARY)
    assert io == []


def test_importing_the_schedule_loads_no_http_client_or_parser() -> None:
    code = (
        "import sys, archiver.runs.schedule\n"
        "print(sorted(m for m in ('requests', 'urllib3', 'lxml', 'feedparser', 'trafilatura')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
