"""The fast path reads a copy's blocks exactly as markdown-it does, or declines.

Differential: wherever :func:`fastparse.blocks` answers, its answer must equal what
``verify.canonical._blocks`` reads from markdown-it's tokens; on the real copy and its
variations it must answer (else it is no fast path); on generated Markdown mixing the subset
with everything outside it, it must never answer differently.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from archiver.parallel.fastparse import FastBlock, blocks
from archiver.verify import canonical

ROOT = Path(__file__).resolve().parents[2]
COPIES = sorted(ROOT.glob("snapshots/*.md"))


def _reference(markdown: str) -> list[FastBlock]:
    return [
        FastBlock(
            kind=b.kind,
            level=b.level,
            text=b.text,
            links=b.links,
            last_strong=b.last_strong,
            urls=b.urls,
        )
        for b in canonical._blocks(markdown)
    ]


def _body(path: Path) -> str:
    return canonical._front_matter(path.read_text(encoding="utf-8").lstrip("\ufeff"), "x")[1]


@pytest.mark.parametrize("path", COPIES, ids=lambda p: p.name)
def test_the_real_copies_take_the_fast_path_and_read_the_same(path: Path) -> None:
    body = _body(path)
    fast = blocks(body)
    assert fast is not None
    assert fast == _reference(body)
    assert any(b.links for b in fast) and any(b.last_strong for b in fast)


def test_the_benchmark_variations_read_the_same() -> None:
    body = _body(COPIES[0])
    variants = [
        body.replace("](#)", "](https://src7.test/doc-1-2?a=1&b=2)", 3),
        body.replace("large-scale violence", "large-scale violence (case 17)"),
        body.replace("\n", "\r\n"),
        body.replace("**Kremlin Press Service**", "**Kremlin** *Press* **Service**"),
        body + "\n# Heading with a [link](https://x.test/Пример)\n\nMore <http://a.test/b>.\n",
    ]
    for variant in variants:
        fast = blocks(variant)
        assert fast is not None
        assert fast == _reference(variant)


# Pieces of Markdown: the fast subset and, mixed in, what lies outside it.
_WORDS = ["Moscow", "said", "старый", "друг", "2017", "U.S.", "(a)", "“quoted”", "—", "end."]
_INSIDE = [
    "*em*",
    "**strong**",
    "*a **b** c*",
    "**a *b* c**",
    "[anchor](https://x.test/a)",
    "[two words](#)",
    "[](https://x.test/empty)",
    "<https://x.test/auto>",
    "<HTTP://X.test/Upper>",
    "[Пример](https://пример.рф/путь)",
    "[q](https://x.test/?a=1&b=2)",
    "[pct](https://x.test/%41%zz)",
    "(*inside parens*)",
    "**bold:**",
    "a*b*c",
    "x **y**",
    "!",
    "#tag",
    "1.5",
]
_OUTSIDE = [
    "_under_",
    "snake_case",
    "`code`",
    "\\*escaped",
    "&amp;",
    "&copy;",
    "<span>x</span>",
    "<a@b.test>",
    "![img](https://x.test/i.png)",
    "[ref][r]",
    "[unclosed",
    "stray]",
    "***both***",
    "* star",
    "**unclosed",
    "*a*b*",
    "** spaced **",
    "[a](javascript:alert(1))",
    "[a]( spaced)",
    '[a](https://x.test "title")',
    "\u00a0*nbsp*",
    "*“quote”*",
    "\t",
    "[e](https://x.test/?a=1&amp;b=2)",
    "*foo**bar*",
    "*foo**bar**baz*",
    "foo*bar**baz",
    "a**b*c*",
    "x*",
]
_LINE_STARTS = ["", "", "", "", "# ", "## ", "###### ", "####### ", "> ", "- ", "1. ", "   "]
_LINE_ALONE = ["***", "---", "===", "```", "~~~", "<div>", "[r]: https://x.test/r", "# closed #"]


def _document(rng: random.Random, outside: float) -> str:
    lines: list[str] = []
    for _ in range(rng.randint(1, 12)):
        roll = rng.random()
        if roll < 0.2:
            lines.append("")
            continue
        if roll < 0.23:
            lines.append(rng.choice(_LINE_ALONE))
            continue
        pieces = []
        for _ in range(rng.randint(1, 8)):
            pick = rng.random()
            if pick < outside:
                pieces.append(rng.choice(_OUTSIDE))
            elif pick < 0.5:
                pieces.append(rng.choice(_INSIDE))
            else:
                pieces.append(rng.choice(_WORDS))
        start = rng.choice(_LINE_STARTS) if rng.random() < 0.3 else ""
        glue = rng.choice([" ", " ", " ", "", "  "])
        lines.append(start + glue.join(pieces) + rng.choice(["", "", "  ", " "]))
    return rng.choice(["\n", "\n", "\r\n"]).join(lines)


@pytest.mark.parametrize("outside", [0.0, 0.03, 0.15])
def test_generated_markdown_never_reads_differently(outside: float) -> None:
    rng = random.Random(int(outside * 1000) + 5)
    answered = 0
    total = 5000
    for _ in range(total):
        markdown = _document(rng, outside)
        fast = blocks(markdown)
        if fast is None:
            continue
        answered += 1
        assert fast == _reference(markdown), repr(markdown)
    # The generator is adversarial (line starts, glued pieces), so the fast path declines
    # most documents; hundreds are still compared, so the test is not vacuous.
    assert answered > 300


@pytest.mark.parametrize("piece", _OUTSIDE + _LINE_ALONE)
def test_outside_the_subset_it_declines_or_agrees(piece: str) -> None:
    markdown = f"Some text {piece} and more.\n\n{piece}\n"
    fast = blocks(markdown)
    assert fast is None or fast == _reference(markdown)
