"""RFC 9162 tree hashing and audit paths, against the RFC's own recursive definition."""

from __future__ import annotations

import hashlib

import pytest

from archiver.evidence.merkle import (
    EMPTY_ROOT,
    extend,
    frontier_root,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_inclusion,
)


def _mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 9162 2.1.1 writes it (slow, recursive)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def test_known_values() -> None:
    assert EMPTY_ROOT.hex().startswith("e3b0c442")
    # The hash of the empty leaf, as every CT implementation's test vectors have it.
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 100])
def test_root_is_the_rfc_tree_hash(n: int) -> None:
    leaves = [leaf_hash(f"record {i}".encode()) for i in range(n)]
    assert root(leaves) == _mth(leaves)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 33])
def test_every_inclusion_proof_verifies_and_a_wrong_leaf_does_not(n: int) -> None:
    leaves = [leaf_hash(f"record {i}".encode()) for i in range(n)]
    top = root(leaves)
    for i in range(n):
        proof = inclusion_proof(i, leaves)
        assert verify_inclusion(i, n, leaves[i], proof, top)
        assert not verify_inclusion(i, n, leaf_hash(b"changed"), proof, top)
        if n > 1:
            assert not verify_inclusion((i + 1) % n, n, leaves[i], proof, top)


def test_bad_input_is_false_not_an_exception() -> None:
    assert not verify_inclusion(5, 3, leaf_hash(b"x"), [], EMPTY_ROOT)
    assert not verify_inclusion(0, 1, leaf_hash(b"x"), [b"extra"], leaf_hash(b"x"))
    with pytest.raises(ValueError):
        inclusion_proof(3, [leaf_hash(b"x")])


@pytest.mark.parametrize("step", [1, 3, 8, 50])
def test_a_frontier_grown_in_steps_gives_the_rfc_root_at_every_size(step: int) -> None:
    leaves = [leaf_hash(bytes([i % 256, i // 256])) for i in range(130)]
    frontier: list[bytes] = []
    for size in range(0, len(leaves), step):
        assert frontier_root(frontier) == _mth(leaves[:size])
        assert len(frontier) == size.bit_count()
        frontier = extend(frontier, size, leaves[size : size + step])
    assert frontier_root(frontier) == _mth(leaves)


def test_a_frontier_that_does_not_fit_its_size_is_refused() -> None:
    with pytest.raises(ValueError, match="not a tree of 3"):
        extend([leaf_hash(b"a")], 3, [leaf_hash(b"b")])
