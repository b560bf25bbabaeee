"""``simulate(client=...)`` on a Dask LocalCluster: bit-identical to a local run, even when a worker dies.

The main cluster is ``hasim.sim.cluster.connect("local:2")``: two worker
*processes* (one thread each, ``NUMBA_NUM_THREADS=1``), the configuration
``--dask local:2`` gives.  A second, in-process cluster (threads: one worker
with three threads, so three kernel calls can be requested at once in one
process) checks another worker count and the per-process kernel lock.
Replica ``i`` draws from the stream ``(seed, i)`` and chunks are placed by
row, so every run below must equal the local run of the same seed bit for
bit.  The worker-loss test SIGKILLs a worker process as soon as the first
chunk comes back: the chunks it was running or holding are recomputed
elsewhere (or on the worker its nanny restarts), none is lost or counted
twice.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")

from hasim import load  # noqa: E402
from hasim.sim.cluster import connect, parse_spec  # noqa: E402
from hasim.sim.engine import simulate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def flagship():
    return load(ROOT / "scenarios" / "ha-rest-api.yaml")


@pytest.fixture(scope="module")
def client():
    with connect("local:2") as c:
        c.wait_for_workers(2)
        yield c


@pytest.fixture(scope="module")
def local_3000(flagship):
    return simulate(flagship, replicas=3000, seed=42)


def _same(a, b) -> bool:
    return all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a.out, b.out))


def test_workers_are_single_threaded_processes(client):
    assert sorted(client.nthreads().values()) == [1, 1]
    pids = client.run(os.getpid)
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    assert set(client.run(lambda: os.environ.get("NUMBA_NUM_THREADS")).values()) == {"1"}


@pytest.mark.parametrize("chunk_size", [None, 1, 97, 1000, 10_000])
def test_dask_run_is_bit_identical_to_the_local_run(client, flagship, local_3000, chunk_size):
    replicas = 300 if chunk_size == 1 else 3000
    local = local_3000 if replicas == 3000 else simulate(flagship, replicas=replicas, seed=42)
    res = simulate(flagship, replicas=replicas, seed=42, client=client, chunk_size=chunk_size)
    assert res.n_replicas == replicas
    assert _same(res, local)
    assert res.to_dict()["metrics"] == local.to_dict()["metrics"]


def test_other_worker_count_threads_same_result(flagship, local_3000):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=3, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as c:
        res = simulate(flagship, replicas=3000, seed=42, client=c, chunk_size=250)
    assert _same(res, local_3000)


def test_progress_is_reported_per_chunk(client, flagship):
    calls = []
    simulate(flagship, replicas=1000, seed=1, client=client, chunk_size=100,
             progress=lambda done, total: calls.append((done, total)))
    assert [d for d, _ in calls] == list(range(100, 1001, 100))
    assert {t for _, t in calls} == {1000}


def test_worker_killed_mid_run_loses_and_doubles_nothing(client, flagship):
    replicas, chunk = 6000, 150
    local = simulate(flagship, replicas=replicas, seed=9)
    before = client.run(os.getpid)
    victim = next(iter(before.values()))
    state = {"killed": False, "calls": 0}

    def kill_on_first_chunk(done, total):
        state["calls"] += 1
        if not state["killed"]:
            state["killed"] = True
            os.kill(victim, signal.SIGKILL)

    res = simulate(flagship, replicas=replicas, seed=9, client=client, chunk_size=chunk,
                   progress=kill_on_first_chunk)
    assert state["killed"]
    assert state["calls"] == replicas // chunk  # every chunk placed exactly once
    assert _same(res, local)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker
    after = client.run(os.getpid)
    assert victim not in after.values()


def test_precision_run_on_the_cluster_equals_the_local_one(client):
    sc = load(ROOT / "scenarios" / "k-of-n.yaml")
    local = simulate(sc, replicas=200, seed=11, precision=0.10)
    res = simulate(sc, replicas=200, seed=11, precision=0.10, client=client)
    assert res.n_replicas == local.n_replicas and res.stop_reason == "precision_reached"
    assert res.precision_info["batches"] == local.precision_info["batches"]
    assert _same(res, local)


def test_simpy_engine_rejects_a_client(client, flagship):
    with pytest.raises(ValueError, match="numba engine only"):
        simulate(flagship, replicas=2, engine="simpy", client=client)


@pytest.mark.parametrize("spec, expected", [
    ("local", ("local", None)), ("local:3", ("local", 3)), ("local[4]", ("local", 4)),
    (" tcp://10.0.0.5:8786 ", ("address", None)), ("tls://scheduler.example.org:8786", ("address", None)),
])
def test_spec_parsing(spec, expected):
    assert parse_spec(spec) == expected


@pytest.mark.parametrize("spec, message", [
    ("", "expected 'local'"), ("locl", "expected 'local'"), ("local:0", "positive integer"),
    ("local:two", "positive integer"), ("tcp://", "scheduler address"), ("host:8786", "expected 'local'"),
])
def test_bad_specs_are_clear_value_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        with connect(spec):
            pass
