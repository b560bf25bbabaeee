"""hasim: discrete-event Monte Carlo availability simulation for IT architectures."""
from ._version import __version__
from .analytic import Analysis, analyze
from .distributions import Empirical, Exponential, Fixed, LogNormal, Uniform, Weibull
from .errors import Problem, ScenarioError
from .io import dump, load, loads
from .model import Cached, Dns, Failover, HealthCheck, Scenario, Service, Zone
# Reviews: these modules import numpy only; pandas, matplotlib, jinja2 and the engine load when called.
# hasim.compare, hasim.sensitivity and hasim.sweep are the functions; their modules: `from hasim.compare import ...`.
from . import plot
from .compare import compare
from .engine import simulate
from .results import Results
from .report import write_report
from .sensitivity import sensitivity
from .sweep import sweep

__all__ = [
    "__version__",
    "Scenario", "Service", "Zone", "Failover", "HealthCheck", "Dns", "Cached",
    "Exponential", "Weibull", "LogNormal", "Fixed", "Uniform", "Empirical",
    "ScenarioError", "Problem",
    "load", "loads", "dump",
    "analyze", "Analysis", "simulate", "Results",
    "compare", "sensitivity", "sweep", "write_report", "plot",
]
