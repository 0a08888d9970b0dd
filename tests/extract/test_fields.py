# ruff: noqa: E501  (a table of real strings reads better unwrapped)
"""Metadata a reader accepts: titles, authors and dates as real pages state them."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from archiver.extract.profiles.fields import (
    choose_authors,
    clean_authors,
    clean_title,
    collective_authors,
    iso_date,
    site_labels,
)
from archiver.extract.profiles.metadata import bylines, read_head

GOLEM = site_labels("www.golem.de", "Golem.de")


@pytest.mark.parametrize(
    ("stated", "headings", "sites", "expected"),
    [
        (
            "Budget Traveler&#8217;s Guide To Travel Insurance",
            [],
            set(),
            "Budget Traveler’s Guide To Travel Insurance",
        ),
        ("Hacker wollen Netz zerst&ouml;ren - Golem.de", [], GOLEM, "Hacker wollen Netz zerstören"),
        ("Nueva sanciÃ³n contra el club | Sport", [], set(), "Nueva sanción contra el club"),
        (
            "Kremlin Says Talks Will Go On | News | The Moscow Times",
            [],
            site_labels("themoscowtimes.com", "The Moscow Times"),
            "Kremlin Says Talks Will Go On",
        ),
        (
            "What is Cloud Computing? | Google Cloud",
            ["What is Cloud Computing?"],
            set(),
            "What is Cloud Computing?",
        ),
        ("M&amp;A &quot;Roundup&quot;", [], set(), 'M&A "Roundup"'),
        ("A - B: a title with a dash in it", [], set(), "A - B: a title with a dash in it"),
    ],
)
def test_titles(stated: str, headings: list[str], sites: set[str], expected: str) -> None:
    assert clean_title(stated, headings, sites) == expected


@pytest.mark.parametrize(
    ("raw", "host", "expected"),
    [
        (
            ["By Manoj Jain and Jagpreet Chhatwal, The Commercial Appeal"],
            None,
            ["Manoj Jain", "Jagpreet Chhatwal"],
        ),
        (["Autor: Hans Müller und Eva Schmidt (dpa)"], None, ["Hans Müller", "Eva Schmidt"]),
        (
            ["Danielle DeSiato, Donna Enzmann, and Natalie Nguyen"],
            None,
            ["Danielle DeSiato", "Donna Enzmann", "Natalie Nguyen"],
        ),
        (["Dylan Bailey, MS, RD, FAND"], None, ["Dylan Bailey"]),
        (["beatriz.pinto@hommes.studio", "262588213843476", "paperium.net"], None, []),
        (["Accruent"], "www.accruent.com", []),
        (["Rick Steves"], "www.ricksteves.com", ["Rick Steves"]),
        (["Kaufman, Jeff T."], None, ["Jeff T. Kaufman"]),
        (
            ["This post was written by Danielle Padula, Head of Community Development"],
            None,
            ["Danielle Padula"],
        ),
        (["Cazzy Magennis Last Updated August 1"], None, ["Cazzy Magennis"]),
        (["Written By"], None, []),
        # one byline that an earlier reader split on "," and "and"
        (["Kaufman", " Jeff T"], None, ["Jeff T Kaufman"]),
        (["Paul Frew", " Home", " Digital Security Expert"], "www.security.org", ["Paul Frew"]),
        (["Danielle Padula", "Head", "Lead Reviewer Updated Feb"], None, ["Danielle Padula"]),
        # a job title or a date run on after the name; avatar initials before it
        (["Matt Check Head Winemaker", " Co-Founder"], None, ["Matt Check"]),
        (["Linda Rosencrance Contributing Writer"], None, ["Linda Rosencrance"]),
        (["Jordana Cepelewicz December"], None, ["Jordana Cepelewicz"]),
        (["Haley Hoekstra • March"], None, ["Haley Hoekstra"]),
        (["CM Craig McCarthy Last updated"], None, ["Craig McCarthy"]),
        (
            ["Article by Cara Dumaplin RN", "Certified Pediatric Sleep Consultant"],
            None,
            ["Cara Dumaplin"],
        ),
        (["Recipe by PJ Hamel"], None, ["PJ Hamel"]),
        (["David Jackson - FullStack Editorial Team"], None, ["David Jackson"]),
        # the site's name in title case is its owner only when named first; in capitals never
        (["Jane Roe, Atlas Van Lines"], "www.atlasvanlines.com", ["Jane Roe"]),
        (["USA TODAY"], "www.usatoday.com", []),
        (["Stitch Data", "Webmaster", "Name", "NOC Admin", "Dec"], "www.stitchdata.com", []),
        # names are written in title case and hold no digits ("van der" and the like aside)
        (["Personal finance January", "On December 9"], None, []),
        (["Cort Honey", "Personal finance"], None, ["Cort Honey"]),
        # the rest of a body's name split on "and" is not a person
        (["Center for Drug Evaluation and Research"], None, []),
        (["Texas Coalition for Heritage Spanish"], None, []),
        (["Marna van der Merwe", "Çelik Nimani"], None, ["Marna van der Merwe", "Çelik Nimani"]),
    ],
)
def test_authors_are_people(raw: list[str], host: str | None, expected: list[str]) -> None:
    assert clean_authors(raw, site_labels(host)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2017-03-30T19:05:00+03:00", "2017-03-30T19:05:00+03:00"),
        ("Fri Apr 28 19:20:36 CEST 2023", "2023-04-28T19:20:36+02:00"),
        ("Jan 17, 2025", "2025-01-17"),
        ("13/11/2025 09:21:40", "2025-11-13T09:21:40"),
        ("2025-12-02 08:30:10 -0600", "2025-12-02T08:30:10-06:00"),
        ('"2025-12-17T13:22:47Z"', "2025-12-17T13:22:47Z"),
        ("Dec 19th 2025", "2025-12-19"),
        ("yesterday", None),
        ("", None),
        ("0000-00-00", None),
    ],
)
def test_dates_are_iso_or_none(value: str, expected: str | None) -> None:
    assert iso_date(value) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["The Investopedia Team"], ["The Investopedia Team"]),
        (["Read more about The Upwork Team"], ["The Upwork Team"]),
        (["By Reuters"], ["Reuters"]),
        (["News Desk", "Resy Staff"], ["News Desk", "Resy Staff"]),
        (["Center for Drug Evaluation and Research"], ["Center for Drug Evaluation and Research"]),
        (["Swoogo"], []),  # a brand is not a byline
        (["Team support@example.com"], []),
        (["Jane Roe"], []),
    ],
)
def test_collective_bylines(raw: list[str], expected: list[str]) -> None:
    assert collective_authors(raw) == expected


def test_people_first_then_a_collective_from_the_first_source_that_credits_one() -> None:
    sites = site_labels("www.investopedia.com")
    # the head credits the team; trafilatura's search found the reviewers: the head wins
    assert choose_authors([["The Investopedia Team"], ["Margaret James"]], sites) == [
        "The Investopedia Team"
    ]
    assert choose_authors([[], ["Staff"], ["By Jane Roe"]], sites) == ["Staff"]
    assert choose_authors([["Investopedia"], [], ["Jane Roe"]], sites) == ["Jane Roe"]
    assert choose_authors([["Investopedia"], []], sites) == []


def _body(markup: str) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(f"<html><head></head><body>{markup}</body></html>")


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>By <a href='/a/ajn'>A. J. Neal</a> View In Digital Edition</p>", ["A. J. Neal"]),
        ("<p>Mar 24, 2025 By <a>Amy Wilhelm</a>0 comments</p>", ["Amy Wilhelm"]),
        ("<span>By<b>Daryl Austin</b></span>", ["Daryl Austin"]),
        ("<p>Written by:<span>Elise Nass</span></p>", ["Elise Nass"]),
        ("<div><p>By Chase Bernath</p></div>", ["Chase Bernath"]),
        (
            "<span itemprop='author'><img alt=''><span itemprop='name'>Sam O'Brien</span></span>",
            ["Sam O'Brien"],
        ),
        ("<a rel='author' href='/u/1'>Eve Park</a>", ["Eve Park"]),
        (
            "<div>By <ul><li><a>Emily Walker</a></li><li><a>Casey McDevitt</a></li></ul></div>",
            ["Emily Walker", "Casey McDevitt"],
        ),
        (
            "<article><footer>Posted by <a>Colin Watson</a> on 2025-12-18</footer></article>",
            ["Colin Watson"],
        ),
        ("<div><p>Written by</p><p>Edzel Tabing</p></div>", ["Edzel Tabing"]),
        (
            "<div><span>Written by:</span><img src='a.png'><span>Elise Nass</span></div>",
            ["Elise Nass"],
        ),
        ("<div><span>By</span><span>Updated</span></div>", []),
        # the first credit only: a teaser's byline further down is another article's
        (
            "<p>By <a>Daniel Renfrow</a></p><div><p>By <a>Uvie Bikomo</a></p></div>",
            ["Daniel Renfrow"],
        ),
        # not credits: a sentence, a menu, a comment thread, a one-word filter
        ("<p>By clicking Subscribe you agree</p>", []),
        ("<nav><p>By <a>Jane Roe</a></p></nav>", []),
        ("<div class='comments'><p>By <a>Joe Bloggs</a></p></div>", []),
        ("<div><a>By Category</a><a>By Manufacturer</a></div>", []),
        ("<p>Shop by <a>Brand Name</a></p>", []),
    ],
)
def test_bylines_in_markup(markup: str, expected: list[str]) -> None:
    assert bylines(_body(markup)) == expected


def test_a_written_by_twitter_label_is_a_byline() -> None:
    tree = lxml_html.fromstring(
        "<html><head><meta name='twitter:label1' content='Written by'>"
        "<meta name='twitter:data1' content='Nawaz Dhandala'></head>"
        "<body><p>By <a>Someone Else</a></p></body></html>"
    )
    head = read_head(tree)
    assert head.authors == []  # below the head's own statement and trafilatura's search
    assert head.bylines == ["Nawaz Dhandala"]
