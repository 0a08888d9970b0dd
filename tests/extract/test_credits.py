"""The generic profile cites the article's sources, not its credits: a copyright line, a byline,
a contributor's note, a teaser ending "Full story", the site's promotion of itself, page controls.
(Rules measured on L3S-GN1: its annotators leave these out of the marked full text.)"""

from __future__ import annotations

import pytest

from archiver.extract.extractor import extract
from archiver.extract.profiles.generic import citable, credits_only
from archiver.models import Link

PROSE = (
    "The council voted on Tuesday to close the old bridge for repairs, after engineers found "
    "cracks in two of its supporting piers during a routine inspection last month. "
)


def _page(extra: str) -> str:
    body = "".join(f"<p>{PROSE * 2}</p>" for _ in range(3))
    return (
        "<html><head><title>Bridge closes</title></head><body><div id='story'>"
        "<h1>Bridge closes</h1>"
        f"<p>{PROSE}The <a href='https://engineers.test/report'>engineers' report</a> says "
        "the piers can be saved.</p>"
        f"{body}{extra}</div></body></html>"
    )


URL = "https://news.test/2008/01/10/bridge"


@pytest.mark.parametrize(
    ("extra", "left_out"),
    [
        (
            "<div class='Copyright'><p><i>Copyright 2008 by <a href='/ap/detail.html'>The "
            "Associated Press</a>. All rights reserved.</i></p></div>",
            "https://news.test/ap/detail.html",
        ),
        (
            "<p>Copyright © 2008, <a href='https://paper.test/'>The Daily Paper</a></p>",
            "https://paper.test/",
        ),
        (
            "<p><i>Dan Muse is executive editor of the <a href='https://channel.test/sb'>Small "
            "Business Channel</a> and other sites.</i></p>",
            "https://channel.test/sb",
        ),
        (
            "<p><b>Justine Brian</b> is national administrator of the schools competition, "
            "<a href='https://debate.test'>Debating Matters</a>.</p>",
            "https://debate.test",
        ),
        (
            "<p>Visit <a href='https://news.test/'>news.test</a> for all the latest news.</p>",
            "https://news.test/",
        ),
        (
            "<p>Submit your Pics: Upload photos in our <a href='/pics/'>Pics</a> section.</p>",
            "https://news.test/pics/",
        ),
        (
            "<p>Contact <a href='/advertising/'>our advertising team</a> to advertise.</p>"
            "<p>Please read our <a href='/privacy/'>Privacy Policy</a>.</p>",
            "https://news.test/privacy/",
        ),
    ],
)
def test_credits_and_promotion_give_no_links(extra: str, left_out: str) -> None:
    doc = extract(_page(extra), url=URL)
    urls = [link.url for link in doc.links]
    assert "https://engineers.test/report" in urls  # the article's own source stays
    assert left_out not in urls


@pytest.mark.parametrize(
    "extra",
    [
        "<p><a href='https://ads.test/landing?ad=1'>Fantasy Stock Traders Wanted</a> Play, Learn "
        "&amp; Win in our Stock Trading Contest. Join Today."
        "<a href='https://ads.test/landing?ad=1'>www.ads.test</a></p>",
        "<p><a href='https://news.test/2008/01/11/split'>Karuturi Networks to consider stock "
        "split</a> Karuturi Networks' board would meet on January 30 to consider a split.</p>",
    ],
)
def test_a_headline_teaser_or_ad_gives_no_link(extra: str) -> None:
    urls = [link.url for link in extract(_page(extra), url=URL).links]
    assert "https://engineers.test/report" in urls
    assert not [u for u in urls if "ads.test" in u or "split" in u]


def test_a_sentence_opening_with_its_link_keeps_it() -> None:
    extra = (
        "<p><a href='https://tatamotors.test/'>Tata Motors</a> unveiled its $2,500 Nano with "
        "much ado on Thursday in New Delhi.</p>"
    )
    urls = [link.url for link in extract(_page(extra), url=URL).links]
    assert "https://tatamotors.test/" in urls


def test_a_link_to_another_sites_home_page_in_prose_is_kept() -> None:
    extra = (
        f"<p>{PROSE}Its maker, <a href='https://www.steelworks.test/'>Steelworks</a>, "
        "says the new beams will arrive in March.</p>"
    )
    urls = [link.url for link in extract(_page(extra), url=URL).links]
    assert "https://www.steelworks.test/" in urls


@pytest.mark.parametrize(
    "text",
    [
        "Copyright 2008 The Associated Press. All rights reserved.",
        "© 2008 The Sports Network",
        "Posted By: Edward M. Gomez (Email) | December 13 2007 at 07:52 AM",
        "EMC Sees Virtualization in SMBs' Storage Future January 8, 2008By Dan Muse",
        "He said so. Previous story: Didgeridoo concerts? Next story: Beanie buddy in trouble",
        "Magic Murray downs Davydenko Andy Murray has cruised past the top seed. Full\xa0Story",
    ],
)
def test_credit_lines(text: str) -> None:
    assert credits_only(text)


@pytest.mark.parametrize(
    "text",
    [
        PROSE,
        "The report, written by the council's engineers, was published on Monday. " * 2,
        "Read the report here.",
    ],
)
def test_prose_is_not_a_credit(text: str) -> None:
    assert not credits_only(text)


@pytest.mark.parametrize(
    ("anchor", "cited"),
    [
        ("Full\xa0Story", False),
        ("Click here to sign up", False),
        ("sign-out", False),
        ("standard Terms and Conditions", False),
        ("XML feed", False),
        ("the engineers' report", True),
        ("here", True),
    ],
)
def test_control_anchors(anchor: str, cited: bool) -> None:
    assert citable(Link(url="https://x.test/a", text=anchor)) is cited
