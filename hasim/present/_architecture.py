"""The architecture diagram of a scenario: services in layers, dependencies, routers, zones.

Private: :mod:`hasim.present.plot` is the public namespace for these functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hasim.model.mechanisms import MECHANISMS
from hasim.text import duration as format_duration
from hasim.present._style import PALETTE, _REGION_EDGES, _REGION_FILLS, _axes, _title

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from hasim.model.scenario import Scenario


def _children(svc) -> list[tuple[str, str, str | None]]:
    """(child, kind, label) edges of a service: requires, cached, optional, targets, failover.requires."""
    out: list[tuple[str, str, str | None]] = []
    for i, t in enumerate(svc.targets):
        if svc.route == "weighted" and svc.weights:
            label = f"w={svc.weights[i]:g}"
        else:
            label = ["primary", "secondary", "third", "fourth"][i] if i < 4 else f"#{i + 1}"
        out.append((t, "target", label))
    for d in svc.requires:
        out.append((d, "requires", None))
    for c in svc.cached:
        out.append((c.service, "cached", f"cache {format_duration(c.ttl)}" if c.ttl else "cache"))
    for d in svc.optional:
        out.append((d, "optional", None))
    if svc.failover is not None:
        for d in svc.failover.requires:
            out.append((d, "failover", "promotes via"))
    return out


def _layers(sc) -> list[list[str]]:
    names = list(sc.services)
    kids = {n: [c for c, _, _ in _children(sc.services[n])] for n in names}
    parents: dict[str, list[str]] = {n: [] for n in names}
    for n in names:
        for c in kids[n]:
            parents[c].append(n)
    depth: dict[str, int] = {}
    for n in reversed(sc.topological_order()):  # parents before children
        depth[n] = max((depth[p] + 1 for p in parents[n] if p in depth), default=0)
    # Nodes with no parents sit right above their shallowest child (the entry stays on top).
    for n in names:
        if not parents[n] and n != sc.entry and kids[n]:
            depth[n] = max(0, min(depth[c] for c in kids[n]) - 1)
    n_layers = max(depth.values()) + 1
    layers: list[list[str]] = [[] for _ in range(n_layers)]
    for n in names:
        layers[depth[n]].append(n)
    # Barycentre ordering, a few sweeps down and up.
    pos = {n: float(i) for layer in layers for i, n in enumerate(layer)}
    for _ in range(4):
        for rng, rel in ((range(1, n_layers), parents), (range(n_layers - 2, -1, -1), kids)):
            for li in rng:
                layer = layers[li]
                keyed = []
                for i, n in enumerate(layer):
                    ref = [pos[m] for m in rel[n] if m in pos and depth[m] != li]
                    keyed.append((sum(ref) / len(ref) if ref else pos[n], i, n))
                layers[li] = [n for _, _, n in sorted(keyed)]
                for i, n in enumerate(layers[li]):
                    pos[n] = i - (len(layers[li]) - 1) / 2
    return [layer for layer in layers if layer]


def architecture_size(scenario) -> tuple[float, float]:
    """A figure size (inches) that fits :func:`architecture` of ``scenario`` at its font sizes."""
    layers = _layers(scenario)
    width = max(len(layer) for layer in layers)
    return max(6.0, 2.55 * width + 0.6), 1.55 * len(layers) + 1.0


def _region(sc, svc) -> str | None:
    roots = {sc.zone_chain(z)[-1] for z in svc.zones}
    return roots.pop() if len(roots) == 1 else ("multi-region" if roots else None)


def _service_lines(svc) -> tuple[str, str, str, str]:
    if svc.is_router:
        kind = f"router · {svc.route}"
        if svc.has_instances:
            kind += f" · {svc.replicas}× own"
    elif svc.mode == "active":
        kind = f"{svc.replicas}× active" + (f" · needs {svc.min_healthy}" if svc.min_healthy > 1 else "")
    elif svc.mode == "standby":
        kind = f"{svc.replicas}× {svc.standby} standby"
    else:
        kind = f"{svc.replicas}× quorum"
    if svc.shards > 1:
        kind = f"{svc.shards} shards × " + kind
    timing = ""
    if svc.has_instances:
        timing = f"MTBF {format_duration(svc.failure.mean_hours)} · MTTR {format_duration(svc.repair.mean_hours)}"
    # Each mechanism says what it shows in the box (failover time, probes, TTL).
    extra = [badge for m in MECHANISMS if (badge := m.badge(svc))]
    if svc.retry:
        extra.append("retry")
    zones = ", ".join(svc.zones)
    return kind, zones, timing, " · ".join(extra)


def architecture(scenario: Scenario, ax: Axes | None = None, *, availability: dict[str, float] | None = None) -> Axes:
    """The design as a diagram: services as boxes in layers by dependency depth from the entry,
    arrows for ``requires`` (solid), ``cached`` (dashed), ``optional`` (dotted), router
    ``targets`` (labelled with their role) and ``failover.requires`` (dash-dot); box colours
    group services by region (outermost zone), and each box lists replicas, mode, zones and
    its main timings.

    Parameters
    ----------
    scenario : Scenario
        The design.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure of a sensible size otherwise.
    availability : dict of str to float, optional
        Service -> request availability: adds that figure to each box.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, or the axes of the new figure.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

    sc = scenario
    layers = _layers(sc)
    bw, bh, dx, dy = 2.25, 1.12, 2.7, 1.85
    ax = _axes(ax, architecture_size(scenario))
    regions = sorted({r for s in sc.services.values() for r in [_region(sc, s)] if r and r != "multi-region"})
    region_style = {r: (_REGION_FILLS[i % 8], _REGION_EDGES[i % 8]) for i, r in enumerate(regions)}
    centre: dict[str, tuple[float, float]] = {}
    for li, layer in enumerate(layers):
        for i, name in enumerate(layer):
            centre[name] = ((i - (len(layer) - 1) / 2) * dx, -li * dy)
    for name, (x, y) in centre.items():
        svc = sc.services[name]
        region = _region(sc, svc)
        if svc.is_router:
            fill, edge = PALETTE["router"], PALETTE["router_edge"]
        elif region in region_style:
            fill, edge = region_style[region]
        else:
            fill, edge = "#f5f7fa", "#607080"
        box = FancyBboxPatch((x - bw / 2, y - bh / 2), bw, bh, boxstyle="round,pad=0.02,rounding_size=0.12",
                             facecolor=fill, edgecolor=edge, linewidth=2.4 if name == sc.entry else 1.1, zorder=3)
        ax.add_patch(box)
        kind, zones, timing, extra = _service_lines(svc)
        title = name + ("  ◀ entry" if name == sc.entry else "")
        if availability and name in availability:
            extra = (extra + " · " if extra else "") + f"A={100 * availability[name]:.4g} %"
        lines = [(title, 8.5, "bold", PALETTE["text"], "normal"), (kind, 7.3, "normal", PALETTE["text"], "normal"),
                 (zones or "no zone", 6.6, "normal", edge if zones else PALETTE["muted"], "italic")]
        lines += [(text, 6.3, "normal", PALETTE["muted"], "normal") for text in (timing, extra) if text]
        step = bh / (len(lines) + 0.6)
        top = y + step * (len(lines) - 1) / 2
        for i, (text, size, weight, colour, style) in enumerate(lines):
            ax.text(x, top - i * step, text, ha="center", va="center", fontsize=size, fontweight=weight,
                    color=colour, style=style, zorder=4)
    styles = {
        "requires": {"linestyle": "-", "color": "#37474f", "lw": 1.1},
        "cached": {"linestyle": (0, (4, 3)), "color": "#00838f", "lw": 1.2},
        "optional": {"linestyle": (0, (1, 2)), "color": "#8a97a5", "lw": 1.2},
        "target": {"linestyle": "-", "color": PALETTE["router_edge"], "lw": 1.4},
        "failover": {"linestyle": (0, (5, 2, 1, 2)), "color": "#8d6e63", "lw": 1.0},
    }
    used = set()
    for name, svc in sc.services.items():
        x0, y0 = centre[name]
        for child, kind, label in _children(svc):
            x1, y1 = centre[child]
            st = styles[kind]
            used.add(kind)
            same_row = abs(y1 - y0) < 1e-9
            start = (x0 + (bw / 2 if x1 > x0 else -bw / 2), y0) if same_row else (x0, y0 - bh / 2)
            end = (x1 - (bw / 2 if x1 > x0 else -bw / 2), y1) if same_row else (x1, y1 + bh / 2)
            skip = not same_row and (y0 - y1) > dy * 1.5
            arrow = FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, linewidth=st["lw"],
                                    linestyle=st["linestyle"], color=st["color"], zorder=2,
                                    connectionstyle=f"arc3,rad={0.18 if skip else 0.0}", shrinkA=1, shrinkB=1)
            ax.add_patch(arrow)
            if label:
                t = 0.42
                lx, ly = start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t
                ax.text(lx, ly, label, fontsize=6.5, ha="center", va="center", color=st["color"], zorder=5,
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})
    xs = [c[0] for c in centre.values()]
    ys = [c[1] for c in centre.values()]
    ax.set_xlim(min(xs) - bw / 2 - 0.2, max(xs) + bw / 2 + 0.2)
    ax.set_ylim(min(ys) - bh / 2 - 0.25, max(ys) + bh / 2 + 0.15)
    ax.set_axis_off()
    names = {"requires": "requires", "cached": "cached (serve stale)", "optional": "optional",
             "target": "router target", "failover": "failover needs"}
    handles = [Line2D([], [], color=styles[k]["color"], linestyle=styles[k]["linestyle"], lw=1.4, label=names[k])
               for k in names if k in used]
    handles += [Patch(facecolor=f, edgecolor=e, label=f"in {r}") for r, (f, e) in region_style.items()]
    if handles:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=min(len(handles), 5),
                  fontsize=7, frameon=False)
    _title(ax, f"Architecture: {sc.name}")
    return ax
