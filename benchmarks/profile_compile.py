"""Where the kernel's cold compile goes: per-function numba typing, lowering and LLVM time.

    NUMBA_CACHE_DIR=$(mktemp -d) python benchmarks/profile_compile.py [scenario] [--top N]

Compiles (cold, if the cache dir is empty) what ``hasim run scenario`` compiles, with numba's
event recorders installed, and prints per dispatcher: how many signatures it compiled, its
inclusive and exclusive compile time, the exclusive time in the typing passes and in the
lowering pass, and the time spent holding the LLVM lock (LLVM optimisation and machine code
emission), plus the totals.  Exclusive = inclusive minus the nested compiles of its callees
(numba compiles a callee while typing its caller).
"""

from __future__ import annotations

import argparse
import collections
import sys
import time

import numpy as np
from numba.core import event

import hasim
from hasim.sim.compile import compile_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="scenarios/k-of-n.yaml")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--ir", action="store_true",
                        help="also the size of each library's optimised LLVM module and, with "
                             "NUMBA_LLVM_PASS_TIMINGS=1, its slowest LLVM passes")
    args = parser.parse_args()

    sc = hasim.load(args.scenario)
    m = compile_scenario(sc).model
    from hasim.sim import kernel as _kernel

    out = _kernel.new_output(0, m.n_causes, m.n_services, 0, 0, m.n_alerts)
    kinds = ["numba:compile", "numba:llvm_lock", "numba:run_pass"]
    recs = {}
    started = time.perf_counter()
    with event.install_recorder(kinds[0]) as rc, event.install_recorder(kinds[1]) as rl, \
            event.install_recorder(kinds[2]) as rp:
        _kernel.simulate_replicas(m, np.uint64(1), np.int64(0), np.int64(0), 8760.0, 730.0, np.int64(12),
                                  0.999, 0.0, out)
    wall = time.perf_counter() - started
    recs = {"compile": rc.buffer, "llvm": rl.buffer, "pass": rp.buffer}

    # Merge all events into one timeline; attribute LLVM and pass time to the innermost compile.
    timeline = []
    for name, buf in recs.items():
        for ts, ev in buf:
            timeline.append((ts, name, ev))
    timeline.sort(key=lambda x: x[0])
    stack: list[list] = []  # [name, start, child_time]
    incl = collections.Counter()
    excl = collections.Counter()
    nsig = collections.Counter()
    llvm = collections.Counter()
    passes = collections.defaultdict(collections.Counter)
    open_llvm: dict = {}
    open_pass: list = []
    for ts, kind, ev in timeline:
        if kind == "compile":
            disp = ev.data["dispatcher"]
            name = getattr(disp, "py_func", disp).__qualname__ if hasattr(disp, "py_func") else str(disp)
            if ev.is_start:
                stack.append([name, ts, 0.0])
            else:
                nm, t0, child = stack.pop()
                d = ts - t0
                incl[nm] += d
                excl[nm] += d - child
                nsig[nm] += 1
                if stack:
                    stack[-1][2] += d
                for op in reversed(open_pass):
                    if op[2] == len(stack):
                        op[3] += d
                        break
        elif kind == "llvm":
            owner = stack[-1][0] if stack else "<none>"
            if ev.is_start:
                open_llvm.setdefault(owner, []).append(ts)
            elif open_llvm.get(owner):
                t0 = open_llvm[owner].pop()
                if not open_llvm[owner]:  # outermost acquisition only
                    llvm[owner] += ts - t0
        else:
            if ev.is_start:
                open_pass.append([ts, ev.data["name"].split(" [")[0], len(stack), 0.0])
            else:
                t0, pname, depth, child = open_pass.pop()
                owner = stack[-1][0] if stack else "<none>"
                # exclusive: minus the compiles of callees nested in it (typing compiles them)
                passes[owner][pname] += ts - t0 - child
    # Passes nest compiles of callees inside typing: subtract children from the caller's typing.
    print(f"scenario {args.scenario}: first call {wall:.1f} s wall")
    hdr = f"{'function':28s} {'sigs':>4s} {'incl s':>8s} {'excl s':>8s} {'llvm s':>8s} {'lower s':>8s}"
    print(hdr)
    rows = sorted(excl.items(), key=lambda x: -x[1])
    for nm, e in rows[: args.top]:
        low = passes[nm].get("native_lowering", 0.0) + passes[nm].get("native_parfor_lowering", 0.0)
        print(f"{nm:28s} {nsig[nm]:4d} {incl[nm]:8.2f} {e:8.2f} {llvm[nm]:8.2f} {low:8.2f}")
    tot_llvm = sum(llvm.values())
    tot_excl = sum(excl.values())
    print(f"{'total':28s} {sum(nsig.values()):4d} {'':8s} {tot_excl:8.2f} {tot_llvm:8.2f}")
    allp = collections.Counter()
    for c in passes.values():
        allp.update(c)
    print("passes, summed over functions exclusive of nested compiles:")
    for pname, d in allp.most_common(12):
        print(f"  {pname:40s} {d:8.2f}")
    for nm, e in rows[:6]:
        top = ", ".join(f"{p} {d:.1f}" for p, d in passes[nm].most_common(4))
        print(f"  {nm}: {top}")
    if args.ir:
        _ir_sizes(_kernel)
    sys.stdout.flush()


def _ir_sizes(module) -> None:
    """Optimised LLVM module size (instructions, defined functions) of every compiled dispatcher."""
    import numba.core.registry

    seen = set()
    print("LLVM modules (instructions / defined functions), per compiled signature:")
    for mod in {module, *[sys.modules[n] for n in list(sys.modules) if n.startswith(("hasim._", "hasim.sim.kernel._"))]}:
        for name in dir(mod):
            d = getattr(mod, name)
            if not isinstance(d, numba.core.registry.CPUDispatcher) or id(d) in seen:
                continue
            seen.add(id(d))
            if len(d.overloads) > 1:
                print(f"  {name}: {len(d.overloads)} signatures:", " | ".join(
                    str(sig)[:0] + ", ".join(str(a) for a in sig if "Tuple" not in str(type(a)) and
                                             "Model" not in str(a)[:20] and "Work" not in str(a)[:10])
                    for sig in d.overloads))
            for sig, cres in d.overloads.items():
                lib = cres.library
                ir = lib.get_llvm_str()
                n_inst = sum(1 for line in ir.splitlines() if line.startswith("  ") and not line.startswith("  ;"))
                n_def = ir.count("\ndefine ")
                timings = cres.metadata.get("llvm_pass_timings") if cres.metadata else None
                extra = ""
                if timings is not None:
                    try:
                        tot = timings.get_total_time()
                        extra = f" llvm passes {tot:.1f} s"
                    except Exception:  # noqa: BLE001
                        pass
                print(f"  {name:24s} {n_inst:8d} {n_def:5d}{extra}")
                if timings is not None and name in ("simulate_replicas", "_run_replica"):
                    try:
                        print(timings.summary(topn=6))
                    except Exception:  # noqa: BLE001
                        pass


if __name__ == "__main__":
    main()
