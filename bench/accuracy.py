"""Extraction accuracy on real pages, beside trafilatura in the same run.

    .venv/bin/python -m bench.accuracy [--corpus DIR] [--limit N] [--only wcxb|l3s] [--misses]

Scores, per corpus of ``../shared/corpus`` (README there):

* ``wcxb-dev`` (WCXB development split, article pages): title (exact after folding case and
  typography), authors (token F1 of the names; an empty answer is right where the key has none),
  date (the day; null is right where the key has none), body (F1 of word 3-shingles against
  ``main_content``), and the defects the issue counts: titles with HTML entities or mojibake,
  dates that are not ISO 8601, authors that are e-mail addresses, numbers or web sites;
  ``page_type`` (article / not) against the key's type;
* ``wayback-captures``: pages as the Wayback Machine replays them — the share of the key's
  ``with`` snippets in the text and of its ``without`` snippets kept out, links left pointing
  into the archive, toolbars shown;
* ``l3s-gn1``: in-body link recall and precision against the links inside the annotated
  full-text spans (``span.x-nc-sel2``), matched to the original page's ``href`` by anchor text.

The corpus is not in a user's clone: then this says so plainly and exits 0. A small subset with
its provenance is in ``tests/data/accuracy/``; ``tests/extract/test_accuracy.py`` scores it with
these functions against ``tests/data/accuracy_floor.toml`` in every ``make test``.
"""

from __future__ import annotations

import argparse
import difflib
import gzip
import json
import re
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import trafilatura
from lxml import html as lxml_html

from archiver.errors import ArchiverError
from archiver.extract.extractor import decode_html, extract
from archiver.extract.normalize import normalize_text
from archiver.extract.profiles import resolve

ROOT = Path(__file__).resolve().parent.parent
# ../shared/corpus beside the project (a worktree sits one level deeper: ../../shared)
CORPUS = next(
    (p / "shared" / "corpus" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared").is_dir()),
    ROOT.parent / "shared" / "corpus",
)

_WORD = re.compile(r"\w+")
_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,6}|#x[0-9a-fA-F]{2,5});")
_MOJIBAKE = re.compile("[ÃÂÐÑ][\u0080-\u00bf]|â€|Ã©|Ã¶|Ã¼|Ã¤|\ufffd")
_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
_BAD_AUTHOR = re.compile(r"@|^\W*\d[\d\W]*$|https?://|www\.|\.(?:com|org|net|de|ru|co\.uk)\b", re.I)


@dataclass(frozen=True)
class Answer:
    """What one extractor said about one page."""

    title: str | None = None
    authors: tuple[str, ...] = ()
    date: str | None = None
    text: str = ""
    links: tuple[str, ...] = ()
    page_type: str | None = None


@dataclass(frozen=True)
class ArticleCase:
    """One WCXB page and its key."""

    id: str
    url: str | None
    data: bytes
    title: str | None
    author: str | None
    date: str | None
    text: str
    page_type: str


@dataclass(frozen=True)
class LinkCase:
    """One L3S-GN1 page and the targets of the links inside its full text."""

    id: str
    url: str | None
    data: bytes
    links: frozenset[str]


@dataclass
class Scores:
    """Sums over the pages of one corpus for one extractor."""

    pages: int = 0
    title: float = 0.0
    authors: float = 0.0
    people: float = 0.0  # authors, over the pages whose key names people (or no one)
    people_pages: int = 0
    date: float = 0.0
    body: float = 0.0
    entity_titles: int = 0
    non_iso_dates: int = 0
    bad_authors: int = 0
    type_right: int = 0
    typed: int = 0
    found: int = 0  # in-body links found that are in the key
    extracted: int = 0  # in-body links extracted
    expected: int = 0  # links in the key
    misses: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        n = max(self.pages, 1)
        out = {
            "title": self.title / n,
            "authors": self.authors / n,
            "authors_people": self.people / max(self.people_pages, 1),
            "date": self.date / n,
            "body_f1": self.body / n,
            "entity_or_mojibake_titles": self.entity_titles,
            "non_iso_dates": self.non_iso_dates,
            "bad_authors": self.bad_authors,
        }
        if self.typed:
            out["page_type"] = self.type_right / self.typed
        if self.expected or self.extracted:
            out["link_recall"] = self.found / max(self.expected, 1)
            out["link_precision"] = self.found / max(self.extracted, 1)
        return out


# -- scoring (pure) ---------------------------------------------------------------------------


def fold(text: str | None) -> str:
    return " ".join(_WORD.findall(normalize_text(text or "").casefold()))


def shingles(text: str, n: int = 3) -> dict[tuple[str, ...], int]:
    words = _WORD.findall(normalize_text(text).casefold())
    out: dict[tuple[str, ...], int] = {}
    for i in range(max(len(words) - n + 1, 1 if words else 0)):
        key = tuple(words[i : i + n])
        out[key] = out.get(key, 0) + 1
    return out


