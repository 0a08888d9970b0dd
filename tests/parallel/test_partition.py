"""Work split by host: every host in one partition, deterministic, balanced."""

from __future__ import annotations

import random

import pytest

from archiver.parallel.partition import balance, host_key, partition_by_host


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://WWW.Example.ORG/a", "www.example.org"),
        ("http://www.example.org:8080/b?q=1", "www.example.org"),
        ("https://user:pw@Example.org./c", "example.org"),
        ("https://пример.рф/статья", "xn--e1afmkfd.xn--p1ai"),
        ("https://ПРИМЕР.рф/", "xn--e1afmkfd.xn--p1ai"),
        ("https://xn--e1afmkfd.xn--p1ai/y", "xn--e1afmkfd.xn--p1ai"),
        ("http://[::1]:8000/", "::1"),
        ("http://127.0.0.3/x", "127.0.0.3"),
        ("mailto:someone@example.org", ""),
        ("#", ""),
        ("", ""),
        ("http://[::1/broken", ""),
    ],
)
def test_host_key(url: str, host: str) -> None:
    assert host_key(url) == host


def _urls(hosts: int, per_host: list[int]) -> list[str]:
    return [f"https://h{h}.test/{n}" for h in range(hosts) for n in range(per_host[h])]


def test_each_host_in_exactly_one_partition_and_nothing_lost() -> None:
    rng = random.Random(7)
    counts = [rng.randint(1, 40) for _ in range(120)]
    urls = _urls(120, counts)
    rng.shuffle(urls)
    parts = partition_by_host(urls, 6, url=lambda u: u)
    assert len(parts) == 6
    seen: dict[str, int] = {}
    for index, part in enumerate(parts):
        for url in part.items:
            host = host_key(url)
            assert seen.setdefault(host, index) == index, f"{host} split across partitions"
        assert set(part.hosts) == {host_key(u) for u in part.items}
        assert part.weight == len(part.items)
    assert sorted(u for p in parts for u in p.items) == sorted(urls)


def test_items_keep_input_order_within_a_partition() -> None:
    urls = [f"https://h{n % 3}.test/{n}" for n in range(30)]
    (part,) = partition_by_host(urls, 1, url=lambda u: u)
    assert list(part.items) == urls


def test_deterministic_whatever_the_input_order() -> None:
    rng = random.Random(3)
    urls = _urls(50, [rng.randint(1, 9) for _ in range(50)])
    first = partition_by_host(urls, 4, url=lambda u: u)
    shuffled = list(urls)
    rng.shuffle(shuffled)
    second = partition_by_host(shuffled, 4, url=lambda u: u)
    assert [p.hosts for p in first] == [p.hosts for p in second]
    assert [sorted(p.items) for p in first] == [sorted(p.items) for p in second]
    assert first == partition_by_host(urls, 4, url=lambda u: u)


def test_balanced_when_no_host_dominates() -> None:
    rng = random.Random(11)
    urls = _urls(500, [rng.randint(5, 60) for _ in range(500)])
    parts = partition_by_host(urls, 8, url=lambda u: u)
    assert balance(parts) < 1.02
    # A round-robin deal of hosts, for contrast, is measurably worse on the same input.
    hosts = sorted({host_key(u) for u in urls})
    naive = [sum(1 for u in urls if hosts.index(host_key(u)) % 8 == b) for b in range(8)]
    assert max(naive) / (len(urls) / 8) > balance(parts)


def test_a_dominant_host_gets_a_partition_of_its_own() -> None:
    urls = _urls(1, [1000]) + [f"https://small{n}.test/x" for n in range(30)]
    parts = partition_by_host(urls, 3, url=lambda u: u)
    assert parts[0].hosts == ("h0.test",)
    assert parts[0].weight == 1000
    assert sum(p.weight for p in parts[1:]) == 30


def test_weights_and_fewer_hosts_than_bins() -> None:
    items = [("https://a.test/1", 5.0), ("https://b.test/1", 1.0), ("https://A.test/2", 5.0)]
    parts = partition_by_host(items, 4, url=lambda i: i[0], weight=lambda i: i[1])
    assert [(p.hosts, p.weight) for p in parts] == [(("a.test",), 10.0), (("b.test",), 1.0)]
    assert partition_by_host([], 3, url=lambda u: u) == []
    with pytest.raises(ValueError):
        partition_by_host(["https://a.test/"], 0, url=lambda u: u)
