"""The commands' JSON writer gives exactly what ``json.dumps(..., indent=2)`` gives."""

from __future__ import annotations

import json
import random
from enum import IntEnum
from typing import Any

import pytest

from archiver.cli.jsondoc import dumps


def reference(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


class Word(str):
    pass


class Level(IntEnum):
    HIGH = 3


SCALARS: list[Any] = [
    "",
    "plain",
    'quote " and \\ backslash',
    "line\nbreak\ttab\x00nul\x1f",
    "Кремль — «ёлка» \u2028 \ud83d\ude00 😀",
    0,
    -17,
    2**70,
    0.1,
    -0.0,
    1e300,
    float("nan"),
    float("inf"),
    float("-inf"),
    True,
    False,
    None,
]


def generated(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 4 or roll < 0.45:
        return rng.choice(SCALARS)
    if roll < 0.55:
        return rng.choice([[], {}, ()])
    size = rng.randint(1, 5)
    if roll < 0.8:
        keys = [
            rng.choice(["url", "text", "", "ключ", 'k"q', "status"]) + str(i) for i in range(size)
        ]
        return {key: generated(rng, depth + 1) for key in keys}
    items = [generated(rng, depth + 1) for _ in range(size)]
    return tuple(items) if rng.random() < 0.2 else items


@pytest.mark.parametrize("seed", range(300))
def test_generated_documents_are_written_as_json_writes_them(seed: int) -> None:
    data = generated(random.Random(seed))
    assert dumps(data) == reference(data)


@pytest.mark.parametrize(
    "data",
    [
        {"a": Word("sub-class of str")},  # a flat object through the C encoder
        {"nested": {"a": Word("x"), "b": [Word("y")]}},
        [Word("in a list")],
        {1: "an int key", "b": [1, 2]},  # not a string key: json's own rules
        {"flat": {True: 1}},
        {"level": Level.HIGH, "list": [Level.HIGH]},
        {"deep": [[[[{"x": []}]]]]},
    ],
)
def test_unusual_values_give_the_same_text(data: Any) -> None:
    assert dumps(data) == reference(data)


def test_a_verify_report_shape() -> None:
    link = {
        "url": "https://example.org/a",
        "text": "a",
        "status": "skipped",
        "broken": False,
        "http_status": None,
        "redirects": [],
        "recovered": True,
    }
    report = {
        "results": [
            {"canonical": "c.md", "similarity": 0.9876, "changes": [], "links": [link, link]}
        ]
        * 3,
        "summary": {"edited": 3},
        "errors": [],
    }
    assert dumps(report) == reference(report)


def test_what_json_refuses_is_refused() -> None:
    with pytest.raises(TypeError):
        dumps({"a": {1, 2}})
    with pytest.raises(TypeError):
        dumps({"a": [object()]})


@pytest.mark.parametrize("seed", range(40))
def test_a_document_assembled_from_item_texts_is_dumps_of_it(seed: int) -> None:
    """Items encoded one by one (as ``verify`` does while its workers run) and put in place
    give the same text as the whole document encoded at once, json's own included."""
    from archiver.cli.jsondoc import dumps_with_items, item_text

    rng = random.Random(seed)
    items = [generated(rng) for _ in range(rng.randint(0, 6))]
    if seed % 5 == 0:
        items.append({"word": Word("subclass: json encodes this one"), "n": [Level.HIGH]})
    rest = {"summary": generated(rng), "errors": [generated(rng) for _ in range(seed % 3)]}
    whole = {"results": items, **rest}
    how = ("utf-8", "surrogatepass")  # SCALARS hold lone surrogates
    encoded = [item_text(item, 2).encode(*how) for item in items]
    pieces = dumps_with_items({"results": [], **rest}, "results", encoded, how)
    assert b"".join(pieces).decode(*how) == reference(whole)


def test_items_go_only_under_the_first_key_given_empty() -> None:
    from archiver.cli.jsondoc import dumps_with_items

    with pytest.raises(ValueError):
        list(dumps_with_items({"summary": {}, "results": []}, "results", [b"1"]))
    with pytest.raises(ValueError):
        list(dumps_with_items({"results": [1]}, "results", [b"1"]))


@pytest.mark.parametrize("seed", range(30))
def test_lists_of_records_are_written_as_json_writes_them(seed: int) -> None:
    """A list of flat objects (a verification's links) is written in one C call, then laid
    out: strings holding braces, commas and escaped newlines do not confuse the layout."""
    rng = random.Random(seed)
    tricky = ["}, {", "},\n      {", "{", "}", "[{", "}]", "a\nb", '"}', "", "x"]
    records = [
        {
            rng.choice(["url", "text", "", "k}"]) + str(i): rng.choice(SCALARS + tricky)
            for i in range(rng.randint(1, 4))
        }
        for _ in range(rng.randint(1, 5))
    ]
    if seed % 4 == 0:
        records.append({"empty": [], "also": {}})  # not flat enough for one C call
    if seed % 7 == 0:
        records.append({})
    if seed % 5 == 1:
        records.append({"one": ["item"], "n": 1})  # one item: no separator, still laid out
    if seed % 6 == 2:
        records.append({"nested": {"k": None}})
    if seed % 8 == 3:
        records.append({1: "a key that is not a string"})
    data = {"results": [{"links": records, "sources": tuple(records)}], "n": records}
    assert dumps(data) == reference(data)
