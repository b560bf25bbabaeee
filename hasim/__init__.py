"""hasim: discrete-event Monte Carlo availability simulation for IT architectures."""
from hasim._version import __version__
from hasim.analytic.analysis import Analysis, analyze
from hasim.model.distributions import Empirical, Exponential, Fixed, LogNormal, Uniform, Weibull
from hasim.errors import Problem, ScenarioError
from hasim.model.io import dump, load, loads
from hasim.model.scenario import Cached, Dns, Failover, HealthCheck, Scenario, Service, Zone
from hasim.model.autoscaling import Autoscaling
from hasim.model.deploys import ConfigPush, Deploys
from hasim.model.oncall import OnCall
from hasim.model.alerts import AlertNoise, AlertRule
from hasim.model.maintenance import Maintenance
from hasim.model.breaker import Breaker
from hasim.model.capacity import Load
from hasim.model.overload import Overload, Retries
from hasim.model.chaos import Experiment, Fault, load_experiment
# Reviews: these modules import numpy only; pandas, matplotlib, jinja2 and the engine load when called.
# hasim.compare, hasim.sensitivity and hasim.sweep are the functions; their modules: `from hasim.compare import ...`.
from hasim.present import plot
from hasim.studies.chaos import chaos
from hasim.studies.compare import compare
from hasim.sim.engine import simulate
from hasim.results.summary import Results
from hasim.present.report import write_report
from hasim.studies.sensitivity import sensitivity
from hasim.studies.sweep import sweep

__all__ = [
    "__version__",
    "Scenario", "Service", "Zone", "Failover", "HealthCheck", "Dns", "Cached",
    "Load", "Overload", "Retries", "Breaker", "Autoscaling", "Deploys", "ConfigPush", "OnCall", "AlertRule",
    "AlertNoise", "Maintenance",
    "Exponential", "Weibull", "LogNormal", "Fixed", "Uniform", "Empirical",
    "ScenarioError", "Problem",
    "load", "loads", "dump",
    "analyze", "Analysis", "simulate", "Results",
    "compare", "sensitivity", "sweep", "write_report", "plot",
    "Experiment", "Fault", "load_experiment", "chaos",
]
