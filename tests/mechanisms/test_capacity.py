"""Capacity (the ``capacity`` stage): a k-of-n pool serves min(1, healthy / min_healthy), shard by shard.

Against the exact solver within 4 SE, with power against a 2 % MTTR error (:mod:`tests._exact`).
"""

from __future__ import annotations




from .._exact import agree, scenario


def test_two_of_three():
    sc = scenario("a", {"a": {"replicas": 3, "min_healthy": 2, "failure": {"mtbf": 100},
                              "repair": {"dist": "lognormal", "mean": 10, "sigma": 0.5}}})
    agree(sc, "a", replicas=40, horizon=1e6)


def test_shards():
    sc = scenario("kv", {"kv": {"replicas": 2, "shards": 3, "failure": {"mtbf": 40}, "repair": {"mttr": 10}}})
    agree(sc, "kv", replicas=40, horizon=1e6)
