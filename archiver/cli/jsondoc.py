"""The JSON documents the commands print: ``json.dumps(data, ensure_ascii=False, indent=2)``,
byte for byte, three to four times faster.

With ``indent`` set, Python (before 3.13) leaves its C encoder and walks the data with the
pure-Python generator encoder: for ``verify --json`` over 10,000 copies (130 MB of JSON) that
was ~0.27 ms a copy, a quarter of what the parent process does per copy. :func:`dumps`
writes the same text from one recursive function over the plain types a command's
``to_json()`` gives (dict, list, tuple, str, int, float, bool, None), escaping strings with
the same C function ``json`` uses; anything else (a subclass, a key that is not a string)
hands the whole document to ``json.dumps``, so the output never differs
(tests/cli/test_jsondoc.py compares them).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Sequence
from itertools import chain, compress
from json.encoder import encode_basestring
from typing import Any

_INDENT = "  "
_INFINITY = float("inf")


#: Values a flat object may hold: what the C encoder writes as ``json.dumps(indent=2)`` does.
_FLAT = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = frozenset({dict, list, tuple})
_DICT = frozenset({dict})
_KEYS = frozenset({str})


@functools.lru_cache(maxsize=64)
def _flat_encoder(inner: str) -> Callable[[Any], str]:
    """The C encoder writing an object's members one per line at this indentation: with
    ``indent`` None, ``json`` uses its C encoder, and the item separator can carry the
    newline and the indentation of a flat object (one whose values are all scalars)."""
    encoder = json.JSONEncoder(ensure_ascii=False, separators=("," + inner, ": "))
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator: the pure encoder, same text
        return encoder.encode
    # What JSONEncoder.iterencode builds on every call, built once per indentation.
    chunks = make(
        None, encoder.default, encode_basestring, None, ": ", "," + inner, False, False, True
    )
    return lambda value: "".join(chunks(value, 0))


class _Unusual(Exception):
    """A value outside the plain types: let ``json`` encode the whole document."""


def dumps(data: Any) -> str:
    """``json.dumps(data, ensure_ascii=False, indent=2)``."""
    out: list[str] = []
    try:
        _encode(data, out, "\n")
    except (_Unusual, RecursionError):
        return json.dumps(data, ensure_ascii=False, indent=2)
    return "".join(out)


def _flat(value: dict[Any, Any]) -> bool:
    """An object with string keys and scalar values, or empty lists and objects (which both
    engines write ``[]`` and ``{}``): the types gathered by C loops, not one by one."""
    kinds = set(map(type, value.values()))
    if not kinds <= _FLAT:
        if not kinds - _FLAT <= _CONTAINERS:
            return False
        if any(item for item in value.values() if type(item) in _CONTAINERS):
            return False
    return set(map(type, value)) == {str}


def _flat_records(items: list[Any] | tuple[Any, ...]) -> bool:
    """Every item a non-empty flat object (:func:`_flat`): a list of records, such as a
    verification's links, which :func:`_encode` writes in one C call. Checked over all the
    records' keys and values at once, by C loops."""
    if not _DICT.issuperset(map(type, items)) or not all(items):
        return False
    values = list(chain.from_iterable(map(dict.values, items)))
    kinds = set(map(type, values))
    if not kinds <= _FLAT:
        if not kinds - _FLAT <= _CONTAINERS:
            return False
        if any(compress(values, map(_CONTAINERS.__contains__, map(type, values)))):
            return False  # a list or object that is not empty
    return _KEYS.issuperset(map(type, chain.from_iterable(items)))


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _encode(value: Any, out: list[str], newline: str) -> None:
    kind = type(value)
    if kind is str:
        out.append(encode_basestring(value))
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        inner = newline + _INDENT
        if _flat(value):
            text = _flat_encoder(inner)(value)
            out.append("{" + inner + text[1:-1] + newline + "}")
            return
        separator = "{" + inner
        for key, item in value.items():
            if type(key) is not str:
                raise _Unusual
            out.append(separator)
            out.append(encode_basestring(key))
            out.append(": ")
            if type(item) is str:
                out.append(encode_basestring(item))
            else:
                _encode(item, out, inner)
            separator = "," + inner
        out.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return
        inner = newline + _INDENT
        if type(value[0]) is dict and _flat_records(value):
            # One C call for the whole list: its item separator also separates the records'
            # members (one level deeper); between records it stands after "}" and before
            # "{", which no member's text can hold (no string holds a raw newline).
            deeper = inner + _INDENT
            text = _flat_encoder(deeper)(value)
            text = text.replace("}," + deeper + "{", inner + "}," + inner + "{" + deeper)
            out.append("[" + inner + "{" + deeper + text[2:-2] + inner + "}" + newline + "]")
            return
        separator = "[" + inner
        for item in value:
            out.append(separator)
            if type(item) is str:
                out.append(encode_basestring(item))
            else:
                _encode(item, out, inner)
            separator = "," + inner
        out.append(newline + "]")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is float:
        out.append(_float(value))
    else:
        raise _Unusual


def item_text(value: Any, depth: int) -> str:
    """``value`` as :func:`dumps` writes it as an item of a list ``depth`` levels deep in a
    document: its lines indented for that depth. A command that encodes its results as they
    come (while its workers compute the next ones) keeps these texts, not the results, and
    :func:`dumps_with_items` puts them in place."""
    newline = "\n" + _INDENT * depth
    out: list[str] = []
    try:
        _encode(value, out, newline)
    except (_Unusual, RecursionError):
        # json's own text, each line indented as deep (no string holds a raw newline).
        return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", newline)
    return "".join(out)


def dumps_with_items(
    data: dict[str, Any],
    key: str,
    items: Sequence[bytes],
    encoding: tuple[str, str] = ("utf-8", "strict"),
) -> Iterator[bytes]:
    """The bytes of ``dumps`` of ``data`` with ``data[key]`` the list of the values whose
    texts, encoded with ``encoding`` (name, errors), ``items`` are (:func:`item_text` at depth
    2), in pieces to write one after the other. ``key`` is ``data``'s first key and
    ``data[key]`` is given empty."""
    text = dumps(data)
    head = "{\n" + _INDENT + encode_basestring(key) + ": []"
    if next(iter(data), None) != key or data[key] != [] or not text.startswith(head):
        raise ValueError(f"{key!r} is not the first key of the document, given empty")
    if not items:
        yield text.encode(*encoding)
        return
    inner = ("\n" + _INDENT * 2).encode(*encoding)
    yield text[: len(head) - 2].encode(*encoding) + "[".encode(*encoding) + inner
    separator = ",".encode(*encoding) + inner
    for number, item in enumerate(items):
        if number:
            yield separator
        yield item
    yield ("\n" + _INDENT + "]" + text[len(head) :]).encode(*encoding)