def f1(got: dict[tuple[str, ...], int], want: dict[tuple[str, ...], int]) -> float:
    if not got and not want:
        return 1.0
    common = sum(min(c, want.get(k, 0)) for k, c in got.items())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


_CREDENTIAL = re.compile(r"\b(?:[A-Z]{2,6}|Ph\.?\s?D\.?|Sr|Jr)\b\.?")


def _name_tokens(names: Iterable[str]) -> dict[tuple[str, ...], int]:
    """The words of people's names; credentials ("MS, RD", "Ph.D.") are not names."""
    drop = {"and", "und", "by", "von", "de", "dr", "mr", "mrs"}
    out: dict[tuple[str, ...], int] = {}
    for name in names:
        for word in _WORD.findall(normalize_text(_CREDENTIAL.sub(" ", name)).casefold()):
            if word not in drop and len(word) > 1:
                out[(word,)] = out.get((word,), 0) + 1
    return out


_ORG_WORDS = re.compile(
    r"\b(?:team|staff|editors?|editorial|newsroom|media|group|inc|llc|ltd|company|agency|"
    r"marketing|security|bank|official|online|clinic|care)\b",
    re.IGNORECASE,
)


def names_people(author: str, url: str | None) -> bool:
    """True when a key's author names people: not a one-word brand, a team or the site itself
    (the issue wants no site names as authors, so those keys are scored apart)."""
    if " " not in author.strip() or _ORG_WORDS.search(author):
        return False
    host = (url or "").split("/")[2] if (url or "").count("/") >= 2 else ""
    label = _WORD.sub(lambda m: m.group(0).lower(), host).removeprefix("www.").split(".")[0]
    folded = "".join(_WORD.findall(author.lower()))
    return not (label and len(label) >= 4 and (label in folded or folded in label))


def score_article(case: ArticleCase, answer: Answer, scores: Scores) -> None:
    scores.pages += 1
    title_ok = bool(case.title) and fold(answer.title) == fold(case.title)
    if not case.title:
        title_ok = not answer.title
    scores.title += title_ok
    if case.author:
        right = f1(_name_tokens(answer.authors), _name_tokens([case.author]))
    else:
        right = float(not answer.authors)
    scores.authors += right
    if not case.author or names_people(case.author, case.url):
        scores.people += right
        scores.people_pages += 1
    if case.date:
        scores.date += (answer.date or "")[:10] == case.date[:10]
    else:
        scores.date += answer.date is None
    scores.body += f1(shingles(answer.text), shingles(case.text))
    if answer.title and (_ENTITY.search(answer.title) or _MOJIBAKE.search(answer.title)):
        scores.entity_titles += 1
        scores.misses.append(f"{case.id} title {answer.title!r}")
    if answer.date is not None and not _ISO.match(answer.date):
        scores.non_iso_dates += 1
        scores.misses.append(f"{case.id} date {answer.date!r}")
    bad = [a for a in answer.authors if _BAD_AUTHOR.search(a)]
    if bad:
        scores.bad_authors += 1
        scores.misses.append(f"{case.id} authors {bad!r}")
    if answer.page_type is not None:
        scores.typed += 1
        scores.type_right += (answer.page_type == "article") == (case.page_type == "article")


def score_links(case: LinkCase, answer: Answer, scores: Scores) -> None:
    scores.pages += 1
    got = {u for u in answer.links if u.startswith(("http://", "https://"))}
    want = set(case.links)
    scores.found += len(got & want)
    scores.extracted += len(got)
    scores.expected += len(want)
    for miss in sorted(want - got):
        scores.misses.append(f"{case.id} missed {miss}")
    for extra in sorted(got - want):  # on a page whose key has none too: precision counts it
        scores.misses.append(f"{case.id} extra {extra}")


# -- the two extractors -----------------------------------------------------------------------


def ours(data: bytes, url: str | None) -> Answer:
    try:
        doc = extract(data, url=url)
    except ArchiverError:
        return Answer()
    return Answer(
        title=doc.title,
        authors=doc.authors,
        date=doc.published,
        text=doc.text,
        links=tuple(link.url for link in doc.links),
        page_type=getattr(doc, "page_type", None),
    )


def theirs(data: bytes, url: str | None) -> Answer:
    """trafilatura alone, as a user would call it (its own decoding, metadata and links)."""
    try:
        text, _, _ = decode_html(data)
        result = trafilatura.bare_extraction(
            text, url=url, with_metadata=True, include_links=True, include_tables=True
        )
    except Exception:  # noqa: BLE001 - a baseline's crash is a page it got wrong
        return Answer()
    if result is None or isinstance(result, dict):
        return Answer()
    links: list[str] = []
    if result.body is not None:
        links = [r.get("target") or "" for r in result.body.iter("ref")]
    authors = tuple(a.strip() for a in (result.author or "").split(";") if a.strip())
    return Answer(
        title=result.title,
        authors=authors,
        date=result.date,
        text=result.text or "",
        links=tuple(links),
    )


