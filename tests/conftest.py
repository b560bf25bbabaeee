from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SCENARIO_FILES = sorted(p for p in SCENARIOS.iterdir() if p.suffix in (".yaml", ".yml", ".toml"))


def pytest_collection_modifyitems(config, items):
    """Tests marked ``study`` run only when ``-m`` names them: they take minutes, not CI seconds."""
    if "study" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="a full statistical study: run with -m study")
    for item in items:
        if "study" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def scenarios_dir() -> Path:
    return SCENARIOS


# --- reports, plots and comparisons (issue 6) ------------------------------------------------
import os  # noqa: E402
import sys  # noqa: E402

# Charts render off-screen everywhere in the suite (and in the notebooks' kernels, which inherit it).
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every pyplot figure a test opened (matplotlib warns past 20, and warnings are errors)."""
    yield
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


#: The flagship before it gained releases, alerting and on-call (issue 16): the design whose figures
#: issue 17's regression tests pin (52.1 min a year by the solver).
MACHINES_ONLY = {"services.api.deploys": None, "services.db.failover.manual": "30m", "oncall": None, "alerts": {},
                 "alert_noise": None}


def machines_only_flagship():
    from hasim import load

    return load(SCENARIOS / "ha-rest-api.yaml").replace(MACHINES_ONLY)


def review_design(name: str = "review", slo: float | None = 99.9, api_replicas: int = 3):
    """A small design with every kind of box and arrow the review charts draw, that the engine simulates."""
    from hasim import Scenario

    return Scenario(
        name=name, slo=slo, entry="edge", replicas=200, seed=7, horizon="1y",
        zones={"region": {"mtbf": "2y", "mttr": "4h"},
               "az-a": {"mtbf": "1y", "mttr": "2h", "within": "region"},
               "az-b": {"mtbf": "1y", "mttr": "2h", "within": "region"},
               "dr": {"mtbf": "2y", "mttr": "4h"}},
        services={
            "edge": {"route": "failover", "targets": ["lb", "dr-api"]},
            "lb": {"replicas": 2, "zones": ["az-a", "az-b"], "mtbf": "180d", "mttr": "5m", "requires": ["api"]},
            "api": {"replicas": api_replicas, "min_healthy": 2, "zones": ["az-a", "az-b"], "mtbf": "20d",
                    "mttr": "10m", "requires": ["db"], "optional": ["search"],
                    "cached": [{"service": "config", "ttl": 0}]},
            "db": {"mode": "standby", "replicas": 2, "zones": ["az-a", "az-b"], "mtbf": "90d", "mttr": "2h",
                   "failover": {"detection": "30s", "promotion": "1m", "requires": ["coord"]}},
            "coord": {"mode": "quorum", "replicas": 3, "zones": ["az-a", "az-b"], "mtbf": "60d", "mttr": "30m"},
            "config": {"replicas": 2, "mtbf": "60d", "mttr": "1h"},
            "search": {"mtbf": "30d", "mttr": "1h"},
            "dr-api": {"replicas": 2, "zones": ["dr"], "mtbf": "20d", "mttr": "1h"},
        },
    )


def run_file_without_jit(test_file: str) -> None:
    """Run a whole test module again in a subprocess with NUMBA_DISABLE_JIT=1 (kernel lines as Python)."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(Path(test_file))],
        cwd=ROOT, env={**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout


@pytest.fixture(scope="module")
def design():
    """A small design without delay mechanisms, shared by the plot and report tests."""
    return review_design()


@pytest.fixture(scope="module")
def results(design):
    from hasim import simulate

    return simulate(design, replicas=150)
