"""Every integer code the kernel branches on, in one place.

Event kinds (the queue's tie-break priority), shard states (see :mod:`._failover`), service
statuses, cache states, and the slots of ``Work.ctl`` (:mod:`._work`).  The model's own codes
(service modes, routes, auxiliary timer kinds, quadrature order) are defined by
:mod:`hasim.compile`, which writes them into the model; they are re-exported here so that this
is the kernel's only import from outside it (``_jit.KERNEL_SOURCES`` covers ``compile.py``: the
kernel freezes these constants into its machine code).  The loss stages are
:mod:`._output`'s.
"""

from __future__ import annotations

from ...compile import (ACTIVE, AUX_CACHE, AUX_PROBE_INST, AUX_PROBE_TGT, AUX_RAMP, GAUSS_NODES, NO_ROUTE,  # noqa: F401
                        QUORUM, ROUTE_FAILOVER, STANDBY)

# Event kinds, in tie-break priority order.
KIND_ZONE = 0
KIND_INST = 1
KIND_TIMER = 2
KIND_AUX = 3

# Shard states.
UP = 0
DETECT = 1
WAIT_REQ = 2
PROMOTE = 3
FAILED = 4
NO_STANDBY = 5
ELECT = 6
NO_LEADER = 7
REGAINED = 8

# Service statuses.
ST_ZERO = 0
ST_PARTIAL = 1
ST_FULL = 2

# Cache states.
FRESH = 0
SERVING = 1
EXPIRED = 2

# Slots of Work.ctl.
_LO = 0        # lowest dirty service index (n_services when clean)
_NVAR = 1      # varying services listed in Work.var
_VARCHG = 2    # 1 if a service became or stopped being varying in the last sweep
_EVC = 3       # cause of the event being processed (-1: a timer, the cause is inherited)
_MAXDEG = 4    # highest polynomial degree among the varying services
