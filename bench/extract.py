"""Extraction speed: archiver's library path against trafilatura on the same pages, one run.

    .venv/bin/python -m bench.extract [--seconds S]

Moscow Times pages (the seed page and the golden pages in the current markup) go through the
``moscowtimes`` profile; the other golden pages through ``generic``, which is trafilatura plus
archiver's decoding, metadata and normalization. Both are compared with trafilatura alone
(``bare_extraction`` with metadata and links and the generic profile's options, what a user would
otherwise call) on the same bytes.
Targets (issue 3): MT profile at least as fast as trafilatura; generic within 10% of it.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura

from archiver.extract.extractor import extract

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "extract"
MT_PAGES = [ROOT / "tests" / "web" / "pages" / "mt-a57583.html"] + [
    GOLDEN / f"{name}.html"
    for name in ("mt-news-multiauthor", "mt-updated", "mt-images-quote-link")
]
GENERIC_PAGES = sorted(GOLDEN.glob("generic-*.html"))


def _rate(fn: Callable[[bytes], object], pages: list[bytes], seconds: float) -> tuple[float, float]:
    """(pages per second, MB per second) of ``fn`` looping over ``pages`` for ``seconds``."""
    done = size = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for page in pages:
            fn(page)
            done += 1
            size += len(page)
    return done / elapsed, size / elapsed / 1e6


def _compare(
    ours: Callable[[bytes], object],
    theirs: Callable[[bytes], object],
    pages: list[bytes],
    seconds: float,
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Best of five interleaved rounds each, so drift in machine load hits both sides alike."""
    for page in pages:  # warm caches and imports
        ours(page)
        theirs(page)
    a: list[tuple[float, float]] = []
    b: list[tuple[float, float]] = []
    for _ in range(5):
        a.append(_rate(ours, pages, seconds / 5))
        b.append(_rate(theirs, pages, seconds / 5))
    return max(a), max(b)


def _realistic(page: bytes) -> bytes:
    """The page inside the bulk of a real news site: menus, link lists, inline script, style.

    Source pages on the web weigh 100-500 KB, mostly boilerplate; the golden pages are a few KB.
    """
    menu = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(300))
    script = "var config = {" + ",".join(f'"k{i}": {i}' for i in range(3000)) + "};"
    style = "".join(f".c{i} {{ margin: {i}px; }}" for i in range(2000))
    footer = "".join(f'<a href="/about/{i}">About page {i}</a> ' for i in range(300))
    text = page.decode("utf-8")
    text = text.replace("</head>", f"<style>{style}</style><script>{script}</script></head>", 1)
    text = text.replace("<body>", f"<body><nav><ul>{menu}</ul></nav>", 1)
    return text.replace("</body>", f"<footer>{footer}</footer></body>", 1).encode("utf-8")


def _trafilatura(page: bytes) -> object:
    # the options the generic profile passes, so both sides do the same extraction work
    return trafilatura.bare_extraction(
        page,
        with_metadata=True,
        include_links=True,
        include_comments=False,
        include_tables=True,
        include_formatting=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="seconds per side per page set")
    args = parser.parse_args()
    rows = []
    generic = [p.read_bytes() for p in GENERIC_PAGES]
    for label, pages, profile in (
        ("Moscow Times pages", [p.read_bytes() for p in MT_PAGES], "moscowtimes"),
        ("other sites (generic)", generic, "generic"),
        ("other sites, 100 KB+", [_realistic(p) for p in generic], "generic"),
    ):

        def ours(page: bytes, profile: str = profile) -> object:
            return extract(page, profile=profile)

        (ours_pps, ours_mbs), (traf_pps, traf_mbs) = _compare(
            ours, _trafilatura, pages, args.seconds
        )
        rows.append((label, profile, len(pages), ours_pps, ours_mbs, traf_pps, traf_mbs))
    print(
        f"{'pages':24} {'path':12} {'n':>3} {'pages/s':>9} {'MB/s':>7}   "
        f"{'trafilatura pages/s':>20} {'MB/s':>7}   {'ratio':>6}"
    )
    for label, profile, n, pps, mbs, tpps, tmbs in rows:
        print(
            f"{label:24} {profile:12} {n:>3} {pps:>9.1f} {mbs:>7.2f}   "
            f"{tpps:>20.1f} {tmbs:>7.2f}   {pps / tpps:>5.2f}x"
        )
    print(
        "ratio = archiver pages/s divided by trafilatura pages/s on the same pages "
        "(>= 1.00 is as fast or faster; generic target >= 0.90)"
    )


if __name__ == "__main__":
    main()
