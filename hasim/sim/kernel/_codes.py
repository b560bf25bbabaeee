"""Every integer code the kernel branches on, in one place.

Event kinds (the queue's tie-break priority), shard states (see :mod:`._failover`), service
statuses, cache states, and the slots of ``Work.ctl`` (:mod:`._work`).  The model's own codes
(service modes, routes, auxiliary timer kinds, quadrature order) are defined here too and
:mod:`hasim.sim.compile` imports them to write the model: the kernel imports nothing from
outside itself.  The loss stages are :mod:`._output`'s.
"""

from __future__ import annotations

import numpy as np

# The model's codes: hasim.sim.compile writes them into the arrays, the kernel branches on them.
# Plain ints (they are module constants, frozen at compile time, never passed as arguments).
ACTIVE = 0
STANDBY = 1
QUORUM = 2

# Replication of a standby service (hasim.model.replication).
REPL_NONE = 0
REPL_SYNC = 1
REPL_ASYNC = 2
REPL_SNAPSHOT = 3

NO_ROUTE = 0
ROUTE_FAILOVER = 1
ROUTE_WEIGHTED = 2

# Kinds of auxiliary timers.
AUX_PROBE_INST = 0
AUX_PROBE_TGT = 1
AUX_RAMP = 2
AUX_CACHE = 3
AUX_HOUR = 4       # the hour of the day changes (daily load profiles)
AUX_OVERLOAD = 5   # a shard's overload grace period ends: it collapses
AUX_BREAKER = 6    # a circuit breaker opens (its window is over) or half-opens (its reset timeout is)
AUX_SCALE = 7      # a shard's scale-out or scale-in happens
AUX_DEPLOY = 8     # a release, a rollout's next step, a bad release noticed or rolled back
AUX_ALERT = 9      # an alert rule's evaluation (hasim.model.alerts)
AUX_NOISE = 10     # a spike of the alert rules' noise begins or ends (hasim.model.alerts.AlertNoise)
AUX_MAINT = 11     # a maintenance window starts or ends (hasim.model.maintenance)

# Rollout strategies (hasim.model.deploys.STRATEGIES, in this order).
STRATEGY_ALL = 0
STRATEGY_BLUE_GREEN = 1
STRATEGY_ROLLING = 2
STRATEGY_CANARY = 3

#: Most Gauss-Legendre nodes used to integrate a served fraction that varies between events.
#: n nodes integrate a polynomial of degree 2n - 1 exactly; a DNS ramp is linear, so this is
#: exact up to 31 ramps multiplied along one path (products of ramps are polynomials).
GAUSS_NODES = 16

# The codes below are numpy integers, not Python ints: numba types a Python int constant passed to
# a function as a literal and compiles the callee once per value (``_qschedule`` once per event
# kind, ``_set_state`` once per state); an ``np.int64`` is typed int64, one signature.

# Event kinds, in tie-break priority order.
KIND_ZONE = np.int64(0)
KIND_INST = np.int64(1)
KIND_TIMER = np.int64(2)
KIND_AUX = np.int64(3)

# Shard states.
UP = np.int64(0)
DETECT = np.int64(1)
WAIT_REQ = np.int64(2)
PROMOTE = np.int64(3)
FAILED = np.int64(4)
NO_STANDBY = np.int64(5)
ELECT = np.int64(6)
NO_LEADER = np.int64(7)
REGAINED = np.int64(8)

# Service statuses.
ST_ZERO = np.int64(0)
ST_PARTIAL = np.int64(1)
ST_FULL = np.int64(2)

# Circuit breaker states.
CB_CLOSED = np.int64(0)
CB_OPEN = np.int64(1)
CB_HALF = np.int64(2)

# Deploy process phases.
DP_IDLE = np.int64(0)
DP_OUT = np.int64(1)       # a bad release out, not noticed yet
DP_BACK = np.int64(2)      # noticed: being rolled back
DP_WAIT = np.int64(3)      # noticed: the rollback waits for the on-call engineer

# Cache states.
FRESH = np.int64(0)
SERVING = np.int64(1)
EXPIRED = np.int64(2)

# Slots of Work.ctl.
_LO = 0        # lowest dirty service index (n_services when clean)
_NVAR = 1      # varying services listed in Work.var
_VARCHG = 2    # 1 if a service became or stopped being varying in the last sweep
_EVC = 3       # cause of the event being processed (-1: a timer, the cause is inherited)
_MAXDEG = 4    # highest polynomial degree among the varying services
_TICK = 5      # 1 while the hourly tick of daily load profiles is scheduled
_NOPEN = 6     # circuit breakers open
_DLN = 7       # data-loss incidents waiting in Work.dl_* to be recorded (hasim.sim.kernel._replication)
N_CTL = 8

# Slots of Work.fl.
_NOW = 0       # time of the event being processed (what a mechanism schedules from)
_WEIGHT = 1    # requests the current hour carries relative to the mean hour (1 without a profile)
_WARM = 2      # when the measured horizon starts (the warm-up's length)
N_FL = 3

# Booleans passed to helpers, for the same reason.
TRUE = np.bool_(True)
FALSE = np.bool_(False)