# -- corpora ----------------------------------------------------------------------------------


def wcxb_cases(root: Path, limit: int | None = None) -> Iterator[ArticleCase]:
    """The article pages of a WCXB split (``html/<id>.html[.gz]``, ``ground-truth/<id>.json``)."""
    keys = sorted((root / "ground-truth").glob("*.json"))
    count = 0
    for key in keys:
        truth = json.loads(key.read_text(encoding="utf-8"))
        kind = truth.get("_internal", {}).get("page_type", {}).get("primary", "article")
        page = root / "html" / f"{key.stem}.html.gz"
        data = gzip.decompress(page.read_bytes()) if page.exists() else None
        if data is None:
            plain = root / "html" / f"{key.stem}.html"
            if not plain.exists():
                continue
            data = plain.read_bytes()
        g = truth.get("ground_truth", {})
        yield ArticleCase(
            id=key.stem,
            url=truth.get("url"),
            data=data,
            title=g.get("title"),
            author=g.get("author"),
            date=g.get("publish_date"),
            text=g.get("main_content") or "",
            page_type=kind,
        )
        count += 1
        if limit and count >= limit:
            return


def _anchor_key(a: lxml_html.HtmlElement) -> str:
    return fold(a.text_content())


def l3s_cases(root: Path, limit: int | None = None) -> Iterator[LinkCase]:
    """L3S-GN1 pages; each key link matched from the annotated copy to the original's href."""
    urls: dict[str, str] = {}
    for line in (
        (root / "url-mapping.txt").read_text(encoding="utf-8", errors="replace").split("\n")
    ):
        if "\t" in line:
            uuid, url = line.split("\t", 1)
            urls[uuid.strip().removeprefix("<urn:uuid:").removesuffix(">")] = url.strip()
    count = 0
    for annotated in sorted((root / "annotated").glob("*.html")):
        original = root / "original" / annotated.name
        if not original.exists():
            continue
        data = original.read_bytes()
        page_url = urls.get(annotated.stem)
        yield LinkCase(
            id=annotated.stem, url=page_url, data=data, links=_key_links(annotated, data, page_url)
        )
        count += 1
        if limit and count >= limit:
            return


def _parsed(data: bytes) -> lxml_html.HtmlElement:
    """A page's tree from its text as the extractor decodes it (handing lxml re-encoded bytes
    would let a wrong ``<meta charset>`` decode them again, into mojibake anchors)."""
    text = _XML_DECLARATION.sub("", decode_html(data)[0], count=1)  # lxml refuses it in text
    return lxml_html.document_fromstring(text)


def _key_links(annotated: Path, data: bytes, url: str | None) -> frozenset[str]:
    marked = _parsed(annotated.read_bytes())
    full = "contains(concat(' ', @class, ' '), ' x-nc-sel2 ')"
    inside = marked.xpath(f"//span[{full}]//a | //a[.//span[{full}]]")
    if not inside:
        return frozenset()
    page = _parsed(data)
    base_el = page.find(".//base")
    base = resolve(base_el.get("href"), url) if base_el is not None and base_el.get("href") else url
    originals = [a for a in page.iter("a") if a.get("href") is not None]
    all_marked = list(marked.iter("a"))
    # an anchor with no text (an icon, a picture) carries no label of its own: the annotators
    # marked text, and only the whitespace around such an anchor falls inside a full-text span;
    # its alignment by (empty) anchor text would also be a guess
    keep = {id(a) for a in inside if _anchor_key(a)}
    matcher = difflib.SequenceMatcher(
        None,
        [_anchor_key(a) for a in all_marked],
        [_anchor_key(a) for a in originals],
        autojunk=False,
    )
    found = set()
    for block in matcher.get_matching_blocks():
        for i in range(block.size):
            a = all_marked[block.a + i]
            if id(a) in keep:
                target = resolve(originals[block.b + i].get("href"), base)
                if target.startswith(("http://", "https://")):
                    found.add(target)
    return frozenset(found)


@dataclass(frozen=True)
class ReplayCase:
    """One page as the Wayback Machine replays it, with snippets its text must (not) hold."""

    id: str
    url: str
    data: bytes
    with_: tuple[str, ...]
    without: tuple[str, ...]


def replay_cases(root: Path) -> Iterator[ReplayCase]:
    """The Wayback captures (``evaldata.json``: replay URL -> file, ``with``, ``without``)."""
    key = json.loads((root / "evaldata.json").read_text(encoding="utf-8"))
    for url, entry in sorted(key.items()):
        page = root / entry["file"]
        if page.exists():
            yield ReplayCase(
                id=entry["file"],
                url=url,
                data=page.read_bytes(),
                with_=tuple(entry.get("with") or ()),
                without=tuple(entry.get("without") or ()),
            )


