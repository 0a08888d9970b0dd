"""``--repair``: recovered link targets written back, and not one other byte changed."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.extract.extractor import extract_file
from archiver.links.check import precheck
from archiver.models import LinkCheck
from archiver.verify.canonical import link_spans, parse_canonical, read_canonical
from archiver.verify.recover import recover_links
from archiver.verify.repair import plan_repairs, repair_file, repair_text
from tests.conftest import SEED, SEED_PAGE, SEED_URL

FAST = ["--per-host-rate", "100", "--timeout", "5"]


def awkward_copy(tmp_path: Path) -> Path:
    """The seed with CRLF line endings, trailing spaces, a BOM and front matter: all to keep."""
    text = SEED.read_text(encoding="utf-8")
    lines = [line + ("  " if i % 7 == 3 else "") for i, line in enumerate(text.split("\n"))]
    body = "\ufeff---\r\nnote: kept as is\r\n---\r\n" + "\r\n".join(lines)
    path = tmp_path / "copy.md"
    path.write_bytes(body.encode("utf-8"))
    return path


def recovered_checks(path: Path) -> list[LinkCheck]:
    """The link checks verify would make offline: targets recovered from the seed page."""
    copy = read_canonical(path)
    live = extract_file(str(SEED_PAGE), url=SEED_URL)
    checks = []
    for link, recovered in recover_links(copy.links, live.links):
        check = precheck(link) or LinkCheck(url=link.url, text=link.text, status="ok", broken=False)
        checks.append(replace(check, recovered=recovered))
    return checks


def test_only_targets_change_byte_for_byte(tmp_path: Path) -> None:
    path = awkward_copy(tmp_path)
    path.chmod(0o640)
    before = path.read_bytes()
    copy = read_canonical(path)
    checks = recovered_checks(path)
    result = repair_file(copy, checks)
    after = path.read_bytes()
    assert path.stat().st_mode & 0o777 == 0o640
    assert result.written and len(result.fixes) == 13
    assert after.startswith("\ufeff---\r\nnote: kept as is\r\n---\r\n".encode())
    assert after.count(b"\r\n") == before.count(b"\r\n")
    assert b"  \r\n" in after
    restored = after.decode("utf-8")
    for fix in result.fixes:
        assert f"]({fix.new})" in restored
        restored = restored.replace(f"]({fix.new})", "](#)", 1)
    assert restored.encode("utf-8") == before
    # The repaired copy reads as the same article, now with real targets.
    repaired = read_canonical(path)
    assert repaired.paragraphs == copy.paragraphs
    assert [link.url for link in repaired.links] == [c.url for c in checks]
    assert not list(tmp_path.glob(".copy.md.*"))  # no temporary file left behind


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    path = awkward_copy(tmp_path)
    before = path.read_bytes()
    result = repair_file(read_canonical(path), recovered_checks(path), dry_run=True)
    assert path.read_bytes() == before
    assert not result.written
    assert "-By [Andrei Babitsky](#)" in result.diff
    assert "+By [Andrei Babitsky](https://www.themoscowtimes.com/author/andrei-babitsky)" in (
        result.diff
    )


def test_broken_link_gets_its_archived_copy() -> None:
    text = "Original url: <https://example.org/a>\n\nSee [the report](https://gone.example/r).\n"
    copy = parse_canonical(text)
    archived = "https://web.archive.org/web/2017/https://gone.example/r"
    check = LinkCheck(
        url="https://gone.example/r",
        text="the report",
        status="not_found",
        broken=True,
        archived_url=archived,
    )
    (fix,) = plan_repairs(copy, [check])
    assert fix is not None and fix.reason == "archived"
    new, made, skipped = repair_text(text, copy, [fix])
    assert new == text.replace("https://gone.example/r", archived)
    assert made == [fix] and skipped == []
    # Without an archived copy, a broken link is left as the user wrote it.
    assert plan_repairs(copy, [replace(check, archived_url=None)]) == [None]


@pytest.mark.parametrize(
    ("source", "written"),
    [
        ("[a](#)", "https://x.example/wiki/A_(b)"),
        ('[a](<#> "title")', "https://x.example/a"),
        ("[a]()", "https://x.example/a"),
    ],
)
def test_destination_forms(source: str, written: str) -> None:
    text = f"Original url: <https://example.org/a>\n\nA link: {source} and more.\n"
    copy = parse_canonical(text)
    check = LinkCheck(url=written, text="a", status="ok", broken=False, recovered=True)
    new, made, _ = repair_text(text, copy, plan_repairs(copy, [check]))
    assert len(made) == 1
    assert parse_canonical(new).links[0].url == written
    assert new.endswith(" and more.\n") and new.startswith("Original url:")


def test_reference_link_is_skipped_not_mangled() -> None:
    text = "Original url: <https://example.org/a>\n\nSee [r][ref] and [s](#).\n\n[ref]: #\n"
    copy = parse_canonical(text)
    assert [span.start is None for span in link_spans(text)] == [True, False]
    checks = [
        LinkCheck(url=f"https://x.example/{n}", text=t, status="ok", broken=False, recovered=True)
        for n, t in ((1, "r"), (2, "s"))
    ]
    new, made, skipped = repair_text(text, copy, plan_repairs(copy, checks))
    assert [f.text for f in made] == ["s"] and [f.text for f in skipped] == ["r"]
    assert new == text.replace("[s](#)", "[s](https://x.example/2)")


def test_cli_repair_and_dry_run(tmp_path: Path, connect_to: list[str]) -> None:
    path = awkward_copy(tmp_path)
    before = path.read_bytes()
    db = str(tmp_path / "a.db")
    runner = CliRunner()
    args = ["--db", db, "verify", str(path), "--no-check-links", *FAST, *connect_to]
    result = runner.invoke(cli, [*args, "--repair", "--dry-run"], catch_exceptions=False)
    assert path.read_bytes() == before
    assert "+By [Andrei Babitsky](https://www.themoscowtimes.com/author/andrei-babitsky)" in (
        result.stdout
    )
    assert "would write 13 link target(s)" in result.stderr
    result = runner.invoke(cli, [*args, "--repair", "--json"], catch_exceptions=False)
    (done,) = json.loads(result.stdout)["repairs"]
    assert done["written"] and len(done["fixes"]) == 13
    after = path.read_bytes()
    assert after != before and after.count(b"\r\n") == before.count(b"\r\n")
    # Verified again, the repaired copy has no placeholder left to recover.
    result = runner.invoke(cli, [*args, "--json"], catch_exceptions=False)
    links = json.loads(result.stdout)["results"][0]["links"]
    assert not any(link["recovered"] for link in links)
    assert not any(link["status"] == "placeholder" for link in links)


def test_only_web_urls_are_written() -> None:
    text = "Original url: <https://example.org/a>\n\nSee [here](#).\n"
    copy = parse_canonical(text)
    for hostile in ("javascript:alert(1)", "data:text/html,<b>x</b>", "mailto:a@b.c"):
        check = LinkCheck(url=hostile, text="here", status="ok", broken=False, recovered=True)
        assert plan_repairs(copy, [check]) == [None]


def test_symlinked_copy_keeps_its_link(tmp_path: Path) -> None:
    real = awkward_copy(tmp_path)
    link = tmp_path / "link.md"
    link.symlink_to(real)
    copy = read_canonical(link)
    result = repair_file(copy, recovered_checks(link))
    assert result.written and link.is_symlink()
    assert b"(https://www.themoscowtimes.com/author/andrei-babitsky)" in real.read_bytes()


def test_recovery_takes_the_first_unused_live_link_of_the_same_text() -> None:
    """Placeholders get live targets in page order, each live link used once, whatever the
    mix of texts (spelled differently but alike once normalized), repeats and real links:
    the same pairs as keying every live link first."""
    import random

    from archiver.extract.normalize import normalize_text
    from archiver.models import Link
    from archiver.verify.recover import recover_links

    def keyed_first(canonical: list[Link], live: list[Link]) -> list[tuple[Link, bool]]:
        pool: dict[str, list[Link]] = {}
        for known in live:
            pool.setdefault(normalize_text(known.text).casefold(), []).append(known)
        out = []
        for link in canonical:
            if link.url.strip() not in ("", "#"):
                out.append((link, False))
                continue
            found = pool.get(normalize_text(link.text).casefold())
            if found:
                out.append((Link(url=found.pop(0).url, text=link.text), True))
            else:
                out.append((link, False))
        return out

    rng = random.Random(3)
    texts = ["France", "FRANCE", "france ", "Moscow’s meddling", "Moscow's meddling", "x", ""]
    for _ in range(2000):
        live = [
            Link(url=f"https://a.example/{n}", text=rng.choice(texts))
            for n in range(rng.randint(0, 8))
        ]
        canonical = [
            Link(url=rng.choice(["#", "", " # ", "https://b.example/"]), text=rng.choice(texts))
            for _ in range(rng.randint(0, 8))
        ]
        assert recover_links(canonical, live) == keyed_first(canonical, live)
