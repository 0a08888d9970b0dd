"""Merkle tree hashing as Certificate Transparency does it (RFC 9162, section 2.1), pure.

A leaf's hash is ``SHA-256(0x00 || data)``, an inner node's ``SHA-256(0x01 || left || right)``;
a tree of ``n`` leaves splits at ``k``, the largest power of two below ``n``. So a log can only
grow at its end, and an inclusion proof (the audit path) of ``O(log n)`` hashes shows that one
leaf is at its place in a tree with a given root.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of ``leaves`` (each already a :func:`leaf_hash`)."""
    if not leaves:
        return EMPTY_ROOT
    # Bottom-up over complete subtrees: pair neighbours, carry an odd last node up unchanged,
    # which gives exactly RFC 9162's left-balanced tree.
    level = list(leaves)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def extend(frontier: Sequence[bytes], size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """The frontier of the tree of ``size`` leaves with ``leaves`` appended.

    ``frontier`` holds the roots of the complete subtrees of the tree of ``size`` leaves,
    biggest first (one per bit set in ``size``); a new leaf joins the smallest subtree while
    the two smallest are the same size, as binary addition carries.
    """
    if len(frontier) != size.bit_count():
        raise ValueError(f"a frontier of {len(frontier)} nodes is not a tree of {size} leaves")
    out = list(frontier)
    for leaf in leaves:
        node, carry = leaf, size
        while carry & 1:
            node = node_hash(out.pop(), node)
            carry >>= 1
        out.append(node)
        size += 1
    return out


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """The root of the tree whose frontier this is: the subtrees folded from the right."""
    if not frontier:
        return EMPTY_ROOT
    node = frontier[-1]
    for left in reversed(frontier[:-1]):
        node = node_hash(left, node)
    return node


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``leaves`` (RFC 9162, 2.1.3.1)."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    path: list[bytes] = []
    lo, hi, m = 0, len(leaves), index
    stack: list[tuple[int, int]] = []
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < lo + k:
            stack.append((lo + k, hi))
            hi = lo + k
        else:
            stack.append((lo, lo + k))
            lo = lo + k
    for a, b in reversed(stack):
        path.append(root(leaves[a:b]))
    return path


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """Does ``proof`` show ``leaf`` at ``index`` in the tree of ``size`` with that root?

    RFC 9162, 2.1.3.2, step by step; never raises on bad input.
    """
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root
