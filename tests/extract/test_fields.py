# ruff: noqa: E501  (a table of real strings reads better unwrapped)
"""Metadata a reader accepts: titles, authors and dates as real pages state them."""

from __future__ import annotations

import pytest

from archiver.extract.profiles.fields import clean_authors, clean_title, iso_date, site_labels

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