def score_replays(cases: Iterable[ReplayCase]) -> dict[str, float]:
    """Share of ``with`` snippets found and ``without`` ones absent; links left pointing into
    the archive (a replay's links are their original URLs) and pages showing its toolbar."""
    found = wanted = absent = unwanted = archive_links = toolbars = pages = 0
    for case in cases:
        pages += 1
        answer = ours(case.data, case.url)
        wanted += len(case.with_)
        found += sum(snippet in answer.text for snippet in case.with_)
        unwanted += len(case.without)
        absent += sum(snippet not in answer.text for snippet in case.without)
        archive_links += sum("web.archive.org" in url for url in answer.links)
        toolbars += "Wayback Machine" in answer.text
    return {
        "pages": pages,
        "with_found": found / max(wanted, 1),
        "without_absent": absent / max(unwanted, 1),
        "archive_links": archive_links,
        "toolbar_shown": toolbars,
    }


# -- the run ----------------------------------------------------------------------------------


def _both(case: ArticleCase | LinkCase) -> tuple[ArticleCase | LinkCase, Answer, Answer]:
    return case, ours(case.data, case.url), theirs(case.data, case.url)


def run_articles(cases: Iterable[ArticleCase], workers: int = 2) -> tuple[Scores, Scores]:
    """(ours, trafilatura's) over the article pages; every page's type scored for ours."""
    mine, base = Scores(), Scores()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for case, a, b in pool.map(_both, cases, chunksize=8):
            assert isinstance(case, ArticleCase)
            if case.page_type != "article":
                if a.page_type is not None:
                    mine.typed += 1
                    mine.type_right += a.page_type != "article"
                continue
            score_article(case, a, mine)
            score_article(case, b, base)
    return mine, base


def run_links(cases: Iterable[LinkCase], workers: int = 2) -> tuple[Scores, Scores]:
    mine, base = Scores(), Scores()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for case, a, b in pool.map(_both, cases, chunksize=8):
            assert isinstance(case, LinkCase)
            score_links(case, a, mine)
            score_links(case, b, base)
    return mine, base


def _shown(value: float, width: int) -> str:
    return f"{value:{width}.3f}" if isinstance(value, float) else f"{value:{width}d}"


def _table(name: str, mine: Scores, base: Scores, prefix: str = "") -> None:
    print(f"\n{name}: {mine.pages} pages")
    theirs_fig = base.figures()
    print(f"  {'':28} {'archiver':>10} {'trafilatura':>12}")
    for key, value in mine.figures().items():
        if not key.startswith(prefix):
            continue
        other = theirs_fig.get(key)
        shown = (
            ""
            if other is None
            else (f"{other:12.3f}" if isinstance(other, float) else f"{other:12d}")
        )
        print(
            f"  {key:28} {value:10.3f} {shown}"
            if isinstance(value, float)
            else f"  {key:28} {value:10d} {shown}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--only", choices=("wcxb", "l3s", "wayback"), default=None)
    parser.add_argument("--misses", action="store_true", help="list what was got wrong")
    args = parser.parse_args(argv)
    wcxb, l3s = args.corpus / "wcxb-dev", args.corpus / "l3s-gn1"
    replays = args.corpus / "wayback-captures"
    if not wcxb.is_dir() and not l3s.is_dir() and not replays.is_dir():
        print(
            f"corpus not found at {args.corpus}: nothing measured (a clone without ../shared "
            "runs only the subset in tests/data/accuracy via make test)"
        )
        return 0
    if args.only in (None, "wcxb"):
        if wcxb.is_dir():
            mine, base = run_articles(wcxb_cases(wcxb, args.limit))
            _table("wcxb-dev articles", mine, base)
            if args.misses:
                print("\n".join("    " + m for m in mine.misses))
        else:
            print(f"{wcxb}: absent, not measured")
    if args.only in (None, "l3s"):
        if l3s.is_dir():
            mine, base = run_links(l3s_cases(l3s, args.limit))
            _table("l3s-gn1 full-text links", mine, base, prefix="link_")
            if args.misses:
                print("\n".join("    " + m for m in mine.misses))
        else:
            print(f"{l3s}: absent, not measured")
    if args.only in (None, "wayback"):
        if replays.is_dir():
            figures = score_replays(replay_cases(replays))
            print(f"\nwayback-captures: {figures.pop('pages')} replayed pages (archiver)")
            for key, value in figures.items():
                print(f"  {key:28} {_shown(value, 10)}")
        else:
            print(f"{replays}: absent, not measured")
    return 0


if __name__ == "__main__":
    sys.exit(main())
