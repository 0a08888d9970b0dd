"""Split work by host, so that on a cluster each host's politeness is kept by one worker.

A worker that holds every URL of a host can keep that host's rate and connection limits
alone; two workers fetching the same host would each keep the limit and together break it.
Hosts are packed into bins largest first, each into the least loaded bin (ties: the lower
bin), which is deterministic for the same input and within a few per cent of the best
balance when no host dominates; a host larger than a fair share gets a bin of its own and
sets the wall time, as politeness says it must. Pure.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")


def host_key(url: str) -> str:
    """The host a URL's politeness belongs to: lowercased, IDNA (punycode), no trailing dot.

    ``"https://Пример.рф/x"`` and ``"https://xn--e1afmkfd.xn--p1ai/y"`` are one host. A URL
    with no host (or one that will not parse) gives ``""``, all such together.
    """
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    host = host.rstrip(".")
    if not host or host.isascii():
        return host.lower()
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return host.lower()


@dataclass(frozen=True, kw_only=True)
class Partition(Generic[T]):
    """One worker's share: whole hosts, their items in input order, and the total weight."""

    hosts: tuple[str, ...]
    items: tuple[T, ...]
    weight: float


def partition_by_host(
    items: Iterable[T],
    bins: int,
    *,
    url: Callable[[T], str],
    weight: Callable[[T], float] | None = None,
    key: Callable[[str], str] = host_key,
) -> list[Partition[T]]:
    """``items`` in at most ``bins`` partitions, every host's items in exactly one.

    ``url`` gives an item's URL; ``weight`` its cost (default 1 each: a request); ``key`` the
    host of a URL. Within a partition the items keep their input order. Empty bins are left
    out, so fewer hosts than bins give one partition per host.
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, not {bins}")
    groups: dict[str, list[tuple[int, T]]] = {}
    totals: dict[str, float] = {}
    for position, item in enumerate(items):
        host = key(url(item))
        groups.setdefault(host, []).append((position, item))
        totals[host] = totals.get(host, 0.0) + (weight(item) if weight else 1.0)
    order = sorted(groups, key=lambda host: (-totals[host], host))
    heap: list[tuple[float, int]] = [(0.0, index) for index in range(bins)]
    assigned: list[list[str]] = [[] for _ in range(bins)]
    for host in order:
        load, index = heapq.heappop(heap)
        assigned[index].append(host)
        heapq.heappush(heap, (load + totals[host], index))
    out: list[Partition[T]] = []
    for hosts in assigned:
        if not hosts:
            continue
        members = sorted((pair for host in hosts for pair in groups[host]), key=lambda p: p[0])
        out.append(
            Partition(
                hosts=tuple(sorted(hosts)),
                items=tuple(item for _, item in members),
                weight=sum(totals[h] for h in hosts),
            )
        )
    return out


def balance(partitions: Sequence[Partition[T]]) -> float:
    """Largest partition's weight over the mean (1.0: perfectly even)."""
    if not partitions:
        return 1.0
    weights = [p.weight for p in partitions]
    mean = sum(weights) / len(weights)
    return max(weights) / mean if mean else 1.0
